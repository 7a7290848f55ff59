/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The actions recovery (recover.c, reconcile.c) is handed in pool->recover.
 */
#ifndef DVM_RECOVER_ACTIONS_H
#define DVM_RECOVER_ACTIONS_H

#include "backend/pool.h"

/*
 * What recovery finishes with code of the layers above it, which the pool's opener gives it
 * in pool->recover (api/pool_open.c), so that recovery never calls up:
 * @finish carries out a stop or destroy intent of VM @vm with the lifecycle's own code
 * (vm_finish()); @dead_disks, in the reconciliation between the layers and the running VMs,
 * releases the disks whose Xen domain died without the toolstack's remove, as block-dvm
 * would (claim_reap_dead()), and counts them in @rep. Both return 0 or -errno.
 */
struct recover_actions {
        int (*finish)(dvm_pool *pool, const char *vm, enum cat_intent_op op);
        int (*dead_disks)(dvm_pool *pool, struct dvm_recover_report *rep);
};

#endif
