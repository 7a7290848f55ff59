// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, with the real Ceph cluster suites.sh starts around the rbd suites: two "hosts"
 * in one VM (two state directories, two local rbd pools with their own --host, one Ceph
 * pool). Host B's TemplateVM follows host A's of the same name: a commit on A is what B's
 * next spawn takes, B's running disposables keep their snapshot (A keeps it for them) and
 * show outdated, their writes stay on B, and nothing of them is in the cluster; an image is
 * held writable by its host alone; recover --host takes back what a dead host held; a
 * ready disposable of B is never one built before A's latest commit. Witnesses: the rbd
 * and rados CLIs as client.admin, sysfs. The hosts' crash tests: test_rbd_hosts_crash.c.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ceph/rbd_client.h"
#include "rbdhosts.h"
#include "util/ctx.h"
#include "vmtest.h"

#define MiB (1ULL << 20)

TestSuite(rbd_hosts, .fini = rh_teardown, .timeout = 1200);

Test(rbd_hosts, template_of_another_host)
{
        char *p0, *p1, *s, *d1, *d2, *da, *img, *out;
        struct vt_run r;

        /* B: a TemplateVM that follows A's, a DVM Template of its own on it */
        p0 = rh_follow("48M", "24M", &img);
        VT_CLI_OK(&rh_b, "start", "dvmb");
        vt_pattern(vt_dev(&rh_b, "dvmb", "private"), 0, 4 * MiB, 5);
        VT_CLI_OK(&rh_b, "stop", "dvmb");
        char *b_images = rh_images(rh_host_b);
        cr_assert_eq(vt_count_lines(b_images), 1, "B's images: its DVM Template's private alone:\n%s", b_images);

        d1 = vt_spawn(&rh_b, "dvmb", NULL);
        cr_assert(vt_has_pattern(vt_dev(&rh_b, d1, "root"), 0, 8 * MiB, 1), "B's %s root lacks A's template data", d1);
        cr_assert(vt_has_pattern(vt_dev(&rh_b, d1, "private"), 0, 4 * MiB, 5), "B's %s private lacks B's DVM data", d1);
        /* isolation: B's disposable writes stay on B */
        vt_pattern(vt_dev(&rh_b, d1, "root"), MiB, MiB, 9);
        da = vt_spawn(&rh_a, "dvm", NULL);
        cr_assert(vt_has_pattern(vt_dev(&rh_a, da, "root"), 0, 8 * MiB, 1), "A's %s sees B's disposable's write", da);
        s = rh_images(rh_host_b);
        cr_assert_str_eq(s, b_images, "a disposable of B made images in the cluster:\n%s", s);
        free(s);
        cr_assert_eq(rh_snap_count(img), 1, "%s: a disposable of B made a snapshot", img);
        VT_CLI_OK(&rh_a, "destroy", "--wait", da);

        /* A commits again: B's running disposable keeps its snapshot and is outdated */
        VT_CLI_OK(&rh_a, "start", "tmpl");
        vt_pattern(vt_dev(&rh_a, "tmpl", "root"), 0, MiB, 3);
        VT_CLI_OK(&rh_a, "stop", "tmpl");
        p1 = rh_pointer(rh_host_a, "tmpl", "root");
        cr_assert_str_neq(p1, p0, "A's commit did not move the pointer of tmpl/root (%s)", p1);
        cr_assert_eq(rh_snap_count(img), 2, "%s: A removed the snapshot B's %s runs on", img, d1);
        cr_assert(vt_has_pattern(vt_dev(&rh_b, d1, "root"), 0, MiB, 1) &&
                  vt_has_pattern(vt_dev(&rh_b, d1, "root"), 2 * MiB, 6 * MiB, 1), "B's %s lost its template state", d1);
        cr_assert(vt_has_pattern(vt_dev(&rh_b, d1, "root"), MiB, MiB, 9), "B's %s lost its own write", d1);
        r = vt_cli(&rh_b, "info", d1, NULL);
        cr_assert(strstr(r.out, "(outdated)"), "B's info %s does not say outdated after A's commit:\n%s%s", d1, r.out,
                  r.err);
        vt_run_free(&r);

        /* B's next spawn takes A's commit */
        d2 = vt_spawn(&rh_b, "dvmb", NULL);
        cr_assert(vt_has_pattern(vt_dev(&rh_b, d2, "root"), 0, MiB, 3), "B's %s lacks A's new commit", d2);
        cr_assert(vt_has_pattern(vt_dev(&rh_b, d2, "root"), MiB, 7 * MiB, 1), "B's %s lost the unchanged data", d2);
        r = vt_cli(&rh_b, "info", d2, NULL);
        cr_assert(r.status == 0 && !strstr(r.out, "outdated"), "B's info %s says outdated:\n%s%s", d2, r.out, r.err);
        vt_run_free(&r);
        r = vt_cli(&rh_b, "info", d1, NULL);
        cr_assert(strstr(r.out, "(outdated)"), "B's info %s no longer outdated:\n%s%s", d1, r.out, r.err);
        vt_run_free(&r);

        /* the old snapshot goes with its last user, B's d1 (A released it) */
        VT_CLI_OK(&rh_b, "destroy", "--wait", d1);
        cr_assert_eq(rh_snap_count(img), 1, "%s: the old snapshot outlived its last user on B", img);
        VT_CLI_OK(&rh_b, "destroy", "--wait", d2);
        s = rh_images(rh_host_b);
        cr_assert_str_eq(s, b_images, "B's disposables left images in the cluster:\n%s", s);
        free(s);

        /* everything goes: no image, pointer or users object of either host is left */
        VT_CLI_OK(&rh_b, "destroy", "--wait", "dvmb");
        VT_CLI_OK(&rh_b, "destroy", "--wait", "tmpl");
        cr_assert_eq(rh_snap_count(img), 1, "B's destroy of its tmpl touched A's image %s", img);
        VT_CLI_OK(&rh_a, "destroy", "--wait", "dvm");
        VT_CLI_OK(&rh_a, "destroy", "--wait", "tmpl");
        char re[256];
        snprintf(re, sizeof(re), "^dvm\\.(tmpl\\.(%s|%s)\\.|users\\.dvm\\.(%s|%s)\\.)", rh_host_a, rh_host_b, rh_host_a,
                 rh_host_b);
        out = rh_objects(re);
        cr_assert_str_empty(out, "objects left in the cluster:\n%s", out);
        s = rh_images(rh_host_a);
        cr_assert_str_empty(s, "A's images left:\n%s", s);
        free(s);
        s = rh_images(rh_host_b);
        cr_assert_str_empty(s, "B's images left:\n%s", s);
        free(s);
        cr_assert_eq(rh_mappings(), 0, "mappings left");
        free(out), free(p0), free(p1), free(d1), free(d2), free(da), free(img), free(b_images);
}

