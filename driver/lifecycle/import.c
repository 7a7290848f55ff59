// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * template import: a TemplateVM whose origins hold copies of image files. Holes are
 * skipped with SEEK_DATA and all-zero pool blocks are never written, so they stay
 * unprovisioned.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "kernel/dm.h"
#include "lifecycle/pool_change.h"
#include "lifecycle/space.h"
#include "lifecycle/vm.h"
#include "lifecycle/volume.h"
#include "store/catalog_volume.h"

#define DEFAULT_PRIVATE_SIZE (2ULL << 30)
#define COPY_CHUNK (1U << 20)

static bool all_zero(const uint8_t *p, size_t n)
{
        return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int image_size(dvm_ctx *ctx, int fd, const char *path, uint64_t *ret)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return ctx_error(ctx, -errno, "cannot stat image %s: %m", path);
        if (S_ISREG(st.st_mode))
                *ret = (uint64_t)st.st_size;
        else if (!S_ISBLK(st.st_mode) || ioctl(fd, BLKGETSIZE64, ret) < 0)
                return ctx_error(ctx, -EINVAL, "image %s is neither a file nor a block device", path);
        if (*ret == 0)
                return ctx_error(ctx, -EINVAL, "image %s is empty", path);
        /* a partial last sector is padded with zeros */
        *ret = (*ret + SECTOR_SIZE - 1) & ~(uint64_t)(SECTOR_SIZE - 1);
        return 0;
}

/* Bytes of an image that may hold data: what a file has allocated (its holes are never
 * copied), all of a block device. */
static uint64_t image_data(int fd, uint64_t size)
{
        struct stat st;

        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return size;
        return MIN((uint64_t)st.st_blocks * 512, size);
}

/* Copy @size bytes from @in to @out, writing only pool blocks that hold data. */
static int copy_sparse(dvm_pool *pool, int in, int out, uint64_t size, const char *image, uint64_t *done,
                       uint64_t total)
{
        size_t block = (size_t)(pool->block_sectors << SECTOR_SHIFT);
        size_t chunk = block > COPY_CHUNK ? block : COPY_CHUNK / block * block;
        _cleanup_free_ uint8_t *buf = aligned_alloc(4096, chunk);
        uint64_t off = 0;

        if (!buf)
                return -ENOMEM;
        while (off < size) {
                off_t data = lseek(in, (off_t)off, SEEK_DATA);
                if (data < 0 && errno == ENXIO)
                        break; /* only a hole is left */
                if (data >= 0 && (uint64_t)data > off)
                        off = (uint64_t)data / block * block;
                size_t want = (size_t)MIN((uint64_t)chunk, size - off);
                ssize_t n = pread(in, buf, want, (off_t)off);
                if (n < 0)
                        return ctx_error(pool->ctx, -errno, "cannot read image %s at %" PRIu64 ": %m", image, off);
                memset(buf + n, 0, want - (size_t)n); /* the padded tail */
                for (size_t b = 0; b < want; b += block) {
                        size_t len = MIN(block, want - b);
                        if (all_zero(buf + b, len))
                                continue;
                        if (pwrite(out, buf + b, len, (off_t)(off + b)) != (ssize_t)len)
                                return ctx_error(pool->ctx, errno ? -errno : -EIO,
                                                 "cannot write the copy of %s at %" PRIu64 ": %m", image, off + b);
                }
                off += want;
                ctx_progress(pool->ctx, *done + off, total);
        }
        *done += size;
        ctx_progress(pool->ctx, *done, total);
        return 0;
}

static int fill_volume(dvm_pool *pool, const struct cat_volume *v, int in, const char *image, uint64_t *done,
                       uint64_t total)
{
        struct layer l = volume_committed_layer(v);
        uint64_t size = v->size;
        char path[256], name[VOLUME_DM_NAME_MAX];
        _cleanup_close_ int out = -1;
        int r = volume_activate(pool, v, &l);

        if (r < 0)
                return r;
        volume_path(pool, v->vm, v->name, path, sizeof(path));
        out = dm_open(pool->ctx, volume_dm_name(pool, v->vm, v->name, name, sizeof(name)), O_WRONLY);
        if (out < 0)
                r = ctx_error(pool->ctx, out, "cannot open %s: %m", path);
        else
                r = copy_sparse(pool, in, out, size, image, done, total);
        if (r >= 0 && fsync(out) < 0)
                r = ctx_error(pool->ctx, -errno, "cannot flush %s: %m", path);
        close(TAKE_FD(out));
        int q = volume_deactivate(pool, v, &l);
        return r < 0 ? r : q;
}

static int import(dvm_pool *pool, const char *name, const char *root_image, const char *private_image)
{
        _cleanup_close_ int root_fd = -1, priv_fd = -1;
        uint64_t root_size, priv_size = DEFAULT_PRIVATE_SIZE, done = 0;
        struct cat_volume vols[2];
        int r;

        root_fd = open(root_image, O_RDONLY | O_CLOEXEC);
        if (root_fd < 0)
                return ctx_error(pool->ctx, -errno, "cannot open image %s: %m", root_image);
        if ((r = image_size(pool->ctx, root_fd, root_image, &root_size)) < 0)
                return r;
        if (private_image) {
                priv_fd = open(private_image, O_RDONLY | O_CLOEXEC);
                if (priv_fd < 0)
                        return ctx_error(pool->ctx, -errno, "cannot open image %s: %m", private_image);
                if ((r = image_size(pool->ctx, priv_fd, private_image, &priv_size)) < 0)
                        return r;
        }
        r = space_guard_check(pool, "import", image_data(root_fd, root_size) +
                                                  (private_image ? image_data(priv_fd, priv_size) : 0));
        if (r < 0)
                return r;
        r = vm_template_add(pool, name, root_size, priv_size, vols);
        if (r < 0)
                return r;
        uint64_t total = root_size + (private_image ? priv_size : 0);
        r = fill_volume(pool, &vols[0], root_fd, root_image, &done, total);
        if (r >= 0 && private_image)
                r = fill_volume(pool, &vols[1], priv_fd, private_image, &done, total);
        /* where the backend keeps committed layers (rbd: in the cluster) */
        for (int i = 0; i < 2 && r >= 0 && pool->ops->layer_publish; i++) {
                struct layer l = volume_committed_layer(&vols[i]);
                r = pool->ops->layer_publish(pool, &l);
        }
        if (r < 0) {
                pool->ops->layer_delete(pool, vols[0].thin_id);
                pool->ops->layer_delete(pool, vols[1].thin_id);
        }
        return r;
}

int dvm_template_import(dvm_pool *pool, const char *name, const char *root_image, const char *private_image)
{
        if (!root_image)
                return ctx_error(pool->ctx, -EINVAL, "template import %s: no root image given", name);
        return POOL_TRANSACTION(pool, import(pool, name, root_image, private_image));
}
