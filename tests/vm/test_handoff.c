// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, the hand-off pin of block-dvm (issue 12 defect 7) on real device-mapper: the
 * wait for another opener while the hook pins the device (an opener that comes later, one
 * that never comes, blkback's physical_device attribute), the re-check that sees a device
 * replaced under the same number, and the identity of a crypt volume's layer. Xen itself:
 * tests/xen.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernel/dev_identity.h"
#include "vmtest.h"

static struct vt vt;
static dvm_ctx *ctx;

static void sweep(void)
{
        int st;

        if (vt.pool[0])
                free(vt_sh(&st, "for i in 1 2; do for d in $(dmsetup ls 2>/dev/null | awk '{print $1}' | "
                                "grep '^DVM-%s-'); do dmsetup remove $d 2>/dev/null; done; done", vt.pool));
}

static void setup(void)
{
        vt_init(&vt, NULL);
        sweep();
        cr_assert_eq(dvm_ctx_new(vt.state, &ctx), 0, "dvm_ctx_new");
}

static void teardown(void)
{
        ctx = dvm_ctx_free(ctx);
        sweep();
        vt_cleanup(&vt);
}

TestSuite(handoff, .init = setup, .fini = teardown, .timeout = 300);

/* dm device DVM-<pool>-<what> with UUID @uuid ("" for the name plus "-7") and @table
 * (a zero device of 1 MiB by default); its path in @path. */
static void make_dev(const char *what, const char *uuid, const char *table, char *name, char *path)
{
        int st;

        sprintf(name, "DVM-%s-%s", vt.pool, what);
        sprintf(path, "/dev/mapper/%s", name);
        char *out = vt_sh(&st, "dmsetup create %s --uuid %s%s --table '%s' 2>&1", name, uuid[0] ? uuid : name,
                          uuid[0] ? "" : "-7", table ? table : "0 2048 zero");
        cr_assert_eq(st, 0, "dmsetup create %s: %s", name, out);
        free(out);
}

static double since(double t0)
{
        return vt_now() - t0;
}

/* A child that opens @path after @delay_ms and holds it for @hold_ms. */
static pid_t late_opener(const char *path, unsigned delay_ms, unsigned hold_ms)
{
        pid_t pid = fork();

        cr_assert(pid >= 0, "fork: %m");
        if (pid == 0) {
                nanosleep(&(struct timespec){ delay_ms / 1000, (delay_ms % 1000) * 1000000L }, NULL);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                nanosleep(&(struct timespec){ hold_ms / 1000, (hold_ms % 1000) * 1000000L }, NULL);
                _exit(fd >= 0 ? 0 : 1);
        }
        return pid;
}

static void reap(pid_t pid)
{
        int st;

        cr_assert_eq(waitpid(pid, &st, 0), pid, "waitpid: %m");
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the opener child failed: status %d", st);
}

/* The pin stays until the second opener is there: the wait returns after it, not before. */
Test(handoff, wait_returns_once_another_opener_came)
{
        char name[160], path[200];
        struct dev_identity id;

        make_dev("h-root", "", NULL, name, path);
        int fd = ident_open(ctx, path, &id);
        cr_assert(fd >= 0, "ident_open %s: %s", path, dvm_ctx_last_error(ctx));
        pid_t pid = late_opener(path, 1000, 3000);
        double t0 = vt_now();
        int r = ident_wait_opened(ctx, path, &id, NULL, 1, 10000);
        double took = since(t0);
        cr_expect_eq(r, 0, "wait with a late opener: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_expect(took >= 0.9 && took < 3.0, "the wait returned after %.2f s; the opener came after 1 s", took);
        reap(pid);
        close(fd);
}

/* Nobody opens it: the wait gives up after its time with a message that says so. */
Test(handoff, wait_times_out_without_opener)
{
        char name[160], path[200];
        struct dev_identity id;

        make_dev("h-root", "", NULL, name, path);
        int fd = ident_open(ctx, path, &id);
        cr_assert(fd >= 0, "ident_open %s: %s", path, dvm_ctx_last_error(ctx));
        double t0 = vt_now();
        int r = ident_wait_opened(ctx, path, &id, NULL, 1, 1500);
        double took = since(t0);
        cr_expect_eq(r, -ETIMEDOUT, "wait without an opener: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_expect(strstr(dvm_ctx_last_error(ctx), "was not opened by anyone else within 1500 ms"), "message: %s",
                  dvm_ctx_last_error(ctx));
        cr_expect(took >= 1.5 && took < 4.0, "timed out after %.2f s, not 1.5 s", took);
        /* our own second descriptor does not count when the baseline says so */
        int fd2 = open(path, O_RDONLY | O_CLOEXEC);
        r = ident_wait_opened(ctx, path, &id, NULL, 2, 300);
        cr_expect_eq(r, -ETIMEDOUT, "baseline 2 with two own opens: %d", r);
        r = ident_wait_opened(ctx, path, &id, NULL, 1, 300);
        cr_expect_eq(r, 0, "baseline 1 with two opens: %d (%s)", r, dvm_ctx_last_error(ctx));
        close(fd2);
        close(fd);
}

/* blkback's way: the attribute appears, naming the device, only once it has opened it. An
 * open count does not count then (a udev probe is no backend); an attribute naming another
 * device does not either. */
Test(handoff, wait_for_the_backend_attribute)
{
        char name[160], path[200], dir[256], attr[300], mm[32];
        struct dev_identity id;
        int st;

        make_dev("h-root", "", NULL, name, path);
        int fd = ident_open(ctx, path, &id);
        cr_assert(fd >= 0, "ident_open %s: %s", path, dvm_ctx_last_error(ctx));
        char base[] = "/tmp/dvm-handoff-XXXXXX";
        cr_assert(mkdtemp(base), "mkdtemp: %m");
        snprintf(dir, sizeof(dir), "%s/vbd-5-51712", base);
        snprintf(attr, sizeof(attr), "%s/physical_device", dir);
        cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s: %m", dir);
        snprintf(mm, sizeof(mm), "%x:%x", id.major, id.minor);

        pid_t pid = late_opener(path, 0, 2000);
        int r = ident_wait_opened(ctx, path, &id, attr, 1, 1000);
        cr_expect_eq(r, -ETIMEDOUT, "an opener but no attribute: %d", r);
        cr_expect(strstr(dvm_ctx_last_error(ctx), "was not opened by its backend"), "message: %s",
                  dvm_ctx_last_error(ctx));
        reap(pid);
        free(vt_sh(&st, "echo %x:%x > %s", id.major + 1, id.minor, attr));
        r = ident_wait_opened(ctx, path, &id, attr, 1, 500);
        cr_expect_eq(r, -ETIMEDOUT, "the attribute names another device: %d", r);
        free(vt_sh(&st, "rm %s; (sleep 1; echo %s > %s) >/dev/null 2>&1 &", attr, mm, attr));
        double t0 = vt_now();
        r = ident_wait_opened(ctx, path, &id, attr, 1, 10000);
        double took = since(t0);
        cr_expect_eq(r, 0, "the attribute came: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_expect(took >= 0.9, "returned after %.2f s, before the attribute came", took);
        /* no such directory (no blkback): the open count decides */
        snprintf(attr, sizeof(attr), "%s/vbd-6-51712/physical_device", base);
        pid = late_opener(path, 500, 2000);
        r = ident_wait_opened(ctx, path, &id, attr, 1, 5000);
        cr_expect_eq(r, 0, "no backend directory, a late opener: %d (%s)", r, dvm_ctx_last_error(ctx));
        reap(pid);
        close(fd);
        free(vt_sh(&st, "rm -rf %s", base));
}

static uint32_t minor_of(const char *path)
{
        struct stat s;
        cr_assert_eq(stat(path, &s), 0, "stat %s: %m", path);
        return minor(s.st_rdev);
}

/* dm gives the next device the lowest free minor: a device removed and another made is
 * under the same number. The re-check sees it, by name and UUID, and by diskseq alone when
 * the same name and UUID come back. */
Test(handoff, recheck_sees_a_device_replaced_under_its_number)
{
        char name[160], path[200], other[160], opath[200];
        struct dev_identity id;
        int st;

        make_dev("h-root", "", NULL, name, path);
        int fd = ident_open(ctx, path, &id);
        cr_assert(fd >= 0, "ident_open %s: %s", path, dvm_ctx_last_error(ctx));
        int r = ident_recheck(ctx, path, &id);
        cr_expect_eq(r, 0, "pinned device: %d (%s)", r, dvm_ctx_last_error(ctx));
        close(fd);
        free(vt_sh(&st, "dmsetup remove %s", name));
        make_dev("h-other-root", "", NULL, other, opath);
        cr_assert_eq(minor_of(opath), id.minor, "%s did not get minor %u but %u: the race cannot be shown", other,
                     id.minor, minor_of(opath));
        r = ident_recheck(ctx, path, &id);
        cr_expect_eq(r, -ESTALE, "another device under %u:%u: %d", id.major, id.minor, r);
        cr_expect(strstr(dvm_ctx_last_error(ctx), "replaced under its number"), "message: %s", dvm_ctx_last_error(ctx));
        free(vt_sh(&st, "dmsetup remove %s", other));

        /* the same volume made again: same name, same UUID, a new disk sequence number */
        make_dev("h-root", "", NULL, name, path);
        cr_assert_eq(minor_of(path), id.minor, "%s came back under minor %u, not %u", name, minor_of(path), id.minor);
        r = ident_recheck(ctx, path, &id);
        if (!id.diskseq)
                cr_skip_test("SKIP: the kernel numbers no disks (BLKGETDISKSEQ): the same name and UUID pass");
        cr_expect_eq(r, -ESTALE, "the same name and UUID with a new diskseq: %d", r);
}

/* A volatile volume's device is the crypt device "<name>" of UUID "<name>-crypt", which
 * names no layer: the layer is checked on the one device under it. */
Test(handoff, crypt_volume_checked_by_its_layer)
{
        char raw[160], rpath[200], name[160], path[200], table[64], uuid[200];
        struct dev_identity id;

        sprintf(uuid, "DVM-%s-h-volatile-raw-5", vt.pool);
        make_dev("h-volatile-raw", uuid, NULL, raw, rpath);
        struct stat s;
        cr_assert_eq(stat(rpath, &s), 0, "stat %s", rpath);
        snprintf(table, sizeof(table), "0 2048 linear %u:%u 0", major(s.st_rdev), minor(s.st_rdev));
        sprintf(uuid, "DVM-%s-h-volatile-crypt", vt.pool);
        make_dev("h-volatile", uuid, table, name, path);
        int fd = ident_open(ctx, path, &id);
        cr_assert(fd >= 0, "ident_open %s: %s", path, dvm_ctx_last_error(ctx));
        int r = ident_check(ctx, path, &id, name, 5);
        cr_expect_eq(r, 0, "running layer 5: %d (%s)", r, dvm_ctx_last_error(ctx));
        r = ident_check(ctx, path, &id, name, 6);
        cr_expect_eq(r, -ESTALE, "a crypt device over layer 5 passed for layer 6: %d", r);
        cr_expect(strstr(dvm_ctx_last_error(ctx), "is not the running layer"), "message: %s", dvm_ctx_last_error(ctx));
        close(fd);
}
