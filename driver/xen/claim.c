// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Volumes claimed by Xen domains (block-dvm's bookkeeping): which domain a VM was made for,
 * which disks hold which volume, and the stop or destroy once a domain's last disk goes;
 * in recovery, the release of disks whose domain died without the toolstack's remove.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lifecycle/later.h"
#include "lifecycle/pool_change.h"
#include "lifecycle/preload.h"
#include "store/catalog_preload.h"
#include "lifecycle/vm.h"
#include "store/catalog_domain.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"
#include "xen/claim.h"

static void fill_result(dvm_pool *pool, const struct cat_volume *v, bool made, struct claim_result *ret)
{
        *ret = (struct claim_result){ .made = made };
        snprintf(ret->vm, sizeof(ret->vm), "%s", v->vm);
        snprintf(ret->volume, sizeof(ret->volume), "%s", v->name);
        volume_dm_name(pool, v->vm, v->name, ret->dm_name, sizeof(ret->dm_name));
        volume_path(pool, v->vm, v->name, ret->path, sizeof(ret->path));
        ret->layer_id = v->run_id;
}

static int volume_of(dvm_pool *pool, const char *vm, const char *vol, struct cat_volume *ret)
{
        int r = catalog_volume_get(pool->cat, vm, vol, ret);
        if (r == -ENOENT)
                return ctx_error(pool->ctx, -ENOENT, "VM %s of pool %s has no volume %s", vm, pool->name, vol);
        return r;
}

int claim_check_sharing(dvm_pool *pool, const struct cat_volume *v, const struct claim_disk *d)
{
        _cleanup_free_ struct cat_attachment *att = NULL;
        int n = catalog_attachment_list(pool->cat, v->vm, &att);

        for (int i = 0; i < n; i++) {
                const struct cat_attachment *a = &att[i];
                if (strcmp(a->volume, v->name) != 0 || (a->domid == d->domid && a->devid == d->devid))
                        continue;
                if (a->rw || d->rw)
                        return ctx_error(pool->ctx, -EBUSY,
                                         "%s/%s/%s is attached %s to domain %u as %s: it cannot also go %s to "
                                         "domain %u as %s",
                                         pool->name, v->vm, v->name, a->rw ? "writable" : "read-only", a->domid, a->vdev,
                                         d->rw ? "writable" : "read-only", d->domid, d->vdev);
        }
        return n < 0 ? n : 0;
}

/* Start halted VM @vm for the domain of @d. Attachment rows of a halted VM are left from a
 * crash (a halted VM has no devices to attach): they go. */
static int start_for(dvm_pool *pool, const char *vm, const struct claim_disk *d)
{
        _cleanup_free_ struct cat_attachment *att = NULL;
        struct cat_domain dom = { .domid = d->domid };
        int n = catalog_attachment_list(pool->cat, vm, &att), r;

        for (int i = 0; i < n; i++)
                if ((r = catalog_attachment_delete(pool->cat, att[i].domid, att[i].devid)) < 0)
                        return r;
        if (n < 0)
                return n;
        snprintf(dom.vm, sizeof(dom.vm), "%s", vm);
        snprintf(dom.uuid, sizeof(dom.uuid), "%s", d->dom_uuid);
        if ((r = vm_start(pool, vm)) < 0)
                return r;
        return catalog_domain_put(pool->cat, &dom);
}

/* What add_locked() returns, in a change of the catalog alone, for a claim that would
 * change the kernel (spawn a disposable, start a VM): it is made again as a full change. */
#define NEEDS_KERNEL 1

/* The disposable of DVM Template @dvm for the domain of @d: found, taken ready, or spawned
 * (NEEDS_KERNEL when @catalog_only). */
static int disposable_for(dvm_pool *pool, const char *dvm, const struct claim_disk *d, bool catalog_only,
                          char ret_vm[DVM_NAME_MAX + 1], bool *ret_made)
{
        struct cat_domain dom = { .domid = d->domid };
        int r = catalog_domain_disposable(pool->cat, dvm, d->domid, d->dom_uuid, ret_vm);

        if (r != -ENOENT)
                return r;
        if (catalog_only) {
                r = preload_take(pool, dvm, ret_vm);
                if (r == 0)
                        return NEEDS_KERNEL;
                pool->preload_taken = r > 0;
        } else {
                r = vm_spawn(pool, dvm, NULL, ret_vm);
        }
        if (r < 0)
                return r;
        snprintf(dom.vm, sizeof(dom.vm), "%s", ret_vm);
        snprintf(dom.uuid, sizeof(dom.uuid), "%s", d->dom_uuid);
        *ret_made = true;
        return catalog_domain_put(pool->cat, &dom);
}

