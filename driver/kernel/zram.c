// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * zram devices through sysfs (Documentation/admin-guide/blockdev/zram.rst): hot_add, the
 * memory limit and disk size, reset and hot_remove.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kernel/blkdev.h"
#include "kernel/zram.h"
#include "util/text.h"

#define CONTROL "/sys/class/zram-control"

static int write_attr(dvm_ctx *ctx, const char *path, const char *value)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        size_t len = strlen(value);

        if (fd < 0 || write(fd, value, len) != (ssize_t)len)
                return ctx_error(ctx, -errno, "cannot write \"%s\" to %s: %m", value, path);
        return 0;
}

static int read_attr(dvm_ctx *ctx, const char *path, char *buf, size_t len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0 || (n = read(fd, buf, len - 1)) < 0)
                return ctx_error(ctx, -errno, "cannot read %s: %m", path);
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

static int device_attr(dvm_ctx *ctx, int index, const char *attr, uint64_t value)
{
        char path[64], text[32];

        snprintf(path, sizeof(path), "/sys/block/zram%d/%s", index, attr);
        snprintf(text, sizeof(text), "%" PRIu64, value);
        return write_attr(ctx, path, text);
}

static int device_numbers(dvm_ctx *ctx, int index, struct zram_dev *ret)
{
        char path[64], text[32];
        const char *p;
        uint64_t major, minor;
        int r;

        snprintf(path, sizeof(path), "/sys/block/zram%d/dev", index);
        r = read_attr(ctx, path, text, sizeof(text));
        if (r < 0)
                return r;
        if (text_parse_u64(text, &p, &major) < 0 || *p != ':' || text_parse_u64(p + 1, &p, &minor) < 0 || *p ||
            major > UINT32_MAX || minor > UINT32_MAX)
                return ctx_error(ctx, -EIO, "%s: \"%s\" is not a device number", path, text);
        *ret = (struct zram_dev){ .index = index, .major = (uint32_t)major, .minor = (uint32_t)minor };
        return 0;
}

int zram_add(dvm_ctx *ctx, uint64_t disksize, uint64_t mem_limit, struct zram_dev *ret_dev)
{
        char text[32];
        const char *end;
        uint64_t index;
        struct zram_dev dev;
        int r;

        if (access(CONTROL "/hot_add", R_OK) < 0)
                return ctx_error(ctx, -EOPNOTSUPP, "in-RAM layers need zram devices, and %s is missing: load "
                                 "module zram", CONTROL);
        r = read_attr(ctx, CONTROL "/hot_add", text, sizeof(text));
        if (r < 0)
                return r;
        if (text_parse_u64(text, &end, &index) < 0 || *end || index > INT32_MAX)
                return ctx_error(ctx, -EIO, "%s/hot_add gave \"%s\", not a device index", CONTROL, text);
        /* the limit first: the device must never hold more than it allows */
        if ((r = device_attr(ctx, (int)index, "mem_limit", mem_limit)) < 0 ||
            (r = device_attr(ctx, (int)index, "disksize", disksize)) < 0 ||
            (r = device_numbers(ctx, (int)index, &dev)) < 0) {
                zram_remove(ctx, (int)index);
                return r;
        }
        *ret_dev = dev;
        return 0;
}

int zram_remove(dvm_ctx *ctx, int index)
{
        char path[64], text[16];
        int r;

        /* reset frees every page the device holds; it fails while the device is open */
        snprintf(path, sizeof(path), "/sys/block/zram%d/reset", index);
        r = write_attr(ctx, path, "1");
        if (r < 0)
                return r;
        snprintf(text, sizeof(text), "%d", index);
        return write_attr(ctx, CONTROL "/hot_remove", text);
}

int zram_index(dvm_ctx *ctx, uint32_t major, uint32_t minor)
{
        char name[64];
        const char *end;
        uint64_t index;
        int r = blkdev_name(ctx, major, minor, name, sizeof(name));

        if (r < 0)
                return r;
        if (strncmp(name, "zram", 4) != 0 || text_parse_u64(name + 4, &end, &index) < 0 || *end || index > INT32_MAX)
                return ctx_error(ctx, -ENODEV, "block device %u:%u (%s) is not a zram device", major, minor, name);
        return (int)index;
}
