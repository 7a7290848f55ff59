/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a thin layer owns, in bytes of its device: the blocks mapped differently from its
 * origin (all its mappings when it has none), read from a live pool through a metadata
 * snapshot held only while we read. The thin backend's `owned` op.
 */
#ifndef DVM_THIN_OWNED_H
#define DVM_THIN_OWNED_H

#include <stdint.h>

#include "backend.h"
#include "extent.h"
#include "thin_meta.h"

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

/** thin_layer_owned() - the backend op: thin_owned() of layer @l in @pool. Returns its result. */
int thin_layer_owned(dvm_pool *pool, const char *dm_name, const struct layer *l, struct extent_list *ret);

#endif
