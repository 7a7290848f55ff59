/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The read-only external origin of a host's disposables over an rbd template snapshot: one
 * kernel mapping per host and snapshot, shared by every thin volume layered over it, unmapped
 * when its last holder is gone.
 */
#ifndef DVM_RBD_ORIGIN_H
#define DVM_RBD_ORIGIN_H

#include "ceph/rbd_client.h"
#include "kernel/rbd_map.h"

struct rbd_origin {
        struct rbd_mapping map;
        struct rbd_map_spec spec;    /* points into the buffers below */
        char pool[128], image[128], snap[128], image_id[64];
        int fd;                      /* open on map.path, identity checked: pins the device */
};

/**
 * rbd_origin_get() - the mapping of snapshot @image@@snap of @c's pool on this host: the
 * existing one when there is one, else a new read-only map. Either way it is opened and its
 * identity checked against the ids librbd gives for the names now; the descriptor in
 * @ret->fd pins it until rbd_origin_release() (put a dm table over @ret->map's number
 * meanwhile). Returns 0, or -errno with a message naming pool/image@snap.
 */
int rbd_origin_get(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, struct rbd_origin *ret);

/** rbd_origin_release() - close the pin taken by rbd_origin_get(). */
void rbd_origin_release(struct rbd_origin *o);

/**
 * rbd_origin_put() - unmap mapping @m when nothing holds it any more (no device in its
 * holders directory, nobody has it open). While it is open but has no holder (a probe such as
 * udev's blkid, or a get before its table), it tries again for up to 5 s. Returns 1 when it
 * was unmapped (or was already gone), 0 when it is still in use and stays, -ESTALE when its
 * number is another disk now, or -errno.
 */
int rbd_origin_put(dvm_ctx *ctx, const struct rbd_mapping *m);

/**
 * rbd_origin_sweep() - rbd_origin_put() on every mapping of an image whose name starts with
 * @prefix: those a process killed between its map and its table left behind go, those in
 * use stay. Returns the number unmapped, or -errno (no rbd module: 0).
 */
int rbd_origin_sweep(dvm_ctx *ctx, const char *prefix);

#endif
