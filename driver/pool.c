// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pools: init (file-backed or on given devices), activation after a reboot, info, list,
 * and the pool lock. A pool is <state dir>/<name>/ with its catalog and, when
 * file-backed, its sparse data and metadata files; in the kernel it is the thin-pool
 * device DVM-<name>.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dm.h"
#include "loop.h"
#include "pool.h"
#include "target.h"
#include "thin_pool.h"

#define DEFAULT_DATA_SIZE (16ULL << 30)
#define DEFAULT_BLOCK_SIZE (64ULL << 10)

static char *path_join(const char *dir, const char *name)
{
        char *p = NULL;
        return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

int pool_lock(dvm_pool *pool)
{
        if (pool->lock_depth++ > 0)
                return 0;
        if (flock(pool->lock_fd, LOCK_EX) < 0) {
                pool->lock_depth = 0;
                return ctx_error(pool->ctx, -errno, "cannot lock pool %s: %m", pool->name);
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

/* Size in bytes of a block device or regular file. */
static int dev_size(dvm_ctx *ctx, const char *path, uint64_t *ret_size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0)
                return ctx_error(ctx, -errno, "cannot open %s: %m", path);
        if (S_ISREG(st.st_mode)) {
                *ret_size = (uint64_t)st.st_size;
                return 0;
        }
        if (!S_ISBLK(st.st_mode))
                return ctx_error(ctx, -ENOTBLK, "%s is neither a block device nor a file", path);
        if (ioctl(fd, BLKGETSIZE64, ret_size) < 0)
                return ctx_error(ctx, -errno, "cannot get the size of %s: %m", path);
        return 0;
}

/* A backing device for the table: a loop over a file, or the block device itself. */
static int backing_open(dvm_ctx *ctx, const char *path, bool file_backed, struct loop_dev *ret)
{
        struct stat st;

        if (file_backed)
                return loop_attach(ctx, path, LOOP_AUTOCLEAR, ret);
        if (stat(path, &st) < 0)
                return ctx_error(ctx, -errno, "cannot find %s: %m", path);
        if (!S_ISBLK(st.st_mode))
                return ctx_error(ctx, -ENOTBLK, "%s is not a block device", path);
        *ret = (struct loop_dev){ .fd = -1, .major = major(st.st_rdev), .minor = minor(st.st_rdev) };
        snprintf(ret->path, sizeof(ret->path), "%s", path);
        return 0;
}

static int pool_device_info(dvm_pool *pool)
{
        struct dm_dev_info info;
        int r = dm_info(pool->ctx, pool->dm_name, &info);

        if (r < 0)
                return r;
        pool->major = info.major;
        pool->minor = info.minor;
        return 0;
}

/* Load the thin-pool if it is not in the kernel: loops re-attached, table loaded. Volumes
 * stay as they are (inactive after a reboot). */
static int pool_activate(dvm_pool *pool)
{
        _cleanup_free_ char *data = NULL, *meta = NULL, *file_backed = NULL, *uuid = NULL;
        struct loop_dev ldata = { .fd = -1 }, lmeta = { .fd = -1 };
        struct thin_pool_table t;
        char params[128];
        uint64_t data_size;
        bool files;
        int r;

        r = pool_device_info(pool);
        if (r != -ENXIO)
                return r;
        r = target_require(pool->ctx, "thin-pool");
        if (r < 0)
                return r;
        if ((r = catalog_meta_get(pool->cat, "data", &data)) < 0 ||
            (r = catalog_meta_get(pool->cat, "metadata", &meta)) < 0 ||
            (r = catalog_meta_get(pool->cat, "file_backed", &file_backed)) < 0)
                return ctx_error(pool->ctx, r, "pool %s: catalog lacks its settings: %m", pool->name);
        files = strcmp(file_backed, "1") == 0;
        r = dev_size(pool->ctx, data, &data_size);
        if (r < 0)
                return r;
        r = backing_open(pool->ctx, meta, files, &lmeta);
        if (r < 0)
                return r;
        r = backing_open(pool->ctx, data, files, &ldata);
        if (r < 0)
                goto out;
        t = (struct thin_pool_table){
                .meta_major = lmeta.major, .meta_minor = lmeta.minor,
                .data_major = ldata.major, .data_minor = ldata.minor,
                .block_sectors = pool->block_sectors,
                .low_water_blocks = data_size / (pool->block_sectors << SECTOR_SHIFT) / 10,
        };
        r = thin_pool_table_params(&t, params, sizeof(params));
        if (r < 0)
                goto out;
        if (asprintf(&uuid, DM_UUID_PREFIX "%s-pool", pool->name) < 0) {
                r = -ENOMEM;
                goto out;
        }
        struct dm_table_line line = { 0, (data_size >> SECTOR_SHIFT) / pool->block_sectors * pool->block_sectors,
                                       "thin-pool", params };
        r = dm_create(pool->ctx, pool->dm_name, uuid, &line, 1, false, NULL);
        if (r >= 0)
                r = pool_device_info(pool);
        if (r >= 0)
                ctx_info(pool->ctx, "pool %s activated (%s)", pool->name, params);
out:
        /* The table holds the loops now; an autoclear loop goes with the pool device. */
        loop_release(&ldata);
        loop_release(&lmeta);
        return r;
}

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
        snprintf(p->name, sizeof(p->name), "%s", name);
        snprintf(p->dm_name, sizeof(p->dm_name), DM_UUID_PREFIX "%s", name);
        p->dir = path_join(ctx->state_dir, name);
        if (!p->dir) {
                free(p);
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

dvm_pool *dvm_pool_close(dvm_pool *pool)
{
        if (pool) {
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
        _cleanup_free_ char *db = path_join(p->dir, "catalog.db"), *lock = path_join(p->dir, "lock");
        _cleanup_free_ char *backend = NULL;
        int r;

        if (!db || !lock)
                return -ENOMEM;
        p->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (p->lock_fd < 0)
                return ctx_error(p->ctx, -errno, "cannot open %s: %m", lock);
        r = catalog_open(p->ctx, db, &p->cat);
        if (r < 0)
                return r;
        r = catalog_meta_get_u64(p->cat, "block_sectors", &p->block_sectors);
        if (r >= 0)
                r = catalog_meta_get(p->cat, "backend", &backend);
        if (r < 0)
                return ctx_error(p->ctx, r == -ENOENT ? -ENOENT : r,
                                 "pool %s is not initialised: its catalog has no settings", p->name);
        p->backend = strcmp(backend, "snap") == 0 ? DVM_BACKEND_SNAP : DVM_BACKEND_THIN;
        return 0;
}

int dvm_pool_open(dvm_ctx *ctx, const char *name, dvm_pool **ret_pool)
{
        _cleanup_(dvm_pool_closep) dvm_pool *p = NULL;
        _cleanup_free_ char *db = NULL;
        int r = pool_new(ctx, name, &p);

        if (r < 0)
                return r;
        db = path_join(p->dir, "catalog.db");
        if (!db)
                return -ENOMEM;
        if (access(db, F_OK) < 0)
                return ctx_error(ctx, -ENOENT, "pool %s is not initialised (no %s); create it with "
                                 "'dvm-vol pool init %s'", p->name, db, p->name);
        r = pool_load(p);
        if (r < 0)
                return r;
        r = pool_lock(p);
        if (r < 0)
                return r;
        r = pool_activate(p);
        pool_unlock(p);
        if (r < 0)
                return r;
        *ret_pool = TAKE_PTR(p);
        return 0;
}

static int create_sparse(dvm_ctx *ctx, const char *path, uint64_t size)
{
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

        if (fd < 0)
                return ctx_error(ctx, -errno, "cannot create %s: %m", path);
        if (ftruncate(fd, (off_t)size) < 0)
                return ctx_error(ctx, -errno, "cannot size %s to %" PRIu64 " bytes: %m", path, size);
        return 0;
}

/* A fresh pool needs the first metadata block zeroed, or the kernel reads stale metadata. */
static int zero_metadata_head(dvm_ctx *ctx, const char *path)
{
        static const char zero[4096];
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                return ctx_error(ctx, -errno, "cannot open %s: %m", path);
        if (pwrite(fd, zero, sizeof(zero), 0) != (ssize_t)sizeof(zero) || fsync(fd) < 0)
                return ctx_error(ctx, -errno, "cannot clear the metadata header of %s: %m", path);
        return 0;
}

static int write_settings(dvm_pool *p, const char *data, const char *meta, bool files)
{
        int r = catalog_begin(p->cat);
        if (r < 0)
                return r;
        if ((r = catalog_meta_set(p->cat, "backend", "thin")) < 0 ||
            (r = catalog_meta_set(p->cat, "data", data)) < 0 ||
            (r = catalog_meta_set(p->cat, "metadata", meta)) < 0 ||
            (r = catalog_meta_set(p->cat, "file_backed", files ? "1" : "0")) < 0 ||
            (r = catalog_meta_set_u64(p->cat, "block_sectors", p->block_sectors)) < 0 ||
            (r = catalog_meta_set_u64(p->cat, "space_guard_percent", 10)) < 0) {
                catalog_rollback(p->cat);
                return r;
        }
        return catalog_commit(p->cat);
}

int dvm_pool_init(dvm_ctx *ctx, const char *name, const struct dvm_pool_config *cfg)
{
        static const struct dvm_pool_config defaults = {};
        _cleanup_(dvm_pool_closep) dvm_pool *p = NULL;
        _cleanup_free_ char *data = NULL, *meta = NULL, *db = NULL, *lock = NULL;
        uint64_t block = DEFAULT_BLOCK_SIZE, data_size;
        bool files;
        int r;

        if (!cfg)
                cfg = &defaults;
        r = pool_new(ctx, name, &p);
        if (r < 0)
                return r;
        if (cfg->backend != DVM_BACKEND_THIN)
                return ctx_error(ctx, -EOPNOTSUPP, "pool %s: backend %s is not available yet", p->name,
                                 dvm_backend_name(cfg->backend));
        if (!!cfg->data_dev != !!cfg->metadata_dev)
                return ctx_error(ctx, -EINVAL, "pool %s: give both --data and --metadata devices, or neither",
                                 p->name);
        if (cfg->block_size)
                block = cfg->block_size;
        if (block % 512 || thin_pool_block_check(block >> SECTOR_SHIFT) < 0) {
                char shown[32];
                return ctx_error(ctx, -EINVAL, "pool %s: block size %s is not a multiple of 64K between 64K and 1G",
                                 p->name, dvm_format_size(block, shown, sizeof(shown)));
        }
        p->block_sectors = block >> SECTOR_SHIFT;
        files = !cfg->data_dev;
        data_size = cfg->data_size ? cfg->data_size : DEFAULT_DATA_SIZE;
        if (files && data_size < 16 * block)
                return ctx_error(ctx, -EINVAL, "pool %s: data size %" PRIu64 " is below 16 blocks", p->name,
                                 data_size);
        r = target_require(ctx, "thin-pool");
        if (r < 0)
                return r;
        if (dm_info(ctx, p->dm_name, NULL) == 0)
                return ctx_error(ctx, -EEXIST, "pool %s: device-mapper device %s exists already", p->name,
                                 p->dm_name);
        if (mkdir(ctx->state_dir, 0700) < 0 && errno != EEXIST)
                return ctx_error(ctx, -errno, "cannot create state directory %s: %m", ctx->state_dir);
        if (mkdir(p->dir, 0700) < 0)
                return ctx_error(ctx, errno == EEXIST ? -EEXIST : -errno,
                                 errno == EEXIST ? "pool %s exists already (%s)" : "cannot create pool %s: %s: %m",
                                 p->name, p->dir);
        data = files ? path_join(p->dir, "data.img") : strdup(cfg->data_dev);
        meta = files ? path_join(p->dir, "metadata.img") : strdup(cfg->metadata_dev);
        db = path_join(p->dir, "catalog.db");
        lock = path_join(p->dir, "lock");
        if (!data || !meta || !db || !lock) {
                r = -ENOMEM;
                goto undo;
        }
        if (files) {
                r = create_sparse(ctx, data, data_size);
                if (r >= 0)
                        r = create_sparse(ctx, meta, thin_pool_metadata_size(data_size, block));
        } else {
                r = dev_size(ctx, data, &data_size);
                if (r >= 0)
                        r = zero_metadata_head(ctx, meta);
        }
        if (r < 0)
                goto undo;
        p->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        r = p->lock_fd < 0 ? -errno : catalog_open(ctx, db, &p->cat);
        if (r >= 0)
                r = write_settings(p, data, meta, files);
        if (r >= 0)
                r = pool_activate(p);
        if (r >= 0)
                return 0;
undo:
        /* Leave nothing behind: the device (if it came up), our files, the directory. */
        dm_remove(ctx, p->dm_name);
        p->cat = catalog_close(p->cat);
        if (files) {
                if (data)
                        unlink(data);
                if (meta)
                        unlink(meta);
        }
        if (db) {
                unlink(db);
                char *wal = NULL, *shm = NULL;
                if (asprintf(&wal, "%s-wal", db) >= 0) { unlink(wal); free(wal); }
                if (asprintf(&shm, "%s-shm", db) >= 0) { unlink(shm); free(shm); }
        }
        if (lock)
                unlink(lock);
        rmdir(p->dir);
        return r;
}

int dvm_pool_info(dvm_pool *pool, struct dvm_pool_info *ret_info)
{
        _cleanup_free_ char *type = NULL, *params = NULL, *data = NULL, *meta = NULL;
        struct dvm_pool_info info = { .backend = pool->backend };
        struct thin_pool_status st;
        uint64_t block = pool->block_sectors << SECTOR_SHIFT;
        int r;

        snprintf(info.name, sizeof(info.name), "%s", pool->name);
        info.block_size = block;
        if (catalog_meta_get(pool->cat, "data", &data) >= 0)
                snprintf(info.data_path, sizeof(info.data_path), "%s", data);
        if (catalog_meta_get(pool->cat, "metadata", &meta) >= 0)
                snprintf(info.metadata_path, sizeof(info.metadata_path), "%s", meta);
        r = catalog_volume_count(pool->cat);
        if (r < 0)
                return r;
        info.volumes = (unsigned)r;
        r = dm_status(pool->ctx, pool->dm_name, &type, &params);
        if (r >= 0) {
                r = thin_pool_status_parse(params, &st);
                if (r < 0 || st.failed)
                        return ctx_error(pool->ctx, r < 0 ? r : -EIO, "pool %s: thin-pool status \"%s\" %s",
                                         pool->name, params, st.failed ? "reports a failure" : "is not understood");
                info.active = true;
                info.transaction_id = st.transaction_id;
                info.data_used = st.data_used * block;
                info.data_total = st.data_total * block;
                info.metadata_used = st.meta_used * 4096;
                info.metadata_total = st.meta_total * 4096;
        } else if (r != -ENXIO) {
                return ctx_error(pool->ctx, r, "pool %s: cannot read status: %m", pool->name);
        }
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
