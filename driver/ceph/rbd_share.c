// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pointer and users objects of shared templates, through librados (see rbd_share.h).
 * Users of image I are the xattrs "<snap>.<host>" of object "dvm.users.I"; the owner's
 * release mark is "<snap>@" ('@' is in no host name).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceph/ceph_lib.h"
#include "ceph/rbd_conn.h"
#include "ceph/rbd_share.h"

int rbdc_pointer_put(dvm_ctx *ctx, struct rbd_conn *c, const char *key, const char *image, const char *snap)
{
        char text[300];
        int n = snprintf(text, sizeof(text), "%s@%s", image, snap);
        int r = rados_write_full(c->io, key, text, (size_t)n);

        if (r < 0)
                return ctx_error(ctx, r, "Ceph pool %s: cannot write object %s: %m", c->pool, key);
        return 0;
}

int rbdc_pointer_get(dvm_ctx *ctx, struct rbd_conn *c, const char *key, const char *what, char *ret_image,
                     size_t image_len, char *ret_snap, size_t snap_len)
{
        char text[300], *at;
        int n = rados_read(c->io, key, text, sizeof(text) - 1, 0);

        if (n == -ENOENT)
                return ctx_error(ctx, n, "%s: not in Ceph pool %s (no object %s)", what, c->pool, key);
        if (n < 0)
                return ctx_error(ctx, n, "Ceph pool %s: cannot read object %s: %m", c->pool, key);
        text[n] = 0;
        at = strchr(text, '@');
        if (!at || at == text || !rbdc_name_valid(at + 1) || (size_t)(at - text) >= image_len ||
            strlen(at + 1) >= snap_len)
                return ctx_error(ctx, -EUCLEAN, "Ceph pool %s: object %s does not hold image@snapshot", c->pool, key);
        *at = 0;
        if (!rbdc_name_valid(text))
                return ctx_error(ctx, -EUCLEAN, "Ceph pool %s: object %s names no valid image", c->pool, key);
        snprintf(ret_image, image_len, "%s", text);
        snprintf(ret_snap, snap_len, "%s", at + 1);
        return 0;
}

int rbdc_pointer_remove(dvm_ctx *ctx, struct rbd_conn *c, const char *key)
{
        int r = rados_remove(c->io, key);

        if (r < 0 && r != -ENOENT)
                return ctx_error(ctx, r, "Ceph pool %s: cannot remove object %s: %m", c->pool, key);
        return 0;
}

static void users_object(const char *image, char *buf, size_t len)
{
        snprintf(buf, len, "dvm.users.%s", image);
}

/* The xattr of an image's users object that names the pointer object naming the image: no
 * use's name starts with '=' */
#define POINTER_MARK "=pointer"

int rbdc_pointer_mark(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *key)
{
        char obj[160];
        int r;

        users_object(image, obj, sizeof(obj));
        r = rados_setxattr(c->io, obj, POINTER_MARK, key, strlen(key));
        if (r < 0)
                return ctx_error(ctx, r, "Ceph pool %s: cannot mark %s as the pointer of %s: %m", c->pool, key, image);
        return 0;
}

int rbdc_pointer_marked(dvm_ctx *ctx, struct rbd_conn *c, const char *image, char *ret_key, size_t len)
{
        char obj[160];
        int r;

        users_object(image, obj, sizeof(obj));
        r = rados_getxattr(c->io, obj, POINTER_MARK, ret_key, len - 1);
        if (r == -ENOENT || r == -ENODATA)
                return -ENOENT;
        if (r < 0)
                return ctx_error(ctx, r, "Ceph pool %s: cannot read the users of %s: %m", c->pool, image);
        ret_key[r] = 0;
        return 0;
}

int rbdc_use_set(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, const char *host, bool on)
{
        char obj[160], name[200];
        int r;

        users_object(image, obj, sizeof(obj));
        if (host)
                snprintf(name, sizeof(name), "%s.%s", snap, host);
        else
                snprintf(name, sizeof(name), "%s@", snap);
        r = on ? rados_setxattr(c->io, obj, name, "1", 1) : rados_rmxattr(c->io, obj, name);
        if (!on && (r == -ENOENT || r == -ENODATA))
                return 0; /* not recorded, or no users object */
        if (r < 0)
                return ctx_error(ctx, r, "Ceph pool %s: cannot %s use %s of %s@%s: %m", c->pool,
                                 on ? "record" : "drop", host ? host : "(released)", image, snap);
        return 0;
}

