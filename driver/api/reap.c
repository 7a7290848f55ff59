// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reaping after a Xen domain that died without the toolstack's cleanup: udev sees its block
 * backend (vbd) go away and runs `dvm-vol reap`, which releases that disk in every pool as
 * block-dvm's remove would; the VM made for the domain goes with its last disk. Recovery
 * releases those of every domain whose backend is gone (claim_reap_dead()).
 */
#include <stdio.h>
#include <stdlib.h>

#include "api/reap.h"
#include "store/catalog_domain.h"
#include "xen/claim.h"
#include "xen/xen_params.h"

/* Release disk @devid of domain @domid (every disk of it when @devid < 0) in @pool. */
static int reap_pool(dvm_pool *pool, uint32_t domid, int64_t devid)
{
        _cleanup_free_ struct cat_attachment *atts = NULL;
        int n = catalog_attachment_list(pool->cat, NULL, &atts), done = 0, r = 0;

        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                char vm[DVM_NAME_MAX + 1] = "";
                int q;
                if (atts[i].domid != domid || (devid >= 0 && atts[i].devid != devid))
                        continue;
                q = claim_remove(pool, domid, atts[i].devid, vm);
                if (q < 0) {
                        r = r < 0 ? r : q;
                        continue;
                }
                ctx_info(pool->ctx, "pool %s: released disk %u of domain %u (%s)", pool->name, atts[i].devid, domid,
                         vm[0] ? vm : "nothing of ours");
                done++;
        }
        return r < 0 ? r : done;
}

static int reap(dvm_ctx *ctx, uint32_t domid, int64_t devid)
{
        char **names = NULL;
        int n = dvm_pool_list(ctx, &names), done = 0, r = 0;

        if (n < 0)
                return n;
        for (char **p = names; *p; p++) {
                dvm_pool *pool = NULL;
                int q = dvm_pool_open(ctx, *p, &pool);
                if (q >= 0)
                        q = reap_pool(pool, domid, devid);
                dvm_pool_close(pool);
                if (q < 0)
                        r = r < 0 ? r : q;
                else
                        done += q;
        }
        dvm_strv_free(names);
        return r < 0 ? r : done;
}

int dvm_reap_disk(dvm_ctx *ctx, const char *xenbus_path)
{
        struct xen_backend be;
        char shown[256];

        if (xen_backend_parse(xenbus_path, &be) < 0)
                return ctx_error(ctx, -EINVAL, "XENBUS_PATH \"%s\" is not backend/vbd/<guest domid>/<devid>",
                                 ctx_printable(xenbus_path ? xenbus_path : "", shown, sizeof(shown)));
        return reap(ctx, be.domid, be.devid);
}

int dvm_reap_domain(dvm_ctx *ctx, uint32_t domid)
{
        if (domid == 0 || domid > XEN_DOMID_MAX)
                return ctx_error(ctx, -EINVAL, "domain %u is not a guest domain id (1..%u)", domid, XEN_DOMID_MAX);
        return reap(ctx, domid, -1);
}
