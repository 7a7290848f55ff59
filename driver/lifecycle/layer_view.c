// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Read-only views of a volume's layers for the inspector: the running layer is read
 * through the volume's own device, a committed layer through a read-only device made for
 * the view. Reads bypass the page cache (O_DIRECT): a running VM's writes reach the device
 * without passing through it, and nothing we read lingers in memory after the view.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kernel/dm.h"
#include "kernel/probe.h"
#include "lifecycle/layer_chain.h"
#include "lifecycle/layer_view.h"
#include "lifecycle/volume.h"
#include "store/catalog_volume.h"

struct dvm_layer {
        dvm_pool *pool;
        struct cat_volume vol;   /* the volume row as it was when the view opened */
        struct dvm_layer_info info;
        char dm_name[VOLUME_DM_NAME_MAX];
        char path[VOLUME_DM_NAME_MAX + 16];
        bool view;               /* dm_name is our device, removed by dvm_layer_close() */
        int fd;                  /* O_RDONLY | O_DIRECT */
        unsigned block_size;     /* logical block size of the device: O_DIRECT alignment */
};

char *layer_view_dm_name(const dvm_pool *pool, int64_t id, char *buf, size_t len)
{
        static unsigned long seq;
        unsigned long n = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);

        snprintf(buf, len, "%s" LAYER_VIEW_MARK "%" PRId64 "-%d-%lu", pool->dm_name, id, (int)getpid(), n);
        return buf;
}

int layer_view_name_parse(const char *dm_name, const char *pool_name, int64_t *ret_id, int *ret_pid)
{
        char prefix[DVM_POOL_NAME_MAX + 16];
        long long id;
        int pid, end = 0;
        unsigned long n;
        size_t plen = (size_t)snprintf(prefix, sizeof(prefix), DM_UUID_PREFIX "%s" LAYER_VIEW_MARK, pool_name);

        if (strncmp(dm_name, prefix, plen) != 0 || !strchr("0123456789", dm_name[plen]) || !dm_name[plen])
                return -EINVAL;
        if (sscanf(dm_name + plen, "%lld-%d-%lu%n", &id, &pid, &n, &end) != 3 || dm_name[plen + (size_t)end] ||
            id < 0 || pid <= 0)
                return -EINVAL;
        *ret_id = id;
        *ret_pid = pid;
        return 0;
}

/* Find layer @id (-1: the top) in the chain of @vm/@volume, whose row goes to @v. */
static int find_layer(dvm_pool *pool, const char *vm, const char *volume, int64_t id, struct cat_volume *v,
                      struct dvm_layer_info *ret)
{
        struct dvm_layer_info chain[LAYER_CHAIN_MAX];
        unsigned n;
        int r = catalog_volume_get(pool->cat, vm, volume, v);

        if (r == -ENOENT)
                return ctx_error(pool->ctx, -ENOENT, "volume %s/%s does not exist in pool %s", vm, volume, pool->name);
        if (r < 0)
                return r;
        n = layer_chain(v, chain);
        if (n == 0)
                return ctx_error(pool->ctx, -ENOENT, "volume %s/%s has no layer while its VM is halted", vm, volume);
        for (unsigned i = 0; i < n; i++)
                if (chain[i].id == id || (id < 0 && i == n - 1)) {
                        *ret = chain[i];
                        return 0;
                }
        return ctx_error(pool->ctx, -ENOENT, "volume %s/%s has no layer %" PRId64 " (any more)", vm, volume, id);
}

static int open_device(dvm_layer *layer)
{
        dvm_ctx *ctx = layer->pool->ctx;
        int bs = 0;

        snprintf(layer->path, sizeof(layer->path), "/dev/mapper/%s", layer->dm_name);
        layer->fd = dm_open(ctx, layer->dm_name, O_RDONLY | O_DIRECT);
        if (layer->fd < 0)
                return ctx_error(ctx, layer->fd, "cannot open %s (layer %" PRId64 " of %s): %m", layer->path,
                                 layer->info.id, layer->info.owner);
        if (ioctl(layer->fd, BLKSSZGET, &bs) < 0 || bs < 512 || (bs & (bs - 1)))
                return ctx_error(ctx, bs ? -EIO : -errno, "%s: cannot read its logical block size: %m", layer->path);
        layer->block_size = (unsigned)bs;
        return 0;
}

static int layer_open(dvm_pool *pool, const char *vm, const char *volume, int64_t id, dvm_layer **ret)
{
        _cleanup_(dvm_layer_closep) dvm_layer *layer = NULL;
        struct dvm_layer_info info;
        struct cat_volume v;
        struct layer l;
        int r = find_layer(pool, vm, volume, id, &v, &info);

        if (r < 0)
                return r;
        layer = calloc(1, sizeof(*layer));
        if (!layer)
                return -ENOMEM;
        *layer = (dvm_layer){ .pool = pool, .vol = v, .info = info, .fd = -1 };
        if (info.running) {
                /* Under the pool lock the VM cannot stop between this check and the open;
                 * once open, the device stays (a stop refuses a device in use). */
                volume_dm_name(pool, vm, volume, layer->dm_name, sizeof(layer->dm_name));
                if (dm_info(pool->ctx, layer->dm_name, NULL) < 0)
                        return ctx_error(pool->ctx, -ENXIO, "%s/%s runs without its device %s", vm, volume,
                                         layer->dm_name);
        } else {
                layer_view_dm_name(pool, info.id, layer->dm_name, sizeof(layer->dm_name));
                l = layer_of(&info);
                r = pool->ops->activate(pool, layer->dm_name, &l, true);
                if (r < 0)
                        return r;
                layer->view = true;
        }
        r = open_device(layer);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(layer);
        return 0;
}

