// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier: the space guard refuses spawn, start and import with exit 6 and one line before
 * changing anything (kernel devices, thin ids and catalog compared before and after), lets
 * through what stays above it, and follows `pool set`; and a thin-pool that runs out of data
 * space under running disposables corrupts neither its metadata (thin_check) nor the
 * templates (checksums), and gets its space back when they are destroyed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmtest.h"

#define MiB (1ULL << 20)
#define NO_SPACE_TIMEOUT "/sys/module/dm_thin_pool/parameters/no_space_timeout"

static struct vt vt;
static char saved_timeout[32];

#define CLI_OK(...) VT_CLI_OK(&vt, __VA_ARGS__)

static void teardown(void)
{
        if (saved_timeout[0]) {
                FILE *f = fopen(NO_SPACE_TIMEOUT, "w");
                if (f) {
                        fputs(saved_timeout, f);
                        fclose(f);
                }
        }
        vt_cleanup(&vt);
}

TestSuite(space_guard, .fini = teardown, .timeout = 900);

/* Percent of the pool's data blocks in use, from its status line (the kernel's count). */
static double data_used_percent(void)
{
        int st;
        char *s = vt_sh(&st, "dmsetup status DVM-%s | awk '{split($6, a, \"/\"); print 100 * a[1] / a[2]}'", vt.pool);
        double p = strtod(s, NULL);
        cr_assert_eq(st, 0, "pool status: %s", s);
        free(s);
        return p;
}

/* An image of @size bytes holding @data bytes of pattern at its start, the rest a hole. */
static void make_image(const char *path, uint64_t size, uint64_t data)
{
        int st;
        free(vt_sh(&st, "rm -f %s; truncate -s %llu %s", path, (unsigned long long)size, path));
        cr_assert_eq(st, 0, "truncate %s", path);
        if (data)
                vt_pattern(path, 0, data, 77);
}

/* A refused verb: exit 6, one line naming the guard, and nothing changed. */
static void expect_refused(const char *what, const char *const argv[6])
{
        char *before = vt_state(&vt);
        struct vt_run r = vt_cli(&vt, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], NULL);

        cr_assert_eq(r.status, 6, "%s under the guard: exit %d, stderr: %s", what, r.status, r.err);
        cr_assert(strstr(r.err, "space guard of") && strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                  "%s: not one line naming the space guard: %s", what, r.err);
        vt_run_free(&r);
        char *after = vt_state(&vt);
        cr_assert_str_eq(after, before, "%s refused but the kernel or the catalog changed:\n%s\nwas:\n%s", what, after,
                         before);
        free(before);
        free(after);
}

Test(space_guard, refuses_before_any_change)
{
        char img_full[256], img_sparse[256];

        vt_init(&vt, "256M");
        CLI_OK("template", "create", "tmpl", "--root-size", "128M", "--private-size", "16M");
        CLI_OK("dvm", "create", "dvm", "--template", "tmpl");
        CLI_OK("spawn", "dvm", "--name", "halted");
        CLI_OK("stop", "halted");
        CLI_OK("spawn", "dvm", "--name", "filler");
        /* 144M of a 256M pool: 44% stays free */
        vt_pattern(vt_dev(&vt, "filler", "volatile"), 0, 144 * MiB, 5);
        double used = data_used_percent();
        cr_assert(used > 55 && used < 60, "pool data in use after the fill: %.1f%%", used);

        CLI_OK("pool", "set", "space-guard", "50");
        snprintf(img_full, sizeof(img_full), "%s-full.img", vt.state);
        snprintf(img_sparse, sizeof(img_sparse), "%s-sparse.img", vt.state);
        make_image(img_full, 64 * MiB, 64 * MiB);
        make_image(img_sparse, 64 * MiB, MiB);
        const char *const refused[][6] = {
                { "spawn", "dvm" },
                { "spawn", "dvm", "--name", "named" },
                { "start", "halted" },
                { "template", "import", "imp", "--root", img_sparse },
        };
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
                expect_refused(refused[i][0], refused[i]);

        /* at 30%: a spawn passes, an import whose 64M of data would leave 19% does not, a
         * sparse one with 1M of data does */
        CLI_OK("pool", "set", "space-guard", "30");
        CLI_OK("spawn", "dvm", "--name", "passes");
        struct vt_run r = vt_cli(&vt, "template", "import", "imp", "--root", img_full, NULL);
        cr_assert_eq(r.status, 6, "import of 64M of data at 44%% free and a 30%% guard: exit %d: %s", r.status, r.err);
        cr_assert(strstr(r.err, "would leave"), "import refusal does not say what would be left: %s", r.err);
        vt_run_free(&r);
        CLI_OK("template", "import", "imp", "--root", img_sparse);
        CLI_OK("pool", "set", "space-guard", "0");
        CLI_OK("template", "import", "imp2", "--root", img_full);
        unlink(img_full);
        unlink(img_sparse);
}

