// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm-tier test helpers: fixtures, running dvm-vol and shell commands, device patterns and
 * hashes, and the kernel's own view of our devices through dmsetup and thin_dump, which
 * the tests use as witnesses independent of the library.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmtest.h"

extern char **environ;

double vt_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vt_require_dm(void)
{
        if (geteuid() != 0)
                cr_skip_test("SKIP: the vm tier needs root");
        if (access("/dev/mapper/control", R_OK | W_OK) != 0)
                cr_skip_test("SKIP: no device-mapper (/dev/mapper/control)");
}

static void find_dvm_vol(char *buf, size_t len)
{
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

        cr_assert(n > 0, "readlink /proc/self/exe: %m");
        exe[n] = 0;
        /* <build>/tests/vm/test_x -> <build>/dvm-vol */
        snprintf(buf, len, "%s/../../dvm-vol", dirname(exe));
        cr_assert(access(buf, X_OK) == 0, "dvm-vol not found at %s", buf);
}

void vt_init(struct vt *vt, const char *data_size)
{
        static unsigned seq;

        vt_require_dm();
        memset(vt, 0, sizeof(*vt));
        find_dvm_vol(vt->dvm_vol, sizeof(vt->dvm_vol));
        snprintf(vt->pool, sizeof(vt->pool), "t%d_%u", getpid(), seq++);
        snprintf(vt->state, sizeof(vt->state), "/tmp/dvmtest-%s", vt->pool);
        if (!data_size)
                return;
        struct vt_run r = vt_cli(vt, "pool", "init", "--data-size", data_size, NULL);
        cr_assert_eq(r.status, 0, "pool init %s: exit %d: %s", vt->pool, r.status, r.err);
        vt_run_free(&r);
}

void vt_init_backend(struct vt *vt, const char *backend, ...)
{
        char *argv[24] = { "pool", "init", "--backend", (char *)backend };
        size_t n = 4;
        va_list ap;

        vt_init(vt, NULL);
        snprintf(vt->backend, sizeof(vt->backend), "%s", backend);
        if (strcmp(backend, "thin") == 0) {
                argv[n++] = "--data-size";
                argv[n++] = "2G";
        }
        va_start(ap, backend);
        for (char *w; (w = va_arg(ap, char *)) && n < 23;)
                argv[n++] = w;
        va_end(ap);
        argv[n] = NULL;
        struct vt_run r = vt_cli(vt, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6], argv[7], argv[8],
                                 argv[9], argv[10], argv[11], argv[12], NULL);
        cr_assert(n <= 12, "vt_init_backend: too many words");
        cr_assert_eq(r.status, 0, "pool init %s (%s): exit %d: %s", vt->pool, backend, r.status, r.err);
        vt_run_free(&r);
}

void vt_cleanup(struct vt *vt)
{
        int st;

        if (!vt->pool[0])
                return;
        /* Sweep whatever a failed test left: volumes first, then the pool (its autoclear
         * loops go with it), then any loop still on our files, then the directory. */
        free(vt_sh(&st, "for d in $(dmsetup ls 2>/dev/null | awk '{print $1}' | grep '^DVM-%s-'); do "
                        "dmsetup remove --retry $d; done; dmsetup remove --retry DVM-%s 2>/dev/null; "
                        "for l in $(losetup -nO NAME,BACK-FILE | awk 'index($2, \"%s/\") == 1 {print $1}'); do "
                        "losetup -d $l; done; rm -rf %s",
                   vt->pool, vt->pool, vt->state, vt->state));
}

char *vt_loops(struct vt *vt)
{
        int st;
        char *out = vt_sh(&st, "losetup -nO NAME,BACK-FILE | awk 'index($2, \"%s/\") == 1' | sort", vt->state);
        cr_assert_eq(st, 0, "losetup failed: %s", out);
        return out;
}

char *vt_layers(struct vt *vt)
{
        int st;
        char *out;

        if (strcmp(vt->backend, "snap") != 0)
                return vt_thin_ids(vt);
        out = vt_sh(&st, "cd %s/%s && ids=$(ls | sed -n 's/^\\([0-9]*\\)\\.\\(img\\|cow\\)$/\\1/p' | sort -nu | tr '\\n' ' '); "
                         "echo \" $ids\"", vt->state, vt->pool);
        cr_assert_eq(st, 0, "listing the layer files of pool %s failed: %s", vt->pool, out);
        out[strcspn(out, "\n")] = 0;
        return out;
}

