/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * zram devices made and removed through sysfs (zram-control hot_add / hot_remove): RAM-backed
 * block devices whose pages are never written to swap or disk, with a memory limit each.
 */
#ifndef DVM_ZRAM_H
#define DVM_ZRAM_H

#include <stdint.h>

#include "util/ctx.h"

struct zram_dev {
        int index;               /* /dev/zram<index> */
        uint32_t major, minor;
};

/**
 * zram_add() - a new zram device of @disksize bytes that may take at most @mem_limit bytes
 * of RAM (writes beyond fail). Returns 0 and the device in @ret_dev, -EOPNOTSUPP without
 * the zram module, or -errno; nothing is left behind on failure.
 */
int zram_add(dvm_ctx *ctx, uint64_t disksize, uint64_t mem_limit, struct zram_dev *ret_dev);

/**
 * zram_remove() - free the memory of zram device @index and remove it.
 * Returns 0, or -EBUSY while it is open, or -errno.
 */
int zram_remove(dvm_ctx *ctx, int index);

/**
 * zram_index() - the zram index of block device @major:@minor.
 * Returns it, or -ENODEV when the device is not a zram device, or -errno.
 */
int zram_index(dvm_ctx *ctx, uint32_t major, uint32_t minor);

#endif
