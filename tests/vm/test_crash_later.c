// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, crash safety of a destroy that leaves its wipe to the worker (thin pool): every
 * step of `destroy victim` stopped dead, recovered and checked, then `worker` drains and the
 * pool is checked again (tests/lib/crashwalk.c). The worker's own walk: test_crash_worker.c.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "crashwalk.h"

static void setup(void) { cw_setup("thin"); }

static void teardown(void)
{
        unsetenv("DVM_VOL_BIN");
        cw_teardown();
}

TestSuite(crash_later, .init = setup, .fini = teardown, .timeout = 1800);

Test(crash_later, destroy) { cw_walk_destroy_later(); }
