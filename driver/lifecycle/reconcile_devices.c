// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reconciliation of a pool's devices: our dm devices a crash left suspended are resumed,
 * and those of the shapes the library makes (a volume's device, the layer under a crypt
 * volume, a snap COW store's crypt device, an in-RAM VM's pool and source views) go when no
 * running layer in the catalog accounts for them, and so does a commit's device (backend.h),
 * which no row ever does; an inspector's view of a layer goes once
 * the process that made it is gone. Devices of any other shape are left alone. A device
 * someone holds open stays, and the warning says who holds it.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "backend/backend.h"
#include "backend/ram.h"
#include "kernel/dm.h"
#include "kernel/holders.h"
#include "lifecycle/layer_view.h"
#include "lifecycle/reconcile.h"
#include "lifecycle/volume.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"
#include "util/text.h"

/* What a device of ours is, by its name; removed in this order when it is a leftover. */
enum shape { SHAPE_COMMIT, SHAPE_VOLUME, SHAPE_RAW, SHAPE_COW, SHAPE_ORIGIN, SHAPE_RAM, SHAPE_OTHER };

static bool ends_with(const char *s, const char *suffix, size_t *ret_base)
{
        size_t n = strlen(s), k = strlen(suffix);

        if (n <= k || strcmp(s + n - k, suffix) != 0)
                return false;
        *ret_base = n - k;
        return true;
}

/* The shape of device @name, and the VM and volume (or layer id) it belongs to. */
static enum shape shape_of(dvm_pool *pool, const char *name, char vm[DVM_NAME_MAX + 1], char vol[16], int64_t *ret_id)
{
        char base[VOLUME_DM_NAME_MAX], p[DVM_POOL_NAME_MAX + 1];
        size_t pl = strlen(pool->dm_name), n;
        char *end;

        if (strncmp(name, pool->dm_name, pl) != 0 || name[pl] != '-')
                return SHAPE_OTHER;
        for (int k = 0; k < 2; k++) {
                const char *mark = k ? COMMIT_MARK : "-cow-", *num = name + pl + strlen(mark);
                if (strncmp(name + pl, mark, strlen(mark)) != 0)
                        continue;
                errno = 0;
                long long id = strtoll(num, &end, 10);
                if (!errno && !*end && end != num && id >= 0) {
                        *ret_id = id;
                        return k ? SHAPE_COMMIT : SHAPE_COW;
                }
        }
        if (dvm_volume_dm_name_parse(name, p, vm, vol) == 0)
                return strcmp(p, pool->name) == 0 ? SHAPE_VOLUME : SHAPE_OTHER;
        if (ends_with(name, "-raw", &n) && n < sizeof(base)) {
                snprintf(base, sizeof(base), "%.*s", (int)n, name);
                if (dvm_volume_dm_name_parse(base, p, vm, vol) == 0 && strcmp(p, pool->name) == 0)
                        return SHAPE_RAW;
        }
        if (ends_with(name, "-origin", &n) && n < sizeof(base)) {
                snprintf(base, sizeof(base), "%.*s", (int)n, name);
                if (dvm_volume_dm_name_parse(base, p, vm, vol) == 0 && strcmp(p, pool->name) == 0)
                        return SHAPE_ORIGIN;
        }
        if (ends_with(name, "-ram", &n) && n > pl + 1) {
                snprintf(vm, DVM_NAME_MAX + 1, "%.*s", (int)(n - pl - 1), name + pl + 1);
                if (dvm_name_check(vm, NULL) == 0)
                        return SHAPE_RAM;
        }
        return SHAPE_OTHER;
}

static bool running(dvm_pool *pool, const char *vm)
{
        struct cat_vm row;
        return catalog_vm_get(pool->cat, vm, &row) == 0 && row.running;
}

/* Whether the catalog accounts for device @name of shape @s (dm UUID @uuid). */
static bool accounted(dvm_pool *pool, enum shape s, const char *name, const char *uuid, const char *vm, const char *vol,
                      int64_t id)
{
        char want[VOLUME_DM_NAME_MAX + 24];
        struct cat_volume v;

        switch (s) {
        case SHAPE_COMMIT:
                return false;
        case SHAPE_COW:
                return catalog_layer_users(pool->cat, id) > 0;
        case SHAPE_ORIGIN:
        case SHAPE_RAM:
                return running(pool, vm);
        case SHAPE_VOLUME:
        case SHAPE_RAW:
                if (catalog_volume_get(pool->cat, vm, vol, &v) < 0 || v.run_id < 0)
                        return false;
                /* a crypt volume's device carries "-crypt", its layer device the layer id */
                if (s == SHAPE_VOLUME && volume_ephemeral(&v))
                        snprintf(want, sizeof(want), "%s-crypt", name);
                else
                        snprintf(want, sizeof(want), "%s-%" PRId64, name, v.run_id);
                return strcmp(uuid, want) == 0 && (s != SHAPE_RAW || volume_ephemeral(&v));
        case SHAPE_OTHER:
                break;
        }
        return true;
}

