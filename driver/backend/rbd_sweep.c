// SPDX-License-Identifier: GPL-2.0-or-later
/* What a killed process of an rbd pool left in the cluster goes, in recovery (rbd_sweep.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend/rbd_follow.h"
#include "backend/rbd_sweep.h"
#include "ceph/rbd_commit.h"
#include "ceph/rbd_share.h"
#include "kernel/rbd_map.h"

/* Seconds a leftover image's removal is retried while it is watched: a killed process's
 * watch stays until the cluster times it out (osd_client_watch_timeout, 30 s by default). */
#define WATCH_WAIT 45

static int remove_image(dvm_pool *pool, struct rbd_conn *c, const char *img)
{
        for (int i = 0;; i++) {
                int r = rbdc_image_remove(pool->ctx, c, img);
                if (r != -EBUSY || i == WATCH_WAIT)
                        return r;
                if (i == 0)
                        ctx_info(pool->ctx, "pool %s: leftover rbd image %s is still watched by a killed process: "
                                 "waiting for the cluster to drop its watch", pool->name, img);
                sleep(1);
        }
}

/* whether the catalog records @image@@snap (@snap NULL: any snapshot of @image) */
static bool recorded(const struct rbd_ref *refs, int n, const char *image, const char *snap)
{
        for (int i = 0; i < n; i++)
                if (strcmp(refs[i].image, image) == 0 && (!snap || strcmp(refs[i].snap, snap) == 0))
                        return true;
        return false;
}

/* the catalog's layers in the cluster, as image@snapshot */
static int catalog_refs(dvm_pool *pool, struct rbd_ref **ret)
{
        _cleanup_free_ int64_t *ids = NULL;
        struct rbd_ref *refs;
        int n = rbd_layer_ids(pool, &ids), r;

        if (n < 0)
                return n;
        if (!(refs = calloc((size_t)n + 1, sizeof(*refs))))
                return -ENOMEM;
        for (int i = 0; i < n; i++)
                if ((r = rbd_layer_get(pool, ids[i], &refs[i])) < 0) {
                        free(refs);
                        return r;
                }
        *ret = refs;
        return n;
}

/* image @img of this pool: its locks broken, its unrecorded snapshots unused by other hosts
 * removed, then the image itself when nothing is left in it. Returns what went, or -errno. */
static int sweep_image(dvm_pool *pool, struct rbd_conn *c, const char *img, const struct rbd_ref *refs, int nrefs)
{
        _cleanup_free_ char *snaps = NULL;
        int n, r, gone = 0;
        bool released;

        if ((r = rbdc_lock_break(pool->ctx, c, img)) < 0)
                return r;
        if (r > 0)
                ctx_info(pool->ctx, "pool %s: rbd image %s: the lock of a killed process broken", pool->name, img);
        if ((n = rbdc_snap_names(pool->ctx, c, img, &snaps)) < 0)
                return n;
        int left = n;
        for (const char *s = snaps; n-- > 0; s += strlen(s) + 1) {
                if (recorded(refs, nrefs, img, s))
                        continue;
                if ((r = rbdc_use_count(pool->ctx, c, img, s, &released)) < 0)
                        return r;
                if (r > 0)
                        continue; /* released to the hosts that use it */
                if ((r = rbdc_snap_remove(pool->ctx, c, img, s)) < 0)
                        return r;
                rbdc_use_set(pool->ctx, c, img, s, NULL, false);
                ctx_info(pool->ctx, "pool %s: leftover rbd snapshot %s@%s removed", pool->name, img, s);
                gone++;
                left--;
        }
        if (left > 0 || recorded(refs, nrefs, img, NULL))
                return gone;
        if ((r = remove_image(pool, c, img)) < 0)
                return r;
        ctx_info(pool->ctx, "pool %s: leftover rbd image %s removed", pool->name, img);
        struct rbd_ref ref = {};
        snprintf(ref.image, sizeof(ref.image), "%s", img);
        r = rbd_follow_image_gone(pool, c, &ref);
        return r < 0 ? r : gone + 1;
}

/* whether snapshot @s of @img is mapped on this machine: a use that stands for a running
 * layer (of this pool, or of another pool of this host name) */
static int mapped_here(dvm_pool *pool, struct rbd_conn *c, const char *img, const char *s)
{
        int r = rbdmap_snap_mapped(pool->ctx, rbdc_pool_name(c), img, s);
        return r == -ENODEV ? 0 : r;
}

/* this host's uses of other hosts' snapshots that no layer of the catalog records and no
 * mapping here stands for: taken by a start whose catalog transaction never committed (a
 * spawn killed, or failed, after it followed a new commit). Dropped, so that the owner's
 * release is not kept forever; a released snapshot left unused goes. */
static int sweep_uses(dvm_pool *pool, struct rbd_conn *c, const char *host, const char *own,
                      const struct rbd_ref *refs, int nrefs)
{
        _cleanup_free_ char *names = NULL;
        int n = rbdc_image_list(pool->ctx, c, "dvm.", &names), k, r, gone = 0;
        bool released;

        if (n < 0)
                return n;
        for (const char *img = names; n-- > 0; img += strlen(img) + 1) {
                _cleanup_free_ char *snaps = NULL;
                if (strncmp(img, own, strlen(own)) == 0)
                        continue;
                if ((k = rbdc_use_of_host(pool->ctx, c, img, host, &snaps)) < 0)
                        return k;
                for (const char *s = snaps; k-- > 0; s += strlen(s) + 1) {
                        struct rbd_ref ref = {};
                        if (recorded(refs, nrefs, img, s))
                                continue;
                        if ((r = mapped_here(pool, c, img, s)) != 0) {
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if ((r = rbdc_use_set(pool->ctx, c, img, s, host, false)) < 0 ||
                            (r = rbdc_use_count(pool->ctx, c, img, s, &released)) < 0)
                                return r;
                        ctx_info(pool->ctx, "pool %s: a use of rbd snapshot %s@%s that no layer records dropped",
                                 pool->name, img, s);
                        gone++;
                        snprintf(ref.image, sizeof(ref.image), "%s", img);
                        snprintf(ref.snap, sizeof(ref.snap), "%s", s);
                        if (r == 0 && released && (r = rbd_follow_unused(pool, c, &ref)) < 0)
                                return r;
                }
        }
        return gone;
}

int rbd_sweep(dvm_pool *pool, struct rbd_conn *c)
{
        _cleanup_free_ struct rbd_ref *refs = NULL;
        _cleanup_free_ char *names = NULL;
        char host[64], prefix[200];
        int n, nrefs, r, gone = 0;

        if ((r = rbd_backend_host(pool, host, sizeof(host))) < 0)
                return r;
        snprintf(prefix, sizeof(prefix), "dvm.%s.%s.", host, pool->name);
        if ((nrefs = catalog_refs(pool, &refs)) < 0)
                return nrefs;
        if ((n = rbdc_image_list(pool->ctx, c, prefix, &names)) < 0)
                return n;
        for (const char *img = names; n-- > 0; img += strlen(img) + 1) {
                const char *id = img + strlen(prefix);
                if (!*id || strspn(id, "0123456789") != strlen(id))
                        continue; /* another pool's, whose name goes on with a '.' */
                if ((r = sweep_image(pool, c, img, refs, nrefs)) < 0)
                        return r;
                gone += r;
        }
        snprintf(prefix, sizeof(prefix), "dvm.%s.", host);
        if ((r = sweep_uses(pool, c, host, prefix, refs, nrefs)) < 0)
                return r;
        return gone + r;
}
