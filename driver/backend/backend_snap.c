// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The snap backend: a pool is a directory of sparse files. Layer <id> is <id>.img (a
 * committed layer, or a new one) shown by a linear device over its loop, or, while it runs
 * as a snapshot of committed layer <origin>, <id>.cow: a persistent COW store under a
 * snapshot device whose origin is <origin>.img on a read-only loop shared by all its users.
 *
 * Committed images never change: a save_on_stop layer commits into a new revision
 * <id>.img (a clone of <origin>.img with the COW's chunks written in), so disposables still
 * running on <origin>.img keep what they started from; the lifecycle deletes that old
 * revision when its last user stops.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "backend/backend.h"
#include "backend/snap_cow.h"
#include "backend/snap_image.h"
#include "format/cow.h"
#include "kernel/dm.h"
#include "kernel/linear.h"
#include "kernel/loop.h"
#include "kernel/snapshot.h"
#include "kernel/target.h"
#include "util/fault.h"

#define DEFAULT_CHUNK_SIZE (64ULL << 10)
#define CHUNK_SIZE_MIN (4ULL << 10)
#define CHUNK_SIZE_MAX (1ULL << 20)

/*
 * Loops use direct I/O where the file system has it (else buffered, e.g. on tmpfs): the
 * files' data is not cached a second time under the guest-facing devices, and in
 * bench/snap-loop-dio.sh (ext4 on a virtio disk, vm tier) direct I/O on both loops gave
 * 2.7x the random reads, 3.1x the random writes and 2.1x the sequential writes of
 * buffered loops under a snapshot. The COW stores' loops: snap_cow.c.
 */
#define LOOP_ORIGIN (LOOP_READ_ONLY | LOOP_AUTOCLEAR | LOOP_DIRECT_IO)
#define LOOP_IMAGE (LOOP_AUTOCLEAR | LOOP_DIRECT_IO)

static int snap_pool_unit(dvm_ctx *ctx, const char *name, const struct dvm_pool_config *cfg, uint64_t *ret_sectors)
{
        uint64_t chunk = cfg->chunk_size ? cfg->chunk_size : DEFAULT_CHUNK_SIZE;
        char shown[32];

        if (cfg->block_size || cfg->data_dev || cfg->metadata_dev || cfg->data_size || cfg->skip_zeroing)
                return ctx_error(ctx, -EINVAL, "pool %s: a block size, data and metadata devices, a data size and "
                                 "skipping block zeroing are settings of thin pools; a snap pool keeps sparse images "
                                 "in its directory", name);
        if (chunk < CHUNK_SIZE_MIN || chunk > CHUNK_SIZE_MAX || (chunk & (chunk - 1)))
                return ctx_error(ctx, -EINVAL, "pool %s: chunk size %s is not a power of two between 4K and 1M", name,
                                 dvm_format_size(chunk, shown, sizeof(shown)));
        if (cfg->cow_percent > 100)
                return ctx_error(ctx, -EINVAL, "pool %s: COW share %u%% is above 100%%", name, cfg->cow_percent);
        *ret_sectors = chunk >> SECTOR_SHIFT;
        return 0;
}

static int snap_targets(dvm_ctx *ctx)
{
        int r = target_require(ctx, "snapshot");
        return r < 0 ? r : target_require(ctx, "linear");
}

static int snap_pool_create(dvm_pool *pool, const struct dvm_pool_config *cfg)
{
        int r = snap_targets(pool->ctx);

        if (r < 0)
                return r;
        return catalog_meta_set_u64(pool->cat, "cow_percent", cfg->cow_percent ? cfg->cow_percent : 100);
}

/* Nothing lives in the kernel while no layer runs. */
static int snap_pool_activate(dvm_pool *pool)
{
        return snap_targets(pool->ctx);
}

static void snap_pool_destroy(dvm_pool *pool _unused_)
{
}

static int snap_pool_info(dvm_pool *pool, struct dvm_pool_info *info)
{
        struct statvfs vfs;
        struct dirent *de;
        DIR *d;

        snprintf(info->data_path, sizeof(info->data_path), "%s", pool->dir);
        if (statvfs(pool->dir, &vfs) < 0 || !(d = opendir(pool->dir)))
                return ctx_error(pool->ctx, -errno, "pool %s: cannot read %s: %m", pool->name, pool->dir);
        info->active = true;
        info->data_total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
        while ((de = readdir(d))) {
                const char *dot = strrchr(de->d_name, '.');
                struct stat st;
                if (!dot || (strcmp(dot, ".img") && strcmp(dot, ".cow")) ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                info->data_used += (uint64_t)st.st_blocks * 512;
        }
        closedir(d);
        return 0;
}

static int snap_layer_new(dvm_pool *pool, const struct layer *l)
{
        _cleanup_free_ char *img = snap_layer_file(pool, l->id, ".img");
        return img ? snap_image_create(pool->ctx, img, l->size) : -ENOMEM;
}

/* A disposable's store holds its share of the volume (a quota on what it can write); a
 * layer that is committed at stop always gets room for every chunk. */
static int cow_bytes(dvm_pool *pool, const struct layer *l, uint64_t *ret)
{
        uint64_t percent = 100, chunk = pool->block_sectors << SECTOR_SHIFT, data;

        if (!l->keep && catalog_meta_get_u64(pool->cat, "cow_percent", &percent) < 0)
                percent = 100;
        data = (l->size / 100 * percent + l->size % 100 * percent / 100 + chunk - 1) / chunk * chunk;
        *ret = cow_store_size(data, (uint32_t)pool->block_sectors);
        return *ret ? 0 : ctx_error(pool->ctx, -EINVAL, "pool %s: no COW store fits %" PRIu64 " bytes", pool->name,
                                    l->size);
}

static int snap_layer_snap(dvm_pool *pool, const struct layer *l, const char *origin_dm _unused_)
{
        _cleanup_free_ char *origin = snap_layer_file(pool, l->origin, ".img"), *cow = snap_layer_file(pool, l->id, ".cow");
        _cleanup_close_ int fd = -1;
        uint64_t size;
        int r;

        if (!origin || !cow)
                return -ENOMEM;
        if (access(origin, R_OK) < 0)
                return ctx_error(pool->ctx, -errno, "layer %" PRId64 ": its origin image %s: %m", l->id, origin);
        if ((r = cow_bytes(pool, l, &size)) < 0 || (r = snap_image_create(pool->ctx, cow, size)) < 0)
                return r;
        fd = open(cow, O_RDWR | O_CLOEXEC);
        r = fd < 0 ? -errno : cow_init_empty(fd, (uint32_t)pool->block_sectors);
        if (r < 0) {
                unlink(cow);
                return ctx_error(pool->ctx, r, "cannot initialise COW store %s: %m", cow);
        }
        return 0;
}

static int snap_layer_commit(dvm_pool *pool, const struct layer *l)
{
        _cleanup_free_ char *origin = snap_layer_file(pool, l->origin, ".img"), *img = snap_layer_file(pool, l->id, ".img"),
                            *tmp = snap_layer_file(pool, l->id, ".img.new"), *cow = snap_layer_file(pool, l->id, ".cow");
        _cleanup_close_ int cow_fd = -1, dir = -1;
        uint64_t cow_size;
        int r;

        if (l->origin < 0)
                return 0; /* an image already */
        if (!origin || !img || !tmp || !cow)
                return -ENOMEM;
        unlink(tmp); /* left by an interrupted commit */
        r = snap_cow_open(pool, l, &cow_fd, &cow_size);
        if (r >= 0)
                r = snap_image_clone(pool->ctx, origin, tmp);
        if (r < 0)
                return r;
        r = snap_image_apply_cow(pool->ctx, tmp, cow_fd, cow_size, l->size);
        if (r >= 0 && rename(tmp, img) < 0)
                r = ctx_error(pool->ctx, -errno, "cannot rename %s to %s: %m", tmp, img);
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        dir = open(pool->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0 || fsync(dir) < 0)
                return ctx_error(pool->ctx, -errno, "cannot flush pool directory %s: %m", pool->dir);
        /* The COW store stays until the catalog records the commit (snap_layer_tidy()): a
         * crash before that finds the layer still running on it, and the stop is redone. */
        return 0;
}

/* Remove those of @id's files named by @suffix that exist; whether one was. */
static int unlink_files(dvm_pool *pool, int64_t id, const char *const *suffix, size_t n, bool *removed)
{
        int r = 0;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *f = snap_layer_file(pool, id, suffix[i]);
                if (!f)
                        return -ENOMEM;
                if (unlink(f) >= 0)
                        *removed = true;
                else if (errno != ENOENT && r == 0)
                        r = ctx_error(pool->ctx, -errno, "cannot remove layer file %s: %m", f);
        }
        return r;
}

static int snap_layer_delete(dvm_pool *pool, int64_t id)
{
        static const char *const suffix[] = { ".img", ".cow", ".img.new" };
        bool removed = false;
        int r = unlink_files(pool, id, suffix, ARRAY_SIZE(suffix), &removed);

        pool_wiped_take(pool, id);
        if (removed)
                FAULT_POINT("snap.unlink");
        return r;
}

static int snap_layer_tidy(dvm_pool *pool, const struct layer *l)
{
        static const char *const image_role[] = { ".cow", ".img.new" }, *const snap_role[] = { ".img.new", ".img" };
        _cleanup_free_ char *cow = NULL;
        bool removed = false;
        size_t n = ARRAY_SIZE(snap_role);
        int r;

        if (l->origin < 0) {
                r = unlink_files(pool, l->id, image_role, ARRAY_SIZE(image_role), &removed);
        } else {
                /* a running snapshot's <id>.img is a commit the catalog did not record, redone
                 * at its stop; without the store it is all that is left of the layer: kept */
                cow = snap_layer_file(pool, l->id, ".cow");
                if (!cow)
                        return -ENOMEM;
                if (access(cow, F_OK) < 0)
                        n--;
                r = unlink_files(pool, l->id, snap_role, n, &removed);
        }
        if (removed) {
                ctx_debug(pool->ctx, "pool %s: removed files layer %" PRId64 " no longer uses", pool->name, l->id);
                FAULT_POINT("snap.tidy");
        }
        return r;
}

/* The layer files in the pool directory: "<id>.img", "<id>.cow", "<id>.img.new". */
static int layer_file_id(const char *name, int64_t *ret)
{
        static const char *const suffix[] = { ".img", ".cow", ".img.new" };
        char *end;
        long long id;

        if (name[0] < '0' || name[0] > '9')
                return 0;
        errno = 0;
        id = strtoll(name, &end, 10);
        if (errno || id < 0)
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(suffix); i++)
                if (strcmp(end, suffix[i]) == 0) {
                        *ret = id;
                        return 1;
                }
        return 0;
}

