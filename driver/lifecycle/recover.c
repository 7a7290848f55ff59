// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Recovery: finish or roll back what a crash left in flight. A pool needs it when its
 * transaction id (or, without one, the catalog's dirty mark) says a change was under way,
 * when the host has rebooted since the pool was last seen, or when intents are left. The
 * kernel is reconciled with the catalog (reconcile.c), then every intent is carried out by
 * the ordinary stop and destroy code, which the pool's opener hands down (pool->recover). Runs before every change of a pool, at boot, and by
 * `dvm-vol recover`.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "lifecycle/busy.h"
#include "lifecycle/reconcile.h"
#include "lifecycle/recover.h"
#include "lifecycle/recover_actions.h"
#include "store/catalog_intent.h"
#include "util/fault.h"

static int boot_id(char buf[64])
{
        _cleanup_close_ int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
        ssize_t n;

        buf[0] = 0;
        if (fd < 0)
                return -errno;
        n = read(fd, buf, 63);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

/* Whether the kernel's record and the catalog's agree that no change is under way: one
 * read of the catalog's marks and, for a pool with a transaction id, one status of the
 * pool, which commits nothing (thin_state_txn_get()). */
static int clean(dvm_pool *pool, bool *ret_clean)
{
        struct cat_marks m;
        uint64_t kernel;
        char boot[64];
        int r;

        *ret_clean = false;
        if ((r = catalog_meta_marks(pool->cat, &m)) < 0)
                return r;
        if (boot_id(boot) < 0 || !m.boot_id[0] || strcmp(m.boot_id, boot) != 0)
                return 0;
        if (!pool->ops->txn_get) {
                *ret_clean = !m.dirty;
                return 0;
        }
        r = pool->ops->txn_get(pool, &kernel);
        if (r < 0)
                return r;
        /* an in-RAM VM's change marks the catalog, not the pool's metadata */
        *ret_clean = m.has_transaction_id && m.transaction_id == kernel && !m.dirty;
        return 0;
}

/* Mark the pool dirty for a change: the kernel's transaction id moves one ahead of what
 * the catalog records (or the catalog says dirty). Returns the id the change ends on. */
int recover_mark_dirty(dvm_pool *pool, bool in_catalog, uint64_t *ret_txn)
{
        uint64_t kernel = 0;
        int r;

        if (!pool->ops->txn_get || in_catalog) {
                r = catalog_begin(pool->cat);
                if (r >= 0 && (r = catalog_meta_set(pool->cat, "dirty", "1")) >= 0)
                        r = catalog_commit(pool->cat);
                if (r < 0)
                        catalog_rollback(pool->cat);
                *ret_txn = 0;
                return r;
        }
        r = pool->ops->txn_get(pool, &kernel);
        if (r < 0)
                return r;
        r = pool->ops->txn_set(pool, kernel, kernel + 1);
        if (r < 0)
                return r;
        *ret_txn = kernel + 1;
        return 0;
}

void recover_unmark_dirty(dvm_pool *pool, uint64_t txn)
{
        if (pool->ops->txn_set && txn) {
                pool->ops->txn_set(pool, txn, txn - 1);
                return;
        }
        if (catalog_begin(pool->cat) < 0)
                return;
        if (catalog_meta_set(pool->cat, "dirty", "0") < 0 || catalog_commit(pool->cat) < 0)
                catalog_rollback(pool->cat);
}

int recover_mark_clean(dvm_pool *pool, uint64_t txn)
{
        char boot[64];
        int r = catalog_begin(pool->cat);

        if (r < 0)
                return r;
        if (boot_id(boot) >= 0)
                r = catalog_meta_set(pool->cat, "boot_id", boot);
        if (r >= 0 && pool->ops->txn_get && txn)
                r = catalog_meta_set_u64(pool->cat, "transaction_id", txn);
        if (r >= 0)
                r = catalog_meta_set(pool->cat, "dirty", "0");
        if (r >= 0)
                r = catalog_commit(pool->cat);
        if (r < 0)
                catalog_rollback(pool->cat);
        return r;
}

static void note(dvm_pool *pool, struct cat_intent *in, const char *why)
{
        snprintf(in->error, sizeof(in->error), "%s", why);
        if (catalog_begin(pool->cat) < 0)
                return;
        if (catalog_intent_put(pool->cat, in) < 0 || catalog_commit(pool->cat) < 0)
                catalog_rollback(pool->cat);
}

/* Carry out every intent left; one whose VM is busy waits, with the holder noted. A
 * deferred stop or destroy is a change of the pool like any other: unless @dirty says the
 * pool is marked dirty already, the catalog's mark is set before the first one begins (0
 * in @txn), so that a crash inside one leaves a pool the next verb recovers in full,
 * not a clean-looking one holding a half-done intent. Returns 0 or -errno; @ret_failed:
 * whether one failed after it had begun (the pool must then stay dirty). */
static int intents(dvm_pool *pool, struct dvm_recover_report *rep, bool wipes, bool *dirty, uint64_t *txn,
                   bool *ret_failed)
{
        _cleanup_free_ struct cat_intent *list = NULL;
        int n = catalog_intent_list(pool->cat, &list);

        *ret_failed = false;
        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                const char *doing = list[i].op != CAT_INTENT_STOP ? "destroy" : "stop";
                int r;
                /* a queued wipe is the worker's, unless a crash or a full recovery says otherwise */
                if (list[i].op == CAT_INTENT_WIPE && !wipes)
                        continue;
                r = busy_check(pool, list[i].vm, doing);
                if (r >= 0 && !*dirty) {
                        /* the catalog's mark: an in-RAM VM's stop leaves the pool's metadata alone */
                        r = recover_mark_dirty(pool, true, txn);
                        if (r < 0)
                                return r;
                        *dirty = true;
                }
                if (r >= 0) {
                        r = pool->recover->finish(pool, list[i].vm, list[i].op);
                        *ret_failed |= r < 0;
                }
                if (r >= 0) {
                        ctx_info(pool->ctx, "pool %s: finished the %s of %s", pool->name, doing, list[i].vm);
                        rep->intents_finished++;
                        continue;
                }
                ctx_warn(pool->ctx, "pool %s: the %s of %s waits: %s", pool->name, doing, list[i].vm,
                         dvm_ctx_last_error(pool->ctx));
                note(pool, &list[i], dvm_ctx_last_error(pool->ctx));
                rep->pending++;
        }
        return 0;
}

int recover_run(dvm_pool *pool, bool full, struct dvm_recover_report *ret_report)
{
        struct dvm_recover_report rep = {};
        uint64_t txn = 0;
        bool is_clean = false, dirty = false, failed = false;
        int r = clean(pool, &is_clean);

        if (r < 0)
                return r;
        if (!is_clean || full) {
                /* recovery is a change too: dirty until it is done */
                r = recover_mark_dirty(pool, false, &txn);
                dirty = r >= 0;
                if (r >= 0)
                        r = reconcile(pool, &rep);
                FAULT_POINT("recover.reconciled");
                /* a hotplug hook leaves other VMs' deferred work to recover and the boot unit */
                if (r >= 0 && !pool->defer_intents)
                        r = intents(pool, &rep, true, &dirty, &txn, &failed);
                if (r >= 0 && rep.pending == 0)
                        r = recover_mark_clean(pool, txn);
        } else if (!pool->defer_intents) {
                r = intents(pool, &rep, false, &dirty, &txn, &failed);
                if (r >= 0 && dirty && !failed)
                        r = recover_mark_clean(pool, txn);
        }
        if (r >= 0 && ret_report)
                *ret_report = rep;
        return r;
}

int recover_needed(dvm_pool *pool)
{
        _cleanup_free_ struct cat_intent *list = NULL;
        bool is_clean = false;
        int r = clean(pool, &is_clean), n;

        if (r < 0)
                return r;
        /* in a hook, only a pool that is not clean needs recovery: intents wait */
        if (!is_clean || pool->defer_intents)
                return !is_clean;
        n = catalog_intent_list(pool->cat, &list);
        if (n < 0)
                return n;
        /* wipes queued for the worker are no reason to recover (a dirty pool is) */
        for (int i = 0; i < n; i++)
                if (list[i].op != CAT_INTENT_WIPE)
                        return 1;
        return 0;
}

int recover_if_needed(dvm_pool *pool)
{
        int r = recover_needed(pool);

        return r > 0 ? recover_run(pool, false, NULL) : r;
}

int dvm_pool_recover(dvm_pool *pool, struct dvm_recover_report *ret_report)
{
        int r = pool_lock(pool);

        if (r < 0)
                return r;
        r = recover_run(pool, true, ret_report);
        pool_unlock(pool);
        /* what the layers above start once the pool is recovered (the refill) */
        if (r >= 0 && pool->recover && pool->recover->recovered)
                pool->recover->recovered(pool);
        return r;
}
