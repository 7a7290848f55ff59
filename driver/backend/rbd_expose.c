// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The devices of an rbd pool's layers. A device over a mapping is made while the mapping is
 * held open (rbd_origin_get()): the kernel refuses to unmap an open device, so a concurrent
 * last user's put cannot pull it away before the table holds it. The mapping a device stood
 * on is read back from its table at removal: no cluster round trip to take a device down.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "backend/rbd_backend.h"
#include "backend/rbd_origin.h"
#include "kernel/dm.h"
#include "kernel/linear.h"
#include "kernel/thin.h"
#include "util/text.h"

static int over_mapping(dvm_pool *pool, const char *dm_name, const struct layer *l, const struct rbd_ref *ref,
                        bool snapshot_itself, bool read_only)
{
        struct rbd_origin o;
        struct rbd_conn *c;
        char uuid[DM_NAME_MAX + 32], params[96];
        int r;

        if ((r = rbd_backend_conn(pool, &c)) < 0 || (r = rbd_origin_get(pool->ctx, c, ref->image, ref->snap, &o)) < 0)
                return r;
        r = snapshot_itself ? linear_table_params(o.map.major, o.map.minor, 0, params, sizeof(params))
                            : thin_table_params_origin(pool->major, pool->minor, (uint32_t)l->id, o.map.major,
                                                       o.map.minor, params, sizeof(params));
        if (r >= 0) {
                snprintf(uuid, sizeof(uuid), "%s-%" PRId64, dm_name, l->id);
                struct dm_table_line line = { 0, l->size >> SECTOR_SHIFT, snapshot_itself ? "linear" : "thin",
                                               params };
                r = dm_create(pool->ctx, dm_name, uuid, &line, 1, read_only || snapshot_itself, NULL);
        }
        rbd_origin_release(&o);
        if (r < 0)
                rbd_origin_put(pool->ctx, &o.map);
        return r;
}

int rbd_expose(dvm_pool *pool, const char *dm_name, const struct layer *l, bool read_only)
{
        struct rbd_ref ref;
        int r = rbd_backend_layer(pool, l->id, &ref);

        if (r != 0)
                return r < 0 ? r : over_mapping(pool, dm_name, l, &ref, true, read_only);
        r = rbd_backend_layer(pool, l->origin, &ref);
        if (r != 0)
                return r < 0 ? r : over_mapping(pool, dm_name, l, &ref, false, read_only);
        return backend_thin.activate(pool, dm_name, l, read_only);
}

/* The device number of the external origin (thin) or the device below (linear) of table
 * @type @params; 0 and nothing else when there is none. */
static int below(const char *type, const char *params, uint32_t *ret_major, uint32_t *ret_minor)
{
        char dev[3][32] = {};
        int n = sscanf(params, "%31s %31s %31s", dev[0], dev[1], dev[2]);
        const char *want = strcmp(type, "thin") == 0 && n == 3 ? dev[2] : strcmp(type, "linear") == 0 && n >= 1 ? dev[0] : NULL;

        if (!want)
                return 0;
        return sscanf(want, "%" SCNu32 ":%" SCNu32, ret_major, ret_minor) == 2 ? 1 : 0;
}

int rbd_unexpose(dvm_pool *pool, const char *dm_name)
{
        _cleanup_free_ char *type = NULL, *params = NULL;
        struct rbd_mapping m;
        uint32_t maj = 0, min = 0;
        int r = dm_table(pool->ctx, dm_name, &type, &params), on;

        if (r == -ENXIO)
                return 0;
        if (r < 0)
                return r;
        on = below(type, params, &maj, &min);
        r = dm_remove(pool->ctx, dm_name);
        if (r == -ENXIO)
                r = 0;
        if (r < 0 || !on)
                return r;
        r = rbdmap_by_devt(pool->ctx, maj, min, &m);
        if (r == -ENOENT || r == -ENODEV)
                return 0; /* not over an rbd mapping */
        if (r < 0)
                return r;
        r = rbd_origin_put(pool->ctx, &m);
        return r < 0 ? r : 0;
}
