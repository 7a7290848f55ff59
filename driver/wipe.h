/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The zero-discard wipe: what a dropped layer owns is overwritten with zeros through its own
 * device, flushed, discarded and flushed again before the layer is removed, so that nothing
 * it held survives even on a disk that ignores discards.
 */
#ifndef DVM_WIPE_H
#define DVM_WIPE_H

#include "catalog.h"
#include "extent.h"
#include "pool.h"

struct layer;

/**
 * wipe_ranges() - overwrite @ranges of block device @path with zeros (plain writes, never
 * write-zeroes or unmap requests, which a loop device over a file would turn into unwritten
 * extents that leave the old data on disk), flush the devices under it, discard the ranges
 * (ignored where the device cannot), flush again and drop the device's buffer cache.
 * Progress goes to the context's callback once the wipe has taken over a second. Returns 0, -EINVAL for a range beyond the device or
 * not aligned to its logical blocks, or -errno (described to @ctx).
 */
int wipe_ranges(dvm_ctx *ctx, const char *path, const struct extent_list *ranges);

/**
 * wipe_volume() - wipe what the running layer @l of volume @v owns, where the backend says
 * (below the encryption of a store under an ephemeral key), else through the device of
 * the layer (below the crypt device of an ephemeral-key volume: zeros written above it would
 * reach the disk as fresh ciphertext). The device must be closed by everyone else.
 * Returns 0, -EOPNOTSUPP when the backend cannot tell what a layer owns, or -errno.
 */
int wipe_volume(dvm_pool *pool, const struct cat_volume *v, const struct layer *l);

#endif
