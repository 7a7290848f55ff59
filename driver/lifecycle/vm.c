// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM verbs of the public API: TemplateVMs, DVM Templates, disposables; start, stop,
 * destroy; describe and list. Each verb runs under the pool lock in one catalog
 * transaction; kernel changes are undone when the verb fails.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend/ram.h"
#include "lifecycle/busy.h"
#include "lifecycle/later.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/pool_change.h"
#include "lifecycle/preload.h"
#include "lifecycle/space.h"
#include "lifecycle/vm.h"
#include "lifecycle/volume.h"
#include "store/catalog_domain.h"
#include "store/catalog_intent.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"

static const char *const kind_text[] = {
        [DVM_VM_TEMPLATE] = "TemplateVM",
        [DVM_VM_DVM_TEMPLATE] = "DVM Template",
        [DVM_VM_DISPOSABLE] = "disposable",
        [DVM_VM_QUBE] = "qube",
};

static int check_name(dvm_pool *pool, const char *name, const char *what)
{
        const char *why;
        char shown[4 * DVM_NAME_MAX + 8];
        if (dvm_name_check(name, &why) < 0)
                return ctx_error(pool->ctx, -EINVAL, "invalid %s name \"%s\": %s", what,
                                 ctx_printable(name, shown, sizeof(shown)), why);
        return 0;
}

static int check_size(dvm_pool *pool, const char *name, const char *vol, uint64_t size)
{
        if (size == 0 || size % SECTOR_SIZE || size > (UINT64_MAX >> 1))
                return ctx_error(pool->ctx, -EINVAL, "%s/%s: invalid size %llu (must be a non-zero multiple of 512)",
                                 name, vol, (unsigned long long)size);
        return 0;
}

/* Look up a VM that must exist and be of @kind (or any kind when @kind < 0). */
static int vm_lookup(dvm_pool *pool, const char *name, int kind, struct cat_vm *ret)
{
        int r = catalog_vm_get(pool->cat, name, ret);

        if (r == -ENOENT)
                return ctx_error(pool->ctx, -ENOENT, "%s%s%s does not exist in pool %s", kind >= 0 ? kind_text[kind] : "VM",
                                 " ", name, pool->name);
        if (r < 0)
                return r;
        if (kind >= 0 && (int)ret->kind != kind)
                return ctx_error(pool->ctx, -EINVAL, "%s is a %s, not a %s", name, kind_text[ret->kind], kind_text[kind]);
        return 0;
}

static int vm_absent(dvm_pool *pool, const char *name)
{
        struct cat_vm vm;
        int r = catalog_vm_get(pool->cat, name, &vm);

        if (r == 0)
                return ctx_error(pool->ctx, -EEXIST, "%s exists already in pool %s (a %s)", name, pool->name,
                                 kind_text[vm.kind]);
        return r == -ENOENT ? 0 : r;
}

static struct cat_volume vol_row(const char *vm, const char *name, uint64_t size, unsigned flags,
                                 const char *src_vm, const char *src_vol)
{
        struct cat_volume v = { .size = size, .flags = flags, .thin_id = -1, .run_id = -1, .source_id = -1 };
        snprintf(v.vm, sizeof(v.vm), "%s", vm);
        snprintf(v.name, sizeof(v.name), "%s", name);
        snprintf(v.source_vm, sizeof(v.source_vm), "%s", src_vm ? src_vm : "");
        snprintf(v.source_vol, sizeof(v.source_vol), "%s", src_vol ? src_vol : "");
        return v;
}

static struct cat_vm vm_row(const char *name, enum dvm_vm_kind kind, const char *template, bool named)
{
        struct cat_vm vm = { .kind = kind, .named = named };
        snprintf(vm.name, sizeof(vm.name), "%s", name);
        snprintf(vm.template, sizeof(vm.template), "%s", template ? template : "");
        return vm;
}

int vm_template_add(dvm_pool *pool, const char *name, uint64_t root_size, uint64_t private_size,
                    struct cat_volume ret_vols[2])
{
        struct cat_vm vm = vm_row(name, DVM_VM_TEMPLATE, NULL, false);
        struct cat_volume root = vol_row(name, "root", root_size, DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW, NULL, NULL);
        struct cat_volume priv = vol_row(name, "private", private_size, DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW, NULL, NULL);
        struct cat_volume vola = vol_row(name, "volatile", root_size + private_size, DVM_VOL_RW, NULL, NULL);
        int r;

