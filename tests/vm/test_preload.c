// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, preloaded disposables (issue 15): `preload DVM --count N` and the worker fill;
 * spawn takes a ready one (the same disposable as a built one: template data, fresh
 * volatile, nothing of an earlier one) and the worker refills; a commit of the TemplateVM's
 * root or the DVM Template's private makes ready ones outdated: never taken, wiped and
 * rebuilt; two spawns racing never get the same one; the space guard limits the count with
 * a message; the worker or a spawn killed at a step (kill -9: _exit at a fault point) is
 * recovered to a pool at rest, with 0 canary copies once the worker is done. The crash walk
 * of every step of a refill: test_crash_preload.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "canary.h"
#include "dvm.h"
#include "crashwalk.h"
#include "vminvariants.h"

#define MiB (1ULL << 20)
#define NO_WORKER "/nonexistent/dvm-vol"
#define MAX_READY 8

static struct vt vt;
static struct canary can;

#define CLI_OK(...) VT_CLI_OK(&vt, __VA_ARGS__)

static void setup(void)
{
        canary_fixture(&vt, &can, "thin");
        /* no worker starts by itself: each test runs `worker` where it wants the refill */
        setenv("DVM_VOL_BIN", NO_WORKER, 1);
}

static void teardown(void)
{
        unsetenv("DVM_VOL_BIN");
        scratch_cleanup(&vt);
}

TestSuite(preload, .init = setup, .fini = teardown, .timeout = 900);

/* The names `list` shows as ready, in @ret (up to MAX_READY). Returns their count. */
static int ready_list(char ret[MAX_READY][64])
{
        struct vt_run r = vt_cli(&vt, "list", NULL);
        int n = 0;

        cr_assert_eq(r.status, 0, "list: exit %d: %s", r.status, r.err);
        for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
                char name[64], kind[32], tmpl[64], state[32];
                if (sscanf(line, "%63s %31s %63s %31s", name, kind, tmpl, state) == 4 && strcmp(state, "ready") == 0 &&
                    n < MAX_READY)
                        snprintf(ret[n++], 64, "%s", name);
        }
        vt_run_free(&r);
        return n;
}

static bool among(char names[MAX_READY][64], int n, const char *name)
{
        for (int i = 0; i < n; i++)
                if (strcmp(names[i], name) == 0)
                        return true;
        return false;
}

static int status(const char *verb, const char *name)
{
        struct vt_run r = vt_cli(&vt, verb, name, NULL);
        int st = r.status;
        vt_run_free(&r);
        return st;
}

static uint64_t copies(const char *what)
{
        return canary_scan(scratch_disk(), &can, what);
}

/* What every disposable of "dvm" reads, taken or built: the template data (root pattern 1,
 * private pattern 2, vt_make_templates()), and a volatile that holds no canary. */
static void check_fresh(const char *d, const char *when)
{
        cr_expect(vt_has_pattern(vt_dev(&vt, d, "root"), 0, 8 * MiB, 1), "%s: %s's root lacks the template data", when,
                  d);
        cr_expect(vt_has_pattern(vt_dev(&vt, d, "private"), 0, 4 * MiB, 2), "%s: %s's private lacks the DVM "
                  "Template's data", when, d);
        cr_expect(!canary_reads_back(vt_dev(&vt, d, "volatile"), 0, MiB, &can), "%s: %s's volatile reads an earlier "
                  "disposable's canary", when, d);
        cr_expect(!canary_reads_back(vt_dev(&vt, d, "root"), 20 * MiB, MiB, &can), "%s: %s's root reads an earlier "
                  "disposable's canary", when, d);
}

/*
 * fill, take, refill: the worker makes N ready (listed apart, info says so); an unnamed
 * spawn takes the oldest, which is then running and no longer ready, and reads what a built
 * one reads; the worker refills; a named spawn builds; a disposable written with the canary
 * and destroyed leaves 0 copies and nothing readable through the next taken one; --count 0
 * wipes the ready ones.
 */
