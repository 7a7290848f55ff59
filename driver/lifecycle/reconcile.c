// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reconciliation: the catalog is the record, and the kernel is brought in line with it.
 * Devices (reconcile_devices.c) and layers no row accounts for are leftovers of an
 * interrupted operation and go; rows naming layers the pool no longer has are repaired;
 * disks of domains that are gone are released (by the Xen layer, through pool->recover);
 * running VMs whose devices are all gone (the host went down) get a stop or destroy intent
 * for recovery to carry out.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "backend/ram.h"
#include "kernel/dm.h"
#include "kernel/loop.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/reconcile.h"
#include "lifecycle/recover_actions.h"
#include "lifecycle/volume.h"
#include "store/catalog_intent.h"
#include "store/catalog_layer.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"
#include "util/text.h"

#define MAX_VOLUMES 3

static bool has_id(const int64_t *ids, int n, int64_t id)
{
        for (int i = 0; i < n; i++)
                if (ids[i] == id)
                        return true;
        return false;
}

/* The layer ids the catalog keeps in the pool itself: committed layers, the running layers
 * of VMs that are not in RAM, and the origins that running snapshots were taken from (an
 * outdated disposable's origin is named by its source_id alone once its template has
 * committed a new layer; its wipe and an in-RAM VM's source view still need it).
 * Returns the count and a malloc'd array, or -errno. */
static int main_pool_ids(dvm_pool *pool, int64_t **ret)
{
        _cleanup_free_ struct cat_vm *vms = NULL;
        _cleanup_free_ int64_t *ids = NULL, *more = NULL;
        int64_t *all;
        int n = catalog_vm_list(pool->cat, &vms), k = 0, held;

        if (n < 0)
                return n;
        ids = calloc((size_t)n * 3 * MAX_VOLUMES + 1, sizeof(*ids));
        if (!ids)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                struct cat_volume vols[MAX_VOLUMES];
                bool ram = vm_in_ram(pool, vms[i].name);
                int nv = catalog_volume_list(pool->cat, vms[i].name, vols, MAX_VOLUMES);
                if (nv < 0)
                        return nv;
                for (int j = 0; j < nv; j++) {
                        if (vols[j].thin_id >= 0)
                                ids[k++] = vols[j].thin_id;
                        if (vols[j].run_id >= 0 && !ram)
                                ids[k++] = vols[j].run_id;
                        if (vols[j].run_id >= 0 && (vols[j].flags & DVM_VOL_SNAP_ON_START) && vols[j].source_id >= 0)
                                ids[k++] = vols[j].source_id;
                }
        }
        /* and the revisions and imports of volumes (dvm_volume_*) */
        held = catalog_held_layers(pool->cat, &more);
        if (held < 0)
                return held;
        all = realloc(ids, ((size_t)k + (size_t)held + 1) * sizeof(*ids));
        if (!all)
                return -ENOMEM;
        ids = all;
        for (int i = 0; i < held; i++)
                ids[k++] = more[i];
        *ret = TAKE_PTR(ids);
        return k;
}

/* Calls @fn for every volume row of the pool, with whether its VM runs in RAM; stops at the
 * first error and returns it. */
typedef int volume_fn(dvm_pool *pool, struct cat_volume *v, bool ram, void *data);

static int each_volume(dvm_pool *pool, volume_fn *fn, void *data)
{
        _cleanup_free_ struct cat_vm *vms = NULL;
        int n = catalog_vm_list(pool->cat, &vms), r = 0;

        if (n < 0)
                return n;
        for (int i = 0; i < n && r >= 0; i++) {
                struct cat_volume vols[MAX_VOLUMES];
                bool ram = vm_in_ram(pool, vms[i].name);
                int nv = catalog_volume_list(pool->cat, vms[i].name, vols, MAX_VOLUMES);
                if (nv < 0)
                        return nv;
                for (int j = 0; j < nv && r >= 0; j++)
                        r = fn(pool, &vols[j], ram, data);
        }
        return r;
}

struct repair {
        const int64_t *kernel;
        int nk;
        struct dvm_recover_report *rep;
};