        if ((r = check_name(pool, name, "TemplateVM")) < 0 || (r = check_size(pool, name, "root", root_size)) < 0 ||
            (r = check_size(pool, name, "private", private_size)) < 0 || (r = vm_absent(pool, name)) < 0)
                return r;
        if ((r = catalog_vm_put(pool->cat, &vm)) < 0 || (r = lifecycle_new_origin(pool, &root)) < 0)
                return r;
        r = lifecycle_new_origin(pool, &priv);
        if (r >= 0)
                r = catalog_volume_put(pool->cat, &vola);
        if (r < 0) {
                pool->ops->layer_delete(pool, root.thin_id);
                if (priv.thin_id >= 0)
                        pool->ops->layer_delete(pool, priv.thin_id);
                return r;
        }
        ret_vols[0] = root;
        ret_vols[1] = priv;
        return 0;
}

int dvm_template_create(dvm_pool *pool, const char *name, uint64_t root_size, uint64_t private_size)
{
        struct cat_volume vols[2];
        return POOL_TRANSACTION(pool, vm_template_add(pool, name, root_size, private_size, vols));
}

/* TemplateVM @name whose root and private are @host's in the cluster (the backend records them) */
static int template_follow(dvm_pool *pool, const char *name, const char *host)
{
        struct cat_vm vm = vm_row(name, DVM_VM_TEMPLATE, NULL, false);
        struct cat_volume vols[2] = {
                vol_row(name, "root", 0, DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW, NULL, NULL),
                vol_row(name, "private", 0, DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW, NULL, NULL),
        };
        int r;

        if (!pool->ops->follow)
                return ctx_error(pool->ctx, -EOPNOTSUPP, "pool %s: a template of another host needs an rbd pool, "
                                 "not %s", pool->name, pool->ops->name);
        if ((r = check_name(pool, name, "TemplateVM")) < 0 || (r = vm_absent(pool, name)) < 0 ||
            (r = catalog_vm_put(pool->cat, &vm)) < 0)
                return r;
        for (int i = 0; i < 2; i++)
                if ((r = catalog_thin_id_alloc(pool->cat, &vols[i].thin_id)) < 0 ||
                    (r = pool->ops->follow(pool, host, &vols[i])) < 0 ||
                    (r = catalog_volume_put(pool->cat, &vols[i])) < 0)
                        return r;
        struct cat_volume vola = vol_row(name, "volatile", vols[0].size + vols[1].size, DVM_VOL_RW, NULL, NULL);
        return catalog_volume_put(pool->cat, &vola);
}

int dvm_template_follow(dvm_pool *pool, const char *name, const char *host)
{
        return POOL_TRANSACTION(pool, template_follow(pool, name, host));
}

static int dvm_add(dvm_pool *pool, const char *name, const char *template, uint64_t private_size)
{
        struct cat_vm tmpl, vm = vm_row(name, DVM_VM_DVM_TEMPLATE, template, false);
        struct cat_volume troot, tpriv, priv;
        int r;

        if ((r = check_name(pool, name, "DVM Template")) < 0 || (r = vm_absent(pool, name)) < 0 ||
            (r = vm_lookup(pool, template, DVM_VM_TEMPLATE, &tmpl)) < 0)
                return r;
        if ((r = catalog_volume_get(pool->cat, template, "root", &troot)) < 0 ||
            (r = catalog_volume_get(pool->cat, template, "private", &tpriv)) < 0)
                return ctx_error(pool->ctx, r, "TemplateVM %s lacks its root or private volume", template);
        if (!private_size)
                private_size = tpriv.size;
        if ((r = check_size(pool, name, "private", private_size)) < 0)
                return r;
        struct cat_volume root = vol_row(name, "root", troot.size, DVM_VOL_SNAP_ON_START | DVM_VOL_RW, template, "root");
        struct cat_volume vola = vol_row(name, "volatile", troot.size + private_size, DVM_VOL_RW, NULL, NULL);
        priv = vol_row(name, "private", private_size, DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW, NULL, NULL);
        if ((r = catalog_vm_put(pool->cat, &vm)) < 0 || (r = catalog_volume_put(pool->cat, &root)) < 0 ||
            (r = catalog_volume_put(pool->cat, &vola)) < 0)
                return r;
        return lifecycle_new_origin(pool, &priv);
}

int dvm_dvm_create(dvm_pool *pool, const char *name, const char *template, uint64_t private_size)
{
        return POOL_TRANSACTION(pool, dvm_add(pool, name, template, private_size));
}

