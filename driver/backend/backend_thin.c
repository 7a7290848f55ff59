// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The thin backend: a pool is a dm thin-pool (on autoclear loops over sparse files, or on
 * given block devices); a layer is a thin id, created, snapshotted and deleted by pool
 * messages, and exposed by a thin target device.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "backend/backend.h"
#include "backend/thin_owned.h"
#include "backend/thin_state.h"
#include "backend/thin_zero.h"
#include "kernel/dm.h"
#include "kernel/loop.h"
#include "kernel/target.h"
#include "kernel/thin.h"
#include "kernel/thin_pool.h"
#include "util/text.h"

/* Room for a thin target's parameters: "<major>:<minor> <id>". */
#define THIN_PARAMS_MAX 64

#define DEFAULT_DATA_SIZE (16ULL << 30)
#define DEFAULT_BLOCK_SIZE (64ULL << 10)

static int thin_pool_unit(dvm_ctx *ctx, const char *name, const struct dvm_pool_config *cfg, uint64_t *ret_sectors)
{
        uint64_t block = cfg->block_size ? cfg->block_size : DEFAULT_BLOCK_SIZE;

        if (cfg->chunk_size || cfg->cow_percent)
                return ctx_error(ctx, -EINVAL, "pool %s: a chunk size and a COW share are settings of snap pools, "
                                 "not of thin pools", name);
        if (block % 512 || thin_pool_block_check(block >> SECTOR_SHIFT) < 0) {
                char shown[32];
                return ctx_error(ctx, -EINVAL, "pool %s: block size %s is not a multiple of 64K between 64K and 1G",
                                 name, dvm_format_size(block, shown, sizeof(shown)));
        }
        *ret_sectors = block >> SECTOR_SHIFT;
        return 0;
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

/* Whether device @maj:@min is @path: that block device, or a loop over that file. */
static bool device_is(uint32_t maj, uint32_t min, const char *path)
{
        struct stat want, got;
        char sys[96], backing[4096];

        if (stat(path, &want) < 0)
                return false;
        if (S_ISBLK(want.st_mode))
                return major(want.st_rdev) == maj && minor(want.st_rdev) == min;
        snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/loop/backing_file", maj, min);
        return text_read_line(sys, backing, sizeof(backing)) >= 0 && stat(backing, &got) == 0 &&
               got.st_dev == want.st_dev && got.st_ino == want.st_ino;
}

/* A pool is known by its devices, not only by its dm name: a DVM-<name> found in the kernel
 * must be a thin-pool over the data and metadata devices this catalog records. Another
 * one (a pool of the same name from another state directory) is refused, untouched: its
 * thin ids are not ours to reconcile. */
static int identity_check(dvm_pool *pool, const char *type, const char *params)
{
        _cleanup_free_ char *data = NULL, *meta = NULL;
        struct thin_pool_table t;
        int r;

        if ((r = catalog_meta_get(pool->cat, "data", &data)) < 0 ||
            (r = catalog_meta_get(pool->cat, "metadata", &meta)) < 0)
                return ctx_error(pool->ctx, r, "pool %s: catalog lacks its settings: %m", pool->name);
        if (strcmp(type, "thin-pool") != 0 || thin_pool_table_parse(params, &t) < 0)
                return ctx_error(pool->ctx, -EEXIST, "pool %s: device-mapper device %s is not this pool's (a %s "
                                 "device); nothing was changed", pool->name, pool->dm_name, type);
        if (!device_is(t.data_major, t.data_minor, data) || !device_is(t.meta_major, t.meta_minor, meta))
                return ctx_error(pool->ctx, -EEXIST, "pool %s: device-mapper device %s is another pool's: it runs "
                                 "on %u:%u and %u:%u, not on %s and %s of %s (a pool of the same name from another "
                                 "state directory?); nothing was changed", pool->name, pool->dm_name,
                                 t.data_major, t.data_minor, t.meta_major, t.meta_minor, data, meta, pool->dir);
        return 0;
}

/* A VM's discard on a thin volume unmaps its blocks at once, out of reach of the wipe (and a
 * disk that ignores discards keeps their contents): our pools take none (ignore_discard).
 * dm-thin refuses to change that feature on a live pool ("Discard support cannot be disabled
 * once enabled"), so a pool an older dvm-vol activated with discards is made again when
 * nothing holds it, and until then is used with a warning. Returns 0, -ENXIO when the pool
 * device went (the caller activates it afresh), or -errno. */
static int discards_refused(dvm_pool *pool, const char *params)
{
        struct thin_pool_table t;
        struct dm_dev_info info;
        int r;

        if (thin_pool_table_parse(params, &t) < 0 || t.ignore_discard)
                return 0;
        if ((r = dm_info(pool->ctx, pool->dm_name, &info)) < 0)
                return r;
        if (info.open_count > 0) {
                ctx_warn(pool->ctx, "pool %s was activated with discards on (by an older dvm-vol): blocks its VMs "
                         "discard are freed unwiped until it is activated again, once no volume of it is active",
                         pool->name);
                return 0;
        }
        ctx_info(pool->ctx, "pool %s: made again without discards (it was activated with them)", pool->name);
        r = dm_remove(pool->ctx, pool->dm_name);
        return r < 0 ? r : -ENXIO;
}

/* Load the thin-pool if it is not in the kernel: loops re-attached, table loaded. Volumes
 * stay as they are (inactive after a reboot). One in the kernel must be this pool. */
static int thin_pool_activate(dvm_pool *pool)
{
        _cleanup_free_ char *data = NULL, *meta = NULL, *file_backed = NULL, *uuid = NULL;
        struct loop_dev ldata = { .fd = -1 }, lmeta = { .fd = -1 };
        struct thin_pool_table t;
        char params[128];
        uint64_t data_size;
        bool files;
        int r;

        r = pool_device_info(pool);
        if (r == 0) {
                /* one read of the table for both checks (the hook's add pays each ioctl) */
                _cleanup_free_ char *type = NULL, *cur = NULL;
                if ((r = dm_table(pool->ctx, pool->dm_name, &type, &cur)) < 0 && r != -ENXIO)
                        return ctx_error(pool->ctx, r, "pool %s: cannot read the table of %s: %m", pool->name,
                                         pool->dm_name);
                if (r == 0 && (r = identity_check(pool, type, cur)) == 0 && (r = discards_refused(pool, cur)) == 0)
                        r = thin_zero_sync(pool);
        }
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
                .ignore_discard = true,
                .skip_block_zeroing = thin_zero_on(pool),
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

static int thin_pool_create(dvm_pool *p, const struct dvm_pool_config *cfg)
{
        _cleanup_free_ char *data = NULL, *meta = NULL;
        bool files = !cfg->data_dev;
        uint64_t block = p->block_sectors << SECTOR_SHIFT;
        uint64_t data_size = cfg->data_size ? cfg->data_size : DEFAULT_DATA_SIZE;
        int r;

        if (!!cfg->data_dev != !!cfg->metadata_dev)
                return ctx_error(p->ctx, -EINVAL, "pool %s: give both --data and --metadata devices, or neither",
                                 p->name);
        if (!files && cfg->skip_zeroing == DVM_SKIP_ZEROING_YES)
                return ctx_error(p->ctx, -EINVAL, "pool %s: cannot skip block zeroing on %s: its contents are unknown, "
                                 "and a block provisioned unzeroed would show a VM what the device held; leave "
                                 "--skip-zeroing out on devices", p->name, cfg->data_dev);
        if (files && data_size < 16 * block)
                return ctx_error(p->ctx, -EINVAL, "pool %s: data size %" PRIu64 " is below 16 blocks", p->name,
                                 data_size);
        r = target_require(p->ctx, "thin-pool");
        if (r < 0)
                return r;
        if (dm_info(p->ctx, p->dm_name, NULL) == 0)
                return ctx_error(p->ctx, -EEXIST, "pool %s: device-mapper device %s exists already", p->name,
                                 p->dm_name);
        data = files ? pool_path(p, "data.img") : strdup(cfg->data_dev);
        meta = files ? pool_path(p, "metadata.img") : strdup(cfg->metadata_dev);
        if (!data || !meta)
                return -ENOMEM;
        if (files) {
                r = create_sparse(p->ctx, data, data_size);
                if (r >= 0)
                        r = create_sparse(p->ctx, meta, thin_pool_metadata_size(data_size, block));
        } else {
                r = dev_size(p->ctx, data, &data_size);
                if (r >= 0)
                        r = zero_metadata_head(p->ctx, meta);
        }
        if (r < 0)
                return r;
        if ((r = catalog_meta_set(p->cat, "data", data)) < 0 ||
            (r = catalog_meta_set(p->cat, "metadata", meta)) < 0 ||
            (r = catalog_meta_set(p->cat, "file_backed", files ? "1" : "0")) < 0)
                return r;
        /* a new sparse file reads zero everywhere */
        if (files && cfg->skip_zeroing != DVM_SKIP_ZEROING_NO && (r = thin_zero_enable(p)) < 0)
                return r;
        return thin_pool_activate(p);
}

static void thin_pool_destroy(dvm_pool *p)
{
        _cleanup_free_ char *data = pool_path(p, "data.img"), *meta = pool_path(p, "metadata.img");
        _cleanup_free_ char *zero = pool_path(p, "skip-zeroing");
        struct dm_dev_info info;

        /* only the device this handle made: one found under the name is another pool's */
        if ((p->major || p->minor) && dm_info(p->ctx, p->dm_name, &info) == 0 && info.major == p->major &&
            info.minor == p->minor)
                dm_remove(p->ctx, p->dm_name);
        /* only files we made; given devices stay as they are */
        if (data)
                unlink(data);
        if (meta)
                unlink(meta);
        if (zero)
                unlink(zero);
}

static int thin_pool_info(dvm_pool *pool, struct dvm_pool_info *info)
{
        _cleanup_free_ char *type = NULL, *params = NULL, *data = NULL, *meta = NULL;
        struct thin_pool_status st;
        uint64_t block = pool->block_sectors << SECTOR_SHIFT;
        int r;

        if (catalog_meta_get(pool->cat, "data", &data) >= 0)
                snprintf(info->data_path, sizeof(info->data_path), "%s", data);
        if (catalog_meta_get(pool->cat, "metadata", &meta) >= 0)
                snprintf(info->metadata_path, sizeof(info->metadata_path), "%s", meta);
        r = dm_status(pool->ctx, pool->dm_name, &type, &params);
        if (r == -ENXIO)
                return 0;
        if (r < 0)
                return ctx_error(pool->ctx, r, "pool %s: cannot read status: %m", pool->name);
        r = thin_pool_status_parse(params, &st);
        if (r < 0 || st.failed)
                return ctx_error(pool->ctx, r < 0 ? r : -EIO, "pool %s: thin-pool status \"%s\" %s", pool->name, params,
                                 st.failed ? "reports a failure" : "is not understood");
        info->active = true;
        info->skip_zeroing = thin_zero_on(pool);
        info->transaction_id = st.transaction_id;
        info->data_used = st.data_used * block;
        info->data_total = st.data_total * block;
        info->metadata_used = st.meta_used * 4096;
        info->metadata_total = st.meta_total * 4096;
        return 0;
}

static int send(dvm_pool *pool, int n, const char *msg)
{
        return n < 0 ? n : pool_message(pool, msg);
}

static int thin_layer_new(dvm_pool *pool, const struct layer *l)
{
        char msg[64];
        return send(pool, thin_msg_create((uint32_t)l->id, msg, sizeof(msg)), msg);
}

/* Whether layer @id maps no block at all: its release frees nothing (a template's first,
 * empty origin, replaced at its first commit). */
static bool maps_nothing(dvm_pool *pool, int64_t id)
{
        struct layer l = { .id = id, .origin = -1, .size = UINT64_MAX };
        struct extent_list e = {};
        bool none = thin_layer_owned(pool, NULL, &l, &e) >= 0 && e.n == 0;

        extent_list_free(&e);
        return none;
}

/* A layer that was not wiped frees blocks that may not read zero: the pool zeroes again
 * before they are free. */
static int thin_layer_delete(dvm_pool *pool, int64_t id)
{
        char msg[64], why[64];
        int r;

        if (!pool_wiped_take(pool, id) && !(thin_zero_on(pool) && maps_nothing(pool, id))) {
                snprintf(why, sizeof(why), "layer %lld released without a wipe", (long long)id);
                if ((r = thin_zero_drop(pool, why)) < 0)
                        return r;
        }
        return send(pool, thin_msg_delete((uint32_t)id, msg, sizeof(msg)), msg);
}

static int thin_layer_snap(dvm_pool *pool, const struct layer *l, const char *origin_dm)
{
        char msg[64];
        bool suspended = false;
        int n = thin_msg_snap((uint32_t)l->id, (uint32_t)l->origin, msg, sizeof(msg)), r;

        if (n < 0)
                return n;
        /* dm-thin requires an active origin to be suspended so that the snapshot does not
         * race with writes in flight (thin-provisioning.rst). */
        if (origin_dm && dm_info(pool->ctx, origin_dm, NULL) == 0) {
                r = dm_suspend(pool->ctx, origin_dm);
                if (r < 0)
                        return r;
                suspended = true;
        }
        r = pool_message(pool, msg);
        if (suspended) {
                int q = dm_resume(pool->ctx, origin_dm);
                if (r >= 0)
                        r = q;
        }
        return r;
}

/* A thin snapshot stands on its own already: the pool shares blocks by reference count. */
static int thin_layer_commit(dvm_pool *pool _unused_, const struct layer *l _unused_)
{
        return 0;
}

/* The table line that shows layer @l: thin device l->id of the pool, l->size long; @params
 * holds its parameters. */
static int thin_line(dvm_pool *pool, const struct layer *l, char params[static THIN_PARAMS_MAX],
                     struct dm_table_line *ret)
{
        int n = thin_table_params(pool->major, pool->minor, (uint32_t)l->id, params, THIN_PARAMS_MAX);

        if (n < 0)
                return n;
        *ret = (struct dm_table_line){ 0, l->size >> SECTOR_SHIFT, "thin", params };
        return 0;
}

static int thin_activate(dvm_pool *pool, const char *dm_name, const struct layer *l, bool read_only)
{
        char uuid[160], params[THIN_PARAMS_MAX];
        struct dm_table_line line;
        int r = thin_line(pool, l, params, &line);

        if (r < 0)
                return r;
        /* The layer id in the UUID ties the device to one layer: a device left from an
         * earlier layer never passes for the current one. */
        snprintf(uuid, sizeof(uuid), "%s-%" PRId64, dm_name, l->id);
        return dm_create(pool->ctx, dm_name, uuid, &line, 1, read_only, NULL);
}

/* A thin device's size is only the length of its table: the pool maps blocks on first write
 * wherever they fall, so a longer table is all that growing takes. */
static int thin_grow(dvm_pool *pool, const char *dm_name, const struct layer *l)
{
        char params[THIN_PARAMS_MAX];
        struct dm_table_line line;
        int r = thin_line(pool, l, params, &line);

        return r < 0 ? r : dm_reload(pool->ctx, dm_name, &line, 1);
}

static int thin_deactivate(dvm_pool *pool, const char *dm_name, const struct layer *l _unused_)
{
        int r = dm_remove(pool->ctx, dm_name);
        return r == -ENXIO ? 0 : r;
}

/* A thin layer is one dm device over the pool: its deferred removal takes it all down. */
static int thin_fence(dvm_pool *pool, const char *dm_name, const struct layer *l _unused_)
{
        int r = dm_remove_deferred(pool->ctx, dm_name);
        return r == -ENXIO ? 0 : r;
}

static int thin_usage(dvm_pool *pool, const char *dm_name, const struct layer *l _unused_, uint64_t *ret_bytes)
{
        _cleanup_free_ char *type = NULL, *params = NULL;
        struct thin_status st;
        int r = dm_status(pool->ctx, dm_name, &type, &params);

        if (r < 0)
                return r;
        if (thin_status_parse(params, &st) < 0 || st.failed)
                return ctx_error(pool->ctx, -EIO, "%s: thin status \"%s\"", dm_name, params);
        *ret_bytes = st.mapped_sectors << SECTOR_SHIFT;
        return 0;
}

const struct backend_ops backend_thin = {
        .name = "thin",
        .pool_unit = thin_pool_unit,
        .pool_create = thin_pool_create,
        .pool_activate = thin_pool_activate,
        .pool_info = thin_pool_info,
        .pool_destroy = thin_pool_destroy,
        .layer_new = thin_layer_new,
        .layer_snap = thin_layer_snap,
        .layer_commit = thin_layer_commit,
        .layer_delete = thin_layer_delete,
        .zero_drop = thin_zero_drop,
        .activate = thin_activate,
        .deactivate = thin_deactivate,
        .fence = thin_fence,
        .usage = thin_usage,
        .grow = thin_grow,
        .owned = thin_layer_owned,
        .owned_hold = thin_layer_hold,
        .txn_get = thin_state_txn_get,
        .txn_set = thin_state_txn_set,
        .layer_list = thin_state_layers,
};
