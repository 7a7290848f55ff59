// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The per-volume calls of the public API (dvm_volume_*) for a Qubes OS pool driver: a
 * qube's volumes are created, described, listed and removed one by one. Starting and
 * stopping is volume_run.c, revisions revisions.c, export and import export.c.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/dm.h"
#include "lifecycle/pool_change.h"
#include "lifecycle/vm.h"
#include "lifecycle/volume.h"
#include "lifecycle/volume_api.h"
#include "store/catalog_layer.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"

#define KNOWN_FLAGS (DVM_VOL_SNAP_ON_START | DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW)

int volume_api_check(dvm_pool *pool, const char *vm, const char *volume)
{
        static const char *const names[] = { "root", "private", "volatile" };
        char shown[4 * DVM_NAME_MAX + 8], shown_vol[64];
        const char *why;

        if (dvm_name_check(vm, &why) < 0)
                return ctx_error(pool->ctx, -EINVAL, "%s/%s: invalid qube name: %s",
                                 ctx_printable(vm ? vm : "", shown, sizeof(shown)),
                                 ctx_printable(volume ? volume : "", shown_vol, sizeof(shown_vol)), why);
        if (pool->backend != DVM_BACKEND_THIN)
                return ctx_error(pool->ctx, -EOPNOTSUPP, "%s/%s: pool %s is a %s pool; volumes one by one need a "
                                 "thin pool", ctx_printable(vm ? vm : "", shown, sizeof(shown)),
                                 ctx_printable(volume ? volume : "", shown_vol, sizeof(shown_vol)), pool->name,
                                 pool->ops->name);
        for (size_t i = 0; volume && i < ARRAY_SIZE(names); i++)
                if (strcmp(volume, names[i]) == 0)
                        return 0;
        return ctx_error(pool->ctx, -EINVAL, "%s/%s: invalid volume name (root, private or volatile)",
                         ctx_printable(vm ? vm : "", shown, sizeof(shown)),
                         ctx_printable(volume ? volume : "", shown_vol, sizeof(shown_vol)));
}

int volume_api_lookup(dvm_pool *pool, const char *vm, const char *volume, struct cat_volume *ret)
{
        struct cat_vm row;
        int r = volume_api_check(pool, vm, volume);

        if (r < 0)
                return r;
        r = catalog_vm_get(pool->cat, vm, &row);
        if (r >= 0 && row.kind != DVM_VM_QUBE)
                return ctx_error(pool->ctx, -ENOENT, "%s/%s: %s is a %s, not a qube: its volumes are not managed one "
                                 "by one", vm, volume, vm, dvm_vm_kind_name(row.kind));
        if (r >= 0)
                r = catalog_volume_get(pool->cat, vm, volume, ret);
        if (r == -ENOENT)
                return ctx_error(pool->ctx, -ENOENT, "%s/%s: no such volume in pool %s", vm, volume, pool->name);
        return r;
}

bool volume_api_active(dvm_pool *pool, const struct cat_volume *v)
{
        char name[VOLUME_DM_NAME_MAX];
        return dm_info(pool->ctx, volume_dm_name(pool, v->vm, v->name, name, sizeof(name)), NULL) == 0;
}

int volume_api_ensure_active(dvm_pool *pool, const struct cat_volume *v)
{
        struct layer l = volume_running_layer(v);
        char raw[VOLUME_DM_NAME_MAX];
        int r;

        if (volume_api_active(pool, v))
                return 0;
        /* a volatile layer device whose crypt device went (its key with it) comes back
         * under a new key */
        if (volume_ephemeral(v) &&
            (r = dm_remove(pool->ctx, volume_layer_dm_name(pool, v, raw, sizeof(raw)))) < 0 && r != -ENXIO)
                return r;
        return volume_activate(pool, v, &l);
}

static void reap_doomed(dvm_pool *pool, struct lifecycle_doomed *doomed)
{
        if (doomed->n)
                lifecycle_reap(pool, doomed);
        doomed->n = 0;
}

int volume_api_change_each(dvm_pool *pool, volume_prepare_fn *prepare, volume_change_fn *fn, void *const *data,
                           unsigned n, int *ret_results)
{
        struct lifecycle_doomed doomed = {};
        int r = pool_lock(pool);

        if (r < 0) {
                for (unsigned i = 0; i < n; i++)
                        ret_results[i] = -ECANCELED;
                return r;
        }
        r = pool_change_begin(pool);
        if (r >= 0 && prepare)
                prepare(pool, data, n);
        for (unsigned i = 0; i < n; i++) {
                if (r < 0) {
                        ret_results[i] = -ECANCELED;
                        continue;
                }
                r = ret_results[i] = POOL_TRANSACTION(pool, fn(pool, data[i], &doomed));
                if (r >= 0)
                        reap_doomed(pool, &doomed);
        }
        pool_change_end(pool, r);
        pool_unlock(pool);
        return r;
}

