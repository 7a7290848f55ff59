/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xenstore, through libxenstore: reading keys and directories, and writing several keys in
 * one transaction. The only file that includes <xenstore.h>.
 */
#ifndef DVM_XEN_STORE_H
#define DVM_XEN_STORE_H

#include "util/ctx.h"

typedef struct xstore xstore;

/** One key to write, relative to a directory. */
struct xstore_pair {
        const char *key;
        const char *value;
};

/**
 * xstore_open() - connect to xenstore. Returns 0 and the handle in @ret_xs, or -ENODEV
 * with a message when there is no xenstore here (not a Xen dom0, or no xenstored).
 */
int xstore_open(dvm_ctx *ctx, xstore **ret_xs);

/** xstore_close() - disconnect; NULL is a no-op. Returns NULL. */
xstore *xstore_close(xstore *xs);

/**
 * xstore_read() - the value of @path (relative paths are under this domain's home).
 * Returns 0 and a malloc'd string in @ret_value, -ENOENT when there is no such key, or
 * -errno with a message.
 */
int xstore_read(xstore *xs, const char *path, char **ret_value);

/**
 * xstore_list() - the entries of directory @path. Returns their count and a
 * NULL-terminated malloc'd array (dvm_strv_free()), 0 and an empty array when @path does
 * not exist, or -errno.
 */
int xstore_list(xstore *xs, const char *path, char ***ret_names);

/**
 * xstore_write() - write the @n keys of @pairs under @dir in one transaction (retried
 * while xenstore reports a conflict): all of them land, or none; a single key without one
 * (a write of one key is atomic). Returns 0 or -errno.
 */
int xstore_write(xstore *xs, const char *dir, const struct xstore_pair *pairs, unsigned n);

/** xstore_rm() - remove @path and what is below it; a missing path is fine. Returns 0 or -errno. */
int xstore_rm(xstore *xs, const char *path);

DEFINE_CLEANUP(xstore *, xstore_close)
#define _cleanup_xstore_ _cleanup_(xstore_closep)

#endif
