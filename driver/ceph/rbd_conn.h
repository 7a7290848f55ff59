/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to driver/ceph/: a connection's librados handles, shared by the files that speak
 * librbd (rbd_client.c, rbd_commit.c). Nothing outside this folder includes it.
 */
#ifndef DVM_RBD_CONN_H
#define DVM_RBD_CONN_H

#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stdbool.h>

#include "util/ctx.h"

struct rbd_conn {
        rados_t cluster;
        rados_ioctx_t io;
        bool connected;
        char pool[128];
        char client[64];
};

/** rbdc_check_name() - 0 when @name may name an rbd @what, else -EINVAL with a message. */
int rbdc_check_name(dvm_ctx *ctx, const char *what, const char *name);

/** rbdc_open_image() - open @image of @c's pool. Returns 0 and @ret, or -errno with a message naming it. */
int rbdc_open_image(dvm_ctx *ctx, struct rbd_conn *c, const char *image, bool read_only, rbd_image_t *ret);

#endif
