// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The snap backend's files and COW stores (backend_snap.c is the rest): where layer <id>'s
 * files are, and the COW store of a running layer: attached on a loop, under an ephemeral
 * key when the layer is not kept, and opened for reading.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>

#include "backend/snap_cow.h"
#include "format/cow.h"
#include "kernel/dm.h"
#include "kernel/ephemeral.h"

/* direct I/O where the file system has it, as the snap backend's other loops (backend_snap.c) */
#define LOOP_COW (LOOP_AUTOCLEAR | LOOP_DIRECT_IO)

char *snap_layer_file(dvm_pool *pool, int64_t id, const char *suffix)
{
        char name[48];
        snprintf(name, sizeof(name), "%" PRId64 "%s", id, suffix);
        return pool_path(pool, name);
}

/* The crypt device over the COW store of running layer @id, when it is not kept. */
char *snap_cow_crypt_name(const dvm_pool *pool, int64_t id, char *buf, size_t len)
{
        snprintf(buf, len, "%s-cow-%" PRId64, pool->dm_name, id);
        return buf;
}

/* A fresh store seen through a fresh key: its header, zeroed through the crypt device. */
static int cow_crypt_init(dvm_pool *pool, const char *name)
{
        _cleanup_close_ int fd = dm_open(pool->ctx, name, O_RDWR);
        int r = fd < 0 ? fd : cow_init_empty(fd, (uint32_t)pool->block_sectors);

        return r < 0 ? ctx_error(pool->ctx, r, "cannot initialise the COW store under %s: %m", name) : 0;
}

/*
 * Where the COW store of running layer @l lives, and the device the snapshot table names
 * for it: the loop of its file, or, for a layer that is not kept (a disposable's), a crypt
 * device with an ephemeral key over that loop, so that the file only ever holds ciphertext
 * under a key that goes with the device.
 */
int snap_cow_attach(dvm_pool *pool, const struct layer *l, struct loop_dev *ret, bool *ret_made)
{
        _cleanup_free_ char *cow = snap_layer_file(pool, l->id, ".cow");
        struct loop_dev lo = { .fd = -1 };
        struct dm_dev_info info;
        char name[96];
        uint64_t size;
        int r;

        if (!cow)
                return -ENOMEM;
        *ret_made = false;
        snap_cow_crypt_name(pool, l->id, name, sizeof(name));
        /* Its crypt device outlived the snapshot above it: a stop cut short, which removes
         * snapshots only after it wiped every store it drops (the wipe zeroes the file under
         * the key, so the store no longer reads as one). Nothing of it can come back; its
         * key goes now. */
        if (!l->keep && dm_info(pool->ctx, name, &info) >= 0) {
                r = dm_remove(pool->ctx, name);
                if (r < 0)
                        return r;
                return ctx_error(pool->ctx, -ESTALE, "layer %" PRId64 ": its snapshot went in a stop that was cut "
                                 "short after the wipe of its COW store %s", l->id, cow);
        }
        r = loop_attach(pool->ctx, cow, LOOP_COW, &lo);
        if (r < 0 || l->keep) {
                if (r >= 0)
                        *ret = lo;
                return r;
        }
        r = cow_file_size(lo.fd, &size);
        if (r < 0)
                r = ctx_error(pool->ctx, r, "cannot get the size of %s: %m", lo.path);
        else
                r = ephemeral_create(pool->ctx, name, name, size >> SECTOR_SHIFT, lo.major, lo.minor);
        loop_release(&lo); /* the crypt table holds it now */
        if (r < 0)
                return r;
        r = cow_crypt_init(pool, name);
        if (r >= 0)
                r = dm_info(pool->ctx, name, &info);
        if (r < 0) {
                dm_remove(pool->ctx, name);
                return r;
        }
        *ret = (struct loop_dev){ .fd = -1, .major = info.major, .minor = info.minor };
        snprintf(ret->path, sizeof(ret->path), "/dev/mapper/%s", name);
        *ret_made = true;
        return 0;
}

int snap_cow_open(dvm_pool *pool, const struct layer *l, int *ret_fd, uint64_t *ret_size)
{
        _cleanup_free_ char *cow = snap_layer_file(pool, l->id, ".cow");
        _cleanup_close_ int fd = -1;
        int r;

        if (!cow)
                return -ENOMEM;
        /* a store under an ephemeral key can only be read through its crypt device */
        if (!l->keep) {
                char name[96];
                fd = dm_open(pool->ctx, snap_cow_crypt_name(pool, l->id, name, sizeof(name)), O_RDONLY);
        }
        if (fd < 0)
                fd = open(cow, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return ctx_error(pool->ctx, -errno, "cannot open COW store %s: %m", cow);
        r = cow_file_size(fd, ret_size);
        if (r < 0)
                return ctx_error(pool->ctx, r, "cannot get the size of COW store %s: %m", cow);
        *ret_fd = TAKE_FD(fd);
        return 0;
}
