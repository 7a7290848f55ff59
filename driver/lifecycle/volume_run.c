// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Starting and stopping one volume of a qube (dvm_volume_start/stop), as Qubes' lvm_thin
 * does: a dirty save_on_stop volume picks up the running layer a stop never committed; a
 * snap_on_start or volatile one left running by a crash is wiped and started afresh.
 */
#include <stdio.h>

#include "kernel/dm.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/space.h"
#include "lifecycle/vm.h"
#include "lifecycle/volume.h"
#include "lifecycle/volume_api.h"
#include "store/catalog_layer.h"
#include "store/catalog_volume.h"

struct run {
        const char *vm, *volume;
        struct cat_volume v;        /* the row as the call left it */
        bool *space_checked;        /* shared by a qube's volumes started together, or NULL */
};

static int start(dvm_pool *pool, void *data, struct lifecycle_doomed *doomed)
{
        struct run *rn = data;
        struct cat_volume *v = &rn->v;
        int64_t import_id;
        uint64_t import_size;
        int r = volume_api_lookup(pool, rn->vm, rn->volume, v);

        if (r < 0)
                return r;
        if (catalog_import_get(pool->cat, v->vm, v->name, &import_id, &import_size) == 0)
                return ctx_error(pool->ctx, -EBUSY, "%s/%s: an import is under way: end it before starting",
                                 v->vm, v->name);
        if (v->run_id >= 0 && (v->flags & DVM_VOL_SAVE_ON_STOP)) {
                /* dirty: started already, or its stop never came; its changes are kept */
                if (!volume_api_active(pool, v))
                        ctx_info(pool->ctx, "%s/%s: picking up running layer %lld, which was never committed",
                                 v->vm, v->name, (long long)v->run_id);
                return volume_api_ensure_active(pool, v);
        }
        /* a qube's volumes started together pass the space guard once, as a spawn's do: a
         * start takes no data, so the answer is the same for each */
        if (!rn->space_checked || !*rn->space_checked) {
                if ((r = space_guard_check(pool, "start", 0)) < 0)
                        return ctx_error(pool->ctx, r, "%s/%s: %s", v->vm, v->name, dvm_ctx_last_error(pool->ctx));
                if (rn->space_checked)
                        *rn->space_checked = true;
        }
        if (v->run_id >= 0) {
                /* a snapshot or volatile layer from a start without its stop: it goes, wiped */
                ctx_info(pool->ctx, "%s/%s: dropping running layer %lld left from an earlier start", v->vm, v->name,
                         (long long)v->run_id);
                if ((r = volume_api_ensure_active(pool, v)) < 0 ||
                    (r = lifecycle_volume_stop(pool, v, false, doomed)) < 0)
                        return r;
        }
        return lifecycle_volume_start(pool, v);
}

int dvm_volume_start(dvm_pool *pool, const char *vm, const char *volume, struct dvm_volume_info *ret_info)
{
        struct run rn = { vm, volume, {}, NULL };
        int r = volume_api_check(pool, vm, volume);

        if (r >= 0)
                r = volume_api_change(pool, start, &rn);
        if (r >= 0 && ret_info)
                r = dvm_volume_get(pool, vm, volume, ret_info);
        return r;
}

static int stop(dvm_pool *pool, void *data, struct lifecycle_doomed *doomed)
{
        struct run *rn = data;
        struct cat_volume *v = &rn->v;
        int64_t old;
        uint64_t old_size;
        int r = volume_api_lookup(pool, rn->vm, rn->volume, v);

        if (r < 0 || v->run_id < 0)
                return r;
        old = v->thin_id;
        old_size = v->size;
        /* a device a reboot took comes back for the wipe or the commit */
        if ((r = volume_api_ensure_active(pool, v)) < 0 ||
            (r = lifecycle_volume_stop(pool, v, true, doomed)) < 0)
                return r;
        if (!(v->flags & DVM_VOL_SAVE_ON_STOP) || old < 0)
                return 0;
        return revisions_commit(pool, v, old, old_size, doomed);
}