Test(preload, fill_take_refill)
{
        char ready[MAX_READY][64], again[MAX_READY][64];

        CLI_OK("preload", "dvm", "--count", "2");
        cr_expect_eq(ready_list(ready), 0, "ready ones before any worker ran");
        CLI_OK("worker");
        cr_assert_eq(ready_list(ready), 2, "ready ones after the worker");
        struct vt_run r = vt_cli(&vt, "info", ready[0], NULL);
        cr_expect(strstr(r.out, "state:     ready"), "info of a ready one: %s", r.out);
        vt_run_free(&r);
        r = vt_cli(&vt, "preload", "dvm", NULL);
        cr_expect(strstr(r.out, "dvm") && strstr(r.out, "    2     2"), "preload dvm: %s", r.out);
        vt_run_free(&r);
        free(vt_check_invariants(&vt, "filled"));

        char *d = vt_spawn(&vt, "dvm", NULL);
        cr_expect_str_eq(d, ready[0], "spawn did not take the oldest ready one");
        cr_expect_eq(ready_list(again), 1, "ready ones after a take");
        cr_expect(!among(again, 1, d), "%s is still listed ready after it was taken", d);
        check_fresh(d, "taken");
        canary_write(vt_dev(&vt, d, "volatile"), 0, MiB, &can);
        canary_write(vt_dev(&vt, d, "root"), 20 * MiB, MiB, &can);
        cr_assert_gt(copies("taken, written"), 0, "the canary is not on the disk: the scan proves nothing");

        CLI_OK("worker");
        cr_expect_eq(ready_list(again), 2, "ready ones after the refill");
        char *named = vt_spawn(&vt, "dvm", "--name", "mine", NULL);
        cr_expect_eq(ready_list(again), 2, "a named spawn took a ready one");
        CLI_OK("destroy", d);
        CLI_OK("worker");
        cr_expect_eq(copies("taken one destroyed, worker done"), 0, "the canary survived");
        char *next = vt_spawn(&vt, "dvm", NULL);
        cr_expect(among(again, 2, next), "the spawn after the refill built %s instead of taking a ready one", next);
        check_fresh(next, "taken after a written one went");
        CLI_OK("destroy", "--wait", next, named);

        CLI_OK("preload", "dvm", "--count", "0");
        cr_expect_eq(ready_list(again), 0, "ready ones listed after --count 0");
        CLI_OK("worker");
        cr_expect_eq(ready_list(again), 0, "ready ones after --count 0 and the worker");
        cr_expect_eq(status("info", again[0]), 3, "%s is left after --count 0 and the worker", again[0]);
        free(vt_check_invariants(&vt, "after --count 0"));
        free(d);
        free(named);
        free(next);
}

