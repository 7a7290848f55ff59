// SPDX-License-Identifier: GPL-2.0-or-later
/* Templates shared by the hosts of one cluster, and which host holds an image (rbd_follow.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "backend/rbd_follow.h"
#include "ceph/rbd_commit.h"
#include "ceph/rbd_share.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"

#define HOST_MAX 64

int rbd_backend_host(dvm_pool *pool, char *buf, size_t len)
{
        _cleanup_free_ char *host = NULL;
        int r = catalog_meta_get(pool->cat, "rbd.host", &host);

        if (r < 0)
                return ctx_error(pool->ctx, r, "pool %s: catalog lacks its host name: %m", pool->name);
        snprintf(buf, len, "%s", host);
        return 0;
}

int rbd_image_foreign(dvm_pool *pool, const char *image, char *ret_host, size_t len)
{
        char own[HOST_MAX];
        const char *h = image + 4, *dot;
        int r = rbd_backend_host(pool, own, sizeof(own));

        if (r < 0)
                return r;
        if (strncmp(image, "dvm.", 4) != 0 || !(dot = strchr(h, '.')) || (size_t)(dot - h) >= len)
                return ctx_error(pool->ctx, -EUCLEAN, "pool %s: rbd image %s is not named dvm.<host>.<pool>.<layer>",
                                 pool->name, image);
        snprintf(ret_host, len, "%.*s", (int)(dot - h), h);
        return strcmp(ret_host, own) != 0;
}

int rbd_refuse_foreign(dvm_pool *pool, const char *image, const char *doing)
{
        char holder[HOST_MAX];
        int r = rbd_image_foreign(pool, image, holder, sizeof(holder));

        if (r <= 0)
                return r;
        return ctx_error(pool->ctx, -EBUSY, "pool %s: cannot %s: rbd image %s is held writable by host %s",
                         pool->name, doing, image, holder);
}

static void follow_key(int64_t id, char *buf, size_t len)
{
        snprintf(buf, len, "rbd.follow.%" PRId64, id);
}

/* the pointer object of volume @what ("<host>/<vm>/<volume>"): "dvm.tmpl.<host>.<vm>.<volume>",
 * no '/' in it (tools that save objects as files) and unambiguous (no '.' in a host or
 * volume name) */
static void pointer_key(const char *what, char *buf, size_t len)
{
        snprintf(buf, len, "dvm.tmpl.%s", what);
        for (char *p = buf; *p; p++)
                if (*p == '/')
                        *p = '.';
}

/* the volume whose running (or, for an import, committed) layer is @id */
static int volume_of(dvm_pool *pool, int64_t id, struct cat_volume *ret)
{
        _cleanup_free_ struct cat_vm *vms = NULL;
        struct cat_volume vols[3];
        int n = catalog_vm_list(pool->cat, &vms);

        for (int i = 0; i < n; i++) {
                int k = catalog_volume_list(pool->cat, vms[i].name, vols, 3);
                for (int j = 0; j < k; j++)
                        if ((vols[j].flags & DVM_VOL_SAVE_ON_STOP) && (vols[j].run_id == id || vols[j].thin_id == id)) {
                                *ret = vols[j];
                                return 0;
                        }
        }
        return n < 0 ? n : -ENOENT;
}

int rbd_follow_publish(dvm_pool *pool, struct rbd_conn *c, int64_t id, const struct rbd_ref *ref)
{
        char own[HOST_MAX], what[200], key[220];
        struct cat_volume v;
        int r = volume_of(pool, id, &v);

        if (r == -ENOENT)
                return 0; /* not a volume's layer (a revision's) */
        if (r < 0 || (r = rbd_backend_host(pool, own, sizeof(own))) < 0)
                return r;
        snprintf(what, sizeof(what), "%s/%s/%s", own, v.vm, v.name);
        pointer_key(what, key, sizeof(key));
        /* so that the image's removal takes the pointer with it, whatever the catalog says */
        if ((r = rbdc_pointer_mark(pool->ctx, c, ref->image, key)) < 0)
                return r;
        return rbdc_pointer_put(pool->ctx, c, key, ref->image, ref->snap);
}

