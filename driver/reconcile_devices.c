// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reconciliation of a pool's devices: our dm devices a crash left suspended are resumed,
 * volume devices that no running layer accounts for (name and layer id in the UUID) are
 * taken down, and so are the helpers (RAM pool, source views) of in-RAM VMs that are not
 * running. A device someone holds open stays, and the warning says who holds it.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "backend.h"
#include "dm.h"
#include "holders.h"
#include "ram.h"
#include "reconcile.h"
#include "volume.h"

static int read_text(const char *path, char *buf, size_t len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, len - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

/* The layer id at the end of our dm UUID "<dm name>-<layer id>", or -1. */
static int64_t uuid_layer(const struct dm_dev_info *info, const char *dm_name)
{
        char path[64], uuid[256];
        size_t n = strlen(dm_name);
        char *end;

        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/dm/uuid", info->major, info->minor);
        if (read_text(path, uuid, sizeof(uuid)) < 0 || strncmp(uuid, dm_name, n) != 0 || uuid[n] != '-')
                return -1;
        errno = 0;
        long long id = strtoll(uuid + n + 1, &end, 10);
        return errno || *end || id < 0 || end == uuid + n + 1 ? -1 : id;
}

/* A device someone holds stays, and says who holds it; returns whether it was free. */
static bool device_free(dvm_pool *pool, const char *name, const struct dm_dev_info *info, struct dvm_recover_report *rep)
{
        char who[512];

        if (info->open_count <= 0)
                return true;
        holders_describe(makedev(info->major, info->minor), S_IFBLK, who, sizeof(who));
        ctx_warn(pool->ctx, "pool %s: leftover device %s is open %d time(s) (held by %s); it goes once it is free",
                 pool->name, name, info->open_count, who[0] ? who : "nobody we can see");
        rep->pending++;
        return false;
}

/* Whether VM @vm is recorded as running. */
static bool running(dvm_pool *pool, const char *vm)
{
        struct cat_vm row;
        return catalog_vm_get(pool->cat, vm, &row) == 0 && row.running;
}

/* Whether @name is "<pool dm name>-<vm>-<suffix>" of a VM that is not running: the RAM pool
 * ("ram") or a source's read-only view ("<volume>-origin") of an in-RAM VM that is gone. */
static bool stale_helper(dvm_pool *pool, const char *name, const char *suffix, char ret_vm[DVM_NAME_MAX + 1])
{
        size_t pl = strlen(pool->dm_name), nl = strlen(name), sl = strlen(suffix);
        char p[DVM_POOL_NAME_MAX + 1], vol[16], base[VOLUME_DM_NAME_MAX];

        if (nl <= pl + 1 + sl + 1 || name[pl] != '-' || strcmp(name + nl - sl, suffix) != 0 || name[nl - sl - 1] != '-' ||
            nl - sl - 1 >= sizeof(base))
                return false;
        snprintf(base, sizeof(base), "%.*s", (int)(nl - sl - 1), name);
        if (strcmp(suffix, "origin") == 0) {
                if (dvm_volume_dm_name_parse(base, p, ret_vm, vol) < 0 || strcmp(p, pool->name) != 0)
                        return false;
        } else {
                snprintf(ret_vm, DVM_NAME_MAX + 1, "%s", base + pl + 1);
                if (dvm_name_check(ret_vm, NULL) < 0)
                        return false;
        }
        return !running(pool, ret_vm);
}

/* Devices: resume what a crash left suspended, take down volume devices no running layer
 * accounts for, then the helpers of in-RAM VMs that are not running. Devices of other
 * shapes are left alone. */
int reconcile_devices(dvm_pool *pool, struct dvm_recover_report *rep)
{
        char prefix[sizeof(pool->dm_name) + 2], **names = NULL, vm[DVM_NAME_MAX + 1];
        int n;

        snprintf(prefix, sizeof(prefix), "%s-", pool->dm_name);
        n = dm_list(pool->ctx, prefix, &names);
        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                char p[DVM_POOL_NAME_MAX + 1], vol[16];
                struct dm_dev_info info;
                struct cat_volume v;

                if (dm_info(pool->ctx, names[i], &info) < 0)
                        continue;
                if (info.suspended && dm_resume(pool->ctx, names[i]) >= 0)
                        rep->devices_resumed++;
                if (dvm_volume_dm_name_parse(names[i], p, vm, vol) < 0 || strcmp(p, pool->name) != 0)
                        continue;
                struct layer l = { .id = uuid_layer(&info, names[i]), .origin = -1 };
                if (catalog_volume_get(pool->cat, vm, vol, &v) == 0 && v.run_id >= 0 && v.run_id == l.id)
                        continue;
                if (!device_free(pool, names[i], &info, rep))
                        continue;
                ctx_info(pool->ctx, "pool %s: removing leftover device %s (layer %" PRId64 ")", pool->name, names[i], l.id);
                if (pool->ops->deactivate(pool, names[i], &l) >= 0)
                        rep->devices_removed++;
                else
                        rep->pending++;
        }
        for (int i = 0; i < n; i++) {
                struct dm_dev_info info;
                if (!stale_helper(pool, names[i], "origin", vm) || dm_info(pool->ctx, names[i], &info) < 0 ||
                    !device_free(pool, names[i], &info, rep))
                        continue;
                if (dm_remove(pool->ctx, names[i]) >= 0)
                        rep->devices_removed++;
        }
        for (int i = 0; i < n; i++) {
                if (!stale_helper(pool, names[i], "ram", vm))
                        continue;
                if (ram_pool_stop(pool, vm) >= 0)
                        rep->devices_removed++;
                else
                        rep->pending++;
        }
        dvm_strv_free(names);
        struct dm_dev_info info;
        if (dm_info(pool->ctx, pool->dm_name, &info) == 0 && info.suspended && dm_resume(pool->ctx, pool->dm_name) >= 0)
                rep->devices_resumed++;
        return 0;
}

