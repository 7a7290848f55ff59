/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A pool handle: the pool's directory, catalog, lock and kernel device. Shared by the
 * files that implement the pool and VM verbs.
 */
#ifndef DVM_POOL_H
#define DVM_POOL_H

#include "catalog.h"
#include "ctx.h"

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
        struct thin_meta *held_meta; /* between owned_hold(true) and (false), thin backend */
};

/** pool_path() - "<pool dir>/<name>", malloc'd; NULL when out of memory. */
char *pool_path(const dvm_pool *pool, const char *name);

/** pool_lock() - take the pool's exclusive lock (nests). Returns 0 or -errno. */
int pool_lock(dvm_pool *pool);
/** pool_unlock() - release one level of the lock. */
void pool_unlock(dvm_pool *pool);

/** pool_message() - send a message to the thin-pool. Returns 0 or -errno. */
int pool_message(dvm_pool *pool, const char *msg);

/*
 * POOL_TRANSACTION() - evaluate @body (an int expression: 0 or -errno) under the pool
 * lock inside one catalog transaction, committed when @body succeeds and rolled back
 * otherwise. Kernel changes made by @body must be undone by @body itself on failure.
 */
#define POOL_TRANSACTION(pool, body)                                          \
        ({                                                                    \
                int _r = pool_lock(pool);                                     \
                if (_r >= 0) {                                                \
                        _r = catalog_begin((pool)->cat);                      \
                        if (_r >= 0) {                                        \
                                _r = (body);                                  \
                                if (_r >= 0)                                  \
                                        _r = catalog_commit((pool)->cat);     \
                                if (_r < 0)                                   \
                                        catalog_rollback((pool)->cat);        \
                        }                                                     \
                        pool_unlock(pool);                                    \
                }                                                             \
                _r;                                                           \
        })

#endif