static int cmp_id(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

/* Every layer id with a file in the pool directory, sorted, once each: what recovery
 * compares with the catalog (a killed import's image, a killed spawn's COW store, the
 * files of a layer whose stop or destroy was cut short after its catalog commit). */
static int snap_layer_list(dvm_pool *pool, int64_t **ret_ids)
{
        _cleanup_free_ int64_t *ids = NULL;
        size_t n = 0, cap = 0, k = 0;
        struct dirent *de;
        DIR *d = opendir(pool->dir);

        if (!d)
                return ctx_error(pool->ctx, -errno, "pool %s: cannot read %s: %m", pool->name, pool->dir);
        while ((de = readdir(d))) {
                int64_t id;
                if (!layer_file_id(de->d_name, &id))
                        continue;
                if (n == cap) {
                        int64_t *m = realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof(*ids));
                        if (!m) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        ids = m;
                }
                ids[n++] = id;
        }
        closedir(d);
        if (n) {
                qsort(ids, n, sizeof(*ids), cmp_id);
                for (size_t i = 0; i < n; i++)
                        if (k == 0 || ids[i] != ids[k - 1])
                                ids[k++] = ids[i];
        }
        if (k > INT_MAX)
                return -E2BIG;
        *ret_ids = TAKE_PTR(ids);
        return (int)k;
}

