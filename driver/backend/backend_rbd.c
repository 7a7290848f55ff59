// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rbd backend: a local thin-pool, as the thin backend makes it, for every running layer
 * (a disposable's writes never leave the host), and a Ceph pool for committed layers. A
 * layer committed into the cluster is a protected snapshot of an image (rbd_layers.h says
 * which); a running layer over it is a thin volume with the snapshot's kernel mapping as its
 * external origin, one mapping per host and snapshot (rbd_origin.h), gone with its last user.
 * A commit writes what the running layer holds into the image of its origin and snapshots it
 * (the whole device into a new image when the origin is local or not the image's newest).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/rbd_backend.h"
#include "backend/rbd_follow.h"
#include "backend/rbd_origin.h"
#include "backend/rbd_reap.h"
#include "backend/rbd_sweep.h"
#include "backend/thin_owned.h"
#include "ceph/rbd_commit.h"
#include "kernel/dm.h"

#define DEFAULT_CLIENT "admin"
#define DEFAULT_POOL "rbd"

int rbd_backend_conn(dvm_pool *pool, struct rbd_conn **ret)
{
        _cleanup_free_ char *conf = NULL, *client = NULL, *rpool = NULL;
        int r;

        if (!pool->rbd) {
                if ((r = catalog_meta_get(pool->cat, "rbd.conf", &conf)) < 0 ||
                    (r = catalog_meta_get(pool->cat, "rbd.client", &client)) < 0 ||
                    (r = catalog_meta_get(pool->cat, "rbd.pool", &rpool)) < 0)
                        return ctx_error(pool->ctx, r, "pool %s: catalog lacks its Ceph settings: %m", pool->name);
                r = rbdc_connect(pool->ctx, conf[0] ? conf : NULL, client, rpool, &pool->rbd);
                if (r < 0)
                        return r;
        }
        *ret = pool->rbd;
        return 0;
}

static const char *host_of(const struct dvm_pool_config *cfg, struct utsname *u)
{
        if (cfg->rbd_host)
                return cfg->rbd_host;
        return uname(u) == 0 ? u->nodename : "";
}

static int rbd_pool_unit(dvm_ctx *ctx, const char *name, const struct dvm_pool_config *cfg, uint64_t *ret_sectors)
{
        struct utsname u;
        const char *host = host_of(cfg, &u);
        char shown[200];

        /* the zero invariant is not kept here (a wipe that fails does not drop it): the
         * local thin pool that takes what disposables write zeroes new blocks */
        if (cfg->skip_zeroing == DVM_SKIP_ZEROING_YES)
                return ctx_error(ctx, -EINVAL, "pool %s: an rbd pool cannot skip block zeroing: it does not keep "
                                 "every free block of its local thin pool zero; leave --skip-zeroing out", name);
        if (cfg->rbd_pool && !rbdc_name_valid(cfg->rbd_pool))
                return ctx_error(ctx, -EINVAL, "pool %s: Ceph pool name \"%s\" is not valid", name,
                                 ctx_printable(cfg->rbd_pool, shown, sizeof(shown)));
        if (cfg->rbd_client && !rbdc_name_valid(cfg->rbd_client))
                return ctx_error(ctx, -EINVAL, "pool %s: Ceph client id \"%s\" is not valid", name,
                                 ctx_printable(cfg->rbd_client, shown, sizeof(shown)));
        if (!rbdc_name_valid(host) || strlen(host) > 63 || strchr(host, '.'))
                return ctx_error(ctx, -EINVAL, "pool %s: host name \"%s\" is not valid in image names: 1 to 63 "
                                 "characters without blanks, control characters, '.', '@' or '/'", name,
                                 ctx_printable(host, shown, sizeof(shown)));
        if (cfg->rbd_conf && access(cfg->rbd_conf, R_OK) < 0)
                return ctx_error(ctx, -errno, "pool %s: Ceph config %s: %m", name,
                                 ctx_printable(cfg->rbd_conf, shown, sizeof(shown)));
        return backend_thin.pool_unit(ctx, name, cfg, ret_sectors);
}

/* A host records its uses of other hosts' snapshots under its host name alone: two pools of
 * one host name on one Ceph pool would drop each other's uses, and a snapshot one of them
 * still maps could go. */
static int rbd_pool_clash(dvm_ctx *ctx, const char *name, const struct dvm_pool_config *cfg, const char *other,
                          catalog *cat)
{
        _cleanup_free_ char *host = NULL, *cpool = NULL;
        struct utsname u;
        const char *mine = host_of(cfg, &u), *want = cfg->rbd_pool ? cfg->rbd_pool : DEFAULT_POOL;

        if (catalog_meta_get(cat, "rbd.host", &host) < 0 || catalog_meta_get(cat, "rbd.pool", &cpool) < 0 ||
            strcmp(host, mine) != 0 || strcmp(cpool, want) != 0)
                return 0;
        return ctx_error(ctx, -EEXIST, "pool %s: host name %s on Ceph pool %s is pool %s's already: give another "
                         "--host (two pools of one host name would share their uses of other hosts' snapshots)",
                         name, mine, want, other);
}

static int rbd_pool_create(dvm_pool *p, const struct dvm_pool_config *cfg)
{
        struct dvm_pool_config local;
        struct rbd_conn *c;
        struct utsname u;
        int r;

        if ((r = catalog_meta_set(p->cat, "rbd.conf", cfg->rbd_conf ? cfg->rbd_conf : "")) < 0 ||
            (r = catalog_meta_set(p->cat, "rbd.client", cfg->rbd_client ? cfg->rbd_client : DEFAULT_CLIENT)) < 0 ||
            (r = catalog_meta_set(p->cat, "rbd.pool", cfg->rbd_pool ? cfg->rbd_pool : DEFAULT_POOL)) < 0 ||
            (r = catalog_meta_set(p->cat, "rbd.host", host_of(cfg, &u))) < 0)
                return r;
        /* the cluster must answer now, not at the first commit */
        if ((r = rbd_backend_conn(p, &c)) < 0)
                return r;
        local = *cfg;
        local.skip_zeroing = DVM_SKIP_ZEROING_NO;
        return backend_thin.pool_create(p, &local);
}

static void rbd_pool_close(dvm_pool *p)
{
        rbdc_free(p->rbd);
        p->rbd = NULL;
}

static void rbd_pool_destroy(dvm_pool *p)
{
        backend_thin.pool_destroy(p);
        rbd_pool_close(p);
}

/* Whether layer @id is in the cluster: 1 and @ret, 0 when it is local, or -errno. */
int rbd_backend_layer(dvm_pool *pool, int64_t id, struct rbd_ref *ret)
{
        int r;

        if (id < 0)
                return 0;
        r = rbd_layer_get(pool, id, ret);
        return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

static int rbd_layer_snap(dvm_pool *pool, const struct layer *l, const char *origin_dm)
{
        struct rbd_ref ref;
        int r = rbd_backend_layer(pool, l->origin, &ref);

        if (r < 0)
                return r;
        if (r == 0)
                return backend_thin.layer_snap(pool, l, origin_dm);
        /* a save_on_stop layer commits into the image: only its host may run one over it */
        if (l->keep && (r = rbd_refuse_foreign(pool, ref.image, "start a save_on_stop volume over it")) < 0)
                return r;
        /* empty: its unwritten blocks read from the mapped snapshot */
        return backend_thin.layer_new(pool, &(struct layer){ .id = l->id, .origin = -1, .size = l->size });
}

/* the new image of layer @id: "dvm.<host>.<pool>.<id>" */
static int image_name(dvm_pool *pool, int64_t id, char *buf, size_t len)
{
        _cleanup_free_ char *host = NULL;
        int r = catalog_meta_get(pool->cat, "rbd.host", &host);

        if (r < 0)
                return ctx_error(pool->ctx, r, "pool %s: catalog lacks its host name: %m", pool->name);
        if ((size_t)snprintf(buf, len, "dvm.%s.%s.%" PRId64, host, pool->name, id) >= len)
                return ctx_error(pool->ctx, -ENAMETOOLONG, "pool %s: image name of layer %" PRId64 " is too long",
                                 pool->name, id);
        return 0;
}

/* Write active layer @l (device @dm_name) into the cluster as @ret: into the head of its
 * origin's image when the origin is that image's newest snapshot, else as a new image. */
static int push(dvm_pool *pool, struct rbd_conn *c, const char *dm_name, const struct layer *l, struct rbd_ref *ret)
{
        struct layer own = { .id = l->id, .origin = -1, .size = l->size };
        struct extent_list ext = {};
        struct rbd_ref base;
        _cleanup_close_ int fd = dm_open(pool->ctx, dm_name, O_RDONLY);
        int r = rbd_backend_layer(pool, l->origin, &base);

        if (fd < 0)
                return ctx_error(pool->ctx, fd, "pool %s: cannot open %s to commit layer %" PRId64 ": %m", pool->name,
                                 dm_name, l->id);
        snprintf(ret->snap, sizeof(ret->snap), "L%" PRId64, l->id);
        if (r == 1 && (r = rbd_refuse_foreign(pool, base.image, "commit into it")) == 0) {
                r = thin_layer_owned(pool, dm_name, &own, &ext);
                if (r >= 0)
                        r = rbdc_image_commit(pool->ctx, c, base.image, base.snap, fd, &ext, ret->snap);
                extent_list_free(&ext);
                if (r >= 0) {
                        snprintf(ret->image, sizeof(ret->image), "%s", base.image);
                        return 0;
                }
                if (r != -ESTALE)
                        return r;
                ctx_info(pool->ctx, "pool %s: %s@%s is no longer its image's newest snapshot: layer %" PRId64
                         " goes into an image of its own", pool->name, base.image, base.snap, l->id);
        } else if (r < 0) {
                return r;
        }
        if ((r = image_name(pool, l->id, ret->image, sizeof(ret->image))) < 0)
                return r;
        /* a commit redone after a crash: done already, or a half-made image to make again */
        r = rbdc_image_state(pool->ctx, c, ret->image, ret->snap);
        if (r == 1)
                return 0;
        if (r == 0)
                r = rbdc_image_remove(pool->ctx, c, ret->image);
        if (r < 0 && r != -ENOENT)
                return r;
        if (l->origin >= 0) {
                r = rbdc_image_import_fd(pool->ctx, c, ret->image, fd, dm_name);
        } else {
                /* no origin: what it holds is what it maps (an import's empty private: nothing) */
                r = thin_layer_owned(pool, dm_name, &own, &ext);
                if (r >= 0)
                        r = rbdc_image_create_ranges(pool->ctx, c, ret->image, l->size, fd, &ext, dm_name);
                extent_list_free(&ext);
        }
        if (r < 0)
                return r;
        r = rbdc_snap_create(pool->ctx, c, ret->image, ret->snap, true);
        if (r < 0) {
                rbdc_snap_remove(pool->ctx, c, ret->image, ret->snap);
                rbdc_image_remove(pool->ctx, c, ret->image);
        }
        return r;
}

/* Running layer @l (inactive) becomes a snapshot in the cluster; its local thin id goes. */
/* the catalog setting that says committed layer @id still has its local thin id */
static const char *local_key(int64_t id, char *buf, size_t len)
{
        snprintf(buf, len, "rbd.local.%" PRId64, id);
        return buf;
}

/* Once the catalog holds the commit of layer @l: its local thin id goes. */
static int rbd_layer_tidy(dvm_pool *pool, const struct layer *l)
{
        _cleanup_free_ char *v = NULL;
        char key[48];
        int r = catalog_meta_get(pool->cat, local_key(l->id, key, sizeof(key)), &v);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = backend_thin.layer_delete(pool, l->id);
        if (r < 0) {
                /* gone already (a crash after the delete, before the catalog forgot it)? */
                _cleanup_free_ int64_t *ids = NULL;
                int n = backend_thin.layer_list(pool, &ids);
                for (int i = 0; i < n; i++)
                        if (ids[i] == l->id)
                                return r;
                if (n < 0)
                        return r;
        }
        return catalog_meta_delete(pool->cat, key);
}

static int rbd_layer_commit(dvm_pool *pool, const struct layer *l)
{
        char dm_name[DM_NAME_MAX], key[48];
        struct rbd_conn *c;
        struct rbd_ref ref;
        int r = rbd_backend_conn(pool, &c), q;

        if (r < 0)
                return r;
        snprintf(dm_name, sizeof(dm_name), "%s" COMMIT_MARK "%" PRId64, pool->dm_name, l->id);
        r = rbd_expose(pool, dm_name, l, true);
        if (r < 0)
                return r;
        r = push(pool, c, dm_name, l, &ref);
        q = rbd_unexpose(pool, dm_name);
        if (r >= 0)
                r = q;
        /* its thin id stays until the catalog holds the commit (rbd_layer_tidy()): a crash
         * before finds the layer as it ran, and the stop is done again */
        if (r >= 0)
                r = rbd_layer_set(pool, l->id, &ref);
        if (r >= 0)
                r = catalog_meta_set(pool->cat, local_key(l->id, key, sizeof(key)), "1");
        /* other hosts' templates of this name follow it */
        if (r >= 0)
                r = rbd_follow_publish(pool, c, l->id, &ref);
        if (r >= 0)
                ctx_info(pool->ctx, "pool %s: layer %" PRId64 " committed as rbd %s/%s@%s", pool->name, l->id,
                         rbdc_pool_name(c), ref.image, ref.snap);
        return r;
}

/* An import's layer: no stop to redo, so its thin id goes at once. */
static int rbd_layer_publish(dvm_pool *pool, const struct layer *l)
{
        struct layer own = { .id = l->id, .origin = -1, .size = l->size };
        int r = rbd_layer_commit(pool, &own);

        return r < 0 ? r : rbd_layer_tidy(pool, &own);
}

static int rbd_layer_delete(dvm_pool *pool, int64_t id)
{
        struct rbd_conn *c;
        struct rbd_ref ref;
        int r = rbd_backend_layer(pool, id, &ref);

        if (r <= 0)
                return r < 0 ? r : backend_thin.layer_delete(pool, id);
        if ((r = rbd_layer_tidy(pool, &(struct layer){ .id = id, .origin = -1 })) < 0 ||
            (r = rbd_backend_conn(pool, &c)) < 0)
                return r;
        /* another host's snapshot, or one of ours other hosts use: it stays */
        r = rbd_follow_delete(pool, c, id, &ref);
        if (r != 0)
                return r < 0 ? r : rbd_layer_forget(pool, id);
        r = rbdc_snap_remove(pool->ctx, c, ref.image, ref.snap);
        if (r < 0 && r != -ENOENT)
                return r;
        /* an image goes with its last snapshot */
        r = rbdc_image_snaps(pool->ctx, c, ref.image);
        if (r == 0 && (r = rbdc_image_remove(pool->ctx, c, ref.image)) >= 0)
                r = rbd_follow_image_gone(pool, c, &ref);
        if (r < 0 && r != -ENOENT)
                return r;
        return rbd_layer_forget(pool, id);
}

static int rbd_activate(dvm_pool *pool, const char *dm_name, const struct layer *l, bool read_only)
{
        return rbd_expose(pool, dm_name, l, read_only);
}

static int rbd_deactivate(dvm_pool *pool, const char *dm_name, const struct layer *l _unused_)
{
        return rbd_unexpose(pool, dm_name);
}

static int rbd_usage(dvm_pool *pool, const char *dm_name, const struct layer *l, uint64_t *ret_bytes)
{
        struct rbd_ref ref;
        int r = rbd_backend_layer(pool, l->id, &ref);

        if (r != 0) {
                *ret_bytes = 0; /* nothing of it is in the local pool */
                return r < 0 ? r : 0;
        }
        return backend_thin.usage(pool, dm_name, l, ret_bytes);
}

static int rbd_owned(dvm_pool *pool, const char *dm_name, const struct layer *l, struct extent_list *ret)
{
        struct rbd_ref ref;
        int r = rbd_backend_layer(pool, l->id, &ref);

        if (r != 0)
                return r < 0 ? r : ctx_error(pool->ctx, -EOPNOTSUPP, "pool %s: layer %" PRId64 " is rbd %s@%s: "
                                             "what it owns is not kept here", pool->name, l->id, ref.image, ref.snap);
        r = rbd_backend_layer(pool, l->origin, &ref);
        if (r < 0)
                return r;
        /* over an external origin, every block it maps is its own */
        struct layer own = { .id = l->id, .origin = r ? -1 : l->origin, .size = l->size };
        return thin_layer_owned(pool, dm_name, &own, ret);
}

static int cmp_id(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

/* The thin ids of the local pool and the layers in the cluster, sorted, once each. For
 * recovery, which asks: the mappings of dvm images that no device uses any more (a process
 * killed between a map and its table) go first, then what a killed process left in this
 * pool's images (rbd_sweep.h), and the pointers of this host's templates are put back on
 * their commits. */
static int rbd_layer_list(dvm_pool *pool, int64_t **ret_ids)
{
        _cleanup_free_ int64_t *local = NULL, *remote = NULL;
        struct rbd_conn *c;
        int nl, nr, n = 0, r;

        /* other hosts' images too, which this one maps for templates that follow theirs
         * (a mapping another pool uses stays: it is held, or pinned open while it is made) */
        r = rbd_origin_sweep(pool->ctx, "dvm.");
        if (r < 0)
                return r;
        if (r > 0)
                ctx_info(pool->ctx, "pool %s: %d unused rbd mapping(s) removed", pool->name, r);
        if ((r = rbd_backend_conn(pool, &c)) < 0 || (r = rbd_sweep(pool, c)) < 0 ||
            (r = rbd_follow_republish(pool, c)) < 0)
                return r;
        nl = backend_thin.layer_list(pool, &local);
        if (nl < 0)
                return nl;
        nr = rbd_layer_ids(pool, &remote);
        if (nr < 0)
                return nr;
        int64_t *all = malloc(((size_t)nl + (size_t)nr + 1) * sizeof(*all));
        if (!all)
                return -ENOMEM;
        memcpy(all, local, (size_t)nl * sizeof(*all));
        memcpy(all + nl, remote, (size_t)nr * sizeof(*all));
        qsort(all, (size_t)(nl + nr), sizeof(*all), cmp_id);
        for (int i = 0; i < nl + nr; i++)
                if (n == 0 || all[n - 1] != all[i])
                        all[n++] = all[i];
        *ret_ids = all;
        return n;
}

static int rbd_txn_get(dvm_pool *pool, uint64_t *ret_id)
{
        return backend_thin.txn_get(pool, ret_id);
}

static int rbd_txn_set(dvm_pool *pool, uint64_t old_id, uint64_t new_id)
{
        return backend_thin.txn_set(pool, old_id, new_id);
}

static int rbd_pool_activate(dvm_pool *pool)
{
        return backend_thin.pool_activate(pool);
}

static int rbd_pool_info(dvm_pool *pool, struct dvm_pool_info *info)
{
        return backend_thin.pool_info(pool, info);
}

static int rbd_layer_new(dvm_pool *pool, const struct layer *l)
{
        return backend_thin.layer_new(pool, l);
}

static int rbd_owned_hold(dvm_pool *pool, bool hold)
{
        return backend_thin.owned_hold(pool, hold);
}

const struct backend_ops backend_rbd = {
        .name = "rbd",
        .pool_unit = rbd_pool_unit,
        .pool_clash = rbd_pool_clash,
        .pool_create = rbd_pool_create,
        .pool_activate = rbd_pool_activate,
        .pool_info = rbd_pool_info,
        .pool_destroy = rbd_pool_destroy,
        .pool_close = rbd_pool_close,
        .layer_new = rbd_layer_new,
        .layer_snap = rbd_layer_snap,
        .layer_commit = rbd_layer_commit,
        .layer_delete = rbd_layer_delete,
        .layer_publish = rbd_layer_publish,
        .activate = rbd_activate,
        .deactivate = rbd_deactivate,
        .usage = rbd_usage,
        .owned = rbd_owned,
        .owned_hold = rbd_owned_hold,
        .txn_get = rbd_txn_get,
        .txn_set = rbd_txn_set,
        .layer_list = rbd_layer_list,
        .layer_tidy = rbd_layer_tidy,
        .follow = rbd_follow,
        .source_refresh = rbd_source_refresh,
        .source_moved = rbd_source_moved,
        .reap_host = rbd_reap_host,
};