int rbdc_use_count(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, bool *ret_released)
{
        char obj[160];
        rados_xattrs_iter_t it;
        size_t plen = strlen(snap);
        int n = 0, r;

        *ret_released = false;
        users_object(image, obj, sizeof(obj));
        r = rados_getxattrs(c->io, obj, &it);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return ctx_error(ctx, r, "Ceph pool %s: cannot read the users of %s: %m", c->pool, image);
        for (;;) {
                const char *name, *val;
                size_t len;
                if ((r = rados_getxattrs_next(it, &name, &val, &len)) < 0 || !name)
                        break;
                if (strncmp(name, snap, plen) != 0)
                        continue;
                if (name[plen] == '@' && !name[plen + 1])
                        *ret_released = true;
                else if (name[plen] == '.' && name[plen + 1])
                        n++;
        }
        rados_getxattrs_end(it);
        if (r < 0)
                return ctx_error(ctx, r, "Ceph pool %s: cannot read the users of %s: %m", c->pool, image);
        return n;
}

int rbdc_snap_size(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, uint64_t *ret)
{
        rbd_image_t img;
        int r;

        if ((r = rbdc_check_name(ctx, "image", image)) < 0 || (r = rbdc_check_name(ctx, "snapshot", snap)) < 0)
                return r;
        r = rbd_open_read_only(c->io, image, &img, snap);
        if (r < 0)
                return ctx_error(ctx, r, "rbd snapshot %s/%s@%s: %s", c->pool, image, snap,
                                 r == -ENOENT ? "no such image or snapshot" : strerror(-r));
        r = rbd_get_size(img, ret);
        rbd_close(img);
        if (r < 0)
                return ctx_error(ctx, r, "rbd snapshot %s/%s@%s: cannot read its size: %m", c->pool, image, snap);
        return 0;
}

int rbdc_image_list(dvm_ctx *ctx, struct rbd_conn *c, const char *prefix, char **ret_names)
{
        size_t max = 64, plen = strlen(prefix), out = 0, size = 1;
        rbd_image_spec_t *specs = NULL;
        char *names;
        int r, n = 0;

        for (;;) {
                free(specs);
                if (!(specs = calloc(max, sizeof(*specs))))
                        return -ENOMEM;
                r = rbd_list2(c->io, specs, &max);
                if (r != -ERANGE)
                        break;
        }
        if (r < 0) {
                free(specs);
                return ctx_error(ctx, r, "Ceph pool %s: cannot list its images: %m", c->pool);
        }
        for (size_t i = 0; i < max; i++)
                size += strlen(specs[i].name) + 1;
        if ((names = malloc(size)))
                for (size_t i = 0; i < max; i++)
                        if (strncmp(specs[i].name, prefix, plen) == 0) {
                                size_t len = strlen(specs[i].name);
                                memcpy(names + out, specs[i].name, len + 1);
                                out += len + 1;
                                n++;
                        }
        rbd_image_spec_list_cleanup(specs, max);
        free(specs);
        if (!names)
                return -ENOMEM;
        *ret_names = names;
        return n;
}

int rbdc_use_of_host(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *host, char **ret_snaps)
{
        char obj[160], found[32][200];
        size_t hlen = strlen(host), out = 0;
        rados_xattrs_iter_t it;
        int n = 0, r;

        users_object(image, obj, sizeof(obj));
        r = rados_getxattrs(c->io, obj, &it);
        if (r == -ENOENT) {
                *ret_snaps = calloc(1, 1);
                return *ret_snaps ? 0 : -ENOMEM;
        }
        if (r < 0)
                return ctx_error(ctx, r, "Ceph pool %s: cannot read the users of %s: %m", c->pool, image);
        for (;;) {
                const char *name, *val;
                size_t len, nl;
                if ((r = rados_getxattrs_next(it, &name, &val, &len)) < 0 || !name)
                        break;
                nl = strlen(name);
                if (nl > hlen + 1 && name[nl - hlen - 1] == '.' && strcmp(name + nl - hlen, host) == 0 &&
                    n < (int)ARRAY_SIZE(found) && nl < sizeof(found[0]))
                        snprintf(found[n++], sizeof(found[0]), "%.*s", (int)(nl - hlen - 1), name);
        }
        rados_getxattrs_end(it);
        if (r < 0)
                return ctx_error(ctx, r, "Ceph pool %s: cannot read the users of %s: %m", c->pool, image);
        char *snaps = malloc(n * sizeof(found[0]) + 1);
        if (!snaps)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                size_t sl = strlen(found[i]);
                memcpy(snaps + out, found[i], sl + 1);
                out += sl + 1;
        }
        snaps[out] = 0;
        *ret_snaps = snaps;
        return n;
}

int rbdc_use_drop_host(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *host, char **ret_snaps)
{
        int n = rbdc_use_of_host(ctx, c, image, host, ret_snaps), k = n, r;

        for (const char *s = n > 0 ? *ret_snaps : ""; k-- > 0; s += strlen(s) + 1)
                if ((r = rbdc_use_set(ctx, c, image, s, host, false)) < 0) {
                        free(*ret_snaps);
                        *ret_snaps = NULL;
                        return r;
                }
        return n;
}
