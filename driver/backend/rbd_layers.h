/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which layers of an rbd pool live in the cluster, and where: layer id -> image@snapshot.
 * Kept in the pool's catalog (settings "rbd.layer.<id>" and the list "rbd.layers"), in the
 * caller's catalog transaction. Every other layer of the pool is a thin id of its local pool.
 */
#ifndef DVM_RBD_LAYERS_H
#define DVM_RBD_LAYERS_H

#include <stdint.h>

#include "backend/pool.h"

struct rbd_ref {
        char image[128];
        char snap[128];
};

/** rbd_layer_get() - where layer @id lives in the cluster. Returns 0 and @ret, -ENOENT when it is local, or -errno. */
int rbd_layer_get(dvm_pool *pool, int64_t id, struct rbd_ref *ret);

/** rbd_layer_set() - record that layer @id is @ref. Returns 0 or -errno. */
int rbd_layer_set(dvm_pool *pool, int64_t id, const struct rbd_ref *ref);

/** rbd_layer_forget() - layer @id is no longer in the cluster (absent: no error). Returns 0 or -errno. */
int rbd_layer_forget(dvm_pool *pool, int64_t id);

/**
 * rbd_layer_ids() - the ids of every layer recorded in the cluster, sorted ascending, in a
 * malloc'd array. Returns their count, or -errno.
 */
int rbd_layer_ids(dvm_pool *pool, int64_t **ret_ids);

#endif