/* A leftover someone holds stays, named with its holders; returns whether it was free. */
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

static void remove_leftover(dvm_pool *pool, enum shape s, const char *name, const char *vm,
                            struct dvm_recover_report *rep)
{
        struct dm_dev_info info;
        int r;

        if (dm_info(pool->ctx, name, &info) < 0 || !device_free(pool, name, &info, rep))
                return;
        ctx_info(pool->ctx, "pool %s: removing leftover device %s", pool->name, name);
        /* an in-RAM pool takes its zram devices with it */
        r = s == SHAPE_RAM ? ram_pool_stop(pool, vm) : dm_remove(pool->ctx, name);
        if (r >= 0 || r == -ENXIO)
                rep->devices_removed++;
        else
                rep->pending++;
}

/* Views of layers ("DVM-<pool>+view-<id>-<pid>-<n>") whose process is gone: a killed
 * inspector's. A live one's stays: under the pool lock its view is open from the moment it
 * exists (dvm_layer_open()), and it removes the view itself. Their layers, if no row needs
 * them any more, go with the other leftover layers (reconcile.c). */
static int views(dvm_pool *pool, struct dvm_recover_report *rep)
{
        char prefix[sizeof(pool->dm_name) + sizeof(LAYER_VIEW_MARK)], **names = NULL;
        int n;

        snprintf(prefix, sizeof(prefix), "%s" LAYER_VIEW_MARK, pool->dm_name);
        n = dm_list(pool->ctx, prefix, &names);
        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                int64_t id;
                int pid;
                if (layer_view_name_parse(names[i], pool->name, &id, &pid) < 0)
                        continue;
                if (kill(pid, 0) == 0 || errno != ESRCH)
                        continue;
                ctx_info(pool->ctx, "pool %s: view %s of layer %" PRId64 " outlived its process %d", pool->name,
                         names[i], id, pid);
                remove_leftover(pool, SHAPE_OTHER, names[i], "", rep);
        }
        dvm_strv_free(names);
        return 0;
}

int reconcile_devices(dvm_pool *pool, struct dvm_recover_report *rep)
{
        char prefix[sizeof(pool->dm_name) + 2], **names = NULL;
        enum shape *shapes;
        int n;

        n = views(pool, rep);
        if (n < 0)
                return n;
        snprintf(prefix, sizeof(prefix), "%s-", pool->dm_name);
        n = dm_list(pool->ctx, prefix, &names);
        if (n < 0)
                return n;
        shapes = calloc((size_t)n + 1, sizeof(*shapes));
        if (!shapes) {
                dvm_strv_free(names);
                return -ENOMEM;
        }
        for (int i = 0; i < n; i++) {
                char vm[DVM_NAME_MAX + 1] = "", vol[16] = "", path[80], uuid[VOLUME_DM_NAME_MAX + 24] = "";
                struct dm_dev_info info;
                int64_t id = -1;

                shapes[i] = SHAPE_OTHER;
                if (dm_info(pool->ctx, names[i], &info) < 0)
                        continue;
                if (info.suspended && dm_resume(pool->ctx, names[i]) >= 0)
                        rep->devices_resumed++;
                /* its creator may have died before the wait that makes the nodes */
                if (dm_node_make(pool->ctx, names[i]) < 0)
                        ctx_warn(pool->ctx, "pool %s: %s", pool->name, dvm_ctx_last_error(pool->ctx));
                snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/dm/uuid", info.major, info.minor);
                text_read_line(path, uuid, sizeof(uuid));
                enum shape s = shape_of(pool, names[i], vm, vol, &id);
                if (!accounted(pool, s, names[i], uuid, vm, vol, id))
                        shapes[i] = s;
        }
        /* top devices first: a device goes only once nothing stacked on it is left */
        for (enum shape s = SHAPE_COMMIT; s < SHAPE_OTHER; s++)
                for (int i = 0; i < n; i++) {
                        char vm[DVM_NAME_MAX + 1] = "", vol[16];
                        int64_t id;
                        if (shapes[i] != s)
                                continue;
                        shape_of(pool, names[i], vm, vol, &id);
                        remove_leftover(pool, s, names[i], vm, rep);
                }
        free(shapes);
        dvm_strv_free(names);

        struct dm_dev_info info;
        if (dm_info(pool->ctx, pool->dm_name, &info) == 0) {
                if (info.suspended && dm_resume(pool->ctx, pool->dm_name) >= 0)
                        rep->devices_resumed++;
                if (dm_node_make(pool->ctx, pool->dm_name) < 0)
                        ctx_warn(pool->ctx, "pool %s: %s", pool->name, dvm_ctx_last_error(pool->ctx));
        }
        return 0;
}