static int spawn_with(dvm_pool *pool, const char *dvm, const char *name, const struct dvm_spawn_config *cfg,
                      char ret_name[DVM_NAME_MAX + 1])
{
        unsigned ram = cfg && cfg->in_ram ? DVM_VOL_IN_RAM : 0;
        struct cat_vm dt, tmpl, vm;
        struct cat_volume troot, dpriv;
        char auto_name[DVM_NAME_MAX + 1];
        int r;

        if (ram && cfg->ram_limit && cfg->ram_limit < RAM_LIMIT_MIN) {
                char shown[32];
                return ctx_error(pool->ctx, -EINVAL, "RAM limit %s is below the %lluM an in-RAM disposable needs",
                                 dvm_format_size(cfg->ram_limit, shown, sizeof(shown)), RAM_LIMIT_MIN >> 20);
        }
        if ((r = vm_lookup(pool, dvm, DVM_VM_DVM_TEMPLATE, &dt)) < 0 || (r = space_guard_check(pool, "spawn", 0)) < 0)
                return r;
        r = catalog_vm_get(pool->cat, dt.template, &tmpl);
        if (r == 0)
                r = catalog_volume_get(pool->cat, dt.template, "root", &troot);
        if (r == -ENOENT)
                return ctx_error(pool->ctx, -ENOENT, "cannot spawn from DVM Template %s: its TemplateVM %s is gone",
                                 dvm, dt.template);
        if (r < 0 || (r = catalog_volume_get(pool->cat, dvm, "private", &dpriv)) < 0)
                return r;
        if (name) {
                if ((r = check_name(pool, name, "disposable")) < 0 || (r = vm_absent(pool, name)) < 0)
                        return r;
        } else {
                if ((r = catalog_disposable_name(pool->cat, auto_name)) < 0)
                        return r;
                name = auto_name;
        }
        vm = vm_row(name, DVM_VM_DISPOSABLE, dvm, name != auto_name);
        struct cat_volume vols[] = {
                vol_row(name, "root", troot.size, DVM_VOL_SNAP_ON_START | DVM_VOL_RW | ram, dt.template, "root"),
                vol_row(name, "private", dpriv.size, DVM_VOL_SNAP_ON_START | DVM_VOL_RW | ram, dvm, "private"),
                vol_row(name, "volatile", troot.size + dpriv.size, DVM_VOL_RW | ram, NULL, NULL),
        };
        if ((r = catalog_vm_put(pool->cat, &vm)) < 0)
                return r;
        if (ram && (r = ram_limit_set(pool, name, cfg->ram_limit ? cfg->ram_limit : RAM_LIMIT_DEFAULT)) < 0)
                return r;
        for (size_t i = 0; i < ARRAY_SIZE(vols); i++)
                if ((r = catalog_volume_put(pool->cat, &vols[i])) < 0)
                        return r;
        r = lifecycle_start(pool, &vm);
        if (r >= 0)
                snprintf(ret_name, DVM_NAME_MAX + 1, "%s", name);
        return r;
}

int vm_spawn(dvm_pool *pool, const char *dvm, const char *name, char ret_name[DVM_NAME_MAX + 1])
{
        /* an unnamed disposable may be a ready one: the same fresh layers, built earlier */
        int r = name ? 0 : preload_take(pool, dvm, ret_name);

        if (r > 0)
                pool->preload_taken = true;
        if (r != 0)
                return r < 0 ? r : 0;
        return spawn_with(pool, dvm, name, NULL, ret_name);
}

int vm_spawn_built(dvm_pool *pool, const char *dvm, char ret_name[DVM_NAME_MAX + 1])
{
        return spawn_with(pool, dvm, NULL, NULL, ret_name);
}

int dvm_spawn_ex(dvm_pool *pool, const char *dvm, const char *name, const struct dvm_spawn_config *cfg,
                 struct dvm_vm_info *ret_info)
{
        char made[DVM_NAME_MAX + 1] = "";
        int r = 0;

        /* a ready one is taken in a transaction of its own that leaves the kernel alone;
         * its refill runs in the worker, after this returns */
        if (!name && !(cfg && cfg->in_ram))
                r = preload_take_now(pool, dvm, made, ret_info);
        if (r < 0)
                return r;
        if (r > 0) {
                later_kick(pool);
                return 0;
        }
        pool->change_in_ram = cfg && cfg->in_ram;
        r = POOL_TRANSACTION(pool, spawn_with(pool, dvm, name, cfg, made));
        pool->change_in_ram = false;
        if (r < 0)
                return r;
        return ret_info ? dvm_vm_get(pool, made, ret_info) : 0;
}

int dvm_spawn(dvm_pool *pool, const char *dvm, const char *name, struct dvm_vm_info *ret_info)
{
        return dvm_spawn_ex(pool, dvm, name, NULL, ret_info);
}

