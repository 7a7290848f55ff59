// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a live thin-pool says about itself, for recovery: its transaction id (read from its
 * status, moved by a message) and the thin ids its metadata holds (read through a metadata
 * snapshot held only while we read). The thin backend's txn_get, txn_set and layer_list.
 */
#include <stdio.h>
#include <string.h>

#include "dm.h"
#include "loop.h"
#include "thin_hold.h"
#include "thin_meta.h"
#include "thin_pool.h"
#include "thin_state.h"

int thin_state_txn_get(dvm_pool *pool, uint64_t *ret_id)
{
        _cleanup_free_ char *type = NULL, *params = NULL;
        struct thin_pool_status st;
        int r = dm_status(pool->ctx, pool->dm_name, &type, &params);

        if (r < 0)
                return ctx_error(pool->ctx, r, "pool %s: cannot read the status of %s: %m", pool->name, pool->dm_name);
        if (strcmp(type, "thin-pool") != 0 || thin_pool_status_parse(params, &st) < 0)
                return ctx_error(pool->ctx, -EIO, "pool %s: status \"%s %s\" is not a thin-pool's", pool->name, type,
                                 params);
        *ret_id = st.transaction_id;
        return 0;
}

int thin_state_txn_set(dvm_pool *pool, uint64_t old_id, uint64_t new_id)
{
        char msg[64];
        int n = thin_pool_msg_set_transaction_id(old_id, new_id, msg, sizeof(msg));

        return n < 0 ? n : pool_message(pool, msg);
}

/* The pool's metadata device: the loop over its file, or the device it was given. */
static int metadata_path(dvm_pool *pool, char *buf, size_t len)
{
        _cleanup_free_ char *meta = NULL, *files = NULL;
        struct loop_dev l;
        int r;

        if ((r = catalog_meta_get(pool->cat, "metadata", &meta)) < 0 ||
            (r = catalog_meta_get(pool->cat, "file_backed", &files)) < 0)
                return ctx_error(pool->ctx, r, "pool %s: catalog lacks its metadata device: %m", pool->name);
        if (strcmp(files, "1") != 0) {
                snprintf(buf, len, "%s", meta);
                return 0;
        }
        r = loop_find(pool->ctx, meta, &l);
        if (r < 0)
                return ctx_error(pool->ctx, r, "pool %s: no loop device over %s: %m", pool->name, meta);
        snprintf(buf, len, "%s", l.path);
        return 0;
}

int thin_state_layers(dvm_pool *pool, int64_t **ret_ids)
{
        _cleanup_(thin_meta_freep) struct thin_meta *m = NULL;
        _cleanup_free_ struct thin_meta_device *devs = NULL;
        _cleanup_free_ int64_t *ids = NULL;
        char path[4096];
        int n = 0, r = metadata_path(pool, path, sizeof(path)), q;

        if (r < 0)
                return r;
        r = thin_hold(pool->ctx, pool->dm_name);
        if (r < 0)
                return r;
        r = thin_meta_open(pool->ctx, path, THIN_META_HELD_ROOT, &m);
        if (r >= 0)
                r = n = thin_meta_list_devices(m, &devs);
        m = thin_meta_free(m);
        q = thin_unhold(pool->ctx, pool->dm_name);
        if (r < 0 || q < 0)
                return r < 0 ? r : q;
        ids = calloc((size_t)n + 1, sizeof(*ids));
        if (!ids)
                return -ENOMEM;
        for (int i = 0; i < n; i++)
                ids[i] = (int64_t)devs[i].id;
        *ret_ids = TAKE_PTR(ids);
        return n;
}
