// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm-tier crash walks on a pool of either backend: every step of spawn, destroy and template
 * import is walked: the operation is stopped dead there (fault-injection build, _exit at the
 * step), `recover` runs, and the kernel's own view must match the catalog exactly
 * (vminvariants.c): no leaked device, layer, loop or intent; the operation either happened
 * whole or not at all, and a destroy that had begun is finished. Then kill -9 of running
 * spawns and destroys at random times, repeated. The templates' data is checked at the end
 * of each walk.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crashwalk.h"
#include "faultsteps.h"
#include "vminvariants.h"

#define MiB (1ULL << 20)
#define MAX_STEPS 128

bool cw_use_fault_build(struct vt *t)
{
        char cand[2][sizeof(t->dvm_vol)];
        int st, dir = (int)(strrchr(t->dvm_vol, '/') - t->dvm_vol);

        snprintf(cand[0], sizeof(cand[0]), "%.400s", t->dvm_vol);
        snprintf(cand[1], sizeof(cand[1]), "%.*s/fault/dvm-vol", dir < 400 ? dir : 400, t->dvm_vol);
        for (int i = 1; i >= 0; i--) {
                free(vt_sh(&st, "grep -q DVM_FAULT_TRACE %s", cand[i]));
                if (st == 0) {
                        snprintf(t->dvm_vol, sizeof(t->dvm_vol), "%s", cand[i]);
                        return true;
                }
        }
        return false;
}

void cw_killed_at(struct vt *t, const char *fault, const char *const words[])
{
        setenv("DVM_FAULT", fault, 1);
        struct vt_run r = vt_cliv(t, words);
        unsetenv("DVM_FAULT");
        cr_assert_eq(r.status, CW_FAULT_EXIT, "%s %s with DVM_FAULT=%s: exit %d, not the fault exit: %s", words[0],
                     words[1] ? words[1] : "", fault, r.status, r.err);
        vt_run_free(&r);
}

struct vt cw_vt;
#define vt cw_vt

/* An rbd pool over the cluster tests/vm/suites.sh starts around the test_rbd* suites: its
 * committed layers in Ceph pool "rbd", as client "dvm", under a host name of its own. */
static void init_rbd(void)
{
        const char *conf = getenv("DVM_CEPH_CONF");
        char host[32];

        if (geteuid() != 0)
                cr_skip_test("SKIP: an rbd pool needs root");
        cr_assert(conf && *conf, "DVM_CEPH_CONF is not set: run this suite through tests/vm/suites.sh, which starts "
                  "the Ceph cluster (tests/lib/ceph-cluster.sh) around it");
        snprintf(host, sizeof(host), "h%d", getpid());
        vt_init_backend(&vt, "rbd", "--data-size", "512M", "--rbd-conf", conf, "--rbd-client", "dvm", "--rbd-pool",
                        "rbd", "--host", host, NULL);
}

void cw_setup(const char *backend)
{
        if (strcmp(backend, "thin") == 0) {
                vt_init(&vt, "1G");
                snprintf(vt.backend, sizeof(vt.backend), "thin");
        } else if (strcmp(backend, "rbd") == 0) {
                init_rbd();
        } else {
                vt_init_backend(&vt, backend, NULL);
        }
        if (!cw_use_fault_build(&vt))
                cr_skip_test("SKIP: no fault-injection build of dvm-vol: make FAULT=1 BUILD=<build>/fault all");
        VT_CLI_OK(&vt, "template", "create", "tmpl", "--root-size", "64M", "--private-size", "32M");
        VT_CLI_OK(&vt, "start", "tmpl");
        vt_pattern(vt_dev(&vt, "tmpl", "root"), 0, 4 * MiB, 1);
        VT_CLI_OK(&vt, "stop", "tmpl");
        VT_CLI_OK(&vt, "dvm", "create", "dvm", "--template", "tmpl");
}

