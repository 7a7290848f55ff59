// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The per-volume calls of the public API (dvm_volume_*), for a Qubes OS pool driver: each
 * volume of a qube is made, started, stopped and removed on its own.
 */
#include "backend/pool.h"

#define NOT_YET(pool, vm, volume) \
        ctx_error((pool)->ctx, -ENOSYS, "%s/%s: %s is not implemented yet", vm, volume, __func__)

int dvm_volume_create(dvm_pool *pool, const char *vm, const char *volume, const struct dvm_volume_config *cfg)
{
        (void)cfg;
        return NOT_YET(pool, vm, volume);
}

int dvm_volume_remove(dvm_pool *pool, const char *vm, const char *volume)
{
        return NOT_YET(pool, vm, volume);
}

int dvm_volume_start(dvm_pool *pool, const char *vm, const char *volume, struct dvm_volume_info *ret_info)
{
        (void)ret_info;
        return NOT_YET(pool, vm, volume);
}

int dvm_volume_stop(dvm_pool *pool, const char *vm, const char *volume)
{
        return NOT_YET(pool, vm, volume);
}

int dvm_volume_get(dvm_pool *pool, const char *vm, const char *volume, struct dvm_volume_info *ret_info)
{
        (void)ret_info;
        return NOT_YET(pool, vm, volume);
}

int dvm_volume_list(dvm_pool *pool, struct dvm_volume_info **ret_volumes)
{
        (void)ret_volumes;
        return NOT_YET(pool, "*", "*");
}

int dvm_volume_revisions(dvm_pool *pool, const char *vm, const char *volume, struct dvm_volume_revision **ret_revisions)
{
        (void)ret_revisions;
        return NOT_YET(pool, vm, volume);
}

int dvm_volume_revert(dvm_pool *pool, const char *vm, const char *volume, int64_t revision)
{
        (void)revision;
        return NOT_YET(pool, vm, volume);
}

int dvm_volume_export(dvm_pool *pool, const char *vm, const char *volume, char ret_path[DVM_VOLUME_PATH_MAX])
{
        (void)ret_path;
        return NOT_YET(pool, vm, volume);
}

int dvm_volume_export_end(dvm_pool *pool, const char *vm, const char *volume, const char *path)
{
        (void)path;
        return NOT_YET(pool, vm, volume);
}

int dvm_volume_import_begin(dvm_pool *pool, const char *vm, const char *volume, uint64_t size,
                            char ret_path[DVM_VOLUME_PATH_MAX])
{
        (void)size;
        (void)ret_path;
        return NOT_YET(pool, vm, volume);
}

int dvm_volume_import_end(dvm_pool *pool, const char *vm, const char *volume, bool commit)
{
        (void)commit;
        return NOT_YET(pool, vm, volume);
}

int dvm_volume_resize(dvm_pool *pool, const char *vm, const char *volume, uint64_t size)
{
        (void)size;
        return NOT_YET(pool, vm, volume);
}
