/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Recovery of a pool after a crash (dvm_pool_recover() in dvm.h), and the dirty and clean
 * marks that tell whether a pool needs it.
 */
#ifndef DVM_RECOVER_H
#define DVM_RECOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/pool.h"

/**
 * recover_run() - with the pool locked: when the pool is not clean (or @full), mark it
 * dirty, reconcile the kernel with the catalog and carry out the intents left, then mark it
 * clean unless something had to wait; when it is clean, only carry out intents, inside a
 * dirty mark of their own. With pool->defer_intents (a hotplug hook) intents are left for
 * `dvm-vol recover` or the next change outside a hook.
 * Returns 0 and the counts in @ret_report (may be NULL), or -errno.
 */
int recover_run(dvm_pool *pool, bool full, struct dvm_recover_report *ret_report);

/**
 * recover_needed() - with the pool locked: whether recover_run() has work, i.e. the pool is
 * not clean or has intents other than queued wipes (with pool->defer_intents: only if it is
 * not clean). Reads the catalog's marks and intents and the pool's transaction id, changes
 * nothing; may run inside a catalog transaction. Returns 1, 0 or -errno.
 */
int recover_needed(dvm_pool *pool);

/** recover_if_needed() - recover_run() when recover_needed() says so. Returns 0 or -errno. */
int recover_if_needed(dvm_pool *pool);

/**
 * recover_mark_dirty() - before a change: move the pool's transaction id one ahead of the
 * catalog's, or, with @in_catalog (a change that leaves the pool's metadata alone) or a
 * backend without one, set the catalog's dirty mark. Returns 0 and the id the change ends
 * on (0: the catalog's mark), or -errno.
 */
int recover_mark_dirty(dvm_pool *pool, bool in_catalog, uint64_t *ret_txn);

/**
 * recover_unmark_dirty() - a change that failed before it changed anything in the kernel:
 * move the transaction id back from @txn (or clear the dirty mark), so the pool is as clean
 * as it was.
 */
void recover_unmark_dirty(dvm_pool *pool, uint64_t txn);

/**
 * recover_mark_clean() - after a change: the catalog records @txn (unless 0), this boot, and
 * no dirty mark. Returns 0 or -errno.
 */
int recover_mark_clean(dvm_pool *pool, uint64_t txn);

#endif
