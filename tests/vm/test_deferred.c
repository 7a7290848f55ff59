// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, destroys left to the worker (issue 15): `destroy` returns with the disposable
 * cut off and its canary still on a disk that ignores discards (the wipe has not run); the
 * worker, started by the destroy or run by hand, leaves 0 copies and a pool at rest; the
 * name and layer ids stay taken until then; `destroy --wait` wipes before it returns; a
 * worker or destroy killed at a step of its own, or a "reboot" with the wipe queued, is
 * finished by recover with 0 copies. The crash walk of the destroy: test_crash_later.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "canary.h"
#include "kernel/dm.h"
#include "util/ctx.h"
#include "crashwalk.h"
#include "vminvariants.h"

#define MiB (1ULL << 20)
#define NO_WORKER "/nonexistent/dvm-vol"

static struct vt vt;
static struct canary can;

#define CLI_OK(...) VT_CLI_OK(&vt, __VA_ARGS__)

static void teardown(void)
{
        unsetenv("DVM_VOL_BIN");
        scratch_cleanup(&vt);
}

TestSuite(deferred, .fini = teardown, .timeout = 900);

/* A disposable of "dvm" whose root, private and volatile hold the canary. */
static char *victim(void)
{
        char *d = vt_spawn(&vt, "dvm", NULL);

        canary_write(vt_dev(&vt, d, "root"), 20 * MiB, MiB, &can);
        canary_write(vt_dev(&vt, d, "private"), 4 * MiB, MiB, &can);
        canary_write(vt_dev(&vt, d, "volatile"), 0, MiB, &can);
        return d;
}

static uint64_t copies(const char *what)
{
        return canary_scan(scratch_disk(), &can, what);
}

static int status(const char *verb, const char *name)
{
        struct vt_run r = vt_cli(&vt, verb, name, NULL);
        int st = r.status;
        vt_run_free(&r);
        return st;
}

static bool device_exists(const char *d, const char *vol)
{
        struct stat st;
        char path[256];
        snprintf(path, sizeof(path), "/dev/mapper/DVM-%s-%s-%s", vt.pool, d, vol);
        return stat(path, &st) == 0;
}

/*
 * destroy returns before the wipe: the canary is still on the disk, the devices a domain
 * could open are gone, the name is taken, a stop is refused; `worker` then leaves 0 copies,
 * no VM and a pool at rest.
 */
Test(deferred, destroy_returns_before_the_wipe)
{
        canary_fixture(&vt, &can, "thin");
        setenv("DVM_VOL_BIN", NO_WORKER, 1);
        char *d = victim();

        cr_assert_gt(copies("running"), 0, "the running disposable's canary is not on the disk: the scan proves nothing");
        CLI_OK("destroy", d);
        cr_expect(!device_exists(d, "root") && !device_exists(d, "private") && !device_exists(d, "volatile"),
                  "a device of %s a domain could open is left after destroy", d);
        cr_assert_gt(copies("destroyed, wipe queued"), 0, "the canary is gone already: destroy did not leave the wipe");
        /* their removal was left to the kernel, which does it once nobody holds them */
        bool left = true;
        for (int i = 0; i < 50 && left; i++) {
                int st;
                free(vt_sh(&st, "dmsetup info DVM-%s-%s-root >/dev/null 2>&1 || dmsetup info DVM-%s-%s-private >/dev/null 2>&1",
                           vt.pool, d, vt.pool, d));
                left = st == 0;
                if (left)
                        usleep(100 * 1000);
        }
        cr_expect(!left, "the layer devices of %s are still in the kernel 5 s after destroy returned", d);
        cr_expect_eq(status("info", d), 0, "%s is gone before its wipe", d);
        struct vt_run r = vt_cli(&vt, "info", d, NULL);
        cr_expect(strstr(r.out, "state:     wipe-queued"), "info %s does not mark its queued wipe:\n%s", d, r.out);
        vt_run_free(&r);
        r = vt_cli(&vt, "list", NULL);
        char row[256] = "";
        const char *line = strstr(r.out, d);
        if (line)
                snprintf(row, sizeof(row), "%.*s", (int)strcspn(line, "\n"), line);
        cr_expect(strstr(row, "wipe-queued"), "list does not mark the queued wipe of %s:\n%s", d, r.out);
        vt_run_free(&r);
        r = vt_cli(&vt, "spawn", "dvm", "--name", d, NULL);
        cr_expect_eq(r.status, 4, "spawn --name %s while its wipe is queued: exit %d: %s", d, r.status, r.err);
        vt_run_free(&r);
        r = vt_cli(&vt, "stop", d, NULL);
        cr_expect_neq(r.status, 0, "stop of %s while its wipe is queued succeeded", d);
        cr_expect(strstr(r.err, "being destroyed"), "stop of %s: %s", d, r.err);
        vt_run_free(&r);
        /* a spawn meanwhile neither waits for the wipe nor takes its ids */
        char *other = vt_spawn(&vt, "dvm", NULL);
        cr_expect_gt(copies("another spawn later"), 0, "a spawn ran the queued wipe");

        CLI_OK("worker");
        cr_expect_eq(copies("after worker"), 0, "the canary survived the worker");
        cr_expect_eq(status("info", d), 3, "%s is left after the worker", d);
        CLI_OK("destroy", "--wait", other);
        free(vt_check_invariants(&vt, "after worker"));
        free(other);
        free(d);
}

