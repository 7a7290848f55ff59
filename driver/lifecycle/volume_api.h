/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the files of the per-volume calls (dvm_volume_*): finding a qube's volume,
 * running a change of one under the pool lock, and deleting the layers it let go.
 */
#ifndef DVM_VOLUME_API_H
#define DVM_VOLUME_API_H

#include <stdbool.h>

#include "lifecycle/lifecycle.h"
#include "backend/pool.h"
#include "store/catalog_volume.h"

/**
 * volume_api_check() - refuse the per-volume calls on a pool whose backend lacks them, and
 * a volume name other than root, private or volatile. Returns 0, -EOPNOTSUPP or -EINVAL.
 */
int volume_api_check(dvm_pool *pool, const char *vm, const char *volume);

/**
 * volume_api_lookup() - the row of volume @volume of qube @vm. Returns 0, -ENOENT (no such
 * volume, or @vm is no qube), -EOPNOTSUPP / -EINVAL as volume_api_check(), or -errno.
 */
int volume_api_lookup(dvm_pool *pool, const char *vm, const char *volume, struct cat_volume *ret);

/** volume_api_active() - whether the device of @v exists. */
bool volume_api_active(dvm_pool *pool, const struct cat_volume *v);

/**
 * volume_api_ensure_active() - bring back the device of @v's running layer when a crash or
 * reboot took it (a new ephemeral key for a volatile one: what it held stays unreadable).
 * Returns 0 or -errno.
 */
int volume_api_ensure_active(dvm_pool *pool, const struct cat_volume *v);

/** A change of one volume: @fn(pool, data, doomed) inside a catalog transaction. */
typedef int volume_change_fn(dvm_pool *pool, void *data, struct lifecycle_doomed *doomed);

/**
 * volume_api_change() - run @fn as one change of the pool (recovery first if needed, the
 * pool marked dirty until it is done) in one catalog transaction, then delete the layers
 * it doomed that nothing uses any more. Returns what @fn returned, or -errno.
 */
int volume_api_change(dvm_pool *pool, volume_change_fn *fn, void *data);

/** Work for all of @data[0..@n) done first in a change of several volumes; a failure only
 * leaves it to each one's change (volume_api_change_each()). */
typedef void volume_prepare_fn(dvm_pool *pool, void *const *data, unsigned n);

/**
 * volume_api_change_each() - run @fn on each of @data[0..@n) in one change of the pool (one
 * lock, one recovery check, one udev wait), each in a catalog transaction of its own, in
 * order, until one fails: @ret_results[i] gets its 0 or -errno, -ECANCELED for those after
 * a failure (or all, when the change could not begin). @prepare (or NULL) runs once first,
 * inside the change. Returns 0 or the first -errno.
 */
int volume_api_change_each(dvm_pool *pool, volume_prepare_fn *prepare, volume_change_fn *fn, void *const *data,
                           unsigned n, int *ret_results);

/**
 * volume_api_recover() - for recovery: the running layers of qube @vm's snap_on_start and
 * volatile volumes whose devices are gone (the host went down) are wiped and dropped, as
 * their stop would have; a save_on_stop one stays dirty for its next start to pick up.
 * Returns the number dropped, or -errno.
 */
int volume_api_recover(dvm_pool *pool, const char *vm, struct lifecycle_doomed *doomed);

/**
 * revisions_commit() - after a commit of @v that replaced committed layer @old: keep @old
 * as the newest revision when the volume keeps any, and let the oldest beyond
 * revisions_to_keep go into @doomed. Returns 0 or -errno.
 */
int revisions_commit(dvm_pool *pool, const struct cat_volume *v, int64_t old, uint64_t old_size,
                     struct lifecycle_doomed *doomed);

#endif
