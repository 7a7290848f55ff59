// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pools, whatever their backend: init, open (activating after a reboot), close, info, list.
 * The library's entry to a pool, so the place that wires the layers for it: a pool opened
 * here carries the actions its recovery finishes with (pool->recover), the lifecycle's stop
 * and destroy and the Xen layer's release of dead domains' disks, which recovery, below
 * both, must not call by name.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/backend.h"
#include "kernel/dm.h"
#include "lifecycle/preload_fill.h"
#include "lifecycle/recover_actions.h"
#include "lifecycle/vm.h"
#include "lifecycle/volume_api.h"
#include "store/catalog_volume.h"
#include "xen/claim.h"

static const struct recover_actions recover_actions = {
        .finish = vm_finish,
        .dead_disks = claim_reap_dead,
        .qube_volumes = volume_api_recover,
        .recovered = preload_recovered,
};

static int pool_new(dvm_ctx *ctx, const char *name, dvm_pool **ret)
{
        const char *why;
        dvm_pool *p;

        if (!name)
                name = DVM_DEFAULT_POOL;
        if (dvm_pool_name_check(name, &why) < 0)
                return ctx_error(ctx, -EINVAL, "invalid pool name \"%s\": %s", name, why);
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->ctx = ctx;
        p->lock_fd = -1;
        p->recover = &recover_actions;
        snprintf(p->name, sizeof(p->name), "%s", name);
        snprintf(p->dm_name, sizeof(p->dm_name), DM_UUID_PREFIX "%s", name);
        if (asprintf(&p->dir, "%s/%s", ctx->state_dir, name) < 0) {
                free(p);
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

dvm_pool *dvm_pool_close(dvm_pool *pool)
{
        if (pool) {
                if (pool->held_meta)
                        pool->ops->owned_hold(pool, false);
                if (pool->ops && pool->ops->pool_close)
                        pool->ops->pool_close(pool);
                catalog_close(pool->cat);
                if (pool->lock_fd >= 0)
                        close(pool->lock_fd);
                free(pool->dir);
                free(pool);
        }
        return NULL;
}

DEFINE_CLEANUP(dvm_pool *, dvm_pool_close)

static int pool_load(dvm_pool *p)
{
        _cleanup_free_ char *db = pool_path(p, "catalog.db"), *lock = pool_path(p, "lock");
        _cleanup_free_ char *backend = NULL;
        int r;

        if (!db || !lock)
                return -ENOMEM;
        p->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (p->lock_fd < 0)
                return ctx_error(p->ctx, -errno, "cannot open %s: %m", lock);
        ctx_debug(p->ctx, "pool %s: lock file open", p->name);
        r = catalog_open(p->ctx, db, &p->cat);
        if (r < 0)
                return r;
        r = catalog_meta_get_u64(p->cat, "block_sectors", &p->block_sectors);
        if (r >= 0)
                r = catalog_meta_get(p->cat, "backend", &backend);
        if (r < 0)
                return ctx_error(p->ctx, r == -ENOENT ? -ENOENT : r,
                                 "pool %s is not initialised: its catalog has no settings", p->name);
        p->backend = strcmp(backend, "snap") == 0 ? DVM_BACKEND_SNAP :
                     strcmp(backend, "rbd") == 0 ? DVM_BACKEND_RBD : DVM_BACKEND_THIN;
        p->ops = backend_get(p->backend);
        if (!p->ops)
                return ctx_error(p->ctx, -EOPNOTSUPP, "pool %s: backend %s is not built into this library", p->name,
                                 backend);
        return 0;
}

int dvm_pool_open(dvm_ctx *ctx, const char *name, dvm_pool **ret_pool)
{
        _cleanup_(dvm_pool_closep) dvm_pool *p = NULL;
        _cleanup_free_ char *db = NULL;
        int r = pool_new(ctx, name, &p);

        if (r < 0)
                return r;
        db = pool_path(p, "catalog.db");
        if (!db)
                return -ENOMEM;
        if (access(db, F_OK) < 0)
                return ctx_error(ctx, -ENOENT, "pool %s is not initialised (no %s); create it with "
                                 "'dvm-vol pool init %s'", p->name, db, p->name);
        r = pool_load(p);
        if (r < 0)
                return r;
        ctx_debug(ctx, "pool %s: catalog open", p->name);
        r = pool_lock(p);
        if (r < 0)
                return r;
        r = p->ops->pool_activate(p);
        pool_unlock(p);
        if (r < 0)
                return r;
        ctx_debug(ctx, "pool %s: active", p->name);
        *ret_pool = TAKE_PTR(p);
        return 0;
}

static int write_settings(dvm_pool *p, const struct dvm_pool_config *cfg)
{
        int r = catalog_begin(p->cat);
        if (r < 0)
                return r;
        if ((r = catalog_meta_set(p->cat, "backend", p->ops->name)) < 0 ||
            (r = catalog_meta_set_u64(p->cat, "block_sectors", p->block_sectors)) < 0 ||
            (r = catalog_meta_set_u64(p->cat, "space_guard_percent", 10)) < 0 ||
            (r = p->ops->pool_create(p, cfg)) < 0) {
                catalog_rollback(p->cat);
                return r;
        }
        return catalog_commit(p->cat);
}

static void unlink_catalog(const char *db)
{
        static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
        char path[4096];

        for (size_t i = 0; i < ARRAY_SIZE(suffix); i++) {
                snprintf(path, sizeof(path), "%s%s", db, suffix[i]);
                unlink(path);
        }
}

/* pool_clash of @ops against every other pool of the state directory (backend.h) */
static int clash_check(dvm_ctx *ctx, const char *name, const struct backend_ops *ops,
                       const struct dvm_pool_config *cfg)
{
        char **names = NULL;
        int n = dvm_pool_list(ctx, &names), r = 0;

        for (int i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *db = NULL;
                catalog *cat = NULL;
                if (strcmp(names[i], name) == 0 || asprintf(&db, "%s/%s/catalog.db", ctx->state_dir, names[i]) < 0)
                        continue;
                if (catalog_open(ctx, db, &cat) >= 0)
                        r = ops->pool_clash(ctx, name, cfg, names[i], cat);
                catalog_close(cat);
        }
        dvm_strv_free(names);
        return n < 0 ? n : r;
}

int dvm_pool_init(dvm_ctx *ctx, const char *name, const struct dvm_pool_config *cfg)
{
        static const struct dvm_pool_config defaults = {};
        _cleanup_(dvm_pool_closep) dvm_pool *p = NULL;
        _cleanup_free_ char *db = NULL, *lock = NULL;
        int r;

        if (!cfg)
                cfg = &defaults;
        r = pool_new(ctx, name, &p);
        if (r < 0)
                return r;
        p->backend = cfg->backend;
        p->ops = backend_get(cfg->backend);
        if (!p->ops)
                return ctx_error(ctx, -EOPNOTSUPP, "pool %s: backend %s is not available", p->name,
                                 dvm_backend_name(cfg->backend));
        if (cfg->backend != DVM_BACKEND_RBD && (cfg->rbd_conf || cfg->rbd_client || cfg->rbd_pool || cfg->rbd_host))
                return ctx_error(ctx, -EINVAL, "pool %s: a Ceph config, client, pool and host are settings of rbd "
                                 "pools, not of %s pools", p->name, p->ops->name);
        r = p->ops->pool_unit(ctx, p->name, cfg, &p->block_sectors);
        if (r >= 0 && p->ops->pool_clash)
                r = clash_check(ctx, p->name, p->ops, cfg);
        if (r < 0)
                return r;
        if (mkdir(ctx->state_dir, 0700) < 0 && errno != EEXIST)
                return ctx_error(ctx, -errno, "cannot create state directory %s: %m", ctx->state_dir);
        if (mkdir(p->dir, 0700) < 0)
                return ctx_error(ctx, errno == EEXIST ? -EEXIST : -errno,
                                 errno == EEXIST ? "pool %s exists already (%s)" : "cannot create pool %s: %s: %m",
                                 p->name, p->dir);
        db = pool_path(p, "catalog.db");
        lock = pool_path(p, "lock");
        if (!db || !lock) {
                r = -ENOMEM;
                goto undo;
        }
        p->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        r = p->lock_fd < 0 ? -errno : catalog_open(ctx, db, &p->cat);
        if (r >= 0)
                r = write_settings(p, cfg);
        if (r >= 0)
                return 0;
undo:
        /* Leave nothing behind: what the backend made, the catalog, the directory. */
        p->ops->pool_destroy(p);
        p->cat = catalog_close(p->cat);
        if (db)
                unlink_catalog(db);
        if (lock)
                unlink(lock);
        rmdir(p->dir);
        return r;
}

int dvm_pool_info(dvm_pool *pool, struct dvm_pool_info *ret_info)
{
        struct dvm_pool_info info = { .backend = pool->backend };
        int r;

        snprintf(info.name, sizeof(info.name), "%s", pool->name);
        info.block_size = pool->block_sectors << SECTOR_SHIFT;
        r = catalog_volume_count(pool->cat);
        if (r < 0)
                return r;
        info.volumes = (unsigned)r;
        r = pool->ops->pool_info(pool, &info);
        if (r < 0)
                return r;
        *ret_info = info;
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int dvm_pool_list(dvm_ctx *ctx, char ***ret_names)
{
        DIR *d = opendir(ctx->state_dir);
        struct dirent *de;
        char **v = calloc(1, sizeof(char *));
        size_t n = 0;

        if (!v) {
                if (d)
                        closedir(d);
                return -ENOMEM;
        }
        if (!d) {
                if (errno == ENOENT) {
                        *ret_names = v;
                        return 0;
                }
                free(v);
                return ctx_error(ctx, -errno, "cannot read state directory %s: %m", ctx->state_dir);
        }
        while ((de = readdir(d))) {
                char db[4096];
                if (dvm_pool_name_check(de->d_name, NULL) < 0)
                        continue;
                snprintf(db, sizeof(db), "%s/%s/catalog.db", ctx->state_dir, de->d_name);
                if (access(db, F_OK) < 0)
                        continue;
                char **nv = realloc(v, (n + 2) * sizeof(char *));
                if (!nv || !(nv[n] = strdup(de->d_name))) {
                        closedir(d);
                        dvm_strv_free(nv ? nv : v);
                        return -ENOMEM;
                }
                v = nv;
                v[++n] = NULL;
        }
        closedir(d);
        qsort(v, n, sizeof(char *), cmp_str);
        *ret_names = v;
        return (int)n;
}

int dvm_pool_reap_host(dvm_pool *pool, const char *host, struct dvm_host_reap *ret)
{
        struct dvm_host_reap rep = {};
        int r;

        if (!pool->ops->reap_host)
                return ctx_error(pool->ctx, -EOPNOTSUPP, "pool %s: recover --host needs an rbd pool, not %s",
                                 pool->name, pool->ops->name);
        r = pool->ops->reap_host(pool, host, &rep);
        if (ret)
                *ret = rep;
        return r;
}
