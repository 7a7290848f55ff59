// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, busy devices: a stop of a disposable whose device a process holds open (or a
 * mount) is refused with exit 5, names the holder and changes nothing; a destroy of one
 * names the holder, stays recorded in the catalog, and is carried out once the holder
 * lets go: by `recover`, by the next change of the pool, or by the destroy repeated.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vminvariants.h"
#include "vmtest.h"

static struct vt vt;

static void setup(void)
{
        vt_init(&vt, "512M");
        VT_CLI_OK(&vt, "template", "create", "tmpl", "--root-size", "32M", "--private-size", "16M");
        VT_CLI_OK(&vt, "dvm", "create", "dvm", "--template", "tmpl");
}

static void teardown(void) { vt_cleanup(&vt); }

TestSuite(busy, .init = setup, .fini = teardown, .timeout = 600);

/* A process named "holder" keeping @dev open; returns its pid. */
static pid_t hold(const char *dev)
{
        pid_t pid = fork();
        cr_assert(pid >= 0, "fork: %m");
        if (pid == 0) {
                execl("/bin/bash", "holder", "-c", "exec 9<\"$0\"; exec sleep 600", dev, NULL);
                _exit(127);
        }
        /* until its descriptor is open (fd 9: lower ones may come from the test runner) */
        for (int i = 0; i < 100; i++) {
                char fd9[64], target[256];
                snprintf(fd9, sizeof(fd9), "/proc/%d/fd/9", pid);
                ssize_t n = readlink(fd9, target, sizeof(target) - 1);
                if (n > 0 && (target[n] = 0, strcmp(target, dev) == 0))
                        return pid;
                usleep(100000);
        }
        cr_assert_fail("the holder never opened %s", dev);
        return -1;
}

