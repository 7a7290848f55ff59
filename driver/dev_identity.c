// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Block device identity: the device number of an open descriptor, the dm name and UUID
 * sysfs gives for that number, and the disk sequence number (BLKGETDISKSEQ).
 */
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dev_identity.h"
#include "text.h"
#include "text.h"

/* Read the one-line sysfs attribute @attr of block device @maj:@min; "" when it is absent. */
static int sysfs_attr(uint32_t maj, uint32_t min, const char *attr, char *buf, size_t len)
{
        char path[96];
        int r;

        buf[0] = 0;
        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", maj, min, attr);
        r = text_read_line(path, buf, len);
        return r == -ENOENT ? 0 : r;
}

int ident_open(dvm_ctx *ctx, const char *path, struct dev_identity *ret_ident)
{
        struct dev_identity id = {};
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        struct stat st;
        int r;

        if (fd < 0)
                return ctx_error(ctx, -errno, "cannot open %s: %m", path);
        if (fstat(fd, &st) < 0)
                return ctx_error(ctx, -errno, "cannot stat %s: %m", path);
        if (!S_ISBLK(st.st_mode))
                return ctx_error(ctx, -ENOTBLK, "%s is not a block device", path);
        id.major = major(st.st_rdev);
        id.minor = minor(st.st_rdev);
        if ((r = sysfs_attr(id.major, id.minor, "dm/name", id.name, sizeof(id.name))) < 0 ||
            (r = sysfs_attr(id.major, id.minor, "dm/uuid", id.uuid, sizeof(id.uuid))) < 0)
                return ctx_error(ctx, r, "cannot read the sysfs identity of %s (%u:%u): %m", path, id.major,
                                 id.minor);
        /* kernels before 5.15 do not number disks; the check then rests on name and UUID */
        if (ioctl(fd, BLKGETDISKSEQ, &id.diskseq) < 0 && errno != ENOTTY && errno != EINVAL)
                return ctx_error(ctx, -errno, "cannot read the disk sequence number of %s: %m", path);
        *ret_ident = id;
        return TAKE_FD(fd);
}

int ident_check(dvm_ctx *ctx, const char *path, const struct dev_identity *id, const char *name, int64_t layer_id)
{
        size_t len = strlen(name);
        const char *suffix = id->uuid + len + 1;
        const char *end;
        uint64_t n;

        if (strcmp(id->name, name) != 0)
                return ctx_error(ctx, -ESTALE, "%s (%u:%u) is not ours: its device-mapper name is \"%s\", not %s", path,
                                 id->major, id->minor, id->name, name);
        if (strncmp(id->uuid, name, len) != 0 || id->uuid[len] != '-' || !*suffix)
                return ctx_error(ctx, -ESTALE, "%s (%u:%u) is not ours: its device-mapper UUID is \"%s\", not %s-...",
                                 path, id->major, id->minor, id->uuid, name);
        if (text_parse_u64(suffix, &end, &n) == 0 && !*end && (layer_id < 0 || n != (uint64_t)layer_id))
                return ctx_error(ctx, -ESTALE, "%s (%u:%u) is a device left from layer %s, not the running layer %lld",
                                 path, id->major, id->minor, suffix, (long long)layer_id);
        return 0;
}