/* Disk @d holds a volume already: the same one makes this call a repeat. */
static int claimed_before(dvm_pool *pool, const struct xen_target *t, const struct claim_disk *d,
                          const struct cat_attachment *a, struct claim_result *ret)
{
        struct cat_vm vm;
        struct cat_volume v;
        bool same = strcmp(a->volume, t->volume) == 0 && catalog_vm_get(pool->cat, a->vm, &vm) == 0 &&
                    (t->kind == XEN_TARGET_SPAWN ? strcmp(vm.template, t->vm) == 0 : strcmp(a->vm, t->vm) == 0);
        int r;

        if (!same)
                return ctx_error(pool->ctx, -EEXIST, "disk %s (device %u) of domain %u holds %s/%s already", a->vdev,
                                 d->devid, d->domid, a->vm, a->volume);
        if ((r = volume_of(pool, a->vm, a->volume, &v)) < 0)
                return r;
        fill_result(pool, &v, false, ret);
        return 0;
}

static int add_locked(dvm_pool *pool, const struct xen_target *t, const struct claim_disk *d, bool catalog_only,
                      struct claim_result *ret)
{
        struct cat_attachment a = { .domid = d->domid, .devid = d->devid, .rw = d->rw };
        char vm_name[DVM_NAME_MAX + 1];
        struct cat_volume v;
        struct cat_vm vm;
        bool made = false;
        int r = catalog_attachment_get(pool->cat, d->domid, d->devid, &a);

        if (r == 0)
                return claimed_before(pool, t, d, &a, ret);
        if (r != -ENOENT)
                return r;
        if (t->kind == XEN_TARGET_SPAWN) {
                r = disposable_for(pool, t->vm, d, catalog_only, vm_name, &made);
                if (r == NEEDS_KERNEL)
                        return r;
        } else {
                snprintf(vm_name, sizeof(vm_name), "%s", t->vm);
                r = catalog_vm_get(pool->cat, t->vm, &vm);
                if (r == -ENOENT)
                        return ctx_error(pool->ctx, -ENOENT, "VM %s does not exist in pool %s", t->vm, pool->name);
                if (r >= 0 && later_pending(pool, t->vm))
                        return ctx_error(pool->ctx, -ENOENT, "VM %s of pool %s is being destroyed (its wipe is queued)",
                                         t->vm, pool->name);
                /* a ready one goes to the spawn that takes it, and to no one else */
                if (r >= 0 && catalog_ready_is(pool->cat, t->vm) > 0)
                        return ctx_error(pool->ctx, -EBUSY, "VM %s of pool %s is a preloaded disposable of %s: it is "
                                         "handed out by a spawn (dvm-spawn:%s/%s/...), not by its name", t->vm,
                                         pool->name, vm.template, pool->name, vm.template);
                /* checked before the VM starts, so that a refusal leaves it as it was */
                if (r >= 0)
                        r = volume_of(pool, t->vm, t->volume, &v);
                if (r >= 0 && d->rw && !(v.flags & DVM_VOL_RW))
                        return ctx_error(pool->ctx, -EROFS, "%s/%s/%s is read-only: hand it over with access=ro",
                                         pool->name, t->vm, t->volume);
                if (r >= 0 && !vm.running) {
                        if (catalog_only)
                                return NEEDS_KERNEL;
                        r = start_for(pool, t->vm, d);
                        made = true;
                }
        }
        if (r < 0 || (r = volume_of(pool, vm_name, t->volume, &v)) < 0 || (r = claim_check_sharing(pool, &v, d)) < 0)
                return r;
        if (v.run_id < 0)
                return ctx_error(pool->ctx, -EUCLEAN, "%s/%s is marked running but has no running layer", vm_name,
                                 t->volume);
        snprintf(a.vdev, sizeof(a.vdev), "%s", d->vdev);
        snprintf(a.vm, sizeof(a.vm), "%s", vm_name);
        snprintf(a.volume, sizeof(a.volume), "%s", t->volume);
        if ((r = catalog_attachment_put(pool->cat, &a)) < 0)
                return r;
        fill_result(pool, &v, made, ret);
        return 0;
}

