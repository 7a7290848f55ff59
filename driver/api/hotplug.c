// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The block hotplug protocol of libxl (Xen docs/misc/block-scripts.txt) as block-dvm
 * speaks it: add reads the backend's params and mode, claims the volume, re-checks the
 * device's identity and publishes it to blkback in one transaction; failures land in
 * hotplug-error; remove releases the disk.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kernel/dev_identity.h"
#include "util/text.h"
#include "xen/claim.h"
#include "xen/xen_store.h"

#define VBD_DIR "backend/vbd"

DEFINE_CLEANUP(char **, dvm_strv_free)
DEFINE_CLEANUP(dvm_pool *, dvm_pool_close)

struct hotplug {
        dvm_ctx *ctx;
        xstore *xs;
        const char *be;           /* backend/vbd/<domid>/<devid> */
        struct xen_backend id;
};

static int read_key(struct hotplug *h, const char *key, char **ret)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", h->be, key);
        return xstore_read(h->xs, path, ret);
}

static int read_target(struct hotplug *h, struct xen_target *ret)
{
        _cleanup_free_ char *params = NULL;
        const char *why = NULL;
        char shown[512];
        int r = read_key(h, "params", &params);

        if (r == -ENOENT)
                return ctx_error(h->ctx, -EINVAL, "%s has no params: the disk names no target", h->be);
        if (r < 0)
                return r;
        if (xen_target_parse(params, ret, &why) < 0)
                return ctx_error(h->ctx, -EINVAL, "target \"%s\" of %s is not ours (%s): block-dvm serves "
                                 XEN_TARGET_VOLUME_PREFIX "<pool>/<vm>/<volume> and " XEN_TARGET_SPAWN_PREFIX
                                 "<pool>/<dvm-template>/<volume>",
                                 ctx_printable(params, shown, sizeof(shown)), h->be, why);
        return 0;
}

/* The disk as the domain asks for it: mode, virtual device, and who the domain is. */
static int read_disk(struct hotplug *h, struct claim_disk *ret)
{
        _cleanup_free_ char *mode = NULL, *vdev = NULL, *vm_path = NULL;
        struct claim_disk d = { .domid = h->id.domid, .devid = h->id.devid };
        char path[64];
        int r = read_key(h, "mode", &mode);

        if (r < 0 && r != -ENOENT)
                return r;
        if (r == -ENOENT || xen_mode_parse(mode, &d.rw) < 0)
                return ctx_error(h->ctx, -EINVAL, "%s: mode is \"%s\", neither r nor w", h->be, mode ? mode : "");
        r = read_key(h, "dev", &vdev);
        if (r < 0 && r != -ENOENT)
                return r;
        snprintf(d.vdev, sizeof(d.vdev), "%s", vdev ? vdev : "");
        /* a domain id comes back after its domain is gone; the UUID libxl gave it does not */
        snprintf(path, sizeof(path), "/local/domain/%u/vm", d.domid);
        r = xstore_read(h->xs, path, &vm_path);
        if (r == -ENOENT)
                return ctx_error(h->ctx, -ENOENT, "domain %u has no %s: is it being built by libxl?", d.domid, path);
        if (r < 0)
                return r;
        snprintf(d.dom_uuid, sizeof(d.dom_uuid), "%s", strrchr(vm_path, '/') ? strrchr(vm_path, '/') + 1 : vm_path);
        *ret = d;
        return 0;
}