int vm_start(dvm_pool *pool, const char *name)
{
        struct cat_vm vm;
        int r = vm_lookup(pool, name, -1, &vm);

        if (r < 0)
                return r;
        if (vm.running)
                return ctx_error(pool->ctx, -EALREADY, "%s is running already", name);
        if (vm.kind == DVM_VM_QUBE)
                return ctx_error(pool->ctx, -EINVAL, "%s is a qube: its volumes start one by one (dvm_volume_start)", name);
        if (vm.kind == DVM_VM_DISPOSABLE && !vm.named)
                return ctx_error(pool->ctx, -EINVAL, "%s is an unnamed disposable: spawn a new one", name);
        if ((r = space_guard_check(pool, "start", 0)) < 0)
                return r;
        return lifecycle_start(pool, &vm);
}

int dvm_vm_start(dvm_pool *pool, const char *name, struct dvm_vm_info *ret_info)
{
        int r = POOL_TRANSACTION(pool, vm_start(pool, name));
        if (r < 0)
                return r;
        return ret_info ? dvm_vm_get(pool, name, ret_info) : 0;
}

/* Whether @name may be stopped (or destroyed); fills @ret_vm. Changes nothing. */
static int stop_check(dvm_pool *pool, const char *name, bool destroy, struct cat_vm *ret_vm)
{
        char dep[DVM_NAME_MAX + 1];
        int r = vm_lookup(pool, name, -1, ret_vm);

        if (r < 0)
                return r;
        if (!destroy)
                return ret_vm->running ? 0 : ctx_error(pool->ctx, -EALREADY, "%s is not running", name);
        if (ret_vm->kind == DVM_VM_QUBE)
                return ctx_error(pool->ctx, -EINVAL, "cannot destroy qube %s: remove its volumes one by one "
                                 "(dvm_volume_remove)", name);
        r = catalog_vm_dependents(pool->cat, name, dep);
        if (r < 0)
                return r;
        if (r > 0)
                return ctx_error(pool->ctx, -EBUSY, "cannot destroy %s %s: %d VM(s) depend on it (%s%s); destroy them first",
                                 kind_text[ret_vm->kind], name, r, dep, r > 1 ? ", ..." : "");
        if (ret_vm->running && ret_vm->kind != DVM_VM_DISPOSABLE)
                return ctx_error(pool->ctx, -EBUSY, "cannot destroy %s: it is running; stop it first", name);
        return 0;
}

/* Carry out the intent on @name: its layers go down (committed or dropped), and the intent
 * goes with the rows in the same transaction. */
static int finish(dvm_pool *pool, const char *name, enum cat_intent_op op, struct lifecycle_doomed *doomed)
{
        struct cat_vm vm;
        int r = op == CAT_INTENT_WIPE ? later_wipe_end(pool, name) : 0;

        if (r >= 0)
                r = catalog_vm_get(pool->cat, name, &vm);
        if (r == -ENOENT || (r >= 0 && op == CAT_INTENT_STOP && !vm.running))
                return catalog_intent_delete(pool->cat, name);
        /* a destroy left to the worker took down the devices its wipe goes through */
        if (r >= 0 && op == CAT_INTENT_WIPE)
                r = later_unfence(pool, &vm);
        if (r < 0 || (r = lifecycle_stop(pool, &vm, op != CAT_INTENT_STOP, doomed)) < 0)
                return r;
        /* a stopped VM no longer belongs to the domain it was started for */
        if (op == CAT_INTENT_STOP && (r = catalog_domain_delete(pool->cat, name)) < 0)
                return r;
        return catalog_intent_delete(pool->cat, name);
}

int vm_finish(dvm_pool *pool, const char *name, enum cat_intent_op op)
{
        struct lifecycle_doomed doomed = {};
        _cleanup_close_ int claim = -1;
        int r = 0;

        /* a worker may be writing the zeros of a queued wipe without the pool lock */
        if (op == CAT_INTENT_WIPE)
                r = later_claim(pool, true, &claim);
        if (r >= 0)
                r = POOL_TRANSACTION(pool, finish(pool, name, op, &doomed));

        if (r >= 0)
                lifecycle_reap(pool, &doomed);
        return r;
}

static int put_intent(dvm_pool *pool, const char *name, enum cat_intent_op op, const char *why)
{
        struct cat_intent in = { .op = op, .since = (int64_t)time(NULL) };

        snprintf(in.vm, sizeof(in.vm), "%s", name);
        snprintf(in.error, sizeof(in.error), "%s", why);
        return POOL_TRANSACTION(pool, catalog_intent_put(pool->cat, &in));
}

