/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Starting and stopping a VM's layers: snapshots taken at start, commits and removals at
 * stop. Called with the pool locked and a catalog transaction open; on failure the
 * kernel is put back as it was and the caller rolls the catalog back.
 */
#ifndef DVM_LIFECYCLE_H
#define DVM_LIFECYCLE_H

#include "pool.h"

/**
 * lifecycle_start() - build and activate the running layer of every volume of @vm and
 * mark it running in the catalog. Returns 0 or -errno (kernel unchanged on failure).
 */
int lifecycle_start(dvm_pool *pool, struct cat_vm *vm);

/* Thin ids to delete once the catalog no longer references them. */
struct lifecycle_doomed {
        unsigned n;
        int64_t ids[6];
};

/**
 * lifecycle_stop() - deactivate every volume of @vm and update the catalog: save_on_stop
 * volumes commit their running layer, the other running layers are dropped. With
 * @remove, the committed layers are dropped too and the VM's rows go. The dropped thin
 * ids come back in @ret_doomed, for lifecycle_reap() after the catalog commit.
 * Returns 0 or -errno (-EBUSY: a device is in use; then nothing changed).
 */
int lifecycle_stop(dvm_pool *pool, struct cat_vm *vm, bool remove, struct lifecycle_doomed *ret_doomed);

/** lifecycle_reap() - delete the thin ids in @doomed from the pool (failures are logged). */
void lifecycle_reap(dvm_pool *pool, const struct lifecycle_doomed *doomed);

/**
 * lifecycle_new_origin() - allocate a thin id for @vol, create it empty as its committed
 * layer and store the row. Returns 0 or -errno.
 */
int lifecycle_new_origin(dvm_pool *pool, struct cat_volume *vol);

#endif
