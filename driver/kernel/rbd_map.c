// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Kernel rbd mappings by their sysfs interface (the kernel's
 * Documentation/ABI/testing/sysfs-bus-rbd): "<mons> <options> <pool> <image> <snap>" written
 * to add_single_major maps, "<id>" written to remove_single_major unmaps; each mapping's
 * attributes in /sys/bus/rbd/devices/<id>/ tell what it is.
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

#include "kernel/rbd_map.h"
#include "util/fault.h"
#include "util/text.h"

#define RBD_BUS "/sys/bus/rbd"
#define MAX_DEVS 1024

DEFINE_CLEANUP(DIR *, closedir)

#define BASE64 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

/* a word of the kernel's map string: no blank, control character, '@' or '/' */
static bool word_ok(const char *s, size_t max)
{
        if (!s || !s[0] || strlen(s) >= max)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '@' || *s == '/')
                        return false;
        return true;
}

/* monitor addresses: "ip:port", "[ipv6]:port", host names, comma-separated */
static bool mons_ok(const char *s)
{
        return s && s[0] && !s[strspn(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.:-[],")];
}

/* What sysfs shows of mapping @id. */
struct shown {
        uint64_t pool_id, snap_id, diskseq;
        uint32_t major, minor;
        char image_id[64];
        char pool[128], image[128], snap[128];
};

static int attr(int id, const char *name, char *buf, size_t len)
{
        char path[96];

        snprintf(path, sizeof(path), RBD_BUS "/devices/%d/%s", id, name);
        return text_read_line(path, buf, len);
}

static int attr_u64(int id, const char *name, uint64_t *ret)
{
        char buf[32];
        const char *end;
        int r = attr(id, name, buf, sizeof(buf));

        if (r < 0)
                return r;
        if (text_parse_u64(buf, &end, ret) < 0 || *end)
                return -EIO;
        return 0;
}

static int read_shown(int id, struct shown *ret)
{
        struct shown s = {};
        uint64_t maj, min;
        char path[64], seq[32];
        const char *end;
        int r;

        if ((r = attr_u64(id, "pool_id", &s.pool_id)) < 0 || (r = attr_u64(id, "snap_id", &s.snap_id)) < 0 ||
            (r = attr_u64(id, "major", &maj)) < 0 || (r = attr_u64(id, "minor", &min)) < 0 ||
            (r = attr(id, "image_id", s.image_id, sizeof(s.image_id))) < 0 ||
            (r = attr(id, "pool", s.pool, sizeof(s.pool))) < 0 || (r = attr(id, "name", s.image, sizeof(s.image))) < 0 ||
            (r = attr(id, "current_snap", s.snap, sizeof(s.snap))) < 0)
                return r;
        s.major = (uint32_t)maj;
        s.minor = (uint32_t)min;
        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/diskseq", s.major, s.minor);
        r = text_read_line(path, seq, sizeof(seq));
        if (r < 0 && r != -ENOENT)
                return r;
        if (r == 0 && (text_parse_u64(seq, &end, &s.diskseq) < 0 || *end))
                return -EIO;
        *ret = s;
        return 0;
}

static bool same_ids(const struct shown *s, const struct rbd_map_spec *spec)
{
        return s->pool_id == spec->pool_id && s->snap_id == spec->snap_id && strcmp(s->image_id, spec->image_id) == 0;
}

/* The mapping ids present now, sorted ascending; their count, or -errno. */
static int list_ids(dvm_ctx *ctx, int *ids, int max)
{
        _cleanup_(closedirp) DIR *d = opendir(RBD_BUS "/devices");
        struct dirent *de;
        int n = 0;

        if (!d)
                return ctx_error(ctx, errno == ENOENT ? -ENODEV : -errno,
                                 "the kernel's rbd driver is not loaded (" RBD_BUS "/devices: %m): modprobe rbd");
        while ((de = readdir(d))) {
                uint64_t v;
                const char *end;
                if (text_parse_u64(de->d_name, &end, &v) < 0 || *end || v > INT32_MAX)
                        continue;
                if (n == max)
                        return ctx_error(ctx, -EMFILE, "more than %d rbd mappings on this host", max);
                int i = n++;
                while (i > 0 && ids[i - 1] > (int)v) {
                        ids[i] = ids[i - 1];
                        i--;
                }
                ids[i] = (int)v;
        }
        return n;
}

static void fill(struct rbd_mapping *m, int id, const struct shown *s)
{
        m->dev_id = id;
        m->major = s->major;
        m->minor = s->minor;
        m->diskseq = s->diskseq;
        snprintf(m->path, sizeof(m->path), "/dev/rbd%d", id);
}

int rbdmap_find(dvm_ctx *ctx, const struct rbd_map_spec *spec, struct rbd_mapping *ret)
{
        int ids[MAX_DEVS], n = list_ids(ctx, ids, MAX_DEVS);
        struct shown s;

        if (n < 0)
                return n;
        for (int i = 0; i < n; i++)
                if (read_shown(ids[i], &s) == 0 && same_ids(&s, spec)) {
                        fill(ret, ids[i], &s);
                        return 0;
                }
        return -ENOENT;
}

static int write_attr(const char *path, const char *text)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return errno == ENOENT ? -ENODEV : -errno;
        n = write(fd, text, strlen(text));
        if (n < 0)
                return -errno;
        return (size_t)n == strlen(text) ? 0 : -EIO;
}

static int check_spec(dvm_ctx *ctx, const struct rbd_map_auth *auth, const struct rbd_map_spec *spec)
{
        char shown[200];

        if (!word_ok(spec->pool, 128) || !word_ok(spec->image, 128) || !word_ok(spec->snap, 128))
                return ctx_error(ctx, -EINVAL, "cannot map rbd snapshot \"%s\": a name has a blank, a control "
                                 "character, '@' or '/'",
                                 ctx_printable(spec->image, shown, sizeof(shown)));
        if (!word_ok(auth->client, 64) || !auth->secret || !auth->secret[0] ||
            auth->secret[strspn(auth->secret, BASE64)] || !mons_ok(auth->mons))
                return ctx_error(ctx, -EINVAL, "cannot map rbd snapshot %s/%s@%s: the client, key or monitor "
                                 "addresses are not fit for the kernel", spec->pool, spec->image, spec->snap);
        return 0;
}

static bool in(const int *ids, int n, int id)
{
        for (int i = 0; i < n; i++)
                if (ids[i] == id)
                        return true;
        return false;
}

int rbdmap_add(dvm_ctx *ctx, const struct rbd_map_auth *auth, const struct rbd_map_spec *spec,
               struct rbd_mapping *ret)
{
        int before[MAX_DEVS], after[MAX_DEVS], nb, na, r;
        _cleanup_free_ char *cmd = NULL;
        struct shown s;

        if ((r = check_spec(ctx, auth, spec)) < 0)
                return r;
        if ((nb = list_ids(ctx, before, MAX_DEVS)) < 0)
                return nb;
        /* a snapshot maps read-only anyway; read_only says so for the image head too */
        if (asprintf(&cmd, "%s name=%s,secret=%s,read_only %s %s %s", auth->mons, auth->client, auth->secret,
                     spec->pool, spec->image, spec->snap) < 0)
                return -ENOMEM;
        r = write_attr(RBD_BUS "/add_single_major", cmd);
        explicit_bzero(cmd, strlen(cmd));
        if (r == -ENODEV)
                return ctx_error(ctx, r, "cannot map rbd snapshot %s/%s@%s: the kernel's rbd driver is not loaded, or "
                                 "not with single_major (" RBD_BUS "/add_single_major missing)",
                                 spec->pool, spec->image, spec->snap);
        if (r == -ENOENT)
                return ctx_error(ctx, r, "cannot map rbd snapshot %s/%s@%s: the kernel finds no such pool, image or "
                                 "snapshot", spec->pool, spec->image, spec->snap);
        if (r < 0)
                return ctx_error(ctx, r, "cannot map rbd snapshot %s/%s@%s: %m (the kernel log says more)", spec->pool,
                                 spec->image, spec->snap);
        FAULT_POINT("rbd.map");
        if ((na = list_ids(ctx, after, MAX_DEVS)) < 0)
                return na;
        for (int i = 0; i < na; i++) {
                if (in(before, nb, after[i]) || read_shown(after[i], &s) < 0)
                        continue;
                if (same_ids(&s, spec)) {
                        fill(ret, after[i], &s);
                        return 0;
                }
                if (strcmp(s.pool, spec->pool) == 0 && strcmp(s.image, spec->image) == 0 &&
                    strcmp(s.snap, spec->snap) == 0) {
                        char id[16];
                        snprintf(id, sizeof(id), "%d", after[i]);
                        write_attr(RBD_BUS "/remove_single_major", id);
                        return ctx_error(ctx, -ESTALE, "rbd snapshot %s/%s@%s is no longer image id %s snapshot id %"
                                         PRIu64 " (the kernel mapped image id %s snapshot id %" PRIu64 "): unmapped "
                                         "again", spec->pool, spec->image, spec->snap, spec->image_id, spec->snap_id,
                                         s.image_id, s.snap_id);
                }
        }
        return ctx_error(ctx, -ENOENT, "rbd snapshot %s/%s@%s: mapped, but no new device in " RBD_BUS "/devices shows "
                         "it", spec->pool, spec->image, spec->snap);
}

int rbdmap_open(dvm_ctx *ctx, const struct rbd_mapping *m, const struct rbd_map_spec *spec)
{
        _cleanup_close_ int fd = open(m->path, O_RDONLY | O_CLOEXEC);
        struct shown s;
        struct stat st;
        uint64_t seq = 0;
        int r;

        if (fd < 0)
                return ctx_error(ctx, -errno, "rbd mapping %s of %s/%s@%s: cannot open it: %m", m->path, spec->pool,
                                 spec->image, spec->snap);
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode) || major(st.st_rdev) != m->major || minor(st.st_rdev) != m->minor)
                return ctx_error(ctx, -ESTALE, "rbd mapping %s of %s/%s@%s is not device %u:%u any more", m->path,
                                 spec->pool, spec->image, spec->snap, m->major, m->minor);
        if (ioctl(fd, BLKGETDISKSEQ, &seq) < 0 && errno != ENOTTY && errno != EINVAL)
                return ctx_error(ctx, -errno, "rbd mapping %s: cannot read its disk sequence number: %m", m->path);
        if (m->diskseq && seq != m->diskseq)
                return ctx_error(ctx, -ESTALE, "rbd mapping %s of %s/%s@%s was replaced: disk sequence number %" PRIu64
                                 ", not %" PRIu64, m->path, spec->pool, spec->image, spec->snap, seq, m->diskseq);
        /* the descriptor pins the device: what sysfs shows now stays true while it is open */
        r = read_shown(m->dev_id, &s);
        if (r < 0)
                return ctx_error(ctx, r == -ENOENT ? -ESTALE : r, "rbd mapping %s of %s/%s@%s: cannot read "
                                 RBD_BUS "/devices/%d: %s", m->path, spec->pool, spec->image, spec->snap, m->dev_id,
                                 strerror(-r));
        if (s.major != m->major || s.minor != m->minor || !same_ids(&s, spec))
                return ctx_error(ctx, -ESTALE, "rbd mapping %s is not %s/%s@%s (pool id %" PRIu64 ", image id %s, "
                                 "snapshot id %" PRIu64 ") but pool id %" PRIu64 " image id %s snapshot id %" PRIu64
                                 " (%s/%s@%s)", m->path, spec->pool, spec->image, spec->snap, spec->pool_id,
                                 spec->image_id, spec->snap_id, s.pool_id, s.image_id, s.snap_id, s.pool, s.image,
                                 s.snap);
        return TAKE_FD(fd);
}

