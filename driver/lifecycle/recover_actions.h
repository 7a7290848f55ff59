/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The actions recovery (recover.c, reconcile.c) is handed in pool->recover.
 */
#ifndef DVM_RECOVER_ACTIONS_H
#define DVM_RECOVER_ACTIONS_H

#include "backend/pool.h"
#include "lifecycle/lifecycle.h"
#include "store/catalog_intent.h"

/*
 * What recovery finishes with code of the layers above it, which the pool's opener gives it
 * in pool->recover (api/pool_open.c), so that recovery never calls up:
 * @finish carries out a stop or destroy intent of VM @vm with the lifecycle's own code
 * (vm_finish()); @dead_disks, in the reconciliation between the layers and the running VMs,
 * releases the disks whose Xen domain died without the toolstack's remove, as block-dvm
 * would (claim_reap_dead()), and counts them in @rep. Both return 0 or -errno.
 * @qube_volumes brings the volumes of halted qube @vm in line after a crash or reboot
 * (volume_api_recover()): the number of volumes it stopped, their layers in @doomed, or
 * -errno. @recovered runs after a full recovery (dvm_pool_recover()), the pool unlocked: it
 * starts the worker's refill of preloaded disposables (preload_recovered()).
 */
struct recover_actions {
        int (*finish)(dvm_pool *pool, const char *vm, enum cat_intent_op op);
        int (*dead_disks)(dvm_pool *pool, struct dvm_recover_report *rep);
        int (*qube_volumes)(dvm_pool *pool, const char *vm, struct lifecycle_doomed *doomed);
        void (*recovered)(dvm_pool *pool);
};

#endif
