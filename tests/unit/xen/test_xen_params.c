// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of xen_params.c: the disk targets block-dvm accepts and refuses, backend
 * paths as libxl sets XENBUS_PATH, the access mode, virtual device arithmetic and the xl
 * disk lines that spawn --xl-disks prints.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xen/xen_params.h"

/* ---- targets ------------------------------------------------------------------------- */

/* Criterion may run a case in a fresh process at other addresses: cases hold no pointers. */
struct target_case {
        char in[96];
        int ret;
        enum xen_target_kind kind; /* when ret == 0 */
        char pool[40], vm[72], volume[16];
};

static const struct target_case target_cases[] = {
        { "dvm:default/work/root", 0, XEN_TARGET_VOLUME, "default", "work", "root" },
        { "dvm:p1/debian-12.dvm/private", 0, XEN_TARGET_VOLUME, "p1", "debian-12.dvm", "private" },
        { "dvm-spawn:default/dvm/volatile", 0, XEN_TARGET_SPAWN, "default", "dvm", "volatile" },
        { "dvm-spawn:Pool_2/a/root", 0, XEN_TARGET_SPAWN, "Pool_2", "a", "root" },
        /* not ours at all */
        { "", -EINVAL, 0, "", "", "" },
        { "/dev/loop0", -EINVAL, 0, "", "", "" },
        { "/dev/mapper/DVM-default-work-root", -EINVAL, 0, "", "", "" },
        { "phy:/dev/sda", -EINVAL, 0, "", "", "" },
        { "DVM:default/work/root", -EINVAL, 0, "", "", "" },
        { "dvm-spawn", -EINVAL, 0, "", "", "" },
        /* malformed */
        { "dvm:", -EINVAL, 0, "", "", "" },
        { "dvm:nopool", -EINVAL, 0, "", "", "" },
        { "dvm:default/work", -EINVAL, 0, "", "", "" },
        { "dvm:default/work/", -EINVAL, 0, "", "", "" },
        { "dvm:default//root", -EINVAL, 0, "", "", "" },
        { "dvm:/work/root", -EINVAL, 0, "", "", "" },
        { "dvm:default/work/root/", -EINVAL, 0, "", "", "" },
        { "dvm:default/work/root/x", -EINVAL, 0, "", "", "" },
        { "dvm:default/work/swap", -EINVAL, 0, "", "", "" },
        { "dvm:default/work/Root", -EINVAL, 0, "", "", "" },
        { "dvm:de-fault/work/root", -EINVAL, 0, "", "", "" },
        { "dvm:default/1work/root", -EINVAL, 0, "", "", "" },
        { "dvm:default/../root", -EINVAL, 0, "", "", "" },
        { "dvm:default/wo rk/root", -EINVAL, 0, "", "", "" },
        { "dvm:default/work\n/root", -EINVAL, 0, "", "", "" },
        { "dvm:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/work/root", -EINVAL, 0, "", "", "" },
        { "dvm:default/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/root", -EINVAL, 0, "", "", "" },
};

ParameterizedTestParameters(xen_params, target)
{
        return cr_make_param_array(struct target_case, target_cases, sizeof(target_cases) / sizeof(target_cases[0]));
}

ParameterizedTest(const struct target_case *c, xen_params, target)
{
        struct xen_target t = { .pool = "untouched" };
        const char *why = NULL;
        int r = xen_target_parse(c->in, &t, &why);

        cr_assert_eq(r, c->ret, "xen_target_parse(\"%s\") = %d, want %d", c->in, r, c->ret);
        if (r < 0) {
                cr_assert_not_null(why, "\"%s\": refused without a reason", c->in);
                cr_assert_str_eq(t.pool, "untouched", "\"%s\": refused but wrote pool \"%s\"", c->in, t.pool);
                return;
        }
        cr_assert_eq(t.kind, c->kind, "\"%s\": kind %d, want %d", c->in, t.kind, c->kind);
        cr_assert_str_eq(t.pool, c->pool, "\"%s\": pool \"%s\"", c->in, t.pool);
        cr_assert_str_eq(t.vm, c->vm, "\"%s\": vm \"%s\"", c->in, t.vm);
        cr_assert_str_eq(t.volume, c->volume, "\"%s\": volume \"%s\"", c->in, t.volume);
        char back[256];
        cr_assert_str_eq(xen_target_format(&t, back, sizeof(back)), c->in, "formatted back as \"%s\"", back);
}

Test(xen_params, target_null)
{
        struct xen_target t;
        const char *why = NULL;
        int r = xen_target_parse(NULL, &t, &why);
        cr_assert_eq(r, -EINVAL, "xen_target_parse(NULL) = %d", r);
        cr_assert_not_null(why, "no reason for NULL");
}

/* ---- backend paths ---------------------------------------------------------------------- */

struct backend_case {
        char in[48];
        int ret;
        uint32_t domid, devid;
};

