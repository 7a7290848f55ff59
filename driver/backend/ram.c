// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * In-RAM disposables: a thin-pool per VM on two zram devices (metadata, data) whose data
 * size is the VM's memory limit, with error_if_no_space so that a write past the limit fails
 * at once with ENOSPC; layers are thin ids in it over external origins.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "backend/ram.h"
#include "backend/thin_owned.h"
#include "kernel/dm.h"
#include "kernel/target.h"
#include "kernel/thin.h"
#include "kernel/thin_pool.h"
#include "kernel/zram.h"
#include "store/catalog_volume.h"
#include "util/text.h"

#define RAM_BLOCK_SECTORS 128u /* 64 KiB: the smallest thin block */

char *ram_dm_name(const dvm_pool *pool, const char *vm, char *buf, size_t len)
{
        snprintf(buf, len, "%s-%s-ram", pool->dm_name, vm);
        return buf;
}

static char *origin_name(const dvm_pool *pool, const struct cat_volume *v, char *buf, size_t len)
{
        snprintf(buf, len, "%s-%s-%s-origin", pool->dm_name, v->vm, v->name);
        return buf;
}

static void limit_key(const char *vm, char *buf, size_t len)
{
        snprintf(buf, len, "ram_limit:%s", vm);
}

int ram_limit_set(dvm_pool *pool, const char *vm, uint64_t limit)
{
        char key[DVM_NAME_MAX + 16];
        limit_key(vm, key, sizeof(key));
        return catalog_meta_set_u64(pool->cat, key, limit);
}

int ram_limit_forget(dvm_pool *pool, const char *vm)
{
        char key[DVM_NAME_MAX + 16];
        limit_key(vm, key, sizeof(key));
        return catalog_meta_delete(pool->cat, key);
}

static uint64_t limit_get(dvm_pool *pool, const char *vm)
{
        char key[DVM_NAME_MAX + 16];
        uint64_t limit;

        limit_key(vm, key, sizeof(key));
        return catalog_meta_get_u64(pool->cat, key, &limit) < 0 ? RAM_LIMIT_DEFAULT : limit;
}

/* MemAvailable of /proc/meminfo, in bytes. */
static int mem_available(dvm_ctx *ctx, uint64_t *ret)
{
        char line[128];
        FILE *f = fopen("/proc/meminfo", "re");
        int r = -ENOENT;

        if (!f)
                return ctx_error(ctx, -errno, "cannot read /proc/meminfo: %m");
        while (r < 0 && fgets(line, sizeof(line), f)) {
                const char *p = line + 13, *end;
                uint64_t kib;
                if (strncmp(line, "MemAvailable:", 13) != 0)
                        continue;
                p += strspn(p, " ");
                if (text_parse_u64(p, &end, &kib) == 0 && kib <= UINT64_MAX / 1024) {
                        *ret = kib * 1024;
                        r = 0;
                }
        }
        fclose(f);
        return r < 0 ? ctx_error(ctx, r, "/proc/meminfo has no MemAvailable line") : 0;
}

static int check_ram(dvm_pool *pool, const char *vm, uint64_t need, uint64_t limit)
{
        char l[32], a[32];
        uint64_t avail = 0;
        int r = mem_available(pool->ctx, &avail);

        if (r < 0)
                return r;
        if (avail < need)
                return ctx_error(pool->ctx, -ENOSPC, "cannot keep %s in RAM: its memory limit of %s needs more than "
                                 "the %s of RAM available; give a smaller --ram-limit or free memory", vm,
                                 dvm_format_size(limit, l, sizeof(l)), dvm_format_size(avail, a, sizeof(a)));
        return 0;
}

/* The thin-pool over zram devices @meta and @data. */
static int ram_pool_create(dvm_pool *pool, const char *vm, const struct zram_dev *meta, const struct zram_dev *data,
                           uint64_t data_size)
{
        uint64_t block = RAM_BLOCK_SECTORS << SECTOR_SHIFT;
        struct thin_pool_table t = {
                .meta_major = meta->major, .meta_minor = meta->minor, .data_major = data->major,
                .data_minor = data->minor, .block_sectors = RAM_BLOCK_SECTORS,
                .low_water_blocks = data_size / block / 10, .error_if_no_space = true,
        };
        char name[DM_NAME_MAX], params[160];
        struct dm_table_line line = { 0, data_size >> SECTOR_SHIFT, "thin-pool", params };
        int r = thin_pool_table_params(&t, params, sizeof(params));

        if (r < 0)
                return ctx_error(pool->ctx, r, "%s: cannot build the table of its RAM pool: %m", vm);
        ram_dm_name(pool, vm, name, sizeof(name));
        return dm_create(pool->ctx, name, name, &line, 1, false, NULL);
}

int ram_pool_start(dvm_pool *pool, const char *vm)
{
        uint64_t limit = limit_get(pool, vm), block = RAM_BLOCK_SECTORS << SECTOR_SHIFT;
        uint64_t data_size = (MAX(limit, RAM_LIMIT_MIN) + block - 1) / block * block;
        uint64_t meta_size = thin_pool_metadata_size(data_size, block);
        struct zram_dev meta = { .index = -1 }, data = { .index = -1 };
        int r = target_require(pool->ctx, "thin-pool");

        if (r < 0)
                return r;
        r = check_ram(pool, vm, data_size + meta_size, limit);
        if (r < 0)
                return r;
        /* Pages the pool zeroes cost zram nothing; its limit leaves room for the allocator's
         * overhead on incompressible data, and the pool's data size is the real cap. */
        r = zram_add(pool->ctx, meta_size, meta_size, &meta);
        if (r >= 0)
                r = zram_add(pool->ctx, data_size, data_size + data_size / 16, &data);
        if (r >= 0)
                r = ram_pool_create(pool, vm, &meta, &data, data_size);
        if (r >= 0)
                return 0;
        if (data.index >= 0)
                zram_remove(pool->ctx, data.index);
        if (meta.index >= 0)
                zram_remove(pool->ctx, meta.index);
        return r;
}

