// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, the zero invariant and the wipe off the pool lock (issue 15): a worker held
 * still in the middle of a wipe holds no lock a spawn or another destroy waits for; a new
 * file-backed thin pool skips block zeroing, a pool on devices refuses to, and the pool
 * drops it when a wipe did not finish or a layer with data goes unwiped; after random
 * spawn / write / destroy cycles with kill -9 among them, fresh disposables read zeros
 * wherever they did not write and no byte of an earlier canary.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "canary.h"
#include "crashwalk.h"
#include "vminvariants.h"

#define MiB (1ULL << 20)
#define KiB 1024ULL
#define NO_WORKER "/nonexistent/dvm-vol"

static struct vt vt;
static struct canary can;

#define CLI_OK(...) VT_CLI_OK(&vt, __VA_ARGS__)

static void teardown(void)
{
        unsetenv("DVM_VOL_BIN");
        unsetenv("DVM_FAULT");
        scratch_cleanup(&vt);
}

TestSuite(zeroing, .fini = teardown, .timeout = 2400);

static int status(const char *verb, const char *name)
{
        struct vt_run r = vt_cli(&vt, verb, name, NULL);
        int st = r.status;
        vt_run_free(&r);
        return st;
}

/* Whether `pool info` says the pool skips block zeroing, checked against its live table. */
static bool skips_zeroing(void)
{
        struct vt_run r = vt_cli(&vt, "pool", "info", NULL);
        bool said = strstr(r.out, "zeroing:     skipped") != NULL;
        int st;
        char *table = vt_sh(&st, "dmsetup table DVM-%s", vt.pool);

        cr_assert_eq(r.status, 0, "pool info: exit %d: %s", r.status, r.err);
        cr_assert(strstr(r.out, "zeroing:"), "pool info does not show the zeroing property:\n%s", r.out);
        cr_expect_eq(said, strstr(table, "skip_block_zeroing") != NULL,
                     "pool info says \"%s\" but the table is %s", said ? "skipped" : "on", table);
        vt_run_free(&r);
        free(table);
        return said;
}

/* A disposable whose three volumes hold the canary, @volatile_mib of it in its volatile. */
static char *victim(unsigned volatile_mib)
{
        char *d = vt_spawn(&vt, "dvm", NULL);

        canary_write(vt_dev(&vt, d, "root"), 20 * MiB, MiB, &can);
        canary_write(vt_dev(&vt, d, "private"), 4 * MiB, MiB, &can);
        canary_write(vt_dev(&vt, d, "volatile"), 0, volatile_mib * MiB, &can);
        return d;
}

/* The state letter of process @pid in /proc ('T': stopped), 0 when it is gone. */
static char proc_state(long pid)
{
        char path[64], buf[256], *p;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
        fclose(f);
        return p && p[1] == ' ' ? p[2] : 0;
}

/*
 * A worker held still (SIGSTOP) in the middle of a queued wipe, after it planned it: the
 * wipe has not ended (the canary is on the disk, the VM is still queued), and yet a spawn,
 * and the destroy --wait of that new disposable, return. With the wipe under the pool lock
 * they would wait for it (the lock timeout turns that wait into a failure).
 */