/* A row naming layers the pool lost: a lost running layer is gone with whatever it held (a
 * stop deletes running layers only after their wipe); a lost committed layer is a loss we
 * can only report. */
static int repair_row(dvm_pool *pool, struct cat_volume *v, bool ram, void *data)
{
        struct repair *rp = data;
        bool changed = false;

        if (v->run_id >= 0 && !ram && !has_id(rp->kernel, rp->nk, v->run_id)) {
                ctx_warn(pool->ctx, "pool %s: %s/%s: running layer %" PRId64 " is not in the pool; "
                         "dropping it from the catalog", pool->name, v->vm, v->name, v->run_id);
                v->run_id = -1;
                changed = true;
        }
        if (v->thin_id >= 0 && !has_id(rp->kernel, rp->nk, v->thin_id)) {
                ctx_log(pool->ctx, DVM_LOG_ERR, "pool %s: %s/%s: its committed layer %" PRId64
                        " is not in the pool: its data is lost", pool->name, v->vm, v->name, v->thin_id);
                v->thin_id = -1;
                changed = true;
        }
        if (!changed)
                return 0;
        rp->rep->rows_repaired++;
        return catalog_volume_put(pool->cat, v);
}

static int repair_rows(dvm_pool *pool, const int64_t *kernel, int nk, struct dvm_recover_report *rep)
{
        return each_volume(pool, repair_row, &(struct repair){ .kernel = kernel, .nk = nk, .rep = rep });
}

/* A layer the catalog keeps in the pool (as main_pool_ids()) is tidied for the role its row
 * gives it: what a stop cut short after its catalog commit left goes (the store a commit
 * was made from), and so does an unrecorded commit of a layer still running. */
static int tidy_volume(dvm_pool *pool, struct cat_volume *v, bool ram, void *data)
{
        struct layer run = volume_running_layer(v), committed = volume_committed_layer(v);
        int r = 0;

        (void)data;
        if (v->thin_id >= 0)
                r = pool->ops->layer_tidy(pool, &committed);
        if (r >= 0 && v->run_id >= 0 && !ram)
                r = pool->ops->layer_tidy(pool, &run);
        if (r >= 0 && v->run_id >= 0 && (v->flags & DVM_VOL_SNAP_ON_START) && v->source_id >= 0)
                r = pool->ops->layer_tidy(pool, &(struct layer){ .id = v->source_id, .origin = -1 });
        return r;
}

/* Layers: tidy those the catalog keeps, delete what no row accounts for (the leftovers of an
 * interrupted spawn, start, import, stop or destroy, or the old origin a commit released),
 * repair rows naming layers that are gone. */
static int layers(dvm_pool *pool, struct dvm_recover_report *rep)
{
        _cleanup_free_ int64_t *kernel = NULL, *cat = NULL;
        int nk, nc, r;

        if (pool->ops->layer_tidy && (r = each_volume(pool, tidy_volume, NULL)) < 0)
                return r;
        if (!pool->ops->layer_list)
                return 0;
        nk = pool->ops->layer_list(pool, &kernel);
        if (nk < 0)
                return nk;
        nc = main_pool_ids(pool, &cat);
        if (nc < 0)
                return nc;
        for (int i = 0; i < nk; i++) {
                if (has_id(cat, nc, kernel[i]))
                        continue;
                ctx_info(pool->ctx, "pool %s: deleting leftover layer %" PRId64, pool->name, kernel[i]);
                r = pool->ops->layer_delete(pool, kernel[i]);
                if (r == -EBUSY) {
                        /* a device someone holds still reads it: it goes once that is free */
                        ctx_warn(pool->ctx, "pool %s: leftover layer %" PRId64 " is in use; it goes once it is "
                                 "free: %s", pool->name, kernel[i], dvm_ctx_last_error(pool->ctx));
                        rep->pending++;
                        continue;
                }
                if (r < 0)
                        return r;
                rep->layers_deleted++;
        }
        r = catalog_begin(pool->cat);
        if (r < 0)
                return r;
        r = repair_rows(pool, kernel, nk, rep);
        if (r >= 0)
                r = catalog_commit(pool->cat);
        if (r < 0)
                catalog_rollback(pool->cat);
        return r;
}

