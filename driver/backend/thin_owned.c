// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The byte ranges a thin layer owns, for the wipe and the inspector: the pool's metadata
 * device (from its table) read through our reader at a metadata snapshot that the pool
 * holds for as short a time as the read takes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "backend/thin_hold.h"
#include "backend/thin_owned.h"
#include "kernel/blkdev.h"
#include "kernel/dm.h"
#include "kernel/thin_pool.h"

int thin_owned_ranges(struct thin_meta *m, uint64_t id, uint64_t origin, uint64_t size,
                      struct extent_list *ret)
{
        _cleanup_(thin_meta_extents_free) struct thin_meta_extents e = { 0 };
        struct extent_list out = {};
        struct thin_meta_info info;
        uint64_t block;
        int r;

        thin_meta_get_info(m, &info);
        block = (uint64_t)info.data_block_size << SECTOR_SHIFT;
        r = thin_meta_owned(m, id, origin, &e);
        if (r < 0)
                return r;
        for (size_t i = 0; i < e.n;) {
                uint64_t vblock, length, off, len;
                i = thin_meta_extents_vrun(&e, i, &vblock, &length);
                if (vblock > UINT64_MAX / block || length > UINT64_MAX / block)
                        break;
                off = vblock * block;
                if (off >= size)
                        break;
                len = MIN(length * block, size - off);
                r = extent_add(&out, off, len);
                if (r < 0) {
                        extent_list_free(&out);
                        return r;
                }
        }
        *ret = out;
        return 0;
}

/* The metadata device of thin-pool @pool_dm, from its table. */
static int metadata_dev(dvm_ctx *ctx, const char *pool_dm, char *buf, size_t len)
{
        _cleanup_free_ char *type = NULL, *params = NULL;
        struct thin_pool_table t;
        int r = dm_table(ctx, pool_dm, &type, &params);

        if (r < 0)
                return ctx_error(ctx, r, "pool device %s: cannot read its table: %m", pool_dm);
        if (strcmp(type, "thin-pool") != 0 || thin_pool_table_parse(params, &t) < 0)
                return ctx_error(ctx, -EINVAL, "pool device %s: table \"%s %s\" is not a thin-pool's", pool_dm,
                                 type, params);
        return blkdev_node(ctx, t.meta_major, t.meta_minor, buf, len);
}

int thin_owned_hold(dvm_ctx *ctx, const char *pool_dm, struct thin_meta **ret)
{
        char path[300];
        int r = metadata_dev(ctx, pool_dm, path, sizeof(path));

        if (r < 0)
                return r;
        r = thin_hold(ctx, pool_dm);
        if (r < 0)
                return r;
        r = thin_meta_open(ctx, path, THIN_META_HELD_ROOT, ret);
        if (r < 0)
                thin_unhold(ctx, pool_dm);
        return r;
}

int thin_owned_release(dvm_ctx *ctx, const char *pool_dm, struct thin_meta *m)
{
        if (!m)
                return 0;
        thin_meta_free(m);
        return thin_unhold(ctx, pool_dm);
}

/* thin_owned_ranges() of @id in @m, with the pool named when it is not there */
static int owned_in(dvm_ctx *ctx, struct thin_meta *m, const char *pool_dm, uint32_t id, int64_t origin,
                    uint64_t size, struct extent_list *ret)
{
        int r = thin_owned_ranges(m, id, origin < 0 ? THIN_META_NO_ORIGIN : (uint64_t)origin, size, ret);

        if (r == -ENOENT)
                return ctx_error(ctx, r, "pool device %s: thin id %u%s is not in the pool metadata", pool_dm, id,
                                 origin >= 0 ? " or its origin" : "");
        return r;
}

int thin_owned(dvm_ctx *ctx, const char *pool_dm, uint32_t id, int64_t origin, uint64_t size,
               struct extent_list *ret)
{
        struct thin_meta *m = NULL;
        struct extent_list out = {};
        int r = thin_owned_hold(ctx, pool_dm, &m), q;

        if (r < 0)
                return r;
        r = owned_in(ctx, m, pool_dm, id, origin, size, &out);
        q = thin_owned_release(ctx, pool_dm, m);
        if (r >= 0 && q < 0)
                r = q;
        if (r < 0) {
                extent_list_free(&out);
                return r;
        }
        *ret = out;
        return 0;
}

int thin_layer_hold(dvm_pool *pool, bool hold)
{
        int r = 0;

        if (hold && !pool->held_meta)
                r = thin_owned_hold(pool->ctx, pool->dm_name, &pool->held_meta);
        else if (!hold && pool->held_meta) {
                r = thin_owned_release(pool->ctx, pool->dm_name, pool->held_meta);
                pool->held_meta = NULL;
        }
        return r;
}

int thin_layer_owned(dvm_pool *pool, const char *dm_name _unused_, const struct layer *l, struct extent_list *ret)
{
        if (pool->held_meta)
                return owned_in(pool->ctx, pool->held_meta, pool->dm_name, (uint32_t)l->id, l->origin, l->size, ret);
        return thin_owned(pool->ctx, pool->dm_name, (uint32_t)l->id, l->origin, l->size, ret);
}
