// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, dvm-inspect cannot change or disturb what it shows: every write path fails with
 * EROFS (from the read-only mount, and from the daemon itself once remounted read-write);
 * a disposable destroyed while mounted disappears cleanly; reading a disposable while it
 * is written neither corrupts nor blocks it; a view outlives no layer; bad input is one
 * line, a documented exit code, and no mount.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "vminspect.h"
#include "vmtest.h"

#define MiB (1ULL << 20)
static struct vt vt;
static struct vi vi;

static void setup(void) { vi_fixture(&vi, &vt); }
static void teardown(void) { vi_fixture_cleanup(&vi, &vt); }

TestSuite(inspect_safety, .init = setup, .fini = teardown, .timeout = 600);

#define CLI_OK(...) VT_CLI_OK(&vt, __VA_ARGS__)

static char *spawn_from_templates(void)
{
        CLI_OK("template", "create", "tmpl", "--root-size", "64M", "--private-size", "32M");
        CLI_OK("dvm", "create", "dvm", "--template", "tmpl");
        return vt_spawn(&vt, "dvm", NULL);
}

/* @tmpl with each "{key}" replaced by its value from @kv (key, value, ..., NULL). */
static const char *expand(const char *tmpl, char *buf, size_t len, const char *const kv[])
{
        size_t o = 0;

        for (const char *p = tmpl; *p && o + 1 < len;) {
                bool done = false;
                for (size_t i = 0; kv[i] && !done; i += 2) {
                        size_t k = strlen(kv[i]);
                        if (p[0] == '{' && strncmp(p + 1, kv[i], k) == 0 && p[k + 1] == '}') {
                                o += (size_t)snprintf(buf + o, len - o, "%s", kv[i + 1]);
                                p += k + 2;
                                done = true;
                        }
                }
                if (!done)
                        buf[o++] = *p++;
        }
        buf[o < len ? o : len - 1] = 0;
        return buf;
}

/* ---- every write path ------------------------------------------------------------------ */

struct write_op {
        const char *name;
        const char *target; /* relative to the pool; {d} is the disposable, {id} a layer id */
        int (*fn)(const char *path);
};

static int op_open_wronly(const char *p) { return open(p, O_WRONLY | O_CLOEXEC); }
static int op_open_rdwr(const char *p) { return open(p, O_RDWR | O_CLOEXEC); }
static int op_open_trunc(const char *p) { return open(p, O_RDONLY | O_TRUNC | O_CLOEXEC); }
static int op_create(const char *p) { return open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644); }
static int op_truncate(const char *p) { return truncate(p, 0); }
static int op_chmod(const char *p) { return chmod(p, 0777); }
static int op_chown(const char *p) { return chown(p, 1, 1); }
static int op_rename(const char *p)
{
        char to[600];
        snprintf(to, sizeof(to), "%s.moved", p);
        return rename(p, to);
}
static int op_link(const char *p)
{
        char to[600];
        snprintf(to, sizeof(to), "%s.link", p);
        return link(p, to);
}
static int op_symlink(const char *p) { return symlink("image", p); }
static int op_unlink(const char *p) { return unlink(p); }
static int op_rmdir(const char *p) { return rmdir(p); }
static int op_mkdir(const char *p) { return mkdir(p, 0755); }
static int op_mknod(const char *p) { return mknod(p, S_IFIFO | 0644, 0); }
static int op_setxattr(const char *p) { return setxattr(p, "user.dvm", "x", 1, 0); }
static int op_removexattr(const char *p) { return removexattr(p, "user.dvm"); }
static int op_utimens(const char *p) { return utimensat(AT_FDCWD, p, NULL, 0); }

static const struct write_op write_ops[] = {
        { "open O_WRONLY", "{d}/root/image", op_open_wronly },
        { "open O_RDWR", "{d}/root/layers/0-{id}", op_open_rdwr },
        { "open O_TRUNC", "{d}/root/info", op_open_trunc },
        { "create", "{d}/root/new", op_create },
        { "truncate", "{d}/root/image", op_truncate },
        { "chmod file", "{d}/root/image", op_chmod },
        { "chmod dir", "{d}/root", op_chmod },
        { "chown", "{d}/root/delta", op_chown },
        { "rename file", "{d}/root/image", op_rename },
        { "rename dir", "{d}", op_rename },
        { "link", "{d}/root/image", op_link },
        { "symlink", "{d}/root/new", op_symlink },
        { "unlink", "{d}/root/changed", op_unlink },
        { "rmdir", "{d}/root/layers", op_rmdir },
        { "rmdir vm", "{d}", op_rmdir },
        { "mkdir", "{d}/root/new", op_mkdir },
        { "mkdir pool level", "newvm", op_mkdir },
        { "mknod", "{d}/root/fifo", op_mknod },
        { "setxattr", "{d}/root/image", op_setxattr },
        { "removexattr", "{d}/root/image", op_removexattr },
        { "utimens", "{d}/root/image", op_utimens },
};

