// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The space guard: spawn, start and import are refused before they change anything when
 * they would leave less than a pool's guard (a percentage, per pool, default 10) of its data
 * or metadata free. A thin-pool that runs dry stalls the writes of every VM on it.
 */
#include <inttypes.h>
#include <stdio.h>

#include "backend/backend.h"
#include "lifecycle/pool_change.h"
#include "lifecycle/space.h"

static int guard_get(dvm_pool *pool, unsigned *ret_percent)
{
        uint64_t percent = SPACE_GUARD_DEFAULT;
        int r = catalog_meta_get_u64(pool->cat, "space_guard_percent", &percent);

        if (r < 0 && r != -ENOENT)
                return r;
        if (percent > SPACE_GUARD_MAX)
                return ctx_error(pool->ctx, -EINVAL, "pool %s: space guard %" PRIu64 "%% in the catalog is above %u%%",
                                 pool->name, percent, SPACE_GUARD_MAX);
        *ret_percent = (unsigned)percent;
        return 0;
}

/* Whether @total - @used - @need stays at or above @percent of @total. */
static bool enough(uint64_t total, uint64_t used, uint64_t need, unsigned percent)
{
        uint64_t left = used < total ? total - used : 0;

        left = left > need ? left - need : 0;
        return (unsigned __int128)left * 100 >= (unsigned __int128)total * percent;
}

static int check_one(dvm_pool *pool, const char *what, const char *kind, uint64_t total, uint64_t used,
                     uint64_t need, unsigned percent)
{
        char left[32], all[32];
        uint64_t free_now = used < total ? total - used : 0;
        uint64_t free_after = free_now > need ? free_now - need : 0;

        if (total == 0 || enough(total, used, need, percent))
                return 0;
        return ctx_error(pool->ctx, -ENOSPC,
                         "pool %s: %s refused: it would leave %s of %s %s free (%.1f%%), under the pool's space "
                         "guard of %u%%; free space in the pool, or lower the guard with "
                         "'dvm-vol pool set %s space-guard PERCENT'",
                         pool->name, what, dvm_format_size(free_after, left, sizeof(left)),
                         dvm_format_size(total, all, sizeof(all)), kind, 100.0 * (double)free_after / (double)total,
                         percent, pool->name);
}

int space_guard_check(dvm_pool *pool, const char *what, uint64_t need_data)
{
        struct dvm_pool_info info = {};
        unsigned percent = 0;
        int r = guard_get(pool, &percent);

        if (r < 0 || percent == 0)
                return r;
        r = pool->ops->pool_info(pool, &info);
        if (r < 0)
                return r;
        r = check_one(pool, what, "data", info.data_total, info.data_used, need_data, percent);
        if (r >= 0)
                r = check_one(pool, what, "metadata", info.metadata_total, info.metadata_used, 0, percent);
        return r;
}

int dvm_pool_get_space_guard(dvm_pool *pool, unsigned *ret_percent)
{
        return guard_get(pool, ret_percent);
}

int dvm_pool_set_space_guard(dvm_pool *pool, unsigned percent)
{
        if (percent > SPACE_GUARD_MAX)
                return ctx_error(pool->ctx, -EINVAL, "pool %s: space guard %u%% is out of range (0..%u; 0 turns it off)",
                                 pool->name, percent, SPACE_GUARD_MAX);
        return POOL_TRANSACTION(pool, catalog_meta_set_u64(pool->cat, "space_guard_percent", percent));
}