static int image_loop(dvm_pool *pool, int64_t id, unsigned flags, struct loop_dev *ret)
{
        _cleanup_free_ char *img = snap_layer_file(pool, id, ".img");
        return img ? loop_attach(pool->ctx, img, flags, ret) : -ENOMEM;
}

static int snap_activate(dvm_pool *pool, const char *dm_name, const struct layer *l, bool read_only)
{
        struct loop_dev a = { .fd = -1 }, b = { .fd = -1 };
        char params[128], uuid[160];
        bool made_crypt = false;
        struct dm_table_line line = { 0, l->size >> SECTOR_SHIFT, "linear", params };
        int r;

        if (l->origin < 0) {
                r = image_loop(pool, l->id, LOOP_IMAGE | (read_only ? LOOP_READ_ONLY : 0), &a);
                if (r >= 0)
                        r = linear_table_params(a.major, a.minor, 0, params, sizeof(params));
        } else {
                line.type = "snapshot";
                r = image_loop(pool, l->origin, LOOP_ORIGIN, &a);
                if (r >= 0)
                        r = snap_cow_attach(pool, l, &b, &made_crypt);
                if (r >= 0)
                        r = snapshot_table_params(&(struct snapshot_table){ a.major, a.minor, b.major, b.minor,
                                                                             (uint32_t)pool->block_sectors },
                                                  params, sizeof(params));
        }
        if (r >= 0) {
                /* the layer id in the UUID: a device left from another layer never passes for this one */
                snprintf(uuid, sizeof(uuid), "%s-%" PRId64, dm_name, l->id);
                r = dm_create(pool->ctx, dm_name, uuid, &line, 1, read_only, NULL);
        }
        if (r < 0 && made_crypt) {
                char name[96];
                dm_remove(pool->ctx, snap_cow_crypt_name(pool, l->id, name, sizeof(name)));
        }
        /* The table holds the loops now; autoclear detaches them with their last user. */
        loop_release(&a);
        loop_release(&b);
        return r;
}

