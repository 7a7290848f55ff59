// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The refill of preloaded disposables (preload_fill.h) and the public preload calls: the
 * worker builds ready ones exactly as a spawn builds one (fresh layers, a fresh volatile
 * key, the next "disp<N>" name), and wipes outdated and surplus ones, one step at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/later.h"
#include "lifecycle/pool_change.h"
#include "lifecycle/preload.h"
#include "lifecycle/preload_fill.h"
#include "lifecycle/space.h"
#include "lifecycle/vm.h"
#include "store/catalog_preload.h"
#include "store/catalog_vm.h"
#include "util/fault.h"

static int note(dvm_pool *pool, const struct cat_preload *p, const char *why)
{
        struct cat_preload q = *p;

        if (strcmp(p->note, why) == 0)
                return 0;
        snprintf(q.note, sizeof(q.note), "%s", why);
        return POOL_TRANSACTION(pool, catalog_preload_put(pool->cat, &q));
}

/* Build one ready disposable of @dvm: a spawn without a take, its ready row in the same
 * transaction (a crash before the commit leaves nothing recovery keeps). */
static int build(dvm_pool *pool, const char *dvm, char ret_name[DVM_NAME_MAX + 1])
{
        int r = space_guard_check(pool, "preload", 0);

        if (r < 0)
                return r;
        if ((r = vm_spawn_built(pool, dvm, ret_name)) < 0)
                return r;
        FAULT_POINT("preload.built");
        return catalog_ready_put(pool->cat, ret_name, dvm);
}

static bool skipped(const struct preload_skip *s, const char *dvm)
{
        for (unsigned i = 0; i < s->n; i++)
                if (strcmp(s->names[i], dvm) == 0)
                        return true;
        return false;
}

/* The step for setting @p: 1 when one was done, 0 when it has none, or -errno. */
static int step(dvm_pool *pool, const struct cat_preload *p, struct preload_skip *skip)
{
        _cleanup_free_ char(*ready)[DVM_NAME_MAX + 1] = NULL;
        int n = catalog_ready_list(pool->cat, p->dvm, &ready), good = 0, r;
        char name[DVM_NAME_MAX + 1];

        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                if (!preload_still_ready(pool, ready[i], p->dvm))
                        return POOL_TRANSACTION(pool, catalog_ready_delete(pool->cat, ready[i])) < 0 ? -EIO : 1;
                /* outdated, or one more than kept (the oldest are the ones kept) */
                bool old = preload_outdated(pool, ready[i], true) > 0;
                if (old || (unsigned)good >= p->count) {
                        if ((r = preload_queue_wipe(pool, ready[i])) < 0)
                                return r;
                        ctx_info(pool->ctx, "pool %s: preload of %s: %s queued for its wipe (%s)", pool->name, p->dvm,
                                 ready[i], old ? "outdated" : "more than kept");
                        return 1;
                }
                good++;
        }
        if ((unsigned)good >= p->count || skipped(skip, p->dvm))
                return 0;
        r = POOL_TRANSACTION(pool, build(pool, p->dvm, name));
        if (r >= 0) {
                ctx_info(pool->ctx, "pool %s: preload of %s: %s is ready (%d of %u)", pool->name, p->dvm, name,
                         good + 1, p->count);
                if (p->note[0] && good + 1 >= (int)p->count)
                        note(pool, p, "");
                return 1;
        }
        char why[sizeof(p->note)];
        snprintf(why, sizeof(why), "%d of %u ready: %s", good, p->count, dvm_ctx_last_error(pool->ctx));
        ctx_warn(pool->ctx, "pool %s: preload of %s keeps %s", pool->name, p->dvm, why);
        note(pool, p, why);
        if (skip->n < ARRAY_SIZE(skip->names))
                snprintf(skip->names[skip->n++], DVM_NAME_MAX + 1, "%s", p->dvm);
        return 0;
}

bool preload_refill_due(dvm_pool *pool, const struct preload_skip *skip)
{
        _cleanup_free_ struct cat_preload *list = NULL;
        int n = catalog_preload_list(pool->cat, &list);

        for (int i = 0; i < n; i++) {
                _cleanup_free_ char(*ready)[DVM_NAME_MAX + 1] = NULL;
                int k = catalog_ready_list(pool->cat, list[i].dvm, &ready);
                unsigned good = 0;
                if (skipped(skip, list[i].dvm) || k < 0)
                        continue;
                for (int j = 0; j < k; j++)
                        good += preload_still_ready(pool, ready[j], list[i].dvm) && preload_outdated(pool, ready[j], false) == 0;
                if (good != list[i].count || (unsigned)k != good)
                        return true;
        }
        return false;
}

