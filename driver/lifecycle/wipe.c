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
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "kernel/blkdev.h"
#include "kernel/dm.h"
#include "lifecycle/volume.h"
#include "lifecycle/wipe.h"
#include "store/catalog_volume.h"

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
        uint64_t done, total;
        bool shown;
};

/* Report only a wipe that takes long enough for a bar to be worth drawing. */
static void progress(struct progress *p, uint64_t more)
{
        p->done += more;
        if (p->shown || now() - p->start >= 1.0) {
                p->shown = true;
                ctx_progress(p->ctx, p->done, p->total);
        }
}

/* One device to wipe: its path, the ranges, and while the wipe runs its descriptor. */
struct wipe_dev {
        char path[VOLUME_DM_NAME_MAX + 16];
        struct extent_list ranges;
        int fd;
};

static int check_ranges(dvm_ctx *ctx, const struct wipe_dev *d)
{
        uint64_t size;
        int lbs;

        if (ioctl(d->fd, BLKGETSIZE64, &size) < 0 || ioctl(d->fd, BLKSSZGET, &lbs) < 0)
                return ctx_error(ctx, -errno, "cannot wipe %s: not a block device we can size: %m", d->path);
        for (size_t i = 0; i < d->ranges.n; i++) {
                const struct extent *e = &d->ranges.v[i];
                if (e->offset > size || e->length > size - e->offset || e->offset % (uint64_t)lbs ||
                    e->length % (uint64_t)lbs)
                        return ctx_error(ctx, -EINVAL, "cannot wipe %s: range %" PRIu64 "+%" PRIu64
                                         " lies beyond its %" PRIu64 " bytes or off its %d-byte blocks",
                                         d->path, e->offset, e->length, size, lbs);
        }
        return 0;
}

static int zero_ranges(dvm_ctx *ctx, const struct wipe_dev *d, const void *zero, struct progress *p)
{
        for (size_t i = 0; i < d->ranges.n; i++)
                for (uint64_t off = 0; off < d->ranges.v[i].length;) {
                        size_t n = (size_t)MIN((uint64_t)ZERO_CHUNK, d->ranges.v[i].length - off);
                        ssize_t w = pwrite(d->fd, zero, n, (off_t)(d->ranges.v[i].offset + off));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                return ctx_error(ctx, w < 0 ? -errno : -EIO, "cannot zero %s at byte %" PRIu64 ": %m",
                                                 d->path, d->ranges.v[i].offset + off);
                        off += (uint64_t)w;
                        progress(p, (uint64_t)w);
                }
        return 0;
}

/* A discard is what returns the space to the pool; the zeros are what make the wipe hold. A
 * device that takes no discards has lost nothing by it. */
static int discard_ranges(dvm_ctx *ctx, const struct wipe_dev *d)
{
        for (size_t i = 0; i < d->ranges.n; i++)
                for (uint64_t off = 0; off < d->ranges.v[i].length;) {
                        uint64_t range[2] = { d->ranges.v[i].offset + off,
                                              MIN(DISCARD_CHUNK, d->ranges.v[i].length - off) };
                        if (ioctl(d->fd, BLKDISCARD, range) < 0) {
                                if (errno == EOPNOTSUPP) {
                                        ctx_debug(ctx, "%s takes no discards; its wiped ranges stay allocated", d->path);
                                        return 0;
                                }
                                return ctx_error(ctx, -errno, "cannot discard %s at byte %" PRIu64 ": %m", d->path,
                                                 range[0]);
                        }
                        off += range[1];
                }
        return 0;
}

/* Open @d and add the storage under it to @below. We flush that storage, not the device: a
 * thin-pool out of data space fails (or holds for a minute) a flush that reaches an unmapped
 * block of a thin volume, and a full pool must still let its disposables go. What the wipe
 * wrote has reached the devices below once its writes returned; the flush makes it stable. */
static int open_dev(dvm_ctx *ctx, struct wipe_dev *d, struct blkdev_set *below)
{
        struct stat st;

        /* a layer the same change activated (recovery) may not have its node yet */
        dm_settle();
        d->fd = open(d->path, O_RDWR | O_DIRECT | O_CLOEXEC);
        if (d->fd < 0)
                return ctx_error(ctx, -errno, "cannot open %s to wipe it: %m", d->path);
        if (fstat(d->fd, &st) < 0)
                return ctx_error(ctx, -errno, "cannot flush what lies under %s: %m", d->path);
        return blkdev_bottom(ctx, major(st.st_rdev), minor(st.st_rdev), below);
}

/*
 * Wipe @n devices as one: zeros into all, one flush of the storage under them all, the
 * discards, one more flush. The zeros must be on the disk before the discard: a loop device
 * punches a hole for a discard, and the dirty pages of the file in it are dropped unwritten,
 * which would leave the old blocks, freed but intact, on the disk.
 */
