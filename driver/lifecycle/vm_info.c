// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Describing VMs: the catalog's rows joined with what the kernel says (active devices,
 * bytes mapped), whether a running layer's source has moved on (outdated) and whether a
 * destroy left the VM's wipe to the worker (wipe queued).
 */
#include <stdio.h>
#include <string.h>

#include "kernel/dm.h"
#include "lifecycle/later.h"
#include "lifecycle/vm.h"
#include "lifecycle/volume.h"
#include "store/catalog_layer.h"
#include "store/catalog_preload.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"

void vm_describe_volume(dvm_pool *pool, const struct cat_volume *v, struct dvm_volume_info *out)
{
        _cleanup_free_ struct cat_revision *revs = NULL;
        char name[VOLUME_DM_NAME_MAX];
        int64_t import_id;
        uint64_t import_size;
        int n;

        *out = (struct dvm_volume_info){ .size = v->size, .flags = v->flags };
        snprintf(out->name, sizeof(out->name), "%s", v->name);
        snprintf(out->vm, sizeof(out->vm), "%s", v->vm);
        /* Qubes' is_dirty: a save_on_stop layer runs, or a stop never came to commit it */
        out->dirty = (v->flags & DVM_VOL_SAVE_ON_STOP) && v->run_id >= 0;
        out->ephemeral = volume_ephemeral(v);
        out->importing = catalog_import_get(pool->cat, v->vm, v->name, &import_id, &import_size) == 0;
        catalog_volume_keep_get(pool->cat, v->vm, v->name, &out->revisions_to_keep);
        n = catalog_revision_list(pool->cat, v->vm, v->name, &revs);
        out->n_revisions = n > 0 ? (unsigned)n : 0;
        out->backend_id = v->run_id >= 0 ? v->run_id : v->thin_id;
        if (v->source_vm[0])
                snprintf(out->source, sizeof(out->source), "%s/%s", v->source_vm, v->source_vol);
        /* Qubes' is_outdated: the layer was taken from a source that has committed since. */
        out->outdated = volume_outdated(pool, v, true) > 0;
        if (v->run_id >= 0 && dm_info(pool->ctx, volume_dm_name(pool, v->vm, v->name, name, sizeof(name)), NULL) == 0) {
                struct layer l = volume_running_layer(v);
                out->active = true;
                volume_path(pool, v->vm, v->name, out->path, sizeof(out->path));
                volume_usage(pool, v, &l, &out->used);
                if (pool->ops->cow_state && l.origin >= 0) {
                        struct layer_cow cow;
                        if (pool->ops->cow_state(pool, name, &l, &cow) >= 0) {
                                out->cow_used = cow.used;
                                out->cow_size = cow.size;
                                out->invalid = cow.invalid;
                        }
                }
        }
}

static int describe(dvm_pool *pool, const struct cat_vm *vm, struct dvm_vm_info *out)
{
        struct cat_volume vols[ARRAY_SIZE(out->volumes)];
        int n = catalog_volume_list(pool->cat, vm->name, vols, ARRAY_SIZE(vols));

        if (n < 0)
                return n;
        *out = (struct dvm_vm_info){ .kind = vm->kind, .running = vm->running, .named = vm->named,
                                     .ready = catalog_ready_is(pool->cat, vm->name) > 0, .n_volumes = (unsigned)n };
        snprintf(out->name, sizeof(out->name), "%s", vm->name);
        snprintf(out->template, sizeof(out->template), "%s", vm->template);
        out->wipe_queued = later_pending(pool, vm->name);
        for (int i = 0; i < n; i++) {
                vm_describe_volume(pool, &vols[i], &out->volumes[i]);
                out->outdated |= out->volumes[i].outdated;
        }
        return 0;
}

int dvm_vm_get(dvm_pool *pool, const char *name, struct dvm_vm_info *ret_info)
{
        struct cat_vm vm;
        int r = catalog_vm_get(pool->cat, name, &vm);

        if (r == -ENOENT)
                return ctx_error(pool->ctx, -ENOENT, "VM %s does not exist in pool %s", name, pool->name);
        if (r < 0)
                return r;
        return describe(pool, &vm, ret_info);
}

int dvm_vm_list(dvm_pool *pool, struct dvm_vm_info **ret_vms)
{
        _cleanup_free_ struct cat_vm *vms = NULL;
        _cleanup_free_ struct dvm_vm_info *out = NULL;
        int n = catalog_vm_list(pool->cat, &vms);

        if (n < 0)
                return n;
        out = calloc((size_t)n + 1, sizeof(*out));
        if (!out)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                int r = describe(pool, &vms[i], &out[i]);
                if (r < 0)
                        return r;
        }
        *ret_vms = TAKE_PTR(out);
        return n;
}
