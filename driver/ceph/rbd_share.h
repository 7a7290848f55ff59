/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What hosts sharing one Ceph pool tell each other, in small RADOS objects beside the images:
 * where a host's template volume is now (a pointer object "image@snapshot" that its commits
 * rewrite), and which hosts use a snapshot of another host's image as an origin (one xattr
 * per snapshot and host on the image's users object), so that the owner keeps it meanwhile.
 */
#ifndef DVM_RBD_SHARE_H
#define DVM_RBD_SHARE_H

#include <stdbool.h>
#include <stdint.h>

#include "ceph/rbd_client.h"

/** rbdc_pointer_put() - object @key holds "@image@@snap" now (replaced whole). Returns 0 or -errno. */
int rbdc_pointer_put(dvm_ctx *ctx, struct rbd_conn *c, const char *key, const char *image, const char *snap);

/**
 * rbdc_pointer_get() - the image and snapshot object @key names. Returns 0 and both,
 * -ENOENT with a message naming @what when there is no such object, or -errno.
 */
int rbdc_pointer_get(dvm_ctx *ctx, struct rbd_conn *c, const char *key, const char *what, char *ret_image,
                     size_t image_len, char *ret_snap, size_t snap_len);

/** rbdc_pointer_remove() - remove object @key (absent: no error). Returns 0 or -errno. */
int rbdc_pointer_remove(dvm_ctx *ctx, struct rbd_conn *c, const char *key);

/**
 * rbdc_pointer_mark() - record on @image's users object that pointer object @key names it,
 * before @key is written: whoever removes the image then finds the pointer to remove with
 * it, even when the catalog that published it never committed. Returns 0 or -errno.
 */
int rbdc_pointer_mark(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *key);

/**
 * rbdc_pointer_marked() - the pointer object rbdc_pointer_mark() recorded for @image, into
 * @ret_key. Returns 0, -ENOENT when none was, or -errno.
 */
int rbdc_pointer_marked(dvm_ctx *ctx, struct rbd_conn *c, const char *image, char *ret_key, size_t len);

/**
 * rbdc_use_set() - record (@on) or drop that host @host uses @image@@snap; @host NULL is the
 * owner's mark "released": it no longer needs the snapshot, the last user removes it.
 * Returns 0 or -errno.
 */
int rbdc_use_set(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, const char *host, bool on);

/**
 * rbdc_use_count() - how many hosts use @image@@snap; @ret_released tells whether its owner
 * released it. Returns the count, or -errno.
 */
int rbdc_use_count(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, bool *ret_released);

/**
 * rbdc_image_list() - the names of the pool's images that start with @prefix, one after the
 * other, each NUL-terminated, in a malloc'd buffer. Returns their count, or -errno.
 */
int rbdc_image_list(dvm_ctx *ctx, struct rbd_conn *c, const char *prefix, char **ret_names);

/**
 * rbdc_use_of_host() - the snapshots of @image that host @host uses, NUL-terminated one after
 * the other, in @ret_snaps (malloc'd). Returns their count, or -errno.
 */
int rbdc_use_of_host(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *host, char **ret_snaps);

/**
 * rbdc_use_drop_host() - drop every use of @image's snapshots by host @host; the snapshots it
 * used, NUL-terminated one after the other, in @ret_snaps (malloc'd). Returns their count,
 * or -errno.
 */
int rbdc_use_drop_host(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *host, char **ret_snaps);

/** rbdc_snap_size() - the size in bytes of @image@@snap. Returns 0 and @ret, or -errno with a message. */
int rbdc_snap_size(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, uint64_t *ret);

#endif
