/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pool backends. The lifecycle speaks of layers (a committed origin, a running snapshot of
 * one, a fresh empty volume); a backend makes them real: the thin backend as thin ids of a
 * dm thin-pool, the snap backend as image files under dm-snapshot. One table per backend.
 */
#ifndef DVM_BACKEND_H
#define DVM_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/pool.h"
#include "util/extent.h"

struct cat_volume;

/* The device a backend reads a layer through while it commits it, "<pool dm name>" COMMIT_MARK
 * "<layer id>" (rbd): made and removed within one change under the pool lock, so one that
 * recovery finds is a killed process's leftover. */
#define COMMIT_MARK "-commit-"

/* One layer as the catalog knows it. */
struct layer {
        int64_t id;        /* layer id (the thin id on the thin backend) */
        int64_t origin;    /* the committed layer this one snapshots; -1: none */
        uint64_t size;     /* bytes */
        bool keep;         /* a running layer that is committed at stop (save_on_stop) */
};

/* The COW store of a running snapshot layer (snap backend). */
struct layer_cow {
        uint64_t used;     /* bytes in use: header, metadata areas, data chunks */
        uint64_t size;     /* bytes of the store */
        bool invalid;      /* the kernel invalidated the snapshot (store full, or an I/O error) */
};

struct backend_ops {
        const char *name;

        /* The pool's allocation unit (thin block, snapshot chunk) from @cfg, checked, in
         * sectors; other settings of @cfg that do not apply are refused. */
        int (*pool_unit)(dvm_ctx *ctx, const char *pool, const struct dvm_pool_config *cfg,
                         uint64_t *ret_sectors);
        /* Optional (rbd): -EEXIST with a message when new pool @pool with @cfg would clash
         * with pool @other of the same state directory, whose catalog is @cat; else 0. */
        int (*pool_clash)(dvm_ctx *ctx, const char *pool, const struct dvm_pool_config *cfg, const char *other,
                          catalog *cat);
        /* Pool: build the kernel/file side of a new pool (the catalog exists and holds the
         * settings); bring it back after a reboot; fill usage and identity. */
        int (*pool_create)(dvm_pool *pool, const struct dvm_pool_config *cfg);
        int (*pool_activate)(dvm_pool *pool);
        int (*pool_info)(dvm_pool *pool, struct dvm_pool_info *info);
        /* Undo pool_create as far as it got (init failed). */
        void (*pool_destroy)(dvm_pool *pool);
        /* Optional: free what the backend keeps in the handle (the handle is closed). */
        void (*pool_close)(dvm_pool *pool);

        /* Layers: a new empty layer; a snapshot of committed layer l->origin (whose device
         * is @origin_dm if active, else NULL); a running snapshot made self-contained so
         * that it can stand as a committed layer; removal of a layer for good. */
        int (*layer_new)(dvm_pool *pool, const struct layer *l);
        int (*layer_snap)(dvm_pool *pool, const struct layer *l, const char *origin_dm);
        int (*layer_commit)(dvm_pool *pool, const struct layer *l);
        int (*layer_delete)(dvm_pool *pool, int64_t id);
        /* Optional: move committed layer @l (not active, just filled by an import) to where
         * the backend keeps committed layers (rbd: into the cluster). */
        int (*layer_publish)(dvm_pool *pool, const struct layer *l);
        /* Optional: the pool's free blocks may no longer all read zero (@why): it must zero
         * the blocks it provisions from now on (thin_zero.h). 0 or -errno. */
        int (*zero_drop)(dvm_pool *pool, const char *why);

        /* Devices: expose layer @l as dm device @dm_name (with our UUID); take it down;
         * bytes of the layer the backend has allocated. activate returns -ENOENT when a
         * file of the layer is gone, -ESTALE when a stop cut short after its wipe left the
         * layer half down: either way it cannot come back (recovery drops it). */
        int (*activate)(dvm_pool *pool, const char *dm_name, const struct layer *l, bool read_only);
        int (*deactivate)(dvm_pool *pool, const char *dm_name, const struct layer *l);
        int (*usage)(dvm_pool *pool, const char *dm_name, const struct layer *l, uint64_t *ret_bytes);
        /* Optional (NULL: deactivate): take device @dm_name of active layer @l from every
         * user at once, its removal left to the kernel; activate brings it back (or keeps
         * it, dm_keep()). Only for a layer that is that one device and nothing else. */
        int (*fence)(dvm_pool *pool, const char *dm_name, const struct layer *l);