Test(zeroing, spawn_while_a_wipe_runs)
{
        canary_fixture(&vt, &can, "thin");
        if (!cw_use_fault_build(&vt))
                cr_skip_test("SKIP: no fault-injection build of dvm-vol: make FAULT=1 BUILD=<build>/fault all");
        setenv("DVM_VOL_BIN", NO_WORKER, 1);
        char *d = victim(64);
        int st;

        CLI_OK("destroy", d);
        char *out = vt_sh(&st, "DVM_FAULT=later.wiping:1:stop %s --state-dir %s --pool %s worker "
                          "</dev/null >/dev/null 2>&1 & echo $!", vt.dvm_vol, vt.state, vt.pool);
        long pid = strtol(out, NULL, 10);
        free(out);
        cr_assert_gt(pid, 0, "no worker started");
        double t0 = vt_now();
        while (proc_state(pid) != 'T' && proc_state(pid) != 0 && vt_now() - t0 < 300)
                usleep(50 * 1000);
        cr_assert_eq(proc_state(pid), 'T', "the worker did not stop in its wipe (state %c)", proc_state(pid));

        cr_expect_gt(canary_scan(scratch_disk(), &can, "worker stopped in its wipe"), 0,
                     "the canary is gone: the wipe is not in progress");
        cr_expect_eq(status("info", d), 0, "%s went before its wipe ended", d);
        struct vt_run r = vt_cli(&vt, "--lock-timeout", "120", "spawn", "dvm", NULL);
        cr_expect_eq(r.status, 0, "spawn while a wipe runs: exit %d: %s", r.status, r.err);
        char other[64] = "";
        sscanf(r.out, "%63s", other);
        vt_run_free(&r);
        if (other[0]) {
                r = vt_cli(&vt, "--lock-timeout", "120", "destroy", "--wait", other, NULL);
                cr_expect_eq(r.status, 0, "destroy --wait of %s while a wipe runs: exit %d: %s", other, r.status, r.err);
                vt_run_free(&r);
        }
        cr_expect_eq(proc_state(pid), 'T', "the worker moved on before the spawn and destroy returned");
        cr_expect_eq(status("info", d), 0, "%s went while its worker was stopped", d);

        kill((pid_t)pid, SIGCONT);
        t0 = vt_now();
        while (proc_state(pid) != 0 && proc_state(pid) != 'Z' && vt_now() - t0 < 300)
                usleep(100 * 1000);
        cr_assert(proc_state(pid) == 0 || proc_state(pid) == 'Z', "the worker did not finish after SIGCONT");
        cr_expect_eq(status("info", d), 3, "%s is left after its worker", d);
        cr_expect_eq(canary_scan(scratch_disk(), &can, "after the worker"), 0, "the canary survived the worker");
        cr_expect(skips_zeroing(), "a wipe that finished dropped the zero invariant");
        free(vt_check_invariants(&vt, "after the stopped worker went on"));
        free(d);
}

/* A new file-backed pool skips zeroing (its templates' first, empty origins go without a
 * wipe and keep it); a worker killed in the middle of a wipe leaves a pool that drops it
 * at the next look, for good, and the wipe still finishes. */
Test(zeroing, crash_mid_wipe_drops_it)
{
        canary_fixture(&vt, &can, "thin");
        if (!cw_use_fault_build(&vt))
                cr_skip_test("SKIP: no fault-injection build of dvm-vol: make FAULT=1 BUILD=<build>/fault all");
        setenv("DVM_VOL_BIN", NO_WORKER, 1);
        cr_assert(skips_zeroing(), "a new file-backed pool zeroes its blocks");
        char *d = victim(8);
        const char *worker[] = { "worker", NULL };

        CLI_OK("destroy", d);
        cw_killed_at(&vt, "later.wiping:1", worker);
        CLI_OK("worker");
        cr_expect_eq(status("info", d), 3, "%s is left after the second worker", d);
        cr_expect_eq(canary_scan(scratch_disk(), &can, "worker killed mid-wipe, then worker"), 0,
                     "the canary survived");
        cr_expect(!skips_zeroing(), "a wipe that did not finish left the pool skipping block zeroing");
        vt_reboot(&vt);
        CLI_OK("recover");
        cr_expect(!skips_zeroing(), "the pool skips zeroing again after a reboot");
        free(vt_check_invariants(&vt, "after the crash mid-wipe"));
        free(d);
}

/* A TemplateVM commit that replaces a layer holding data frees its blocks unwiped: the pool
 * zeroes from then on. */
Test(zeroing, unwiped_release_drops_it)
{
        canary_fixture(&vt, &can, "thin");
        cr_assert(skips_zeroing(), "a new file-backed pool zeroes its blocks");
        CLI_OK("start", "tmpl");
        canary_write(vt_dev(&vt, "tmpl", "root"), 0, MiB, &can);
        CLI_OK("stop", "tmpl");
        cr_expect(!skips_zeroing(), "the release of tmpl's old root (with data) left the pool skipping zeroing");
}