uint64_t vt_data_used(struct vt *vt)
{
        int st;
        char *out;
        uint64_t used;

        if (strcmp(vt->backend, "snap") == 0)
                out = vt_sh(&st, "cd %s/%s && stat -c %%b:%%B *.img | awk -F: '{s += $1 * $2} END {print s + 0}'",
                            vt->state, vt->pool);
        else
                out = vt_sh(&st, "b=$(dmsetup table DVM-%s | awk '{print $6 * 512}') && "
                                 "dmsetup status DVM-%s | awk -v b=$b '{split($6, a, \"/\"); print a[1] * b}'",
                            vt->pool, vt->pool);
        cr_assert_eq(st, 0, "data used of pool %s: %s", vt->pool, out);
        used = strtoull(out, NULL, 10);
        free(out);
        return used;
}

void vt_reboot(struct vt *vt)
{
        int st;
        free(vt_sh(&st, "for d in $(dmsetup ls | awk '{print $1}' | grep '^DVM-%s-'); do dmsetup remove $d || exit 1; done; "
                        "! dmsetup info DVM-%s >/dev/null 2>&1 || dmsetup remove DVM-%s",
                   vt->pool, vt->pool, vt->pool));
        cr_assert_eq(st, 0, "removing the devices of pool %s failed", vt->pool);
        char *loops = vt_loops(vt);
        cr_assert_str_empty(loops, "loops still attached after the pool's devices went: %s", loops);
        free(loops);
}

static char *slurp_fd(int fd)
{
        size_t cap = 4096, n = 0;
        char *buf = malloc(cap);
        ssize_t k;

        while (buf && (k = read(fd, buf + n, cap - n - 1)) > 0) {
                n += (size_t)k;
                if (cap - n < 2) {
                        cap *= 2;
                        buf = realloc(buf, cap);
                }
        }
        if (buf)
                buf[n] = 0;
        return buf;
}

static struct vt_run run_argv(char *const argv[])
{
        struct vt_run r = {};
        posix_spawn_file_actions_t fa;
        char out_name[] = "/tmp/vt-out-XXXXXX", err_name[] = "/tmp/vt-err-XXXXXX";
        int out = mkstemp(out_name), err = mkstemp(err_name), st;
        pid_t pid;

        cr_assert(out >= 0 && err >= 0, "mkstemp: %m");
        unlink(out_name);
        unlink(err_name);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, out, 1);
        posix_spawn_file_actions_adddup2(&fa, err, 2);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        cr_assert_eq(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0, "spawn %s: %m", argv[0]);
        posix_spawn_file_actions_destroy(&fa);
        cr_assert_eq(waitpid(pid, &st, 0), pid, "waitpid: %m");
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        lseek(out, 0, SEEK_SET);
        lseek(err, 0, SEEK_SET);
        r.out = slurp_fd(out);
        r.err = slurp_fd(err);
        close(out);
        close(err);
        return r;
}

struct vt_run vt_cli(struct vt *vt, ...)
{
        char *argv[64] = { vt->dvm_vol, "--state-dir", vt->state, "--pool", vt->pool };
        size_t n = 5;
        va_list ap;

        va_start(ap, vt);
        for (char *w; (w = va_arg(ap, char *)) && n < 63;)
                argv[n++] = w;
        va_end(ap);
        argv[n] = NULL;
        return run_argv(argv);
}

void vt_run_free(struct vt_run *r)
{
        free(r->out);
        free(r->err);
        r->out = r->err = NULL;
}

char *vt_sh(int *ret_status, const char *fmt, ...)
{
        char *cmd = NULL;
        va_list ap;

        va_start(ap, fmt);
        cr_assert(vasprintf(&cmd, fmt, ap) >= 0);
        va_end(ap);
        char *argv[] = { "/bin/sh", "-c", cmd, NULL };
        struct vt_run r = run_argv(argv);
        free(cmd);
        if (ret_status)
                *ret_status = r.status;
        free(r.err);
        return r.out;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
        h ^= v;
        h *= 0x100000001b3ULL;
        return h ^ (h >> 29);
}