int rbd_follow_republish(dvm_pool *pool, struct rbd_conn *c)
{
        _cleanup_free_ struct cat_vm *vms = NULL;
        struct cat_volume vols[3];
        char own[HOST_MAX], holder[HOST_MAX], what[1024], key[1040];
        int n = catalog_vm_list(pool->cat, &vms), put = 0, r;

        if (n < 0 || (r = rbd_backend_host(pool, own, sizeof(own))) < 0)
                return n < 0 ? n : r;
        for (int i = 0; i < n; i++) {
                int k = catalog_volume_list(pool->cat, vms[i].name, vols, 3);
                for (int j = 0; j < k; j++) {
                        struct rbd_ref ref, now;
                        if (!(vols[j].flags & DVM_VOL_SAVE_ON_STOP) || vols[j].thin_id < 0 ||
                            rbd_layer_get(pool, vols[j].thin_id, &ref) < 0 ||
                            rbd_image_foreign(pool, ref.image, holder, sizeof(holder)) != 0)
                                continue; /* local, or another host's (followed) */
                        snprintf(what, sizeof(what), "%s/%s/%s", own, vols[j].vm, vols[j].name);
                        pointer_key(what, key, sizeof(key));
                        if (rbdc_pointer_get(pool->ctx, c, key, what, now.image, sizeof(now.image), now.snap,
                                             sizeof(now.snap)) == 0 &&
                            strcmp(now.image, ref.image) == 0 && strcmp(now.snap, ref.snap) == 0)
                                continue;
                        if ((r = rbd_follow_publish(pool, c, vols[j].thin_id, &ref)) < 0)
                                return r;
                        ctx_info(pool->ctx, "pool %s: the pointer of %s named what no commit holds: %s@%s again",
                                 pool->name, what, ref.image, ref.snap);
                        put++;
                }
        }
        return put;
}

/* layer @id is @what's snapshot @ref: recorded here and as a use in the cluster */
static int take(dvm_pool *pool, struct rbd_conn *c, int64_t id, const char *what, const struct rbd_ref *ref)
{
        char own[HOST_MAX], key[48];
        int r;

        follow_key(id, key, sizeof(key));
        /* should the change fail, recovery drops the use the catalog will not record */
        pool->changed_elsewhere = true;
        if ((r = rbd_backend_host(pool, own, sizeof(own))) < 0 ||
            (r = rbdc_use_set(pool->ctx, c, ref->image, ref->snap, own, true)) < 0 ||
            (r = rbd_layer_set(pool, id, ref)) < 0)
                return r;
        return catalog_meta_set(pool->cat, key, what);
}

/* where @what points now, as @ref; @ret_what the text of object name */
static int lookup(dvm_pool *pool, struct rbd_conn *c, const char *what, struct rbd_ref *ret)
{
        char key[220], shown[240];

        pointer_key(what, key, sizeof(key));
        snprintf(shown, sizeof(shown), "volume %s", what);
        return rbdc_pointer_get(pool->ctx, c, key, shown, ret->image, sizeof(ret->image), ret->snap, sizeof(ret->snap));
}

int rbd_follow(dvm_pool *pool, const char *host, struct cat_volume *v)
{
        char own[HOST_MAX], what[200], shown[200];
        struct rbd_conn *c;
        struct rbd_ref ref;
        int r;

        if (!rbdc_name_valid(host) || strchr(host, '.') || strlen(host) >= HOST_MAX)
                return ctx_error(pool->ctx, -EINVAL, "pool %s: host name \"%s\" is not valid", pool->name,
                                 ctx_printable(host, shown, sizeof(shown)));
        if ((r = rbd_backend_host(pool, own, sizeof(own))) < 0)
                return r;
        if (strcmp(host, own) == 0)
                return ctx_error(pool->ctx, -EINVAL, "pool %s: host %s is this pool's own host", pool->name, host);
        snprintf(what, sizeof(what), "%s/%s/%s", host, v->vm, v->name);
        if ((r = rbd_backend_conn(pool, &c)) < 0 || (r = lookup(pool, c, what, &ref)) < 0 ||
            (r = rbdc_snap_size(pool->ctx, c, ref.image, ref.snap, &v->size)) < 0)
                return r;
        return take(pool, c, v->thin_id, what, &ref);
}

int rbd_source_refresh(dvm_pool *pool, struct cat_volume *src)
{
        _cleanup_free_ char *what = NULL;
        struct rbd_ref now, had;
        struct rbd_conn *c;
        int64_t old = src->thin_id, id;
        char key[48];
        int r;

        follow_key(old, key, sizeof(key));
        r = catalog_meta_get(pool->cat, key, &what);
        if (r == -ENOENT)
                return 0;
        if (r < 0 || (r = rbd_backend_conn(pool, &c)) < 0 || (r = lookup(pool, c, what, &now)) < 0 ||
            (r = rbd_layer_get(pool, old, &had)) < 0)
                return r;
        if (strcmp(now.image, had.image) == 0 && strcmp(now.snap, had.snap) == 0)
                return 0;
        if ((r = catalog_thin_id_alloc(pool->cat, &id)) < 0 || (r = take(pool, c, id, what, &now)) < 0)
                return r;
        src->thin_id = id;
        if ((r = catalog_volume_put(pool->cat, src)) < 0)
                return r;
        ctx_info(pool->ctx, "pool %s: %s/%s follows %s, committed since as %s@%s", pool->name, src->vm, src->name,
                 what, now.image, now.snap);
        /* what runs over the old snapshot keeps it; else it goes now */
        r = catalog_layer_users(pool->cat, old);
        return r == 0 ? pool->ops->layer_delete(pool, old) : r < 0 ? r : 0;
}

