// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Export and import of a qube's volume (Qubes' export/export_end, import_data/_end): an
 * export is a read-only view device of the committed layer, which recovery removes when
 * the process that made it is gone; an import writes a new layer through a device of its
 * own, recorded in the catalog until it is committed or dropped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kernel/dm.h"
#include "lifecycle/layer_view.h"
#include "lifecycle/space.h"
#include "lifecycle/volume.h"
#include "lifecycle/volume_api.h"
#include "store/catalog_layer.h"
#include "store/catalog_volume.h"

#define MAPPER "/dev/mapper/"

int dvm_volume_export(dvm_pool *pool, const char *vm, const char *volume, char ret_path[DVM_VOLUME_PATH_MAX])
{
        char name[VOLUME_DM_NAME_MAX];
        struct cat_volume v;
        struct layer l;
        int r = pool_lock(pool);

        if (r < 0)
                return r;
        r = volume_api_lookup(pool, vm, volume, &v);
        if (r >= 0 && v.thin_id < 0)
                r = ctx_error(pool->ctx, -ENOENT, "%s/%s has no committed layer to export (a volatile or "
                              "snap_on_start volume: export its source)", vm, volume);
        if (r >= 0) {
                l = volume_committed_layer(&v);
                layer_view_dm_name(pool, l.id, name, sizeof(name));
                r = pool->ops->activate(pool, name, &l, true);
                if (r < 0)
                        r = ctx_error(pool->ctx, r, "%s/%s: cannot export layer %" PRId64 ": %s", vm, volume, l.id,
                                      dvm_ctx_last_error(pool->ctx));
        }
        if (r >= 0)
                snprintf(ret_path, DVM_VOLUME_PATH_MAX, MAPPER "%s", name);
        pool_unlock(pool);
        return r;
}

int dvm_volume_export_end(dvm_pool *pool, const char *vm, const char *volume, const char *path)
{
        const char *name = path && strncmp(path, MAPPER, strlen(MAPPER)) == 0 ? path + strlen(MAPPER) : "";
        char shown[256];
        struct cat_volume v;
        int64_t id;
        int pid, r = pool_lock(pool);

        if (r < 0)
                return r;
        r = volume_api_lookup(pool, vm, volume, &v);
        if (r >= 0 && layer_view_name_parse(name, pool->name, &id, &pid) < 0)
                r = ctx_error(pool->ctx, -EINVAL, "%s/%s: \"%s\" is no export of pool %s", vm, volume,
                              ctx_printable(path ? path : "", shown, sizeof(shown)), pool->name);
        if (r >= 0) {
                r = pool->ops->deactivate(pool, name, &(struct layer){ .id = id, .origin = -1, .size = v.size });
                if (r < 0)
                        r = ctx_error(pool->ctx, r, "%s/%s: export %s stays: %s", vm, volume, path,
                                      dvm_ctx_last_error(pool->ctx));
                else
                        layer_view_reap_orphan(pool, id);
        }
        pool_unlock(pool);
        return r;
}

/* "DVM-<pool>+import-<vm>-<volume>": no volume device name holds a '+'. */
static char *import_dm_name(const dvm_pool *pool, const struct cat_volume *v, char *buf, size_t len)
{
        snprintf(buf, len, "%s+import-%s-%s", pool->dm_name, v->vm, v->name);
        return buf;
}

struct import {
        const char *vm, *volume;
        uint64_t size;
        bool commit;
        char path[DVM_VOLUME_PATH_MAX];
};

