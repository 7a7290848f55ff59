// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dvm-vol recover` with pools that do not open, on any host (no device-mapper needed: the
 * pools fail before the kernel is asked). Issue 12 defect 5: it used to close a pool handle
 * it never got (exit 139), so `recover --all` (the boot unit) stopped at the first bad pool.
 */
#include <criterion/criterion.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmtest.h"

static char dvm_vol[PATH_MAX + 32], state[64];

static void setup(void)
{
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

        cr_assert(n > 0, "readlink /proc/self/exe: %m");
        exe[n] = 0;
        /* <build>/tests/unit/tools/test_x -> <build>/dvm-vol */
        snprintf(dvm_vol, sizeof(dvm_vol), "%s/../../../dvm-vol", dirname(exe));
        cr_assert(access(dvm_vol, X_OK) == 0, "dvm-vol not found at %s", dvm_vol);
        snprintf(state, sizeof(state), "/tmp/dvm-cli-recover-XXXXXX");
        cr_assert(mkdtemp(state), "mkdtemp: %m");
}

static void teardown(void)
{
        free(vt_sh(NULL, "rm -rf '%s'", state));
}

TestSuite(cli_recover, .init = setup, .fini = teardown, .timeout = 60);

Test(cli_recover, pool_that_does_not_exist)
{
        int st;
        char *out = vt_sh(&st, "'%s' --state-dir '%s' recover nosuch 2>&1", dvm_vol, state);

        cr_expect_eq(st, 3, "recover nosuch in an empty state dir: exit %d (want 3, not found): %s", st, out);
        cr_expect(strstr(out, "pool nosuch") != NULL, "the message names the pool: %s", out);
        free(out);
}

/* Every pool is tried and reported; the exit code is the first failure's. */
Test(cli_recover, all_goes_on_past_bad_pools)
{
        int st;
        char *out = vt_sh(&st, "mkdir '%s/bad1' '%s/bad2' && : > '%s/bad1/catalog.db' && : > '%s/bad2/catalog.db' && "
                               "'%s' --state-dir '%s' recover --all 2>&1",
                          state, state, state, state, dvm_vol, state);

        cr_expect_eq(st, 3, "recover --all over two uninitialised pools: exit %d (want 3): %s", st, out);
        cr_expect(strstr(out, "pool bad1") != NULL, "bad1 is reported: %s", out);
        cr_expect(strstr(out, "pool bad2") != NULL, "bad2 is reported too, after bad1 failed: %s", out);
        free(out);
}