/* The worker that destroy starts by itself finishes the wipe. */
Test(deferred, destroy_starts_the_worker)
{
        canary_fixture(&vt, &can, "thin");
        char *d = victim();

        CLI_OK("destroy", d);
        double t0 = vt_now();
        while (status("info", d) == 0 && vt_now() - t0 < 120)
                usleep(100 * 1000);
        cr_assert_neq(status("info", d), 0, "the worker did not remove %s in 120 s", d);
        printf("deferred: the worker finished %s %.2f s after destroy returned\n", d, vt_now() - t0);
        cr_expect_eq(copies("after the started worker"), 0, "the canary survived the worker");
        free(vt_check_invariants(&vt, "after the started worker"));
        free(d);
}

/* --wait is today's destroy: wiped and gone when it returns. */
Test(deferred, wait_wipes_before_it_returns)
{
        canary_fixture(&vt, &can, "thin");
        setenv("DVM_VOL_BIN", NO_WORKER, 1);
        char *d = victim();

        CLI_OK("destroy", "--wait", d);
        cr_expect_eq(status("info", d), 3, "%s is left after destroy --wait", d);
        cr_expect_eq(copies("after destroy --wait"), 0, "the canary survived destroy --wait");
        free(vt_check_invariants(&vt, "after destroy --wait"));
        free(d);
}

/* A template's destroy goes after the queued wipes of its disposables. */
Test(deferred, template_destroy_finishes_queued_wipes)
{
        canary_fixture(&vt, &can, "thin");
        setenv("DVM_VOL_BIN", NO_WORKER, 1);
        char *d = victim();

        CLI_OK("destroy", d);
        CLI_OK("destroy", "dvm");
        cr_expect_eq(status("info", d), 3, "%s is left after its DVM Template's destroy", d);
        cr_expect_eq(copies("after the template's destroy"), 0, "the canary survived");
        free(vt_check_invariants(&vt, "after the template's destroy"));
        free(d);
}

/* A queued wipe survives a reboot: recover finishes it. */
Test(deferred, queued_wipe_survives_reboot)
{
        canary_fixture(&vt, &can, "thin");
        setenv("DVM_VOL_BIN", NO_WORKER, 1);
        char *d = victim();

        CLI_OK("destroy", d);
        vt_reboot(&vt);
        CLI_OK("recover");
        cr_expect_eq(status("info", d), 3, "%s is left after reboot and recover", d);
        cr_expect_eq(copies("after reboot and recover"), 0, "the canary survived the reboot");
        free(vt_check_invariants(&vt, "after reboot and recover"));
        free(d);
}

/*
 * kill -9 of the worker before its wipe (at the start of its change), after it (at the first
 * device it removes), and of destroy after its intent, before its devices went: recover
 * leaves 0 copies and a pool at rest each time.
 */