static int wipe_devs(dvm_ctx *ctx, struct wipe_dev *devs, size_t n)
{
        struct progress p = { .ctx = ctx, .start = now() };
        struct blkdev_set below = {};
        _cleanup_free_ void *zero = NULL;
        int r = 0;

        for (size_t i = 0; i < n; i++) {
                devs[i].fd = -1;
                p.total += extent_total(&devs[i].ranges);
        }
        if (posix_memalign(&zero, 4096, ZERO_CHUNK))
                return -ENOMEM;
        memset(zero, 0, ZERO_CHUNK);
        for (size_t i = 0; i < n && r >= 0; i++)
                if ((r = open_dev(ctx, &devs[i], &below)) >= 0)
                        r = check_ranges(ctx, &devs[i]);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = zero_ranges(ctx, &devs[i], zero, &p);
        if (r >= 0)
                r = blkdev_flush(ctx, &below);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = discard_ranges(ctx, &devs[i]);
        if (r >= 0)
                r = blkdev_flush(ctx, &below);
        for (size_t i = 0; i < n; i++) {
                if (r >= 0 && ioctl(devs[i].fd, BLKFLSBUF, 0) < 0)
                        ctx_debug(ctx, "%s: BLKFLSBUF: %m", devs[i].path);
                if (devs[i].fd >= 0)
                        close(devs[i].fd);
        }
        if (r >= 0 && p.shown)
                ctx_progress(ctx, p.total, p.total);
        return r;
}

/* What to wipe of layer @l of @v, and through which device. */
static int wipe_plan(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, struct wipe_dev *d)
{
        char name[VOLUME_DM_NAME_MAX];
        int r = volume_wipe_target(pool, v, l, d->path, sizeof(d->path), &d->ranges);

        if (r != 0)
                return r;
        r = volume_owned(pool, v, l, &d->ranges);
        if (r == -EOPNOTSUPP)
                return ctx_error(pool->ctx, r, "%s/%s: pool %s cannot tell what layer %" PRId64 " owns, so it cannot "
                                 "be wiped; refusing to drop it", v->vm, v->name, pool->name, l->id);
        if (r >= 0)
                snprintf(d->path, sizeof(d->path), "/dev/mapper/%s", volume_layer_dm_name(pool, v, name, sizeof(name)));
        return r;
}

/* Plan every wipe at one view of the pool, held only while the plans are made. */
static int wipe_plans(dvm_pool *pool, const struct cat_volume *vols, const struct layer *ls, size_t n,
                      struct wipe_dev *devs)
{
        bool hold = false;
        int r = 0, q;

        for (size_t i = 0; i < n; i++)
                hold |= !volume_in_ram(&vols[i]);
        if (hold && (r = volume_owned_hold(pool, true)) < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++)
                r = wipe_plan(pool, &vols[i], &ls[i], &devs[i]);
        if (hold && (q = volume_owned_hold(pool, false)) < 0 && r >= 0)
                r = q;
        return r;
}

struct wipe_job {
        dvm_pool *pool;
        size_t n;
        struct wipe_dev *devs;
        struct cat_volume *vols;
        int64_t *ids;
};

void wipe_job_free(struct wipe_job *job)
{
        if (!job)
                return;
        for (size_t i = 0; i < job->n; i++)
                extent_list_free(&job->devs[i].ranges);
        free(job->devs);
        free(job->vols);
        free(job->ids);
        free(job);
}

int wipe_prepare(dvm_pool *pool, const struct cat_volume *vols, const struct layer *ls, size_t n,
                 struct wipe_job **ret_job)
{
        struct wipe_job *job = calloc(1, sizeof(*job));
        int r;

        if (!job)
                return -ENOMEM;
        job->pool = pool;
        job->n = n;
        job->devs = calloc(n ? n : 1, sizeof(*job->devs));
        job->vols = calloc(n ? n : 1, sizeof(*job->vols));
        job->ids = calloc(n ? n : 1, sizeof(*job->ids));
        if (!job->devs || !job->vols || !job->ids) {
                wipe_job_free(job);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                job->vols[i] = vols[i];
                job->ids[i] = volume_in_ram(&vols[i]) ? -1 : ls[i].id;
        }
        r = wipe_plans(pool, vols, ls, n, job->devs);
        if (r < 0) {
                wipe_job_free(job);
                return r;
        }
        *ret_job = job;
        return 0;
}

int wipe_run(struct wipe_job *job)
{
        dvm_pool *pool = job->pool;
        double start = now();
        char shown[32];
        int r = wipe_devs(pool->ctx, job->devs, job->n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < job->n; i++) {
                /* a layer of the pool's own storage, zeroed: its release frees only zeros */
                if (job->ids[i] >= 0)
                        pool_wiped_add(pool, job->ids[i]);
                ctx_info(pool->ctx, "%s/%s: wiped %s in %zu range(s) through %s", job->vols[i].vm, job->vols[i].name,
                         dvm_format_size(extent_total(&job->devs[i].ranges), shown, sizeof(shown)),
                         job->devs[i].ranges.n, job->devs[i].path);
        }
        ctx_info(pool->ctx, "wiped %zu volume(s) in %.3f s", job->n, now() - start);
        return 0;
}

int wipe_volumes(dvm_pool *pool, const struct cat_volume *vols, const struct layer *ls, size_t n)
{
        struct wipe_job *job = NULL;
        int r = wipe_prepare(pool, vols, ls, n, &job);

        if (r >= 0)
                r = wipe_run(job);
        wipe_job_free(job);
        return r;
}
