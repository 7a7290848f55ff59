// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * snap pool files: sparse images, clones (FICLONE, else copy_file_range over the data
 * regions), a COW store's changes written into an image, and data/allocation queries.
 * Every write ends with fsync: the catalog commit that follows relies on the file.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "backend/snap_image.h"
#include "format/cow.h"

#define COPY_BYTES (1u << 20)

int snap_image_create(dvm_ctx *ctx, const char *path, uint64_t size)
{
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        int r;

        if (fd < 0)
                return ctx_error(ctx, -errno, "cannot create layer image %s: %m", path);
        if (ftruncate(fd, (off_t)size) < 0) {
                r = ctx_error(ctx, -errno, "cannot size layer image %s to %" PRIu64 " bytes: %m", path, size);
                unlink(path);
                return r;
        }
        return 0;
}

static int copy_rw(int in, int out, uint64_t in_off, uint64_t out_off, uint64_t len)
{
        _cleanup_free_ uint8_t *buf = malloc(COPY_BYTES);

        if (!buf)
                return -ENOMEM;
        while (len > 0) {
                size_t want = (size_t)MIN(len, (uint64_t)COPY_BYTES);
                ssize_t n = pread(in, buf, want, (off_t)in_off);
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                if (pwrite(out, buf, (size_t)n, (off_t)out_off) != n)
                        return errno ? -errno : -EIO;
                in_off += (uint64_t)n;
                out_off += (uint64_t)n;
                len -= (uint64_t)n;
        }
        return 0;
}

/* Copy @len bytes; copy_file_range shares extents where the file system can. */
static int copy_range(int in, int out, uint64_t in_off, uint64_t out_off, uint64_t len)
{
        while (len > 0) {
                loff_t a = (loff_t)in_off, b = (loff_t)out_off;
                ssize_t n = copy_file_range(in, &a, out, &b, (size_t)MIN(len, 1ULL << 30), 0);
                if (n < 0 && (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL))
                        return copy_rw(in, out, in_off, out_off, len);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO; /* the source ended early */
                in_off += (uint64_t)n;
                out_off += (uint64_t)n;
                len -= (uint64_t)n;
        }
        return 0;
}

static int copy_data(int in, int out, uint64_t size)
{
        for (uint64_t off = 0; off < size;) {
                off_t data = lseek(in, (off_t)off, SEEK_DATA), hole;
                if (data < 0 && errno == ENXIO)
                        break;
                if (data < 0)
                        return -errno;
                hole = lseek(in, data, SEEK_HOLE);
                if (hole < 0)
                        return -errno;
                hole = MIN((uint64_t)hole, size);
                int r = copy_range(in, out, (uint64_t)data, (uint64_t)data, (uint64_t)(hole - data));
                if (r < 0)
                        return r;
                off = (uint64_t)hole;
        }
        return 0;
}

int snap_image_clone(dvm_ctx *ctx, const char *src, const char *dst)
{
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC), out = -1;
        struct stat st;
        int r = 0;

        if (in < 0 || fstat(in, &st) < 0)
                return ctx_error(ctx, -errno, "cannot open layer image %s: %m", src);
        out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0)
                return ctx_error(ctx, -errno, "cannot create layer image %s: %m", dst);
        if (ioctl(out, FICLONE, in) < 0) {
                /* no shared extents here (tmpfs, ext4): copy what holds data */
                if (ftruncate(out, st.st_size) < 0)
                        r = -errno;
                else
                        r = copy_data(in, out, (uint64_t)st.st_size);
        }
        if (r >= 0 && fsync(out) < 0)
                r = -errno;
        if (r < 0) {
                unlink(dst);
                return ctx_error(ctx, r, "cannot copy layer image %s to %s: %m", src, dst);
        }
        return 0;
}

int snap_image_apply_cow(dvm_ctx *ctx, const char *img, int cow_fd, uint64_t cow_size, uint64_t size)
{
        _cleanup_(cow_changes_freep) struct cow_changes *ch = NULL;
        _cleanup_close_ int out = -1;
        struct cow_header h;
        int r = cow_header_read(cow_fd, &h);

        if (r < 0)
                return ctx_error(ctx, r, "layer image %s: its COW store has no valid header: %m", img);
        if (!h.is_new && !h.valid)
                return ctx_error(ctx, -EIO, "layer image %s: the kernel invalidated its COW store (it filled up, or "
                                 "an I/O error): the changes cannot be kept", img);
        r = cow_changed_ranges(cow_fd, cow_size, size, &ch);
        if (r < 0)
                return ctx_error(ctx, r, "layer image %s: cannot read its COW store: %m", img);
        out = open(img, O_WRONLY | O_CLOEXEC);
        if (out < 0)
                return ctx_error(ctx, -errno, "cannot open layer image %s: %m", img);
        for (size_t i = 0; i < ch->n_mappings; i++) {
                const struct cow_mapping *m = &ch->mappings[i];
                r = copy_range(cow_fd, out, m->cow_offset, m->origin_offset, m->length);
                if (r < 0)
                        return ctx_error(ctx, r, "layer image %s: cannot write %" PRIu64 " changed bytes at %" PRIu64
                                         ": %m", img, m->length, m->origin_offset);
        }
        if (fsync(out) < 0)
                return ctx_error(ctx, -errno, "cannot flush layer image %s: %m", img);
        return 0;
}

int snap_image_data(dvm_ctx *ctx, const char *path, uint64_t size, struct extent_list *ret)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        int r;

        if (fd < 0)
                return ctx_error(ctx, -errno, "cannot open layer image %s: %m", path);
        for (uint64_t off = 0; off < size;) {
                off_t data = lseek(fd, (off_t)off, SEEK_DATA), hole;
                if (data < 0 && errno == ENXIO)
                        break;
                if (data < 0 || (hole = lseek(fd, data, SEEK_HOLE)) < 0)
                        return ctx_error(ctx, -errno, "cannot map the data of layer image %s: %m", path);
                if ((uint64_t)data >= size)
                        break;
                hole = MIN((uint64_t)hole, size);
                r = extent_add(ret, (uint64_t)data, (uint64_t)(hole - data));
                if (r < 0)
                        return r;
                off = (uint64_t)hole;
        }
        return 0;
}

int snap_image_allocated(const char *path, uint64_t *ret_bytes)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        *ret_bytes = (uint64_t)st.st_blocks * 512;
        return 0;
}