Test(deferred, killed_worker_and_destroy_then_recover)
{
        static const struct { const char *verb, *fault; } cases[] = {
                { "worker", "change.begin:1" },
                { "worker", "dm.remove:1" },
                { "destroy", "later.queued:1" },
        };
        canary_fixture(&vt, &can, "thin");
        if (!cw_use_fault_build(&vt))
                cr_skip_test("SKIP: no fault-injection build of dvm-vol: make FAULT=1 BUILD=<build>/fault all");
        setenv("DVM_VOL_BIN", NO_WORKER, 1);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char what[128];
                char *d = victim();
                const char *destroy[] = { "destroy", d, NULL }, *worker[] = { "worker", NULL };
                if (strcmp(cases[i].verb, "worker") == 0) {
                        CLI_OK("destroy", d);
                        cw_killed_at(&vt, cases[i].fault, worker);
                } else {
                        cw_killed_at(&vt, cases[i].fault, destroy);
                }
                snprintf(what, sizeof(what), "%s killed at %s, then recover", cases[i].verb, cases[i].fault);
                CLI_OK("recover");
                cr_expect_eq(status("info", d), 3, "%s: %s is left", what, d);
                cr_expect_eq(copies(what), 0, "%s: the canary survived", what);
                free(vt_check_invariants(&vt, what));
                free(d);
        }
}

#define FENCE_DEV "dvmtest-fence"

static bool fence_node(void)
{
        struct stat st;
        return stat("/dev/mapper/" FENCE_DEV, &st) == 0;
}

/* Polls up to 5 s for the kernel to remove FENCE_DEV. */
static bool fence_gone(dvm_ctx *ctx)
{
        for (int i = 0; i < 50; i++) {
                if (dm_info(ctx, FENCE_DEV, NULL) == -ENXIO)
                        return true;
                usleep(100 * 1000);
        }
        return false;
}

/*
 * The fence a queued destroy's caller waits for (dm_remove_deferred()): the name goes at
 * once, the device when its last holder closes it; dm_keep() takes back a device whose
 * removal is pending (the worker's way to the layer it wipes), and says when there is none.
 */
Test(deferred, fence_leaves_the_removal_to_the_kernel)
{
        vt_require_dm();
        dvm_ctx *ctx = NULL;
        const struct dm_table_line zero = { .start = 0, .length = 8192, .type = "zero", .params = "" };

        cr_assert_eq(dvm_ctx_new("/tmp", &ctx), 0, "dvm_ctx_new");
        dm_remove(ctx, FENCE_DEV);
        cr_assert_eq(dm_create(ctx, FENCE_DEV, NULL, &zero, 1, false, NULL), 0, "create %s: %s", FENCE_DEV,
                     dvm_ctx_last_error(ctx));
        int holder = open("/dev/mapper/" FENCE_DEV, O_RDONLY | O_CLOEXEC);
        cr_assert_geq(holder, 0, "open %s", FENCE_DEV);

        cr_expect_eq(dm_remove_deferred(ctx, FENCE_DEV), 0, "%s", dvm_ctx_last_error(ctx));
        cr_expect(!fence_node(), "the node of %s is left after the fence", FENCE_DEV);
        cr_expect_eq(dm_info(ctx, FENCE_DEV, NULL), 0, "%s went while another holder had it open", FENCE_DEV);
        cr_expect_eq(dm_keep(ctx, FENCE_DEV), 0, "keep %s: %s", FENCE_DEV, dvm_ctx_last_error(ctx));
        cr_expect(fence_node(), "dm_keep did not make the node of %s again", FENCE_DEV);
        close(holder);
        usleep(500 * 1000);
        cr_expect_eq(dm_info(ctx, FENCE_DEV, NULL), 0, "%s went on its last close: dm_keep did not cancel the removal",
                     FENCE_DEV);

        cr_expect_eq(dm_remove_deferred(ctx, FENCE_DEV), 0, "%s", dvm_ctx_last_error(ctx));
        cr_expect(fence_gone(ctx), "the kernel did not remove %s within 5 s of the fence", FENCE_DEV);
        cr_expect_eq(dm_keep(ctx, FENCE_DEV), -ENXIO, "dm_keep of a device that went");
        cr_expect_eq(dm_remove_deferred(ctx, FENCE_DEV), -ENXIO, "the fence of a device that is not there");
        dm_remove(ctx, FENCE_DEV);
        dvm_ctx_free(ctx);
}