static int snap_deactivate(dvm_pool *pool, const char *dm_name, const struct layer *l)
{
        char name[96];
        int r = dm_remove(pool->ctx, dm_name);

        if (r < 0 && r != -ENXIO)
                return r;
        /* the key of its COW store goes with the crypt device */
        if (l->origin >= 0 && !l->keep && (r = dm_remove(pool->ctx, snap_cow_crypt_name(pool, l->id, name, sizeof(name)))) < 0 &&
            r != -ENXIO)
                return r;
        return 0;
}

static int snap_cow_state(dvm_pool *pool, const char *dm_name, const struct layer *l, struct layer_cow *ret)
{
        _cleanup_free_ char *type = NULL, *params = NULL;
        _cleanup_close_ int fd = -1;
        struct snapshot_status st;
        struct cow_usage u;
        uint64_t size;
        int r = dm_status(pool->ctx, dm_name, &type, &params);

        if (r < 0)
                return r;
        if (strcmp(type, "snapshot") != 0 || snapshot_status_parse(params, &st) < 0)
                return ctx_error(pool->ctx, -EIO, "%s: unexpected status \"%s %s\"", dm_name, type, params);
        if (st.state == SNAPSHOT_VALID) {
                *ret = (struct layer_cow){ .used = st.sectors_allocated << SECTOR_SHIFT,
                                           .size = st.total_sectors << SECTOR_SHIFT };
                return 0;
        }
        /* The kernel stops counting once it gives up on a store: count what it left on disk. */
        r = snap_cow_open(pool, l, &fd, &size);
        if (r < 0)
                return r;
        r = cow_usage(fd, size, &u);
        if (r < 0)
                return ctx_error(pool->ctx, r, "%s: cannot read its COW store: %m", dm_name);
        *ret = (struct layer_cow){ .used = u.sectors_allocated << SECTOR_SHIFT, .size = size, .invalid = true };
        return 0;
}

