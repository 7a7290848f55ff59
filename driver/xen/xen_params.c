// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Parsing and formatting the words of the Xen hand-off: disk targets, backend paths, the
 * access mode, virtual device names and xl disk lines. Pure functions, no Xen needed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/text.h"
#include "xen/xen_params.h"

static const char *const volume_names[] = { "root", "private", "volatile" };

static int why(const char **ret_why, const char *reason)
{
        if (ret_why)
                *ret_why = reason;
        return -EINVAL;
}

/* Copy the part of @s up to @sep (or the end when @sep is 0) into @buf; set @ret_next. */
static int field(const char *s, char sep, char *buf, size_t len, const char **ret_next)
{
        const char *end = sep ? strchr(s, sep) : s + strlen(s);

        if (!end || (size_t)(end - s) >= len)
                return -EINVAL;
        memcpy(buf, s, (size_t)(end - s));
        buf[end - s] = 0;
        *ret_next = sep ? end + 1 : end;
        return 0;
}

int xen_target_parse(const char *s, struct xen_target *ret_target, const char **ret_why)
{
        struct xen_target t = {};
        const char *p, *reason;
        bool known = false;

        if (!s)
                return why(ret_why, "there is none");
        if (strncmp(s, XEN_TARGET_SPAWN_PREFIX, strlen(XEN_TARGET_SPAWN_PREFIX)) == 0) {
                t.kind = XEN_TARGET_SPAWN;
                p = s + strlen(XEN_TARGET_SPAWN_PREFIX);
        } else if (strncmp(s, XEN_TARGET_VOLUME_PREFIX, strlen(XEN_TARGET_VOLUME_PREFIX)) == 0) {
                t.kind = XEN_TARGET_VOLUME;
                p = s + strlen(XEN_TARGET_VOLUME_PREFIX);
        } else {
                return why(ret_why, "it starts with neither dvm: nor dvm-spawn:");
        }
        if (field(p, '/', t.pool, sizeof(t.pool), &p) < 0 || field(p, '/', t.vm, sizeof(t.vm), &p) < 0 ||
            field(p, 0, t.volume, sizeof(t.volume), &p) < 0)
                return why(ret_why, "it is not <pool>/<vm>/<volume>");
        if (dvm_pool_name_check(t.pool, &reason) < 0)
                return why(ret_why, "the pool name is invalid");
        if (dvm_name_check(t.vm, &reason) < 0)
                return why(ret_why, "the VM name is invalid");
        for (size_t i = 0; i < sizeof(volume_names) / sizeof(volume_names[0]); i++)
                known |= strcmp(t.volume, volume_names[i]) == 0;
        if (!known)
                return why(ret_why, "the volume is none of root, private, volatile");
        *ret_target = t;
        return 0;
}

char *xen_target_format(const struct xen_target *t, char *buf, size_t len)
{
        int n = snprintf(buf, len, "%s%s/%s/%s",
                         t->kind == XEN_TARGET_SPAWN ? XEN_TARGET_SPAWN_PREFIX : XEN_TARGET_VOLUME_PREFIX, t->pool,
                         t->vm, t->volume);
        if (n < 0 || (size_t)n >= len)
                buf[0] = 0;
        return buf;
}

/* A decimal number without sign, blanks or leading zeros, at most @max, ending at @stop. */
static int number(const char *s, char stop, uint64_t max, const char **ret_end, uint32_t *ret)
{
        uint64_t v;
        const char *end;

        if (s[0] == '0' && s[1] != stop)
                return -EINVAL;
        if (text_parse_u64(s, &end, &v) < 0 || *end != stop || v > max)
                return -EINVAL;
        *ret_end = end;
        *ret = (uint32_t)v;
        return 0;
}

int xen_backend_parse(const char *xenbus_path, struct xen_backend *ret_backend)
{
        static const char prefix[] = "backend/vbd/";
        struct xen_backend b;
        const char *p;

        if (!xenbus_path || strncmp(xenbus_path, prefix, strlen(prefix)) != 0)
                return -EINVAL;
        p = xenbus_path + strlen(prefix);
        if (number(p, '/', XEN_DOMID_MAX, &p, &b.domid) < 0 || number(p + 1, 0, INT32_MAX, &p, &b.devid) < 0)
                return -EINVAL;
        /* the hook never serves dom0 itself: a backend path of domain 0 is a forgery */
        if (b.domid == 0)
                return -EINVAL;
        *ret_backend = b;
        return 0;
}

int xen_mode_parse(const char *mode, bool *ret_rw)
{
        if (!mode || (strcmp(mode, "w") != 0 && strcmp(mode, "r") != 0))
                return -EINVAL;
        *ret_rw = mode[0] == 'w';
        return 0;
}

int xen_vdev_nth(const char *base, unsigned n, char *buf, size_t len)
{
        static const char *const kinds[] = { "xvd", "sd", "hd" };
        size_t k = 0, blen = base ? strlen(base) : 0;

        for (; k < sizeof(kinds) / sizeof(kinds[0]); k++)
                if (blen == strlen(kinds[k]) + 1 && strncmp(base, kinds[k], blen - 1) == 0)
                        break;
        if (k == sizeof(kinds) / sizeof(kinds[0]) || base[blen - 1] < 'a' || base[blen - 1] > 'z' || len <= blen)
                return -EINVAL;
        if (n > (unsigned)('z' - base[blen - 1]))
                return -ERANGE;
        memcpy(buf, base, blen + 1);
        buf[blen - 1] = (char)(base[blen - 1] + (char)n);
        return 0;
}

int xen_xl_disk_line(const struct xen_target *t, const char *vdev, bool rw, char *buf, size_t len)
{
        char target[DVM_POOL_NAME_MAX + DVM_NAME_MAX + 48];
        int n = snprintf(buf, len, "vdev=%s,access=%s,script=%s,target=%s", vdev, rw ? "rw" : "ro",
                         XEN_HOOK_SCRIPT, xen_target_format(t, target, sizeof(target)));

        if (n < 0 || (size_t)n >= len)
                return -ENOSPC;
        return n;
}
