/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Xen toolstack, through libxenlight: finding a running domain and adding or removing
 * one of its disks (libxl runs the disk's hotplug script). libxl's log goes to the
 * context. The only file that includes <libxl.h>.
 */
#ifndef DVM_XEN_LIGHT_H
#define DVM_XEN_LIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/ctx.h"

typedef struct xlight xlight;

/** A disk for xlight_disk_add(): a phy disk served through a hotplug script. */
struct xlight_disk {
        const char *target; /* libxl's pdev_path: what the script reads as "params" */
        const char *vdev;   /* xvda, ... */
        const char *script; /* looked up in Xen's script directory unless it has a '/' */
        bool rw;
};

/**
 * xlight_open() - a libxenlight context. Returns 0 and the handle, or -ENODEV with a
 * message when there is no Xen toolstack here.
 */
int xlight_open(dvm_ctx *ctx, xlight **ret_xl);

/** xlight_close() - free the context; NULL is a no-op. Returns NULL. */
xlight *xlight_close(xlight *xl);

/**
 * xlight_domain() - the running guest domain @domain names (a domain id or a name).
 * Returns 0 and its id and name (@ret_name: DVM_NAME_MAX + 1 bytes), -ENOENT when there is
 * no such domain, -EINVAL for domain 0.
 */
int xlight_domain(xlight *xl, const char *domain, uint32_t *ret_domid, char *ret_name);

/**
 * xlight_disk_add() - add disk @d to domain @domid and wait until its hotplug script has
 * run. Returns 0, -EEXIST when the domain has a disk @d->vdev, or -errno with a message
 * that carries the script's hotplug-error.
 */
int xlight_disk_add(xlight *xl, uint32_t domid, const struct xlight_disk *d);

/**
 * xlight_disk_remove() - unplug disk @vdev of domain @domid (the frontend lets go first,
 * then the hotplug script's remove runs). Returns 0, -ENOENT when there is no such disk,
 * or -errno.
 */
int xlight_disk_remove(xlight *xl, uint32_t domid, const char *vdev);

DEFINE_CLEANUP(xlight *, xlight_close)
#define _cleanup_xlight_ _cleanup_(xlight_closep)

#endif
