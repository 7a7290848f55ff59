// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, in-RAM disposables (spawn --in-ram), on each backend: all a disposable writes
 * stays in zram; the pool's images are byte for byte the same before and after its life, a
 * raw scan of the pool's disk never finds its canary, its zram devices go with it. Its memory
 * limit: writes past it fail with ENOSPC, and a limit above the RAM available is refused
 * with nothing left behind.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "canary.h"
#include "util/macro.h"

#define MiB (1ULL << 20)
static struct vt vt;
static struct canary can;

#define CLI_OK(...) VT_CLI_OK(&vt, __VA_ARGS__)

static void teardown(void)
{
        scratch_cleanup(&vt);
}

TestSuite(in_ram, .fini = teardown, .timeout = 900);

/* Every file of the pool but its catalog (which records the VM), hashed. */
static char *pool_images(void)
{
        int st;
        char *out = vt_sh(&st, "cd %s/%s && for f in $(ls | grep -v -e '^catalog' -e '^lock$' | sort); do "
                               "echo \"$f $(cksum < $f)\"; done", vt.state, vt.pool);
        cr_assert_eq(st, 0, "hashing the pool's images: %s", out);
        return out;
}

static char *zram_devices(void)
{
        int st;
        return vt_sh(&st, "ls /sys/block | grep '^zram' || true");
}

static char *spawn_in_ram(const char *limit)
{
        return vt_spawn(&vt, "dvm", "--in-ram", "--ram-limit", limit, NULL);
}

VT_BACKEND_PARAMETERS(in_ram, images_untouched)

ParameterizedTest(const struct vt_backend *b, in_ram, images_untouched)
{
        canary_fixture(&vt, &can, b->name);
        const char *disk = scratch_disk();
        char *before = pool_images(), *zram_before = zram_devices();
        char *d = spawn_in_ram("128M");
        const char *root = vt_dev(&vt, d, "root"), *priv = vt_dev(&vt, d, "private"), *vola = vt_dev(&vt, d, "volatile");

        cr_expect(vt_has_pattern(root, 0, 8 * MiB, 1), "%s: in-RAM root does not show the template", b->name);
        cr_expect(vt_has_pattern(priv, 0, 4 * MiB, 2), "%s: in-RAM private does not show the DVM Template", b->name);
        canary_write(root, MiB + 4096, 8192, &can);
        canary_write(root, 20 * MiB, 4 * MiB, &can);
        canary_write(priv, 16 * MiB, 4 * MiB, &can);
        canary_write(vola, 0, 8 * MiB, &can);
        cr_expect(canary_reads_back(root, 20 * MiB, 4 * MiB, &can), "%s: in-RAM root loses its writes", b->name);
        cr_expect(vt_has_pattern(root, 0, MiB, 1) && vt_has_pattern(root, MiB + 12288, MiB, 1),
                  "%s: in-RAM root lost the template around its canary", b->name);
        cr_expect(canary_reads_back(priv, 16 * MiB, 4 * MiB, &can), "%s: in-RAM private loses its writes", b->name);
        char what[64];
        snprintf(what, sizeof(what), "%s: in-RAM canary while running", b->name);
        uint64_t n = canary_scan(disk, &can, what);
        cr_expect_eq(n, 0, "%s: %llu copies of an in-RAM disposable's canary on %s", b->name, (unsigned long long)n,
                     disk);
        char *during = pool_images();
        cr_expect_str_eq(during, before, "%s: the pool's images changed while an in-RAM disposable ran:\n%s\nwas:\n%s",
                         b->name, during, before);

        CLI_OK("destroy", "--wait", d);
        char *after = pool_images(), *zram_after = zram_devices();
        cr_expect_str_eq(after, before, "%s: the pool's images changed:\n%s\nwas:\n%s", b->name, after, before);
        fprintf(stderr, "in_ram: %s: the pool's %d files byte-identical while it ran: %s, after its destroy: %s\n",
                b->name, vt_count_lines(before), strcmp(during, before) ? "no" : "yes", strcmp(after, before) ? "no" : "yes");
        cr_expect_str_eq(zram_after, zram_before, "%s: zram devices left: %s (before: %s)", b->name, zram_after,
                         zram_before);
        snprintf(what, sizeof(what), "%s: in-RAM canary after destroy", b->name);
        n = canary_scan(disk, &can, what);
        cr_expect_eq(n, 0, "%s: %llu copies of the canary on %s after destroy", b->name, (unsigned long long)n, disk);
        int st;
        char *devs = vt_sh(&st, "dmsetup ls | grep '^DVM-%s-%s-' || true", vt.pool, d);
        cr_expect_str_empty(devs, "%s: devices left: %s", b->name, devs);
        free(devs);
        free(before); free(during); free(after); free(zram_before); free(zram_after); free(d);
}

