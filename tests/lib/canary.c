// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Canary helpers of the vm tier: a random token written repeatedly through a device, read
 * back, and counted on a raw disk; and a scratch disk with a fresh file system for the
 * pool's files, so that a scan sees everything the pool ever put on storage.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include "canary.h"

#define BUF (4u << 20)

void canary_new(struct canary *c)
{
        cr_assert_eq(getrandom(c->token, sizeof(c->token), 0), (ssize_t)sizeof(c->token), "getrandom: %m");
}

/* the token at every 32-byte boundary (buffers and offsets are multiples of 512) */
static void token_fill(void *buf, size_t n, uint64_t off, const void *arg)
{
        const struct canary *c = arg;

        (void)off;
        for (size_t i = 0; i + CANARY_TOKEN <= n; i += CANARY_TOKEN)
                memcpy((char *)buf + i, c->token, CANARY_TOKEN);
}

void canary_write(const char *dev, uint64_t off, uint64_t len, const struct canary *c)
{
        vt_write_fill(dev, off, len, token_fill, c);
}

bool canary_reads_back(const char *dev, uint64_t off, uint64_t len, const struct canary *c)
{
        return vt_reads_fill(dev, off, len, token_fill, c);
}

uint64_t canary_scan(const char *dev, const struct canary *c, const char *what)
{
        uint64_t first, count = 0;
        void *buf = NULL;
        int fd;

        sync();
        fd = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
        cr_assert(fd >= 0, "open %s: %m", dev);
        cr_assert_eq(posix_memalign(&buf, 4096, BUF), 0, "posix_memalign");
        memcpy(&first, c->token, sizeof(first));
        for (off_t off = 0;; off += BUF) {
                ssize_t n = pread(fd, buf, BUF, off);
                cr_assert(n >= 0, "read %s at %lld: %m", dev, (long long)off);
                if (n == 0)
                        break;
                for (size_t i = 0; i + CANARY_TOKEN <= (size_t)n; i += CANARY_TOKEN) {
                        const uint64_t *w = (const uint64_t *)((const char *)buf + i);
                        if (*w == first && memcmp(w, c->token, CANARY_TOKEN) == 0)
                                count++;
                }
        }
        close(fd);
        free(buf);
        fprintf(stderr, "canary scan: %s: %llu copies on %s\n", what, (unsigned long long)count, dev);
        return count;
}

int canary_discard(const char *dev)
{
        uint64_t range[2] = { 0, 0 };
        int fd = open(dev, O_WRONLY | O_CLOEXEC), r = 0;

        cr_assert(fd >= 0, "open %s: %m", dev);
        cr_assert_eq(ioctl(fd, BLKGETSIZE64, &range[1]), 0, "BLKGETSIZE64 %s: %m", dev);
        if (ioctl(fd, BLKDISCARD, range) < 0)
                r = -errno;
        close(fd);
        return r;
}

uint64_t canary_discard_max(const char *dev)
{
        struct stat st;
        char path[96];
        unsigned long long n = 0;
        FILE *f;

        cr_assert_eq(stat(dev, &st), 0, "stat %s: %m", dev);
        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/discard_max_bytes", major(st.st_rdev),
                 minor(st.st_rdev));
        f = fopen(path, "re");
        cr_assert(f, "%s (%s): %m", path, dev);
        cr_assert_eq(fscanf(f, "%llu", &n), 1, "%s: not a number", path);
        fclose(f);
        return n;
}

const char *scratch_disk(void)
{
        static char path[300];
        const char *env = getenv("DVM_SCRATCH_DISK");
        DIR *d;
        struct dirent *de;

        if (env && *env)
                return env;
        d = opendir("/sys/block");
        if (!d)
                return NULL;
        path[0] = 0;
        while ((de = readdir(d)) && !path[0]) {
                char f[300], serial[64] = "";
                FILE *s;
                snprintf(f, sizeof(f), "/sys/block/%s/serial", de->d_name);
                s = fopen(f, "re");
                if (!s)
                        continue;
                if (fgets(serial, sizeof(serial), s) && strncmp(serial, "dvm-scratch", 11) == 0)
                        snprintf(path, sizeof(path), "/dev/%s", de->d_name);
                fclose(s);
        }
        closedir(d);
        return path[0] ? path : NULL;
}

