// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, with the Ceph cluster suites.sh starts around the rbd suites: crash safety of an
 * rbd pool, continued from test_rbd_crash.c (the import). The walks of tests/lib/crashwalk.c
 * over a commit (the stop of a DVM Template whose private is in the cluster: written into
 * its image and snapshotted), a spawn (the TemplateVM root's snapshot mapped as the
 * external origin of the disposable's root; the DVM Template's private, never stopped
 * there, is local) and a destroy (that mapping put): each step killed dead, `recover`, then
 * the invariants of tests/lib/vminvariants.c, the cluster's too, and the operation whole or
 * not at all.
 *
 * They walk only the steps that differ from the thin backend's (cw_walk_near("rbd.")): the
 * cluster's and the kernel rbd driver's (rbd.*), each with the step just before and just
 * after it, so that each cluster change is killed before it and after it. Why: a step here
 * costs twice a thin walk's or more (each dvm-vol run connects to the cluster, recover
 * sweeps it, the invariants ask it through the rbd CLI, and a commit's check stops and
 * starts the DVM Template), and all 60 steps of the three (29 + 13 + 18) would add some
 * 14 min to CI against 6 for the 22 walked; the local dm and catalog steps between are the
 * kinds tests/vm/test_crash.c kills on thin. DVM_CW_ALL=1 walks every step; each walk's
 * summary line says how many of how many it walked.
 */
#include <criterion/criterion.h>

#include "crashwalk.h"

static void setup(void)
{
        cw_setup("rbd");
        cw_walk_near("rbd.");
}

TestSuite(rbd_crash_ops, .init = setup, .fini = cw_teardown, .timeout = 1200);

Test(rbd_crash_ops, commit) { cw_walk_commit(); }

Test(rbd_crash_ops, spawn) { cw_walk_spawn(); }

Test(rbd_crash_ops, destroy) { cw_walk_destroy(); }
