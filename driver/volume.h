/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Thin volumes of a pool: thin ids created, snapshotted and deleted through pool
 * messages, and activated as DVM-<pool>-<vm>-<volume> devices.
 */
#ifndef DVM_VOLUME_H
#define DVM_VOLUME_H

#include <stdbool.h>
#include <stdint.h>

#include "pool.h"

#define VOLUME_DM_NAME_MAX 128

/** volume_dm_name() - "DVM-<pool>-<vm>-<vol>" into @buf. Returns @buf. */
char *volume_dm_name(const dvm_pool *pool, const char *vm, const char *vol, char *buf, size_t len);

/** volume_path() - "/dev/mapper/<dm name>" into @buf. Returns @buf. */
char *volume_path(const dvm_pool *pool, const char *vm, const char *vol, char *buf, size_t len);

/** volume_thin_create() - a new empty thin id @id. Returns 0 or -errno. */
int volume_thin_create(dvm_pool *pool, int64_t id);

/**
 * volume_thin_snap() - thin id @id as a snapshot of @origin. When the origin is active as
 * @origin_dm (may be NULL), it is suspended around the message so that no write is in
 * flight; an inactive origin needs nothing. Returns 0 or -errno.
 */
int volume_thin_snap(dvm_pool *pool, int64_t id, int64_t origin, const char *origin_dm);

/** volume_thin_delete() - delete thin id @id from the pool. Returns 0 or -errno. */
int volume_thin_delete(dvm_pool *pool, int64_t id);

/**
 * volume_activate() - the device of @vm/@vol over thin id @id, @size bytes.
 * Returns 0, -EEXIST if a device of that name exists, or -errno.
 */
int volume_activate(dvm_pool *pool, const char *vm, const char *vol, int64_t id, uint64_t size,
                    bool read_only);

/** volume_deactivate() - remove the device of @vm/@vol if it exists. Returns 0 or -errno. */
int volume_deactivate(dvm_pool *pool, const char *vm, const char *vol);

/**
 * volume_usage() - bytes mapped by the active device of @vm/@vol.
 * Returns 0, -ENXIO when it is not active, or -errno.
 */
int volume_usage(dvm_pool *pool, const char *vm, const char *vol, uint64_t *ret_bytes);

#endif