static int intend(dvm_pool *pool, const struct cat_vm *vm, const char *why, struct dvm_recover_report *rep)
{
        struct cat_intent in = { .op = vm->kind == DVM_VM_DISPOSABLE && !vm->named ? CAT_INTENT_DESTROY : CAT_INTENT_STOP,
                                 .since = (int64_t)time(NULL) };
        _cleanup_free_ struct cat_intent *left = NULL;
        int n = catalog_intent_list(pool->cat, &left);

        if (n < 0)
                return n;
        /* a stop or destroy that was under way stays what it was: recovery finishes it */
        for (int i = 0; i < n; i++)
                if (strcmp(left[i].vm, vm->name) == 0)
                        return 0;

        snprintf(in.vm, sizeof(in.vm), "%s", vm->name);
        snprintf(in.error, sizeof(in.error), "%s", why);
        ctx_info(pool->ctx, "pool %s: %s %s: %s", pool->name, in.op == CAT_INTENT_DESTROY ? "destroying" : "stopping",
                 vm->name, why);
        rep->vms_reaped++;
        return catalog_intent_put(pool->cat, &in);
}

/* Running VMs: one whose devices are all gone (the host went down) can only be stopped;
 * one missing some has them brought back. Either way a stop finds its devices to wipe. */
static int running_vm(dvm_pool *pool, const struct cat_vm *vm, struct dvm_recover_report *rep,
                      struct lifecycle_doomed *dropped)
{
        struct cat_volume vols[MAX_VOLUMES];
        bool present[MAX_VOLUMES] = {};
        int n = catalog_volume_list(pool->cat, vm->name, vols, MAX_VOLUMES), layers = 0, devices = 0, r;

        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                char name[VOLUME_DM_NAME_MAX];
                if (vols[i].run_id < 0)
                        continue;
                layers++;
                present[i] = dm_info(pool->ctx, volume_dm_name(pool, vm->name, vols[i].name, name, sizeof(name)), NULL) == 0;
                devices += present[i];
        }
        if (vm_in_ram(pool, vm->name)) {
                /* its layers lived in RAM: if its RAM pool went (a reboot), so did they,
                 * with nothing left to wipe; the stop then has only rows to drop */
                char ram[VOLUME_DM_NAME_MAX];
                if (layers == devices)
                        return 0;
                if (dm_info(pool->ctx, ram_dm_name(pool, vm->name, ram, sizeof(ram)), NULL) == -ENXIO)
                        for (int i = 0; i < n; i++)
                                if (vols[i].run_id >= 0) {
                                        vols[i].run_id = -1;
                                        if ((r = catalog_volume_put(pool->cat, &vols[i])) < 0)
                                                return r;
                                        rep->rows_repaired++;
                                }
                return intend(pool, vm, "its RAM layers were gone", rep);
        }
        for (int i = 0; i < n; i++) {
                struct layer l = volume_running_layer(&vols[i]);
                char raw[VOLUME_DM_NAME_MAX];
                if (vols[i].run_id < 0 || present[i])
                        continue;
                /* a crypt volume whose crypt device went (its key with it) keeps nothing
                 * readable in its layer device: that goes too, and both come back */
                if (volume_ephemeral(&vols[i]) &&
                    (r = dm_remove(pool->ctx, volume_layer_dm_name(pool, &vols[i], raw, sizeof(raw)))) < 0 && r != -ENXIO)
                        return r;
                r = volume_activate(pool, &vols[i], &l);
                if (r == -ENOENT || r == -ESTALE) {
                        /* A file of the layer is gone (removed under it, or by an older
                         * version's stop cut short after it unlinked them), or a stop cut
                         * short after its wipe left it half down: nothing of it can come
                         * back; the stop or destroy below finishes without it, and what is
                         * left of it goes once the catalog no longer names it. */
                        ctx_log(pool->ctx, vols[i].flags & DVM_VOL_SAVE_ON_STOP ? DVM_LOG_ERR : DVM_LOG_WARNING,
                                "pool %s: %s/%s: running layer %" PRId64 " cannot come back (%s); dropping it "
                                "from the catalog%s", pool->name, vm->name, vols[i].name, vols[i].run_id,
                                dvm_ctx_last_error(pool->ctx),
                                vols[i].flags & DVM_VOL_SAVE_ON_STOP ? ": the changes of its last run are lost" : "");
                        if (dropped->n < ARRAY_SIZE(dropped->ids))
                                dropped->ids[dropped->n++] = vols[i].run_id;
                        vols[i].run_id = -1;
                        if ((r = catalog_volume_put(pool->cat, &vols[i])) < 0)
                                return r;
                        rep->rows_repaired++;
                        layers--;
                        continue;
                }
                if (r < 0)
                        return r;
                rep->devices_activated++;
        }
        if (layers == n && devices > 0)
                return 0;
        return intend(pool, vm, devices == 0 ? "its devices were gone (the host went down?)"
                                             : "some of its running layers were gone", rep);
}

