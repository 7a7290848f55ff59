// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, with the real Ceph cluster suites.sh starts around the rbd suites: the two
 * "hosts" of test_rbd_hosts.c (tests/lib/rbdhosts.h) when a process of one is killed dead
 * (the fault-injection build, driver/util/fault.h) where the cluster and its catalog
 * disagree: what its recover must put right in the cluster for the other host.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crashwalk.h"
#include "faultsteps.h"
#include "rbdhosts.h"
#include "vmtest.h"

#define MiB (1ULL << 20)

TestSuite(rbd_hosts_crash, .fini = rh_teardown, .timeout = 1200);

/* B's spawn killed right after it followed A's new commit: in the cluster its use moved to
 * the new snapshot (and the old one, released by A and used by no disposable of B, went),
 * but its catalog transaction never committed. B's recover drops the use no layer records,
 * so that A's next commit removes the snapshot it released (kept for B forever otherwise);
 * B's next spawn follows the newest commit. */
Test(rbd_hosts_crash, killed_spawn_leaves_no_use)
{
        char *p0, *p1, *img, *u, *d, want[160];

        p0 = rh_follow("16M", "8M", &img);
        if (!cw_use_fault_build(&rh_b))
                cr_skip_test("SKIP: no fault-injection build of dvm-vol: make FAULT=1 BUILD=<build>/fault all");
        VT_CLI_OK(&rh_a, "start", "tmpl");
        VT_CLI_OK(&rh_a, "stop", "tmpl");
        p1 = rh_pointer(rh_host_a, "tmpl", "root");
        cr_assert_eq(rh_snap_count(img), 2, "%s: A removed the snapshot B's tmpl follows", img);

        cw_killed_at(&rh_b, "rbd.map:1", (const char *const[]){ "spawn", "dvmb", NULL });
        u = rh_uses_of(img, rh_host_b);
        snprintf(want, sizeof(want), "%s\n", strchr(p1, '@') + 1);
        cr_assert_str_eq(u, want, "the killed spawn did not move B's use to A's new commit (a test that cannot "
                         "fail)");
        free(u);
        VT_CLI_OK(&rh_b, "recover");
        u = rh_uses_of(img, rh_host_b);
        cr_assert_str_empty(u, "B's uses of %s after its recover: one no layer records is left", img);
        free(u);
        cr_assert_eq(rh_mappings(), 0, "the killed spawn's mapping outlived B's recover");

        /* A commits again and releases p1's snapshot: nobody uses it, so it goes */
        VT_CLI_OK(&rh_a, "start", "tmpl");
        VT_CLI_OK(&rh_a, "stop", "tmpl");
        cr_assert_eq(rh_snap_count(img), 1, "%s: A kept the snapshot %s that no host uses", img, p1);
        /* B's next spawn follows the newest commit and uses it */
        d = vt_spawn(&rh_b, "dvmb", NULL);
        cr_assert(vt_has_pattern(vt_dev(&rh_b, d, "root"), 0, 8 * MiB, 1), "B's %s root lacks A's template data", d);
        u = rh_uses_of(img, rh_host_b);
        cr_assert_eq(vt_count_lines(u), 1, "B's uses of %s with one disposable running:\n%s", img, u);
        free(u);
        VT_CLI_OK(&rh_b, "destroy", "--wait", d);
        free(p0), free(p1), free(img), free(d);
}

/* A's stop of its TemplateVM killed just after its root's new snapshot, and at the last step
 * before the catalog's commit, where the pointers of tmpl/root and tmpl/private already
 * named snapshots the catalog had not taken (and that recovery removes when the stop is
 * undone). After A's recover the pointer names a snapshot that exists, whichever way the
 * stop went, and B can follow it. (Every step of a commit is walked by test_rbd_crash.) */
