/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A change of a pool: recovery first when the pool needs it, then the pool marked dirty
 * until the change is done (pool_change.c); POOL_TRANSACTION() wraps one in the pool lock
 * and one catalog transaction.
 */
#ifndef DVM_POOL_CHANGE_H
#define DVM_POOL_CHANGE_H

#include "backend/pool.h"

/**
 * pool_change_begin() - with the pool locked, start a change of its kernel state: recover
 * first if the pool needs it (recover.h), then mark the pool dirty (its transaction id
 * moves ahead of the catalog's). Nested calls (the lock held more than once) do nothing.
 * Returns 0 or -errno.
 */
int pool_change_begin(dvm_pool *pool);

/**
 * pool_change_end() - end the change begun by pool_change_begin(): when it succeeded
 * (@result >= 0), the catalog records the pool's new transaction id, so the pool is clean
 * again; a failed change that changed nothing in the kernel puts the mark back; any other
 * failed change leaves the pool dirty for recovery to check.
 */
void pool_change_end(dvm_pool *pool, int result);

/**
 * pool_catalog_begin() - with the pool locked, open a catalog transaction for a change of
 * the catalog alone (one that leaves the kernel as it is: no dirty mark, no transaction id
 * moved): a pool a crash left dirty is recovered first, so that nothing of it is handed
 * out before. With the lock held more than once, only the transaction. Returns 0 or -errno.
 */
int pool_catalog_begin(dvm_pool *pool);

/*
 * POOL_TRANSACTION() - evaluate @body (an int expression: 0 or -errno) under the pool
 * lock inside one catalog transaction, committed when @body succeeds and rolled back
 * otherwise. Kernel changes made by @body must be undone by @body itself on failure. The
 * outermost one is also a change of the pool (pool_change_begin() and _end()).
 */
#define POOL_TRANSACTION(pool, body)                                          \
        ({                                                                    \
                int _r = pool_lock(pool);                                     \
                if (_r >= 0) {                                                \
                        _r = pool_change_begin(pool);                         \
                        if (_r >= 0)                                          \
                                _r = catalog_begin((pool)->cat);              \
                        if (_r >= 0) {                                        \
                                _r = (body);                                  \
                                if (_r >= 0)                                  \
                                        _r = catalog_commit((pool)->cat);     \
                                if (_r < 0)                                   \
                                        catalog_rollback((pool)->cat);        \
                        }                                                     \
                        pool_change_end(pool, _r);                            \
                        pool_unlock(pool);                                    \
                }                                                             \
                _r;                                                           \
        })

#endif