int dvm_volume_stop(dvm_pool *pool, const char *vm, const char *volume)
{
        struct run rn = { vm, volume, {}, NULL };
        int r = volume_api_check(pool, vm, volume);

        return r < 0 ? r : volume_api_change(pool, stop, &rn);
}

/* First in a change that stops several volumes: the running layers the stops drop, wiped
 * together as a destroy wipes a disposable's (one view of the pool's metadata, one flush),
 * not one by one. One left out (in use, not running) is wiped or refused by its own stop,
 * as is each after a failure here. */
static void wipe_together(dvm_pool *pool, void *const *data, unsigned n)
{
        struct cat_volume vols[DVM_VOLUMES_MAX];
        unsigned k = 0;

        for (unsigned i = 0; i < n && i < DVM_VOLUMES_MAX; i++) {
                const struct run *rn = data[i];
                if (catalog_volume_get(pool->cat, rn->vm, rn->volume, &vols[k]) >= 0)
                        k++;
        }
        /* the stops of this change trust the zeros it remembers (pool_change_end() forgets) */
        pool->wipe_done = k >= 2 && lifecycle_volumes_wipe(pool, vols, k) > 0;
}

/* @fn on volumes @volumes[0..@n) of @vm in one change of the pool (volume_api_change_each()) */
static int run_each(dvm_pool *pool, volume_prepare_fn *prepare, volume_change_fn *fn, const char *vm, const char *const *volumes, unsigned n,
                    int *ret_results)
{
        _cleanup_free_ struct run *runs = NULL;
        _cleanup_free_ void **data = NULL;
        bool space_checked = false;
        int r = 0;

        if (n == 0 || n > DVM_VOLUMES_MAX)
                return ctx_error(pool->ctx, -EINVAL, "%s: %u volumes at once (1 to %d)", vm ? vm : "", n,
                                 DVM_VOLUMES_MAX);
        for (unsigned i = 0; i < n; i++)
                ret_results[i] = -ECANCELED;
        for (unsigned i = 0; i < n && r >= 0; i++)
                r = ret_results[i] = volume_api_check(pool, vm, volumes[i]);
        if (r < 0)
                return r;
        runs = calloc(n, sizeof(*runs));
        data = calloc(n, sizeof(*data));
        if (!runs || !data)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                runs[i] = (struct run){ vm, volumes[i], {}, &space_checked };
                data[i] = &runs[i];
        }
        return volume_api_change_each(pool, prepare, fn, data, n, ret_results);
}

int dvm_volumes_start(dvm_pool *pool, const char *vm, const char *const *volumes, unsigned n, int *ret_results)
{
        return run_each(pool, NULL, start, vm, volumes, n, ret_results);
}

int dvm_volumes_stop(dvm_pool *pool, const char *vm, const char *const *volumes, unsigned n, int *ret_results)
{
        return run_each(pool, wipe_together, stop, vm, volumes, n, ret_results);
}

int volume_api_recover(dvm_pool *pool, const char *vm, struct lifecycle_doomed *doomed)
{
        struct cat_volume vols[3];
        int n = catalog_volume_list(pool->cat, vm, vols, ARRAY_SIZE(vols)), dropped = 0, r;

        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                struct cat_volume *v = &vols[i];
                /* a device that is there may still be some domain's disk; one that is gone
                 * went with the host: nothing can use its layer any more */
                if (v->run_id < 0 || (v->flags & DVM_VOL_SAVE_ON_STOP) || volume_api_active(pool, v) ||
                    doomed->n + 2 > ARRAY_SIZE(doomed->ids))
                        continue;
                ctx_info(pool->ctx, "pool %s: %s/%s: its device went (the host went down?): wiping and dropping "
                         "running layer %lld", pool->name, v->vm, v->name, (long long)v->run_id);
                if ((r = volume_api_ensure_active(pool, v)) < 0 || (r = lifecycle_volume_stop(pool, v, false, doomed)) < 0)
                        return r;
                dropped++;
        }
        return dropped;
}