static int vms(dvm_pool *pool, struct dvm_recover_report *rep)
{
        _cleanup_free_ struct cat_vm *list = NULL;
        struct lifecycle_doomed dropped = {};
        int n = catalog_vm_list(pool->cat, &list), r;

        if (n < 0)
                return n;
        r = catalog_begin(pool->cat);
        if (r < 0)
                return r;
        for (int i = 0; i < n && r >= 0; i++)
                if (list[i].running)
                        r = running_vm(pool, &list[i], rep, &dropped);
                else if (list[i].kind == DVM_VM_QUBE && pool->recover &&
                         (r = pool->recover->qube_volumes(pool, list[i].name, &dropped)) > 0)
                        rep->vms_reaped += (unsigned)r;
        if (r >= 0)
                r = catalog_commit(pool->cat);
        if (r < 0) {
                catalog_rollback(pool->cat);
                return r;
        }
        /* the files of the layers dropped, now that no row names them */
        if (dropped.n)
                lifecycle_reap(pool, &dropped);
        return 0;
}

/* Loops over the pool's files that no device uses: a crash between attach and table. */
static int loops(dvm_pool *pool, struct dvm_recover_report *rep)
{
        DIR *d = opendir("/sys/block");
        struct dirent *de;
        size_t dl = strlen(pool->dir);

        if (!d)
                return 0;
        while ((de = readdir(d))) {
                char path[300], backing[4096], dev[300];
                DIR *h;
                struct dirent *he;
                bool held = false;

                if (strncmp(de->d_name, "loop", 4) != 0)
                        continue;
                snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", de->d_name);
                if (text_read_line(path, backing, sizeof(backing)) < 0 || strncmp(backing, pool->dir, dl) != 0 ||
                    backing[dl] != '/')
                        continue;
                snprintf(path, sizeof(path), "/sys/block/%s/holders", de->d_name);
                h = opendir(path);
                while (h && (he = readdir(h)))
                        held |= he->d_name[0] != '.';
                if (h)
                        closedir(h);
                if (held)
                        continue;
                snprintf(dev, sizeof(dev), "/dev/%s", de->d_name);
                ctx_info(pool->ctx, "pool %s: detaching %s, a loop over %s that nothing uses", pool->name, dev, backing);
                if (loop_detach(pool->ctx, dev) >= 0)
                        rep->loops_detached++;
        }
        closedir(d);
        return 0;
}

/* Disks of domains that died without the toolstack's remove: released by the Xen layer
 * (pool->recover), before the running VMs are looked at, as a VM made for such a domain goes
 * with its last disk. */
static int dead_disks(dvm_pool *pool, struct dvm_recover_report *rep)
{
        if (!pool->recover || !pool->recover->dead_disks)
                return 0;
        return pool->recover->dead_disks(pool, rep);
}

int reconcile(dvm_pool *pool, struct dvm_recover_report *rep)
{
        int r;

        if ((r = reconcile_devices(pool, rep)) < 0 || (r = layers(pool, rep)) < 0 || (r = dead_disks(pool, rep)) < 0 ||
            (r = vms(pool, rep)) < 0)
                return r;
        return loops(pool, rep);
}
