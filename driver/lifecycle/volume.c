// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Volumes as devices: names and paths, which layer a volume's device shows, and
 * activation through the pool's backend (or the VM's RAM pool), with a crypt device under
 * an ephemeral key over the layer of a volatile volume. Devices carry our UUID prefix.
 */
#include <stdio.h>

#include "backend/ram.h"
#include "kernel/dm.h"
#include "kernel/ephemeral.h"
#include "lifecycle/volume.h"
#include "store/catalog_volume.h"

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

bool volume_ephemeral(const struct cat_volume *v)
{
        return !(v->flags & (DVM_VOL_SNAP_ON_START | DVM_VOL_SAVE_ON_STOP));
}

int volume_outdated(dvm_pool *pool, const struct cat_volume *v, bool remote)
{
        struct cat_volume src;

        if (v->run_id < 0 || !v->source_vm[0])
                return 0;
        if (catalog_volume_get(pool->cat, v->source_vm, v->source_vol, &src) < 0 || src.thin_id != v->source_id)
                return 1;
        return remote && pool->ops->source_moved ? pool->ops->source_moved(pool, &src) : 0;
}

char *volume_layer_dm_name(const dvm_pool *pool, const struct cat_volume *v, char *buf, size_t len)
{
        snprintf(buf, len, "%s-%s-%s%s", pool->dm_name, v->vm, v->name, volume_ephemeral(v) ? "-raw" : "");
        return buf;
}

bool volume_in_ram(const struct cat_volume *v)
{
        return v->flags & DVM_VOL_IN_RAM;
}

bool vm_in_ram(dvm_pool *pool, const char *name)
{
        struct cat_volume v[3];
        int n = catalog_volume_list(pool->cat, name, v, 3);

        return n > 0 && v[0].flags & DVM_VOL_IN_RAM;
}

int volume_layer_create(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, const char *origin_dm)
{
        if (volume_in_ram(v))
                return ram_layer_create(pool, v, l);
        return l->origin < 0 ? pool->ops->layer_new(pool, l) : pool->ops->layer_snap(pool, l, origin_dm);
}

int volume_layer_delete(dvm_pool *pool, const struct cat_volume *v, int64_t id)
{
        return volume_in_ram(v) ? ram_layer_delete(pool, v, id) : pool->ops->layer_delete(pool, id);
}

static int layer_deactivate(dvm_pool *pool, const struct cat_volume *v, const char *layer, const struct layer *l)
{
        return volume_in_ram(v) ? ram_deactivate(pool, v, layer, l) : pool->ops->deactivate(pool, layer, l);
}

int volume_activate(dvm_pool *pool, const struct cat_volume *v, const struct layer *l)
{
        char name[VOLUME_DM_NAME_MAX], layer[VOLUME_DM_NAME_MAX], uuid[VOLUME_DM_NAME_MAX + 8];
        struct dm_dev_info info;
        int r;

        volume_dm_name(pool, v->vm, v->name, name, sizeof(name));
        volume_layer_dm_name(pool, v, layer, sizeof(layer));
        r = volume_in_ram(v) ? ram_activate(pool, v, layer, l) : pool->ops->activate(pool, layer, l, !(v->flags & DVM_VOL_RW));
        if (r < 0 || !volume_ephemeral(v))
                return r;
        r = dm_info(pool->ctx, layer, &info);
        if (r >= 0) {
                snprintf(uuid, sizeof(uuid), "%s-crypt", name);
                r = ephemeral_create(pool->ctx, name, uuid, l->size >> SECTOR_SHIFT, info.major, info.minor);
        }
        if (r < 0)
                layer_deactivate(pool, v, layer, l);
        return r;
}

int volume_grow(dvm_pool *pool, const struct cat_volume *v, const struct layer *l)
{
        char layer[VOLUME_DM_NAME_MAX];

        /* a crypt table holds its key: a new one would need the key back from the kernel */
        if (volume_ephemeral(v) || volume_in_ram(v) || !pool->ops->grow)
                return -EOPNOTSUPP;
        return pool->ops->grow(pool, volume_layer_dm_name(pool, v, layer, sizeof(layer)), l);
}

int volume_deactivate(dvm_pool *pool, const struct cat_volume *v, const struct layer *l)
{
        char name[VOLUME_DM_NAME_MAX], layer[VOLUME_DM_NAME_MAX];
        int r;

        /* the key goes with the crypt device, before anything below it changes */
        if (volume_ephemeral(v)) {
                r = dm_remove(pool->ctx, volume_dm_name(pool, v->vm, v->name, name, sizeof(name)));
                if (r < 0 && r != -ENXIO)
                        return r;
        }
        return layer_deactivate(pool, v, volume_layer_dm_name(pool, v, layer, sizeof(layer)), l);
}

int volume_usage(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, uint64_t *ret_bytes)
{
        char layer[VOLUME_DM_NAME_MAX];

        volume_layer_dm_name(pool, v, layer, sizeof(layer));
        return volume_in_ram(v) ? ram_usage(pool, layer, ret_bytes) : pool->ops->usage(pool, layer, l, ret_bytes);
}

int volume_owned(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, struct extent_list *ret)
{
        char layer[VOLUME_DM_NAME_MAX];

        if (volume_in_ram(v))
                return ram_owned(pool, v, l, ret);
        if (!pool->ops->owned)
                return -EOPNOTSUPP;
        return pool->ops->owned(pool, volume_layer_dm_name(pool, v, layer, sizeof(layer)), l, ret);
}

int volume_owned_hold(dvm_pool *pool, bool hold)
{
        return pool->ops->owned_hold ? pool->ops->owned_hold(pool, hold) : 0;
}

int volume_wipe_target(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, char *ret_path, size_t len,
                       struct extent_list *ret)
{
        char layer[VOLUME_DM_NAME_MAX];

        if (volume_in_ram(v) || !pool->ops->wipe_target)
                return 0;
        return pool->ops->wipe_target(pool, volume_layer_dm_name(pool, v, layer, sizeof(layer)), l, ret_path, len, ret);
}
