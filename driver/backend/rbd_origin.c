// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Shared snapshot mappings as external origins: find or map, open and check; unmap with the
 * last holder. The open descriptor is what makes sharing safe: the kernel refuses to unmap an
 * open rbd device, so a put racing a get either unmaps before the get opens (the get then maps
 * anew) or fails and leaves the mapping to the get.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend/rbd_origin.h"

DEFINE_CLEANUP(DIR *, closedir)

static int map_and_open(dvm_ctx *ctx, struct rbd_conn *c, struct rbd_origin *o, bool *ret_retry)
{
        struct rbd_kernel_auth auth;
        int r = rbdmap_find(ctx, &o->spec, &o->map);

        *ret_retry = false;
        if (r == -ENOENT) {
                if ((r = rbdc_kernel_auth(ctx, c, &auth)) < 0)
                        return r;
                struct rbd_map_auth ma = { .mons = auth.mons, .client = auth.client, .secret = auth.secret };
                r = rbdmap_add(ctx, &ma, &o->spec, &o->map);
                explicit_bzero(&auth, sizeof(auth));
                if (r < 0)
                        return r;
        } else if (r < 0) {
                return r;
        } else {
                *ret_retry = true; /* found: a put may unmap it before we open it */
        }
        return rbdmap_open(ctx, &o->map, &o->spec);
}

int rbd_origin_get(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, struct rbd_origin *ret)
{
        struct rbd_origin o = { .fd = -1 };
        bool retry;
        int r;

        snprintf(o.pool, sizeof(o.pool), "%s", rbdc_pool_name(c));
        snprintf(o.image, sizeof(o.image), "%s", image);
        snprintf(o.snap, sizeof(o.snap), "%s", snap);
        o.spec = (struct rbd_map_spec){ .pool = o.pool, .image = o.image, .snap = o.snap,
                                        .pool_id = (uint64_t)rbdc_pool_id(c), .image_id = o.image_id };
        if ((r = rbdc_image_id(ctx, c, image, o.image_id, sizeof(o.image_id))) < 0 ||
            (r = rbdc_snap_id(ctx, c, image, snap, &o.spec.snap_id)) < 0)
                return r;
        r = map_and_open(ctx, c, &o, &retry);
        if (r < 0 && retry && (r == -ENOENT || r == -ESTALE))
                r = map_and_open(ctx, c, &o, &retry);
        if (r < 0)
                return r;
        o.fd = r;
        *ret = o;
        /* the spec points into the caller's copy from now on */
        ret->spec.pool = ret->pool;
        ret->spec.image = ret->image;
        ret->spec.snap = ret->snap;
        ret->spec.image_id = ret->image_id;
        return 0;
}

void rbd_origin_release(struct rbd_origin *o)
{
        closep(&o->fd);
        o->fd = -1;
}

/* whether block device rbd<N> has a holder (a dm table over it) */
static int has_holders(dvm_ctx *ctx, int dev_id)
{
        char path[64];
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        snprintf(path, sizeof(path), "/sys/block/rbd%d/holders", dev_id);
        d = opendir(path);
        if (!d)
                return errno == ENOENT ? 0 : ctx_error(ctx, -errno, "cannot list %s: %m", path);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        return 1;
        return 0;
}

/* How long the last user's put keeps trying while the mapping is open and nothing holds it.
 * A get opens it only to make its table over it (then it has a holder: the put is done) or
 * puts it itself; anyone else has it open for a moment: udev probes each new mapping (blkid),
 * and an unmap refused then would leave the mapping for good. */
#define PUT_BUSY_MS 5000
#define PUT_PAUSE_MS 50

int rbd_origin_put(dvm_ctx *ctx, const struct rbd_mapping *m)
{
        for (int waited = 0;; waited += PUT_PAUSE_MS) {
                int r = has_holders(ctx, m->dev_id);

                if (r != 0)
                        return r < 0 ? r : 0;
                r = rbdmap_try_remove(ctx, m);
                if (r == -ENOENT)
                        return 1;
                if (r != -EBUSY)
                        return r < 0 ? r : 1;
                if (waited >= PUT_BUSY_MS)
                        return 0; /* still open and no table over it: its opener's now */
                nanosleep(&(struct timespec){ .tv_nsec = PUT_PAUSE_MS * 1000000L }, NULL);
        }
}

int rbd_origin_sweep(dvm_ctx *ctx, const char *prefix)
{
        struct rbd_mapping m[64];
        int n = rbdmap_named(ctx, prefix, m, (int)ARRAY_SIZE(m)), gone = 0;

        if (n == -ENODEV)
                return 0;
        for (int i = 0; i < n; i++) {
                int r = rbd_origin_put(ctx, &m[i]);
                if (r < 0)
                        return r;
                gone += r;
        }
        return n < 0 ? n : gone;
}
