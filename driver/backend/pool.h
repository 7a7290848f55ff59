/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A pool handle: the pool's directory, catalog, lock and kernel device. Shared by the
 * files that implement the pool and VM verbs.
 */
#ifndef DVM_POOL_H
#define DVM_POOL_H

#include "store/catalog.h"
#include "util/ctx.h"

struct backend_ops;
struct thin_meta;

struct dvm_pool {
        dvm_ctx *ctx;
        const struct backend_ops *ops;
        char name[DVM_POOL_NAME_MAX + 1];
        char *dir;               /* <state dir>/<name> */
        catalog *cat;
        enum dvm_backend backend;
        uint64_t block_sectors;
        char dm_name[DVM_POOL_NAME_MAX + 8]; /* DVM-<name> */
        uint32_t major, minor;   /* the thin-pool device (thin backend) */
        int lock_fd;
        unsigned lock_depth;
        bool changing;           /* between pool_change_begin() and _end() */
        uint64_t change_txn;     /* the transaction id the change ends on */
        unsigned long change_mark; /* dm_changes() when it began */
        bool change_in_ram;      /* the change is an in-RAM VM's: it leaves the pool's metadata
                                  * alone, so its dirty mark goes in the catalog */
        struct thin_meta *held_meta; /* between owned_hold(true) and (false), thin backend */
        bool defer_intents;      /* in a hotplug hook: other VMs' deferred stops and destroys
                                  * (their wipes) are left to recover and the boot unit */
        bool destroy_later;      /* the hook's remove: a disposable it destroys is cut off
                                  * at once and wiped by the worker (later.h) */
};

/** pool_path() - "<pool dir>/<name>", malloc'd; NULL when out of memory. */
char *pool_path(const dvm_pool *pool, const char *name);

/** pool_lock() - take the pool's exclusive lock (nests). Returns 0 or -errno. */
int pool_lock(dvm_pool *pool);
/** pool_unlock() - release one level of the lock. */
void pool_unlock(dvm_pool *pool);

/**
 * pool_change_begin() - with the pool locked, start a change of its kernel state: recover
 * first if the pool needs it (recover.h), then mark the pool dirty (its transaction id moves
 * ahead of the catalog's). Nested calls (the lock held more than once) do nothing.
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

/** pool_message() - send a message to the thin-pool. Returns 0 or -errno. */
int pool_message(dvm_pool *pool, const char *msg);

/*
 * POOL_TRANSACTION() - evaluate @body (an int expression: 0 or -errno) under the pool
 * lock inside one catalog transaction, committed when @body succeeds and rolled back
 * otherwise. Kernel changes made by @body must be undone by @body itself on failure. The
 * outermost one is also a change of the pool (pool_change_begin() and _end(), txn.h).
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
