// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Commits into an rbd image through librbd: a new snapshot over the ranges a layer wrote.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ceph/ceph_lib.h"
#include "ceph/rbd_commit.h"
#include "ceph/rbd_conn.h"
#include "util/fault.h"

#define COMMIT_CHUNK (4u << 20)

/* the snapshots of @img: count in *ret_n, the newest one's name (highest id) in @newest */
static int newest_snap(rbd_image_t img, char *newest, size_t len, int *ret_n)
{
        rbd_snap_info_t small[8], *snaps = small;
        int max = (int)ARRAY_SIZE(small), n = rbd_snap_list(img, snaps, &max);
        uint64_t top = 0;

        if (n == -ERANGE) {
                snaps = calloc((size_t)max, sizeof(*snaps));
                if (!snaps)
                        return -ENOMEM;
                n = rbd_snap_list(img, snaps, &max);
        }
        if (n < 0) {
                if (snaps != small)
                        free(snaps);
                return n;
        }
        newest[0] = 0;
        for (int i = 0; i < n; i++)
                if (!newest[0] || snaps[i].id > top) {
                        top = snaps[i].id;
                        snprintf(newest, len, "%s", snaps[i].name);
                }
        rbd_snap_list_end(snaps);
        if (snaps != small)
                free(snaps);
        *ret_n = n;
        return 0;
}

int rbdc_image_snaps(dvm_ctx *ctx, struct rbd_conn *c, const char *image)
{
        rbd_image_t img;
        char newest[128];
        int n = 0, r = rbdc_open_image(ctx, c, image, true, &img);

        if (r < 0)
                return r;
        r = newest_snap(img, newest, sizeof(newest), &n);
        rbd_close(img);
        if (r < 0)
                return ctx_error(ctx, r, "rbd image %s/%s: cannot list its snapshots: %m", c->pool, image);
        return n;
}

int rbdc_snap_names(dvm_ctx *ctx, struct rbd_conn *c, const char *image, char **ret_names)
{
        rbd_snap_info_t *snaps = NULL;
        int max = 8, n, r;
        size_t size = 1, out = 0;
        rbd_image_t img;
        char *names;

        if ((r = rbdc_open_image(ctx, c, image, true, &img)) < 0)
                return r;
        do {
                free(snaps);
                if (!(snaps = calloc((size_t)max, sizeof(*snaps)))) {
                        rbd_close(img);
                        return -ENOMEM;
                }
                n = rbd_snap_list(img, snaps, &max);
        } while (n == -ERANGE);
        rbd_close(img);
        if (n < 0) {
                free(snaps);
                return ctx_error(ctx, n, "rbd image %s/%s: cannot list its snapshots: %m", c->pool, image);
        }
        for (int i = 0; i < n; i++)
                size += strlen(snaps[i].name) + 1;
        if ((names = malloc(size)))
                for (int i = 0; i < n; i++) {
                        size_t len = strlen(snaps[i].name);
                        memcpy(names + out, snaps[i].name, len + 1);
                        out += len + 1;
                }
        rbd_snap_list_end(snaps);
        free(snaps);
        if (!names)
                return -ENOMEM;
        *ret_names = names;
        return n;
}

/* copy ranges @ext of @fd into @img */
static int write_ranges(dvm_ctx *ctx, rbd_image_t img, int fd, const struct extent_list *ext, const char *what)
{
        _cleanup_free_ char *buf = malloc(COMMIT_CHUNK);
        uint64_t done = 0, total = extent_total(ext);

        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < ext->n; i++) {
                for (uint64_t off = ext->v[i].offset, end = off + ext->v[i].length; off < end;) {
                        size_t want = (size_t)MIN((uint64_t)COMMIT_CHUNK, end - off);
                        ssize_t n = pread(fd, buf, want, (off_t)off);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                return ctx_error(ctx, n < 0 ? -errno : -EIO, "cannot read %s at %" PRIu64 ": %s",
                                                 what, off, n < 0 ? strerror(errno) : "end of device");
                        ssize_t w = rbd_write(img, off, (size_t)n, buf);
                        if (w != n)
                                return ctx_error(ctx, w < 0 ? (int)w : -EIO, "rbd write at %" PRIu64 " failed: %s",
                                                 off, w < 0 ? strerror((int)-w) : "short write");
                        off += (uint64_t)n;
                        done += (uint64_t)n;
                        ctx_progress(ctx, done, total);
                }
        }
        int r = rbd_flush(img);
        return r < 0 ? ctx_error(ctx, r, "rbd flush failed: %m") : 0;
}