static int remove_mapping(dvm_ctx *ctx, const struct rbd_mapping *m, bool quiet_busy)
{
        struct shown s;
        char id[16];
        int r = read_shown(m->dev_id, &s);

        if (r == -ENOENT)
                return -ENOENT;
        if (r < 0)
                return ctx_error(ctx, r, "rbd mapping %s: cannot read " RBD_BUS "/devices/%d: %m", m->path, m->dev_id);
        if (s.major != m->major || s.minor != m->minor || (m->diskseq && s.diskseq != m->diskseq))
                return ctx_error(ctx, -ESTALE, "rbd mapping %s is another disk now (%u:%u, disk sequence number %"
                                 PRIu64 ", not %u:%u %" PRIu64 "): left alone", m->path, s.major, s.minor, s.diskseq,
                                 m->major, m->minor, m->diskseq);
        snprintf(id, sizeof(id), "%d", m->dev_id);
        r = write_attr(RBD_BUS "/remove_single_major", id);
        if (r == -EBUSY && quiet_busy)
                return r;
        if (r == -EBUSY)
                return ctx_error(ctx, r, "rbd mapping %s (%s/%s@%s): cannot unmap it: it is open", m->path, s.pool,
                                 s.image, s.snap);
        if (r == -ENOENT)
                return -ENOENT;
        if (r < 0)
                return ctx_error(ctx, r, "rbd mapping %s (%s/%s@%s): cannot unmap it: %m", m->path, s.pool, s.image,
                                 s.snap);
        FAULT_POINT("rbd.unmap");
        return 0;
}

