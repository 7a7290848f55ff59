/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The zero-discard wipe: what a dropped layer owns is overwritten with zeros through its own
 * device, flushed, discarded and flushed again before the layer is removed, so that nothing
 * it held survives even on a disk that ignores discards.
 */
#ifndef DVM_WIPE_H
#define DVM_WIPE_H

#include "backend/pool.h"
#include "store/catalog_volume.h"
#include "util/extent.h"

struct layer;

/**
 * wipe_volumes() - wipe what the running layer @ls[i] of each volume @vols[i] owns (@n of
 * them), where the backend says (below the encryption of a store under an ephemeral key),
 * else through the device of the layer (below the crypt device of an ephemeral-key volume:
 * zeros written above it would reach the disk as fresh ciphertext). What the layers own is
 * read at one view of the pool; the storage under them all is flushed once after the zeros
 * and once after the discards. The devices must be closed by everyone else.
 * Returns 0, -EOPNOTSUPP when the backend cannot tell what a layer owns, or -errno.
 */
int wipe_volumes(dvm_pool *pool, const struct cat_volume *vols, const struct layer *ls, size_t n);

#endif
