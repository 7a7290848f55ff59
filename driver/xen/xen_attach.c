// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Handing a VM's volumes to a running Xen domain and taking them back, through libxl with
 * block-dvm as the disks' script (the hook does the claiming, as at domain creation); and
 * the xl disk lines that give a domain a disposable when it starts.
 */
#include <stdio.h>
#include <string.h>

#include "store/catalog_domain.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"
#include "xen/claim.h"
#include "xen/xen_light.h"
#include "xen/xen_params.h"

#define MAX_VOLUMES 3

static int vm_volumes(dvm_pool *pool, const char *name, int kind, struct cat_volume vols[MAX_VOLUMES])
{
        struct cat_vm vm;
        const char *why;
        char shown[4 * DVM_NAME_MAX + 8];
        int r;

        if (dvm_name_check(name, &why) < 0)
                return ctx_error(pool->ctx, -EINVAL, "invalid VM name \"%s\": %s",
                                 ctx_printable(name, shown, sizeof(shown)), why);
        r = catalog_vm_get(pool->cat, name, &vm);
        if (r == -ENOENT)
                return ctx_error(pool->ctx, -ENOENT, "VM %s does not exist in pool %s", name, pool->name);
        if (r < 0)
                return r;
        if (kind >= 0 && (int)vm.kind != kind)
                return ctx_error(pool->ctx, -EINVAL, "%s is a %s, not a DVM Template", name, dvm_vm_kind_name(vm.kind));
        return catalog_volume_list(pool->cat, name, vols, MAX_VOLUMES);
}

static int vdev_of(dvm_pool *pool, const char *base, unsigned i, char *buf, size_t len)
{
        int r = xen_vdev_nth(base ? base : "xvda", i, buf, len);
        if (r < 0)
                return ctx_error(pool->ctx, r, "virtual device base \"%s\": %s", base,
                                 r == -ERANGE ? "the devices after it run past z"
                                              : "expected xvd, sd or hd and one letter, e.g. xvda");
        return 0;
}

int dvm_xen_attach(dvm_pool *pool, const char *name, const char *domain, const char *vdev_base,
                   struct dvm_xen_disk ret_disks[3])
{
        _cleanup_xlight_ xlight *xl = NULL;
        struct cat_volume vols[MAX_VOLUMES];
        struct dvm_xen_disk disks[MAX_VOLUMES] = {};
        char dom_name[DVM_NAME_MAX + 1];
        uint32_t domid;
        int n = vm_volumes(pool, name, -1, vols), r = 0, i;

        if (n < 0)
                return n;
        for (i = 0; i < n; i++)
                if ((r = vdev_of(pool, vdev_base, (unsigned)i, disks[i].vdev, sizeof(disks[i].vdev))) < 0)
                        return r;
        if ((r = xlight_open(pool->ctx, &xl)) < 0 || (r = xlight_domain(xl, domain, &domid, dom_name)) < 0)
                return r;
        /* the hook refuses a shared writable volume too, but libxl would report only a failure */
        for (i = 0; i < n; i++) {
                struct claim_disk d = { .domid = domid, .devid = UINT32_MAX, .rw = vols[i].flags & DVM_VOL_RW };
                snprintf(d.vdev, sizeof(d.vdev), "%s", disks[i].vdev);
                if ((r = claim_check_sharing(pool, &vols[i], &d)) < 0)
                        return r;
        }
        for (i = 0; i < n; i++) {
                struct xen_target t = { .kind = XEN_TARGET_VOLUME };
                char target[DVM_POOL_NAME_MAX + DVM_NAME_MAX + 48];
                snprintf(t.pool, sizeof(t.pool), "%s", pool->name);
                snprintf(t.vm, sizeof(t.vm), "%s", name);
                snprintf(t.volume, sizeof(t.volume), "%s", vols[i].name);
                snprintf(disks[i].volume, sizeof(disks[i].volume), "%s", vols[i].name);
                disks[i].rw = vols[i].flags & DVM_VOL_RW;
                struct xlight_disk d = { xen_target_format(&t, target, sizeof(target)), disks[i].vdev, XEN_HOOK_SCRIPT,
                                         disks[i].rw };
                if ((r = xlight_disk_add(xl, domid, &d)) < 0)
                        break;
                ctx_info(pool->ctx, "%s/%s is disk %s of domain %u (%s)", name, vols[i].name, disks[i].vdev, domid,
                         dom_name);
        }
        if (r < 0) {
                char msg[sizeof(pool->ctx->last_error)];
                snprintf(msg, sizeof(msg), "%s", dvm_ctx_last_error(pool->ctx));
                while (i-- > 0)
                        if (xlight_disk_remove(xl, domid, disks[i].vdev) < 0)
                                ctx_warn(pool->ctx, "undoing the attach: %s", dvm_ctx_last_error(pool->ctx));
                return ctx_error(pool->ctx, r, "%s", msg);
        }
        if (ret_disks)
                memcpy(ret_disks, disks, sizeof(disks));
        return n;
}