static int snap_usage(dvm_pool *pool, const char *dm_name, const struct layer *l, uint64_t *ret_bytes)
{
        _cleanup_free_ char *img = NULL;
        struct layer_cow cow;
        int r;

        if (l->origin >= 0) {
                r = snap_cow_state(pool, dm_name, l, &cow);
                if (r >= 0)
                        *ret_bytes = cow.used;
                return r;
        }
        img = snap_layer_file(pool, l->id, ".img");
        return img ? snap_image_allocated(img, ret_bytes) : -ENOMEM;
}

static int snap_owned(dvm_pool *pool, const char *dm_name _unused_, const struct layer *l, struct extent_list *ret)
{
        _cleanup_(cow_changes_freep) struct cow_changes *ch = NULL;
        _cleanup_free_ char *img = NULL;
        _cleanup_close_ int fd = -1;
        uint64_t size;
        int r;

        if (l->origin < 0) {
                img = snap_layer_file(pool, l->id, ".img");
                return img ? snap_image_data(pool->ctx, img, l->size, ret) : -ENOMEM;
        }
        r = snap_cow_open(pool, l, &fd, &size);
        if (r < 0)
                return r;
        r = cow_changed_ranges(fd, size, l->size, &ch);
        if (r < 0)
                return ctx_error(pool->ctx, r, "layer %" PRId64 ": cannot read its COW store: %m", l->id);
        for (size_t i = 0; i < ch->n_extents; i++)
                if ((r = extent_add(ret, ch->extents[i].offset, ch->extents[i].length)) < 0)
                        return r;
        return 0;
}

/* A disposable's COW store is wiped below its crypt device, through the loop of its file:
 * zeros over every extent the file holds (header, metadata and data chunks alike), also when
 * the kernel has invalidated the snapshot above it. */
static int snap_wipe_target(dvm_pool *pool, const char *dm_name _unused_, const struct layer *l, char *ret_path,
                            size_t len, struct extent_list *ret)
{
        _cleanup_free_ char *cow = NULL;
        struct loop_dev lo;
        uint64_t size;
        int r;

        if (l->origin < 0 || l->keep)
                return 0;
        cow = snap_layer_file(pool, l->id, ".cow");
        if (!cow)
                return -ENOMEM;
        r = loop_find(pool->ctx, cow, &lo);
        if (r < 0)
                return ctx_error(pool->ctx, r, "layer %" PRId64 ": no loop device serves its COW store %s: %m", l->id,
                                 cow);
        _cleanup_close_ int fd = open(cow, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || cow_file_size(fd, &size) < 0)
                return ctx_error(pool->ctx, -errno, "cannot size COW store %s: %m", cow);
        r = snap_image_data(pool->ctx, cow, size, ret);
        if (r < 0)
                return r;
        snprintf(ret_path, len, "%s", lo.path);
        return 1;
}

const struct backend_ops backend_snap = {
        .name = "snap",
        .pool_unit = snap_pool_unit,
        .pool_create = snap_pool_create,
        .pool_activate = snap_pool_activate,
        .pool_info = snap_pool_info,
        .pool_destroy = snap_pool_destroy,
        .layer_new = snap_layer_new,
        .layer_snap = snap_layer_snap,
        .layer_commit = snap_layer_commit,
        .layer_delete = snap_layer_delete,
        .activate = snap_activate,
        .deactivate = snap_deactivate,
        .usage = snap_usage,
        .owned = snap_owned,
        .wipe_target = snap_wipe_target,
        .cow_state = snap_cow_state,
        .layer_list = snap_layer_list,
        .layer_tidy = snap_layer_tidy,
};
