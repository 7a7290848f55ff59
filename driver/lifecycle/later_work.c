// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The worker's drain (later.h): the wipes left by destroys, one VM at a time, then the
 * refill of preloaded disposables (preload.h), one step at a time. The pool lock
 * is held only to plan a wipe and to finish it (devices removed, layers released); the
 * zeros are written without it, under the claim (later_claim()), so a spawn or destroy
 * meanwhile does not wait for them. One worker per pool holds <pool dir>/worker.lock; it
 * looks at the queue once more after it lets go of the lock, for work queued while a
 * worker it kept out gave up.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "lifecycle/later.h"
#include "lifecycle/pool_change.h"
#include "lifecycle/preload_fill.h"
#include "lifecycle/vm.h"
#include "lifecycle/wipe.h"
#include "store/catalog_intent.h"
#include "util/fault.h"

#define SKIP_MAX 64

/* VMs whose wipe failed in this run: they wait for the next worker or recover. */
struct skip {
        unsigned n;
        char names[SKIP_MAX][DVM_NAME_MAX + 1];
};

static bool skipped(const struct skip *s, const char *name)
{
        for (unsigned i = 0; i < s->n; i++)
                if (strcmp(s->names[i], name) == 0)
                        return true;
        return false;
}

/* The oldest wipe left that this run has not failed; false when none is. */
static bool next(dvm_pool *pool, const struct skip *s, char ret[DVM_NAME_MAX + 1])
{
        _cleanup_free_ struct cat_intent *list = NULL;
        int n = catalog_intent_list(pool->cat, &list);

        for (int i = 0; i < n; i++)
                if (list[i].op == CAT_INTENT_WIPE && !skipped(s, list[i].vm)) {
                        snprintf(ret, DVM_NAME_MAX + 1, "%s", list[i].vm);
                        return true;
                }
        return false;
}

static void note(dvm_pool *pool, const char *name, const char *why)
{
        struct cat_intent in = { .op = CAT_INTENT_WIPE, .since = (int64_t)time(NULL) };

        snprintf(in.vm, sizeof(in.vm), "%s", name);
        snprintf(in.error, sizeof(in.error), "%s", why);
        if (POOL_TRANSACTION(pool, catalog_intent_put(pool->cat, &in)) < 0)
                ctx_debug(pool->ctx, "pool %s: %s: cannot note why its wipe waits", pool->name, name);
}

/* Under the pool lock and the claim: plan the wipe of @name. Returns 1 and the job, 0 when
 * someone else (a recovery, a destroy --wait) finished it first, or -errno. */
static int plan(dvm_pool *pool, const char *name, int *ret_claim, struct wipe_job **ret_job)
{
        struct cat_vm vm;
        int r = pool_lock(pool);

        if (r < 0)
                return r;
        /* no change at all, not even the dirty mark, for a wipe that is gone */
        if (!later_pending(pool, name)) {
                pool_unlock(pool);
                return 0;
        }
        /* the recovery the change may run first finishes queued wipes after a crash, under
         * the claim of its own: ours comes after it. Nobody else holds the claim under the
         * pool lock: those who take it there let go before they let go of the lock. */
        r = pool_change_begin(pool);
        if (r >= 0)
                r = later_claim(pool, false, ret_claim);
        /* that recovery may have finished it */
        if (r >= 0 && later_pending(pool, name) && (r = catalog_vm_get(pool->cat, name, &vm)) >= 0 &&
            (r = later_wipe_begin(pool, &vm, ret_job)) >= 0)
                r = 1;
        pool_change_end(pool, r);
        pool_unlock(pool);
        return r;
}

/* Finish the wipe of @name: plan it under the pool lock, write its zeros without the lock,
 * then remove what is left under the lock again. Returns 1 when it was done, 0 when someone
 * else did it, or -errno. */
static int one(dvm_pool *pool, const char *name)
{
        _cleanup_close_ int claim = -1;
        struct wipe_job *job = NULL;
        int r = plan(pool, name, &claim, &job);

        if (r <= 0 || !job)
                return r;
        FAULT_POINT("later.wiping");
        r = wipe_run(job);
        wipe_job_free(job);
        if (r < 0) {
                later_zero_drop(pool, "a wipe failed");
                return r;
        }
        /* let go of the claim before waiting for the pool lock: a holder of that lock may
         * wait for the claim */
        close(claim);
        claim = -1;
        if ((r = pool_lock(pool)) < 0)
                return r;
        if (later_pending(pool, name)) {
                r = pool_change_begin(pool);
                /* the finish trusts the zeros this worker wrote (pool->wipe_done) */
                pool->wipe_done = true;
                if (r >= 0 && later_pending(pool, name))
                        r = vm_finish(pool, name, CAT_INTENT_WIPE);
                pool->wipe_done = false;
                pool_change_end(pool, r);
        }
        /* finished by someone else meanwhile: what we wiped is no longer ours to vouch for */
        pool_wiped_forget(pool);
        pool_unlock(pool);
        return r < 0 ? r : 1;
}

int dvm_pool_work(dvm_pool *pool, unsigned flags)
{
        _cleanup_free_ char *path = pool_path(pool, "worker.lock");
        char name[DVM_NAME_MAX + 1];
        struct skip skip = {};
        struct preload_skip pskip = {};
        bool refill_failed = false;
        int done = 0;

        if (!path)
                return -ENOMEM;
        for (;;) {
                _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return ctx_error(pool->ctx, -errno, "pool %s: cannot open %s: %m", pool->name, path);
                if (flock(fd, LOCK_EX | (flags & DVM_WORK_TRY ? LOCK_NB : 0)) < 0) {
                        if (errno == EWOULDBLOCK)
                                return done; /* the worker holding it looks again before it goes */
                        return ctx_error(pool->ctx, -errno, "pool %s: cannot lock %s: %m", pool->name, path);
                }
                for (;;) {
                        if (!next(pool, &skip, name)) {
                                /* wipes first: they give back the space a refill needs */
                                int q = preload_refill_one(pool, &pskip);
                                if (q > 0) {
                                        done++;
                                        continue;
                                }
                                if (q < 0)
                                        refill_failed = true;
                                if (q < 0)
                                        ctx_warn(pool->ctx, "pool %s: the refill of preloaded disposables waits: %s",
                                                 pool->name, dvm_ctx_last_error(pool->ctx));
                                break;
                        }
                        int r = one(pool, name);
                        if (r == 0)
                                continue;
                        if (r > 0) {
                                ctx_info(pool->ctx, "pool %s: wiped and removed %s", pool->name, name);
                                done++;
                                continue;
                        }
                        ctx_warn(pool->ctx, "pool %s: the wipe of %s waits: %s", pool->name, name,
                                 dvm_ctx_last_error(pool->ctx));
                        note(pool, name, dvm_ctx_last_error(pool->ctx));
                        if (skip.n < SKIP_MAX)
                                snprintf(skip.names[skip.n++], DVM_NAME_MAX + 1, "%s", name);
                        else
                                break;
                }
                flock(fd, LOCK_UN);
                /* a spawn that took a ready one while this worker held the lock kicked one
                 * that gave up: look again */
                if (skip.n >= SKIP_MAX || (!next(pool, &skip, name) && (refill_failed || !preload_refill_due(pool, &pskip))))
                        return done;
        }
}
