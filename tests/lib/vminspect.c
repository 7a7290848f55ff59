// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm-tier helpers for dvm-inspect: the daemon as a foreground child with its stderr in a
 * file, readiness by the mount's file system type, paths in its tree, text reads, and its
 * view devices as dmsetup sees them.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vminspect.h"

#define FUSE_SUPER_MAGIC 0x65735546

extern char **environ;

void vi_fixture(struct vi *m, struct vt *vt)
{
        vt_init(vt, "2G");
        memset(m, 0, sizeof(*m));
}

void vi_fixture_cleanup(struct vi *m, struct vt *vt)
{
        vi_sweep(m);
        vt_cleanup(vt);
}

void vi_bin(struct vi *m, struct vt *vt)
{
        char *slash;

        snprintf(m->bin, sizeof(m->bin), "%s", vt->dvm_vol);
        slash = strrchr(m->bin, '/');
        cr_assert(slash, "dvm-vol path %s has no directory", vt->dvm_vol);
        snprintf(slash + 1, sizeof(m->bin) - (size_t)(slash + 1 - m->bin), "dvm-inspect");
        cr_assert(access(m->bin, X_OK) == 0, "dvm-inspect not found at %s", m->bin);
}

static bool is_fuse(const char *dir)
{
        struct statfs sf;
        return statfs(dir, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC;
}

void vi_mount(struct vi *m, struct vt *vt)
{
        vi_mount_with(m, vt, NULL);
}

void vi_mount_with(struct vi *m, struct vt *vt, const char *option)
{
        posix_spawn_file_actions_t fa;
        int st;

        m->vt = vt;
        vi_bin(m, vt);
        snprintf(m->dir, sizeof(m->dir), "%s.mnt", vt->state);
        snprintf(m->log, sizeof(m->log), "%s.log", vt->state);
        cr_assert(mkdir(m->dir, 0755) == 0 || errno == EEXIST, "mkdir %s: %m", m->dir);
        char *argv[] = { m->bin, "--state-dir", vt->state, "--foreground", m->dir, NULL, NULL };
        if (option) {
                argv[4] = (char *)option;
                argv[5] = m->dir;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, m->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        cr_assert_eq(posix_spawn(&m->pid, m->bin, &fa, NULL, argv, environ), 0, "spawn %s: %m", m->bin);
        posix_spawn_file_actions_destroy(&fa);
        for (int i = 0; i < 500 && !is_fuse(m->dir); i++) {
                if (waitpid(m->pid, &st, WNOHANG) == m->pid) {
                        m->pid = 0;
                        char *log = vi_log(m);
                        cr_assert_fail("dvm-inspect exited before mounting (status %d): %s", st, log);
                }
                nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
        }
        cr_assert(is_fuse(m->dir), "dvm-inspect did not mount %s within 10 s", m->dir);
}

void vi_unmount(struct vi *m)
{
        int st = 0;

        if (!m->pid)
                return;
        cr_assert_eq(umount(m->dir), 0, "umount %s: %m", m->dir);
        cr_assert_eq(waitpid(m->pid, &st, 0), m->pid, "waitpid dvm-inspect: %m");
        m->pid = 0;
        char *log = vi_log(m);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "dvm-inspect ended with status %#x after umount: %s", st,
                  log);
        free(log);
        rmdir(m->dir);
}

void vi_sweep(struct vi *m)
{
        int st;

        if (!m->vt)
                return;
        if (m->pid) {
                umount2(m->dir, MNT_DETACH);
                kill(m->pid, SIGTERM);
                waitpid(m->pid, &st, 0);
                m->pid = 0;
        }
        rmdir(m->dir);
        free(vt_sh(&st, "for d in $(dmsetup ls 2>/dev/null | awk '{print $1}' | grep '^DVM-%s+view-'); do "
                        "dmsetup remove --retry $d; done",
                   m->vt->pool));
}

const char *vi_path(struct vi *m, const char *rel)
{
        static char slots[8][512];
        static unsigned next;
        char *b = slots[next++ % 8];

        snprintf(b, 512, "%s/%s%s%s", m->dir, m->vt->pool, rel && *rel ? "/" : "", rel ? rel : "");
        return b;
}

char *vi_read(const char *path, size_t *ret_len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t cap = 4096, n = 0;
        char *buf;
        ssize_t k;

        if (fd < 0)
                return NULL;
        buf = malloc(cap);
        while (buf && (k = read(fd, buf + n, cap - n - 1)) > 0) {
                n += (size_t)k;
                if (cap - n < 2)
                        buf = realloc(buf, cap *= 2);
        }
        close(fd);
        if (buf)
                buf[n] = 0;
        if (ret_len)
                *ret_len = n;
        return buf;
}

int vi_views(struct vi *m)
{
        int st;
        char *out = vt_sh(&st, "dmsetup ls 2>/dev/null | grep -c '^DVM-%s+view-' || true", m->vt->pool);
        int n = atoi(out);
        free(out);
        return n;
}

char *vi_log(struct vi *m)
{
        char *log = vi_read(m->log, NULL);
        return log ? log : strdup("(no log)");
}