int claim_add(dvm_pool *pool, const struct xen_target *t, const struct claim_disk *d, struct claim_result *ret)
{
        struct claim_result res;
        bool was = pool->defer_intents;
        int r;

        /* libxl kills the hook after 40 s: no other VM's deferred wipe runs in it */
        pool->defer_intents = true;
        pool->preload_taken = false;
        /* A disk that a ready disposable, the domain's disposable or a running VM serves is a
         * change of the catalog alone: no dirty mark, no thin-pool metadata commit for it. */
        r = pool_lock(pool);
        if (r >= 0) {
                r = pool_catalog_begin(pool);
                if (r >= 0) {
                        r = add_locked(pool, t, d, true, &res);
                        if (r == 0)
                                r = catalog_commit(pool->cat);
                        if (r != 0)
                                catalog_rollback(pool->cat);
                }
                pool_unlock(pool);
        }
        if (r == NEEDS_KERNEL) {
                pool->preload_taken = false;
                r = POOL_TRANSACTION(pool, add_locked(pool, t, d, false, &res));
        }
        ctx_debug(pool->ctx, "pool %s: claim of disk %u of domain %u committed%s", pool->name, d->devid, d->domid,
                  pool->preload_taken ? " (a ready disposable taken)" : "");
        pool->defer_intents = was;
        /* the refill of the ready disposable this disk took runs after the hook */
        if (pool->preload_taken && r >= 0)
                later_kick(pool);
        pool->preload_taken = false;

        if (r >= 0)
                *ret = res;
        return r;
}

enum release_action { RELEASE_NOTHING, RELEASE_STOP, RELEASE_DESTROY };

/* Drop the disk's row; say what becomes of its VM. The domain row stays until the VM has
 * stopped, so that a stop that fails still names the domain it was made for. */
static int remove_locked(dvm_pool *pool, uint32_t domid, uint32_t devid, char vm_name[DVM_NAME_MAX + 1],
                         enum release_action *ret_action)
{
        _cleanup_free_ struct cat_attachment *left = NULL;
        struct cat_attachment a;
        struct cat_domain dom;
        struct cat_vm vm;
        int r = catalog_attachment_get(pool->cat, domid, devid, &a), n;

        *ret_action = RELEASE_NOTHING;
        if (r == -ENOENT)
                return 0;
        if (r < 0 || (r = catalog_attachment_delete(pool->cat, domid, devid)) < 0)
                return r;
        snprintf(vm_name, DVM_NAME_MAX + 1, "%s", a.vm);
        n = catalog_attachment_list(pool->cat, a.vm, &left);
        if (n != 0)
                return n < 0 ? n : 0;
        r = catalog_domain_get(pool->cat, a.vm, &dom);
        if (r == -ENOENT || (r == 0 && dom.domid != domid))
                return 0;
        if (r < 0 || (r = catalog_vm_get(pool->cat, a.vm, &vm)) < 0)
                return r;
        *ret_action = vm.kind == DVM_VM_DISPOSABLE && !vm.named ? RELEASE_DESTROY : RELEASE_STOP;
        return 0;
}

int claim_remove(dvm_pool *pool, uint32_t domid, uint32_t devid, char *ret_vm)
{
        enum release_action action = RELEASE_NOTHING;
        char vm[DVM_NAME_MAX + 1] = "";
        bool was = pool->defer_intents;
        int r;

        /* its own VM's stop or destroy runs here; other VMs' deferred ones wait for recover */
        pool->defer_intents = true;
        r = POOL_TRANSACTION(pool, remove_locked(pool, domid, devid, vm, &action));
        if (r >= 0 && action == RELEASE_DESTROY) {
                /* the destroy path of the library, wipe included: never a shortcut here */
                r = dvm_vm_destroy(pool, vm);
        } else if (r >= 0 && action == RELEASE_STOP) {
                r = dvm_vm_stop(pool, vm);
                if (r >= 0)
                        r = POOL_TRANSACTION(pool, catalog_domain_delete(pool->cat, vm));
        }
        pool->defer_intents = was;
        if (r < 0)
                return r;
        if (r >= 0 && ret_vm)
                snprintf(ret_vm, DVM_NAME_MAX + 1, "%s", vm);
        return r;
}

/* Whether the Xen backend of disk @devid of domain @domid still exists. */
static bool vbd_exists(uint32_t domid, uint32_t devid)
{
        char path[96];
        snprintf(path, sizeof(path), "/sys/bus/xen-backend/devices/vbd-%u-%u", domid, devid);
        return access(path, F_OK) == 0;
}

int claim_reap_dead(dvm_pool *pool, struct dvm_recover_report *rep)
{
        _cleanup_free_ struct cat_attachment *atts = NULL;
        int n = catalog_attachment_list(pool->cat, NULL, &atts), r;

        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                char vm[DVM_NAME_MAX + 1] = "";
                if (vbd_exists(atts[i].domid, atts[i].devid))
                        continue;
                ctx_info(pool->ctx, "pool %s: domain %u let go of disk %u (%s/%s) without the toolstack", pool->name,
                         atts[i].domid, atts[i].devid, atts[i].vm, atts[i].volume);
                r = claim_remove(pool, atts[i].domid, atts[i].devid, vm);
                if (r < 0)
                        rep->pending++;
                else if (vm[0])
                        rep->vms_reaped++;
        }
        return 0;
}