        /* Optional (NULL: an active layer cannot grow): show active layer @l as device
         * @dm_name at its new size l->size, larger than the device's, data in place and the
         * device open to its users throughout. */
        int (*grow)(dvm_pool *pool, const char *dm_name, const struct layer *l);

        /* The byte ranges of active layer @l (device @dm_name) that it owns exclusively:
         * written since it was taken from l->origin (all it holds when it has none). The
         * wipe zeroes and discards exactly these; the inspector shows them. */
        int (*owned)(dvm_pool *pool, const char *dm_name, const struct layer *l, struct extent_list *ret);

        /* Optional: with @hold, let the `owned` calls until the call without it read one
         * consistent view of the pool (for the thin backend, one metadata snapshot instead
         * of one per call: each costs the pool two metadata commits). */
        int (*owned_hold)(dvm_pool *pool, bool hold);

        /* Optional: where the wipe of active running layer @l goes instead of its own device:
         * a block device below it (its path in @ret_path) and the byte ranges there. For a
         * store under an ephemeral key, whose ciphertext is what reaches the disk, and which
         * a snapshot the kernel gave up on (no I/O through it) must still have wiped.
         * Returns 1 and fills both, 0 when the wipe goes through the layer's own device (over
         * the `owned` ranges), or -errno. */
        int (*wipe_target)(dvm_pool *pool, const char *dm_name, const struct layer *l, char *ret_path, size_t len,
                           struct extent_list *ret);

        /* Optional (NULL: the backend has no COW stores): the state of the COW store of
         * active running layer @l. */
        int (*cow_state)(dvm_pool *pool, const char *dm_name, const struct layer *l, struct layer_cow *ret);

        /* Optional, for recovery. The pool's own count of its changes (the thin-pool
         * transaction id): moved ahead before a change, recorded in the catalog after it
         * (NULL: the catalog keeps a dirty mark instead). Every layer id the pool holds,
         * sorted (NULL: the backend cannot list them). */
        int (*txn_get)(dvm_pool *pool, uint64_t *ret_id);
        int (*txn_set)(dvm_pool *pool, uint64_t old_id, uint64_t new_id);
        int (*layer_list)(dvm_pool *pool, int64_t **ret_ids);

        /* Optional: remove what layer @l does not use in the role the catalog records for it
         * now (a running snapshot when l->origin >= 0, else an image: a committed layer or a
         * new running one): for the snap backend, the COW store a commit was made from and
         * an unfinished commit's copy. Called once the catalog commit of a stop is done (so
         * that a crash before it finds the layer as it ran) and by recovery. 0 or -errno. */
        int (*layer_tidy)(dvm_pool *pool, const struct layer *l);

        /* Optional (rbd): make committed layer @v->thin_id (allocated, not yet a layer)
         * what host @host's volume @v->vm/@v->name is in the cluster, and set @v->size. */
        int (*follow)(dvm_pool *pool, const char *host, struct cat_volume *v);
        /* Optional (rbd): before a start takes source volume @src's committed layer: when
         * @src follows another host's volume that has committed since, point @src at a new
         * layer for that commit (row written). Returns 0 or -errno. */
        int (*source_refresh)(dvm_pool *pool, struct cat_volume *src);
        /* Optional (rbd): 1 when what source volume @src follows has committed since its
         * committed layer was taken (so that what runs over it is outdated), 0, or -errno. */
        int (*source_moved)(dvm_pool *pool, const struct cat_volume *src);
        /* Optional (rbd): dvm_pool_reap_host(). */
        int (*reap_host)(dvm_pool *pool, const char *host, struct dvm_host_reap *ret);
};

extern const struct backend_ops backend_thin;
extern const struct backend_ops backend_snap;
extern const struct backend_ops backend_rbd;

/** backend_get() - the ops of @backend, or NULL if it is not built in. */
const struct backend_ops *backend_get(enum dvm_backend backend);

#endif
