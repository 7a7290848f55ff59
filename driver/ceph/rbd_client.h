/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A Ceph cluster through librados and librbd, in-process (the only file that includes them):
 * a connection to one pool as one client, and the image operations the rbd backend needs.
 * Names are checked here: an image, snapshot or client name with a blank, a control
 * character, '@' or '/' is refused (the kernel's map string is blank-separated).
 */
#ifndef DVM_RBD_CLIENT_H
#define DVM_RBD_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/ctx.h"

struct rbd_conn;
struct rbd_lock;

/* What the kernel's client needs to map images of this connection's pool. */
struct rbd_kernel_auth {
        char mons[256];    /* "ip:port[,ip:port]", msgr1 */
        char client[64];   /* client id, without "client." */
        char secret[128];  /* base64 */
};

/**
 * rbdc_connect() - connect as client @client_id (without "client.") with config file @conf
 * (NULL: librados' default search) to pool @pool. librados' own logging to stderr is turned
 * off; a cluster that does not answer fails after 30 s. Returns 0 and @ret_conn, or -errno
 * with a message naming the config file, client and pool.
 */
int rbdc_connect(dvm_ctx *ctx, const char *conf, const char *client_id, const char *pool, struct rbd_conn **ret_conn);

/** rbdc_free() - disconnect; NULL is a no-op. */
void rbdc_free(struct rbd_conn *c);

/** rbdc_pool_id() - the id of the connection's pool (permanent for the pool). */
int64_t rbdc_pool_id(struct rbd_conn *c);

/** rbdc_pool_name() - the name of the connection's pool. */
const char *rbdc_pool_name(struct rbd_conn *c);

/**
 * rbdc_kernel_auth() - the monitors and key of this connection's client, for the kernel
 * (from the "mon host" and "key"/"keyfile"/"keyring" settings librados read).
 * Returns 0 and @ret, or -errno with a message naming the setting.
 */
int rbdc_kernel_auth(dvm_ctx *ctx, struct rbd_conn *c, struct rbd_kernel_auth *ret);

/** rbdc_name_valid() - whether @name may name an image or snapshot (see above). */
bool rbdc_name_valid(const char *name);

/** rbdc_image_create() - a new empty image @image of @size bytes. Returns 0 or -errno (-EEXIST). */
int rbdc_image_create(dvm_ctx *ctx, struct rbd_conn *c, const char *image, uint64_t size);

/**
 * rbdc_image_import() - a new image @image holding the bytes of file or block device @path
 * (its size rounded up to 512 bytes); runs of zeroes are not written (a new image reads as
 * zeroes). On failure the half-written image is removed. Returns 0 or -errno.
 */
int rbdc_image_import(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *path);

/** rbdc_image_import_fd() - rbdc_image_import() from open file or device @fd, named @what in messages. */
int rbdc_image_import_fd(dvm_ctx *ctx, struct rbd_conn *c, const char *image, int fd, const char *what);

/**
 * rbdc_image_undo() - remove @image, whose filling from @what failed with @r, and say so
 * with the failure's message. Returns @r.
 */
int rbdc_image_undo(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *what, int r);

/** rbdc_image_remove() - remove image @image (it must have no snapshots). Returns 0 or -errno. */
int rbdc_image_remove(dvm_ctx *ctx, struct rbd_conn *c, const char *image);

/** rbdc_snap_create() - snapshot @snap of @image, protected (clonable) if @protect. Returns 0 or -errno. */
int rbdc_snap_create(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, bool protect);

/** rbdc_snap_remove() - unprotect (if protected) and remove snapshot @snap of @image. Returns 0 or -errno. */
int rbdc_snap_remove(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap);

/** rbdc_clone() - image @child, a clone of protected snapshot @image@@snap. Returns 0 or -errno. */
int rbdc_clone(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, const char *child);

/**
 * rbdc_image_id() - the permanent id of image @image (it survives renames; the kernel shows
 * it as image_id). Returns 0 and @ret_id, -ENOENT with a message naming pool/image, or -errno.
 */
int rbdc_image_id(dvm_ctx *ctx, struct rbd_conn *c, const char *image, char *ret_id, size_t len);

/** rbdc_snap_id() - the id of snapshot @image@@snap. Returns 0 and @ret_id, -ENOENT with a message, or -errno. */
int rbdc_snap_id(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, uint64_t *ret_id);

/**
 * rbdc_lock_acquire() - open @image and take its exclusive lock, held (another client's
 * request to take it over is refused) until rbdc_lock_release(). Returns 0 and @ret_lock,
 * -EROFS or -EBUSY when another client holds it (message names the image), or -errno.
 */
int rbdc_lock_acquire(dvm_ctx *ctx, struct rbd_conn *c, const char *image, struct rbd_lock **ret_lock);

/** rbdc_lock_release() - release the lock and close the image; NULL is a no-op. */
void rbdc_lock_release(struct rbd_lock *l);

/**
 * rbdc_lock_break() - break the exclusive lock of @image held by another (dead or fenced)
 * client: its owners are blocklisted and the lock is dropped. Returns the number of owners
 * broken (0: the image was not locked), or -errno.
 */
int rbdc_lock_break(dvm_ctx *ctx, struct rbd_conn *c, const char *image);

#endif
