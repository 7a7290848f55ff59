// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * recover --host: what a dead, fenced host held in the Ceph pool goes (dvm_pool_reap_host()):
 * the exclusive locks of its images, its images that never got a snapshot (an import or a
 * commit into a new image cut short), and its uses of other hosts' snapshots.
 */
#include <stdio.h>
#include <string.h>

#include "backend/rbd_follow.h"
#include "backend/rbd_reap.h"
#include "ceph/rbd_commit.h"
#include "ceph/rbd_share.h"

/* the dead host's own images: locks broken, those without a snapshot removed */
static int reap_images(dvm_pool *pool, struct rbd_conn *c, const char *host, struct dvm_host_reap *ret)
{
        _cleanup_free_ char *names = NULL;
        char prefix[80];
        int n, r;

        snprintf(prefix, sizeof(prefix), "dvm.%s.", host);
        if ((n = rbdc_image_list(pool->ctx, c, prefix, &names)) < 0)
                return n;
        for (const char *img = names; n-- > 0; img += strlen(img) + 1) {
                if ((r = rbdc_lock_break(pool->ctx, c, img)) < 0)
                        return r;
                ret->locks_broken += (unsigned)r;
                if ((r = rbdc_image_snaps(pool->ctx, c, img)) < 0)
                        return r;
                if (r > 0)
                        continue; /* committed: other hosts' templates may follow it */
                if ((r = rbdc_image_remove(pool->ctx, c, img)) < 0)
                        return r;
                ret->images_removed++;
                ctx_info(pool->ctx, "pool %s: host %s's image %s held no snapshot: removed", pool->name, host, img);
                char obj[200];
                snprintf(obj, sizeof(obj), "dvm.users.%s", img);
                if ((r = rbdc_pointer_remove(pool->ctx, c, obj)) < 0)
                        return r;
        }
        return 0;
}

/* the dead host's uses of every dvm image's snapshots: dropped; released ones unused go */
static int reap_uses(dvm_pool *pool, struct rbd_conn *c, const char *host, struct dvm_host_reap *ret)
{
        _cleanup_free_ char *names = NULL;
        int n = rbdc_image_list(pool->ctx, c, "dvm.", &names), k, r;

        if (n < 0)
                return n;
        for (const char *img = names; n-- > 0; img += strlen(img) + 1) {
                _cleanup_free_ char *snaps = NULL;
                if ((k = rbdc_use_drop_host(pool->ctx, c, img, host, &snaps)) < 0)
                        return k;
                ret->uses_dropped += (unsigned)k;
                for (const char *s = snaps; k-- > 0; s += strlen(s) + 1) {
                        struct rbd_ref ref;
                        bool released;
                        snprintf(ref.image, sizeof(ref.image), "%s", img);
                        snprintf(ref.snap, sizeof(ref.snap), "%s", s);
                        if ((r = rbdc_use_count(pool->ctx, c, img, s, &released)) < 0)
                                return r;
                        if (r == 0 && released && (r = rbd_follow_unused(pool, c, &ref)) < 0)
                                return r;
                        if (r == 1)
                                ret->snapshots_removed++;
                }
        }
        return 0;
}

int rbd_reap_host(dvm_pool *pool, const char *host, struct dvm_host_reap *ret)
{
        char own[64], shown[200];
        struct rbd_conn *c;
        int r;

        if (!rbdc_name_valid(host) || strchr(host, '.') || strlen(host) > 63)
                return ctx_error(pool->ctx, -EINVAL, "pool %s: host name \"%s\" is not valid", pool->name,
                                 ctx_printable(host, shown, sizeof(shown)));
        if ((r = rbd_backend_host(pool, own, sizeof(own))) < 0)
                return r;
        if (strcmp(host, own) == 0)
                return ctx_error(pool->ctx, -EINVAL, "pool %s: host %s is this pool's own host: 'dvm-vol recover' "
                                 "recovers it", pool->name, host);
        if ((r = rbd_backend_conn(pool, &c)) < 0 || (r = reap_images(pool, c, host, ret)) < 0)
                return r;
        return reap_uses(pool, c, host, ret);
}