int dvm_xen_detach(dvm_pool *pool, const char *name, const char *domain)
{
        _cleanup_xlight_ xlight *xl = NULL;
        _cleanup_free_ struct cat_attachment *att = NULL;
        struct cat_volume vols[MAX_VOLUMES];
        char dom_name[DVM_NAME_MAX + 1];
        uint32_t domid = 0;
        int n = vm_volumes(pool, name, -1, vols), r = 0, done = 0;

        if (n < 0 || (n = catalog_attachment_list(pool->cat, name, &att)) < 0)
                return n;
        if ((r = xlight_open(pool->ctx, &xl)) < 0 || (domain && (r = xlight_domain(xl, domain, &domid, dom_name)) < 0))
                return r;
        for (int i = 0; i < n; i++) {
                if (domain && att[i].domid != domid)
                        continue;
                int q = xlight_disk_remove(xl, att[i].domid, att[i].vdev);
                if (q < 0 && r == 0)
                        r = q;
                else if (q >= 0)
                        done++;
        }
        if (r < 0)
                return r;
        if (!done)
                return domain ? ctx_error(pool->ctx, -ENOENT, "%s is not attached to domain %s", name, domain)
                              : ctx_error(pool->ctx, -ENOENT, "%s is not attached to any domain", name);
        return done;
}

int dvm_xl_disks(dvm_pool *pool, const char *dvm, const char *vdev_base, char ***ret_lines)
{
        struct cat_volume vols[MAX_VOLUMES];
        _cleanup_free_ char **lines = NULL;
        int n = vm_volumes(pool, dvm, DVM_VM_DVM_TEMPLATE, vols), r;
        /* a disposable has the volumes of its DVM Template, all writable */
        static const char *const names[] = { "root", "private", "volatile" };

        if (n < 0)
                return n;
        lines = calloc(ARRAY_SIZE(names) + 1, sizeof(*lines));
        if (!lines)
                return -ENOMEM;
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                struct xen_target t = { .kind = XEN_TARGET_SPAWN };
                char vdev[16], line[256];
                snprintf(t.pool, sizeof(t.pool), "%s", pool->name);
                snprintf(t.vm, sizeof(t.vm), "%s", dvm);
                snprintf(t.volume, sizeof(t.volume), "%s", names[i]);
                if ((r = vdev_of(pool, vdev_base, (unsigned)i, vdev, sizeof(vdev))) < 0 ||
                    (r = xen_xl_disk_line(&t, vdev, true, line, sizeof(line))) < 0 || !(lines[i] = strdup(line))) {
                        dvm_strv_free(TAKE_PTR(lines));
                        return r < 0 ? r : -ENOMEM;
                }
        }
        *ret_lines = TAKE_PTR(lines);
        return (int)ARRAY_SIZE(names);
}