void cw_teardown(void)
{
        /* on rbd, the templates' images in the cluster go with them */
        if (strcmp(vt.backend, "rbd") == 0)
                for (const char *const *m = (const char *const[]){ "victim", "imp", "dvm", "tmpl", NULL }; *m; m++) {
                        struct vt_run r = vt_cli(&vt, "destroy", "--wait", *m, NULL);
                        vt_run_free(&r);
                }
        vt_cleanup(&vt);
}

struct vt_run cw_run_faulted(const char *const argv[8], const char *fault)
{
        if (fault)
                setenv("DVM_FAULT", fault, 1);
        struct vt_run r = vt_cli(&vt, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6], argv[7], NULL);
        unsetenv("DVM_FAULT");
        return r;
}

/* The steps @argv passes through, "<name>:<n>" in order (faultsteps.h). */
static int learn_steps(const char *const argv[8], char steps[MAX_STEPS][FS_STEP_MAX])
{
        int n = fs_learn(&vt, argv, steps, MAX_STEPS);

        cr_assert(n > 3, "%s passed only %d steps", argv[0], n);
        return n;
}

void cw_recover(const char *when)
{
        struct vt_run r = vt_cli(&vt, "recover", NULL);
        cr_assert_eq(r.status, 0, "%s: recover: exit %d: %s%s", when, r.status, r.out, r.err);
        vt_run_free(&r);
}