/* Another backend serving device @mm ("<major hex>:<minor hex>") with a writable side. */
static int check_other_backends(struct hotplug *h, const char *mm, bool rw)
{
        _cleanup_(dvm_strv_freep) char **doms = NULL;
        int n = xstore_list(h->xs, VBD_DIR, &doms);

        for (int i = 0; i < n; i++) {
                _cleanup_(dvm_strv_freep) char **devs = NULL;
                char dir[128];
                snprintf(dir, sizeof(dir), VBD_DIR "/%s", doms[i]);
                int m = xstore_list(h->xs, dir, &devs);
                for (int j = 0; j < m; j++) {
                        _cleanup_free_ char *pd = NULL, *mode = NULL;
                        char be[192], key[224];
                        snprintf(be, sizeof(be), "%s/%s", dir, devs[j]);
                        snprintf(key, sizeof(key), "%s/physical-device", be);
                        if (strcmp(be, h->be) == 0 || xstore_read(h->xs, key, &pd) < 0 || strcmp(pd, mm) != 0)
                                continue;
                        snprintf(key, sizeof(key), "%s/mode", be);
                        bool other_rw = xstore_read(h->xs, key, &mode) < 0 || strcmp(mode, "r") != 0;
                        if (rw || other_rw)
                                return ctx_error(h->ctx, -EBUSY, "device %s is served %s by %s already: it cannot "
                                                 "also go %s to %s", mm, other_rw ? "writable" : "read-only", be,
                                                 rw ? "writable" : "read-only", h->be);
                }
                if (m < 0)
                        return m;
        }
        return n < 0 ? n : 0;
}

/* How long blkback may take to open a published device: well inside libxl's 40 s for the
 * whole hook, so that a failure still reaches hotplug-error. */
#define BACKEND_OPEN_TIMEOUT_MS 10000u

/*
 * Check the claimed device and hand it to blkback. blkback opens the device itself, by
 * number, when its watch on physical-device fires, and ignores diskseq (Linux 6.1): were our
 * pin closed first, a destroy and a spawn in between could give the number to another VM's
 * volume. So the pin stays open until blkback shows the device opened (its sysfs attribute
 * physical_device exists only after the open), the number is re-checked, and only then is
 * hotplug-status written. discard-enable 0: no device of ours offers discards to a guest.
 */
static int publish(struct hotplug *h, const struct claim_result *c, bool rw)
{
        struct dev_identity id;
        char mm[32], seq[24], attr[128];
        _cleanup_close_ int fd = ident_open(h->ctx, c->path, &id);
        int r;

        if (fd < 0)
                return fd;
        if ((r = ident_check(h->ctx, c->path, &id, c->dm_name, c->layer_id)) < 0)
                return r;
        snprintf(mm, sizeof(mm), "%x:%x", id.major, id.minor);
        snprintf(seq, sizeof(seq), "%016" PRIx64, id.diskseq);
        ctx_debug(h->ctx, "%s: %s opened and its identity checked", h->be, c->path);
        if ((r = check_other_backends(h, mm, rw)) < 0)
                return r;
        ctx_debug(h->ctx, "%s: no other backend serves %s", h->be, mm);
        const struct xstore_pair keys[] = {
                { "physical-device", mm }, { "physical-device-path", c->path },
                { "discard-enable", "0" }, { "diskseq", seq },
        };
        if ((r = xstore_write(h->xs, h->be, keys, id.diskseq ? 4 : 3)) < 0)
                return r;
        ctx_debug(h->ctx, "%s: physical-device %s written", h->be, mm);
        snprintf(attr, sizeof(attr), "/sys/bus/xen-backend/devices/vbd-%u-%u/physical_device", h->id.domid,
                 h->id.devid);
        if ((r = ident_wait_opened(h->ctx, c->path, &id, attr, 1, BACKEND_OPEN_TIMEOUT_MS)) < 0 ||
            (r = ident_recheck(h->ctx, c->path, &id)) < 0)
                return r;
        r = xstore_write(h->xs, h->be, (const struct xstore_pair[]){ { "hotplug-status", "connected" } }, 1);
        if (r >= 0)
                ctx_info(h->ctx, "%s: %s/%s is %s (%s, diskseq %" PRIu64 ")%s", h->be, c->vm, c->volume, c->path, mm,
                         id.diskseq, c->made ? ", made for this domain" : "");
        return r;
}

