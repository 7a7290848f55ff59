// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, concurrency: 16 processes spawn and destroy disposables at random for a few
 * minutes ($DVM_STRESS_SECONDS, default 180), some named, some not, writing into them;
 * every verb must succeed. Afterwards the pool is at rest and must pass the invariants
 * (devices, thin ids, loops, intents against the catalog), then thin_check on its metadata
 * with the pool down, and again the invariants once it is activated again.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vminvariants.h"
#include "vmtest.h"

#define WORKERS 16
#define KiB (1ULL << 10)

static struct vt vt;

static void setup(void)
{
        vt_init(&vt, "2G");
        VT_CLI_OK(&vt, "template", "create", "tmpl", "--root-size", "32M", "--private-size", "16M");
        VT_CLI_OK(&vt, "dvm", "create", "dvm", "--template", "tmpl");
}

static void teardown(void) { vt_cleanup(&vt); }

TestSuite(stress, .init = setup, .fini = teardown, .timeout = 1800);

/* What a worker did, sent to the parent through a pipe. */
struct tally {
        unsigned spawns, destroys, failures;
        char first_failure[400];
};

static int run(char *const argv[], char *err, size_t len)
{
        char out_name[] = "/tmp/stress-err-XXXXXX";
        int fd = mkstemp(out_name), st;
        pid_t pid;

        unlink(out_name);
        pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, 1);
                dup2(fd, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        waitpid(pid, &st, 0);
        ssize_t n = pread(fd, err, len - 1, 0);
        err[n > 0 ? n : 0] = 0;
        close(fd);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* One worker: random spawns (named or not) and destroys of its own disposables. */
static void worker(int id, double deadline, int out)
{
        char names[8][32], err[400], disp[32];
        unsigned n = 0;
        struct tally t = {};

        srand((unsigned)(time(NULL) ^ (id * 7919)));
        while (vt_now() < deadline) {
                bool spawn = n == 0 || (n < 8 && rand() % 2);
                char *argv[12] = { vt.dvm_vol, "--state-dir", vt.state, "--pool", vt.pool };
                int st;

                if (spawn) {
                        bool named = rand() % 2;
                        snprintf(disp, sizeof(disp), "w%d-%u.%d", id, t.spawns, rand() % 100);
                        argv[5] = "spawn";
                        argv[6] = "dvm";
                        argv[7] = named ? "--name" : NULL;
                        argv[8] = named ? disp : NULL;
                        /* an unnamed one's name is the first line of spawn's output */
                        if (!named) {
                                char cmd[1024];
                                snprintf(cmd, sizeof(cmd), "%s --state-dir %s --pool %s spawn dvm 2>&1", vt.dvm_vol,
                                         vt.state, vt.pool);
                                FILE *p = popen(cmd, "r");
                                if (p && fgets(disp, sizeof(disp), p)) {
                                        disp[strcspn(disp, "\n")] = 0;
                                        snprintf(err, sizeof(err), "%s", disp);
                                        while (fgets(err, sizeof(err), p))
                                                ;
                                }
                                st = p ? pclose(p) : -1;
                                st = st == -1 ? 255 : WEXITSTATUS(st);
                                if (st != 0)
                                        snprintf(err, sizeof(err), "spawn (unnamed) failed: %s", disp);
                        } else {
                                st = run(argv, err, sizeof(err));
                        }
                        if (st == 0) {
                                snprintf(names[n++], sizeof(names[0]), "%s", disp);
                                t.spawns++;
                                /* a write, so that destroys have something to wipe */
                                char dev[128];
                                snprintf(dev, sizeof(dev), "/dev/mapper/DVM-%s-%s-volatile", vt.pool, disp);
                                int fd = open(dev, O_WRONLY);
                                static const char buf[64 * KiB] = { 1 };
                                if (fd >= 0) {
                                        if (pwrite(fd, buf, sizeof(buf), (off_t)(rand() % 64) * 64 * KiB) < 0)
                                                st = 1;
                                        close(fd);
                                }
                        }
                } else {
                        unsigned k = (unsigned)rand() % n;
                        argv[5] = "destroy";
                        argv[6] = names[k];
                        argv[7] = "--wait";
                        argv[8] = NULL;
                        st = run(argv, err, sizeof(err));
                        if (st == 0) {
                                t.destroys++;
                                memmove(names[k], names[n - 1], sizeof(names[0]));
                                n--;
                        }
                }
                if (st != 0 && t.failures++ == 0)
                        snprintf(t.first_failure, sizeof(t.first_failure), "worker %d: %s: exit %d: %.300s", id,
                                 spawn ? "spawn" : "destroy", st, err);
        }
        if (write(out, &t, sizeof(t)) != sizeof(t))
                _exit(2);
        _exit(0);
}

Test(stress, sixteen_processes)
{
        const char *env = getenv("DVM_STRESS_SECONDS");
        double seconds = env ? atof(env) : 180, deadline = vt_now() + seconds;
        int pipes[WORKERS][2];
        pid_t pids[WORKERS];
        struct tally sum = {};
        char first[400] = "";

        for (int i = 0; i < WORKERS; i++) {
                cr_assert_eq(pipe(pipes[i]), 0, "pipe: %m");
                pids[i] = fork();
                cr_assert(pids[i] >= 0, "fork: %m");
                if (pids[i] == 0)
                        worker(i, deadline, pipes[i][1]);
                close(pipes[i][1]);
        }
        for (int i = 0; i < WORKERS; i++) {
                struct tally t = {};
                int st;
                cr_assert_eq(read(pipes[i][0], &t, sizeof(t)), (ssize_t)sizeof(t), "worker %d sent no tally", i);
                close(pipes[i][0]);
                waitpid(pids[i], &st, 0);
                sum.spawns += t.spawns;
                sum.destroys += t.destroys;
                sum.failures += t.failures;
                if (!first[0] && t.failures)
                        snprintf(first, sizeof(first), "%s", t.first_failure);
        }
        printf("stress: %d processes, %.0f s: %u spawns, %u destroys, %u failures\n", WORKERS, seconds, sum.spawns,
               sum.destroys, sum.failures);
        cr_assert_eq(sum.failures, 0, "%u verbs failed under concurrency; the first: %s", sum.failures, first);
        cr_assert(sum.spawns >= WORKERS, "only %u spawns in %.0f s", sum.spawns, seconds);

        free(vt_check_invariants(&vt, "after the stress run"));

        /* the metadata, offline: everything down, thin_check through a loop (it opens with
         * O_DIRECT, which tmpfs files refuse) */
        int st;
        free(vt_sh(&st, "for d in $(dmsetup ls | awk '{print $1}' | grep '^DVM-%s-'); do dmsetup remove $d || exit 1; done; "
                        "dmsetup remove DVM-%s", vt.pool, vt.pool));
        cr_assert_eq(st, 0, "taking the pool down");
        char *out = vt_sh(&st, "l=$(losetup -f --show %s/%s/metadata.img) || exit 9; thin_check $l 2>&1; s=$?; "
                          "losetup -d $l; exit $s", vt.state, vt.pool);
        cr_assert_eq(st, 0, "thin_check after the stress run: status %d: %s", st, out);
        free(out);
        struct vt_run r = vt_cli(&vt, "recover", NULL);
        cr_assert_eq(r.status, 0, "recover after the pool came back: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        free(vt_check_invariants(&vt, "after re-activation and recovery"));
}