struct refusal {
        const char *limit;
        int status;        /* the exit code dvm-vol(8) documents */
        const char *says;  /* in its one line */
};

static const struct refusal refusals[] = {
        { "1T", 6, "RAM available" },  /* more than the machine has */
        { "1M", 2, "below" },          /* too small for a pool */
};

/* How many ram_limit:<vm> settings the catalog holds, as text. */
static char *ram_limit_rows(void)
{
        int st;
        char *out = vt_sh(&st, "sqlite3 '%s/%s/catalog.db' \"SELECT count(*) FROM meta WHERE key LIKE 'ram_limit:%%'\"",
                          vt.state, vt.pool);
        cr_assert_eq(st, 0, "sqlite3 on the catalog failed: %s", out);
        out[strcspn(out, "\n")] = '\0';
        return out;
}

/* Writes past the limit fail at once with ENOSPC, and the disposable still goes cleanly; a
 * limit the machine cannot give is refused in one line, with nothing left behind. */
Test(in_ram, limits)
{
        canary_fixture(&vt, &can, "thin");
        int st;
        char *zram_before = zram_devices(), *list_before = vt_sh(&st, "dmsetup ls | sort"), *d = spawn_in_ram("8M");
        const char *vola = vt_dev(&vt, d, "volatile");
        int fd = open(vola, O_WRONLY | O_DIRECT | O_CLOEXEC), err = 0;
        void *buf = NULL;
        uint64_t done = 0;

        cr_assert(fd >= 0, "open %s: %m", vola);
        cr_assert_eq(posix_memalign(&buf, 4096, MiB), 0);
        memset(buf, 0x5a, MiB);
        for (; done < 32 * MiB; done += MiB)
                if (pwrite(fd, buf, MiB, (off_t)done) != (ssize_t)MiB) {
                        err = errno;
                        break;
                }
        close(fd);
        free(buf);
        cr_expect_eq(err, ENOSPC, "writing 32M into an 8M in-RAM disposable: stopped after %llu MiB with %s",
                     (unsigned long long)(done / MiB), strerror(err));
        cr_expect(done >= 4 * MiB && done <= 8 * MiB, "the limit of 8M let %llu MiB in",
                  (unsigned long long)(done / MiB));
        CLI_OK("destroy", "--wait", d);
        /* issue 12 defect 9: the ram_limit:<vm> setting used to outlive its VM */
        char *limits = ram_limit_rows();
        cr_expect_str_eq(limits, "0", "ram_limit rows left after destroy of %s: %s", d, limits);
        free(limits);

        for (size_t i = 0; i < ARRAY_SIZE(refusals); i++) {
                const struct refusal *c = &refusals[i];
                struct vt_run r = vt_cli(&vt, "spawn", "dvm", "--name", "big", "--in-ram", "--ram-limit", c->limit, NULL);
                cr_expect_eq(r.status, c->status, "--ram-limit %s: exit %d, want %d: %s", c->limit, r.status, c->status,
                             r.err);
                cr_expect(strstr(r.err, c->says) && strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                          "--ram-limit %s: not one line saying \"%s\": %s", c->limit, c->says, r.err);
                vt_run_free(&r);
        }
        struct vt_run r = vt_cli(&vt, "spawn", "dvm", "--ram-limit", "64M", NULL);
        cr_expect_eq(r.status, 2, "--ram-limit without --in-ram: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        r = vt_cli(&vt, "info", "big", NULL);
        cr_expect_eq(r.status, 3, "a refused spawn left VM big: exit %d: %s", r.status, r.out);
        vt_run_free(&r);
        char *zram_after = zram_devices(), *list_after = vt_sh(&st, "dmsetup ls | sort");
        cr_expect_str_eq(zram_after, zram_before, "zram devices left: %s (before: %s)", zram_after, zram_before);
        cr_expect_str_eq(list_after, list_before, "devices left:\n%s\nbefore:\n%s", list_after, list_before);
        limits = ram_limit_rows();
        cr_expect_str_eq(limits, "0", "ram_limit rows left by refused spawns: %s", limits);
        free(limits);
        free(zram_before); free(zram_after); free(list_before); free(list_after); free(d);
}