int ram_pool_stop(dvm_pool *pool, const char *vm)
{
        _cleanup_free_ char *type = NULL, *params = NULL;
        char name[DM_NAME_MAX];
        struct thin_pool_table t;
        int r = dm_table(pool->ctx, ram_dm_name(pool, vm, name, sizeof(name)), &type, &params), meta, data;

        if (r == -ENXIO)
                return 0;
        if (r < 0)
                return ctx_error(pool->ctx, r, "%s: cannot read the table of its RAM pool %s: %m", vm, name);
        if (strcmp(type, "thin-pool") != 0 || thin_pool_table_parse(params, &t) < 0)
                return ctx_error(pool->ctx, -EINVAL, "%s: RAM pool %s has table \"%s %s\", not a thin-pool's", vm,
                                 name, type, params);
        meta = zram_index(pool->ctx, t.meta_major, t.meta_minor);
        data = zram_index(pool->ctx, t.data_major, t.data_minor);
        r = dm_remove(pool->ctx, name);
        if (r < 0 && r != -ENXIO)
                return r;
        /* what the VM wrote goes with the pages zram frees */
        r = 0;
        if (data >= 0)
                r = zram_remove(pool->ctx, data);
        if (meta >= 0) {
                int q = zram_remove(pool->ctx, meta);
                r = r < 0 ? r : q;
        }
        return r;
}

static int message(dvm_pool *pool, const struct cat_volume *v, int n, const char *msg)
{
        char name[DM_NAME_MAX];
        return n < 0 ? n : dm_message(pool->ctx, ram_dm_name(pool, v->vm, name, sizeof(name)), msg);
}

int ram_layer_create(dvm_pool *pool, const struct cat_volume *v, const struct layer *l)
{
        char msg[64];
        return message(pool, v, thin_msg_create((uint32_t)l->id, msg, sizeof(msg)), msg);
}

int ram_layer_delete(dvm_pool *pool, const struct cat_volume *v, int64_t id)
{
        char name[DM_NAME_MAX], msg[64];

        if (dm_info(pool->ctx, ram_dm_name(pool, v->vm, name, sizeof(name)), NULL) == -ENXIO)
                return 0;
        return message(pool, v, thin_msg_delete((uint32_t)id, msg, sizeof(msg)), msg);
}

int ram_activate(dvm_pool *pool, const struct cat_volume *v, const char *dm_name, const struct layer *l)
{
        char name[DM_NAME_MAX], origin[DM_NAME_MAX], params[96], uuid[DM_NAME_MAX + 24];
        struct layer committed = { .id = l->origin, .origin = -1, .size = l->size };
        struct dm_dev_info rp, od;
        int r = dm_info(pool->ctx, ram_dm_name(pool, v->vm, name, sizeof(name)), &rp);

        if (r < 0)
                return ctx_error(pool->ctx, r, "%s/%s: its RAM pool %s is not there: %m", v->vm, v->name, name);
        if (l->origin < 0) {
                r = thin_table_params(rp.major, rp.minor, (uint32_t)l->id, params, sizeof(params));
        } else {
                r = pool->ops->activate(pool, origin_name(pool, v, origin, sizeof(origin)), &committed, true);
                if (r < 0)
                        return r;
                r = dm_info(pool->ctx, origin, &od);
                if (r >= 0)
                        r = thin_table_params_origin(rp.major, rp.minor, (uint32_t)l->id, od.major, od.minor, params,
                                                     sizeof(params));
        }
        if (r >= 0) {
                snprintf(uuid, sizeof(uuid), "%s-%" PRId64, dm_name, l->id);
                struct dm_table_line line = { 0, l->size >> SECTOR_SHIFT, "thin", params };
                r = dm_create(pool->ctx, dm_name, uuid, &line, 1, false, NULL);
        }
        if (r < 0 && l->origin >= 0)
                pool->ops->deactivate(pool, origin, &committed);
        return r;
}

int ram_deactivate(dvm_pool *pool, const struct cat_volume *v, const char *dm_name, const struct layer *l)
{
        char origin[DM_NAME_MAX];
        struct layer committed = { .id = l->origin, .origin = -1, .size = l->size };
        int r = dm_remove(pool->ctx, dm_name);

        if (r < 0 && r != -ENXIO)
                return r;
        if (l->origin < 0)
                return 0;
        return pool->ops->deactivate(pool, origin_name(pool, v, origin, sizeof(origin)), &committed);
}

int ram_usage(dvm_pool *pool, const char *dm_name, uint64_t *ret_bytes)
{
        _cleanup_free_ char *type = NULL, *params = NULL;
        struct thin_status st;
        int r = dm_status(pool->ctx, dm_name, &type, &params);

        if (r < 0)
                return r;
        if (strcmp(type, "thin") != 0 || thin_status_parse(params, &st) < 0 || st.failed)
                return ctx_error(pool->ctx, -EIO, "%s: thin status \"%s %s\"", dm_name, type, params);
        *ret_bytes = st.mapped_sectors << SECTOR_SHIFT;
        return 0;
}

int ram_owned(dvm_pool *pool, const struct cat_volume *v, const struct layer *l, struct extent_list *ret)
{
        char name[DM_NAME_MAX];
        return thin_owned(pool->ctx, ram_dm_name(pool, v->vm, name, sizeof(name)), (uint32_t)l->id, -1, l->size,
                          ret);
}
