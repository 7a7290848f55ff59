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

const struct vt_backend vt_backends[2] = { { "thin" }, { "snap" } };

/* Appends the NULL-terminated words of @ap to @argv from index @n on, @max entries in all
 * with the NULL that ends them. Returns the count. */
static size_t add_words(char *argv[], size_t n, size_t max, va_list ap)
{
        for (char *w; n + 1 < max && (w = va_arg(ap, char *));)
                argv[n++] = w;
        argv[n] = NULL;
        return n;
}

#define MiB (1ULL << 20)

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
        add_words(argv, n, 24, ap);
        va_end(ap);
        struct vt_run r = vt_cliv(vt, (const char *const *)argv);
        cr_assert_eq(r.status, 0, "pool init %s (%s): exit %d: %s", vt->pool, backend, r.status, r.err);
        vt_run_free(&r);
}

void vt_cleanup(struct vt *vt)
{
        int st;

        if (!vt->pool[0])
                return;
        /* Sweep whatever a test left: the pool's volumes, the top of each stack first (a pass
         * takes only what nothing holds open, so no remove waits out --retry on a device that
         * a crypt or snapshot device still holds), what stays held with --retry; then the pool
         * (its autoclear loops go with it), any loop still on our files, the directory. */
        free(vt_sh(&st, "for i in 1 2 3 4 5 6; do "
                        "ds=$(dmsetup info -c --noheadings -o name,open --separator ' ' 2>/dev/null | "
                        "awk -v p=DVM-%s- 'index($1, p) == 1 && $2 == 0 {print $1}'); "
                        "[ -n \"$ds\" ] || break; for d in $ds; do dmsetup remove $d; done; done; "
                        "for d in $(dmsetup ls 2>/dev/null | awk '{print $1}' | grep '^DVM-%s-'); do "
                        "dmsetup remove --retry $d; done; dmsetup remove --retry DVM-%s 2>/dev/null; "
                        "for l in $(losetup -nO NAME,BACK-FILE | awk 'index($2, \"%s/\") == 1 {print $1}'); do "
                        "losetup -d $l; done; rm -rf %s",
                   vt->pool, vt->pool, vt->pool, vt->state, vt->state));
}

char *vt_loops(struct vt *vt)
{
        int st;
        char *out = vt_sh(&st, "losetup -nO NAME,BACK-FILE | awk 'index($2, \"%s/\") == 1' | sort", vt->state);
        cr_assert_eq(st, 0, "losetup failed: %s", out);
        return out;
}

int vt_count_lines(const char *s)
{
        int n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
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

static struct vt_run run_argv(char *const argv[], bool search_path)
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
        int e = search_path ? posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ)
                            : posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        cr_assert_eq(e, 0, "spawn %s: %s", argv[0], strerror(e));
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

struct vt_run vt_cliv(struct vt *vt, const char *const words[])
{
        char *argv[64] = { vt->dvm_vol, "--state-dir", vt->state, "--pool", vt->pool };
        size_t n = 5;

        for (size_t i = 0; words[i] && n < 63; i++)
                argv[n++] = (char *)words[i];
        argv[n] = NULL;
        return run_argv(argv, false);
}

struct vt_run vt_cli(struct vt *vt, ...)
{
        char *words[58];
        va_list ap;

        va_start(ap, vt);
        add_words(words, 0, 58, ap);
        va_end(ap);
        return vt_cliv(vt, (const char *const *)words);
}

char *vt_exec(int *ret_status, const char *prog, ...)
{
        char *argv[32] = { (char *)prog };
        va_list ap;

        va_start(ap, prog);
        add_words(argv, 1, 32, ap);
        va_end(ap);
        struct vt_run r = run_argv(argv, true);
        if (ret_status)
                *ret_status = r.status;
        free(r.err);
        return r.out;
}

void vt_make_templates(struct vt *vt, const char *root_size, const char *private_size)
{
        VT_CLI_OK(vt, "template", "create", "tmpl", "--root-size", root_size, "--private-size", private_size);
        VT_CLI_OK(vt, "start", "tmpl");
        vt_pattern(vt_dev(vt, "tmpl", "root"), 0, 8 * MiB, 1);
        VT_CLI_OK(vt, "stop", "tmpl");
        VT_CLI_OK(vt, "dvm", "create", "dvm", "--template", "tmpl");
        VT_CLI_OK(vt, "start", "dvm");
        vt_pattern(vt_dev(vt, "dvm", "private"), 0, 4 * MiB, 2);
        VT_CLI_OK(vt, "stop", "dvm");
}

