// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, with the Ceph cluster suites.sh starts around the rbd suites: crash safety of an
 * rbd pool. The walk of tests/lib/crashwalk.c over template import, which writes its layers
 * into new images in the cluster through a commit's device: each step (the local pool's dm
 * and catalog steps and the cluster's: image create, written with its lock held, snapshot)
 * killed dead, `recover`, then the invariants of tests/lib/vminvariants.c: the local
 * pool's, and the cluster's against the catalog (no image, snapshot, lock or mapping leaked
 * or lost), and the operation whole or not at all. The walks of a commit, a spawn and a
 * destroy are in test_rbd_crash_ops.c: with them this suite would take ~11 min of TCG on an
 * idle host, and 27 min under load, far past suites.sh's 900 s a suite.
 */
#include <criterion/criterion.h>

#include "crashwalk.h"

static void setup(void) { cw_setup("rbd"); }

TestSuite(rbd_crash, .init = setup, .fini = cw_teardown, .timeout = 1800);

Test(rbd_crash, import) { cw_walk_import(); }
