// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The layers of a running VM (Qubes semantics): snap_on_start volumes get a fresh
 * snapshot of their source's committed layer, save_on_stop volumes run on a snapshot of
 * their own origin that is committed at stop, volatile volumes are new and empty.
 */
#include <stdio.h>
#include <string.h>

#include "lifecycle.h"
#include "volume.h"

#define MAX_VOLUMES 3

int lifecycle_new_origin(dvm_pool *pool, struct cat_volume *vol)
{
        int r = catalog_thin_id_alloc(pool->cat, &vol->thin_id);

        if (r < 0)
                return r;
        r = volume_thin_create(pool, vol->thin_id);
        if (r < 0)
                return r;
        r = catalog_volume_put(pool->cat, vol);
        if (r < 0)
                volume_thin_delete(pool, vol->thin_id);
        return r;
}

/* The thin id a running layer of @v starts from, and the device that may hold it. */
static int layer_origin(dvm_pool *pool, struct cat_volume *v, int64_t *ret_origin, char *origin_dm,
                        size_t len)
{
        struct cat_volume src;
        int r;

        origin_dm[0] = 0;
        if (!(v->flags & DVM_VOL_SNAP_ON_START)) {
                *ret_origin = v->flags & DVM_VOL_SAVE_ON_STOP ? v->thin_id : -1;
                return 0;
        }
        r = catalog_volume_get(pool->cat, v->source_vm, v->source_vol, &src);
        if (r == -ENOENT || (r >= 0 && src.thin_id < 0))
                return ctx_error(pool->ctx, -ENOENT, "%s/%s: its source %s/%s is gone", v->vm, v->name,
                                 v->source_vm, v->source_vol);
        if (r < 0)
                return r;
        /* Only a source that is not running can have its committed layer active (while it
         * is imported); a running source's device maps its running layer instead. */
        if (src.run_id < 0)
                volume_dm_name(pool, src.vm, src.name, origin_dm, len);
        *ret_origin = src.thin_id;
        v->source_id = src.thin_id;
        return 0;
}

static int layer_create(dvm_pool *pool, struct cat_volume *v)
{
        char origin_dm[VOLUME_DM_NAME_MAX];
        int64_t origin = -1, id;
        int r = layer_origin(pool, v, &origin, origin_dm, sizeof(origin_dm));

        if (r < 0)
                return r;
        if (v->flags & DVM_VOL_SAVE_ON_STOP && origin < 0)
                return ctx_error(pool->ctx, -EUCLEAN, "%s/%s has no committed layer", v->vm, v->name);
        r = catalog_thin_id_alloc(pool->cat, &id);
        if (r < 0)
                return r;
        r = origin < 0 ? volume_thin_create(pool, id)
                       : volume_thin_snap(pool, id, origin, origin_dm[0] ? origin_dm : NULL);
        if (r < 0)
                return r;
        v->run_id = id;
        r = catalog_volume_put(pool->cat, v);
        if (r < 0) {
                volume_thin_delete(pool, id);
                v->run_id = -1;
        }
        return r;
}

/* Undo what lifecycle_start() did for the first @n volumes. */
static void layers_undo(dvm_pool *pool, struct cat_volume *vols, unsigned n, unsigned n_active)
{
        for (unsigned i = 0; i < n_active; i++)
                volume_deactivate(pool, vols[i].vm, vols[i].name);
        for (unsigned i = 0; i < n; i++)
                if (vols[i].run_id >= 0)
                        volume_thin_delete(pool, vols[i].run_id);
}

int lifecycle_start(dvm_pool *pool, struct cat_vm *vm)
{
        struct cat_volume vols[MAX_VOLUMES];
        unsigned built = 0, active = 0;
        int n = catalog_volume_list(pool->cat, vm->name, vols, MAX_VOLUMES), r = 0;

        if (n < 0)
                return n;
        for (; built < (unsigned)n; built++) {
                if (vols[built].run_id >= 0)
                        return ctx_error(pool->ctx, -EUCLEAN, "%s/%s has a running layer already (thin id %lld)",
                                         vm->name, vols[built].name, (long long)vols[built].run_id);
                r = layer_create(pool, &vols[built]);
                if (r < 0)
                        goto fail;
        }
        for (; active < (unsigned)n; active++) {
                struct cat_volume *v = &vols[active];
                r = volume_activate(pool, v->vm, v->name, v->run_id, v->size, !(v->flags & DVM_VOL_RW));
                if (r < 0)
                        goto fail;
        }
        vm->running = true;
        r = catalog_vm_put(pool->cat, vm);
        if (r >= 0)
                return 0;
fail:
        layers_undo(pool, vols, built, active);
        return r;
}

int lifecycle_stop(dvm_pool *pool, struct cat_vm *vm, bool remove, struct lifecycle_doomed *ret_doomed)
{
        struct cat_volume vols[MAX_VOLUMES];
        int n = catalog_volume_list(pool->cat, vm->name, vols, MAX_VOLUMES), r;
        int64_t *doomed = ret_doomed->ids;
        unsigned n_doomed = 0;

        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                r = volume_deactivate(pool, vols[i].vm, vols[i].name);
                if (r < 0) {
                        /* Nothing changes when one device is busy: bring back the others. */
                        for (int j = 0; j < i; j++)
                                if (vols[j].run_id >= 0)
                                        volume_activate(pool, vols[j].vm, vols[j].name, vols[j].run_id,
                                                        vols[j].size, !(vols[j].flags & DVM_VOL_RW));
                        return r;
                }
        }
        for (int i = 0; i < n; i++) {
                struct cat_volume *v = &vols[i];
                if (v->run_id >= 0 && (v->flags & DVM_VOL_SAVE_ON_STOP) && !remove) {
                        if (v->thin_id >= 0)
                                doomed[n_doomed++] = v->thin_id;
                        v->thin_id = v->run_id;
                } else if (v->run_id >= 0) {
                        doomed[n_doomed++] = v->run_id;
                }
                if (remove && v->thin_id >= 0 && v->thin_id != v->run_id)
                        doomed[n_doomed++] = v->thin_id;
                v->run_id = -1;
                r = remove ? 0 : catalog_volume_put(pool->cat, v);
                if (r < 0)
                        return r;
        }
        vm->running = false;
        r = remove ? catalog_vm_delete(pool->cat, vm->name) : catalog_vm_put(pool->cat, vm);
        if (r < 0)
                return r;
        ret_doomed->n = n_doomed;
        return 0;
}

void lifecycle_reap(dvm_pool *pool, const struct lifecycle_doomed *doomed)
{
        for (unsigned i = 0; i < doomed->n; i++) {
                int r = volume_thin_delete(pool, doomed->ids[i]);
                if (r < 0)
                        ctx_warn(pool->ctx, "pool %s: thin id %lld was not deleted: %s", pool->name,
                                 (long long)doomed->ids[i], dvm_ctx_last_error(pool->ctx));
        }
}
