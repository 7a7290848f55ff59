/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What is on a block device, as libblkid sees it: file system or other signature (type,
 * label, UUID) and partition table. The only user of libblkid.
 */
#ifndef DVM_PROBE_H
#define DVM_PROBE_H

#include "util/ctx.h"

/**
 * probe_device() - probe the device at @path for a signature and a partition table.
 * Returns 0 and fills @ret_probe (empty strings: nothing found), or -errno when the device
 * cannot be opened or read.
 */
int probe_device(dvm_ctx *ctx, const char *path, struct dvm_probe *ret_probe);

#endif