void preload_recovered(dvm_pool *pool)
{
        /* at boot (the unit's recover), ready disposables went with the host: refill */
        if (preload_wanted(pool))
                later_kick(pool);
}

int preload_refill_one(dvm_pool *pool, struct preload_skip *skip)
{
        _cleanup_free_ struct cat_preload *list = NULL;
        int r, n;

        /* no change (not even the dirty mark) in a pool that preloads nothing */
        if (!preload_wanted(pool))
                return 0;
        if ((r = pool_lock(pool)) < 0)
                return r;
        r = pool_change_begin(pool);
        n = r < 0 ? r : catalog_preload_list(pool->cat, &list);
        r = n < 0 ? n : 0;
        for (int i = 0; i < n && r == 0; i++)
                r = step(pool, &list[i], skip);
        pool_change_end(pool, r);
        pool_unlock(pool);
        return r;
}

/* ---- the public calls ---- */

/* 0 when @dvm is a DVM Template of the pool, else -ENOENT or -EINVAL with the message a
 * preload call gives */
static int dvm_template_check(dvm_pool *pool, const char *dvm)
{
        struct cat_vm vm;
        int r = catalog_vm_get(pool->cat, dvm, &vm);

        if (r == -ENOENT || (r == 0 && vm.kind != DVM_VM_DVM_TEMPLATE))
                return ctx_error(pool->ctx, r ? -ENOENT : -EINVAL, "preload of %s: %s", dvm,
                                 r ? "no such DVM Template in this pool" : "it is not a DVM Template");
        return r;
}

static int set(dvm_pool *pool, const char *dvm, unsigned count)
{
        struct cat_preload p = { .count = count };
        int r = dvm_template_check(pool, dvm);

        if (r < 0)
                return r;
        if (count > DVM_PRELOAD_MAX)
                return ctx_error(pool->ctx, -EINVAL, "preload of %s: count %u is above %u", dvm, count,
                                 DVM_PRELOAD_MAX);
        if (count == 0)
                return preload_drop(pool, dvm);
        snprintf(p.dvm, sizeof(p.dvm), "%s", dvm);
        r = POOL_TRANSACTION(pool, catalog_preload_put(pool->cat, &p));
        /* said now, and again by each refill it limits (the note of the setting) */
        if (r >= 0 && space_guard_check(pool, "preload", 0) < 0)
                ctx_warn(pool->ctx, "preload of %s: no disposable is made ready for now: %s", dvm,
                         dvm_ctx_last_error(pool->ctx));
        return r;
}

int dvm_preload_set(dvm_pool *pool, const char *dvm, unsigned count)
{
        int r = pool_lock(pool);

        if (r < 0)
                return r;
        r = pool_change_begin(pool);
        if (r >= 0)
                r = set(pool, dvm, count);
        pool_change_end(pool, r);
        pool_unlock(pool);
        /* the worker builds them, or wipes those no longer kept */
        if (r >= 0)
                later_kick(pool);
        return r;
}

static void describe(dvm_pool *pool, const struct cat_preload *p, struct dvm_preload_info *ret)
{
        _cleanup_free_ char(*ready)[DVM_NAME_MAX + 1] = NULL;
        int n = catalog_ready_list(pool->cat, p->dvm, &ready);

        *ret = (struct dvm_preload_info){ .count = p->count };
        snprintf(ret->dvm, sizeof(ret->dvm), "%s", p->dvm);
        snprintf(ret->note, sizeof(ret->note), "%s", p->note);
        for (int i = 0; i < n; i++)
                if (preload_still_ready(pool, ready[i], p->dvm)) {
                        ret->ready++;
                        ret->outdated += preload_outdated(pool, ready[i], true) > 0;
                }
}

int dvm_preload_get(dvm_pool *pool, const char *dvm, struct dvm_preload_info *ret_info)
{
        struct cat_preload p = {};
        int r = dvm_template_check(pool, dvm);

        if (r < 0)
                return r;
        r = catalog_preload_get(pool->cat, dvm, &p);
        if (r < 0 && r != -ENOENT)
                return r;
        snprintf(p.dvm, sizeof(p.dvm), "%s", dvm);
        describe(pool, &p, ret_info);
        return 0;
}

int dvm_preload_list(dvm_pool *pool, struct dvm_preload_info **ret_list)
{
        _cleanup_free_ struct cat_preload *list = NULL;
        _cleanup_free_ struct dvm_preload_info *out = NULL;
        int n = catalog_preload_list(pool->cat, &list);

        if (n < 0)
                return n;
        out = calloc((size_t)n + 1, sizeof(*out));
        if (!out)
                return -ENOMEM;
        for (int i = 0; i < n; i++)
                describe(pool, &list[i], &out[i]);
        *ret_list = TAKE_PTR(out);
        return n;
}