static void check_write_paths(const char *d, const char *run_id, const char *when)
{
        for (size_t i = 0; i < sizeof(write_ops) / sizeof(write_ops[0]); i++) {
                char rel[256];
                const char *const kv[] = { "d", d, "id", run_id, NULL };
                expand(write_ops[i].target, rel, sizeof(rel), kv);
                errno = 0;
                int r = write_ops[i].fn(vi_path(&vi, rel));
                int e = errno;
                if (r >= 0 && strncmp(write_ops[i].name, "open", 4) == 0)
                        close(r);
                cr_assert(r < 0 && e == EROFS, "%s: %s on %s: returned %d, errno %d (%s), want EROFS", when,
                          write_ops[i].name, rel, r, e, strerror(e));
        }
}

Test(inspect_safety, every_write_path_fails_with_erofs)
{
        char *d = spawn_from_templates(), *before_k, *before_c, *after_k, *after_c, *id;
        int st;

        id = vt_sh(&st, "sqlite3 %s/%s/catalog.db \"SELECT source_id FROM volumes WHERE vm = '%s' AND name = 'root'\"",
                   vt.state, vt.pool, d);
        id[strcspn(id, "\n")] = 0;
        vi_mount(&vi, &vt);
        before_k = vt_kernel_state(&vt);
        before_c = vt_catalog_dump(&vt);
        check_write_paths(d, id, "read-only mount");
        /* Remounted read-write the kernel no longer refuses: the daemon must. */
        cr_assert_eq(mount(NULL, vi.dir, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), 0,
                     "remount rw: %m");
        char *line = vt_sh(&st, "awk '$5 == \"%s\"' /proc/self/mountinfo", vi.dir);
        cr_assert(strstr(line, " rw,"), "the remount left the mount read-only: %s", line);
        free(line);
        check_write_paths(d, id, "read-write remount");
        after_k = vt_kernel_state(&vt);
        after_c = vt_catalog_dump(&vt);
        cr_assert_str_eq(after_k, before_k, "kernel state changed:\n%s\nwas:\n%s", after_k, before_k);
        cr_assert_str_eq(after_c, before_c, "catalog changed");
        vi_unmount(&vi);
        free(before_k); free(before_c); free(after_k); free(after_c); free(id); free(d);
}

/* ---- a disposable that goes while mounted --------------------------------------------- */