char *vt_spawn(struct vt *vt, const char *dvm, ...)
{
        char *argv[16] = { "spawn", (char *)dvm }, expect[1024], *name;
        va_list ap;

        va_start(ap, dvm);
        add_words(argv, 2, 16, ap);
        va_end(ap);
        struct vt_run r = vt_cliv(vt, (const char *const *)argv);
        cr_assert_eq(r.status, 0, "%s%sspawn %s: exit %d: %s", vt->backend, vt->backend[0] ? ": " : "", dvm,
                     r.status, r.err);
        name = strndup(r.out, strcspn(r.out, "\n"));
        cr_assert(name, "strndup");
        snprintf(expect, sizeof(expect), "%s\n%s\n%s\n%s\n", name, vt_dev(vt, name, "root"),
                 vt_dev(vt, name, "private"), vt_dev(vt, name, "volatile"));
        cr_assert_str_eq(r.out, expect, "spawn output:\n%s", r.out);
        vt_run_free(&r);
        return name;
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
        struct vt_run r = run_argv(argv, false);
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

static void pattern_fill(void *buf, size_t n, uint64_t off, const void *arg)
{
        uint32_t seed = *(const uint32_t *)arg;
        uint64_t *w = buf;

        for (size_t i = 0; i < n / 8; i++)
                w[i] = ((uint64_t)seed << 40) ^ ((off / 8 + i) * 0x9e3779b97f4a7c15ULL) ^ 0x5a5a;
}

void vt_write_fill(const char *path, uint64_t off, uint64_t len, vt_fill_fn *fill, const void *arg)
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
                fill(buf, n, off + done, arg);
                cr_assert_eq(pwrite(fd, buf, n, (off_t)(off + done)), (ssize_t)n, "write %s at %llu: %m", path,
                             (unsigned long long)(off + done));
                done += n;
        }
        cr_assert_eq(fsync(fd), 0, "fsync %s: %m", path);
        close(fd);
        free(buf);
}

bool vt_reads_fill(const char *path, uint64_t off, uint64_t len, vt_fill_fn *fill, const void *arg)
{
        enum { BUF = 1 << 20 };
        uint64_t *want = malloc(BUF), *got = malloc(BUF);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        bool ok = true;

        cr_assert(fd >= 0 && want && got, "open %s: %m", path);
        for (uint64_t done = 0; ok && done < len;) {
                size_t n = len - done < BUF ? (size_t)(len - done) : BUF;
                fill(want, n, off + done, arg);
                ok = pread(fd, got, n, (off_t)(off + done)) == (ssize_t)n && memcmp(want, got, n) == 0;
                done += n;
        }
        close(fd);
        free(want);
        free(got);
        return ok;
}

void vt_pattern(const char *path, uint64_t off, uint64_t len, uint32_t seed)
{
        vt_write_fill(path, off, len, pattern_fill, &seed);
}

bool vt_has_pattern(const char *path, uint64_t off, uint64_t len, uint32_t seed)
{
        return vt_reads_fill(path, off, len, pattern_fill, &seed);
}

const char *vt_dev(struct vt *vt, const char *vm, const char *vol)
{
        static char slots[8][256];
        static unsigned next;
        char *b = slots[next++ % 8];

        snprintf(b, 256, "/dev/mapper/DVM-%s-%s-%s", vt->pool, vm, vol);
        return b;
}

/* The pool's metadata device from its table parameters ("0 <len> thin-pool <meta maj:min>
 * <data> ..."), as /dev/<name> through sysfs. */
static void meta_dev(struct vt *vt, const char *params, char *buf, size_t len)
{
        unsigned maj, min;
        char uevent[64], line[128];
        FILE *f;

        cr_assert_eq(sscanf(params, "%*u %*u thin-pool %u:%u", &maj, &min), 2, "pool %s: not a thin-pool table: %s",
                     vt->pool, params);
        snprintf(uevent, sizeof(uevent), "/sys/dev/block/%u:%u/uevent", maj, min);
        f = fopen(uevent, "re");
        cr_assert(f, "open %s: %m", uevent);
        buf[0] = 0;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "DEVNAME=", 8) == 0)
                        snprintf(buf, len, "/dev/%.*s", (int)strcspn(line + 8, "\n"), line + 8);
        fclose(f);
        cr_assert(buf[0], "%s names no device", uevent);
}

static int cmp_long(const void *a, const void *b)
{
        long x = *(const long *)a, y = *(const long *)b;
        return (x > y) - (x < y);
}

/* The thin ids in the metadata of the pool whose table parameters are @params: thin_dump of
 * a metadata snapshot (which makes a live pool's metadata readable), " id id ... ". */