/* A save_on_stop volume over another host's image, and a template that host does not have:
 * refused with one line naming the image and its host (or the template), nothing changed. */
Test(rbd_hosts, writable_held_by_one_host)
{
        char *p0, *img, *before, *after;
        int maps;
        struct vt_run r;

        rh_init_hosts();
        vt_make_templates(&rh_a, "16M", "8M");
        VT_CLI_OK(&rh_b, "template", "import", "tmpl", "--from-host", rh_host_a);
        p0 = rh_pointer(rh_host_a, "tmpl", "root");
        img = strndup(p0, strcspn(p0, "@"));
        before = vt_kernel_state(&rh_b);
        maps = rh_mappings();

        r = vt_cli(&rh_b, "start", "tmpl", NULL);
        cr_expect_eq(r.status, 5, "B's start of A's template: exit %d: %s", r.status, r.err);
        cr_expect_eq(vt_count_lines(r.err), 1, "not one line: %s", r.err);
        cr_expect(strstr(r.err, img), "the error does not name image %s: %s", img, r.err);
        char want[64];
        snprintf(want, sizeof(want), "host %s", rh_host_a);
        cr_expect(strstr(r.err, want), "the error does not name %s: %s", want, r.err);
        vt_run_free(&r);
        after = vt_kernel_state(&rh_b);
        cr_expect_str_eq(after, before, "a refused start changed B's pool");
        cr_expect_eq(rh_mappings(), maps, "a refused start left a mapping");
        r = vt_cli(&rh_b, "info", "tmpl", NULL);
        cr_expect(r.status == 0 && strstr(r.out, "halted"), "B's tmpl after the refused start:\n%s%s", r.out, r.err);
        vt_run_free(&r);
        cr_expect_eq(rh_snap_count(img), 1, "%s: the refused start changed its snapshots", img);
        /* A still starts and commits it */
        VT_CLI_OK(&rh_a, "start", "tmpl");
        VT_CLI_OK(&rh_a, "stop", "tmpl");

        /* a template A does not have; A's own name from A */
        r = vt_cli(&rh_b, "template", "import", "nosuch", "--from-host", rh_host_a, NULL);
        snprintf(want, sizeof(want), "%s/nosuch/root", rh_host_a);
        cr_expect_eq(r.status, 3, "import of a template A lacks: exit %d: %s", r.status, r.err);
        cr_expect(vt_count_lines(r.err) == 1 && strstr(r.err, want), "the error does not name %s: %s", want, r.err);
        vt_run_free(&r);
        r = vt_cli(&rh_b, "info", "nosuch", NULL);
        cr_expect_eq(r.status, 3, "a refused import left VM nosuch: %s", r.out);
        vt_run_free(&r);
        r = vt_cli(&rh_a, "template", "import", "t2", "--from-host", rh_host_a, NULL);
        cr_expect_eq(r.status, 2, "A following itself: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        r = vt_cli(&rh_a, "template", "import", "t2", "--from-host", rh_host_b, "--root", "/dev/null", NULL);
        cr_expect_eq(r.status, 2, "--from-host with --root: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        free(p0), free(img), free(before), free(after);
}

/* the exclusive locks of @image, as the rbd CLI lists them */
static int locks_of(const char *image)
{
        return rh_rbd_count("lock ls", image, "locker");
}

/* a process that takes @image's exclusive lock through librbd and is killed holding it */
static void die_holding_lock(const char *image)
{
        int pfd[2];
        char c = 0;

        cr_assert_eq(pipe(pfd), 0);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
                dvm_ctx *cx;
                struct rbd_conn *cc;
                struct rbd_lock *l;
                if (dvm_ctx_new("/tmp", &cx) == 0 && rbdc_connect(cx, rh_conf, "dvm", RH_CPOOL, &cc) == 0 &&
                    rbdc_lock_acquire(cx, cc, image, &l) == 0)
                        c = 'k';
                if (write(pfd[1], &c, 1) != 1 || c != 'k')
                        _exit(1);
                pause();
                _exit(0);
        }
        close(pfd[1]);
        cr_assert_eq(read(pfd[0], &c, 1), 1, "the lock holder died early");
        close(pfd[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        cr_assert_eq(c, 'k', "the child could not lock %s", image);
}

/* Host D dies (its devices gone, fenced) while it follows A's template with a disposable
 * running, holds the exclusive lock of its own image from a killed process, and left an
 * image without a snapshot (an import cut short). recover --host D on A breaks the lock,
 * removes the image that was never committed, drops D's uses (of tmpl's root and private),
 * and with them the two old snapshots A's commit had released to D; D's committed image
 * stays. Bad hosts are refused. */
Test(rbd_hosts, recover_dead_host)
{
        char *p0, *img, *pd, *dimg, *d, *half;
        struct vt_run r;
        int st;

        p0 = rh_follow("16M", "8M", &img);
        VT_CLI_OK(&rh_b, "start", "dvmb");
        VT_CLI_OK(&rh_b, "stop", "dvmb");
        d = vt_spawn(&rh_b, "dvmb", NULL);
        pd = rh_pointer(rh_host_b, "dvmb", "private");
        dimg = strndup(pd, strcspn(pd, "@"));
        VT_CLI_OK(&rh_a, "start", "tmpl");
        VT_CLI_OK(&rh_a, "stop", "tmpl");
        cr_assert_eq(rh_snap_count(img), 2, "%s: A removed the snapshot D's %s runs on", img, d);
        die_holding_lock(dimg);
        cr_assert_eq(locks_of(dimg), 1, "the killed process's lock of %s is not there", dimg);
        half = vt_sh(&st, "printf dvm.%s.%s.999", rh_host_b, rh_b.pool);
        char *out = vt_sh(&st, "rbd -c %s --id admin -p " RH_CPOOL " create %s --size 1M 2>&1", rh_conf, half);
        cr_assert_eq(st, 0, "rbd create %s: %s", half, out);
        free(out);

        /* D dies: its devices go with its kernel; A's recover unmaps what D had mapped */
        vt_cleanup(&rh_b);
        VT_CLI_OK(&rh_a, "recover");
        cr_assert_eq(rh_mappings(), 0, "D's mappings are still there");

        r = vt_cli(&rh_a, "recover", "--host", rh_host_b, NULL);
        cr_assert_eq(r.status, 0, "recover --host %s: exit %d: %s", rh_host_b, r.status, r.err);
        char want[160];
        snprintf(want, sizeof(want), "host %s: 1 lock(s) broken, 1 image(s) removed, 2 use(s) dropped, "
                 "2 snapshot(s) removed\n", rh_host_b);
        cr_assert_str_eq(r.out, want, "recover --host %s printed:\n%s%s", rh_host_b, r.out, r.err);
        vt_run_free(&r);
        cr_assert_eq(locks_of(dimg), 0, "the dead host's lock of %s stayed", dimg);
        out = rh_images(rh_host_b);
        char only[200];
        snprintf(only, sizeof(only), "%s\n", dimg);
        cr_assert_str_eq(out, only, "D's images after the reap (its committed one alone stays):\n%s", out);
        free(out);
        cr_assert_eq(rh_snap_count(img), 1, "%s: the snapshot released to D stayed after D's reap", img);
        /* A's template is whole and works */
        char *da = vt_spawn(&rh_a, "dvm", NULL);
        VT_CLI_OK(&rh_a, "destroy", "--wait", da);
        /* again: nothing left to do */
        r = vt_cli(&rh_a, "recover", "--host", rh_host_b, NULL);
        snprintf(want, sizeof(want), "host %s: 0 lock(s) broken, 0 image(s) removed, 0 use(s) dropped, "
                 "0 snapshot(s) removed\n", rh_host_b);
        cr_assert(r.status == 0 && strcmp(r.out, want) == 0, "second recover --host: exit %d: %s%s", r.status, r.out,
                  r.err);
        vt_run_free(&r);

        /* refused, one line, nothing changed: our own host, a bad name, --all */
        r = vt_cli(&rh_a, "recover", "--host", rh_host_a, NULL);
        cr_expect(r.status == 2 && vt_count_lines(r.err) == 1 && strstr(r.err, rh_host_a),
                  "recover --host of our own host: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        r = vt_cli(&rh_a, "recover", "--host", "x.y", NULL);
        cr_expect(r.status == 2 && vt_count_lines(r.err) == 1 && strstr(r.err, "x.y"), "recover --host x.y: exit %d: %s",
                  r.status, r.err);
        vt_run_free(&r);
        r = vt_cli(&rh_a, "recover", "--all", "--host", rh_host_b, NULL);
        cr_expect_eq(r.status, 2, "recover --all --host: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        cr_expect_eq(rh_snap_count(img), 1, "refused reaps changed %s", img);
        free(p0), free(img), free(pd), free(dimg), free(d), free(half), free(da);
}

/* B keeps a disposable of its DVM Template ready over A's template; A commits. B's spawn must
 * not hand out the ready one, built from the snapshot before the commit: B's catalog has not
 * seen the commit (only the cluster's pointer has), so the take asks the cluster. The worker
 * then replaces the outdated ready one with one built from the commit. */
Test(rbd_hosts, ready_one_not_taken_after_a_commit)
{
        struct vt_run r;
        char *d1, *d2;

        free(rh_follow("16M", "8M", NULL));
        VT_CLI_OK(&rh_b, "preload", "dvmb", "--count", "1");
        VT_CLI_OK(&rh_b, "worker");
        r = vt_cli(&rh_b, "preload", "dvmb", NULL);
        cr_assert(r.status == 0 && strstr(r.out, "    1     1") && !strstr(r.out, "outdated"),
                  "B keeps no disposable ready: exit %d: %s%s", r.status, r.out, r.err);
        vt_run_free(&r);

        VT_CLI_OK(&rh_a, "start", "tmpl");
        vt_pattern(vt_dev(&rh_a, "tmpl", "root"), 0, MiB, 3);
        VT_CLI_OK(&rh_a, "stop", "tmpl");
        r = vt_cli(&rh_b, "preload", "dvmb", NULL);
        cr_assert(r.status == 0 && strstr(r.out, "(1 outdated"), "B's ready one is not shown outdated after A's "
                  "commit: exit %d: %s%s", r.status, r.out, r.err);
        vt_run_free(&r);

        d1 = vt_spawn(&rh_b, "dvmb", NULL);
        cr_assert(vt_has_pattern(vt_dev(&rh_b, d1, "root"), 0, MiB, 3), "B's spawn %s handed out a ready disposable "
                  "built before A's commit", d1);
        VT_CLI_OK(&rh_b, "worker");
        r = vt_cli(&rh_b, "preload", "dvmb", NULL);
        cr_assert(r.status == 0 && strstr(r.out, "    1     1") && !strstr(r.out, "outdated"),
                  "the worker did not replace B's outdated ready one: exit %d: %s%s", r.status, r.out, r.err);
        vt_run_free(&r);
        d2 = vt_spawn(&rh_b, "dvmb", NULL);
        cr_assert(vt_has_pattern(vt_dev(&rh_b, d2, "root"), 0, MiB, 3) &&
                  vt_has_pattern(vt_dev(&rh_b, d2, "root"), MiB, 7 * MiB, 1), "B's %s (from the refill) lacks A's "
                  "commit", d2);

        VT_CLI_OK(&rh_b, "preload", "dvmb", "--count", "0");
        VT_CLI_OK(&rh_b, "destroy", "--wait", d1);
        VT_CLI_OK(&rh_b, "destroy", "--wait", d2);
        VT_CLI_OK(&rh_b, "worker");
        free(d1), free(d2);
}
