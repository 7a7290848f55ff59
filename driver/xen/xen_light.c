// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libxenlight: a context whose log lines go to ours (the last error kept for messages),
 * domain lookup, and synchronous disk add and remove. The only file that includes <libxl.h>.
 */
#include <libxl.h>
#include <libxl_utils.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/text.h"
#include "xen/xen_light.h"
#include "xen/xen_params.h"

/* libxl logs through a xentoollog_logger; ours forwards to the context. */
struct xl_logger {
        xentoollog_logger vtable;
        xlight *xl;
};

struct xlight {
        dvm_ctx *ctx;
        libxl_ctx *lx;
        struct xl_logger logger;
        char last_error[512]; /* libxl's last error line: it says why (e.g. the script's error) */
};

static void logger_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval, const char *context,
                            const char *format, va_list al) __attribute__((format(printf, 5, 0)));
static void logger_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval, const char *context,
                            const char *format, va_list al)
{
        xlight *xl = ((struct xl_logger *)logger)->xl;
        char msg[512];
        int n = vsnprintf(msg, sizeof(msg), format, al);

        if (n > 0 && errnoval >= 0 && (size_t)n < sizeof(msg))
                snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(errnoval));
        msg[strcspn(msg, "\n")] = 0;
        if (level >= XTL_ERROR)
                snprintf(xl->last_error, sizeof(xl->last_error), "%s", msg);
        /* errors reach the user once, in the message of the failing call */
        ctx_log(xl->ctx, level >= XTL_WARN && level < XTL_ERROR ? DVM_LOG_WARNING : DVM_LOG_DEBUG, "%s: %s",
                context ? context : "libxl", msg);
}

static void logger_progress(xentoollog_logger *logger _unused_, const char *context _unused_,
                            const char *doing_what _unused_, int percent _unused_, unsigned long done _unused_,
                            unsigned long total _unused_)
{
}

static void logger_destroy(xentoollog_logger *logger _unused_)
{
}

/* errno for a libxl error code */
static int xl_errno(int rc)
{
        switch (rc) {
        case ERROR_NOMEM: return -ENOMEM;
        case ERROR_INVAL: return -EINVAL;
        case ERROR_DEVICE_EXISTS: return -EEXIST;
        case ERROR_DOMAIN_NOTFOUND: case ERROR_NOTFOUND: return -ENOENT;
        case ERROR_TIMEDOUT: case ERROR_GUEST_TIMEDOUT: return -ETIMEDOUT;
        default: return -EIO;
        }
}

int xlight_open(dvm_ctx *ctx, xlight **ret_xl)
{
        xlight *xl = calloc(1, sizeof(*xl));
        int rc;

        if (!xl)
                return -ENOMEM;
        xl->ctx = ctx;
        xl->logger = (struct xl_logger){ .vtable = { logger_vmessage, logger_progress, logger_destroy }, .xl = xl };
        rc = libxl_ctx_alloc(&xl->lx, LIBXL_VERSION, 0, &xl->logger.vtable);
        if (rc) {
                int r = ctx_error(ctx, -ENODEV, "cannot reach the Xen toolstack (libxl: %s): this needs a Xen dom0",
                                  xl->last_error[0] ? xl->last_error : "no context");
                free(xl);
                return r;
        }
        *ret_xl = xl;
        return 0;
}

xlight *xlight_close(xlight *xl)
{
        if (xl) {
                libxl_ctx_free(xl->lx);
                free(xl);
        }
        return NULL;
}

static const char *why(xlight *xl)
{
        return xl->last_error[0] ? xl->last_error : "libxl gave no reason";
}

int xlight_domain(xlight *xl, const char *domain, uint32_t *ret_domid, char *ret_name)
{
        libxl_dominfo info;
        const char *end;
        uint64_t n;
        uint32_t domid;
        char *name;
        int rc;

        if (text_parse_u64(domain, &end, &n) == 0 && !*end) {
                if (n > XEN_DOMID_MAX)
                        return ctx_error(xl->ctx, -EINVAL, "domain %s: not a domain id (0..%u)", domain, XEN_DOMID_MAX);
                domid = (uint32_t)n;
        } else if (libxl_name_to_domid(xl->lx, domain, &domid) != 0) {
                return ctx_error(xl->ctx, -ENOENT, "there is no domain named \"%s\"", domain);
        }
        if (domid == 0)
                return ctx_error(xl->ctx, -EINVAL, "domain %s is dom0: disks go to guest domains only", domain);
        libxl_dominfo_init(&info);
        rc = libxl_domain_info(xl->lx, &info, domid);
        libxl_dominfo_dispose(&info);
        if (rc == ERROR_DOMAIN_NOTFOUND)
                return ctx_error(xl->ctx, -ENOENT, "there is no domain %u", domid);
        if (rc)
                return ctx_error(xl->ctx, xl_errno(rc), "domain %u: cannot get its state: %s", domid, why(xl));
        name = libxl_domid_to_name(xl->lx, domid);
        snprintf(ret_name, DVM_NAME_MAX + 1, "%s", name ? name : "");
        free(name);
        *ret_domid = domid;
        return 0;
}

int xlight_disk_add(xlight *xl, uint32_t domid, const struct xlight_disk *d)
{
        libxl_device_disk disk;
        int rc;

        libxl_device_disk_init(&disk);
        disk.pdev_path = strdup(d->target);
        disk.vdev = strdup(d->vdev);
        disk.script = strdup(d->script);
        disk.backend = LIBXL_DISK_BACKEND_PHY;
        disk.format = LIBXL_DISK_FORMAT_RAW;
        disk.readwrite = d->rw;
        if (!disk.pdev_path || !disk.vdev || !disk.script) {
                libxl_device_disk_dispose(&disk);
                return -ENOMEM;
        }
        xl->last_error[0] = 0;
        rc = libxl_device_disk_add(xl->lx, domid, &disk, NULL);
        libxl_device_disk_dispose(&disk);
        if (rc == ERROR_DEVICE_EXISTS)
                return ctx_error(xl->ctx, -EEXIST, "domain %u has a disk %s already", domid, d->vdev);
        if (rc)
                return ctx_error(xl->ctx, xl_errno(rc), "cannot add %s to domain %u as %s: %s", d->target, domid,
                                 d->vdev, why(xl));
        return 0;
}

int xlight_disk_remove(xlight *xl, uint32_t domid, const char *vdev)
{
        libxl_device_disk disk;
        int rc;

        libxl_device_disk_init(&disk);
        xl->last_error[0] = 0;
        rc = libxl_vdev_to_device_disk(xl->lx, domid, vdev, &disk);
        if (rc) {
                libxl_device_disk_dispose(&disk);
                return ctx_error(xl->ctx, -ENOENT, "domain %u has no disk %s", domid, vdev);
        }
        rc = libxl_device_disk_remove(xl->lx, domid, &disk, NULL);
        libxl_device_disk_dispose(&disk);
        if (rc)
                return ctx_error(xl->ctx, xl_errno(rc), "cannot remove disk %s of domain %u: %s", vdev, domid, why(xl));
        return 0;
}
