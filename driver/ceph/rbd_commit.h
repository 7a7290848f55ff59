/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Commits into an rbd image: the byte ranges a layer wrote on top of the image's newest
 * snapshot go into the image's head, under its exclusive lock, and become a new protected
 * snapshot; a new image made of the ranges a layer without origin holds. And the snapshots
 * of an image (an image goes with its last one).
 */
#ifndef DVM_RBD_COMMIT_H
#define DVM_RBD_COMMIT_H

#include "ceph/rbd_client.h"
#include "util/extent.h"

/**
 * rbdc_image_commit() - write ranges @ext of @fd (a device whose content is @image@@base
 * plus what lies in @ext) into the head of @image, whose newest snapshot must be @base, then
 * create snapshot @snap of it, protected. The image's exclusive lock is held throughout, so
 * another host's commit of it waits or fails. When @snap is the newest snapshot already (a
 * commit redone after a crash), nothing is written. Returns 0, -ESTALE when @base is not the
 * image's newest snapshot (nothing written: the caller copies the whole device instead),
 * -EBUSY when another client holds the lock, or -errno; every error names image and snapshot.
 */
int rbdc_image_commit(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *base, int fd,
                      const struct extent_list *ext, const char *snap);

/**
 * rbdc_image_create_ranges() - create @image of @size bytes and write ranges @ext of @fd (a
 * device named @what in messages) into it; every other byte of it reads zero. On failure
 * the image is removed again. Returns 0 or -errno with a message.
 */
int rbdc_image_create_ranges(dvm_ctx *ctx, struct rbd_conn *c, const char *image, uint64_t size, int fd,
                             const struct extent_list *ext, const char *what);

/** rbdc_image_snaps() - the number of snapshots of @image, or -errno (-ENOENT: no such image). */
int rbdc_image_snaps(dvm_ctx *ctx, struct rbd_conn *c, const char *image);

/**
 * rbdc_snap_names() - the names of @image's snapshots, one after the other, each
 * NUL-terminated, in a malloc'd buffer. Returns their count, or -errno with a message.
 */
int rbdc_snap_names(dvm_ctx *ctx, struct rbd_conn *c, const char *image, char **ret_names);

/**
 * rbdc_image_state() - whether @image exists and has snapshot @snap, quietly: 1 when it has,
 * 0 when the image has not, -ENOENT (no message) when there is no such image, or -errno.
 */
int rbdc_image_state(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap);

#endif