/* Whether a destroy of @name waits in the catalog for its devices to be free. */
static bool destroy_deferred(dvm_pool *pool, const char *name)
{
        _cleanup_free_ struct cat_intent *list = NULL;
        int n = catalog_intent_list(pool->cat, &list);

        for (int i = 0; i < n; i++)
                if (strcmp(list[i].vm, name) == 0 && list[i].op == CAT_INTENT_DESTROY)
                        return true;
        return false;
}

/*
 * A stop or destroy records its intent before it touches the kernel: one that is cut
 * short (a crash, a device that stays busy half way) is finished by recovery, never
 * rolled back. A destroy of a VM whose devices are held open stays recorded and happens
 * once they are free; a stop of one is refused and changes nothing. With @later, a
 * running disposable is only cut off, and its wipe is left to the worker (later.h).
 */
static int stop_or_destroy(dvm_pool *pool, const char *name, bool destroy, bool later)
{
        const char *doing = destroy ? "destroy" : "stop";
        enum cat_intent_op op = CAT_INTENT_STOP;
        struct cat_vm vm = {};
        bool deferred, queued = false;
        int r = pool_lock(pool), q;

        if (r < 0)
                return r;
        deferred = destroy_deferred(pool, name);
        pool->change_in_ram = vm_in_ram(pool, name);
        r = pool_change_begin(pool);
        pool->change_in_ram = false;
        /* the recovery that ran first may have carried out a destroy deferred earlier */
        if (r >= 0 && deferred && catalog_vm_get(pool->cat, name, &vm) == -ENOENT)
                goto done;
        /* a VM whose wipe is queued is on its way out already (a destroy that waits
         * finishes it now); a template goes after the wipes of its disposables */
        if (r >= 0 && destroy) {
                bool pending = later_pending(pool, name);
                if (pending && later) {
                        queued = true;
                        goto done;
                }
                /* a DVM Template's ready disposables go before it, through their wipes */
                r = preload_drop(pool, name);
                if (r >= 0)
                        r = later_finish_for(pool, name);
                if (r >= 0 && pending)
                        goto done;
        } else if (r >= 0 && later_pending(pool, name)) {
                r = ctx_error(pool->ctx, -EALREADY, "%s is being destroyed: its wipe is queued", name);
        }
        if (r >= 0)
                r = POOL_TRANSACTION(pool, stop_check(pool, name, destroy, &vm));
        if (r >= 0) {
                op = destroy || (vm.kind == DVM_VM_DISPOSABLE && !vm.named) ? CAT_INTENT_DESTROY : CAT_INTENT_STOP;
                r = busy_check(pool, name, doing);
        }
        if (r == -EBUSY && op == CAT_INTENT_DESTROY) {
                if ((q = put_intent(pool, name, op, dvm_ctx_last_error(pool->ctx))) < 0)
                        r = q;
                else
                        r = ctx_error(pool->ctx, -EBUSY, "%s; %s stays marked to be destroyed, which "
                                      "'dvm-vol recover' (or the next change of pool %s) does once it is free",
                                      dvm_ctx_last_error(pool->ctx), name, pool->name);
        } else if (r >= 0 && later && op == CAT_INTENT_DESTROY && later_eligible(pool, &vm)) {
                r = later_queue(pool, &vm);
                queued = r >= 0;
        } else if (r >= 0) {
                r = put_intent(pool, name, op, "");
                if (r >= 0 && (r = vm_finish(pool, name, op)) < 0)
                        r = ctx_error(pool->ctx, r, "%s; the %s of %s stays recorded and 'dvm-vol recover' finishes it",
                                      dvm_ctx_last_error(pool->ctx), doing, name);
        }
done:
        /* a change refused before it touched the kernel leaves the pool as clean as it was */
        pool_change_end(pool, r);
        pool_unlock(pool);
        /* a template's commit makes the ready disposables built on it outdated */
        if (r >= 0 && !destroy && vm.kind != DVM_VM_DISPOSABLE && preload_wanted(pool))
                queued = true;
        if (queued)
                later_kick(pool);
        return r;
}

int dvm_vm_stop(dvm_pool *pool, const char *name)
{
        return stop_or_destroy(pool, name, false, false);
}

int dvm_vm_destroy(dvm_pool *pool, const char *name)
{
        return stop_or_destroy(pool, name, true, pool->destroy_later);
}

int dvm_vm_destroy_ex(dvm_pool *pool, const char *name, unsigned flags)
{
        if (flags & ~DVM_DESTROY_LATER)
                return ctx_error(pool->ctx, -EINVAL, "destroy of %s: unknown flags %#x", name, flags & ~DVM_DESTROY_LATER);
        return stop_or_destroy(pool, name, true, flags & DVM_DESTROY_LATER);
}
