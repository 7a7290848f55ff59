// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The Xen parts on a host without Xen (the unit tier's hosts): block-dvm's entry point
 * refuses a forged backend path before touching anything, and says clearly that it needs a
 * Xen dom0 when there is no xenstore. Skips loudly on a Xen host.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "dvm.h"

static dvm_ctx *ctx;

static void setup(void)
{
        int r = dvm_ctx_new("/nonexistent-dvm-state", &ctx);
        cr_assert_eq(r, 0, "dvm_ctx_new: %d", r);
}

static void teardown(void)
{
        ctx = dvm_ctx_free(ctx);
}

TestSuite(xen_nohost, .init = setup, .fini = teardown, .timeout = 30);

static void require_no_xen(void)
{
        if (access("/dev/xen/xenbus", F_OK) == 0 || access("/run/xenstored/socket", F_OK) == 0 ||
            access("/var/run/xenstored/socket", F_OK) == 0)
                cr_skip_test("this host runs Xen (xenstore is reachable): the no-Xen messages cannot be checked here");
}

Test(xen_nohost, hotplug_without_xenstore)
{
        require_no_xen();
        int r = dvm_xen_hotplug(ctx, DVM_HOTPLUG_ADD, "backend/vbd/5/51712");
        const char *msg = dvm_ctx_last_error(ctx);

        cr_assert_eq(r, -ENODEV, "dvm_xen_hotplug without Xen = %d (%s)", r, msg);
        cr_assert(strstr(msg, "xenstore") && strstr(msg, "Xen dom0"), "unclear message: \"%s\"", msg);
}

Test(xen_nohost, hotplug_forged_path)
{
        static const char *const bad[] = { "backend/vbd/0/51712", "backend/vbd/5", "../../etc", "" };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = dvm_xen_hotplug(ctx, DVM_HOTPLUG_REMOVE, bad[i]);
                const char *msg = dvm_ctx_last_error(ctx);
                cr_assert_eq(r, -EINVAL, "XENBUS_PATH \"%s\": %d (%s)", bad[i], r, msg);
                cr_assert(strstr(msg, "XENBUS_PATH"), "\"%s\": message does not name XENBUS_PATH: \"%s\"", bad[i], msg);
        }
        int r = dvm_xen_hotplug(ctx, DVM_HOTPLUG_ADD, NULL);
        cr_assert_eq(r, -EINVAL, "no XENBUS_PATH: %d (%s)", r, dvm_ctx_last_error(ctx));
}
