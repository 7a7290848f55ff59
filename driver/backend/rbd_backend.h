/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the files of the rbd backend share: the pool's connection to the cluster, where a
 * layer lives, and its devices (rbd_expose.c): a layer in the cluster as a linear device
 * over its snapshot's mapping, a running layer over one as a thin volume with that mapping
 * as external origin, any other layer as the thin backend makes it.
 */
#ifndef DVM_RBD_BACKEND_H
#define DVM_RBD_BACKEND_H

#include "backend/backend.h"
#include "backend/rbd_layers.h"
#include "ceph/rbd_client.h"

/** rbd_backend_conn() - @pool's connection, made at the first call. Returns 0 and @ret, or -errno. */
int rbd_backend_conn(dvm_pool *pool, struct rbd_conn **ret);

/** rbd_backend_layer() - 1 and @ret when layer @id is in the cluster, 0 when it is local (or @id < 0), or -errno. */
int rbd_backend_layer(dvm_pool *pool, int64_t id, struct rbd_ref *ret);

/**
 * rbd_expose() - device @dm_name for layer @l: a layer in the cluster read-only over its
 * snapshot's mapping, a layer over one as a thin volume with it as external origin, else
 * the thin backend's device. The mapping is made or shared, its identity checked, and
 * pinned until the table holds it. Returns 0, or -errno with a message.
 */
int rbd_expose(dvm_pool *pool, const char *dm_name, const struct layer *l, bool read_only);

/**
 * rbd_unexpose() - remove device @dm_name (gone already: no error) and the rbd mapping it
 * stood on when that has no other user. Returns 0 or -errno.
 */
int rbd_unexpose(dvm_pool *pool, const char *dm_name);

#endif