/* Bad input changes nothing: a count on a VM that is no DVM Template, a count too big. */
Test(preload, bad_input)
{
        static const char *const cases[][5] = {
                { "preload", "tmpl", "--count", "1", "not a DVM Template" },
                { "preload", "nosuch", "--count", "1", "nosuch" },
                { "preload", "dvm", "--count", "65", "\"65\"" },
                { "preload", "dvm", "--count", "-1", "\"-1\"" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct vt_run r = vt_cli(&vt, cases[i][0], cases[i][1], cases[i][2], cases[i][3], NULL);
                cr_expect_neq(r.status, 0, "%s %s %s %s succeeded", cases[i][0], cases[i][1], cases[i][2], cases[i][3]);
                cr_expect(strstr(r.err, cases[i][4]), "%s %s: the error does not say %s: %s", cases[i][1], cases[i][3],
                          cases[i][4], r.err);
                vt_run_free(&r);
        }
        struct vt_run r = vt_cli(&vt, "preload", NULL);
        cr_expect_eq(r.status, 0, "preload: exit %d: %s", r.status, r.err);
        cr_expect_eq(vt_count_lines(r.out), 1, "a setting was stored by bad input: %s", r.out);
        vt_run_free(&r);
}

/*
 * A commit of the TemplateVM's root, then of the DVM Template's private: the ready one built
 * before is outdated, never taken (the spawn builds, with the new data), and the worker
 * wipes it and builds one with the new data.
 */
Test(preload, outdated_replaced_after_commit)
{
        static const struct { const char *vm, *vol; uint64_t off; uint32_t seed; } commits[] = {
                { "tmpl", "root", 12 * MiB, 5 },
                { "dvm", "private", 6 * MiB, 6 },
        };
        char ready[MAX_READY][64], now[MAX_READY][64];

        CLI_OK("preload", "dvm", "--count", "1");
        CLI_OK("worker");
        for (size_t i = 0; i < 2; i++) {
                char when[128];
                snprintf(when, sizeof(when), "after the commit of %s/%s", commits[i].vm, commits[i].vol);
                cr_assert_eq(ready_list(ready), 1, "%s: ready ones before", when);
                CLI_OK("start", commits[i].vm);
                vt_pattern(vt_dev(&vt, commits[i].vm, commits[i].vol), commits[i].off, MiB, commits[i].seed);
                CLI_OK("stop", commits[i].vm);
                struct vt_run r = vt_cli(&vt, "info", ready[0], NULL);
                cr_expect(strstr(r.out, "outdated"), "%s: info of %s: %s", when, ready[0], r.out);
                vt_run_free(&r);

                char *d = vt_spawn(&vt, "dvm", NULL);
                cr_expect_str_neq(d, ready[0], "%s: spawn took the outdated %s", when, d);
                cr_expect(vt_has_pattern(vt_dev(&vt, d, commits[i].vol), commits[i].off, MiB, commits[i].seed),
                          "%s: the spawned %s lacks the committed data", when, d);
                CLI_OK("destroy", "--wait", d);
                free(d);

                CLI_OK("worker");
                cr_assert_eq(ready_list(now), 1, "%s: ready ones after the worker", when);
                cr_expect_str_neq(now[0], ready[0], "%s: the outdated %s is still the ready one", when, ready[0]);
                cr_expect_eq(status("info", ready[0]), 3, "%s: the outdated %s is left", when, ready[0]);
                cr_expect(vt_has_pattern(vt_dev(&vt, now[0], commits[i].vol), commits[i].off, MiB, commits[i].seed),
                          "%s: the rebuilt %s lacks the committed data", when, now[0]);
                free(vt_check_invariants(&vt, when));
        }
}

/* Two spawns at once, rounds of them: never the same disposable, and with one ready, one
 * of the two takes it and the other builds. */
Test(preload, concurrent_take)
{
        char ready[MAX_READY][64], out[2][300];
        int st;

        CLI_OK("preload", "dvm", "--count", "1");
        for (int round = 0; round < 4; round++) {
                char names[2][64] = {};
                CLI_OK("worker");
                cr_assert_eq(ready_list(ready), 1, "round %d: ready ones", round);
                for (int i = 0; i < 2; i++)
                        snprintf(out[i], sizeof(out[i]), "%s.race%d", vt.state, i);
                char *o = vt_sh(&st, "cd / && c='%s --state-dir %s --pool %s spawn dvm'; $c > %s 2>&1 & p=$!; "
                                     "$c > %s 2>&1 & q=$!; wait $p; a=$?; wait $q; echo $a $?", vt.dvm_vol, vt.state,
                                vt.pool, out[0], out[1]);
                cr_assert_str_eq(o, "0 0\n", "round %d: the racing spawns' exit codes: %s", round, o);
                free(o);
                for (int i = 0; i < 2; i++) {
                        FILE *f = fopen(out[i], "r");
                        cr_assert(f && fscanf(f, "%63s", names[i]) == 1, "round %d: no name from spawn %d", round, i);
                        fclose(f);
                        unlink(out[i]);
                }
                cr_expect_str_neq(names[0], names[1], "round %d: both spawns got %s", round, names[0]);
                cr_expect((strcmp(names[0], ready[0]) == 0) + (strcmp(names[1], ready[0]) == 0) == 1,
                          "round %d: the ready %s went to %s and %s", round, ready[0], names[0], names[1]);
                for (int i = 0; i < 2; i++)
                        check_fresh(names[i], "raced");
                CLI_OK("destroy", "--wait", names[0], names[1]);
        }
        free(vt_check_invariants(&vt, "after the races"));
}

/* The space guard: a count it does not allow now is kept with a warning; the worker makes
 * none and notes why; with the guard lowered the worker fills. */
Test(preload, space_guard_limits_the_count)
{
        char ready[MAX_READY][64];

        CLI_OK("pool", "set", vt.pool, "space-guard", "99");
        struct vt_run r = vt_cli(&vt, "preload", "dvm", "--count", "2", NULL);
        cr_expect_eq(r.status, 0, "preload under the guard: exit %d: %s", r.status, r.err);
        cr_expect(strstr(r.err, "space guard"), "preload under the guard said nothing of it: %s", r.err);
        vt_run_free(&r);
        CLI_OK("worker");
        cr_expect_eq(ready_list(ready), 0, "ready ones under the guard");
        r = vt_cli(&vt, "preload", "dvm", NULL);
        cr_expect(strstr(r.out, "0 of 2 ready") && strstr(r.out, "space guard"), "preload dvm: no note: %s", r.out);
        vt_run_free(&r);
        CLI_OK("pool", "set", vt.pool, "space-guard", "10");
        CLI_OK("worker");
        cr_expect_eq(ready_list(ready), 2, "ready ones with the guard lowered");
        free(vt_check_invariants(&vt, "guard lowered"));
}

/* The fault-injection build next to this one, or a skip. */
static void use_fault_build(void)
{
        if (!cw_use_fault_build(&vt))
                cr_skip_test("SKIP: no fault-injection build of dvm-vol: make FAULT=1 BUILD=<build>/fault all");
}

/*
 * kill -9 (the _exit of a fault point) of the worker in its refill: with the new ready
 * one's devices built but not committed, at the start of a refill's change, in the wipe of
 * a destroyed one (the canary on disk) before its refill; and of a spawn between its take
 * and its commit. recover leaves a pool at rest (the half-built one rolled back, the take
 * undone), the worker then fills, and 0 canary copies are left.
 */
Test(preload, killed_worker_and_spawn)
{
        static const struct { const char *verb, *fault; } cases[] = {
                { "worker", "preload.built:1" },
                { "worker", "change.begin:1" },
                { "worker", "dm.remove:1" },
                { "spawn", "preload.taken:1" },
        };
        char ready[MAX_READY][64], before[MAX_READY][64];

        use_fault_build();
        CLI_OK("preload", "dvm", "--count", "1");
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *worker[] = { "worker", NULL }, *spawn[] = { "spawn", "dvm", NULL };
                char what[128];
                int n = ready_list(before);
                snprintf(what, sizeof(what), "%s killed at %s, then recover", cases[i].verb, cases[i].fault);
                if (strcmp(cases[i].fault, "dm.remove:1") == 0) {
                        /* a taken one written and destroyed: the worker wipes it, then refills */
                        cr_assert_eq(n, 1, "%s: no ready one to take", what);
                        char *d = vt_spawn(&vt, "dvm", NULL);
                        /* root: the volatile's bytes reach the disk under its key */
                        canary_write(vt_dev(&vt, d, "root"), 20 * MiB, MiB, &can);
                        cr_assert_gt(copies("written"), 0, "the canary is not on the disk");
                        CLI_OK("destroy", d);
                        free(d);
                } else if (strcmp(cases[i].verb, "worker") == 0 && n > 0) {
                        CLI_OK("destroy", "--wait", before[0]);
                }
                cw_killed_at(&vt, cases[i].fault, strcmp(cases[i].verb, "worker") == 0 ? worker : spawn);
                CLI_OK("recover");
                free(vt_check_invariants(&vt, what));
                if (strcmp(cases[i].verb, "spawn") == 0) {
                        cr_expect_eq(ready_list(ready), 1, "%s: the take was not undone", what);
                        cr_expect_str_eq(ready[0], before[0], "%s: the ready one changed", what);
                }
                CLI_OK("worker");
                cr_expect_eq(ready_list(ready), 1, "%s, then worker: ready ones", what);
                cr_expect_eq(copies(what), 0, "%s, then worker: the canary survived", what);
                free(vt_check_invariants(&vt, what));
        }
}