/* --skip-zeroing yes on devices of unknown contents is refused, and changes nothing. */
Test(zeroing, refused_on_devices)
{
        vt_init(&vt, NULL);
        int st;
        char *loops = vt_sh(&st, "truncate -s 64M /tmp/zd-%s.data /tmp/zd-%s.meta && "
                            "losetup -f --show /tmp/zd-%s.data && losetup -f --show /tmp/zd-%s.meta",
                            vt.pool, vt.pool, vt.pool, vt.pool);
        char data[64] = "", meta[64] = "";

        cr_assert_eq(st, 0, "loop devices: %s", loops);
        sscanf(loops, "%63s %63s", data, meta);
        struct vt_run r = vt_cli(&vt, "pool", "init", "--data", data, "--metadata", meta, "--skip-zeroing", "yes",
                                 NULL);
        cr_expect_neq(r.status, 0, "pool init --skip-zeroing yes on %s succeeded", data);
        cr_expect(strstr(r.err, "contents are unknown"), "pool init --skip-zeroing yes on %s: %s", data, r.err);
        vt_run_free(&r);
        r = vt_cli(&vt, "pool", "info", NULL);
        cr_expect_neq(r.status, 0, "the refused pool exists: %s", r.out);
        vt_run_free(&r);
        free(vt_sh(&st, "losetup -d %s %s; rm -f /tmp/zd-%s.data /tmp/zd-%s.meta", data, meta, vt.pool, vt.pool));
        free(loops);
}

/* Whether @len bytes of @dev at @off read zero. */
static bool reads_zero(int fd, uint64_t off, uint64_t len, void *buf)
{
        for (uint64_t done = 0; done < len;) {
                size_t n = (size_t)(len - done < MiB ? len - done : MiB);
                if (pread(fd, buf, n, (off_t)(off + done)) != (ssize_t)n)
                        return false;
                for (size_t i = 0; i < n; i++)
                        if (((const uint8_t *)buf)[i])
                                return false;
                done += n;
        }
        return true;
}

/* Provision every pool block of @len bytes of @dev at @off with a 4 KiB write at its start
 * (what skip_block_zeroing leaves unzeroed is the rest of the block), then check that the
 * rest reads zero on @raw, the thin device under it (a volatile volume's crypt device shows
 * zeros on its layer as random bytes). Returns the number of blocks whose rest did not. */
static unsigned provision_and_check(const char *dev, const char *raw, uint64_t off, uint64_t len, uint64_t block)
{
        void *buf = NULL;
        unsigned bad = 0;
        int fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC), rfd;

        cr_assert_geq(fd, 0, "open %s: %m", dev);
        cr_assert_eq(posix_memalign(&buf, 4096, MiB), 0);
        memset(buf, 0x5a, 4 * KiB);
        for (uint64_t b = off; b < off + len; b += block)
                cr_assert_eq(pwrite(fd, buf, 4 * KiB, (off_t)b), (ssize_t)(4 * KiB), "write %s at %llu: %m", dev,
                             (unsigned long long)b);
        cr_assert_eq(fsync(fd), 0, "fsync %s: %m", dev);
        close(fd);
        rfd = open(raw, O_RDONLY | O_DIRECT | O_CLOEXEC);
        cr_assert_geq(rfd, 0, "open %s: %m", raw);
        for (uint64_t b = off; b < off + len; b += block)
                bad += !reads_zero(rfd, b + 4 * KiB, block - 4 * KiB, buf);
        close(rfd);
        free(buf);
        return bad;
}

/* Free bytes of the pool's data, from `pool info --json`. */
static uint64_t pool_free(void)
{
        struct vt_run r = vt_cli(&vt, "--json", "pool", "info", NULL);
        const char *t = strstr(r.out, "\"data_total\""), *u = strstr(r.out, "\"data_used\"");
        unsigned long long total = 0, used = 0;

        cr_assert(t && u && sscanf(strchr(t, ':') + 1, "%llu", &total) == 1 &&
                  sscanf(strchr(u, ':') + 1, "%llu", &used) == 1, "pool info --json: %s", r.out);
        vt_run_free(&r);
        return total - used;
}

