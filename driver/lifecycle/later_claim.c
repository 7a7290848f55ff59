// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A queued wipe run outside the pool lock (later.h): the claim that keeps everyone else
 * from finishing the VM while its zeros are being written, and the catalog's mark of the
 * wipe under way, which tells the next one that it did not finish.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "backend/backend.h"
#include "lifecycle/later.h"
#include "lifecycle/pool_change.h"
#include "lifecycle/volume.h"
#include "lifecycle/wipe.h"
#include "util/fault.h"

#define MAX_VOLUMES 3
#define MARK "wiping"

int later_claim(dvm_pool *pool, bool wait, int *ret_fd)
{
        _cleanup_free_ char *path = pool_path(pool, "wipe.lock");
        int fd;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return ctx_error(pool->ctx, -errno, "pool %s: cannot open %s: %m", pool->name, path);
        while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
                int e = errno;
                if (e == EINTR)
                        continue;
                close(fd);
                return ctx_error(pool->ctx, -e, "pool %s: cannot lock %s: %s", pool->name, path, strerror(e));
        }
        *ret_fd = fd;
        return 0;
}

void later_zero_drop(dvm_pool *pool, const char *why)
{
        if (pool->ops->zero_drop && pool->ops->zero_drop(pool, why) < 0)
                ctx_warn(pool->ctx, "pool %s: %s", pool->name, dvm_ctx_last_error(pool->ctx));
}

/* Whether the mark says a wipe of @name (of anyone, with @name NULL) was under way. */
static bool marked(dvm_pool *pool, const char *name)
{
        _cleanup_free_ char *v = NULL;

        if (catalog_meta_get(pool->cat, MARK, &v) < 0 || !v[0])
                return false;
        return !name || strcmp(v, name) == 0;
}

/* The running layers of @vm (all dropped by its destroy), in @vols and @ls. */
static int running(dvm_pool *pool, const char *vm, struct cat_volume *vols, struct layer *ls)
{
        struct cat_volume all[MAX_VOLUMES];
        int n = catalog_volume_list(pool->cat, vm, all, MAX_VOLUMES), k = 0;

        for (int i = 0; i < n; i++)
                if (all[i].run_id >= 0) {
                        vols[k] = all[i];
                        ls[k++] = volume_running_layer(&all[i]);
                }
        return n < 0 ? n : k;
}

int later_wipe_begin(dvm_pool *pool, const struct cat_vm *vm, struct wipe_job **ret_job)
{
        struct cat_volume vols[MAX_VOLUMES];
        struct layer ls[MAX_VOLUMES];
        int n, r;

        if (marked(pool, NULL))
                later_zero_drop(pool, "a wipe did not finish");
        r = POOL_TRANSACTION(pool, catalog_meta_set(pool->cat, MARK, vm->name));
        if (r < 0)
                return r;
        FAULT_POINT("later.marked");
        if ((r = later_unfence(pool, vm)) < 0 || (n = r = running(pool, vm->name, vols, ls)) < 0)
                return r;
        return wipe_prepare(pool, vols, ls, (size_t)n, ret_job);
}

int later_wipe_end(dvm_pool *pool, const char *name)
{
        struct cat_volume vols[MAX_VOLUMES];
        struct layer ls[MAX_VOLUMES];
        int n = running(pool, name, vols, ls);
        bool wiped = n >= 0;

        for (int i = 0; i < n; i++)
                wiped &= pool_wiped_has(pool, ls[i].id);
        if (!wiped && marked(pool, name))
                later_zero_drop(pool, "a wipe did not finish");
        return marked(pool, name) ? catalog_meta_set(pool->cat, MARK, "") : 0;
}
