// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loop devices over the pool's backing files: find by backing file through sysfs, attach
 * with LOOP_CTL_GET_FREE + LOOP_CONFIGURE (one ioctl, no window where the device is
 * half set up), detach with LOOP_CLR_FD.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "kernel/loop.h"
#include "util/fault.h"
#include "util/text.h"

static int fill_numbers(struct loop_dev *loop)
{
        struct stat st;

        if (stat(loop->path, &st) < 0)
                return -errno;
        loop->major = major(st.st_rdev);
        loop->minor = minor(st.st_rdev);
        return 0;
}

int loop_find(dvm_ctx *ctx _unused_, const char *file, struct loop_dev *ret_loop)
{
        char real[PATH_MAX], backing[PATH_MAX + 16], p[300];
        DIR *d;
        struct dirent *de;
        int r = -ENOENT;

        if (!realpath(file, real))
                return -errno;
        d = opendir("/sys/block");
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, "loop", 4) != 0)
                        continue;
                snprintf(p, sizeof(p), "/sys/block/%s/loop/backing_file", de->d_name);
                if (text_read_line(p, backing, sizeof(backing)) < 0 || strcmp(backing, real) != 0)
                        continue;
                struct loop_dev l = { .fd = -1 };
                snprintf(l.path, sizeof(l.path), "/dev/%s", de->d_name);
                if (fill_numbers(&l) == 0) {
                        *ret_loop = l;
                        r = 0;
                        break;
                }
        }
        closedir(d);
        return r;
}

static int configure(const char *file, unsigned flags, struct loop_dev *ret_loop)
{
        _cleanup_close_ int ctl = -1, backing = -1, dev = -1;
        struct loop_config cfg = {};
        struct loop_dev l = { .fd = -1 };
        bool ro = flags & LOOP_READ_ONLY;
        int nr;

        backing = open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (backing < 0)
                return -errno;
        ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (ctl < 0)
                return -errno;
        nr = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (nr < 0)
                return -errno;
        snprintf(l.path, sizeof(l.path), "/dev/loop%d", nr);
        dev = open(l.path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (dev < 0)
                return -errno;
        cfg.fd = (uint32_t)backing;
        cfg.info.lo_flags = (ro ? LO_FLAGS_READ_ONLY : 0) | (flags & LOOP_DIRECT_IO ? LO_FLAGS_DIRECT_IO : 0) |
                            (flags & LOOP_AUTOCLEAR ? LO_FLAGS_AUTOCLEAR : 0);
        snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", file);
        if (ioctl(dev, LOOP_CONFIGURE, &cfg) < 0) {
                if (errno != EINVAL || !(flags & LOOP_DIRECT_IO))
                        return -errno;
                /* a backing file system without direct I/O (tmpfs): buffered then */
                cfg.info.lo_flags &= ~(uint32_t)LO_FLAGS_DIRECT_IO;
                if (ioctl(dev, LOOP_CONFIGURE, &cfg) < 0)
                        return -errno;
        }
        int r = fill_numbers(&l);
        if (r < 0)
                return r;
        l.fd = TAKE_FD(dev);
        *ret_loop = l;
        return 0;
}

/*
 * Whether the loop open on @fd still serves @file with the read-only state @flags asks for.
 * Once we hold it open, autoclear cannot take it away from us any more.
 */
static bool still_ours(int fd, const char *file, unsigned flags)
{
        struct loop_info64 info;
        struct stat st;

        if (stat(file, &st) < 0 || ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
                return false;
        return info.lo_inode == st.st_ino && info.lo_device == st.st_dev &&
               !(info.lo_flags & LO_FLAGS_READ_ONLY) == !(flags & LOOP_READ_ONLY);
}

int loop_attach(dvm_ctx *ctx, const char *file, unsigned flags, struct loop_dev *ret_loop)
{
        struct loop_dev l;
        int r;

        if (loop_find(ctx, file, &l) == 0) {
                l.fd = open(l.path, (flags & LOOP_READ_ONLY ? O_RDONLY : O_RDWR) | O_CLOEXEC);
                if (l.fd >= 0 && still_ours(l.fd, file, flags)) {
                        *ret_loop = l;
                        return 0;
                }
                /* gone meanwhile (autoclear), or writable where we want it read-only or the
                 * other way round: a loop of our own then */
                loop_release(&l);
        }
        /* Another process may take the free device between GET_FREE and CONFIGURE: EBUSY
         * then means "try the next one". */
        for (int attempt = 0; attempt < 16; attempt++) {
                r = configure(file, flags, ret_loop);
                if (r != -EBUSY)
                        break;
                nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
        }
        if (r < 0)
                return ctx_error(ctx, r, "cannot attach a loop device to %s: %m", file);
        ctx_debug(ctx, "attached %s to %s", ret_loop->path, file);
        FAULT_POINT("loop.attach");
        return 0;
}

void loop_release(struct loop_dev *loop)
{
        if (loop->fd >= 0)
                close(loop->fd);
        loop->fd = -1;
}

int loop_detach(dvm_ctx *ctx, const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return ctx_error(ctx, -errno, "cannot open %s: %m", path);
        if (ioctl(fd, LOOP_CLR_FD) < 0 && errno != ENXIO)
                return ctx_error(ctx, -errno, "cannot detach %s: %m", path);
        return 0;
}
