/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Block devices known by number, as device-mapper tables name them: their /dev node and
 * kernel name through sysfs, with no udev links needed, and the devices a stack rests on.
 */
#ifndef DVM_BLKDEV_H
#define DVM_BLKDEV_H

#include <stddef.h>
#include <stdint.h>

#include "util/ctx.h"

/**
 * blkdev_name() - the kernel name ("loop3", "dm-2", "zram1") of block device @major:@minor
 * into @buf. Returns 0, or -ENOENT / -errno (described to @ctx).
 */
int blkdev_name(dvm_ctx *ctx, uint32_t major, uint32_t minor, char *buf, size_t len);

/** blkdev_node() - "/dev/<kernel name>" of @major:@minor into @buf. Returns 0 or -errno. */
int blkdev_node(dvm_ctx *ctx, uint32_t major, uint32_t minor, char *buf, size_t len);

/** A set of block devices by kernel name ("loop3"), each once. */
struct blkdev_set {
        char name[32][32];
        size_t n;
};

/**
 * blkdev_bottom() - add to @set every device at the bottom of the stack under @major:@minor
 * (sysfs "slaves", followed down through device-mapper; the device itself when nothing is
 * below it). Returns 0, -E2BIG when @set is full, or -errno (described to @ctx).
 */
int blkdev_bottom(dvm_ctx *ctx, uint32_t major, uint32_t minor, struct blkdev_set *set);

/**
 * blkdev_flush() - flush each device of @set: what was written through stacks over them is
 * then on stable storage, without a flush request through the stacks' own targets.
 * Returns 0 or -errno (described to @ctx).
 */
int blkdev_flush(dvm_ctx *ctx, const struct blkdev_set *set);

#endif
