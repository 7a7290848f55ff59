/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a thin layer owns, in bytes of its device: the blocks mapped differently from its
 * origin (all its mappings when it has none), read from a live pool through a metadata
 * snapshot held only while we read. The thin backend's `owned` op.
 */
#ifndef DVM_THIN_OWNED_H
#define DVM_THIN_OWNED_H

#include <stdint.h>

#include "backend/backend.h"
#include "format/thin_meta.h"
#include "util/extent.h"

/**
 * thin_owned_ranges() - the byte ranges of thin device @id (a device of @size bytes) that it
 * owns relative to device @origin (THIN_META_NO_ORIGIN: all its mappings), read from @m.
 * Runs of blocks contiguous in the device are merged whatever their data blocks; the last
 * range ends at @size at most. Returns 0 and the ranges in @ret (untouched on failure),
 * -ENOENT if a device is not in the metadata, -ENOMEM, or an error of thin_meta_owned().
 */
int thin_owned_ranges(struct thin_meta *m, uint64_t id, uint64_t origin, uint64_t size,
                      struct extent_list *ret);

/**
 * thin_owned() - thin_owned_ranges() on the live thin-pool @pool_dm: reserve a metadata
 * snapshot, read its metadata device at the held root, release the snapshot (also when the
 * read fails). @origin < 0: none. Returns 0 and the ranges in @ret (untouched on failure),
 * or -errno (thin_hold() describes why the snapshot could not be held).
 */
int thin_owned(dvm_ctx *ctx, const char *pool_dm, uint32_t id, int64_t origin, uint64_t size,
               struct extent_list *ret);

/**
 * thin_owned_hold() - reserve the metadata snapshot of the live thin-pool @pool_dm and open
 * its metadata device at the held root, for any number of thin_owned_ranges() calls until
 * thin_owned_release(). Call it under the pool's lock (thin_hold()). Returns 0 and the
 * reader in @ret, or -errno (nothing stays reserved then).
 */
int thin_owned_hold(dvm_ctx *ctx, const char *pool_dm, struct thin_meta **ret);

/** thin_owned_release() - close @m (NULL: nothing to do) and release @pool_dm's metadata snapshot. Returns 0 or -errno. */
int thin_owned_release(dvm_ctx *ctx, const char *pool_dm, struct thin_meta *m);

/**
 * thin_layer_hold() - the backend op `owned_hold`: with @hold, one metadata snapshot of @pool
 * read by every thin_layer_owned() until it is called without @hold. Returns 0 or -errno.
 */
int thin_layer_hold(dvm_pool *pool, bool hold);

/**
 * thin_layer_owned() - the backend op `owned`: the ranges layer @l of @pool owns, read at the
 * metadata snapshot held by thin_layer_hold(), else through a snapshot of its own
 * (thin_owned()). Returns 0 or -errno as thin_owned().
 */
int thin_layer_owned(dvm_pool *pool, const char *dm_name, const struct layer *l, struct extent_list *ret);

#endif
