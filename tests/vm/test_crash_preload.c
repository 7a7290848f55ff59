// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, crash safety of the refill of preloaded disposables (thin pool): every step of
 * the worker building a ready disposable stopped dead, recovered and checked, then the
 * worker runs to its end (tests/lib/crashwalk.c).
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

TestSuite(crash_preload, .init = setup, .fini = teardown, .timeout = 1800);

Test(crash_preload, refill) { cw_walk_refill(); }
