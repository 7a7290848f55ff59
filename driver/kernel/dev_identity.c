// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Block device identity: the device number of an open descriptor, the dm name and UUID
 * sysfs gives for that number, and the disk sequence number (BLKGETDISKSEQ); the re-check
 * of a number after the fact, and the wait for another opener while we pin the device.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "kernel/dev_identity.h"
#include "kernel/dm.h"
#include "util/text.h"

DEFINE_CLEANUP(DIR *, closedir)

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

/* A crypt volume's device carries "<name>-crypt", without the layer: the layer is the one
 * device under it, "<name>-raw" with the UUID "<name>-raw-<layer id>". */
static int crypt_layer_check(dvm_ctx *ctx, const char *path, const struct dev_identity *id, const char *name,
                             int64_t layer_id)
{
        char dir[96], attr[400], uuid[sizeof(id->uuid)], want[sizeof(id->uuid) + 32], below[256] = "";
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        unsigned n = 0;
        int r;

        snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u/slaves", id->major, id->minor);
        d = opendir(dir);
        if (!d)
                return ctx_error(ctx, -errno, "cannot list the devices under %s (%u:%u): %s: %m", path, id->major,
                                 id->minor, dir);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && n++ == 0)
                        snprintf(below, sizeof(below), "%s", de->d_name);
        snprintf(want, sizeof(want), "%s-raw-%lld", name, (long long)layer_id);
        if (n != 1)
                return ctx_error(ctx, -ESTALE, "%s (%u:%u) is not ours: a crypt volume has one device under it, it "
                                 "has %u", path, id->major, id->minor, n);
        snprintf(attr, sizeof(attr), "/sys/block/%s/dm/uuid", below);
        r = text_read_line(attr, uuid, sizeof(uuid));
        if (r == -ENOENT)
                uuid[0] = 0;
        else if (r < 0)
                return ctx_error(ctx, r, "cannot read %s: %m", attr);
        if (layer_id < 0 || strcmp(uuid, want) != 0)
                return ctx_error(ctx, -ESTALE, "%s (%u:%u) is not the running layer: the device under it (%s) has the "
                                 "UUID \"%s\", not %s", path, id->major, id->minor, below, uuid, want);
        return 0;
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
        if (strcmp(suffix, "crypt") == 0)
                return crypt_layer_check(ctx, path, id, name, layer_id);
        return 0;
}

int ident_recheck(dvm_ctx *ctx, const char *path, const struct dev_identity *id)
{
        char name[sizeof(id->name)], uuid[sizeof(id->uuid)], seq[32];
        uint64_t n = 0;
        const char *end;
        int r;

        if ((r = sysfs_attr(id->major, id->minor, "dm/name", name, sizeof(name))) < 0 ||
            (r = sysfs_attr(id->major, id->minor, "dm/uuid", uuid, sizeof(uuid))) < 0 ||
            (r = sysfs_attr(id->major, id->minor, "diskseq", seq, sizeof(seq))) < 0)
                return ctx_error(ctx, r, "cannot read the sysfs identity of %u:%u (%s): %m", id->major, id->minor, path);
        if (seq[0] && (text_parse_u64(seq, &end, &n) < 0 || *end))
                return ctx_error(ctx, -EIO, "/sys/dev/block/%u:%u/diskseq reads \"%s\", not a number", id->major,
                                 id->minor, seq);
        if (strcmp(name, id->name) != 0 || strcmp(uuid, id->uuid) != 0 || (id->diskseq && seq[0] && n != id->diskseq))
                return ctx_error(ctx, -ESTALE, "%u:%u is no longer %s: it is \"%s\" (UUID \"%s\", diskseq %s), not "
                                 "\"%s\" (UUID \"%s\", diskseq %" PRIu64 "): the device was replaced under its number",
                                 id->major, id->minor, path, name, uuid, seq[0] ? seq : "-", id->name, id->uuid,
                                 id->diskseq);
        return 0;
}

/* Whether another opener than the caller's pin has @id: @opened_attr names it, or the
 * device's open count is above @baseline. */
static int opened(dvm_ctx *ctx, const struct dev_identity *id, const char *opened_attr, bool by_attr, int baseline)
{
        char buf[64], want[32];
        struct dm_dev_info info;
        int r;

        if (by_attr) {
                r = text_read_line(opened_attr, buf, sizeof(buf));
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return ctx_error(ctx, r, "cannot read %s: %m", opened_attr);
                snprintf(want, sizeof(want), "%x:%x", id->major, id->minor);
                return strcmp(buf, want) == 0;
        }
        r = dm_info(ctx, id->name, &info);
        if (r < 0)
                return ctx_error(ctx, r, "cannot read the open count of %s: %m", id->name);
        return info.major == id->major && info.minor == id->minor && info.open_count > baseline;
}

/* The directory of @attr exists: whoever makes the attribute is there to make it. */
static bool dir_exists(const char *attr)
{
        char dir[256];
        struct stat st;
        const char *slash = strrchr(attr, '/');

        if (!slash || (size_t)(slash - attr) >= sizeof(dir))
                return false;
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - attr), attr);
        return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The longest pause between two looks at whether another opener has the device. */
#define POLL_MAX_US 4000

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int ident_wait_opened(dvm_ctx *ctx, const char *path, const struct dev_identity *id, const char *opened_attr,
                      int baseline, unsigned timeout_ms)
{
        bool by_attr = opened_attr && dir_exists(opened_attr);
        uint64_t start = now_ms();
        long delay_us = 1000;
        unsigned polls = 0;
        int r;

        for (;;) {
                polls++;
                if ((r = opened(ctx, id, opened_attr, by_attr, baseline)) != 0) {
                        if (r > 0)
                                ctx_debug(ctx, "%s: opened by another after %" PRIu64 " ms, %u polls", path,
                                          now_ms() - start, polls);
                        return r < 0 ? r : 0;
                }
                if (now_ms() - start >= timeout_ms)
                        break;
                nanosleep(&(struct timespec){ .tv_nsec = delay_us * 1000 }, NULL);
                /* short steps: the toolstack waits on every ms of overshoot, and a poll is
                 * one sysfs read */
                if (delay_us < POLL_MAX_US)
                        delay_us = delay_us * 2 > POLL_MAX_US ? POLL_MAX_US : delay_us * 2;
        }
        if (by_attr)
                return ctx_error(ctx, -ETIMEDOUT, "%s (%x:%x) was not opened by its backend within %u ms: %s does not "
                                 "name it", path, id->major, id->minor, timeout_ms, opened_attr);
        return ctx_error(ctx, -ETIMEDOUT, "%s (%u:%u) was not opened by anyone else within %u ms", path, id->major,
                         id->minor, timeout_ms);
}
