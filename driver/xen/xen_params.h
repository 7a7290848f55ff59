/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The words of the Xen hand-off, as pure functions: the disk targets block-dvm serves
 * ("dvm:<pool>/<vm>/<volume>", "dvm-spawn:<pool>/<dvm-template>/<volume>"), the backend
 * paths libxl hands it, the access mode, virtual device names, and the xl disk lines.
 */
#ifndef DVM_XEN_PARAMS_H
#define DVM_XEN_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dvm.h"

#define XEN_TARGET_VOLUME_PREFIX "dvm:"
#define XEN_TARGET_SPAWN_PREFIX "dvm-spawn:"
/* Xen reserves domain ids from DOMID_FIRST_RESERVED (0x7ff0) on. */
#define XEN_DOMID_MAX 0x7fefu
/* The hook libxl runs for our disks, looked up in Xen's script directory. */
#define XEN_HOOK_SCRIPT "block-dvm"

enum xen_target_kind {
        XEN_TARGET_VOLUME, /* an existing volume of a VM */
        XEN_TARGET_SPAWN,  /* a volume of the disposable made for the domain */
};

/** A disk target, parsed. */
struct xen_target {
        enum xen_target_kind kind;
        char pool[DVM_POOL_NAME_MAX + 1];
        char vm[DVM_NAME_MAX + 1]; /* the VM, or the DVM Template of a spawn target */
        char volume[16];           /* root, private or volatile */
};

/** A vbd backend as libxl names it in XENBUS_PATH. */
struct xen_backend {
        uint32_t domid;
        uint32_t devid;
};

/**
 * xen_target_parse() - parse a disk target. Returns 0 and @ret_target, or -EINVAL with a
 * static reason in @ret_why (may be NULL).
 */
int xen_target_parse(const char *s, struct xen_target *ret_target, const char **ret_why);

/** xen_target_format() - the text of @t into @buf. Returns @buf ("" if it does not fit). */
char *xen_target_format(const struct xen_target *t, char *buf, size_t len);

/**
 * xen_backend_parse() - "backend/vbd/<domid>/<devid>" (no leading '/', decimal numbers
 * without leading zeros, a guest domain id). Returns 0 and @ret_backend, or -EINVAL.
 */
int xen_backend_parse(const char *xenbus_path, struct xen_backend *ret_backend);

/** xen_mode_parse() - the backend's "mode": "w" is writable, "r" read-only. Returns 0 or -EINVAL. */
int xen_mode_parse(const char *mode, bool *ret_rw);

/**
 * xen_vdev_nth() - the virtual device @n places after @base ("xvda" + 2 = "xvdc"): @base
 * is "xvd", "sd" or "hd" and one letter. Returns 0, or -EINVAL / -ERANGE past 'z'.
 */
int xen_vdev_nth(const char *base, unsigned n, char *buf, size_t len);

/**
 * xen_xl_disk_line() - the xl disk specification (xl-disk-configuration(5)) that hands
 * @t to a domain as @vdev through the hook; target= comes last, as xl requires.
 * Returns the length, or -ENOSPC when @buf is too small.
 */
int xen_xl_disk_line(const struct xen_target *t, const char *vdev, bool rw, char *buf, size_t len);

#endif