static unsigned env_unsigned(const char *name, unsigned dflt)
{
        const char *v = getenv(name);
        return v && *v ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

/*
 * The zero invariant under churn: $DVM_ZERO_CYCLES (default 24) cycles of spawn, canary
 * writes of 4 KiB at random places of each volume, and destroy (queued, drained by the
 * worker every third cycle; every seventh a destroy killed after its intent, then recover;
 * every eleventh a worker killed before its wipe, then another), on a 192 MiB pool. Then
 * fresh disposables provision all but 4 MiB of the pool's free blocks with partial writes: the rest
 * of every block reads zero, no canary is readable through them, and the pool still skips
 * zeroing (so the kernel's zeroing is not what made them read zero).
 */
Test(zeroing, invariant_holds_under_churn)
{
        unsigned cycles = env_unsigned("DVM_ZERO_CYCLES", 24), seed = env_unsigned("DVM_ZERO_SEED", 15);
        const uint64_t block = 64 * KiB;
        static const char *const vols[] = { "root", "private", "volatile" };

        scratch_init(&vt, "thin", "--data-size", "192M", NULL);
        canary_new(&can);
        vt_make_templates(&vt, "48M", "24M");
        if (!cw_use_fault_build(&vt))
                cr_skip_test("SKIP: no fault-injection build of dvm-vol: make FAULT=1 BUILD=<build>/fault all");
        setenv("DVM_VOL_BIN", NO_WORKER, 1);
        cr_assert(skips_zeroing(), "a new file-backed pool zeroes its blocks");
        srand(seed);
        double t0 = vt_now();
        for (unsigned c = 1; c <= cycles; c++) {
                char *d = vt_spawn(&vt, "dvm", NULL);
                const char *destroy[] = { "destroy", d, NULL }, *worker[] = { "worker", NULL };
                for (size_t v = 0; v < 3; v++) {
                        uint64_t size = v == 2 ? 72 * MiB : v == 1 ? 24 * MiB : 48 * MiB;
                        for (int w = 0; w < 8; w++)
                                canary_write(vt_dev(&vt, d, vols[v]), (uint64_t)(rand() % (int)(size / (4 * KiB))) * 4 * KiB,
                                             4 * KiB, &can);
                }
                if (c % 7 == 0) {
                        cw_killed_at(&vt, "later.queued:1", destroy);
                        CLI_OK("recover");
                } else {
                        CLI_OK("destroy", d);
                }
                if (c % 11 == 0) {
                        cw_killed_at(&vt, "change.begin:1", worker);
                        CLI_OK("worker");
                } else if (c % 3 == 0) {
                        CLI_OK("worker");
                }
                free(d);
        }
        CLI_OK("worker");
        printf("zeroing: %u cycles (seed %u) in %.1f s\n", cycles, seed, vt_now() - t0);
        cr_assert(skips_zeroing(), "the churn dropped the zero invariant: the check below would prove nothing");

        /* fresh disposables provision all but 4 MiB of the pool's free blocks (the allocator
         * wraps around to the blocks the churn freed), beyond what their origins map
         * (the templates' patterns: root's first 8 MiB, private's first 4 MiB) */
        static const struct { const char *vol; uint64_t off, end; } areas[] = {
                { "volatile", 0, 72 * MiB }, { "private", 4 * MiB, 24 * MiB }, { "root", 8 * MiB, 48 * MiB },
        };
        char *fresh[3];
        for (int k = 0; k < 3; k++)
                fresh[k] = vt_spawn(&vt, "dvm", NULL);
        uint64_t budget = pool_free() - 4 * MiB, covered = 0;
        unsigned bad = 0;
        for (int k = 0; k < 3; k++)
                for (size_t a = 0; a < 3 && budget >= block; a++) {
                        uint64_t len = areas[a].end - areas[a].off;
                        len = (len < budget ? len : budget) / block * block;
                        char raw[256];
                        snprintf(raw, sizeof(raw), "/dev/mapper/DVM-%s-%s-%s%s", vt.pool, fresh[k], areas[a].vol,
                                 a == 0 ? "-raw" : "");
                        bad += provision_and_check(vt_dev(&vt, fresh[k], areas[a].vol), raw, areas[a].off, len, block);
                        budget -= len;
                        covered += len;
                }
        printf("zeroing: fresh disposables provisioned %llu MiB with partial writes\n",
               (unsigned long long)(covered / MiB));
        for (int k = 0; k < 3; k++) {
                for (size_t v = 0; v < 3; v++)
                        cr_expect_eq(canary_scan(vt_dev(&vt, fresh[k], vols[v]), &can, vols[v]), 0,
                                     "%s/%s: an earlier canary is readable through a fresh disposable", fresh[k], vols[v]);
                free(fresh[k]);
        }
        cr_expect_eq(bad, 0, "%u block(s) of fresh disposables read other than zero where they were not written", bad);
        cr_expect(skips_zeroing(), "the pool stopped skipping zeroing during the check");
}