int rbdc_image_create_ranges(dvm_ctx *ctx, struct rbd_conn *c, const char *image, uint64_t size, int fd,
                             const struct extent_list *ext, const char *what)
{
        rbd_image_t img;
        int r;

        if ((r = rbdc_image_create(ctx, c, image, size)) < 0)
                return r;
        if ((r = rbdc_open_image(ctx, c, image, false, &img)) == 0) {
                r = write_ranges(ctx, img, fd, ext, what);
                if (r >= 0)
                        FAULT_POINT("rbd.written"); /* its exclusive lock held */
                rbd_close(img);
        }
        return r < 0 ? rbdc_image_undo(ctx, c, image, what, r) : 0;
}

int rbdc_image_commit(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *base, int fd,
                      const struct extent_list *ext, const char *snap)
{
        rbd_image_t img;
        char newest[128], what[300];
        int n, r;

        if ((r = rbdc_check_name(ctx, "snapshot", snap)) < 0 || (r = rbdc_open_image(ctx, c, image, false, &img)) < 0)
                return r;
        snprintf(what, sizeof(what), "the layer committed as %s/%s@%s", c->pool, image, snap);
        r = rbd_lock_acquire(img, RBD_LOCK_MODE_EXCLUSIVE);
        if (r < 0) {
                ctx_error(ctx, r == -EROFS ? -EBUSY : r, "rbd image %s/%s: cannot take its exclusive lock: %s",
                          c->pool, image, r == -EROFS || r == -EBUSY ? "another client holds it" : strerror(-r));
                r = r == -EROFS ? -EBUSY : r;
                goto out;
        }
        r = newest_snap(img, newest, sizeof(newest), &n);
        if (r < 0) {
                ctx_error(ctx, r, "rbd image %s/%s: cannot list its snapshots: %m", c->pool, image);
                goto unlock;
        }
        if (strcmp(newest, snap) == 0) {
                r = 0; /* committed before a crash: what we would write is there */
                goto unlock;
        }
        if (strcmp(newest, base) != 0) {
                r = -ESTALE; /* the caller's fallback, not an error to report */
                goto unlock;
        }
        r = write_ranges(ctx, img, fd, ext, what);
        if (r < 0)
                goto unlock;
        FAULT_POINT("rbd.written"); /* its exclusive lock held */
        r = rbd_snap_create(img, snap);
        if (r < 0)
                ctx_error(ctx, r, "rbd snapshot %s/%s@%s: cannot create it: %s", c->pool, image, snap,
                          r == -EEXIST ? "it exists" : strerror(-r));
        else
                FAULT_POINT("rbd.snap");
        if (r >= 0 && (r = rbd_snap_protect(img, snap)) < 0)
                ctx_error(ctx, r, "rbd snapshot %s/%s@%s: cannot protect it: %m", c->pool, image, snap);
unlock:
        rbd_lock_release(img);
out:
        rbd_close(img);
        return r;
}

int rbdc_image_state(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap)
{
        rbd_image_t img;
        bool exists = false;
        int r;

        if ((r = rbdc_check_name(ctx, "image", image)) < 0 || (r = rbdc_check_name(ctx, "snapshot", snap)) < 0)
                return r;
        r = rbd_open_read_only(c->io, image, &img, NULL);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return ctx_error(ctx, r, "rbd image %s/%s: cannot open it: %m", c->pool, image);
        r = rbd_snap_exists(img, snap, &exists);
        rbd_close(img);
        if (r < 0)
                return ctx_error(ctx, r, "rbd image %s/%s: cannot look up snapshot %s: %m", c->pool, image, snap);
        return exists ? 1 : 0;
}
