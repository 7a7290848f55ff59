// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The xenstore client: a connection, key and directory reads, transactional writes and
 * removal. The only file that includes <xenstore.h>.
 */
#include <stdio.h>
#include <string.h>
#include <xenstore.h>

#include "xen/xen_store.h"

/* A transaction that keeps conflicting with other writers is given up after this many tries. */
#define TRANSACTION_TRIES 32

struct xstore {
        dvm_ctx *ctx;
        struct xs_handle *h;
};

int xstore_open(dvm_ctx *ctx, xstore **ret_xs)
{
        xstore *xs = calloc(1, sizeof(*xs));

        if (!xs)
                return -ENOMEM;
        xs->ctx = ctx;
        xs->h = xs_open(0);
        if (!xs->h) {
                int r = ctx_error(ctx, -ENODEV, "cannot reach xenstore (%s): this needs a Xen dom0 with xenstored "
                                  "running", strerror(errno));
                free(xs);
                return r;
        }
        *ret_xs = xs;
        return 0;
}

xstore *xstore_close(xstore *xs)
{
        if (xs) {
                xs_close(xs->h);
                free(xs);
        }
        return NULL;
}

int xstore_read(xstore *xs, const char *path, char **ret_value)
{
        unsigned len = 0;
        char *v = xs_read(xs->h, XBT_NULL, path, &len);

        if (!v) {
                if (errno == ENOENT)
                        return -ENOENT;
                return ctx_error(xs->ctx, -errno, "xenstore: cannot read %s: %m", path);
        }
        /* values may hold any bytes; ours are text, so a NUL inside is a forgery */
        if (strlen(v) != len) {
                free(v);
                return ctx_error(xs->ctx, -EINVAL, "xenstore: %s holds a NUL byte", path);
        }
        *ret_value = v;
        return 0;
}

int xstore_list(xstore *xs, const char *path, char ***ret_names)
{
        unsigned num = 0;
        _cleanup_free_ char **list = xs_directory(xs->h, XBT_NULL, path, &num);
        char **names;

        if (!list && errno != ENOENT)
                return ctx_error(xs->ctx, -errno, "xenstore: cannot list %s: %m", path);
        if (!list)
                num = 0;
        names = calloc((size_t)num + 1, sizeof(*names));
        if (!names)
                return -ENOMEM;
        for (unsigned i = 0; i < num; i++)
                if (!(names[i] = strdup(list[i]))) {
                        dvm_strv_free(names);
                        return -ENOMEM;
                }
        *ret_names = names;
        return (int)num;
}

int xstore_write(xstore *xs, const char *dir, const struct xstore_pair *pairs, unsigned n)
{
        /* one key is written atomically without a transaction: one round trip instead of three */
        if (n == 1) {
                char path[512];
                snprintf(path, sizeof(path), "%s/%s", dir, pairs[0].key);
                if (!xs_write(xs->h, XBT_NULL, path, pairs[0].value, (unsigned)strlen(pairs[0].value)))
                        return ctx_error(xs->ctx, -errno, "xenstore: cannot write %s: %m", path);
                return 0;
        }
        for (unsigned tries = 0; tries < TRANSACTION_TRIES; tries++) {
                xs_transaction_t t = xs_transaction_start(xs->h);
                unsigned i = 0;

                if (t == XBT_NULL)
                        return ctx_error(xs->ctx, -errno, "xenstore: cannot start a transaction for %s: %m", dir);
                for (; i < n; i++) {
                        char path[512];
                        snprintf(path, sizeof(path), "%s/%s", dir, pairs[i].key);
                        if (!xs_write(xs->h, t, path, pairs[i].value, (unsigned)strlen(pairs[i].value)))
                                break;
                }
                if (i < n) {
                        int err = errno;
                        xs_transaction_end(xs->h, t, true);
                        return ctx_error(xs->ctx, -err, "xenstore: cannot write %s/%s: %s", dir, pairs[i].key,
                                         strerror(err));
                }
                if (xs_transaction_end(xs->h, t, false))
                        return 0;
                if (errno != EAGAIN)
                        return ctx_error(xs->ctx, -errno, "xenstore: cannot commit the keys of %s: %m", dir);
        }
        return ctx_error(xs->ctx, -EAGAIN, "xenstore: the keys of %s kept conflicting with other writers", dir);
}

int xstore_rm(xstore *xs, const char *path)
{
        if (!xs_rm(xs->h, XBT_NULL, path) && errno != ENOENT)
                return ctx_error(xs->ctx, -errno, "xenstore: cannot remove %s: %m", path);
        return 0;
}
