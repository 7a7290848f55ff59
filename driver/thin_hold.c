// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The metadata snapshot of a live thin-pool, held by one reader of ours at a time: an
 * flock on the pool's device node says who holds it, since the kernel does not. A lock
 * dies with its process; the snapshot does not, so one found held under our lock is a
 * leftover (or a foreign tool's) and goes after a short wait.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "dm.h"
#include "thin_hold.h"

/* A foreign reader (thin_ls, thin_dump -m) may hold the snapshot for a moment. */
static int reserve(dvm_ctx *ctx, const char *pool_dm)
{
        int r = -EBUSY;

        for (unsigned attempt = 0; attempt < 8 && r == -EBUSY; attempt++) {
                if (attempt)
                        nanosleep(&(struct timespec){ .tv_nsec = 20000000L << (attempt / 2) }, NULL);
                r = dm_message(ctx, pool_dm, "reserve_metadata_snap");
        }
        return r;
}

int thin_hold(dvm_ctx *ctx, const char *pool_dm)
{
        char node[300];
        int fd, r;

        snprintf(node, sizeof(node), "/dev/mapper/%s", pool_dm);
        fd = open(node, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return ctx_error(ctx, -errno, "pool device %s: cannot open %s to lock it: %m", pool_dm, node);
        if (flock(fd, LOCK_EX) < 0) {
                r = ctx_error(ctx, -errno, "pool device %s: cannot lock %s: %m", pool_dm, node);
                close(fd);
                return r;
        }
        r = reserve(ctx, pool_dm);
        if (r == -EBUSY) {
                ctx_warn(ctx, "pool device %s: its metadata snapshot was held by none of our readers (one killed "
                         "while it read?); releasing it", pool_dm);
                r = dm_message(ctx, pool_dm, "release_metadata_snap");
                if (r >= 0)
                        r = dm_message(ctx, pool_dm, "reserve_metadata_snap");
        }
        if (r < 0) {
                r = ctx_error(ctx, r, "pool device %s: cannot hold a metadata snapshot: %m", pool_dm);
                close(fd);
                return r;
        }
        return fd;
}

int thin_unhold(dvm_ctx *ctx, const char *pool_dm, int fd)
{
        int r = dm_message(ctx, pool_dm, "release_metadata_snap");

        if (r < 0)
                r = ctx_error(ctx, r, "pool device %s: cannot release its metadata snapshot: %m", pool_dm);
        close(fd);
        return r;
}
