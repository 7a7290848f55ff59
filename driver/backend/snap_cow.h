/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The snap backend's layer files and COW stores (snap_cow.c), for backend_snap.c.
 */
#ifndef DVM_SNAP_COW_H
#define DVM_SNAP_COW_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "kernel/loop.h"

/** snap_layer_file() - "<pool dir>/<id><suffix>", malloc'd; NULL when out of memory. */
char *snap_layer_file(dvm_pool *pool, int64_t id, const char *suffix);

/** snap_cow_crypt_name() - the crypt device over the COW store of running layer @id, in @buf. */
char *snap_cow_crypt_name(const dvm_pool *pool, int64_t id, char *buf, size_t len);

/**
 * snap_cow_attach() - the device the snapshot table of running layer @l names for its COW
 * store: the loop of <id>.cow, or, for a layer that is not kept, a crypt device under an
 * ephemeral key over it (@ret_made: one was made, with a fresh store). Returns 0 and @ret,
 * -ESTALE when a stop cut short left its crypt device alone, or -errno.
 */
int snap_cow_attach(dvm_pool *pool, const struct layer *l, struct loop_dev *ret, bool *ret_made);

/**
 * snap_cow_open() - the COW store of running layer @l opened read-only (through its crypt
 * device when it has one). Returns 0, the descriptor in @ret_fd and the store's size, or
 * -errno.
 */
int snap_cow_open(dvm_pool *pool, const struct layer *l, int *ret_fd, uint64_t *ret_size);

#endif
