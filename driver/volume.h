/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VM's volume as a device: its dm name DVM-<pool>-<vm>-<volume>, its path, and the
 * layer its device exposes, activated and deactivated through the pool's backend.
 */
#ifndef DVM_VOLUME_H
#define DVM_VOLUME_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "catalog.h"

#define VOLUME_DM_NAME_MAX 128

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

/**
 * volume_activate() - the device of @v over layer @l (read-only unless @v is rw).
 * Returns 0, -EEXIST if a device of that name exists, or -errno.
 */
int volume_activate(dvm_pool *pool, const struct cat_volume *v, const struct layer *l);

/** volume_deactivate() - remove the device of @v if it exists. Returns 0 or -errno. */
int volume_deactivate(dvm_pool *pool, const struct cat_volume *v, const struct layer *l);

/**
 * volume_usage() - bytes the backend allocated for the active layer @l of @v.
 * Returns 0, -ENXIO when it is not active, or -errno.
 */
int volume_usage(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, uint64_t *ret_bytes);

#endif