int rbd_source_moved(dvm_pool *pool, const struct cat_volume *src)
{
        _cleanup_free_ char *what = NULL;
        struct rbd_ref now, had;
        struct rbd_conn *c;
        char key[48];
        int r;

        follow_key(src->thin_id, key, sizeof(key));
        r = catalog_meta_get(pool->cat, key, &what);
        if (r == -ENOENT)
                return 0;
        if (r < 0 || (r = rbd_backend_conn(pool, &c)) < 0 || (r = lookup(pool, c, what, &now)) < 0 ||
            (r = rbd_layer_get(pool, src->thin_id, &had)) < 0)
                return r;
        return strcmp(now.image, had.image) != 0 || strcmp(now.snap, had.snap) != 0;
}

/* @ref's image is gone: so are its users object, and the pointer marked on it if that still
 * names the image (a catalog older than the mark recorded the pointer as "rbd.pub.<image>") */
static int image_gone(dvm_pool *pool, struct rbd_conn *c, const struct rbd_ref *ref)
{
        _cleanup_free_ char *what = NULL;
        struct rbd_ref now;
        char key[220], obj[220] = "";
        int r = rbdc_pointer_marked(pool->ctx, c, ref->image, obj, sizeof(obj));

        if (r < 0 && r != -ENOENT)
                return r;
        snprintf(key, sizeof(key), "rbd.pub.%s", ref->image);
        if (catalog_meta_get(pool->cat, key, &what) == 0) {
                if (!obj[0])
                        pointer_key(what, obj, sizeof(obj));
                if ((r = catalog_meta_delete(pool->cat, key)) < 0)
                        return r;
        }
        snprintf(key, sizeof(key), "dvm.users.%s", ref->image);
        if ((r = rbdc_pointer_remove(pool->ctx, c, key)) < 0)
                return r;
        if (obj[0] &&
            rbdc_pointer_get(pool->ctx, c, obj, obj, now.image, sizeof(now.image), now.snap, sizeof(now.snap)) == 0 &&
            strcmp(now.image, ref->image) == 0)
                return rbdc_pointer_remove(pool->ctx, c, obj);
        return 0;
}

int rbd_follow_image_gone(dvm_pool *pool, struct rbd_conn *c, const struct rbd_ref *ref)
{
        return image_gone(pool, c, ref);
}

int rbd_follow_unused(dvm_pool *pool, struct rbd_conn *c, const struct rbd_ref *ref)
{
        char obj[200];
        int r = rbdc_snap_remove(pool->ctx, c, ref->image, ref->snap);

        if (r < 0)
                return r;
        rbdc_use_set(pool->ctx, c, ref->image, ref->snap, NULL, false);
        if (rbdc_image_snaps(pool->ctx, c, ref->image) == 0 && rbdc_image_remove(pool->ctx, c, ref->image) >= 0) {
                snprintf(obj, sizeof(obj), "dvm.users.%s", ref->image);
                rbdc_pointer_remove(pool->ctx, c, obj);
        }
        return 1;
}

int rbd_follow_delete(dvm_pool *pool, struct rbd_conn *c, int64_t id, const struct rbd_ref *ref)
{
        char holder[HOST_MAX], own[HOST_MAX], key[48];
        bool released;
        int foreign = rbd_image_foreign(pool, ref->image, holder, sizeof(holder)), r, n;

        if (foreign < 0)
                return foreign;
        if ((r = rbd_backend_host(pool, own, sizeof(own))) < 0)
                return r;
        if (foreign) {
                follow_key(id, key, sizeof(key));
                if ((r = rbdc_use_set(pool->ctx, c, ref->image, ref->snap, own, false)) < 0 ||
                    (n = rbdc_use_count(pool->ctx, c, ref->image, ref->snap, &released)) < 0)
                        return r < 0 ? r : n;
                /* the last user of a snapshot its owner gave up removes it */
                if (n == 0 && released)
                        rbd_follow_unused(pool, c, ref);
                r = catalog_meta_delete(pool->cat, key);
                return r < 0 ? r : 1;
        }
        n = rbdc_use_count(pool->ctx, c, ref->image, ref->snap, &released);
        if (n <= 0)
                return n;
        ctx_info(pool->ctx, "pool %s: rbd %s@%s stays for the %d other host(s) that use it", pool->name, ref->image,
                 ref->snap, n);
        r = rbdc_use_set(pool->ctx, c, ref->image, ref->snap, NULL, true);
        return r < 0 ? r : 1;
}