static char mounted[128], zram_before[512];

/* The zram devices that exist, as " zram0 zram1 ". */
static void zram_list(char *buf, size_t len)
{
        int st;
        char *out = vt_sh(&st, "cd /sys/block && echo \" $(ls -d zram* 2>/dev/null | tr '\\n' ' ')\"");

        snprintf(buf, len, "%s", out);
        buf[strcspn(buf, "\n")] = 0;
        free(out);
}

void scratch_init(struct vt *vt, const char *backend, ...)
{
        const char *disk = scratch_disk();
        char *argv[16] = { "pool", "init", "--backend", (char *)backend };
        size_t n = 4;
        va_list ap;
        int st;

        vt_require_dm();
        if (!disk)
                cr_skip_test("SKIP: no scratch disk: tests/vm/run-in-vm.sh attaches one (serial dvm-scratch), "
                             "or set DVM_SCRATCH_DISK to a disk whose contents may be destroyed");
        vt_init(vt, NULL);
        snprintf(vt->backend, sizeof(vt->backend), "%s", backend);
        zram_list(zram_before, sizeof(zram_before));
        snprintf(mounted, sizeof(mounted), "/tmp/dvm-scratch-%s", vt->pool);
        /* a fresh file system each time: its free blocks still hold what earlier tests wrote,
         * which the random token of this test never matches */
        char *out = vt_sh(&st, "umount %s 2>/dev/null; mkfs.ext4 -F -q -E nodiscard,lazy_itable_init=1,"
                               "lazy_journal_init=1 %s 2>&1 && mkdir -p %s && mount -o nodiscard %s %s 2>&1",
                          disk, disk, mounted, disk, mounted);
        cr_assert_eq(st, 0, "scratch file system on %s: %s", disk, out);
        free(out);
        cr_assert_lt(strlen(mounted) + 7, sizeof(vt->state), "state directory name too long");
        memcpy(vt->state, mounted, strlen(mounted));
        memcpy(vt->state + strlen(mounted), "/state", 7);
        va_start(ap, backend);
        for (char *w; n < 15 && (w = va_arg(ap, char *));)
                argv[n++] = w;
        va_end(ap);
        argv[n] = NULL;
        struct vt_run r = vt_cliv(vt, (const char *const *)argv);
        if (r.status == 7 && strstr(r.err, "not"))
                cr_skip_test("SKIP: backend %s: %s", backend, r.err);
        cr_assert_eq(r.status, 0, "pool init %s (%s) on %s: exit %d: %s", vt->pool, backend, disk, r.status, r.err);
        vt_run_free(&r);
}

void canary_fixture(struct vt *vt, struct canary *c, const char *backend)
{
        if (strcmp(backend, "thin") == 0)
                scratch_init(vt, backend, "--data-size", "512M", NULL);
        else
                scratch_init(vt, backend, NULL);
        canary_new(c);
        vt_make_templates(vt, "48M", "24M");
}

void scratch_cleanup(struct vt *vt)
{
        char now[512];
        int st;

        /* devices stacked on others of the pool (crypt over its layer, a RAM pool under its
         * volumes) can need a second pass */
        if (vt->pool[0])
                free(vt_sh(&st, "for i in 1 2; do for d in $(dmsetup ls 2>/dev/null | awk '{print $1}' | "
                                "grep '^DVM-%s-'); do dmsetup remove $d 2>/dev/null; done; done", vt->pool));
        vt_cleanup(vt);
        /* zram devices a failed in-RAM test left */
        zram_list(now, sizeof(now));
        for (char *save = NULL, *z = strtok_r(now, " ", &save); z; z = strtok_r(NULL, " ", &save)) {
                char word[80];
                snprintf(word, sizeof(word), " %s ", z);
                if (!strstr(zram_before, word))
                        free(vt_sh(&st, "echo 1 > /sys/block/%s/reset; echo %s > /sys/class/zram-control/hot_remove",
                                   z, z + 4));
        }
        if (mounted[0]) {
                free(vt_sh(&st, "umount %s && rmdir %s", mounted, mounted));
                mounted[0] = 0;
        }
}
