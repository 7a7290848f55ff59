// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Volumes as devices: names and paths, which layer a volume's device shows, and
 * activation through the pool's backend. Devices carry our UUID prefix.
 */
#include <stdio.h>

#include "volume.h"

char *volume_dm_name(const dvm_pool *pool, const char *vm, const char *vol, char *buf, size_t len)
{
        snprintf(buf, len, "%s-%s-%s", pool->dm_name, vm, vol);
        return buf;
}

char *volume_path(const dvm_pool *pool, const char *vm, const char *vol, char *buf, size_t len)
{
        char name[VOLUME_DM_NAME_MAX];
        snprintf(buf, len, "/dev/mapper/%s", volume_dm_name(pool, vm, vol, name, sizeof(name)));
        return buf;
}

struct layer volume_running_layer(const struct cat_volume *v)
{
        int64_t origin = -1;

        if (v->flags & DVM_VOL_SNAP_ON_START)
                origin = v->source_id;
        else if (v->flags & DVM_VOL_SAVE_ON_STOP)
                origin = v->thin_id;
        return (struct layer){ .id = v->run_id, .origin = origin, .size = v->size,
                               .keep = v->flags & DVM_VOL_SAVE_ON_STOP };
}

struct layer volume_committed_layer(const struct cat_volume *v)
{
        return (struct layer){ .id = v->thin_id, .origin = -1, .size = v->size };
}

int volume_activate(dvm_pool *pool, const struct cat_volume *v, const struct layer *l)
{
        char name[VOLUME_DM_NAME_MAX];
        return pool->ops->activate(pool, volume_dm_name(pool, v->vm, v->name, name, sizeof(name)), l,
                                   !(v->flags & DVM_VOL_RW));
}

int volume_deactivate(dvm_pool *pool, const struct cat_volume *v, const struct layer *l)
{
        char name[VOLUME_DM_NAME_MAX];
        return pool->ops->deactivate(pool, volume_dm_name(pool, v->vm, v->name, name, sizeof(name)), l);
}

int volume_usage(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, uint64_t *ret_bytes)
{
        char name[VOLUME_DM_NAME_MAX];
        return pool->ops->usage(pool, volume_dm_name(pool, v->vm, v->name, name, sizeof(name)), l, ret_bytes);
}
