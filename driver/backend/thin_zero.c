// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The zero invariant of a thin pool (thin_zero.h): its record, and the table reload that
 * puts block zeroing back. The record goes first and is synced before the reload, so a
 * crash in between leaves a pool that zeroes at its next activation, or that
 * thin_zero_sync() reloads when it finds it still skipping.
 */
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "backend/thin_zero.h"
#include "kernel/dm.h"
#include "kernel/thin_pool.h"

#define RECORD "skip-zeroing"

bool thin_zero_on(dvm_pool *pool)
{
        _cleanup_free_ char *path = pool_path(pool, RECORD);
        return path && access(path, F_OK) == 0;
}

static int sync_dir(dvm_pool *pool)
{
        _cleanup_close_ int fd = open(pool->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fsync(fd) < 0)
                return ctx_error(pool->ctx, -errno, "pool %s: cannot sync %s: %m", pool->name, pool->dir);
        return 0;
}

int thin_zero_enable(dvm_pool *pool)
{
        _cleanup_free_ char *path = pool_path(pool, RECORD);
        _cleanup_close_ int fd = -1;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 || fsync(fd) < 0)
                return ctx_error(pool->ctx, -errno, "pool %s: cannot record that its free blocks read zero: %s: %m",
                                 pool->name, path);
        return sync_dir(pool);
}

/* The pool's live table again, with block zeroing on. */
static int reload_zeroing(dvm_pool *pool)
{
        _cleanup_free_ char *type = NULL, *params = NULL;
        _cleanup_close_ int fd = -1;
        struct thin_pool_table t;
        uint64_t bytes;
        char line[160];
        int r = dm_table(pool->ctx, pool->dm_name, &type, &params);

        if (r == -ENXIO)
                return 0; /* not active: the next activation loads it with zeroing */
        if (r < 0)
                return ctx_error(pool->ctx, r, "pool %s: cannot read the table of %s: %m", pool->name, pool->dm_name);
        if (strcmp(type, "thin-pool") != 0 || thin_pool_table_parse(params, &t) < 0)
                return ctx_error(pool->ctx, -EINVAL, "pool %s: %s has a table we do not understand: %s %s", pool->name,
                                 pool->dm_name, type, params);
        if (!t.skip_block_zeroing)
                return 0;
        fd = dm_open(pool->ctx, pool->dm_name, O_RDONLY);
        if (fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes) < 0)
                return ctx_error(pool->ctx, fd < 0 ? fd : -errno, "pool %s: cannot size %s: %m", pool->name,
                                 pool->dm_name);
        t.skip_block_zeroing = false;
        r = thin_pool_table_params(&t, line, sizeof(line));
        if (r < 0)
                return r;
        struct dm_table_line tl = { 0, bytes >> 9, "thin-pool", line };
        r = dm_reload(pool->ctx, pool->dm_name, &tl, 1);
        if (r < 0)
                return ctx_error(pool->ctx, r, "pool %s: cannot turn block zeroing back on: %s", pool->name,
                                 dvm_ctx_last_error(pool->ctx));
        return 0;
}

int thin_zero_drop(dvm_pool *pool, const char *why)
{
        _cleanup_free_ char *path = pool_path(pool, RECORD);
        int r;

        if (!path)
                return -ENOMEM;
        if (unlink(path) == 0) {
                if ((r = sync_dir(pool)) < 0)
                        return r;
                ctx_info(pool->ctx, "pool %s: its free blocks may no longer read zero (%s): block zeroing is on "
                         "again", pool->name, why);
        } else if (errno != ENOENT) {
                return ctx_error(pool->ctx, -errno, "pool %s: cannot drop its zero invariant: %s: %m", pool->name, path);
        }
        /* also when the record was gone already: an earlier drop may have stopped before the reload */
        return reload_zeroing(pool);
}

int thin_zero_sync(dvm_pool *pool)
{
        return thin_zero_on(pool) ? 0 : reload_zeroing(pool);
}
