/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM's volume as a device: its dm name DVM-<pool>-<vm>-<volume>, its path, and the
 * layer its device exposes, activated and deactivated through the pool's backend.
 */
#ifndef DVM_VOLUME_H
#define DVM_VOLUME_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "kernel/dm.h"
#include "store/catalog_volume.h"

#define VOLUME_DM_NAME_MAX DM_NAME_MAX

/** volume_dm_name() - "DVM-<pool>-<vm>-<vol>" into @buf. Returns @buf. */
char *volume_dm_name(const dvm_pool *pool, const char *vm, const char *vol, char *buf, size_t len);

/** volume_path() - "/dev/mapper/<dm name>" into @buf. Returns @buf. */
char *volume_path(const dvm_pool *pool, const char *vm, const char *vol, char *buf, size_t len);

/**
 * volume_running_layer() - the running layer of @v: its run id, and the committed layer it
 * snapshots (its source's for snap_on_start, its own origin for save_on_stop, none for
 * volatile).
 */
struct layer volume_running_layer(const struct cat_volume *v);

/** volume_committed_layer() - the committed layer of @v (id -1 when it has none). */
struct layer volume_committed_layer(const struct cat_volume *v);

/** volume_ephemeral() - whether @v is volatile, and so under a crypt device with an ephemeral key. */
bool volume_ephemeral(const struct cat_volume *v);

/**
 * volume_outdated() - Qubes' is_outdated for @v: its running layer was taken from a source
 * that has committed since, in this catalog or (@remote, the backend's source_moved op: one
 * read of the cluster on rbd) where the source follows another host's commits. Returns 1
 * (a source that is gone counts), 0, or -errno when @remote could not tell.
 */
int volume_outdated(dvm_pool *pool, const struct cat_volume *v, bool remote);

/**
 * volume_layer_dm_name() - the device of @v's layer into @buf: "<dm name>-raw" below the
 * crypt device of an ephemeral volume, else the volume's own. Returns @buf.
 */
char *volume_layer_dm_name(const dvm_pool *pool, const struct cat_volume *v, char *buf, size_t len);

/**
 * volume_layer_create() - make running layer @l of @v: empty, or a snapshot of l->origin
 * (whose device is @origin_dm if active), in the pool or in the VM's RAM pool.
 * Returns 0 or -errno.
 */
int volume_layer_create(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, const char *origin_dm);

/** volume_layer_delete() - delete layer @id of @v for good. Returns 0 or -errno. */
int volume_layer_delete(dvm_pool *pool, const struct cat_volume *v, int64_t id);

/**
 * volume_activate() - the device of @v over layer @l (read-only unless @v is rw); for a
 * volatile volume, a crypt device with a fresh ephemeral key over the layer's device.
 * Returns 0, -EEXIST if a device of that name exists, or -errno (nothing left behind).
 */
int volume_activate(dvm_pool *pool, const struct cat_volume *v, const struct layer *l);

/**
 * volume_grow() - show active layer @l of @v at its size l->size, larger than its device's,
 * while the device stays open. Returns 0, -EOPNOTSUPP when the layer cannot grow while
 * active (under an ephemeral key, in RAM, or a backend without it), or -errno.
 */
int volume_grow(dvm_pool *pool, const struct cat_volume *v, const struct layer *l);

/** volume_deactivate() - remove the devices of @v that exist (crypt first). Returns 0 or -errno. */
int volume_deactivate(dvm_pool *pool, const struct cat_volume *v, const struct layer *l);

/**
 * volume_owned() - the byte ranges of the layer device of @v that active layer @l owns.
 * Returns 0 and @ret, -EOPNOTSUPP when the backend cannot tell, or -errno.
 */
int volume_owned(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, struct extent_list *ret);

/**
 * volume_owned_hold() - with @hold, make the volume_owned() calls of volumes in the pool
 * itself (not in RAM) read one view of it until the call without @hold, which must follow
 * (see backend_ops.owned_hold). Returns 0 or -errno.
 */
int volume_owned_hold(dvm_pool *pool, bool hold);

/** volume_in_ram() - whether the layers @v writes live in its VM's RAM pool (spawn --in-ram). */
bool volume_in_ram(const struct cat_volume *v);

/** vm_in_ram() - whether VM @name's layers live in a RAM pool of its own (spawn --in-ram). */
bool vm_in_ram(dvm_pool *pool, const char *name);

/**
 * volume_wipe_target() - where the backend wants the wipe of active layer @l of @v to go
 * instead of the layer's own device (see backend_ops.wipe_target).
 * Returns 1 with the device in @ret_path and the ranges in @ret, 0 if the wipe goes through
 * the layer's device, or -errno.
 */
int volume_wipe_target(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, char *ret_path, size_t len,
                       struct extent_list *ret);

/**
 * volume_usage() - bytes the backend allocated for the active layer @l of @v.
 * Returns 0, -ENXIO when it is not active, or -errno.
 */
int volume_usage(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, uint64_t *ret_bytes);

#endif
