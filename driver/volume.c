// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Thin volumes: thin-pool messages for one id (create, snapshot, delete) and the dm
 * device that exposes an id. Devices are named and tagged with our UUID prefix.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dm.h"
#include "target.h"
#include "thin.h"
#include "volume.h"

char *volume_dm_name(const dvm_pool *pool, const char *vm, const char *vol, char *buf, size_t len)
{
        snprintf(buf, len, "%s-%s-%s", pool->dm_name, vm, vol);
        return buf;
}

char *volume_path(const dvm_pool *pool, const char *vm, const char *vol, char *buf, size_t len)
{
        char name[VOLUME_DM_NAME_MAX];
        snprintf(buf, len, "/dev/mapper/%s", volume_dm_name(pool, vm, vol, name, sizeof(name)));
        return buf;
}

static int send(dvm_pool *pool, int n, const char *msg)
{
        return n < 0 ? n : pool_message(pool, msg);
}

int volume_thin_create(dvm_pool *pool, int64_t id)
{
        char msg[64];
        return send(pool, thin_msg_create((uint32_t)id, msg, sizeof(msg)), msg);
}

int volume_thin_delete(dvm_pool *pool, int64_t id)
{
        char msg[64];
        return send(pool, thin_msg_delete((uint32_t)id, msg, sizeof(msg)), msg);
}

int volume_thin_snap(dvm_pool *pool, int64_t id, int64_t origin, const char *origin_dm)
{
        char msg[64];
        bool suspended = false;
        int n = thin_msg_snap((uint32_t)id, (uint32_t)origin, msg, sizeof(msg)), r;

        if (n < 0)
                return n;
        /* dm-thin requires an active origin to be suspended so that the snapshot does not
         * race with writes in flight (thin-provisioning.rst). */
        if (origin_dm && dm_info(pool->ctx, origin_dm, NULL) == 0) {
                r = dm_suspend(pool->ctx, origin_dm);
                if (r < 0)
                        return r;
                suspended = true;
        }
        r = pool_message(pool, msg);
        if (suspended) {
                int q = dm_resume(pool->ctx, origin_dm);
                if (r >= 0)
                        r = q;
        }
        return r;
}

int volume_activate(dvm_pool *pool, const char *vm, const char *vol, int64_t id, uint64_t size,
                    bool read_only)
{
        char name[VOLUME_DM_NAME_MAX], uuid[VOLUME_DM_NAME_MAX + 16], params[64];
        int n = thin_table_params(pool->major, pool->minor, (uint32_t)id, params, sizeof(params));

        if (n < 0)
                return n;
        volume_dm_name(pool, vm, vol, name, sizeof(name));
        /* The thin id in the UUID ties the device to one layer: a device left from an
         * earlier layer never passes for the current one. */
        snprintf(uuid, sizeof(uuid), "%s-%" PRId64, name, id);
        struct dm_table_line line = { 0, size >> SECTOR_SHIFT, "thin", params };
        return dm_create(pool->ctx, name, uuid, &line, 1, read_only, NULL);
}

int volume_deactivate(dvm_pool *pool, const char *vm, const char *vol)
{
        char name[VOLUME_DM_NAME_MAX];
        int r = dm_remove(pool->ctx, volume_dm_name(pool, vm, vol, name, sizeof(name)));
        return r == -ENXIO ? 0 : r;
}

int volume_usage(dvm_pool *pool, const char *vm, const char *vol, uint64_t *ret_bytes)
{
        _cleanup_free_ char *type = NULL, *params = NULL;
        char name[VOLUME_DM_NAME_MAX];
        struct thin_status st;
        int r = dm_status(pool->ctx, volume_dm_name(pool, vm, vol, name, sizeof(name)), &type, &params);

        if (r < 0)
                return r;
        if (thin_status_parse(params, &st) < 0 || st.failed)
                return ctx_error(pool->ctx, -EIO, "%s: thin status \"%s\"", name, params);
        *ret_bytes = st.mapped_sectors << SECTOR_SHIFT;
        return 0;
}