static int begin(dvm_pool *pool, void *data, struct lifecycle_doomed *doomed)
{
        struct import *im = data;
        char name[VOLUME_DM_NAME_MAX];
        struct cat_volume v;
        struct layer l = { .origin = -1 };
        int64_t id;
        uint64_t size;
        int r = volume_api_lookup(pool, im->vm, im->volume, &v);

        (void)doomed;
        if (r < 0)
                return r;
        if (!(v.flags & DVM_VOL_SAVE_ON_STOP))
                return ctx_error(pool->ctx, -EINVAL, "%s/%s is not save_on_stop: it keeps no data to import into",
                                 v.vm, v.name);
        if (v.run_id >= 0)
                return ctx_error(pool->ctx, -EBUSY, "%s/%s is dirty (it runs, or its stop never came): stop it before "
                                 "importing", v.vm, v.name);
        if (catalog_import_get(pool->cat, v.vm, v.name, &id, &size) == 0)
                return ctx_error(pool->ctx, -EBUSY, "%s/%s: an import is under way already", v.vm, v.name);
        if ((r = space_guard_check(pool, "import", 0)) < 0)
                return ctx_error(pool->ctx, r, "%s/%s: %s", v.vm, v.name, dvm_ctx_last_error(pool->ctx));
        l.size = im->size ? im->size : v.size;
        if ((r = catalog_thin_id_alloc(pool->cat, &l.id)) < 0 || (r = pool->ops->layer_new(pool, &l)) < 0)
                return r;
        r = catalog_import_put(pool->cat, v.vm, v.name, l.id, l.size);
        if (r >= 0)
                r = pool->ops->activate(pool, import_dm_name(pool, &v, name, sizeof(name)), &l, false);
        if (r < 0) {
                pool->ops->layer_delete(pool, l.id);
                return r;
        }
        snprintf(im->path, sizeof(im->path), MAPPER "%s", name);
        return 0;
}

int dvm_volume_import_begin(dvm_pool *pool, const char *vm, const char *volume, uint64_t size,
                            char ret_path[DVM_VOLUME_PATH_MAX])
{
        struct import im = { .vm = vm, .volume = volume, .size = size };
        int r = volume_api_check(pool, vm, volume);

        if (r >= 0 && (size % 512 || size > (UINT64_MAX >> 1)))
                r = ctx_error(pool->ctx, -EINVAL, "%s/%s: invalid import size %llu (must be a multiple of 512)", vm,
                              volume, (unsigned long long)size);
        if (r >= 0)
                r = volume_api_change(pool, begin, &im);
        if (r >= 0)
                snprintf(ret_path, DVM_VOLUME_PATH_MAX, "%s", im.path);
        return r;
}

static int end(dvm_pool *pool, void *data, struct lifecycle_doomed *doomed)
{
        const struct import *im = data;
        char name[VOLUME_DM_NAME_MAX];
        struct cat_volume v;
        struct layer l = { .origin = -1 };
        int64_t old;
        uint64_t old_size;
        bool present;
        int r = volume_api_lookup(pool, im->vm, im->volume, &v);

        if (r < 0)
                return r;
        if (catalog_import_get(pool->cat, v.vm, v.name, &l.id, &l.size) < 0)
                return ctx_error(pool->ctx, -ENOENT, "%s/%s: no import is under way", v.vm, v.name);
        import_dm_name(pool, &v, name, sizeof(name));
        present = dm_info(pool->ctx, name, NULL) == 0;
        if (im->commit && !present)
                return ctx_error(pool->ctx, -ENOENT, "%s/%s: the import was cut short (its device %s is gone): end it "
                                 "without committing", v.vm, v.name, name);
        if (present && (r = pool->ops->deactivate(pool, name, &l)) < 0)
                return ctx_error(pool->ctx, r, "%s/%s: cannot end the import: %s", v.vm, v.name,
                                 dvm_ctx_last_error(pool->ctx));
        if ((r = catalog_import_delete(pool->cat, v.vm, v.name)) < 0)
                return r;
        if (!im->commit) {
                if (doomed->n < ARRAY_SIZE(doomed->ids))
                        doomed->ids[doomed->n++] = l.id;
                return 0;
        }
        old = v.thin_id;
        old_size = v.size;
        v.thin_id = l.id;
        v.size = l.size;
        if ((r = catalog_volume_put(pool->cat, &v)) < 0)
                return r;
        if (old >= 0 && doomed->n < ARRAY_SIZE(doomed->ids))
                doomed->ids[doomed->n++] = old;
        return revisions_commit(pool, &v, old, old_size, doomed);
}

int dvm_volume_import_end(dvm_pool *pool, const char *vm, const char *volume, bool commit)
{
        struct import im = { .vm = vm, .volume = volume, .commit = commit };
        int r = volume_api_check(pool, vm, volume);

        return r < 0 ? r : volume_api_change(pool, end, &im);
}
