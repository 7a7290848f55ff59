// SPDX-License-Identifier: GPL-2.0-or-later
/* The layer -> image@snapshot map of rbd pools, in the catalog's settings. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/rbd_layers.h"
#include "util/text.h"

#define LIST_KEY "rbd.layers"

static void key_of(int64_t id, char *buf, size_t len)
{
        snprintf(buf, len, "rbd.layer.%" PRId64, id);
}

int rbd_layer_get(dvm_pool *pool, int64_t id, struct rbd_ref *ret)
{
        _cleanup_free_ char *v = NULL;
        char key[48];
        int r;

        key_of(id, key, sizeof(key));
        r = catalog_meta_get(pool->cat, key, &v);
        if (r < 0)
                return r;
        char *at = strchr(v, '@');
        if (!at || at == v || !at[1] || (size_t)(at - v) >= sizeof(ret->image) || strlen(at + 1) >= sizeof(ret->snap))
                return ctx_error(pool->ctx, -EUCLEAN, "pool %s: catalog setting %s is not image@snapshot", pool->name,
                                 key);
        *at = 0;
        snprintf(ret->image, sizeof(ret->image), "%s", v);
        snprintf(ret->snap, sizeof(ret->snap), "%s", at + 1);
        return 0;
}

static int cmp_id(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

int rbd_layer_ids(dvm_pool *pool, int64_t **ret_ids)
{
        _cleanup_free_ char *v = NULL;
        _cleanup_free_ int64_t *ids = NULL;
        size_t n = 0, cap = 1;
        int r = catalog_meta_get(pool->cat, LIST_KEY, &v);

        if (r < 0 && r != -ENOENT)
                return r;
        for (const char *p = v ? v : ""; *p; p++)
                cap += *p == ' ';
        ids = calloc(cap, sizeof(*ids));
        if (!ids)
                return -ENOMEM;
        for (const char *p = v ? v : ""; *p;) {
                const char *end;
                uint64_t id;
                if (*p == ' ') {
                        p++;
                        continue;
                }
                if (text_parse_u64(p, &end, &id) < 0 || (*end && *end != ' ') || id > INT64_MAX || n == cap)
                        return ctx_error(pool->ctx, -EUCLEAN, "pool %s: catalog setting " LIST_KEY " is malformed",
                                         pool->name);
                ids[n++] = (int64_t)id;
                p = end;
        }
        qsort(ids, n, sizeof(*ids), cmp_id);
        *ret_ids = TAKE_PTR(ids);
        return (int)n;
}

/* write the list @ids without @drop (-1: none) and with @add (-1: none) */
static int list_put(dvm_pool *pool, const int64_t *ids, int n, int64_t drop, int64_t add)
{
        _cleanup_free_ char *s = malloc((size_t)(n + 1) * 21 + 1);
        size_t len = 0;

        if (!s)
                return -ENOMEM;
        s[0] = 0;
        for (int i = 0; i < n; i++)
                if (ids[i] != drop && ids[i] != add)
                        len += (size_t)sprintf(s + len, "%s%" PRId64, len ? " " : "", ids[i]);
        if (add >= 0)
                sprintf(s + len, "%s%" PRId64, len ? " " : "", add);
        return catalog_meta_set(pool->cat, LIST_KEY, s);
}

int rbd_layer_set(dvm_pool *pool, int64_t id, const struct rbd_ref *ref)
{
        _cleanup_free_ int64_t *ids = NULL;
        char key[48], value[sizeof(ref->image) + sizeof(ref->snap) + 1];
        int n = rbd_layer_ids(pool, &ids), r;

        if (n < 0)
                return n;
        key_of(id, key, sizeof(key));
        snprintf(value, sizeof(value), "%s@%s", ref->image, ref->snap);
        if ((r = catalog_meta_set(pool->cat, key, value)) < 0)
                return r;
        return list_put(pool, ids, n, -1, id);
}

int rbd_layer_forget(dvm_pool *pool, int64_t id)
{
        _cleanup_free_ int64_t *ids = NULL;
        char key[48];
        int n = rbd_layer_ids(pool, &ids), r;

        if (n < 0)
                return n;
        key_of(id, key, sizeof(key));
        if ((r = catalog_meta_delete(pool->cat, key)) < 0)
                return r;
        return list_put(pool, ids, n, id, -1);
}
