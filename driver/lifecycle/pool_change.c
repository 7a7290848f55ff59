// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A change of a pool: under its lock, recovery first when the pool needs it, then the pool
 * is marked dirty until the change is done (pool_change_begin() and _end() in pool.h), and
 * its device changes form one udev batch (dm_batch_begin()).
 */
#include "backend/backend.h"
#include "kernel/dm.h"
#include "lifecycle/pool_change.h"
#include "lifecycle/recover.h"
#include "util/fault.h"

int pool_change_begin(dvm_pool *pool)
{
        int r;

        if (pool->lock_depth != 1 || pool->changing)
                return 0;
        r = recover_if_needed(pool);
        if (r >= 0)
                r = recover_mark_dirty(pool, pool->change_in_ram, &pool->change_txn);
        if (r < 0)
                return r;
        ctx_debug(pool->ctx, "pool %s: recovery checked, change marked", pool->name);
        pool->changing = true;
        pool->change_mark = dm_changes();
        pool->changed_elsewhere = false;
        /* the devices of the change are waited for once, at its end */
        dm_batch_begin();
        FAULT_POINT("change.begin");
        return 0;
}

void pool_change_end(dvm_pool *pool, int result)
{
        if (pool->lock_depth != 1 || !pool->changing)
                return;
        pool->changing = false;
        pool->change_in_ram = false;
        /* a layer wiped in this change and still there (its stop failed) may be written again */
        pool_wiped_forget(pool);
        pool->wipe_done = false;
        dm_batch_end();
        if (result < 0 && dm_changes() == pool->change_mark && !pool->changed_elsewhere) {
                /* refused before it touched the kernel: as if it never began */
                recover_unmark_dirty(pool, pool->change_txn);
                return;
        }
        ctx_debug(pool->ctx, "pool %s: change done in the kernel", pool->name);
        if (result >= 0 && recover_mark_clean(pool, pool->change_txn) >= 0)
                FAULT_POINT("change.end");
}

int pool_catalog_begin(dvm_pool *pool)
{
        int r = catalog_begin(pool->cat);

        if (r < 0 || pool->lock_depth > 1)
                return r;
        /* the check reads inside the transaction: nothing to recover costs two reads and a status */
        r = recover_needed(pool);
        if (r == 0)
                return 0;
        catalog_rollback(pool->cat);
        if (r > 0 && (r = recover_run(pool, false, NULL)) >= 0)
                r = catalog_begin(pool->cat);
        return r;
}