/*
 * A spawn after a refill killed with its new one's devices built but not committed (the
 * pool left dirty, no recover run) recovers inside its take before it hands anything out:
 * it gets the committed ready one, and the pool is at rest (the half-built one's devices
 * and thin ids gone, the transaction ids matching).
 */
Test(preload, spawn_after_killed_refill_recovers_first)
{
        const char *worker[] = { "worker", NULL };
        char ready[MAX_READY][64], left[MAX_READY][64];

        use_fault_build();
        CLI_OK("preload", "dvm", "--count", "2");
        CLI_OK("worker");
        cr_assert_eq(ready_list(ready), 2, "ready ones");
        CLI_OK("destroy", "--wait", ready[1]);
        cw_killed_at(&vt, "preload.built:1", worker);
        char *d = vt_spawn(&vt, "dvm", NULL);
        cr_expect_str_eq(d, ready[0], "the spawn did not take the committed ready one");
        free(vt_check_invariants(&vt, "spawn after a killed refill"));
        cr_expect_eq(ready_list(left), 0, "ready ones after the take");
        check_fresh(d, "taken after a killed refill");
        free(d);
}

/*
 * Through the library (a long-lived caller): dvm_spawn() takes the ready one and describes
 * it as dvm_vm_get() does afterwards (running, no longer ready, its devices active); the
 * worker it starts refills by itself after the call returned; and once the context is freed
 * (dvm_ctx_free() waits for the thread that starts the worker and reaps its middle process)
 * the caller is left no child to reap (the worker is detached, never the caller's zombie).
 * Asked before, a waitpid() of the caller races that thread's fork.
 */
