// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Revisions of a save_on_stop volume: the committed layers its commits replaced, the
 * newest revisions_to_keep of them kept; revert makes one current again (Qubes' revisions
 * and revert).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lifecycle/volume.h"
#include "lifecycle/volume_api.h"
#include "store/catalog_layer.h"
#include "store/catalog_volume.h"

static void doom(struct lifecycle_doomed *d, int64_t id)
{
        if (id >= 0 && d->n < ARRAY_SIZE(d->ids))
                d->ids[d->n++] = id;
}

int revisions_commit(dvm_pool *pool, const struct cat_volume *v, int64_t old, uint64_t old_size,
                     struct lifecycle_doomed *doomed)
{
        _cleanup_free_ struct cat_revision *revs = NULL;
        unsigned keep;
        int r = catalog_volume_keep_get(pool->cat, v->vm, v->name, &keep), n;

        if (r < 0)
                return r;
        if (keep && old >= 0) {
                struct cat_revision rev = { .id = old, .time = (int64_t)time(NULL), .size = old_size };
                if ((r = catalog_revision_add(pool->cat, v->vm, v->name, &rev)) < 0)
                        return r;
        }
        n = catalog_revision_list(pool->cat, v->vm, v->name, &revs);
        if (n < 0)
                return n;
        /* the oldest beyond what the volume keeps go, as many as this change can reap; the
         * next commit takes the rest */
        for (int i = n - 1; i >= (int)keep && doomed->n < ARRAY_SIZE(doomed->ids); i--) {
                if ((r = catalog_revision_delete(pool->cat, revs[i].id)) < 0)
                        return r;
                doom(doomed, revs[i].id);
        }
        return 0;
}

int dvm_volume_revisions(dvm_pool *pool, const char *vm, const char *volume, struct dvm_volume_revision **ret_revisions)
{
        _cleanup_free_ struct cat_revision *revs = NULL;
        _cleanup_free_ struct dvm_volume_revision *out = NULL;
        struct cat_volume v;
        int r = pool_lock(pool), n;

        if (r < 0)
                return r;
        r = volume_api_lookup(pool, vm, volume, &v);
        n = r < 0 ? r : catalog_revision_list(pool->cat, vm, volume, &revs);
        pool_unlock(pool);
        if (n < 0)
                return n;
        out = calloc((size_t)n + 1, sizeof(*out));
        if (!out)
                return -ENOMEM;
        for (int i = 0; i < n; i++)
                out[i] = (struct dvm_volume_revision){ .id = revs[i].id, .time = revs[i].time, .size = revs[i].size };
        *ret_revisions = TAKE_PTR(out);
        return n;
}

struct revert {
        const char *vm, *volume;
        int64_t revision;
};

static int revert(dvm_pool *pool, void *data, struct lifecycle_doomed *doomed)
{
        const struct revert *rv = data;
        _cleanup_free_ struct cat_revision *revs = NULL;
        const struct cat_revision *pick = NULL;
        struct cat_volume v;
        int64_t import_id;
        uint64_t import_size;
        struct layer l;
        int r = volume_api_lookup(pool, rv->vm, rv->volume, &v), n;

        if (r < 0)
                return r;
        if (v.run_id >= 0)
                return ctx_error(pool->ctx, -EBUSY, "%s/%s is dirty (it runs, or its stop never came): stop it before "
                                 "reverting", v.vm, v.name);
        if (catalog_import_get(pool->cat, v.vm, v.name, &import_id, &import_size) == 0)
                return ctx_error(pool->ctx, -EBUSY, "%s/%s: an import is under way: end it before reverting", v.vm,
                                 v.name);
        n = catalog_revision_list(pool->cat, v.vm, v.name, &revs);
        if (n < 0)
                return n;
        for (int i = 0; i < n && !pick; i++)
                if (rv->revision < 0 || revs[i].id == rv->revision)
                        pick = &revs[i];
        if (!pick)
                return rv->revision < 0 ? ctx_error(pool->ctx, -ENOENT, "%s/%s has no revision to revert to", v.vm, v.name)
                                        : ctx_error(pool->ctx, -ENOENT, "%s/%s has no revision %" PRId64, v.vm, v.name,
                                                    rv->revision);
        /* as lvm_thin: the revision stays, a copy of it becomes the committed layer and the
         * committed layer it replaces goes */
        l = (struct layer){ .origin = pick->id, .size = pick->size };
        if ((r = catalog_thin_id_alloc(pool->cat, &l.id)) < 0)
                return r;
        r = pool->ops->layer_snap(pool, &l, NULL);
        if (r >= 0 && (r = pool->ops->layer_commit(pool, &l)) >= 0) {
                doom(doomed, v.thin_id);
                v.thin_id = l.id;
                v.size = pick->size;
                r = catalog_volume_put(pool->cat, &v);
        }
        if (r < 0)
                pool->ops->layer_delete(pool, l.id);
        return r;
}

int dvm_volume_revert(dvm_pool *pool, const char *vm, const char *volume, int64_t revision)
{
        struct revert rv = { vm, volume, revision };
        int r = volume_api_check(pool, vm, volume);

        return r < 0 ? r : volume_api_change(pool, revert, &rv);
}