int volume_api_change(dvm_pool *pool, volume_change_fn *fn, void *data)
{
        int result;
        int r = volume_api_change_each(pool, NULL, fn, &data, 1, &result);

        return r < 0 ? r : result;
}

/* ---- create ------------------------------------------------------------------------ */

struct create {
        const char *vm, *volume;
        const struct dvm_volume_config *cfg;
};

/* Split "<vm>/<volume>" @spec into @src (the row of an existing volume). */
static int find_source(dvm_pool *pool, const char *vm, const char *volume, const char *spec, struct cat_volume *src)
{
        char svm[DVM_NAME_MAX + 1], shown[256];
        const char *slash = strrchr(spec, '/');
        int r;

        if (!slash || slash == spec || (size_t)(slash - spec) > DVM_NAME_MAX)
                return ctx_error(pool->ctx, -EINVAL, "%s/%s: source \"%s\" is not <vm>/<volume>", vm, volume,
                                 ctx_printable(spec, shown, sizeof(shown)));
        snprintf(svm, sizeof(svm), "%.*s", (int)(slash - spec), spec);
        r = catalog_volume_get(pool->cat, svm, slash + 1, src);
        if (r == -ENOENT)
                return ctx_error(pool->ctx, -ENOENT, "%s/%s: its source %s does not exist in pool %s", vm, volume,
                                 ctx_printable(spec, shown, sizeof(shown)), pool->name);
        if (r >= 0 && src->thin_id < 0)
                return ctx_error(pool->ctx, -EINVAL, "%s/%s: its source %s has no committed layer (a volatile or "
                                 "snap_on_start volume cannot be a source)", vm, volume, spec);
        return r;
}

static int check_config(dvm_pool *pool, const char *vm, const char *volume, const struct dvm_volume_config *cfg)
{
        if (!cfg)
                return ctx_error(pool->ctx, -EINVAL, "%s/%s: no configuration given", vm, volume);
        if (cfg->size == 0 || cfg->size % 512 || cfg->size > (UINT64_MAX >> 1))
                return ctx_error(pool->ctx, -EINVAL, "%s/%s: invalid size %llu (must be a non-zero multiple of 512)",
                                 vm, volume, (unsigned long long)cfg->size);
        if (cfg->flags & ~KNOWN_FLAGS)
                return ctx_error(pool->ctx, -EINVAL, "%s/%s: unknown flags 0x%x", vm, volume, cfg->flags & ~KNOWN_FLAGS);
        if ((cfg->flags & DVM_VOL_SNAP_ON_START) && (cfg->flags & DVM_VOL_SAVE_ON_STOP))
                return ctx_error(pool->ctx, -EINVAL, "%s/%s: snap_on_start and save_on_stop together are not "
                                 "supported", vm, volume);
        if ((cfg->flags & DVM_VOL_SNAP_ON_START) && !cfg->source)
                return ctx_error(pool->ctx, -EINVAL, "%s/%s: snap_on_start needs a source", vm, volume);
        if (!(cfg->flags & (DVM_VOL_SNAP_ON_START | DVM_VOL_SAVE_ON_STOP)) && cfg->source)
                return ctx_error(pool->ctx, -EINVAL, "%s/%s: a volatile volume takes no source", vm, volume);
        if (cfg->ephemeral && (cfg->flags & DVM_VOL_SAVE_ON_STOP))
                return ctx_error(pool->ctx, -EINVAL, "%s/%s: a save_on_stop volume cannot be ephemeral (its layer "
                                 "outlives the key)", vm, volume);
        if (cfg->ephemeral && (cfg->flags & DVM_VOL_SNAP_ON_START))
                return ctx_error(pool->ctx, -EOPNOTSUPP, "%s/%s: an ephemeral snap_on_start volume is not supported "
                                 "(only volatile volumes run under an ephemeral key)", vm, volume);
        return 0;
}

/* The committed layer of a new save_on_stop volume made as a copy of @src's (Qubes'
 * clone): a snapshot of it, standing on its own. */
static int clone_layer(dvm_pool *pool, struct cat_volume *v, const struct cat_volume *src)
{
        struct layer l = { .origin = src->thin_id, .size = v->size };
        int r = catalog_thin_id_alloc(pool->cat, &l.id);

        if (r < 0)
                return r;
        /* a source's committed layer has no writable device: its own runs on a snapshot */
        r = pool->ops->layer_snap(pool, &l, NULL);
        if (r >= 0 && (r = pool->ops->layer_commit(pool, &l)) >= 0) {
                v->thin_id = l.id;
                r = catalog_volume_put(pool->cat, v);
        }
        if (r < 0)
                pool->ops->layer_delete(pool, l.id);
        return r;
}