Test(rbd_hosts_crash, killed_commit_leaves_pointer_on_a_commit)
{
        char steps[128][FS_STEP_MAX], *p, *out;
        int n, from, to, st;

        rh_init_hosts();
        vt_make_templates(&rh_a, "16M", "8M");
        if (!cw_use_fault_build(&rh_a))
                cr_skip_test("SKIP: no fault-injection build of dvm-vol: make FAULT=1 BUILD=<build>/fault all");
        VT_CLI_OK(&rh_a, "start", "tmpl");
        n = fs_learn(&rh_a, (const char *const[]){ "stop", "tmpl", NULL }, steps, 128);
        from = fs_find(steps, n, 0, "rbd.snap");
        to = fs_find(steps, n, from, "catalog.commit");
        cr_assert(from >= 0 && to > from + 1, "stop tmpl passes no step between its first snapshot (%d) and the "
                  "catalog's commit (%d)", from, to);
        for (int i = from; i < to; i = i < to - 1 ? to - 1 : to) {
                VT_CLI_OK(&rh_a, "start", "tmpl");
                vt_pattern(vt_dev(&rh_a, "tmpl", "root"), 0, MiB, 40 + i);
                cw_killed_at(&rh_a, steps[i], (const char *const[]){ "stop", "tmpl", NULL });
                VT_CLI_OK(&rh_a, "recover");
                p = rh_pointer(rh_host_a, "tmpl", "root");
                *strchr(p, '@') = ' ';
                out = vt_sh(&st, "set -- %s; rbd -c %s --id admin -p " RH_CPOOL " snap ls $1 --format json | "
                            "grep -c \"\\\"name\\\":\\\"$2\\\"\"", p, rh_conf);
                cr_assert_str_eq(out, "1\n", "stop tmpl killed at %s, recovered: the pointer of tmpl/root names %s, "
                                 "no snapshot", steps[i], p);
                free(out), free(p);
                struct vt_run r = vt_cli(&rh_a, "stop", "tmpl", NULL);
                vt_run_free(&r);
        }
        VT_CLI_OK(&rh_b, "template", "import", "tmpl", "--from-host", rh_host_a);
        VT_CLI_OK(&rh_b, "destroy", "--wait", "tmpl");
}

/* A's import of a new TemplateVM killed at the last step before its catalog's commit: its
 * new image (and snapshot) is what recovery removes, and the pointer object it had written
 * goes with it (the catalog that recorded the pointer never committed; the mark on the
 * image's users object names it). B finds no such template, rather than a removed image. */
Test(rbd_hosts_crash, killed_import_leaves_no_pointer)
{
        char steps[128][FS_STEP_MAX], file[200], re[80], *out;
        int n, from, to, st;

        rh_init_hosts();
        if (!cw_use_fault_build(&rh_a))
                cr_skip_test("SKIP: no fault-injection build of dvm-vol: make FAULT=1 BUILD=<build>/fault all");
        snprintf(file, sizeof(file), "%s-import.img", rh_a.state);
        free(vt_sh(&st, "rm -f %s; truncate -s 8M %s", file, file));
        vt_pattern(file, 0, MiB, 23);
        const char *const import[] = { "template", "import", "imp", "--root", file, NULL };
        /* the pool's first import passes steps no later one does: learn from the second */
        VT_CLI_OK(&rh_a, "template", "import", "imp", "--root", file);
        VT_CLI_OK(&rh_a, "destroy", "--wait", "imp");
        n = fs_learn(&rh_a, import, steps, 128);
        VT_CLI_OK(&rh_a, "destroy", "--wait", "imp");
        from = fs_find(steps, n, 0, "rbd.snap");
        to = fs_find(steps, n, from, "catalog.commit");
        cr_assert(from >= 0 && to > from, "the import passes no rbd.snap (%d) before a catalog commit (%d)", from, to);

        cw_killed_at(&rh_a, steps[to - 1], import);
        snprintf(re, sizeof(re), "^dvm\\.tmpl\\.%s\\.", rh_host_a);
        out = rh_objects(re);
        cr_assert_str_not_empty(out, "killed at %s, the import had not written its pointer yet (a test that cannot "
                                "fail)", steps[to - 1]);
        free(out);
        VT_CLI_OK(&rh_a, "recover");
        out = rh_objects(re);
        cr_assert_str_empty(out, "import killed at %s, recovered: pointer objects left:\n%s", steps[to - 1], out);
        free(out);
        out = rh_images(rh_host_a);
        cr_assert_str_empty(out, "import killed at %s, recovered: A's images left:\n%s", steps[to - 1], out);
        free(out);
        struct vt_run r = vt_cli(&rh_b, "template", "import", "imp", "--from-host", rh_host_a, NULL);
        cr_expect(r.status == 3 && strstr(r.err, "not in Ceph pool"),
                  "B's import of A's half-imported imp: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        unlink(file);
}
