// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The layers of a running VM (Qubes semantics): snap_on_start volumes get a fresh
 * snapshot of their source's committed layer, save_on_stop volumes run on a snapshot of
 * their own origin that is committed at stop, volatile volumes are new and empty. A
 * running layer that is dropped is wiped first; a committed layer goes when no volume uses
 * it any more. An in-RAM VM's running layers live in a RAM pool of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/ram.h"
#include "kernel/dm.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/volume.h"
#include "lifecycle/wipe.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"
#include "util/fault.h"

#define MAX_VOLUMES 3

int lifecycle_new_origin(dvm_pool *pool, struct cat_volume *vol)
{
        struct layer l = { .origin = -1, .size = vol->size };
        int r = catalog_thin_id_alloc(pool->cat, &l.id);

        if (r < 0)
                return r;
        r = pool->ops->layer_new(pool, &l);
        if (r < 0)
                return r;
        vol->thin_id = l.id;
        r = catalog_volume_put(pool->cat, vol);
        if (r < 0)
                pool->ops->layer_delete(pool, l.id);
        return r;
}

/* Point @v's source_id at its source's committed layer; name the device that may hold
 * that layer in @origin_dm ("" when none can). */
static int find_source(dvm_pool *pool, struct cat_volume *v, char *origin_dm, size_t len)
{
        struct cat_volume src;
        int r;

        origin_dm[0] = 0;
        if (!(v->flags & DVM_VOL_SNAP_ON_START)) {
                /* our own origin is active only while it is imported, never while halted */
                return 0;
        }
        r = catalog_volume_get(pool->cat, v->source_vm, v->source_vol, &src);
        if (r == -ENOENT || (r >= 0 && src.thin_id < 0))
                return ctx_error(pool->ctx, -ENOENT, "%s/%s: its source %s/%s is gone", v->vm, v->name,
                                 v->source_vm, v->source_vol);
        if (r >= 0 && pool->ops->source_refresh)
                r = pool->ops->source_refresh(pool, &src);
        if (r < 0)
                return r;
        /* Only a source that is not running can have its committed layer active (while it
         * is imported); a running source's device maps its running layer instead. */
        if (src.run_id < 0)
                volume_dm_name(pool, src.vm, src.name, origin_dm, len);
        v->source_id = src.thin_id;
        return 0;
}

static int layer_build(dvm_pool *pool, struct cat_volume *v)
{
        char origin_dm[VOLUME_DM_NAME_MAX];
        struct layer l;
        int r = find_source(pool, v, origin_dm, sizeof(origin_dm));

        if (r < 0)
                return r;
        if (v->flags & DVM_VOL_SAVE_ON_STOP && v->thin_id < 0)
                return ctx_error(pool->ctx, -EUCLEAN, "%s/%s has no committed layer", v->vm, v->name);
        r = catalog_thin_id_alloc(pool->cat, &v->run_id);
        if (r < 0)
                return r;
        l = volume_running_layer(v);
        r = volume_layer_create(pool, v, &l, origin_dm[0] ? origin_dm : NULL);
        if (r >= 0) {
                r = catalog_volume_put(pool->cat, v);
                if (r < 0)
                        volume_layer_delete(pool, v, l.id);
        }
        if (r < 0)
                v->run_id = -1;
        return r;
}

/* Undo what lifecycle_start() did for the first @n volumes. */
static void layers_undo(dvm_pool *pool, struct cat_volume *vols, unsigned n, unsigned n_active)
{
        for (unsigned i = 0; i < n_active; i++) {
                struct layer l = volume_running_layer(&vols[i]);
                volume_deactivate(pool, &vols[i], &l);
        }
        for (unsigned i = 0; i < n; i++)
                if (vols[i].run_id >= 0)
                        volume_layer_delete(pool, &vols[i], vols[i].run_id);
}

/* Whether @vm's layers live in RAM: all its volumes are, or none. */
static bool in_ram(const struct cat_volume *vols, int n)
{
        return n > 0 && vols[0].flags & DVM_VOL_IN_RAM;
}