Test(space_guard, bad_settings_are_usage_errors)
{
        static const char *const bad[][4] = {
                { "pool", "set", "space-guard", "100" },
                { "pool", "set", "space-guard", "-1" },
                { "pool", "set", "space-guard", "ten" },
                { "pool", "set", "space-guard", "" },
                { "pool", "set", "spaceguard", "10" },
        };
        vt_init(&vt, "128M");
        char *cat = vt_catalog_dump(&vt);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct vt_run r = vt_cli(&vt, bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL);
                cr_assert_eq(r.status, 2, "pool set %s %s: exit %d: %s", bad[i][2], bad[i][3], r.status, r.err);
                cr_assert(strchr(r.err, '\n'), "pool set %s %s: no message", bad[i][2], bad[i][3]);
                vt_run_free(&r);
        }
        char *cat2 = vt_catalog_dump(&vt);
        cr_assert_str_eq(cat2, cat, "a refused pool set changed the catalog");
        free(cat);
        free(cat2);
}

/* dd of zeros until the device or the pool gives out; returns dd's status. */
static int fill(const char *dev)
{
        int st;
        free(vt_sh(&st, "dd if=/dev/zero of=%s bs=1M oflag=direct status=none 2>/dev/null", dev));
        return st;
}

Test(space_guard, full_pool_corrupts_nothing)
{
        int st;
        FILE *f;

        vt_init(&vt, "128M");
        CLI_OK("template", "create", "tmpl", "--root-size", "64M", "--private-size", "32M");
        CLI_OK("start", "tmpl");
        vt_pattern(vt_dev(&vt, "tmpl", "root"), 0, 8 * MiB, 1);
        vt_pattern(vt_dev(&vt, "tmpl", "private"), 0, 2 * MiB, 2);
        uint64_t h_root = vt_hash(vt_dev(&vt, "tmpl", "root"), 0, 0);
        uint64_t h_priv = vt_hash(vt_dev(&vt, "tmpl", "private"), 0, 0);
        CLI_OK("stop", "tmpl");
        CLI_OK("dvm", "create", "dvm", "--template", "tmpl");
        CLI_OK("spawn", "dvm", "--name", "d1");
        CLI_OK("spawn", "dvm", "--name", "d2");

        /* queued writes of a full pool fail after this many seconds instead of 60 */
        f = fopen(NO_SPACE_TIMEOUT, "r");
        cr_assert(f && fgets(saved_timeout, sizeof(saved_timeout), f), "read %s", NO_SPACE_TIMEOUT);
        fclose(f);
        free(vt_sh(&st, "echo 3 > " NO_SPACE_TIMEOUT));
        cr_assert_eq(st, 0, "set %s", NO_SPACE_TIMEOUT);

        /* 2 x 96M of volatile and the roots into a 128M pool */
        int a = fill(vt_dev(&vt, "d1", "volatile")), b = fill(vt_dev(&vt, "d2", "volatile"));
        int c = fill(vt_dev(&vt, "d1", "root"));
        cr_assert(a || b || c, "writing 256M into a 128M pool never failed (dd: %d %d %d)", a, b, c);
        char *status = vt_sh(&st, "dmsetup status DVM-%s", vt.pool);
        cr_assert(strstr(status, "out_of_data_space"), "the pool is full but its status says: %s", status);
        free(status);
        struct vt_run r = vt_cli(&vt, "spawn", "dvm", NULL);
        cr_assert_eq(r.status, 6, "spawn on a full pool: exit %d: %s", r.status, r.err);
        vt_run_free(&r);

        CLI_OK("destroy", "--wait", "d1", "d2");
        status = vt_sh(&st, "dmsetup status DVM-%s", vt.pool);
        cr_assert(!strstr(status, "out_of_data_space") && strstr(status, " rw "),
                  "the pool stays out of space after its disposables went: %s", status);
        free(status);

        /* the metadata, checked offline: every device down, the pool too */
        free(vt_sh(&st, "dmsetup remove DVM-%s", vt.pool));
        cr_assert_eq(st, 0, "removing the pool device");
        /* through a loop: thin_check opens with O_DIRECT, which tmpfs files refuse */
        char *out = vt_sh(&st, "l=$(losetup -f --show %s/%s/metadata.img) || exit 9; thin_check $l 2>&1; s=$?; "
                          "losetup -d $l; exit $s", vt.state, vt.pool);
        cr_assert_eq(st, 0, "thin_check after the pool ran full: status %d: %s", st, out);
        free(out);
        CLI_OK("pool", "activate");
        CLI_OK("start", "tmpl");
        cr_assert_eq(vt_hash(vt_dev(&vt, "tmpl", "root"), 0, 0), h_root, "the TemplateVM root changed");
        cr_assert_eq(vt_hash(vt_dev(&vt, "tmpl", "private"), 0, 0), h_priv, "the TemplateVM private changed");
        CLI_OK("stop", "tmpl");
        CLI_OK("spawn", "dvm", "--name", "after");
        cr_assert(vt_has_pattern(vt_dev(&vt, "after", "root"), 0, 8 * MiB, 1), "a disposable after the episode lost "
                  "the template data");
}