Test(preload, library_spawn_starts_the_worker)
{
        char ready[MAX_READY][64], now[MAX_READY][64];
        struct dvm_vm_info info, again;
        dvm_ctx *ctx;
        dvm_pool *pool;

        CLI_OK("preload", "dvm", "--count", "1");
        CLI_OK("worker");
        cr_assert_eq(ready_list(ready), 1, "ready ones");
        setenv("DVM_VOL_BIN", vt.dvm_vol, 1);
        cr_assert_eq(dvm_ctx_new(vt.state, &ctx), 0, "dvm_ctx_new");
        int r = dvm_pool_open(ctx, vt.pool, &pool);
        cr_assert_eq(r, 0, "dvm_pool_open: %d (%s)", r, dvm_ctx_last_error(ctx));
        r = dvm_spawn(pool, "dvm", NULL, &info);
        cr_assert_eq(r, 0, "dvm_spawn: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_expect_str_eq(info.name, ready[0], "dvm_spawn did not take the ready one");
        cr_expect(info.running && !info.ready && !info.outdated && info.n_volumes == 3,
                  "%s as the spawn describes it: running %d ready %d outdated %d volumes %u", info.name, info.running,
                  info.ready, info.outdated, info.n_volumes);
        r = dvm_vm_get(pool, info.name, &again);
        cr_assert_eq(r, 0, "dvm_vm_get: %d (%s)", r, dvm_ctx_last_error(ctx));
        for (unsigned i = 0; i < info.n_volumes && i < again.n_volumes; i++) {
                const struct dvm_volume_info *a = &info.volumes[i], *b = &again.volumes[i];
                cr_expect(a->active && strcmp(a->name, b->name) == 0 && strcmp(a->path, b->path) == 0 &&
                          a->used == b->used && a->backend_id == b->backend_id && a->ephemeral == b->ephemeral,
                          "%s/%s: the spawn's description differs from dvm_vm_get's", info.name, a->name);
        }
        double t0 = vt_now();
        while ((ready_list(now) != 1 || strcmp(now[0], info.name) == 0) && vt_now() - t0 < 120)
                usleep(100 * 1000);
        cr_expect(ready_list(now) == 1 && strcmp(now[0], info.name) != 0, "the worker the spawn started did not "
                  "refill in 120 s");
        printf("preload: the started worker refilled %.2f s after dvm_spawn returned\n", vt_now() - t0);
        setenv("DVM_VOL_BIN", NO_WORKER, 1);
        dvm_pool_close(pool);
        dvm_ctx_free(ctx);
        errno = 0;
        cr_expect(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "the spawn left its caller a child");
        CLI_OK("destroy", "--wait", info.name);
        free(vt_check_invariants(&vt, "after the library spawn and the refill"));
}

/* A ready one is handed out by a spawn only: not by its name to a domain's disk, and the
 * DVM Template's destroy takes its ready ones (and setting) with it. */
Test(preload, template_destroy_takes_ready_ones)
{
        char ready[MAX_READY][64];

        CLI_OK("preload", "dvm", "--count", "2");
        CLI_OK("worker");
        cr_assert_eq(ready_list(ready), 2, "ready ones");
        CLI_OK("destroy", "dvm");
        cr_expect_eq(ready_list(ready), 0, "ready ones after the DVM Template's destroy");
        cr_expect_eq(status("info", "dvm"), 3, "the DVM Template is left");
        struct vt_run r = vt_cli(&vt, "preload", NULL);
        cr_expect_eq(vt_count_lines(r.out), 1, "a setting outlived its DVM Template: %s", r.out);
        vt_run_free(&r);
        free(vt_check_invariants(&vt, "DVM Template destroyed"));
}

/* A reboot takes the ready ones' devices: recover destroys them (no leak, a pool at rest)
 * and the worker (which recover starts) builds them again. */
Test(preload, reboot_then_refill)
{
        char ready[MAX_READY][64];

        CLI_OK("preload", "dvm", "--count", "2");
        CLI_OK("worker");
        cr_assert_eq(ready_list(ready), 2, "ready ones");
        vt_reboot(&vt);
        CLI_OK("recover");
        free(vt_check_invariants(&vt, "after reboot and recover"));
        cr_expect_eq(ready_list(ready), 0, "ready ones whose devices went with the host");
        CLI_OK("worker");
        cr_expect_eq(ready_list(ready), 2, "ready ones after the worker");
        free(vt_check_invariants(&vt, "after reboot, recover and worker"));
}
