/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * In-RAM disposables: every layer such a VM writes is a thin id of a thin-pool of its own
 * on zram devices, sized to its memory limit; root and private read what they did not write
 * from read-only activations of their sources' committed layers (external origins). Nothing
 * it writes reaches the pool's storage.
 */
#ifndef DVM_RAM_H
#define DVM_RAM_H

#include <stdint.h>

#include "backend/backend.h"
#include "store/catalog_volume.h"

/** Memory limit of an in-RAM VM when its spawn names none. */
#define RAM_LIMIT_DEFAULT (1ULL << 30)
/** The smallest limit: a few blocks of the RAM pool. */
#define RAM_LIMIT_MIN (4ULL << 20)

/** ram_dm_name() - the dm name of @vm's RAM pool, DVM-<pool>-<vm>-ram, in @buf. Returns @buf. */
char *ram_dm_name(const dvm_pool *pool, const char *vm, char *buf, size_t len);

/** ram_limit_set() - record @vm's memory limit in the catalog. Returns 0 or -errno. */
int ram_limit_set(dvm_pool *pool, const char *vm, uint64_t limit);
/** ram_limit_forget() - drop @vm's memory limit, with the VM. Returns 0 or -errno. */
int ram_limit_forget(dvm_pool *pool, const char *vm);

/**
 * ram_pool_start() - the RAM thin-pool of @vm (at its recorded limit): zram devices for
 * metadata and data, and a thin-pool over them that fails writes with ENOSPC once the
 * limit is reached. Returns 0, -ENOSPC when the RAM available is below the limit,
 * -EOPNOTSUPP without zram, or -errno; nothing is left behind on failure.
 */
int ram_pool_start(dvm_pool *pool, const char *vm);

/** ram_pool_stop() - remove @vm's RAM pool and free its zram devices. Returns 0 or -errno. */
int ram_pool_stop(dvm_pool *pool, const char *vm);

/** ram_layer_create() - running layer @l of in-RAM volume @v: a thin id in the RAM pool. Returns 0 or -errno. */
int ram_layer_create(dvm_pool *pool, const struct cat_volume *v, const struct layer *l);

/** ram_layer_delete() - delete thin id @id of @v's RAM pool. Returns 0 (also when the pool is gone) or -errno. */
int ram_layer_delete(dvm_pool *pool, const struct cat_volume *v, int64_t id);

/**
 * ram_activate() - device @dm_name over layer @l of in-RAM volume @v: a thin device of the
 * RAM pool over a read-only activation of committed layer l->origin of the pool when it
 * has one. Returns 0 or -errno (nothing left behind).
 */
int ram_activate(dvm_pool *pool, const struct cat_volume *v, const char *dm_name, const struct layer *l);

/** ram_deactivate() - undo ram_activate(); missing devices are fine. Returns 0 or -errno. */
int ram_deactivate(dvm_pool *pool, const struct cat_volume *v, const char *dm_name, const struct layer *l);

/** ram_usage() - bytes mapped by in-RAM device @dm_name. Returns 0 or -errno. */
int ram_usage(dvm_pool *pool, const char *dm_name, uint64_t *ret_bytes);

/**
 * ram_owned() - the ranges layer @l of @v holds in RAM: all its mappings (what it reads
 * from its origin is not in the RAM pool). Returns 0 and @ret, or -errno.
 */
int ram_owned(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, struct extent_list *ret);

#endif
