// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The metadata snapshot of a live thin-pool: reserved and released around each read of the
 * pool's metadata. A process killed between the two leaves it reserved, and every later
 * reserve would fail: the next holder (under the pool's lock, so no reader of ours is
 * alive) takes it over after a short wait.
 */
#include <time.h>

#include "backend/thin_hold.h"
#include "kernel/dm.h"

int thin_hold(dvm_ctx *ctx, const char *pool_dm)
{
        int r = -EBUSY;

        /* a foreign reader (thin_ls, thin_dump -m) may hold it for a moment */
        for (unsigned attempt = 0; attempt < 8 && r == -EBUSY; attempt++) {
                if (attempt)
                        nanosleep(&(struct timespec){ .tv_nsec = 20000000L << (attempt / 2) }, NULL);
                r = dm_message(ctx, pool_dm, "reserve_metadata_snap");
        }
        if (r == -EBUSY) {
                ctx_warn(ctx, "pool device %s: its metadata snapshot stayed held, by no reader of ours (one killed "
                         "while it read?); releasing it", pool_dm);
                r = dm_message(ctx, pool_dm, "release_metadata_snap");
                if (r >= 0)
                        r = dm_message(ctx, pool_dm, "reserve_metadata_snap");
        }
        if (r < 0)
                return ctx_error(ctx, r, "pool device %s: cannot hold a metadata snapshot: %m", pool_dm);
        return 0;
}

int thin_unhold(dvm_ctx *ctx, const char *pool_dm)
{
        int r = dm_message(ctx, pool_dm, "release_metadata_snap");

        if (r < 0)
                return ctx_error(ctx, r, "pool device %s: cannot release its metadata snapshot: %m", pool_dm);
        return 0;
}