uint64_t vt_hash(const char *path, uint64_t off, uint64_t len)
{
        enum { BUF = 1 << 20 };
        uint64_t *buf = malloc(BUF), h = 0xcbf29ce484222325ULL, done = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        cr_assert(fd >= 0 && buf, "open %s: %m", path);
        for (;;) {
                size_t want = BUF;
                if (len && len - done < want)
                        want = (size_t)(len - done);
                if (!want)
                        break;
                ssize_t n = pread(fd, buf, want, (off_t)(off + done));
                cr_assert(n >= 0, "read %s: %m", path);
                if (n == 0)
                        break;
                for (size_t i = 0; i < (size_t)n / 8; i++)
                        h = mix(h, buf[i]);
                done += (uint64_t)n;
        }
        close(fd);
        free(buf);
        return mix(h, done);
}

static void fill(uint64_t *buf, size_t n, uint64_t off, uint32_t seed)
{
        for (size_t i = 0; i < n / 8; i++)
                buf[i] = ((uint64_t)seed << 40) ^ ((off / 8 + i) * 0x9e3779b97f4a7c15ULL) ^ 0x5a5a;
}

void vt_pattern(const char *path, uint64_t off, uint64_t len, uint32_t seed)
{
        enum { BUF = 1 << 20 };
        void *buf;
        int fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);

        if (fd < 0 && errno == EINVAL) /* tmpfs files take no O_DIRECT */
                fd = open(path, O_WRONLY | O_CLOEXEC);

        cr_assert(fd >= 0, "open %s: %m", path);
        cr_assert_eq(posix_memalign(&buf, 4096, BUF), 0);
        for (uint64_t done = 0; done < len;) {
                size_t n = len - done < BUF ? (size_t)(len - done) : BUF;
                fill(buf, n, off + done, seed);
                cr_assert_eq(pwrite(fd, buf, n, (off_t)(off + done)), (ssize_t)n, "write %s at %llu: %m", path,
                             (unsigned long long)(off + done));
                done += n;
        }
        cr_assert_eq(fsync(fd), 0, "fsync %s: %m", path);
        close(fd);
        free(buf);
}

bool vt_has_pattern(const char *path, uint64_t off, uint64_t len, uint32_t seed)
{
        enum { BUF = 1 << 20 };
        uint64_t *want = malloc(BUF), *got = malloc(BUF);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        bool ok = true;

        cr_assert(fd >= 0 && want && got, "open %s: %m", path);
        for (uint64_t done = 0; ok && done < len;) {
                size_t n = len - done < BUF ? (size_t)(len - done) : BUF;
                fill(want, n, off + done, seed);
                ok = pread(fd, got, n, (off_t)(off + done)) == (ssize_t)n && memcmp(want, got, n) == 0;
                done += n;
        }
        close(fd);
        free(want);
        free(got);
        return ok;
}

const char *vt_dev(struct vt *vt, const char *vm, const char *vol)
{
        static char slots[8][256];
        static unsigned next;
        char *b = slots[next++ % 8];

        snprintf(b, 256, "/dev/mapper/DVM-%s-%s-%s", vt->pool, vm, vol);
        return b;
}

char *vt_thin_ids(struct vt *vt)
{
        int st;
        /* The metadata device from the pool's own table; a metadata snapshot makes the
         * live pool's metadata readable by thin_dump. */
        char *out = vt_sh(&st,
                          "set -e; t=$(dmsetup table DVM-%s | awk '{print $4}'); "
                          "dev=/dev/$(sed -n 's/^DEVNAME=//p' /sys/dev/block/$t/uevent); "
                          "dmsetup message DVM-%s 0 reserve_metadata_snap; "
                          "ids=$(thin_dump -m $dev | sed -n 's/.*<device dev_id=\"\\([0-9]*\\)\".*/\\1/p' | sort -n | tr '\\n' ' '); "
                          "dmsetup message DVM-%s 0 release_metadata_snap; echo \" $ids\"",
                          vt->pool, vt->pool, vt->pool);
        cr_assert_eq(st, 0, "thin_dump of pool %s failed: %s", vt->pool, out);
        out[strcspn(out, "\n")] = 0;
        return out;
}

char *vt_kernel_state(struct vt *vt)
{
        int st;
        char *devs = vt_sh(&st, "dmsetup table | grep '^DVM-%s[-:]' | sort", vt->pool);
        char *ids = vt_thin_ids(vt), *all = NULL;

        cr_assert(asprintf(&all, "devices:\n%sthin ids:%s\n", devs, ids) >= 0);
        free(devs);
        free(ids);
        return all;
}

char *vt_catalog_dump(struct vt *vt)
{
        int st;
        char *out = vt_sh(&st, "sqlite3 %s/%s/catalog.db .dump", vt->state, vt->pool);
        cr_assert_eq(st, 0, "sqlite3 dump failed");
        return out;
}