static int create(dvm_pool *pool, void *data, struct lifecycle_doomed *doomed)
{
        const struct create *c = data;
        const struct dvm_volume_config *cfg = c->cfg;
        struct cat_volume v = { .size = cfg->size, .flags = cfg->flags, .thin_id = -1, .run_id = -1, .source_id = -1 };
        struct cat_volume src = { .thin_id = -1 };
        struct cat_vm vm;
        int r;

        (void)doomed;
        if (cfg->source && (r = find_source(pool, c->vm, c->volume, cfg->source, &src)) < 0)
                return r;
        r = catalog_vm_get(pool->cat, c->vm, &vm);
        if (r >= 0 && vm.kind != DVM_VM_QUBE)
                return ctx_error(pool->ctx, -EEXIST, "%s/%s: %s exists in pool %s as a %s, not a qube", c->vm,
                                 c->volume, c->vm, pool->name, dvm_vm_kind_name(vm.kind));
        if (r == -ENOENT) {
                vm = (struct cat_vm){ .kind = DVM_VM_QUBE };
                snprintf(vm.name, sizeof(vm.name), "%s", c->vm);
                r = catalog_vm_put(pool->cat, &vm);
        } else if (r >= 0 && catalog_volume_get(pool->cat, c->vm, c->volume, &v) == 0) {
                return ctx_error(pool->ctx, -EEXIST, "%s/%s exists already in pool %s", c->vm, c->volume, pool->name);
        }
        if (r < 0)
                return r;
        snprintf(v.vm, sizeof(v.vm), "%s", c->vm);
        snprintf(v.name, sizeof(v.name), "%s", c->volume);
        if (cfg->flags & DVM_VOL_SNAP_ON_START) {
                snprintf(v.source_vm, sizeof(v.source_vm), "%s", src.vm);
                snprintf(v.source_vol, sizeof(v.source_vol), "%s", src.name);
        }
        if (cfg->revisions_to_keep && (r = catalog_volume_keep_set(pool->cat, c->vm, c->volume, cfg->revisions_to_keep)) < 0)
                return r;
        if (!(cfg->flags & DVM_VOL_SAVE_ON_STOP))
                return catalog_volume_put(pool->cat, &v);
        return src.thin_id >= 0 ? clone_layer(pool, &v, &src) : lifecycle_new_origin(pool, &v);
}

int dvm_volume_create(dvm_pool *pool, const char *vm, const char *volume, const struct dvm_volume_config *cfg)
{
        struct create c = { vm, volume, cfg };
        int r = volume_api_check(pool, vm, volume);

        if (r >= 0)
                r = check_config(pool, vm, volume, cfg);
        return r < 0 ? r : volume_api_change(pool, create, &c);
}

/* ---- remove ------------------------------------------------------------------------ */

struct remove {
        const char *vm, *volume;
};

static void doom(struct lifecycle_doomed *d, int64_t id)
{
        if (id >= 0 && d->n < ARRAY_SIZE(d->ids))
                d->ids[d->n++] = id;
}

static int remove_volume(dvm_pool *pool, void *data, struct lifecycle_doomed *doomed)
{
        const struct remove *rm = data;
        _cleanup_free_ struct cat_revision *revs = NULL;
        struct cat_volume v, left[3];
        int64_t import_id;
        uint64_t import_size;
        int r = volume_api_lookup(pool, rm->vm, rm->volume, &v), n;

        if (r < 0)
                return r;
        if (v.run_id >= 0 && volume_api_active(pool, &v))
                return ctx_error(pool->ctx, -EBUSY, "%s/%s is started: stop it first", v.vm, v.name);
        if (catalog_import_get(pool->cat, v.vm, v.name, &import_id, &import_size) == 0)
                return ctx_error(pool->ctx, -EBUSY, "%s/%s: an import is under way: end it first", v.vm, v.name);
        /* a running layer a crash left (its device gone with a reboot) is wiped and dropped */
        if (v.run_id >= 0 && ((r = volume_api_ensure_active(pool, &v)) < 0 ||
                              (r = lifecycle_volume_stop(pool, &v, false, doomed)) < 0))
                return r;
        n = catalog_revision_list(pool->cat, v.vm, v.name, &revs);
        if (n < 0)
                return n;
        if ((unsigned)n + doomed->n + 1 > ARRAY_SIZE(doomed->ids))
                ctx_warn(pool->ctx, "%s/%s: %d revisions; those left are deleted by the next recovery", v.vm, v.name, n);
        for (int i = 0; i < n; i++)
                doom(doomed, revs[i].id);
        doom(doomed, v.thin_id);
        if ((r = catalog_volume_forget(pool->cat, v.vm, v.name)) < 0)
                return r;
        n = catalog_volume_list(pool->cat, v.vm, left, ARRAY_SIZE(left));
        if (n < 0)
                return n;
        return n == 0 ? catalog_vm_delete(pool->cat, v.vm) : 0;
}