static double seconds(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t template_root_hash(void)
{
        VT_CLI_OK(&vt, "start", "tmpl");
        uint64_t h = vt_hash(vt_dev(&vt, "tmpl", "root"), 0, 0);
        VT_CLI_OK(&vt, "stop", "tmpl");
        return h;
}

/* The step filter of cw_walk_near(): NULL, every step. */
static const char *near_prefix;

void cw_walk_near(const char *prefix)
{
        const char *all = getenv("DVM_CW_ALL");

        near_prefix = all && strcmp(all, "1") == 0 ? NULL : prefix;
}

/* whether step @i of @n is walked under the filter: named with its prefix, or next to one */
static bool walked(char steps[][FS_STEP_MAX], int n, int i)
{
        if (!near_prefix)
                return true;
        for (int j = i - 1; j <= i + 1; j++)
                if (j >= 0 && j < n && strncmp(steps[j], near_prefix, strlen(near_prefix)) == 0)
                        return true;
        return false;
}

/* Kill @argv at each of its steps in turn (those cw_walk_near() keeps); after each, recover
 * and check the invariants; @after judges the outcome from the snapshot and puts the
 * baseline back for the next step. The TemplateVM's root is the same before and after.
 * Returns the steps walked. */
static int walk(const char *const argv[8], void (*baseline)(void), void (*after)(const char *when, const char *snap))
{
        char steps[MAX_STEPS][FS_STEP_MAX], when[300];
        /* first: the stop of the TemplateVM releases its old origin now, not in the first
         * destroy of a disposable built on it, so that every run passes the same steps */
        uint64_t root = template_root_hash();
        double t0 = seconds();
        int n, done = 0;

        baseline();
        n = learn_steps(argv, steps);

        after("traced run", NULL);
        for (int i = 0; i < n; i++) {
                if (!walked(steps, n, i))
                        continue;
                done++;
                struct vt_run r = cw_run_faulted(argv, steps[i]);
                snprintf(when, sizeof(when), "%.40s %.20s killed at step %d/%d (%.80s)", argv[0], argv[1], i + 1, n, steps[i]);
                cr_assert_eq(r.status, CW_FAULT_EXIT, "%s: exit %d, not the fault exit: %s", when, r.status, r.err);
                vt_run_free(&r);
                cw_recover(when);
                char *snap = vt_check_invariants(&vt, when);
                after(when, snap);
                free(snap);
                if (getenv("DVM_CW_STEPS")) /* where a slow walk spends its time */
                        fprintf(stderr, "%s: done at %.1f s\n", when, seconds() - t0);
        }
        cr_assert_eq(template_root_hash(), root, "the TemplateVM root changed during the walk of %s", argv[0]);
        double t = seconds() - t0;
        cr_assert(done > 0, "crash walk of %s: none of its %d steps is named %s* or next to one", argv[0], n,
                  near_prefix);
        printf("crash walk (%s) of %s%s%s: %d of %d steps%s%s%s, each killed, recovered and checked, in %.0f s "
               "(%.1f s a step)\n", vt.backend, argv[0], strcmp(argv[0], "template") == 0 ? " " : "",
               strcmp(argv[0], "template") == 0 ? argv[1] : "", done, n, near_prefix ? " (those named " : "",
               near_prefix ? near_prefix : "", near_prefix ? "* and their neighbours)" : "", t, t / done);
        return done;
}

static void nothing(void) {}

/* spawn: after the kill, the disposable is whole (running, its data readable) or absent */
static void spawn_after(const char *when, const char *snap)
{
        if (snap && !vt_has_vm(snap, "victim"))
                return;
        cr_assert(vt_has_pattern(vt_dev(&vt, "victim", "root"), 0, 4 * MiB, 1), "%s: the disposable's root lacks the "
                  "template data", when);
        VT_CLI_OK(&vt, "destroy", "--wait", "victim");
}

static const char *const spawn_argv[8] = { "spawn", "dvm", "--name", "victim" };

void cw_walk_spawn(void)
{
        walk(spawn_argv, nothing, spawn_after);
}

/* destroy: the disposable wrote; after the kill it is gone, or (killed before its destroy
 * was recorded) still running whole */
void cw_victim(void)
{
        VT_CLI_OK(&vt, "spawn", "dvm", "--name", "victim");
        vt_pattern(vt_dev(&vt, "victim", "volatile"), 0, MiB, 9);
        vt_pattern(vt_dev(&vt, "victim", "root"), 8 * MiB, MiB, 9);
}

static void destroy_after(const char *when, const char *snap)
{
        if (snap && vt_has_vm(snap, "victim"))
                cr_assert(vt_has_pattern(vt_dev(&vt, "victim", "volatile"), 0, MiB, 9), "%s: the disposable survived "
                          "but lost its data: a destroy was half done", when);
        else
                cw_victim();
}

static const char *const destroy_argv[8] = { "destroy", "--wait", "victim" };

void cw_walk_destroy(void)
{
        walk(destroy_argv, cw_victim, destroy_after);
}

/* commit: the DVM Template's private, written with pattern commit_seed while it runs, is
 * committed by its stop; after the kill and recover it is committed whole, or (killed before
 * the stop was recorded) still running with the data; either way the next start reads it */
static int commit_seed = 30;

static void commit_baseline(void)
{
        VT_CLI_OK(&vt, "start", "dvm");
        vt_pattern(vt_dev(&vt, "dvm", "private"), 0, MiB, commit_seed);
}

static void commit_after(const char *when, const char *snap)
{
        if (snap && strstr(snap, "\nvm dvm 1\n")) {
                cr_assert(vt_has_pattern(vt_dev(&vt, "dvm", "private"), 0, MiB, commit_seed), "%s: the DVM Template "
                          "still runs but lost what it wrote", when);
                VT_CLI_OK(&vt, "stop", "dvm");
        }
        /* rbd: one snapshot in the cluster for each committed volume (tmpl's root and
         * private, dvm's private): the layer a commit replaced is gone, none was left */
        if (snap && strcmp(vt.backend, "rbd") == 0) {
                int n = 0;
                for (const char *p = snap; (p = strstr(p, "\nksnap ")); p++)
                        n++;
                cr_assert_eq(n, 3, "%s: %d snapshots in the cluster, not the 3 committed volumes'", when, n);
        }
        VT_CLI_OK(&vt, "start", "dvm");
        cr_assert(vt_has_pattern(vt_dev(&vt, "dvm", "private"), 0, MiB, commit_seed), "%s: the commit of the DVM "
                  "Template's private was lost or half done", when);
        commit_seed = commit_seed % 200 + 31;
        vt_pattern(vt_dev(&vt, "dvm", "private"), 0, MiB, commit_seed);
}

static const char *const commit_argv[8] = { "stop", "dvm" };

void cw_walk_commit(void)
{
        /* once first: a DVM Template's private goes into the cluster at its first stop, so
         * that every stop of the walk takes the same steps (a commit into its image) */
        VT_CLI_OK(&vt, "start", "dvm");
        VT_CLI_OK(&vt, "stop", "dvm");
        walk(commit_argv, commit_baseline, commit_after);
        VT_CLI_OK(&vt, "stop", "dvm");
        free(vt_check_invariants(&vt, "after the walk of the commit"));
}

/* The walk of a destroy left to the worker runs with $DVM_VOL_BIN pointing nowhere: no
 * worker starts by itself, so the queue is what the killed command left. */
#define NO_WORKER "/nonexistent/dvm-vol"

/* Whether VM @name exists, by `info`. */
static bool exists_now(const char *name)
{
        struct vt_run r = vt_cli(&vt, "info", name, NULL);
        bool e = r.status == 0;
        vt_run_free(&r);
        return e;
}

/* destroy (left to the worker): the wipe a finished one queued is drained by `worker`,
 * then the pool must be at rest; the victim is gone, or whole (killed before the intent) */
static void destroy_later_after(const char *when, const char *snap)
{
        char again[400];

        (void)snap;
        VT_CLI_OK(&vt, "worker");
        snprintf(again, sizeof(again), "%s, then worker", when);
        free(vt_check_invariants(&vt, again));
        if (exists_now("victim"))
                cr_assert(vt_has_pattern(vt_dev(&vt, "victim", "volatile"), 0, MiB, 9), "%s: the disposable survived "
                          "but lost its data: a destroy was half done", when);
        else
                cw_victim();
}

static const char *const destroy_later_argv[8] = { "destroy", "victim" };

void cw_walk_destroy_later(void)
{
        setenv("DVM_VOL_BIN", NO_WORKER, 1);
        walk(destroy_later_argv, cw_victim, destroy_later_after);
        unsetenv("DVM_VOL_BIN");
}

/* The VMs `list` shows as ready. */
static int ready_count(void)
{
        struct vt_run r = vt_cli(&vt, "list", NULL);
        int n = 0;

        cr_assert_eq(r.status, 0, "list: exit %d: %s", r.status, r.err);
        for (char *p = r.out; (p = strstr(p, " ready")); p++)
                n++;
        vt_run_free(&r);
        return n;
}

/* refill: no ready one of "dvm", which keeps one */
static void refill_baseline(void)
{
        VT_CLI_OK(&vt, "preload", "dvm", "--count", "1");
        cr_assert_eq(ready_count(), 0, "a ready one before the walk of the refill");
}

/* refill: after the kill and recover the ready one is whole (running, template data) or
 * absent; the worker run to its end leaves one and a pool at rest; it goes again, through
 * destroy --wait, for the next step */
static void refill_after(const char *when, const char *snap)
{
        char again[400], name[64] = "";
        struct vt_run r;

        (void)snap;
        VT_CLI_OK(&vt, "worker");
        snprintf(again, sizeof(again), "%s, then worker", when);
        free(vt_check_invariants(&vt, again));
        cr_assert_eq(ready_count(), 1, "%s: ready ones", again);
        r = vt_cli(&vt, "list", NULL);
        for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n"))
                if (strstr(line, " ready"))
                        sscanf(line, "%63s", name);
        vt_run_free(&r);
        cr_assert(vt_has_pattern(vt_dev(&vt, name, "root"), 0, 4 * MiB, 1), "%s: the ready %s lacks the template data",
                  again, name);
        VT_CLI_OK(&vt, "destroy", "--wait", name);
}

static const char *const refill_argv[8] = { "worker" };

void cw_walk_refill(void)
{
        setenv("DVM_VOL_BIN", NO_WORKER, 1);
        walk(refill_argv, refill_baseline, refill_after);
        unsetenv("DVM_VOL_BIN");
}

/* import: afterwards the TemplateVM holds the whole image, or does not exist */
static uint64_t image_hash;

static void import_after(const char *when, const char *snap)
{
        if (snap && !vt_has_vm(snap, "imp"))
                return;
        VT_CLI_OK(&vt, "start", "imp");
        uint64_t h = vt_hash(vt_dev(&vt, "imp", "root"), 0, 16 * MiB);
        cr_assert_eq(h, image_hash, "%s: the imported root differs from the image", when);
        VT_CLI_OK(&vt, "stop", "imp");
        VT_CLI_OK(&vt, "destroy", "--wait", "imp");
}

void cw_walk_import(void)
{
        char image[300];
        int st;

        snprintf(image, sizeof(image), "%s-import.img", vt.state);
        free(vt_sh(&st, "rm -f %s; truncate -s 16M %s", image, image));
        vt_pattern(image, 0, 3 * MiB, 21);
        vt_pattern(image, 10 * MiB, MiB, 22);
        image_hash = vt_hash(image, 0, 0);
        const char *const argv[8] = { "template", "import", "imp", "--root", image };
        walk(argv, nothing, import_after);
        unlink(image);
}

/* How long an uninterrupted spawn and destroy of the victim take on this machine now: the
 * kills land inside that span whatever the speed of the host. */
static void time_victim(double *ret_spawn, double *ret_destroy)
{
        double t = seconds();

        VT_CLI_OK(&vt, "spawn", "dvm", "--name", "victim");
        *ret_spawn = seconds() - t;
        t = seconds();
        VT_CLI_OK(&vt, "destroy", "--wait", "victim");
        *ret_destroy = seconds() - t;
}

/* kill -9 at a random time into a spawn or a destroy, recover, check; many times */
void cw_random_kill(int rounds)
{
        unsigned seed = (unsigned)time(NULL), killed = 0, finished = 0;
        double span[2];
        bool exists = false;
        char when[160];

        srand(seed);
        time_victim(&span[0], &span[1]);
        for (int i = 0; i < rounds; i++) {
                char *argv[] = { vt.dvm_vol, "--state-dir", vt.state, "--pool", vt.pool,
                                 exists ? "destroy" : "spawn", exists ? "victim" : "dvm", exists ? "--wait" : "--name",
                                 exists ? NULL : "victim", NULL };
                pid_t pid = fork();
                int st;

                cr_assert(pid >= 0, "fork: %m");
                if (pid == 0) {
                        int fd = open("/dev/null", O_WRONLY);
                        dup2(fd, 1);
                        dup2(fd, 2);
                        execv(argv[0], argv);
                        _exit(127);
                }
                /* somewhere from a fifth into the operation (past the process start) to
                 * just before its end, as timed above */
                double d = span[exists] * (0.2 + 0.75 * rand() / (double)RAND_MAX);
                usleep((useconds_t)(d * 1e6));
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
                if (WIFSIGNALED(st))
                        killed++;
                else
                        finished++;
                snprintf(when, sizeof(when), "round %d (seed %u): %s %s after %.0f ms", i, seed,
                         exists ? "destroy" : "spawn", WIFSIGNALED(st) ? "killed" : "finished", d * 1e3);
                cw_recover(when);
                char *snap = vt_check_invariants(&vt, when);
                exists = vt_has_vm(snap, "victim");
                free(snap);
                if (exists)
                        cr_assert(vt_has_pattern(vt_dev(&vt, "victim", "root"), 0, 4 * MiB, 1),
                                  "%s: victim's root lacks the template data", when);
        }
        printf("random kill (%s): %d rounds, %u killed mid-way, %u finished first (seed %u; uninterrupted spawn %.0f ms, "
               "destroy %.0f ms)\n", vt.backend, rounds, killed, finished, seed, span[0] * 1e3, span[1] * 1e3);
        cr_assert(killed >= (unsigned)rounds / 4, "only %u of %d rounds were killed mid-way: the timing misses", killed, rounds);
}
