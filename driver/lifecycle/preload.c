// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Preloaded disposables (preload.h): which ready disposables a spawn may take, the take
 * itself (one catalog transaction, no kernel change), and their wipe when no longer kept.
 */
#include <stdio.h>
#include <string.h>

#include "lifecycle/later.h"
#include "lifecycle/pool_change.h"
#include "lifecycle/preload.h"
#include "lifecycle/recover.h"
#include "lifecycle/volume.h"
#include "store/catalog_domain.h"
#include "store/catalog_preload.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"
#include "util/fault.h"

#define MAX_VOLUMES 3

int preload_outdated(dvm_pool *pool, const char *name, bool remote)
{
        struct cat_volume vols[MAX_VOLUMES];
        int n = catalog_volume_list(pool->cat, name, vols, MAX_VOLUMES), r = 0;

        for (int i = 0; i < n && r <= 0; i++) {
                int o = volume_outdated(pool, &vols[i], remote);
                r = o != 0 ? o : r;
        }
        return n < 0 ? n : r;
}

/* Whether ready row @name still names a running unnamed disposable of @dvm that no domain
 * holds and no wipe waits for: anything else is a row to drop. */
bool preload_still_ready(dvm_pool *pool, const char *name, const char *dvm)
{
        struct cat_vm vm;
        struct cat_domain dom;

        return catalog_vm_get(pool->cat, name, &vm) == 0 && vm.kind == DVM_VM_DISPOSABLE && vm.running && !vm.named &&
               strcmp(vm.template, dvm) == 0 && catalog_domain_get(pool->cat, name, &dom) == -ENOENT &&
               !later_pending(pool, name);
}

int preload_take(dvm_pool *pool, const char *dvm, char ret_name[DVM_NAME_MAX + 1])
{
        _cleanup_free_ char(*ready)[DVM_NAME_MAX + 1] = NULL;
        int n = catalog_ready_list(pool->cat, dvm, &ready), r;

        for (int i = 0; i < n; i++) {
                bool ok = preload_still_ready(pool, ready[i], dvm);
                /* an outdated one stays for the worker, which wipes it and builds anew; on
                 * rbd, one whose template another host committed since, or that the
                 * cluster could not vouch for, too: the build takes the new commit */
                if (ok && preload_outdated(pool, ready[i], true) != 0)
                        continue;
                if ((r = catalog_ready_delete(pool->cat, ready[i])) < 0)
                        return r;
                if (!ok)
                        continue;
                snprintf(ret_name, DVM_NAME_MAX + 1, "%s", ready[i]);
                return 1;
        }
        return n < 0 ? n : 0;
}

int preload_take_now(dvm_pool *pool, const char *dvm, char ret_name[DVM_NAME_MAX + 1], struct dvm_vm_info *ret_info)
{
        int r = pool_lock(pool);

        if (r < 0)
                return r;
        r = pool_catalog_begin(pool);
        if (r >= 0) {
                r = preload_take(pool, dvm, ret_name);
                /* described in the same transaction: what the caller gets is what it took */
                if (r > 0 && ret_info) {
                        int d = dvm_vm_get(pool, ret_name, ret_info);
                        if (d < 0)
                                r = d;
                }
                if (r > 0) {
                        FAULT_POINT("preload.taken");
                        int c = catalog_commit(pool->cat);
                        if (c < 0)
                                r = c;
                }
                if (r <= 0)
                        catalog_rollback(pool->cat);
        }
        pool_unlock(pool);
        return r;
}

bool preload_wanted(dvm_pool *pool)
{
        _cleanup_free_ struct cat_preload *list = NULL;
        int n = catalog_preload_list(pool->cat, &list);

        for (int i = 0; i < n; i++)
                if (list[i].count > 0)
                        return true;
        return false;
}

/* Cut ready disposable @name off and queue its wipe (its ready row goes with the cut). */
int preload_queue_wipe(dvm_pool *pool, const char *name)
{
        struct cat_vm vm;
        int r = catalog_vm_get(pool->cat, name, &vm);

        if (r == -ENOENT)
                return POOL_TRANSACTION(pool, catalog_ready_delete(pool->cat, name));
        if (r < 0)
                return r;
        if (!later_eligible(pool, &vm))
                return POOL_TRANSACTION(pool, catalog_ready_delete(pool->cat, name));
        return later_queue(pool, &vm);
}

int preload_drop(dvm_pool *pool, const char *dvm)
{
        _cleanup_free_ char(*ready)[DVM_NAME_MAX + 1] = NULL;
        struct cat_preload p;
        int n = catalog_ready_list(pool->cat, dvm, &ready), r = catalog_preload_get(pool->cat, dvm, &p);

        if (n < 0 || (r < 0 && r != -ENOENT))
                return n < 0 ? n : r;
        /* the destroy of every other VM passes here: no write for what has no setting */
        if (r == -ENOENT && n == 0)
                return 0;
        if ((r = POOL_TRANSACTION(pool, catalog_preload_delete(pool->cat, dvm))) < 0)
                return r;
        for (int i = 0; i < n; i++)
                if ((r = preload_queue_wipe(pool, ready[i])) < 0)
                        return r;
        return 0;
}