Test(inspect_safety, destroyed_disposable_disappears_cleanly)
{
        char rel[256];
        struct stat st;
        char *d = spawn_from_templates();

        vi_mount(&vi, &vt);
        snprintf(rel, sizeof(rel), "%s/root", d);
        int dirfd = open(vi_path(&vi, rel), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(dirfd >= 0, "open %s: %m", rel);
        cr_assert_eq(stat(vi_path(&vi, d), &st), 0, "stat %s before destroy: %m", d);

        CLI_OK("destroy", "--wait", d);
        char *names = vt_sh(NULL, "ls %s", vi_path(&vi, ""));
        cr_assert(!strstr(names, d), "%s still listed after destroy: %s", d, names);
        free(names);
        cr_assert(stat(vi_path(&vi, d), &st) < 0 && errno == ENOENT, "stat %s after destroy: %m", d);
        snprintf(rel, sizeof(rel), "%s/root/image", d);
        cr_assert(open(vi_path(&vi, rel), O_RDONLY) < 0 && errno == ENOENT, "open %s after destroy: %m", rel);
        /* a directory opened before: reading it fails, nothing crashes */
        char buf[4096];
        long n = syscall(SYS_getdents64, dirfd, buf, sizeof(buf));
        cr_assert(n < 0 && errno == ENOENT, "readdir of the destroyed volume: %ld (%m)", n);
        close(dirfd);
        cr_assert(stat(vi_path(&vi, "tmpl/root/info"), &st) == 0, "the mount stopped serving: %m");
        vi_unmount(&vi);
        free(d);
}

Test(inspect_safety, an_open_image_holds_off_destroy)
{
        char rel[256];
        char *d = spawn_from_templates();

        vi_mount(&vi, &vt);
        snprintf(rel, sizeof(rel), "%s/private/image", d);
        int fd = open(vi_path(&vi, rel), O_RDONLY | O_CLOEXEC);
        cr_assert(fd >= 0, "open %s: %m", rel);
        char *before = vt_kernel_state(&vt);
        struct vt_run r = vt_cli(&vt, "destroy", "--wait", d, NULL);
        cr_assert_eq(r.status, 5, "destroy while %s is open: exit %d (want 5, busy): %s", rel, r.status, r.err);
        cr_assert(strstr(r.err, "in use"), "destroy does not say the volume is in use: %s", r.err);
        vt_run_free(&r);
        char *after = vt_kernel_state(&vt);
        cr_assert_str_eq(after, before, "a refused destroy changed the kernel state:\n%s", after);
        close(fd);
        CLI_OK("destroy", "--wait", d);
        vi_unmount(&vi);
        free(before); free(after); free(d);
}

/* ---- reading while the disposable writes ----------------------------------------------- */

Test(inspect_safety, reading_does_not_block_or_corrupt_a_writer)
{
        enum { ROUNDS = 64 };
        char rel[256];
        int pipefd[2], st;
        char *d = spawn_from_templates();
        const char *dev = vt_dev(&vt, d, "private");

        vi_mount(&vi, &vt);
        snprintf(rel, sizeof(rel), "%s/private/image", d);
        const char *image = vi_path(&vi, rel);
        cr_assert_eq(pipe(pipefd), 0, "pipe: %m");
        pid_t writer = fork();
        cr_assert(writer >= 0, "fork: %m");
        if (writer == 0) {
                /* each round rewrites the 32 MiB volume's MiB i with seed 100 + round */
                double worst = 0;
                for (int round = 0; round < ROUNDS; round++) {
                        double t0 = vt_now();
                        vt_pattern(dev, (uint64_t)(round % 32) * MiB, MiB, 100 + (uint32_t)round);
                        double t = vt_now() - t0;
                        worst = t > worst ? t : worst;
                }
                dprintf(pipefd[1], "%f\n", worst);
                _exit(0);
        }
        close(pipefd[1]);
        unsigned reads = 0;
        while (waitpid(writer, &st, WNOHANG) == 0) {
                vt_hash(image, 0, 0);
                reads++;
        }
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer failed: status %#x", st);
        char buf[64] = "";
        cr_assert(read(pipefd[0], buf, sizeof(buf) - 1) > 0, "no report from the writer");
        close(pipefd[0]);
        double worst = atof(buf);
        cr_assert(reads >= 1, "no read of the image started while the writer ran");
        cr_assert(worst < 5.0, "a 1 MiB write took %.2f s while the image was read (%u reads)", worst, reads);
        /* each MiB holds what the last round that wrote it wrote */
        for (int round = ROUNDS - 32; round < ROUNDS; round++)
                cr_assert(vt_has_pattern(dev, (uint64_t)(round % 32) * MiB, MiB, 100 + (uint32_t)round),
                          "the writer's MiB %d is not what round %d wrote", round % 32, round);
        uint64_t a = vt_hash(image, 0, 0), b = vt_hash(dev, 0, 0);
        cr_assert_eq(a, b, "image %llx and device %llx differ after the writer stopped", (unsigned long long)a,
                     (unsigned long long)b);
        fprintf(stderr, "inspect_safety: %u full reads of %s during %d MiB of writes; worst write %.3f s\n", reads,
                rel, ROUNDS, worst);
        vi_unmount(&vi);
        free(d);
}

/* ---- views and the layers under them ---------------------------------------------------- */

Test(inspect_safety, a_layer_that_goes_while_viewed_is_deleted_at_close)
{
        char rel[256];
        int st;

        CLI_OK("template", "create", "tmpl", "--root-size", "64M", "--private-size", "32M");
        CLI_OK("start", "tmpl");
        char *id = vt_sh(&st, "sqlite3 %s/%s/catalog.db \"SELECT thin_id FROM volumes WHERE vm = 'tmpl' AND name = 'root'\"",
                         vt.state, vt.pool);
        id[strcspn(id, "\n")] = 0;
        vi_mount(&vi, &vt);
        snprintf(rel, sizeof(rel), "tmpl/root/layers/0-%s", id);
        int fd = open(vi_path(&vi, rel), O_RDONLY | O_CLOEXEC);
        cr_assert(fd >= 0, "open %s: %m", rel);
        cr_assert_eq(vi_views(&vi), 1, "view devices while a committed layer is open: %d", vi_views(&vi));
        /* the stop commits a new layer; the old one has no user left, but our view holds it */
        CLI_OK("stop", "tmpl");
        char *ids = vt_thin_ids(&vt), *want = NULL;
        cr_assert(asprintf(&want, " %s ", id) > 0);
        cr_assert(strstr(ids, want), "layer %s went while viewed (ids:%s): the test premise is gone", id, ids);
        free(ids);
        close(fd);
        /* the release is asynchronous to close(): give the daemon a moment */
        for (int i = 0; i < 100 && vi_views(&vi) > 0; i++)
                nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
        cr_assert_eq(vi_views(&vi), 0, "the view device stays after close");
        ids = vt_thin_ids(&vt);
        cr_assert(!strstr(ids, want), "layer %s outlived its last user and its view (ids:%s)", id, ids);
        free(ids);
        vi_unmount(&vi);
        free(want);
        free(id);
}

/* ---- bad input -------------------------------------------------------------------------- */

struct bad_case {
        const char *name;
        const char *args;  /* after the binary; {state} is the state dir, {scratch} a scratch path */
        int status;
        const char *says;
};

static const struct bad_case bad_cases[] = {
        { "no mountpoint", "--state-dir {state}", 2, "missing MOUNTPOINT" },
        { "two mountpoints", "--state-dir {state} /tmp /tmp", 2, "unexpected argument" },
        { "unknown option", "--state-dir {state} --bogus /tmp", 2, "invalid option" },
        { "missing mountpoint", "--state-dir {state} {scratch}.none", 3, "No such file or directory" },
        { "file as mountpoint", "--state-dir {state} {scratch}.file", 2, "is not a directory" },
        { "relative state dir", "--state-dir relative {scratch}.dir", 2, "absolute path" },
        { "not root", "--state-dir {state} {scratch}.dir", 7, "must run as root" },
};

Test(inspect_safety, bad_input_is_one_line_and_no_mount)
{
        char scratch[200], cmd[1400], args[600];
        int st;

        vi_bin(&vi, &vt);
        snprintf(scratch, sizeof(scratch), "%s.bad", vt.state);
        free(vt_sh(&st, "touch %s.file && mkdir -p %s.dir", scratch, scratch));
        char *mounts = vt_sh(&st, "cat /proc/self/mountinfo");
        for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
                const struct bad_case *c = &bad_cases[i];
                const char *const kv[] = { "state", vt.state, "scratch", scratch, NULL };
                expand(c->args, args, sizeof(args), kv);
                /* the non-root case runs as nobody */
                snprintf(cmd, sizeof(cmd), "%s%s %s 2>&1 >/dev/null; echo \"status $?\"",
                         strcmp(c->name, "not root") ? "" : "setpriv --reuid=65534 --regid=65534 --clear-groups ",
                         vi.bin, args);
                char *out = vt_sh(&st, "%s", cmd);
                char want[32];
                snprintf(want, sizeof(want), "status %d\n", c->status);
                cr_assert(strstr(out, want), "%s: want exit %d, got: %s", c->name, c->status, out);
                cr_assert(strstr(out, c->says), "%s: message lacks \"%s\": %s", c->name, c->says, out);
                /* one line of complaint (a usage error adds one line of advice) */
                size_t lines = 0;
                for (char *p = out; (p = strchr(p, '\n')); p++)
                        lines++;
                cr_assert(lines <= 3, "%s: %zu lines of output (want a message and at most a hint): %s", c->name, lines, out);
                free(out);
        }
        char *after = vt_sh(&st, "cat /proc/self/mountinfo");
        cr_assert_str_eq(after, mounts, "bad input changed the mounts:\n%s", after);
        free(mounts);
        free(after);
        free(vt_sh(&st, "rm -rf %s.file %s.dir", scratch, scratch));
}
