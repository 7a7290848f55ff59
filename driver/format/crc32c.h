/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CRC-32C (Castagnoli) with the kernel's calling convention, used by the persistent-data
 * checksums of dm-thin metadata (dm_bm_checksum()). Internal.
 */
#ifndef DVM_CRC32C_H
#define DVM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/**
 * crc32c() - continue a CRC-32C over @len bytes of @buf from register value @crc.
 * No inversion is applied on entry or exit (the kernel's crc32c() convention): the
 * standard CRC-32C of a buffer is ~crc32c(~0u, buf, len).
 * Returns the new register value.
 */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