int dvm_volume_remove(dvm_pool *pool, const char *vm, const char *volume)
{
        struct remove rm = { vm, volume };
        int r = volume_api_check(pool, vm, volume);

        return r < 0 ? r : volume_api_change(pool, remove_volume, &rm);
}

/* ---- describe ------------------------------------------------------------------------ */

int dvm_volume_get(dvm_pool *pool, const char *vm, const char *volume, struct dvm_volume_info *ret_info)
{
        struct cat_volume v;
        int r = pool_lock(pool);

        if (r < 0)
                return r;
        r = volume_api_lookup(pool, vm, volume, &v);
        if (r >= 0)
                vm_describe_volume(pool, &v, ret_info);
        pool_unlock(pool);
        return r;
}

int dvm_volume_list(dvm_pool *pool, struct dvm_volume_info **ret_volumes)
{
        _cleanup_free_ struct cat_vm *vms = NULL;
        _cleanup_free_ struct dvm_volume_info *out = NULL;
        size_t k = 0;
        int n = catalog_vm_list(pool->cat, &vms);

        if (n < 0)
                return n;
        out = calloc((size_t)n * 3 + 1, sizeof(*out));
        if (!out)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                struct cat_volume vols[3];
                int nv;
                if (vms[i].kind != DVM_VM_QUBE)
                        continue;
                nv = catalog_volume_list(pool->cat, vms[i].name, vols, ARRAY_SIZE(vols));
                if (nv < 0)
                        return nv;
                for (int j = 0; j < nv; j++)
                        vm_describe_volume(pool, &vols[j], &out[k++]);
        }
        *ret_volumes = TAKE_PTR(out);
        return (int)k;
}

/* ---- resize -------------------------------------------------------------------------- */

struct resize {
        const char *vm, *volume;
        uint64_t size;
};

static int resize(dvm_pool *pool, void *data, struct lifecycle_doomed *doomed)
{
        const struct resize *rs = data;
        char have[32], want[32];
        struct cat_volume v;
        int r = volume_api_lookup(pool, rs->vm, rs->volume, &v);

        (void)doomed;
        if (r < 0)
                return r;
        if (rs->size == v.size)
                return 0;
        dvm_format_size(v.size, have, sizeof(have));
        dvm_format_size(rs->size, want, sizeof(want));
        if (rs->size < v.size)
                return ctx_error(pool->ctx, -EINVAL, "%s/%s: cannot shrink from %s (%llu bytes) to %s (%llu bytes): "
                                 "volumes only grow", v.vm, v.name, have, (unsigned long long)v.size, want,
                                 (unsigned long long)rs->size);
        if (!(v.flags & DVM_VOL_RW))
                return ctx_error(pool->ctx, -EINVAL, "%s/%s is read-only: it cannot be resized", v.vm, v.name);
        if (v.run_id >= 0 && volume_ephemeral(&v))
                return ctx_error(pool->ctx, -EBUSY, "%s/%s runs under an ephemeral key that only the kernel holds: "
                                 "stop it before growing it to %s", v.vm, v.name, want);
        /* a thin layer's size is only the length of the device that shows it: the row first,
         * then a started volume's device, so that a failure of either leaves the old size */
        v.size = rs->size;
        r = catalog_volume_put(pool->cat, &v);
        if (r < 0 || v.run_id < 0 || !volume_api_active(pool, &v))
                return r;
        struct layer l = volume_running_layer(&v);
        r = volume_grow(pool, &v, &l);
        if (r == -EOPNOTSUPP)
                return ctx_error(pool->ctx, -EBUSY, "%s/%s: its running layer cannot grow while started: stop it "
                                 "before growing it to %s", v.vm, v.name, want);
        if (r >= 0)
                ctx_info(pool->ctx, "%s/%s: grown to %s while started", v.vm, v.name, want);
        return r;
}

int dvm_volume_resize(dvm_pool *pool, const char *vm, const char *volume, uint64_t size)
{
        struct resize rs = { vm, volume, size };
        int r = volume_api_check(pool, vm, volume);

        if (r >= 0 && (size == 0 || size % 512 || size > (UINT64_MAX >> 1)))
                r = ctx_error(pool->ctx, -EINVAL, "%s/%s: invalid size %llu (must be a non-zero multiple of 512)", vm,
                              volume, (unsigned long long)size);
        return r < 0 ? r : volume_api_change(pool, resize, &rs);
}
