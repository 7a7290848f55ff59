/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Block devices known by number, as device-mapper tables name them: their /dev node and
 * kernel name through sysfs, with no udev links needed, and the devices a stack rests on.
 */
#ifndef DVM_BLKDEV_H
#define DVM_BLKDEV_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

/**
 * blkdev_name() - the kernel name ("loop3", "dm-2", "zram1") of block device @major:@minor
 * into @buf. Returns 0, or -ENOENT / -errno (described to @ctx).
 */
int blkdev_name(dvm_ctx *ctx, uint32_t major, uint32_t minor, char *buf, size_t len);

/** blkdev_node() - "/dev/<kernel name>" of @major:@minor into @buf. Returns 0 or -errno. */
int blkdev_node(dvm_ctx *ctx, uint32_t major, uint32_t minor, char *buf, size_t len);

/**
 * blkdev_flush_below() - flush every device at the bottom of the stack under @major:@minor
 * (sysfs "slaves", followed down through device-mapper; the device itself when nothing is
 * below it): what was written through the stack is then on stable storage, without a flush
 * request through the stack's own targets. Returns 0 or -errno (described to @ctx).
 */
int blkdev_flush_below(dvm_ctx *ctx, uint32_t major, uint32_t minor);

#endif
