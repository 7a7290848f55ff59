/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who a block device is, asked of the kernel through an open descriptor: its number, its
 * device-mapper name and UUID (sysfs), and its disk sequence number, which a recycled
 * device number never repeats. block-dvm checks these before it hands a device over.
 */
#ifndef DVM_DEV_IDENTITY_H
#define DVM_DEV_IDENTITY_H

#include <stdint.h>

#include "util/ctx.h"

struct dev_identity {
        uint32_t major;
        uint32_t minor;
        uint64_t diskseq;  /* 0 when the kernel does not number disks */
        char name[160];    /* device-mapper name, "" for other devices */
        char uuid[160];    /* device-mapper UUID, "" when it has none */
};

/**
 * ident_open() - open block device @path read-only and describe it. The descriptor pins
 * the device: while it is open, device-mapper refuses to remove it (a deferred remove waits
 * for the last close), so the number cannot be recycled under the caller. Returns the descriptor (O_CLOEXEC) and @ret_ident, or
 * -errno (-ENOTBLK: not a block device).
 */
int ident_open(dvm_ctx *ctx, const char *path, struct dev_identity *ret_ident);

/**
 * ident_check() - whether @id is our device-mapper device @name showing layer @layer_id:
 * every device the library makes for a volume has the UUID "<name>-<suffix>" (a foreign
 * device under our name has not), and a suffix that is a layer id must be @layer_id (a
 * device left from another layer). A crypt volume's device ("<name>-crypt") must have one
 * device under it, the layer "<name>-raw" of UUID "<name>-raw-<@layer_id>". Returns 0, or
 * -ESTALE with a message naming @path, what was expected and what was found.
 */
int ident_check(dvm_ctx *ctx, const char *path, const struct dev_identity *id, const char *name, int64_t layer_id);

/**
 * ident_recheck() - whether the device that has number @id->major:@id->minor now is still
 * the one @id describes (sysfs: the same dm name, UUID and disk sequence number). A device
 * removed and another made under the same number (dm reuses the lowest free minor) fails.
 * Returns 0, or -ESTALE with a message naming both.
 */
int ident_recheck(dvm_ctx *ctx, const char *path, const struct dev_identity *id);

/**
 * ident_wait_opened() - wait up to @timeout_ms for another opener of dm device @id, which
 * the caller holds open so that its number cannot be recycled meanwhile. With @opened_attr
 * (an attribute file such as blkback's physical_device, which exists only once the backend
 * has opened the device) in a directory that exists: until it reads "<major hex>:<minor
 * hex>" of @id. Otherwise: until the device's open count is above @baseline (the caller's
 * own opens). Returns 0, -ETIMEDOUT with a message, or -errno.
 */
int ident_wait_opened(dvm_ctx *ctx, const char *path, const struct dev_identity *id, const char *opened_attr,
                      int baseline, unsigned timeout_ms);

#endif
