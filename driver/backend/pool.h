/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A pool handle: the pool's directory, catalog, lock and kernel device, given to its backend
 * and to every layer above. dvm_pool_open() (api/pool_open.c) makes one.
 */
#ifndef DVM_POOL_H
#define DVM_POOL_H

#include "store/catalog.h"
#include "util/ctx.h"

struct backend_ops;
struct rbd_conn;
struct recover_actions;
struct thin_meta;

/* Layers remembered as wiped (pool_wiped_add()); the oldest is forgotten past this. */
#define POOL_WIPED_MAX 32

struct dvm_pool {
        dvm_ctx *ctx;
        const struct backend_ops *ops;
        const struct recover_actions *recover; /* what its recovery finishes with, from the
                                                * layers above (lifecycle/recover_actions.h) */
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
        bool changed_elsewhere;  /* the change wrote outside the kernel what recovery
                                  * reconciles (a use recorded in the cluster): a failed
                                  * one leaves the pool dirty as one that touched dm does */
        bool change_in_ram;      /* the change is an in-RAM VM's: it leaves the pool's metadata
                                  * alone, so its dirty mark goes in the catalog */
        struct thin_meta *held_meta; /* between owned_hold(true) and (false), thin backend */
        struct rbd_conn *rbd;    /* rbd backend: the cluster, connected at first need */
        bool defer_intents;      /* in a hotplug hook: other VMs' deferred stops and destroys
                                  * (their wipes) are left to recover and the boot unit */
        bool preload_taken;      /* a spawn in this change took a ready disposable: the
                                  * caller starts the worker's refill once it unlocks */
        bool destroy_later;      /* the hook's remove: a disposable it destroys is cut off
                                  * at once and wiped by the worker (later.h) */
        int64_t wiped[POOL_WIPED_MAX]; /* layers wiped since the last change of the pool ended,
                                        * not deleted yet (pool_wiped_add()) */
        unsigned n_wiped;
        bool wipe_done;          /* this change vouches for the zeros of the running layers in
                                  * wiped[]: no second wipe (the worker's finish of its wipe,
                                  * later_work.c; a qube's stops, volume_run.c); ends with it */
};

/** pool_path() - "<pool dir>/<name>", malloc'd; NULL when out of memory. */
char *pool_path(const dvm_pool *pool, const char *name);

/** pool_lock() - take the pool's exclusive lock (nests). Returns 0 or -errno. */
int pool_lock(dvm_pool *pool);
/** pool_unlock() - release one level of the lock. */
void pool_unlock(dvm_pool *pool);

/**
 * pool_wiped_add() - remember that layer @id of the pool was just wiped (nothing of what it
 * owned is left), so that deleting it keeps the pool's free blocks as they were. Forgotten
 * when the layer is deleted and when the change of the pool that deletes it ends
 * (pool_wiped_forget()).
 */
void pool_wiped_add(dvm_pool *pool, int64_t id);

/** pool_wiped_has() - whether layer @id was wiped by this process since it was last deleted. */
bool pool_wiped_has(const dvm_pool *pool, int64_t id);

/** pool_wiped_take() - pool_wiped_has(), and forget @id (its layer is being deleted). */
bool pool_wiped_take(dvm_pool *pool, int64_t id);

/** pool_wiped_forget() - forget every layer pool_wiped_add() remembered. */
void pool_wiped_forget(dvm_pool *pool);

/** pool_message() - send a message to the thin-pool. Returns 0 or -errno. */
int pool_message(dvm_pool *pool, const char *msg);

#endif
