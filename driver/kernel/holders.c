// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Who holds a block device open, for "device is busy" messages: processes with a file
 * descriptor on it, devices stacked on it (sysfs holders), loop devices over it, mounts of
 * it, and Xen block backends serving it to a domain.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kernel/holders.h"
#include "util/text.h"

struct out {
        char *buf;
        size_t len, used;
        int n;
};

static void add(struct out *o, const char *fmt, ...) _printf_(2, 3);
static void add(struct out *o, const char *fmt, ...)
{
        va_list ap;
        int k;

        if (o->used + 1 >= o->len) {
                o->n++;
                return;
        }
        if (o->n++ > 0) {
                k = snprintf(o->buf + o->used, o->len - o->used, ", ");
                o->used = MIN(o->len - 1, o->used + (size_t)MAX(k, 0));
        }
        va_start(ap, fmt);
        k = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
        va_end(ap);
        o->used = MIN(o->len - 1, o->used + (size_t)MAX(k, 0));
}

/* Processes other than ourselves with a descriptor open on the device. */
static void processes(dev_t dev, mode_t type, struct out *o)
{
        DIR *proc = opendir("/proc");
        struct dirent *p;

        if (!proc)
                return;
        while ((p = readdir(proc))) {
                char path[300], comm[64] = "?";
                DIR *fds;
                struct dirent *f;
                bool found = false;

                if (p->d_name[0] < '1' || p->d_name[0] > '9' || atoi(p->d_name) == getpid())
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
                fds = opendir(path);
                if (!fds)
                        continue;
                while (!found && (f = readdir(fds))) {
                        struct stat st;
                        char fd_path[600];
                        snprintf(fd_path, sizeof(fd_path), "/proc/%s/fd/%s", p->d_name, f->d_name);
                        found = stat(fd_path, &st) == 0 && (st.st_mode & S_IFMT) == type && st.st_rdev == dev;
                }
                closedir(fds);
                if (!found)
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/comm", p->d_name);
                text_read_line(path, comm, sizeof(comm));
                add(o, "process %s (%s)", p->d_name, comm);
        }
        closedir(proc);
}

/* Block devices stacked on ours: a dm device with ours in its table, md, bcache... */
static void stacked(dev_t dev, struct out *o)
{
        char path[128];
        DIR *d;
        struct dirent *h;

        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders", major(dev), minor(dev));
        d = opendir(path);
        if (!d)
                return;
        while ((h = readdir(d))) {
                char name_path[400], name[160] = "";
                if (h->d_name[0] == '.')
                        continue;
                snprintf(name_path, sizeof(name_path), "/sys/block/%s/dm/name", h->d_name);
                if (text_read_line(name_path, name, sizeof(name)) == 0)
                        add(o, "device %s (%s) stacked on it", h->d_name, name);
                else
                        add(o, "device %s stacked on it", h->d_name);
        }
        closedir(d);
}

/* Loop devices whose backing file is our device node. */
static void loops(dev_t dev, struct out *o)
{
        DIR *d = opendir("/sys/block");
        struct dirent *l;

        if (!d)
                return;
        while ((l = readdir(d))) {
                char path[300], backing[4096];
                struct stat st;
                if (strncmp(l->d_name, "loop", 4) != 0)
                        continue;
                snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", l->d_name);
                if (text_read_line(path, backing, sizeof(backing)) == 0 && stat(backing, &st) == 0 &&
                    S_ISBLK(st.st_mode) && st.st_rdev == dev)
                        add(o, "loop device %s over it", l->d_name);
        }
        closedir(d);
}

/* Mounts of the device (mountinfo field 3 is major:minor). */
static void mounts(dev_t dev, struct out *o)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];

        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                unsigned maj, min;
                char where[2048];
                if (sscanf(line, "%*s %*s %u:%u %*s %2047s", &maj, &min, where) == 3 && maj == major(dev) &&
                    min == minor(dev))
                        add(o, "mounted on %s", where);
        }
        fclose(f);
}

/* Xen blkback devices: /sys/bus/xen-backend/devices/vbd-<domid>-<devid>/physical_device
 * holds "<major hex>:<minor hex>" of the device it serves. */
static void xen_backends(dev_t dev, struct out *o)
{
        DIR *d = opendir("/sys/bus/xen-backend/devices");
        struct dirent *b;

        if (!d)
                return;
        while ((b = readdir(d))) {
                char path[320], text[32];
                unsigned maj, min, domid;
                if (strncmp(b->d_name, "vbd-", 4) != 0)
                        continue;
                snprintf(path, sizeof(path), "/sys/bus/xen-backend/devices/%s/physical_device", b->d_name);
                if (text_read_line(path, text, sizeof(text)) < 0 || sscanf(text, "%x:%x", &maj, &min) != 2 ||
                    maj != major(dev) || min != minor(dev))
                        continue;
                if (sscanf(b->d_name, "vbd-%u-", &domid) == 1)
                        add(o, "Xen domain %u (backend %s)", domid, b->d_name);
                else
                        add(o, "Xen backend %s", b->d_name);
        }
        closedir(d);
}

int holders_describe(dev_t dev, mode_t type, char *buf, size_t len)
{
        struct out o = { .buf = buf, .len = len };

        if (len)
                buf[0] = 0;
        processes(dev, type, &o);
        if (type == S_IFBLK) {
                stacked(dev, &o);
                loops(dev, &o);
                mounts(dev, &o);
                xen_backends(dev, &o);
        }
        return o.n;
}