static const struct backend_case backend_cases[] = {
        { "backend/vbd/5/51712", 0, 5, 51712 },
        { "backend/vbd/32751/268439808", 0, 32751, 268439808 },
        { "backend/vbd/1/0", 0, 1, 0 },
        { "backend/vbd/0/51712", -EINVAL, 0, 0 },      /* dom0 is never a guest of ours */
        { "backend/vbd/32752/51712", -EINVAL, 0, 0 },  /* a reserved domain id */
        { "backend/vbd/05/51712", -EINVAL, 0, 0 },
        { "backend/vbd/5/051712", -EINVAL, 0, 0 },
        { "backend/vbd/+5/51712", -EINVAL, 0, 0 },
        { "backend/vbd/-5/51712", -EINVAL, 0, 0 },
        { "backend/vbd/ 5/51712", -EINVAL, 0, 0 },
        { "backend/vbd/5/51712/", -EINVAL, 0, 0 },
        { "backend/vbd/5/51712/params", -EINVAL, 0, 0 },
        { "backend/vbd/5", -EINVAL, 0, 0 },
        { "backend/vbd//51712", -EINVAL, 0, 0 },
        { "backend/vif/5/0", -EINVAL, 0, 0 },
        { "/local/domain/0/backend/vbd/5/51712", -EINVAL, 0, 0 },
        { "backend/vbd/5/99999999999", -EINVAL, 0, 0 },
        { "", -EINVAL, 0, 0 },
};

ParameterizedTestParameters(xen_params, backend)
{
        return cr_make_param_array(struct backend_case, backend_cases, sizeof(backend_cases) / sizeof(backend_cases[0]));
}

ParameterizedTest(const struct backend_case *c, xen_params, backend)
{
        struct xen_backend b = { 77, 77 };
        int r = xen_backend_parse(c->in, &b);

        cr_assert_eq(r, c->ret, "xen_backend_parse(\"%s\") = %d, want %d", c->in, r, c->ret);
        if (r < 0) {
                cr_assert(b.domid == 77 && b.devid == 77, "\"%s\": refused but wrote %u/%u", c->in, b.domid, b.devid);
                return;
        }
        cr_assert(b.domid == c->domid && b.devid == c->devid, "\"%s\": %u/%u, want %u/%u", c->in, b.domid, b.devid,
                  c->domid, c->devid);
}

Test(xen_params, mode)
{
        bool rw = false;
        int r = xen_mode_parse("w", &rw);
        cr_assert(r == 0 && rw, "\"w\": %d rw=%d", r, rw);
        r = xen_mode_parse("r", &rw);
        cr_assert(r == 0 && !rw, "\"r\": %d rw=%d", r, rw);
        static const char *const bad[] = { "", "rw", "W", "w ", "x" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                rw = true;
                r = xen_mode_parse(bad[i], &rw);
                cr_assert(r == -EINVAL && rw, "\"%s\": %d rw=%d", bad[i], r, rw);
        }
        r = xen_mode_parse(NULL, &rw);
        cr_assert_eq(r, -EINVAL, "NULL mode: %d", r);
}

/* ---- virtual devices and xl lines --------------------------------------------------------- */

struct vdev_case {
        char base[8];
        unsigned n;
        int ret;
        char out[8];
};

static const struct vdev_case vdev_cases[] = {
        { "xvda", 0, 0, "xvda" }, { "xvda", 2, 0, "xvdc" }, { "xvde", 2, 0, "xvdg" },
        { "sda", 1, 0, "sdb" },   { "hdb", 1, 0, "hdc" },   { "xvdz", 0, 0, "xvdz" },
        { "xvdy", 1, 0, "xvdz" }, { "xvdy", 2, -ERANGE, "" }, { "xvdz", 1, -ERANGE, "" },
        { "xvd", 0, -EINVAL, "" }, { "xvdaa", 0, -EINVAL, "" }, { "xvdA", 0, -EINVAL, "" },
        { "vda", 0, -EINVAL, "" }, { "", 0, -EINVAL, "" },      { "xvd1", 0, -EINVAL, "" },
};

ParameterizedTestParameters(xen_params, vdev)
{
        return cr_make_param_array(struct vdev_case, vdev_cases, sizeof(vdev_cases) / sizeof(vdev_cases[0]));
}

ParameterizedTest(const struct vdev_case *c, xen_params, vdev)
{
        char buf[16] = "untouched";
        int r = xen_vdev_nth(c->base, c->n, buf, sizeof(buf));

        cr_assert_eq(r, c->ret, "xen_vdev_nth(\"%s\", %u) = %d, want %d", c->base, c->n, r, c->ret);
        cr_assert_str_eq(buf, r == 0 ? c->out : "untouched", "xen_vdev_nth(\"%s\", %u) wrote \"%s\"", c->base, c->n, buf);
}

Test(xen_params, xl_disk_line)
{
        struct xen_target t = { .kind = XEN_TARGET_SPAWN, .pool = "default", .vm = "dvm", .volume = "private" };
        char buf[128];
        int n = xen_xl_disk_line(&t, "xvdb", true, buf, sizeof(buf));
        const char *want = "vdev=xvdb,access=rw,script=block-dvm,target=dvm-spawn:default/dvm/private";

        cr_assert_eq(n, (int)strlen(want), "length %d: \"%s\"", n, buf);
        cr_assert_str_eq(buf, want, "line \"%s\"", buf);
        t.kind = XEN_TARGET_VOLUME;
        n = xen_xl_disk_line(&t, "xvdf", false, buf, sizeof(buf));
        cr_assert_str_eq(buf, "vdev=xvdf,access=ro,script=block-dvm,target=dvm:default/dvm/private", "line \"%s\" (%d)",
                         buf, n);
        /* xl takes everything after target= as the target: it must come last */
        cr_assert(strstr(buf, ",target=") && !strchr(strstr(buf, ",target=") + 1, ','), "target not last: \"%s\"", buf);
        n = xen_xl_disk_line(&t, "xvdf", false, buf, 20);
        cr_assert_eq(n, -ENOSPC, "a short buffer gave %d", n);
}