int dvm_layer_open(dvm_pool *pool, const char *vm, const char *volume, int64_t id, dvm_layer **ret_layer)
{
        int r = pool_lock(pool);

        if (r < 0)
                return r;
        r = layer_open(pool, vm, volume, id, ret_layer);
        pool_unlock(pool);
        return r;
}

/* A committed layer whose last user went while our view held it could not be deleted
 * then (the kernel refuses to delete an open thin device): finish that deletion. */
void layer_view_reap_orphan(dvm_pool *pool, int64_t id)
{
        int users = catalog_layer_users(pool->cat, id);

        if (users != 0)
                return;
        if (pool->ops->layer_delete(pool, id) >= 0)
                ctx_info(pool->ctx, "pool %s: deleted layer %" PRId64 ", whose last user went while it was viewed",
                         pool->name, id);
}

dvm_layer *dvm_layer_close(dvm_layer *layer)
{
        if (!layer)
                return NULL;
        if (layer->fd >= 0)
                close(layer->fd);
        if (layer->view && pool_lock(layer->pool) >= 0) {
                struct layer l = layer_of(&layer->info);
                if (layer->pool->ops->deactivate(layer->pool, layer->dm_name, &l) >= 0)
                        layer_view_reap_orphan(layer->pool, layer->info.id);
                else
                        ctx_warn(layer->pool->ctx, "view device %s stays: %s", layer->dm_name,
                                 dvm_ctx_last_error(layer->pool->ctx));
                pool_unlock(layer->pool);
        }
        free(layer);
        return NULL;
}

const struct dvm_layer_info *dvm_layer_get_info(const dvm_layer *layer)
{
        return &layer->info;
}

const char *dvm_layer_path(const dvm_layer *layer)
{
        return layer->path;
}

static ssize_t read_full(int fd, void *buf, size_t len, uint64_t off)
{
        size_t done = 0;

        while (done < len) {
                ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                done += (size_t)n;
        }
        return (ssize_t)done;
}

ssize_t dvm_layer_read(dvm_layer *layer, void *buf, size_t len, uint64_t off)
{
        uint64_t bs = layer->block_size, start, end;
        _cleanup_free_ void *bounce = NULL;
        ssize_t n;

        if (off >= layer->info.size || len == 0)
                return 0;
        len = (size_t)MIN((uint64_t)len, layer->info.size - off);
        if (off % bs == 0 && len % bs == 0 && (uintptr_t)buf % bs == 0)
                return read_full(layer->fd, buf, len, off);
        /* O_DIRECT moves whole aligned blocks: read the blocks around the range aside */
        start = off - off % bs;
        end = MIN((off + len + bs - 1) / bs * bs, layer->info.size);
        if (posix_memalign(&bounce, bs, end - start) != 0)
                return -ENOMEM;
        n = read_full(layer->fd, bounce, end - start, start);
        if (n < 0)
                return n;
        if ((uint64_t)n <= off - start)
                return 0;
        n = (ssize_t)MIN((uint64_t)n - (off - start), (uint64_t)len);
        memcpy(buf, (char *)bounce + (off - start), (size_t)n);
        return n;
}

int dvm_layer_changed(dvm_layer *layer, struct dvm_extent **ret_extents)
{
        dvm_pool *pool = layer->pool;
        struct extent_list list = {};
        struct dvm_extent *out;
        struct layer l = layer_of(&layer->info);
        int r;

        r = pool_lock(pool);
        if (r < 0)
                return r;
        /* the running layer as the wipe sees it (its own layer device, in RAM or in the
         * pool); a committed layer through our view of it */
        if (layer->info.running)
                r = volume_owned(pool, &layer->vol, &l, &list);
        else
                r = pool->ops->owned ? pool->ops->owned(pool, layer->dm_name, &l, &list) : -EOPNOTSUPP;
        pool_unlock(pool);
        if (r == -EOPNOTSUPP)
                ctx_error(pool->ctx, r, "pool %s: the %s backend cannot list the blocks a layer owns", pool->name,
                          pool->ops->name);
        if (r < 0) {
                extent_list_free(&list);
                return r;
        }
        out = calloc(list.n + 1, sizeof(*out));
        if (!out) {
                extent_list_free(&list);
                return -ENOMEM;
        }
        for (size_t i = 0; i < list.n; i++)
                out[i] = (struct dvm_extent){ list.v[i].offset, list.v[i].length };
        r = (int)MIN(list.n, (size_t)INT32_MAX);
        extent_list_free(&list);
        *ret_extents = out;
        return r;
}

int dvm_layer_probe(dvm_layer *layer, struct dvm_probe *ret_probe)
{
        return probe_device(layer->pool->ctx, layer->path, ret_probe);
}
