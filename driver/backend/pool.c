// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pool handle, whatever the backend: its files' paths, its lock, messages to its pool
 * device. A pool is <state dir>/<name>/ with its catalog and lock; what else it holds, in
 * files and in the kernel, is its backend's. Init, open, info and list: api/pool_open.c.
 */
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>

#include "backend/pool.h"
#include "kernel/dm.h"

char *pool_path(const dvm_pool *pool, const char *name)
{
        char *p = NULL;
        return asprintf(&p, "%s/%s", pool->dir, name) < 0 ? NULL : p;
}

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* flock() with the context's timeout: polls, from 1 ms doubling up to 100 ms between tries */
static int lock_bounded(dvm_pool *pool)
{
        unsigned timeout = pool->ctx->lock_timeout_ms;
        uint64_t deadline = now_ms() + timeout;
        unsigned pause = 1;

        if (timeout == 0)
                return flock(pool->lock_fd, LOCK_EX) < 0 ? -errno : 0;
        for (;;) {
                if (flock(pool->lock_fd, LOCK_EX | LOCK_NB) == 0)
                        return 0;
                if (errno != EWOULDBLOCK)
                        return -errno;
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                nanosleep(&(struct timespec){ .tv_nsec = (long)pause * 1000000 }, NULL);
                pause = pause < 50 ? pause * 2 : 100;
        }
}

int pool_lock(dvm_pool *pool)
{
        int r;

        if (pool->lock_depth++ > 0)
                return 0;
        r = lock_bounded(pool);
        if (r == -ETIMEDOUT) {
                pool->lock_depth = 0;
                return ctx_error(pool->ctx, -EBUSY, "pool %s: locked by another process for over %u ms",
                                 pool->name, pool->ctx->lock_timeout_ms);
        }
        if (r < 0) {
                pool->lock_depth = 0;
                return ctx_error(pool->ctx, r, "cannot lock pool %s: %m", pool->name);
        }
        return 0;
}

void pool_unlock(dvm_pool *pool)
{
        if (pool->lock_depth > 0 && --pool->lock_depth == 0)
                flock(pool->lock_fd, LOCK_UN);
}

int pool_message(dvm_pool *pool, const char *msg)
{
        return dm_message(pool->ctx, pool->dm_name, msg);
}

static int wiped_index(const dvm_pool *pool, int64_t id)
{
        for (unsigned i = 0; i < pool->n_wiped; i++)
                if (pool->wiped[i] == id)
                        return (int)i;
        return -1;
}

void pool_wiped_add(dvm_pool *pool, int64_t id)
{
        if (wiped_index(pool, id) >= 0)
                return;
        if (pool->n_wiped == POOL_WIPED_MAX) {
                /* forgetting one only costs a pool its zero invariant, never a wipe */
                memmove(pool->wiped, pool->wiped + 1, (POOL_WIPED_MAX - 1) * sizeof(pool->wiped[0]));
                pool->n_wiped--;
        }
        pool->wiped[pool->n_wiped++] = id;
}

bool pool_wiped_has(const dvm_pool *pool, int64_t id)
{
        return wiped_index(pool, id) >= 0;
}

bool pool_wiped_take(dvm_pool *pool, int64_t id)
{
        int i = wiped_index(pool, id);

        if (i < 0)
                return false;
        pool->wiped[i] = pool->wiped[--pool->n_wiped];
        return true;
}

void pool_wiped_forget(dvm_pool *pool)
{
        pool->n_wiped = 0;
}