int lifecycle_start(dvm_pool *pool, struct cat_vm *vm)
{
        struct cat_volume vols[MAX_VOLUMES];
        unsigned built = 0, active = 0;
        int n = catalog_volume_list(pool->cat, vm->name, vols, MAX_VOLUMES), r = 0;

        if (n < 0)
                return n;
        if (in_ram(vols, n) && (r = ram_pool_start(pool, vm->name)) < 0)
                return r;
        for (; built < (unsigned)n; built++) {
                if (vols[built].run_id >= 0) {
                        r = ctx_error(pool->ctx, -EUCLEAN, "%s/%s has a running layer already (layer %lld)",
                                      vm->name, vols[built].name, (long long)vols[built].run_id);
                        goto fail;
                }
                r = layer_build(pool, &vols[built]);
                if (r < 0)
                        goto fail;
        }
        for (; active < (unsigned)n; active++) {
                struct layer l = volume_running_layer(&vols[active]);
                r = volume_activate(pool, &vols[active], &l);
                if (r < 0)
                        goto fail;
        }
        vm->running = true;
        r = catalog_vm_put(pool->cat, vm);
        if (r >= 0)
                return 0;
fail:
        layers_undo(pool, vols, built, active);
        if (in_ram(vols, n))
                ram_pool_stop(pool, vm->name);
        return r;
}

/* A VM's devices must all be closed before any of them changes: a stop that fails half
 * way would leave a VM with some layers gone. */
/* How many times the device of @v is open; -1 when it is not there. */
static int open_count(dvm_pool *pool, const struct cat_volume *v)
{
        char name[VOLUME_DM_NAME_MAX];
        struct dm_dev_info info;

        if (dm_info(pool->ctx, volume_dm_name(pool, v->vm, v->name, name, sizeof(name)), &info) < 0)
                return -1;
        return info.open_count;
}

static int check_closed(dvm_pool *pool, const struct cat_volume *vols, int n)
{
        for (int i = 0; i < n; i++) {
                char name[VOLUME_DM_NAME_MAX];
                int opens = vols[i].run_id < 0 ? -1 : open_count(pool, &vols[i]);
                if (opens > 0)
                        return ctx_error(pool->ctx, -EBUSY, "%s/%s is in use: %s is open %d time(s)", vols[i].vm,
                                         vols[i].name, volume_dm_name(pool, vols[i].vm, vols[i].name, name,
                                                                      sizeof(name)), opens);
        }
        return 0;
}

static void doom(struct lifecycle_doomed *d, int64_t id)
{
        if (id >= 0 && d->n < ARRAY_SIZE(d->ids))
                d->ids[d->n++] = id;
}

/* Whether the running layer of @v is kept at this stop (committed as its new origin). */
static bool keeps(const struct cat_volume *v, bool remove)
{
        return (v->flags & DVM_VOL_SAVE_ON_STOP) && !remove;
}

/* Wipe every running layer this stop drops, before any of them goes: a wipe that fails
 * leaves the VM as it was (its data zeroed), never half removed. There is no stop without it,
 * except where the change vouches for the zeros (pool->wipe_done): the worker's finish of a
 * queued destroy whose layers it wiped without the pool lock just before (later.h), a
 * qube's stops after their joint wipe (lifecycle_volumes_wipe()). */
static int wipe_dropped(dvm_pool *pool, const struct cat_volume *vols, int n, bool remove)
{
        struct cat_volume dropped[MAX_VOLUMES];
        struct layer ls[MAX_VOLUMES];
        bool done = true;
        size_t k = 0;
        int r;

        for (int i = 0; i < n; i++)
                if (vols[i].run_id >= 0 && !keeps(&vols[i], remove)) {
                        dropped[k] = vols[i];
                        ls[k] = volume_running_layer(&vols[i]);
                        done &= pool->wipe_done && !volume_in_ram(&vols[i]) && pool_wiped_has(pool, ls[k].id);
                        k++;
                }
        if (!k || done)
                return 0;
        r = wipe_volumes(pool, dropped, ls, k);
        if (r < 0 && pool->ops->zero_drop && pool->ops->zero_drop(pool, "a wipe failed") < 0)
                ctx_warn(pool->ctx, "pool %s: %s", pool->name, dvm_ctx_last_error(pool->ctx));
        return r;
}

/* Take down the running layer of @v: keep it as the new origin, or delete it. */
static int stop_volume(dvm_pool *pool, struct cat_volume *v, bool keep, struct lifecycle_doomed *doomed)
{
        struct layer l = volume_running_layer(v);
        int r = volume_deactivate(pool, v, &l);

        if (r < 0)
                return r;
        if (keep) {
                r = pool->ops->layer_commit(pool, &l);
                if (r < 0)
                        return r;
                doom(doomed, v->thin_id);
                /* still used after the commit: what it ran on goes (lifecycle_reap()) */
                doom(doomed, v->run_id);
                v->thin_id = v->run_id;
        } else {
                /* A layer of the main pool goes once the catalog no longer names it: a crash
                 * before leaves it whole for the stop to be redone, one after leaves a
                 * leftover for recovery (its data is wiped already). */
                if (volume_in_ram(v) && (r = volume_layer_delete(pool, v, l.id)) < 0)
                        return r;
                if (!volume_in_ram(v))
                        doom(doomed, l.id);
                if (v->flags & DVM_VOL_SNAP_ON_START)
                        doom(doomed, v->source_id);
        }
        v->run_id = -1;
        return 0;
}

