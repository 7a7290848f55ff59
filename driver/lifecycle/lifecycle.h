/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Starting and stopping a VM's layers: snapshots taken at start, commits and removals at
 * stop. Called with the pool locked and a catalog transaction open; on failure the
 * kernel is put back as it was and the caller rolls the catalog back.
 */
#ifndef DVM_LIFECYCLE_H
#define DVM_LIFECYCLE_H

#include "backend/pool.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"

/* Layers a stop dropped and committed layers that may have lost their last user: reaped
 * once the catalog commit that dropped the user is done (a layer still used then is a
 * committed one, and what it ran on before its commit goes). Per volume at most three:
 * the old origin, the running layer, the committed layer of a removed VM. */
struct lifecycle_doomed {
        unsigned n;
        int64_t ids[16];
};

/**
 * lifecycle_new_origin() - allocate a layer id for @vol, create it empty as its committed
 * layer and store the row. Returns 0 or -errno.
 */
int lifecycle_new_origin(dvm_pool *pool, struct cat_volume *vol);

/**
 * lifecycle_start() - build and activate the running layer of every volume of @vm and
 * mark it running in the catalog. Returns 0 or -errno (kernel unchanged on failure).
 */
int lifecycle_start(dvm_pool *pool, struct cat_vm *vm);

/**
 * lifecycle_stop() - take down every volume of @vm and update the catalog: save_on_stop
 * volumes commit their running layer, the other running layers go into @ret_doomed
 * (those in RAM are deleted at once). With @remove, the VM's rows go and its committed
 * layers become candidates in @ret_doomed, like the origins the stop released. Returns 0 or -errno (-EBUSY: a device is open;
 * then nothing changed).
 */
int lifecycle_stop(dvm_pool *pool, struct cat_vm *vm, bool remove, struct lifecycle_doomed *ret_doomed);

/**
 * lifecycle_volume_start() - lifecycle_start() for volume @v alone (the per-volume calls):
 * its running layer built, activated and stored in its row. Returns 0 or -errno (the
 * kernel as it was).
 */
int lifecycle_volume_start(dvm_pool *pool, struct cat_volume *v);

/**
 * lifecycle_volume_stop() - lifecycle_stop() for volume @v alone, whose device must exist:
 * with @keep, a save_on_stop volume commits its running layer (the replaced committed
 * layer goes into @ret_doomed); otherwise the running layer is wiped (unless the change
 * vouches for its zeros: pool->wipe_done) and dropped. The row is stored.
 * Returns 0 or -errno (-EBUSY: the device is open; then nothing changed).
 */
int lifecycle_volume_stop(dvm_pool *pool, struct cat_volume *v, bool keep, struct lifecycle_doomed *ret_doomed);

/**
 * lifecycle_volumes_wipe() - for the stops of several volumes in one change: wipe together
 * the running layers of @vols[0..@n) that a stop drops (not save_on_stop ones), as
 * lifecycle_stop() wipes a VM's: what they own read at one view of the pool, one flush
 * for all; the layers wiped are remembered (pool_wiped_add()), so that with pool->wipe_done
 * their stops in this change make no second wipe. Left out, for their own stop to wipe or
 * refuse: volumes that are not running, whose device is gone or open. Returns the number
 * wiped or -errno (their data may then be zeroed in part).
 */
int lifecycle_volumes_wipe(dvm_pool *pool, const struct cat_volume *vols, unsigned n);

/**
 * lifecycle_reap() - delete each layer in @doomed that no volume uses any more, and tidy
 * (backend layer_tidy) those still used. Failures are warnings: recovery collects what is
 * left.
 */
void lifecycle_reap(dvm_pool *pool, const struct lifecycle_doomed *doomed);

#endif
