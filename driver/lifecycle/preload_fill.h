/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The worker's refill of preloaded disposables: build where fewer are ready than a DVM
 * Template keeps, wipe outdated and surplus ones; one step at a time, each a change of its
 * own under the pool lock. The public calls (dvm_preload_*) live with it.
 */
#ifndef DVM_PRELOAD_FILL_H
#define DVM_PRELOAD_FILL_H

#include "backend/pool.h"

/**
 * preload_refill_one() - the worker's next step of refill, a change of its own under the
 * pool lock: queue the wipe of one ready disposable that is outdated or more than its DVM
 * Template keeps, else build one where fewer are ready than kept (never under the space
 * guard: the reason is noted in the setting). DVM Templates in @skip (set by this call
 * when a build fails) are passed over. Returns 1 when it did a step, 0 when nothing is
 * left to do, or -errno.
 */
struct preload_skip {
        unsigned n;
        char names[16][DVM_NAME_MAX + 1];
};
int preload_refill_one(dvm_pool *pool, struct preload_skip *skip);

/**
 * preload_recovered() - after a full recovery (dvm_pool_recover(), the boot unit): start
 * the worker when a DVM Template keeps disposables ready (a reboot took them). The recover
 * action pool->recover->recovered.
 */
void preload_recovered(dvm_pool *pool);

/**
 * preload_refill_due() - whether preload_refill_one() has a step to do for a DVM Template
 * not in @skip: fewer ready than kept, or an outdated one. Reads the catalog only.
 */
bool preload_refill_due(dvm_pool *pool, const struct preload_skip *skip);

#endif
