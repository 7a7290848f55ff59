// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a live thin-pool says about itself, for recovery: its transaction id (read from its
 * status, moved by a message) and the thin ids its metadata holds (read through a metadata
 * snapshot held only while we read). The thin backend's txn_get, txn_set and layer_list.
 */
#include <stdio.h>
#include <string.h>

#include "backend/thin_owned.h"
#include "backend/thin_state.h"
#include "format/thin_meta.h"
#include "kernel/dm.h"
#include "kernel/thin_pool.h"

int thin_state_txn_get(dvm_pool *pool, uint64_t *ret_id)
{
        _cleanup_free_ char *type = NULL, *params = NULL;
        struct thin_pool_status st;
        /* no metadata commit for it: a message (which moves the id) commits before it
         * returns, so the id in memory is the committed one */
        int r = dm_status_noflush(pool->ctx, pool->dm_name, &type, &params);

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

int thin_state_layers(dvm_pool *pool, int64_t **ret_ids)
{
        _cleanup_free_ struct thin_meta_device *devs = NULL;
        _cleanup_free_ int64_t *ids = NULL;
        struct thin_meta *m = NULL;
        int n, r = thin_owned_hold(pool->ctx, pool->dm_name, &m), q;

        if (r < 0)
                return r;
        r = n = thin_meta_list_devices(m, &devs);
        q = thin_owned_release(pool->ctx, pool->dm_name, m);
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