static char *thin_ids_of(struct vt *vt, const char *params)
{
        char dev[80], name[64], *out, *dump, *ret;
        long ids[4096];
        size_t n = 0, len;
        int st;

        meta_dev(vt, params, dev, sizeof(dev));
        snprintf(name, sizeof(name), "DVM-%s", vt->pool);
        out = vt_exec(&st, "dmsetup", "message", name, "0", "reserve_metadata_snap", NULL);
        cr_assert_eq(st, 0, "reserve_metadata_snap on %s failed: %s", name, out);
        free(out);
        dump = vt_exec(&st, "thin_dump", "--skip-mappings", "-m", dev, NULL);
        out = vt_exec(NULL, "dmsetup", "message", name, "0", "release_metadata_snap", NULL);
        free(out);
        cr_assert_eq(st, 0, "thin_dump of pool %s (%s) failed: %s", vt->pool, dev, dump);
        for (const char *p = dump; (p = strstr(p, "<device dev_id=\"")) && n < 4096; p++)
                ids[n++] = strtol(p + 16, NULL, 10);
        free(dump);
        qsort(ids, n, sizeof(ids[0]), cmp_long);
        len = 2 + n * 12;
        ret = malloc(len);
        cr_assert(ret, "malloc");
        strcpy(ret, " ");
        for (size_t i = 0; i < n; i++)
                snprintf(ret + strlen(ret), len - strlen(ret), "%ld ", ids[i]);
        return ret;
}

char *vt_thin_ids(struct vt *vt)
{
        char name[64], *table, *ids;
        int st;

        snprintf(name, sizeof(name), "DVM-%s", vt->pool);
        table = vt_exec(&st, "dmsetup", "table", name, NULL);
        cr_assert_eq(st, 0, "dmsetup table %s failed: %s", name, table);
        ids = thin_ids_of(vt, table);
        free(table);
        return ids;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

char *vt_kernel_state(struct vt *vt)
{
        char prefix[64], pool_line[64], *all, *lines[1024], *devs, *ids, *state = NULL;
        const char *params = NULL;
        size_t n = 0, len = 1;
        int st;

        /* one dmsetup for every table; ours are "DVM-<pool>: ..." and "DVM-<pool>-...: ..." */
        all = vt_exec(&st, "dmsetup", "table", NULL);
        cr_assert_eq(st, 0, "dmsetup table failed: %s", all);
        snprintf(prefix, sizeof(prefix), "DVM-%s-", vt->pool);
        snprintf(pool_line, sizeof(pool_line), "DVM-%s: ", vt->pool);
        for (char *save = NULL, *l = strtok_r(all, "\n", &save); l && n < 1024; l = strtok_r(NULL, "\n", &save)) {
                bool pool = strncmp(l, pool_line, strlen(pool_line)) == 0;
                if (!pool && strncmp(l, prefix, strlen(prefix)) != 0)
                        continue;
                if (pool)
                        params = l + strlen(pool_line);
                lines[n++] = l;
                len += strlen(l) + 1;
        }
        cr_assert(params, "pool %s has no device", vt->pool);
        qsort(lines, n, sizeof(lines[0]), cmp_str);
        devs = calloc(1, len);
        cr_assert(devs, "calloc");
        for (size_t i = 0; i < n; i++) {
                strcat(devs, lines[i]);
                strcat(devs, "\n");
        }
        ids = thin_ids_of(vt, params);
        cr_assert(asprintf(&state, "devices:\n%sthin ids:%s\n", devs, ids) >= 0);
        free(all);
        free(devs);
        free(ids);
        return state;
}

char *vt_catalog_dump(struct vt *vt)
{
        char db[300];
        int st;

        snprintf(db, sizeof(db), "%s/%s/catalog.db", vt->state, vt->pool);
        char *out = vt_exec(&st, "sqlite3", db, ".dump", NULL);
        cr_assert_eq(st, 0, "sqlite3 dump of %s failed", db);
        return out;
}

char *vt_sql(struct vt *vt, const char *fmt, ...)
{
        char db[300], *query = NULL, *out;
        va_list ap;
        int st;

        va_start(ap, fmt);
        cr_assert(vasprintf(&query, fmt, ap) >= 0, "vasprintf: %m");
        va_end(ap);
        snprintf(db, sizeof(db), "%s/%s/catalog.db", vt->state, vt->pool);
        out = vt_exec(&st, "sqlite3", db, query, NULL);
        cr_assert_eq(st, 0, "sqlite3 %s \"%s\": exit %d: %s", db, query, st, out);
        free(query);
        size_t len = strlen(out);
        if (len && out[len - 1] == '\n')
                out[len - 1] = '\0';
        return out;
}

char *vt_state(struct vt *vt)
{
        char *kernel = vt_kernel_state(vt), *cat = vt_catalog_dump(vt), *all = NULL;

        cr_assert(asprintf(&all, "%s\n-- catalog --\n%s", kernel, cat) >= 0, "asprintf: %m");
        free(kernel);
        free(cat);
        return all;
}

unsigned long long vt_pool_txn(struct vt *vt)
{
        int st;
        char *out = vt_sh(&st, "dmsetup status DVM-%s | cut -d' ' -f4", vt->pool);
        unsigned long long id = strtoull(out, NULL, 10);
        free(out);
        return id;
}
