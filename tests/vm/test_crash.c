// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, crash safety of a thin pool: the walks of tests/lib/crashwalk.c (every step of
 * spawn, destroy and template import killed, recovered and checked against the kernel's own
 * view: dmsetup, thin_dump of a metadata snapshot, losetup), then kill -9 at random times.
 * The snap pool's walks are tests/vm/test_crash_snap.c.
 */
#include <criterion/criterion.h>

#include "crashwalk.h"

static void setup(void) { cw_setup("thin"); }

TestSuite(crash, .init = setup, .fini = cw_teardown, .timeout = 1800);

Test(crash, spawn) { cw_walk_spawn(); }

Test(crash, destroy) { cw_walk_destroy(); }

Test(crash, import) { cw_walk_import(); }

Test(crash, random_kill) { cw_random_kill(20); }
