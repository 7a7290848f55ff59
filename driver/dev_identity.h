/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who a block device is, asked of the kernel through an open descriptor: its number, its
 * device-mapper name and UUID (sysfs), and its disk sequence number, which a recycled
 * device number never repeats. block-dvm checks these before it hands a device over.
 */
#ifndef DVM_DEV_IDENTITY_H
#define DVM_DEV_IDENTITY_H

#include <stdint.h>

#include "ctx.h"

struct dev_identity {
        uint32_t major;
        uint32_t minor;
        uint64_t diskseq;  /* 0 when the kernel does not number disks */
        char name[160];    /* device-mapper name, "" for other devices */
        char uuid[160];    /* device-mapper UUID, "" when it has none */
};

/**
 * ident_open() - open block device @path read-only and describe it. The descriptor pins
 * the device: while it is open, device-mapper refuses to remove it, so the number cannot
 * be recycled under the caller. Returns the descriptor (O_CLOEXEC) and @ret_ident, or
 * -errno (-ENOTBLK: not a block device).
 */
int ident_open(dvm_ctx *ctx, const char *path, struct dev_identity *ret_ident);

/**
 * ident_check() - whether @id is our device-mapper device @name showing layer @layer_id:
 * every device the library makes for a volume has the UUID "<name>-<suffix>" (a foreign
 * device under our name has not), and a suffix that is a layer id must be @layer_id (a
 * device left from another layer). Returns 0, or -ESTALE with a message naming @path,
 * what was expected and what was found.
 */
int ident_check(dvm_ctx *ctx, const char *path, const struct dev_identity *id, const char *name, int64_t layer_id);

#endif
