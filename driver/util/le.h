/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Little-endian fields of on-disk formats, read from unaligned bytes. Internal: not installed.
 */
#ifndef DVM_LE_H
#define DVM_LE_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

/** get_le16() - the little-endian 16-bit value at @p (any alignment). */
static inline uint16_t get_le16(const void *p)
{
        uint16_t v;
        memcpy(&v, p, sizeof(v));
        return le16toh(v);
}

/** get_le32() - the little-endian 32-bit value at @p (any alignment). */
static inline uint32_t get_le32(const void *p)
{
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        return le32toh(v);
}

/** get_le64() - the little-endian 64-bit value at @p (any alignment). */
static inline uint64_t get_le64(const void *p)
{
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        return le64toh(v);
}

#endif