static void let_go(pid_t pid)
{
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

Test(busy, stop_refused_naming_the_process)
{
        VT_CLI_OK(&vt, "spawn", "dvm", "--name", "d1");
        pid_t pid = hold(vt_dev(&vt, "d1", "root"));
        char *before = vt_state(&vt), want[64];

        struct vt_run r = vt_cli(&vt, "stop", "d1", NULL);
        snprintf(want, sizeof(want), "process %d (", pid);
        cr_assert_eq(r.status, 5, "stop of a held disposable: exit %d: %s", r.status, r.err);
        cr_assert(strstr(r.err, want) && strstr(r.err, "root"), "stop does not name the holder (%s): %s", want, r.err);
        vt_run_free(&r);
        char *after = vt_state(&vt);
        cr_assert_str_eq(after, before, "a refused stop changed something");
        let_go(pid);
        VT_CLI_OK(&vt, "stop", "d1");
        free(before);
        free(after);
}

Test(busy, destroy_waits_for_the_holder)
{
        VT_CLI_OK(&vt, "spawn", "dvm", "--name", "d1");
        pid_t pid = hold(vt_dev(&vt, "d1", "private"));
        char want[64];

        struct vt_run r = vt_cli(&vt, "destroy", "--wait", "d1", NULL);
        snprintf(want, sizeof(want), "process %d (", pid);
        cr_assert_eq(r.status, 5, "destroy of a held disposable: exit %d: %s", r.status, r.err);
        cr_assert(strstr(r.err, want) && strstr(r.err, "stays marked to be destroyed"),
                  "destroy does not name the holder (%s) or say it waits: %s", want, r.err);
        vt_run_free(&r);
        char *intent = vt_sql(&vt, "SELECT vm, op FROM intents");
        cr_assert_str_eq(intent, "d1|2", "the deferred destroy is not in the catalog: %s", intent);
        free(intent);
        cr_assert(access(vt_dev(&vt, "d1", "private"), F_OK) == 0, "the held device went");

        r = vt_cli(&vt, "recover", NULL);
        cr_assert_eq(r.status, 5, "recover while the holder holds: exit %d: %s%s", r.status, r.out, r.err);
        vt_run_free(&r);

        let_go(pid);
        r = vt_cli(&vt, "recover", NULL);
        cr_assert_eq(r.status, 0, "recover once free: exit %d: %s", r.status, r.err);
        cr_assert(strstr(r.out, "1 intents finished"), "recover did not report the destroy: %s", r.out);
        vt_run_free(&r);
        r = vt_cli(&vt, "info", "d1", NULL);
        cr_assert_eq(r.status, 3, "d1 after its deferred destroy: exit %d", r.status);
        vt_run_free(&r);
        free(vt_check_invariants(&vt, "after the deferred destroy"));
}

/* d1 spawned, its @volume held open while a destroy is refused (deferred), then let go */
static void destroy_deferred_by_holder(const char *volume)
{
        VT_CLI_OK(&vt, "spawn", "dvm", "--name", "d1");
        pid_t pid = hold(vt_dev(&vt, "d1", volume));
        struct vt_run r = vt_cli(&vt, "destroy", "--wait", "d1", NULL);
        cr_assert_eq(r.status, 5, "destroy of a disposable whose %s is held: exit %d: %s", volume, r.status, r.err);
        vt_run_free(&r);
        let_go(pid);
}

Test(busy, next_change_finishes_a_deferred_destroy)
{
        struct vt_run r;

        destroy_deferred_by_holder("volatile");
        /* an unrelated verb: its recovery carries the destroy out first */
        VT_CLI_OK(&vt, "spawn", "dvm", "--name", "d2");
        r = vt_cli(&vt, "info", "d1", NULL);
        cr_assert_eq(r.status, 3, "d1 after the next change of the pool: exit %d: %s", r.status, r.out);
        vt_run_free(&r);
        free(vt_check_invariants(&vt, "after the next change"));
}

/* the user repeats the destroy once the holder is gone: its own recovery carries out the
 * deferred destroy, and the repeated destroy reports success, not "no such VM" */
Test(busy, a_repeated_destroy_succeeds_once_free)
{
        struct vt_run r;

        destroy_deferred_by_holder("root");
        VT_CLI_OK(&vt, "destroy", "--wait", "d1");
        r = vt_cli(&vt, "info", "d1", NULL);
        cr_assert_eq(r.status, 3, "d1 after the repeated destroy: exit %d: %s", r.status, r.out);
        vt_run_free(&r);
        r = vt_cli(&vt, "destroy", "--wait", "d1", NULL);
        cr_assert_eq(r.status, 3, "a destroy of a VM destroyed already: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        free(vt_check_invariants(&vt, "after the repeated destroy"));
}

Test(busy, a_mount_is_named)
{
        int st;
        char mnt[160];
        VT_CLI_OK(&vt, "spawn", "dvm", "--name", "d1");
        snprintf(mnt, sizeof(mnt), "%s-mnt", vt.state);
        free(vt_sh(&st, "mkfs.ext4 -q %s && mkdir -p %s && mount %s %s", vt_dev(&vt, "d1", "volatile"), mnt,
                   vt_dev(&vt, "d1", "volatile"), mnt));
        cr_assert_eq(st, 0, "mkfs and mount of the volatile volume");
        struct vt_run r = vt_cli(&vt, "stop", "d1", NULL);
        cr_assert_eq(r.status, 5, "stop of a mounted disposable: exit %d: %s", r.status, r.err);
        cr_assert(strstr(r.err, "mounted on ") && strstr(r.err, mnt), "stop does not name the mount: %s", r.err);
        vt_run_free(&r);
        free(vt_sh(&st, "umount %s && rmdir %s", mnt, mnt));
        VT_CLI_OK(&vt, "stop", "d1");
}

/*
 * Another process holds the pool's lock (a long wipe or import): a verb with --lock-timeout
 * gives up after it, exit 5, naming the pool, and changes nothing; the hook relies on this to
 * fail inside libxl's 40 s instead of being killed.
 */
Test(busy, a_held_pool_lock_times_out)
{
        char lock[192], *before, *after;
        double t0;
        int st;

        VT_CLI_OK(&vt, "spawn", "dvm", "--name", "d1");
        snprintf(lock, sizeof(lock), "%s/%s/lock", vt.state, vt.pool);
        pid_t pid = fork();
        cr_assert(pid >= 0, "fork: %m");
        if (pid == 0) {
                execl("/bin/bash", "holder", "-c", "exec 9>\"$0\" && flock -x 9 && exec sleep 600", lock, NULL);
                _exit(127);
        }
        /* until flock(1) has the lock: a non-blocking try of our own fails */
        for (int i = 0;; i++) {
                free(vt_sh(&st, "flock -xn %s true", lock));
                if (st != 0)
                        break;
                cr_assert(i < 100, "flock(1) never took %s", lock);
                usleep(100000);
        }
        before = vt_state(&vt);
        t0 = vt_now();
        struct vt_run r = vt_cli(&vt, "--lock-timeout", "1", "spawn", "dvm", "--name", "d2", NULL);
        double took = vt_now() - t0;
        cr_assert_eq(r.status, 5, "spawn with the pool locked elsewhere: exit %d: %s", r.status, r.err);
        cr_assert(strstr(r.err, vt.pool) && strstr(r.err, "locked by another process"),
                  "the error does not name the pool and the cause: %s", r.err);
        cr_assert(!strchr(r.err, '\n') || strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                  "more than one line: %s", r.err);
        cr_assert(took >= 0.9 && took < 10, "gave up after %.1f s, not about 1 s", took);
        vt_run_free(&r);
        r = vt_cli(&vt, "--lock-timeout", "1", "destroy", "--wait", "d1", NULL);
        cr_assert_eq(r.status, 5, "destroy with the pool locked elsewhere: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        after = vt_state(&vt);
        cr_assert_str_eq(after, before, "a timed-out verb changed the pool");
        free(before);
        free(after);
        let_go(pid);
        VT_CLI_OK(&vt, "--lock-timeout", "1", "destroy", "--wait", "d1");
}

Test(busy, a_bad_lock_timeout_is_refused)
{
        const char *bad[] = { "-1", "x", "1.5", "86401", "" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct vt_run r = vt_cli(&vt, "--lock-timeout", bad[i], "list", NULL);
                cr_assert_eq(r.status, 2, "--lock-timeout \"%s\": exit %d: %s", bad[i], r.status, r.err);
                cr_assert(strstr(r.err, "--lock-timeout"), "the error does not name the option: %s", r.err);
                vt_run_free(&r);
        }
}
