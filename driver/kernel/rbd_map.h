/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel rbd mappings through sysfs (/sys/bus/rbd/add_single_major, remove_single_major),
 * never by running `rbd map`. A mapping is known by what the kernel shows of it in
 * /sys/bus/rbd/devices/<id>/ (pool id, image id, snapshot id) and by its block device's
 * number and disk sequence number; each use re-checks all of them.
 */
#ifndef DVM_RBD_MAP_H
#define DVM_RBD_MAP_H

#include <stdint.h>

#include "util/ctx.h"

/* How the kernel's client reaches the cluster (rbd_client.c's rbdc_kernel_auth() gives it). */
struct rbd_map_auth {
        const char *mons;    /* "ip:port[,ip:port]", msgr1 */
        const char *client;  /* client id, without "client." */
        const char *secret;  /* base64 */
};

/* The snapshot to map: names for the kernel, ids to check what it mapped. */
struct rbd_map_spec {
        const char *pool;
        const char *image;
        const char *snap;
        uint64_t pool_id;
        const char *image_id;
        uint64_t snap_id;
};

/* One mapping as it was when made or found. */
struct rbd_mapping {
        int dev_id;          /* N of /sys/bus/rbd/devices/N and /dev/rbdN */
        uint32_t major, minor;
        uint64_t diskseq;    /* 0 when the kernel does not number disks */
        char path[32];       /* /dev/rbdN */
};

/**
 * rbdmap_add() - map snapshot @spec read-only with the client and key of @auth. Names with a
 * blank, a control character, '@' or '/', and an @auth that is not plain (a key that is not
 * base64, monitors with a blank) are refused with -EINVAL: the kernel's string is blank- and
 * comma-separated. The new
 * mapping is the one device that was not there before and shows @spec's ids (a concurrent
 * mapping of the same snapshot is told apart by the devices present before). Returns 0 and
 * @ret, -ENODEV when the rbd module is not loaded, -ENOENT when the pool, image or snapshot
 * does not exist, -ESTALE when the kernel mapped other ids than @spec's (renamed meanwhile;
 * that mapping is removed again), or -errno; every error names pool/image@snap.
 */
int rbdmap_add(dvm_ctx *ctx, const struct rbd_map_auth *auth, const struct rbd_map_spec *spec,
               struct rbd_mapping *ret);

/**
 * rbdmap_find() - an existing mapping of the snapshot with @spec's ids (the lowest device
 * number if several). Returns 0 and @ret, -ENOENT when there is none, or -errno.
 */
int rbdmap_find(dvm_ctx *ctx, const struct rbd_map_spec *spec, struct rbd_mapping *ret);

/**
 * rbdmap_by_devt() - the mapping whose block device is @major:@minor (as found now, with its
 * disk sequence number). Returns 0 and @ret, -ENOENT when no rbd mapping has that number,
 * -ENODEV when the rbd module is not loaded, or -errno.
 */
int rbdmap_by_devt(dvm_ctx *ctx, uint32_t major, uint32_t minor, struct rbd_mapping *ret);

/**
 * rbdmap_named() - the mappings (up to @max, into @ret) of images whose name starts with
 * @prefix, in order of device number. Returns their count, -ENODEV when the rbd module is
 * not loaded, or -errno.
 */
int rbdmap_named(dvm_ctx *ctx, const char *prefix, struct rbd_mapping *ret, int max);

/**
 * rbdmap_snap_mapped() - whether snapshot @image@@snap of Ceph pool @pool is mapped on this
 * host (by name, as the kernel shows it). Returns 1, 0, or -errno (-ENODEV: no rbd module).
 */
int rbdmap_snap_mapped(dvm_ctx *ctx, const char *pool, const char *image, const char *snap);

/**
 * rbdmap_open() - open mapping @m read-only after checking that it is still @spec's
 * snapshot: /dev/rbdN is the block device @m->major:@m->minor, its disk sequence number is
 * @m->diskseq, and sysfs shows @spec's pool id, image id and snapshot id for it. The open
 * descriptor pins the device (the kernel refuses to unmap an open device). Returns the
 * descriptor (O_CLOEXEC), or -ESTALE with a one-line message naming the mapping and what
 * changed, -ENOENT when it is gone, or -errno.
 */
int rbdmap_open(dvm_ctx *ctx, const struct rbd_mapping *m, const struct rbd_map_spec *spec);

/**
 * rbdmap_remove() - unmap @m after checking that its device is still the one @m describes
 * (number and disk sequence number). Returns 0, -ENOENT when it is already gone, -EBUSY when
 * it is open, -ESTALE when its number now belongs to another disk (left alone), or -errno.
 */
int rbdmap_remove(dvm_ctx *ctx, const struct rbd_mapping *m);

/**
 * rbdmap_try_remove() - rbdmap_remove(), but -EBUSY (it is open) comes without a message: for
 * a caller that tries again.
 */
int rbdmap_try_remove(dvm_ctx *ctx, const struct rbd_mapping *m);

#endif