int lifecycle_stop(dvm_pool *pool, struct cat_vm *vm, bool remove, struct lifecycle_doomed *ret_doomed)
{
        struct cat_volume vols[MAX_VOLUMES];
        int n = catalog_volume_list(pool->cat, vm->name, vols, MAX_VOLUMES), r;

        if (n < 0)
                return n;
        r = check_closed(pool, vols, n);
        if (r >= 0)
                r = wipe_dropped(pool, vols, n, remove);
        if (r < 0)
                return r;
        for (int i = 0; i < n; i++) {
                struct cat_volume *v = &vols[i];
                if (v->run_id >= 0) {
                        r = stop_volume(pool, v, keeps(v, remove), ret_doomed);
                        if (r < 0)
                                return r;
                }
                if (remove)
                        doom(ret_doomed, v->thin_id);
                else if ((r = catalog_volume_put(pool->cat, v)) < 0)
                        return r;
        }
        if (in_ram(vols, n) && (r = ram_pool_stop(pool, vm->name)) < 0)
                return r;
        vm->running = false;
        if (!remove)
                return catalog_vm_put(pool->cat, vm);
        if ((r = ram_limit_forget(pool, vm->name)) < 0)
                return r;
        return catalog_vm_delete(pool->cat, vm->name);
}

int lifecycle_volumes_wipe(dvm_pool *pool, const struct cat_volume *vols, unsigned n)
{
        _cleanup_free_ struct cat_volume *dropped = calloc(n ? n : 1, sizeof(*dropped));
        _cleanup_free_ struct layer *ls = calloc(n ? n : 1, sizeof(*ls));
        unsigned k = 0;
        int r;

        if (!dropped || !ls)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++)
                if (vols[i].run_id >= 0 && !keeps(&vols[i], false) && open_count(pool, &vols[i]) == 0) {
                        dropped[k] = vols[i];
                        ls[k++] = volume_running_layer(&vols[i]);
                }
        r = k ? wipe_volumes(pool, dropped, ls, k) : 0;
        return r < 0 ? r : (int)k;
}

void lifecycle_reap(dvm_pool *pool, const struct lifecycle_doomed *doomed)
{
        FAULT_POINT("lifecycle.reap");
        for (unsigned i = 0; i < doomed->n; i++) {
                int users = catalog_layer_users(pool->cat, doomed->ids[i]), r;
                if (users < 0)
                        continue;
                /* a doomed layer still in use is a committed one */
                if (users > 0 && pool->ops->layer_tidy &&
                    pool->ops->layer_tidy(pool, &(struct layer){ .id = doomed->ids[i], .origin = -1 }) < 0)
                        ctx_warn(pool->ctx, "pool %s: layer %lld: %s", pool->name, (long long)doomed->ids[i],
                                 dvm_ctx_last_error(pool->ctx));
                if (users > 0)
                        continue;
                r = pool->ops->layer_delete(pool, doomed->ids[i]);
                if (r < 0)
                        ctx_warn(pool->ctx, "pool %s: layer %lld was not deleted: %s", pool->name,
                                 (long long)doomed->ids[i], dvm_ctx_last_error(pool->ctx));
        }
}

int lifecycle_volume_start(dvm_pool *pool, struct cat_volume *v)
{
        struct layer l;
        int r = layer_build(pool, v);

        if (r < 0)
                return r;
        l = volume_running_layer(v);
        r = volume_activate(pool, v, &l);
        if (r < 0) {
                volume_layer_delete(pool, v, l.id);
                v->run_id = -1;
        }
        return r;
}

int lifecycle_volume_stop(dvm_pool *pool, struct cat_volume *v, bool keep, struct lifecycle_doomed *ret_doomed)
{
        int r = check_closed(pool, v, 1);

        /* keeps(v, !keep): a save_on_stop layer that is not kept (a removal) is wiped too */
        if (r >= 0)
                r = wipe_dropped(pool, v, 1, !keep);
        if (r >= 0)
                r = stop_volume(pool, v, keep && (v->flags & DVM_VOL_SAVE_ON_STOP), ret_doomed);
        return r < 0 ? r : catalog_volume_put(pool->cat, v);
}
