// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Block devices by number: their kernel name from /sys/dev/block/<maj:min>/uevent, and the
 * devices under a stack from /sys/class/block/<name>/slaves.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "kernel/blkdev.h"

int blkdev_name(dvm_ctx *ctx, uint32_t major, uint32_t minor, char *buf, size_t len)
{
        char path[64], line[256];
        FILE *f;
        int r = -ENOENT;

        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major, minor);
        f = fopen(path, "re");
        if (!f)
                return ctx_error(ctx, -errno, "no block device %u:%u: %s: %m", major, minor, path);
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "DEVNAME=", 8) == 0) {
                        line[strcspn(line, "\n")] = 0;
                        snprintf(buf, len, "%s", line + 8);
                        r = 0;
                        break;
                }
        fclose(f);
        if (r < 0)
                return ctx_error(ctx, r, "block device %u:%u: %s names no device", major, minor, path);
        return 0;
}

int blkdev_node(dvm_ctx *ctx, uint32_t major, uint32_t minor, char *buf, size_t len)
{
        char name[200];
        int r = blkdev_name(ctx, major, minor, name, sizeof(name));

        if (r < 0)
                return r;
        snprintf(buf, len, "/dev/%s", name);
        return 0;
}

/* Device-mapper stacks are a few levels deep; anything deeper is a loop in sysfs. */
#define MAX_DEPTH 16

static int add_name(dvm_ctx *ctx, struct blkdev_set *set, const char *name)
{
        for (size_t i = 0; i < set->n; i++)
                if (strcmp(set->name[i], name) == 0)
                        return 0;
        if (set->n == ARRAY_SIZE(set->name) || strlen(name) >= sizeof(set->name[0]))
                return ctx_error(ctx, -E2BIG, "block device %s: more than %zu devices at the bottom of the stacks "
                                 "to flush", name, ARRAY_SIZE(set->name));
        snprintf(set->name[set->n++], sizeof(set->name[0]), "%s", name);
        return 0;
}

static int bottom_of(dvm_ctx *ctx, const char *name, unsigned depth, struct blkdev_set *set)
{
        char path[300];
        struct dirent *de;
        DIR *d;
        int r = 0;
        bool below = false;

        if (depth > MAX_DEPTH)
                return ctx_error(ctx, -ELOOP, "block device %s: its stack is deeper than %u devices", name, MAX_DEPTH);
        snprintf(path, sizeof(path), "/sys/class/block/%s/slaves", name);
        d = opendir(path);
        while (d && r >= 0 && (de = readdir(d)))
                if (de->d_name[0] != '.') {
                        below = true;
                        r = bottom_of(ctx, de->d_name, depth + 1, set);
                }
        if (d)
                closedir(d);
        if (r < 0 || below)
                return r;
        return add_name(ctx, set, name);
}

int blkdev_bottom(dvm_ctx *ctx, uint32_t major, uint32_t minor, struct blkdev_set *set)
{
        char name[200];
        int r = blkdev_name(ctx, major, minor, name, sizeof(name));

        return r < 0 ? r : bottom_of(ctx, name, 0, set);
}

int blkdev_flush(dvm_ctx *ctx, const struct blkdev_set *set)
{
        for (size_t i = 0; i < set->n; i++) {
                char path[64];
                snprintf(path, sizeof(path), "/dev/%s", set->name[i]);
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || fsync(fd) < 0)
                        return ctx_error(ctx, -errno, "cannot flush %s: %m", path);
        }
        return 0;
}
