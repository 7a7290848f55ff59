// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Destroys left to a worker (later.h): the cut-off the caller waits for, and what the
 * worker does first, bringing back the layer devices the wipe goes through.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kernel/dm.h"
#include "store/catalog_domain.h"
#include "store/catalog_intent.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"
#include "util/fault.h"
#include "lifecycle/later.h"
#include "lifecycle/pool_change.h"
#include "lifecycle/recover_actions.h"
#include "lifecycle/volume.h"
#include "store/catalog_preload.h"

#define MAX_VOLUMES 3

bool later_eligible(dvm_pool *pool, const struct cat_vm *vm)
{
        struct cat_volume vols[MAX_VOLUMES];
        int n;

        if (!vm->running || vm_in_ram(pool, vm->name))
                return false;
        n = catalog_volume_list(pool->cat, vm->name, vols, MAX_VOLUMES);
        for (int i = 0; i < n; i++)
                if (vols[i].run_id >= 0)
                        return true;
        return false;
}

static int put_intent(dvm_pool *pool, const char *name, enum cat_intent_op op, const char *why)
{
        struct cat_intent in = { .op = op, .since = (int64_t)time(NULL) };

        snprintf(in.vm, sizeof(in.vm), "%s", name);
        snprintf(in.error, sizeof(in.error), "%s", why);
        return catalog_intent_put(pool->cat, &in);
}

/* The intent, and no row left that would hand the VM to a domain: its domain (a spawn
 * disk of that domain finds the disposable by it) and its disks. */
static int cut_rows(dvm_pool *pool, const char *name)
{
        _cleanup_free_ struct cat_attachment *att = NULL;
        int n = catalog_attachment_list(pool->cat, name, &att), r;

        if (n < 0)
                return n;
        for (int i = 0; i < n; i++)
                if ((r = catalog_attachment_delete(pool->cat, att[i].domid, att[i].devid)) < 0)
                        return r;
        /* a ready disposable is ready no more once it waits for its wipe */
        if ((r = catalog_domain_delete(pool->cat, name)) < 0 || (r = catalog_ready_delete(pool->cat, name)) < 0)
                return r;
        return put_intent(pool, name, CAT_INTENT_WIPE, "");
}

/* Take down the device of @v that a domain can open: the crypt device of a volatile
 * volume (its key goes with it; the layer device under it stays for the wipe), else the
 * layer's own device (the worker brings it back to wipe through it). Where one dm device
 * is all of it, its removal is left to the kernel (dm_remove_deferred()): the caller does
 * not wait for the grace periods of a removal, tens of milliseconds per device. */
static int fence(dvm_pool *pool, const struct cat_volume *v)
{
        char name[VOLUME_DM_NAME_MAX];
        struct layer l = volume_running_layer(v);
        int r;

        if (volume_ephemeral(v)) {
                r = dm_remove_deferred(pool->ctx, volume_dm_name(pool, v->vm, v->name, name, sizeof(name)));
                return r == -ENXIO ? 0 : r;
        }
        if (pool->ops->fence && !volume_in_ram(v))
                return pool->ops->fence(pool, volume_layer_dm_name(pool, v, name, sizeof(name)), &l);
        return volume_deactivate(pool, v, &l);
}

int later_queue(dvm_pool *pool, const struct cat_vm *vm)
{
        struct cat_volume vols[MAX_VOLUMES];
        int n = catalog_volume_list(pool->cat, vm->name, vols, MAX_VOLUMES), r;

        if (n < 0)
                return n;
        r = POOL_TRANSACTION(pool, cut_rows(pool, vm->name));
        if (r < 0)
                return r;
        FAULT_POINT("later.queued");
        for (int i = 0; i < n && r >= 0; i++)
                if (vols[i].run_id >= 0)
                        r = fence(pool, &vols[i]);
        if (r >= 0)
                return 0;
        /* someone opened a device since the busy check: an ordinary deferred destroy, which
         * recovery carries out once it is free (a device still there is still reachable) */
        char why[sizeof(pool->ctx->last_error)];
        snprintf(why, sizeof(why), "%s", dvm_ctx_last_error(pool->ctx));
        if (POOL_TRANSACTION(pool, put_intent(pool, vm->name, CAT_INTENT_DESTROY, why)) < 0)
                ctx_warn(pool->ctx, "pool %s: %s: the intent to wipe it stays: %s", pool->name, vm->name,
                         dvm_ctx_last_error(pool->ctx));
        return ctx_error(pool->ctx, r, "%s; %s stays marked to be destroyed, which "
                         "'dvm-vol recover' (or the next change of pool %s) does once it is free", why, vm->name,
                         pool->name);
}

int later_unfence(dvm_pool *pool, const struct cat_vm *vm)
{
        struct cat_volume vols[MAX_VOLUMES];
        int n = catalog_volume_list(pool->cat, vm->name, vols, MAX_VOLUMES), r;

        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                char layer[VOLUME_DM_NAME_MAX];
                struct layer l = volume_running_layer(&vols[i]);
                if (vols[i].run_id < 0 || volume_in_ram(&vols[i]))
                        continue;
                /* a device fenced a moment ago may still be there, its removal pending */
                r = dm_keep(pool->ctx, volume_layer_dm_name(pool, &vols[i], layer, sizeof(layer)));
                if (r == 0)
                        continue;
                if (r != -ENXIO)
                        return r;
                /* read-write: the wipe writes through it */
                r = pool->ops->activate(pool, layer, &l, false);
                if (r < 0)
                        return ctx_error(pool->ctx, r, "%s/%s: cannot bring back layer %lld to wipe it: %s", vm->name,
                                         vols[i].name, (long long)vols[i].run_id, dvm_ctx_last_error(pool->ctx));
        }
        return 0;
}

static bool pending(const struct cat_intent *list, int n, const char *name)
{
        for (int i = 0; i < n; i++)
                if (list[i].op == CAT_INTENT_WIPE && strcmp(list[i].vm, name) == 0)
                        return true;
        return false;
}

bool later_pending(dvm_pool *pool, const char *name)
{
        _cleanup_free_ struct cat_intent *list = NULL;
        int n = catalog_intent_list(pool->cat, &list);

        return n > 0 && pending(list, n, name);
}

int later_finish_for(dvm_pool *pool, const char *name)
{
        _cleanup_free_ struct cat_intent *list = NULL;
        int n = catalog_intent_list(pool->cat, &list), r;

        for (int i = 0; i < n; i++) {
                struct cat_vm vm;
                if (list[i].op != CAT_INTENT_WIPE || catalog_vm_get(pool->cat, list[i].vm, &vm) < 0 ||
                    (strcmp(vm.name, name) != 0 && strcmp(vm.template, name) != 0))
                        continue;
                if ((r = pool->recover->finish(pool, vm.name, CAT_INTENT_WIPE)) < 0)
                        return r;
        }
        return n < 0 ? n : 0;
}
