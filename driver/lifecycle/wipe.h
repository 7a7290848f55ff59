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

/** A wipe planned under the pool lock and run without it (wipe_prepare(), wipe_run()). */
struct wipe_job;

/**
 * wipe_prepare() - the first half of wipe_volumes(), under the pool lock: what each layer
 * owns, read at one view of the pool, and the devices to write through. The caller keeps
 * the layers from changing hands until wipe_run() is done (a queued wipe's intent does).
 * Returns 0 and a job in @ret_job (wipe_job_free()), or -errno.
 */
int wipe_prepare(dvm_pool *pool, const struct cat_volume *vols, const struct layer *ls, size_t n,
                 struct wipe_job **ret_job);

/**
 * wipe_run() - the second half: zeros, flush, discards, flush, without the pool lock. A
 * layer of the pool's own storage that it wiped is remembered as such (pool_wiped_add()),
 * so its release keeps the pool's zero invariant. Returns 0 or -errno.
 */
int wipe_run(struct wipe_job *job);

/** wipe_job_free() - free @job (NULL: nothing). */
void wipe_job_free(struct wipe_job *job);

#endif
