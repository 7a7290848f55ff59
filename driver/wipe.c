// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The zero-discard wipe of dropped layers: zeros through the layer's device over exactly the
 * ranges it owns, a flush of the storage below, discards of the same ranges, a flush. Its
 * cost follows the bytes the layer wrote, not the size of the volume.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "blkdev.h"
#include "volume.h"
#include "wipe.h"

#define ZERO_CHUNK (1u << 20)
#define DISCARD_CHUNK (1ULL << 30)

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct progress {
        dvm_ctx *ctx;
        double start;
        uint64_t total;
        bool shown;
};

/* Report only a wipe that takes long enough for a bar to be worth drawing. */
static void progress(struct progress *p, uint64_t done)
{
        if (p->shown || now() - p->start >= 1.0) {
                p->shown = true;
                ctx_progress(p->ctx, done, p->total);
        }
}

static int check_ranges(dvm_ctx *ctx, const char *path, int fd, const struct extent_list *ranges)
{
        uint64_t size;
        int lbs;

        if (ioctl(fd, BLKGETSIZE64, &size) < 0 || ioctl(fd, BLKSSZGET, &lbs) < 0)
                return ctx_error(ctx, -errno, "cannot wipe %s: not a block device we can size: %m", path);
        for (size_t i = 0; i < ranges->n; i++) {
                const struct extent *e = &ranges->v[i];
                if (e->offset > size || e->length > size - e->offset || e->offset % (uint64_t)lbs ||
                    e->length % (uint64_t)lbs)
                        return ctx_error(ctx, -EINVAL, "cannot wipe %s: range %" PRIu64 "+%" PRIu64
                                         " lies beyond its %" PRIu64 " bytes or off its %d-byte blocks",
                                         path, e->offset, e->length, size, lbs);
        }
        return 0;
}

static int zero_ranges(dvm_ctx *ctx, const char *path, int fd, const struct extent_list *ranges,
                       struct progress *p)
{
        _cleanup_free_ void *zero = NULL;
        uint64_t done = 0;

        if (posix_memalign(&zero, 4096, ZERO_CHUNK))
                return -ENOMEM;
        memset(zero, 0, ZERO_CHUNK);
        for (size_t i = 0; i < ranges->n; i++)
                for (uint64_t off = 0; off < ranges->v[i].length;) {
                        size_t n = (size_t)MIN((uint64_t)ZERO_CHUNK, ranges->v[i].length - off);
                        ssize_t w = pwrite(fd, zero, n, (off_t)(ranges->v[i].offset + off));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                return ctx_error(ctx, w < 0 ? -errno : -EIO, "cannot zero %s at byte %" PRIu64 ": %m",
                                                 path, ranges->v[i].offset + off);
                        off += (uint64_t)w;
                        done += (uint64_t)w;
                        progress(p, done);
                }
        return 0;
}

/* A discard is what returns the space to the pool; the zeros are what make the wipe hold. A
 * device that takes no discards has lost nothing by it. */
static int discard_ranges(dvm_ctx *ctx, const char *path, int fd, const struct extent_list *ranges)
{
        for (size_t i = 0; i < ranges->n; i++)
                for (uint64_t off = 0; off < ranges->v[i].length;) {
                        uint64_t range[2] = { ranges->v[i].offset + off,
                                              MIN(DISCARD_CHUNK, ranges->v[i].length - off) };
                        if (ioctl(fd, BLKDISCARD, range) < 0) {
                                if (errno == EOPNOTSUPP) {
                                        ctx_debug(ctx, "%s takes no discards; its wiped ranges stay allocated", path);
                                        return 0;
                                }
                                return ctx_error(ctx, -errno, "cannot discard %s at byte %" PRIu64 ": %m", path,
                                                 range[0]);
                        }
                        off += range[1];
                }
        return 0;
}

/* Flush the storage under the device, not the device: a thin-pool out of data space fails
 * (or holds for a minute) a flush that reaches an unmapped block of a thin volume, and a full
 * pool must still let its disposables go. What the wipe wrote has reached the devices below
 * once its writes returned; this makes it stable there. */
static int flush(dvm_ctx *ctx, const char *path, int fd)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return ctx_error(ctx, -errno, "cannot flush what lies under %s: %m", path);
        return blkdev_flush_below(ctx, major(st.st_rdev), minor(st.st_rdev));
}

int wipe_ranges(dvm_ctx *ctx, const char *path, const struct extent_list *ranges)
{
        struct progress p = { .ctx = ctx, .start = now(), .total = extent_total(ranges) };
        _cleanup_close_ int fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
        char shown[32];
        int r;

        if (fd < 0)
                return ctx_error(ctx, -errno, "cannot open %s to wipe it: %m", path);
        r = check_ranges(ctx, path, fd, ranges);
        if (r < 0)
                return r;
        /* The zeros must be on the disk before the discard: a loop device punches a hole
         * for a discard, and the dirty pages of the file in it are dropped unwritten, which
         * would leave the old blocks, freed but intact, on the disk. */
        if ((r = zero_ranges(ctx, path, fd, ranges, &p)) < 0 || (r = flush(ctx, path, fd)) < 0 ||
            (r = discard_ranges(ctx, path, fd, ranges)) < 0 || (r = flush(ctx, path, fd)) < 0)
                return r;
        if (ioctl(fd, BLKFLSBUF, 0) < 0)
                ctx_debug(ctx, "%s: BLKFLSBUF: %m", path);
        if (p.shown)
                ctx_progress(ctx, p.total, p.total);
        ctx_debug(ctx, "wiped %s: %s in %zu range(s), %.3f s", path, dvm_format_size(p.total, shown, sizeof(shown)),
                  ranges->n, now() - p.start);
        return 0;
}

/* What to wipe of layer @l of @v, and through which device. */
static int wipe_plan(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, char *path, size_t len,
                     struct extent_list *ret)
{
        char name[VOLUME_DM_NAME_MAX];
        int r = volume_wipe_target(pool, v, l, path, len, ret);

        if (r != 0)
                return r;
        r = volume_owned(pool, v, l, ret);
        if (r == -EOPNOTSUPP)
                return ctx_error(pool->ctx, r, "%s/%s: pool %s cannot tell what layer %" PRId64 " owns, so it cannot "
                                 "be wiped; refusing to drop it", v->vm, v->name, pool->name, l->id);
        if (r >= 0)
                snprintf(path, len, "/dev/mapper/%s", volume_layer_dm_name(pool, v, name, sizeof(name)));
        return r;
}

int wipe_volume(dvm_pool *pool, const struct cat_volume *v, const struct layer *l)
{
        struct extent_list owned = {};
        char path[VOLUME_DM_NAME_MAX + 16], shown[32];
        double start = now();
        int r = wipe_plan(pool, v, l, path, sizeof(path), &owned);

        if (r >= 0)
                r = wipe_ranges(pool->ctx, path, &owned);
        if (r >= 0)
                ctx_info(pool->ctx, "%s/%s: wiped %s in %zu range(s) through %s, %.3f s", v->vm, v->name,
                         dvm_format_size(extent_total(&owned), shown, sizeof(shown)), owned.n, path, now() - start);
        extent_list_free(&owned);
        return r;
}