int rbdmap_remove(dvm_ctx *ctx, const struct rbd_mapping *m)
{
        return remove_mapping(ctx, m, false);
}

int rbdmap_try_remove(dvm_ctx *ctx, const struct rbd_mapping *m)
{
        return remove_mapping(ctx, m, true);
}

int rbdmap_by_devt(dvm_ctx *ctx, uint32_t major, uint32_t minor, struct rbd_mapping *ret)
{
        int ids[MAX_DEVS], n = list_ids(ctx, ids, MAX_DEVS);
        struct shown s;

        if (n < 0)
                return n;
        for (int i = 0; i < n; i++)
                if (read_shown(ids[i], &s) == 0 && s.major == major && s.minor == minor) {
                        fill(ret, ids[i], &s);
                        return 0;
                }
        return -ENOENT;
}

int rbdmap_snap_mapped(dvm_ctx *ctx, const char *pool, const char *image, const char *snap)
{
        int ids[MAX_DEVS], n = list_ids(ctx, ids, MAX_DEVS);
        struct shown s;

        for (int i = 0; i < n; i++)
                if (read_shown(ids[i], &s) == 0 && strcmp(s.pool, pool) == 0 && strcmp(s.image, image) == 0 &&
                    strcmp(s.snap, snap) == 0)
                        return 1;
        return n < 0 ? n : 0;
}

int rbdmap_named(dvm_ctx *ctx, const char *prefix, struct rbd_mapping *ret, int max)
{
        int ids[MAX_DEVS], n = list_ids(ctx, ids, MAX_DEVS), k = 0;
        struct shown s;

        if (n < 0)
                return n;
        for (int i = 0; i < n && k < max; i++)
                if (read_shown(ids[i], &s) == 0 && strncmp(s.image, prefix, strlen(prefix)) == 0)
                        fill(&ret[k++], ids[i], &s);
        return k;
}
