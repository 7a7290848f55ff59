/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The files of a snap pool: sparse layer images, new revisions of an image (a clone with a
 * COW store's changes applied), and what an image or a store holds.
 */
#ifndef DVM_SNAP_IMAGE_H
#define DVM_SNAP_IMAGE_H

#include <stdint.h>

#include "util/ctx.h"
#include "util/extent.h"

/**
 * snap_image_create() - a new sparse file @path of @size bytes (never an existing one).
 * Returns 0, -EEXIST, or -errno; nothing is left behind on failure.
 */
int snap_image_create(dvm_ctx *ctx, const char *path, uint64_t size);

/**
 * snap_image_clone() - a new file @dst with the contents of image @src: a reflink (FICLONE)
 * where the file system shares extents, else a copy of the data regions only (SEEK_DATA),
 * so holes stay holes. Synced to disk. Returns 0 or -errno; no @dst is left on failure.
 */
int snap_image_clone(dvm_ctx *ctx, const char *src, const char *dst);

/**
 * snap_image_apply_cow() - write the changes of the COW store @cow_fd (@cow_size bytes) for
 * an origin of @size bytes into image @img at their origin offsets, and sync it. A store
 * the kernel invalidated is refused. Returns 0, -EIO (invalidated), -EUCLEAN (a damaged
 * store), or -errno.
 */
int snap_image_apply_cow(dvm_ctx *ctx, const char *img, int cow_fd, uint64_t cow_size, uint64_t size);

/**
 * snap_image_data() - the byte ranges below @size where @path holds data (SEEK_DATA /
 * SEEK_HOLE), appended to @ret. Returns 0 or -errno.
 */
int snap_image_data(dvm_ctx *ctx, const char *path, uint64_t size, struct extent_list *ret);

/** snap_image_allocated() - bytes the file system allocated for @path. Returns 0 or -errno. */
int snap_image_allocated(const char *path, uint64_t *ret_bytes);

#endif