static int add(struct hotplug *h)
{
        _cleanup_(dvm_pool_closep) dvm_pool *pool = NULL;
        struct xen_target t;
        struct claim_disk d;
        struct claim_result c;
        int r, q;

        if ((r = read_target(h, &t)) < 0 || (r = read_disk(h, &d)) < 0)
                return r;
        ctx_debug(h->ctx, "%s: params and disk read", h->be);
        if ((r = dvm_pool_open(h->ctx, t.pool, &pool)) < 0)
                return r;
        ctx_debug(h->ctx, "%s: pool %s open", h->be, t.pool);
        if ((r = claim_add(pool, &t, &d, &c)) < 0)
                return r;
        ctx_debug(h->ctx, "%s: %s/%s claimed", h->be, c.vm, c.volume);
        r = publish(h, &c, d.rw);
        if (r < 0) {
                /* nothing half-built: the failure message survives the undo */
                char msg[sizeof(h->ctx->last_error)];
                snprintf(msg, sizeof(msg), "%s", dvm_ctx_last_error(h->ctx));
                q = claim_remove(pool, d.domid, d.devid, NULL);
                if (q < 0)
                        ctx_warn(h->ctx, "%s: undoing the claim of %s/%s failed: %s", h->be, c.vm, c.volume,
                                 dvm_ctx_last_error(h->ctx));
                return ctx_error(h->ctx, r, "%s", msg);
        }
        return 0;
}

static int remove_disk(struct hotplug *h)
{
        _cleanup_(dvm_pool_closep) dvm_pool *pool = NULL;
        char vm[DVM_NAME_MAX + 1] = "";
        struct xen_target t;
        int r = read_target(h, &t);

        /* a disk whose add failed on its target was never ours to release */
        if (r < 0) {
                ctx_info(h->ctx, "%s: nothing of ours to release (%s)", h->be, dvm_ctx_last_error(h->ctx));
                return 0;
        }
        if ((r = dvm_pool_open(h->ctx, t.pool, &pool)) < 0)
                return r;
        /* the toolstack waits for this hook: a disposable it destroys is wiped by the worker */
        pool->destroy_later = true;
        if ((r = claim_remove(pool, h->id.domid, h->id.devid, vm)) < 0)
                return r;
        ctx_info(h->ctx, "%s: released%s%s", h->be, vm[0] ? " a volume of " : " (it held nothing)", vm);
        return 0;
}

int dvm_xen_hotplug(dvm_ctx *ctx, enum dvm_hotplug_action action, const char *xenbus_path)
{
        _cleanup_xstore_ xstore *xs = NULL;
        struct hotplug h = { .ctx = ctx, .be = xenbus_path };
        char shown[256];
        int r;

        if (xen_backend_parse(xenbus_path, &h.id) < 0)
                return ctx_error(ctx, -EINVAL, "XENBUS_PATH \"%s\" is not backend/vbd/<guest domid>/<devid>",
                                 ctx_printable(xenbus_path ? xenbus_path : "", shown, sizeof(shown)));
        if ((r = xstore_open(ctx, &xs)) < 0)
                return r;
        ctx_debug(ctx, "%s: xenstore open", xenbus_path);
        h.xs = xs;
        if (action == DVM_HOTPLUG_REMOVE)
                return remove_disk(&h);
        r = add(&h);
        if (r < 0) {
                const struct xstore_pair keys[] = { { "hotplug-error", dvm_ctx_last_error(ctx) },
                                                    { "hotplug-status", "error" } };
                char msg[sizeof(ctx->last_error)];
                snprintf(msg, sizeof(msg), "%s", dvm_ctx_last_error(ctx));
                if (xstore_write(xs, h.be, keys, 2) < 0)
                        ctx_warn(ctx, "%s: cannot report the failure to libxl: %s", h.be, dvm_ctx_last_error(ctx));
                ctx_error(ctx, r, "%s", msg);
        }
        return r;
}
