// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which layers make up a volume, from its catalog row: the running layer of a running
 * volume and the committed layer it snapshots (its source's, or its own origin), or the
 * committed layer of a halted one. Public as dvm_volume_layers().
 */
#include <stdio.h>
#include <string.h>

#include "lifecycle/layer_chain.h"
#include "store/catalog_volume.h"

static struct dvm_layer_info entry(int64_t id, int64_t origin, uint64_t size, const char *vm, const char *vol,
                                   bool running)
{
        struct dvm_layer_info e = { .id = id, .origin = origin, .size = size, .running = running };
        snprintf(e.owner, sizeof(e.owner), "%s/%s", vm, vol);
        return e;
}

unsigned layer_chain(const struct cat_volume *v, struct dvm_layer_info ret[LAYER_CHAIN_MAX])
{
        unsigned n = 0;

        if (v->run_id < 0) {
                if (v->thin_id >= 0)
                        ret[n++] = entry(v->thin_id, -1, v->size, v->vm, v->name, false);
                return n;
        }
        if (v->flags & DVM_VOL_SNAP_ON_START && v->source_id >= 0) {
                ret[n++] = entry(v->source_id, -1, v->size, v->source_vm, v->source_vol, false);
                ret[n++] = entry(v->run_id, v->source_id, v->size, v->vm, v->name, true);
        } else if (v->flags & DVM_VOL_SAVE_ON_STOP && v->thin_id >= 0) {
                ret[n++] = entry(v->thin_id, -1, v->size, v->vm, v->name, false);
                ret[n++] = entry(v->run_id, v->thin_id, v->size, v->vm, v->name, true);
        } else {
                ret[n++] = entry(v->run_id, -1, v->size, v->vm, v->name, true);
        }
        return n;
}

struct layer layer_of(const struct dvm_layer_info *info)
{
        return (struct layer){ .id = info->id, .origin = info->origin, .size = info->size };
}

int dvm_volume_layers(dvm_pool *pool, const char *vm, const char *volume, struct dvm_layer_info **ret_layers)
{
        struct dvm_layer_info chain[LAYER_CHAIN_MAX];
        struct cat_volume v;
        struct dvm_layer_info *out;
        unsigned n;
        int r = catalog_volume_get(pool->cat, vm, volume, &v);

        if (r == -ENOENT)
                return ctx_error(pool->ctx, -ENOENT, "volume %s/%s does not exist in pool %s", vm, volume, pool->name);
        if (r < 0)
                return r;
        n = layer_chain(&v, chain);
        out = calloc(n + 1, sizeof(*out));
        if (!out)
                return -ENOMEM;
        memcpy(out, chain, n * sizeof(*out));
        *ret_layers = out;
        return (int)n;
}
