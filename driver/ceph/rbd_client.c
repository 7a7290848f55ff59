// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * librados and librbd: with rbd_commit.c the only files that call them (through ceph_lib.h,
 * which loads them). A connection is a cluster handle
 * plus an I/O context on one pool; images are opened per call and closed before it returns,
 * except under a held exclusive lock.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "ceph/ceph_lib.h"
#include "ceph/rbd_auth.h"
#include "ceph/rbd_client.h"
#include "ceph/rbd_conn.h"
#include "util/fault.h"
#include "util/text.h"

struct rbd_lock {
        rbd_image_t image;
};

#define IMPORT_CHUNK (4u << 20)

bool rbdc_name_valid(const char *name)
{
        if (!name[0] || strlen(name) >= 128)
                return false;
        for (const char *p = name; *p; p++)
                if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '@' || *p == '/')
                        return false;
        return true;
}

int rbdc_check_name(dvm_ctx *ctx, const char *what, const char *name)
{
        char shown[200];

        if (rbdc_name_valid(name))
                return 0;
        return ctx_error(ctx, -EINVAL, "rbd %s name \"%s\" is not valid: 1 to 127 characters without blanks, "
                         "control characters, '@' or '/'", what, ctx_printable(name, shown, sizeof(shown)));
}

void rbdc_free(struct rbd_conn *c)
{
        if (!c)
                return;
        if (c->connected)
                rados_ioctx_destroy(c->io);
        rados_shutdown(c->cluster);
        free(c);
}

DEFINE_CLEANUP(struct rbd_conn *, rbdc_free)

int rbdc_connect(dvm_ctx *ctx, const char *conf, const char *client_id, const char *pool, struct rbd_conn **ret_conn)
{
        _cleanup_(rbdc_freep) struct rbd_conn *c = NULL;
        int r;

        if ((r = rbdc_check_name(ctx, "client", client_id)) < 0 || (r = rbdc_check_name(ctx, "pool", pool)) < 0 ||
            (r = ceph_lib_load(ctx)) < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        snprintf(c->pool, sizeof(c->pool), "%s", pool);
        snprintf(c->client, sizeof(c->client), "%s", client_id);
        r = rados_create(&c->cluster, client_id);
        if (r < 0) {
                free(TAKE_PTR(c));
                return ctx_error(ctx, r, "cannot create a Ceph handle for client.%s: %m", client_id);
        }
        r = rados_conf_read_file(c->cluster, conf);
        if (r < 0)
                return ctx_error(ctx, r, "cannot read the Ceph config %s: %m", conf ? conf : "(default search)");
        /* the library never prints; and a cluster that is gone must not hang us for 5 min */
        if ((r = rados_conf_set(c->cluster, "log_to_stderr", "false")) < 0 ||
            (r = rados_conf_set(c->cluster, "err_to_stderr", "false")) < 0 ||
            (r = rados_conf_set(c->cluster, "client_mount_timeout", "30")) < 0 ||
            (r = rados_conf_set(c->cluster, "rados_mon_op_timeout", "30")) < 0)
                return ctx_error(ctx, r, "cannot set the Ceph client options: %m");
        r = rados_connect(c->cluster);
        if (r < 0)
                return ctx_error(ctx, r, "cannot connect to the Ceph cluster of %s as client.%s: %m",
                                 conf ? conf : "the default config", client_id);
        r = rados_ioctx_create(c->cluster, pool, &c->io);
        if (r < 0)
                return ctx_error(ctx, r, "Ceph pool %s: %s", pool,
                                 r == -ENOENT ? "no such pool" : "cannot open it");
        c->connected = true;
        *ret_conn = TAKE_PTR(c);
        return 0;
}

int64_t rbdc_pool_id(struct rbd_conn *c)
{
        return rados_ioctx_get_id(c->io);
}

const char *rbdc_pool_name(struct rbd_conn *c)
{
        return c->pool;
}

/* the value of setting @name; "" when unset */
static int conf_get(dvm_ctx *ctx, struct rbd_conn *c, const char *name, char *buf, size_t len)
{
        int r = rados_conf_get(c->cluster, name, buf, len);
        if (r < 0)
                return ctx_error(ctx, r, "cannot read Ceph setting %s: %m", name);
        return 0;
}

/* @path's text, at most 64 KiB; -ENOENT when it is not there */
static int read_small(const char *path, char *buf, size_t len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;
        size_t got = 0;

        if (fd < 0)
                return -errno;
        while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t)n;
        }
        buf[got] = 0;
        return 0;
}

/* The client's key: setting "key", else the file of "keyfile", else the first keyring file
 * of the "keyring" list that exists. */
static int find_key(dvm_ctx *ctx, struct rbd_conn *c, char *ret, size_t len)
{
        char entity[80], setting[1024], *text = NULL, *save = NULL, *path;
        _cleanup_free_ char *buf = malloc(65536);
        int r;

        if (!buf)
                return -ENOMEM;
        if ((r = conf_get(ctx, c, "key", setting, sizeof(setting))) < 0)
                return r;
        if (setting[0]) {
                if (!rbdauth_key_valid(setting) || strlen(setting) >= len)
                        return ctx_error(ctx, -EINVAL, "Ceph setting key of client.%s is not a base64 key", c->client);
                snprintf(ret, len, "%s", setting);
                return 0;
        }
        if ((r = conf_get(ctx, c, "keyfile", setting, sizeof(setting))) < 0)
                return r;
        if (setting[0]) {
                if ((r = read_small(setting, buf, 65536)) < 0)
                        return ctx_error(ctx, r, "Ceph keyfile %s: %m", setting);
                buf[strcspn(buf, " \t\r\n")] = 0;
                if (!rbdauth_key_valid(buf) || strlen(buf) >= len)
                        return ctx_error(ctx, -EINVAL, "Ceph keyfile %s does not hold a base64 key", setting);
                snprintf(ret, len, "%s", buf);
                return 0;
        }
        if ((r = conf_get(ctx, c, "keyring", setting, sizeof(setting))) < 0)
                return r;
        snprintf(entity, sizeof(entity), "client.%s", c->client);
        for (path = strtok_r(setting, ",; \t", &save); path; path = strtok_r(NULL, ",; \t", &save)) {
                r = read_small(path, buf, 65536);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return ctx_error(ctx, r, "Ceph keyring %s: %m", path);
                text = buf;
                r = rbdauth_keyring_key(text, entity, ret, len);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return ctx_error(ctx, r, "Ceph keyring %s: the key of %s is not a base64 key", path, entity);
                return 0;
        }
        return ctx_error(ctx, -ENOKEY, "no key for %s: not in the Ceph settings key or keyfile, nor in any "
                         "keyring file of the keyring setting", entity);
}

int rbdc_kernel_auth(dvm_ctx *ctx, struct rbd_conn *c, struct rbd_kernel_auth *ret)
{
        struct rbd_kernel_auth a = {};
        char mon_host[1024];
        int r;

        if ((r = conf_get(ctx, c, "mon_host", mon_host, sizeof(mon_host))) < 0)
                return r;
        r = rbdauth_mon_v1(mon_host, a.mons, sizeof(a.mons));
        if (r < 0)
                return ctx_error(ctx, r, "Ceph setting mon_host \"%s\": %s", mon_host,
                                 r == -ENOENT ? "no msgr1 (v1) monitor address, which the kernel needs"
                                              : "cannot be parsed");
        if ((r = find_key(ctx, c, a.secret, sizeof(a.secret))) < 0)
                return r;
        snprintf(a.client, sizeof(a.client), "%s", c->client);
        *ret = a;
        return 0;
}

/* open @image of the pool (read-only: no exclusive lock taken) */
int rbdc_open_image(dvm_ctx *ctx, struct rbd_conn *c, const char *image, bool read_only, rbd_image_t *ret)
{
        int r = rbdc_check_name(ctx, "image", image);

        if (r < 0)
                return r;
        r = read_only ? rbd_open_read_only(c->io, image, ret, NULL) : rbd_open(c->io, image, ret, NULL);
        if (r == -ENOENT)
                return ctx_error(ctx, r, "rbd image %s/%s: no such image", c->pool, image);
        if (r < 0)
                return ctx_error(ctx, r, "rbd image %s/%s: cannot open it: %m", c->pool, image);
        return 0;
}

int rbdc_image_create(dvm_ctx *ctx, struct rbd_conn *c, const char *image, uint64_t size)
{
        rbd_image_options_t opts;
        int r = rbdc_check_name(ctx, "image", image);

        if (r < 0)
                return r;
        rbd_image_options_create(&opts);
        r = rbd_create4(c->io, image, size, opts);
        rbd_image_options_destroy(opts);
        if (r < 0)
                return ctx_error(ctx, r, "rbd image %s/%s: cannot create it (%" PRIu64 " bytes): %s", c->pool, image,
                                 size, r == -EEXIST ? "it exists" : strerror(-r));
        FAULT_POINT("rbd.create");
        return 0;
}

/* the size of the file or block device open as @fd */
static int fd_size(int fd, uint64_t *ret)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISBLK(st.st_mode))
                return ioctl(fd, BLKGETSIZE64, ret) < 0 ? -errno : 0;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        *ret = (uint64_t)st.st_size;
        return 0;
}

static bool all_zero(const char *p, size_t n)
{
        return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* copy @size bytes of @fd into open image @img, skipping zero runs */
static int copy_in(dvm_ctx *ctx, int fd, rbd_image_t img, uint64_t size, const char *what)
{
        _cleanup_free_ char *buf = malloc(IMPORT_CHUNK);
        uint64_t off = 0;

        if (!buf)
                return -ENOMEM;
        while (off < size) {
                size_t want = (size_t)MIN((uint64_t)IMPORT_CHUNK, size - off), got = 0;
                while (got < want) {
                        ssize_t n = pread(fd, buf + got, want - got, (off_t)(off + got));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return ctx_error(ctx, -errno, "cannot read %s at %" PRIu64 ": %m", what, off + got);
                        if (n == 0) {
                                memset(buf + got, 0, want - got); /* the tail up to 512 bytes */
                                break;
                        }
                        got += (size_t)n;
                }
                if (!all_zero(buf, want)) {
                        ssize_t w = rbd_write(img, off, want, buf);
                        if (w < 0 || (size_t)w != want)
                                return ctx_error(ctx, w < 0 ? (int)w : -EIO, "rbd write at %" PRIu64 " failed: %s",
                                                 off, w < 0 ? strerror((int)-w) : "short write");
                }
                off += want;
                ctx_progress(ctx, off, size);
        }
        int r = rbd_flush(img);
        if (r < 0)
                return ctx_error(ctx, r, "rbd flush failed: %m");
        FAULT_POINT("rbd.written"); /* its exclusive lock held */
        return 0;
}

int rbdc_image_import_fd(dvm_ctx *ctx, struct rbd_conn *c, const char *image, int fd, const char *what)
{
        rbd_image_t img;
        uint64_t size;
        int r;

        if ((r = fd_size(fd, &size)) < 0)
                return ctx_error(ctx, r, "%s: cannot tell its size (a file or block device is needed): %m", what);
        size = (size + SECTOR_SIZE - 1) / SECTOR_SIZE * SECTOR_SIZE;
        if (size == 0)
                return ctx_error(ctx, -EINVAL, "%s is empty: nothing to import", what);
        if ((r = rbdc_image_create(ctx, c, image, size)) < 0)
                return r;
        if ((r = rbdc_open_image(ctx, c, image, false, &img)) == 0) {
                r = copy_in(ctx, fd, img, size, what);
                rbd_close(img);
        }
        return r < 0 ? rbdc_image_undo(ctx, c, image, what, r) : 0;
}

int rbdc_image_undo(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *what, int r)
{
        char saved[sizeof(ctx->last_error)];

        snprintf(saved, sizeof(saved), "%s", ctx->last_error);
        rbd_remove(c->io, image);
        return ctx_error(ctx, r, "rbd image %s/%s: the copy of %s failed: %s", c->pool, image, what, saved);
}

int rbdc_image_import(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return ctx_error(ctx, -errno, "cannot open %s: %m", path);
        return rbdc_image_import_fd(ctx, c, image, fd, path);
}

int rbdc_image_remove(dvm_ctx *ctx, struct rbd_conn *c, const char *image)
{
        int r = rbdc_check_name(ctx, "image", image);

        if (r < 0)
                return r;
        r = rbd_remove(c->io, image);
        if (r == -ENOTEMPTY)
                return ctx_error(ctx, r, "rbd image %s/%s: cannot remove it: it has snapshots", c->pool, image);
        if (r == -EBUSY)
                return ctx_error(ctx, r, "rbd image %s/%s: cannot remove it: it is open (watched) or has clones",
                                 c->pool, image);
        if (r < 0)
                return ctx_error(ctx, r, "rbd image %s/%s: cannot remove it: %m", c->pool, image);
        FAULT_POINT("rbd.remove");
        return 0;
}

int rbdc_snap_create(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, bool protect)
{
        rbd_image_t img;
        int r;

        if ((r = rbdc_check_name(ctx, "snapshot", snap)) < 0 || (r = rbdc_open_image(ctx, c, image, false, &img)) < 0)
                return r;
        r = rbd_snap_create(img, snap);
        if (r < 0)
                ctx_error(ctx, r, "rbd snapshot %s/%s@%s: cannot create it: %s", c->pool, image, snap,
                          r == -EEXIST ? "it exists" : strerror(-r));
        else
                FAULT_POINT("rbd.snap");
        if (r >= 0 && protect && (r = rbd_snap_protect(img, snap)) < 0)
                ctx_error(ctx, r, "rbd snapshot %s/%s@%s: cannot protect it: %m", c->pool, image, snap);
        rbd_close(img);
        return r;
}

int rbdc_snap_remove(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap)
{
        rbd_image_t img;
        int prot = 0, r;

        if ((r = rbdc_check_name(ctx, "snapshot", snap)) < 0 || (r = rbdc_open_image(ctx, c, image, false, &img)) < 0)
                return r;
        r = rbd_snap_is_protected(img, snap, &prot);
        if (r == 0 && prot && (r = rbd_snap_unprotect(img, snap)) == 0)
                FAULT_POINT("rbd.unprotect");
        if (r == 0 && (r = rbd_snap_remove(img, snap)) == 0)
                FAULT_POINT("rbd.snap_remove");
        if (r < 0)
                ctx_error(ctx, r, "rbd snapshot %s/%s@%s: cannot remove it: %s", c->pool, image, snap,
                          r == -ENOENT ? "no such snapshot" : r == -EBUSY ? "it has clones" : strerror(-r));
        rbd_close(img);
        return r;
}

int rbdc_clone(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, const char *child)
{
        rbd_image_options_t opts;
        int r;

        if ((r = rbdc_check_name(ctx, "image", image)) < 0 || (r = rbdc_check_name(ctx, "snapshot", snap)) < 0 ||
            (r = rbdc_check_name(ctx, "image", child)) < 0)
                return r;
        rbd_image_options_create(&opts);
        r = rbd_clone3(c->io, image, snap, c->io, child, opts);
        rbd_image_options_destroy(opts);
        if (r < 0)
                return ctx_error(ctx, r, "rbd image %s/%s: cannot clone it from %s@%s: %s", c->pool, child, image, snap,
                                 r == -ENOENT ? "no such image or snapshot" :
                                 r == -EINVAL ? "the snapshot is not protected" :
                                 r == -EEXIST ? "the clone exists" : strerror(-r));
        return 0;
}

int rbdc_image_id(dvm_ctx *ctx, struct rbd_conn *c, const char *image, char *ret_id, size_t len)
{
        char id[64];
        rbd_image_t img;
        int r;

        if ((r = rbdc_open_image(ctx, c, image, true, &img)) < 0)
                return r;
        r = rbd_get_id(img, id, sizeof(id));
        rbd_close(img);
        if (r < 0)
                return ctx_error(ctx, r, "rbd image %s/%s: cannot read its id: %m", c->pool, image);
        if (strlen(id) >= len)
                return -ENAMETOOLONG;
        snprintf(ret_id, len, "%s", id);
        return 0;
}

int rbdc_snap_id(dvm_ctx *ctx, struct rbd_conn *c, const char *image, const char *snap, uint64_t *ret_id)
{
        rbd_image_t img;
        uint64_t id;
        int r;

        if ((r = rbdc_check_name(ctx, "snapshot", snap)) < 0 || (r = rbdc_open_image(ctx, c, image, true, &img)) < 0)
                return r;
        r = rbd_snap_get_id(img, snap, &id);
        rbd_close(img);
        if (r == -ENOENT)
                return ctx_error(ctx, r, "rbd snapshot %s/%s@%s: no such snapshot", c->pool, image, snap);
        if (r < 0)
                return ctx_error(ctx, r, "rbd snapshot %s/%s@%s: cannot read its id: %m", c->pool, image, snap);
        *ret_id = id;
        return 0;
}

int rbdc_lock_acquire(dvm_ctx *ctx, struct rbd_conn *c, const char *image, struct rbd_lock **ret_lock)
{
        rbd_image_t img;
        struct rbd_lock *l;
        int r;

        if ((r = rbdc_open_image(ctx, c, image, false, &img)) < 0)
                return r;
        r = rbd_lock_acquire(img, RBD_LOCK_MODE_EXCLUSIVE);
        if (r < 0 || !(l = malloc(sizeof(*l)))) {
                rbd_close(img);
                if (r == 0)
                        return -ENOMEM;
                if (r == -EROFS || r == -EBUSY)
                        return ctx_error(ctx, r, "rbd image %s/%s: its exclusive lock is held by another client",
                                         c->pool, image);
                return ctx_error(ctx, r, "rbd image %s/%s: cannot take its exclusive lock: %m", c->pool, image);
        }
        l->image = img;
        *ret_lock = l;
        return 0;
}

void rbdc_lock_release(struct rbd_lock *l)
{
        if (!l)
                return;
        rbd_lock_release(l->image);
        rbd_close(l->image);
        free(l);
}

int rbdc_lock_break(dvm_ctx *ctx, struct rbd_conn *c, const char *image)
{
        char *owners[8];
        size_t n = ARRAY_SIZE(owners);
        rbd_lock_mode_t mode;
        rbd_image_t img;
        int r, broken = 0;

        /* read-only, the image has no exclusive lock state to ask (-EINVAL) */
        if ((r = rbdc_open_image(ctx, c, image, false, &img)) < 0)
                return r;
        r = rbd_lock_get_owners(img, &mode, owners, &n);
        if (r == -ENOENT) {
                rbd_close(img);
                return 0;
        }
        if (r < 0) {
                rbd_close(img);
                return ctx_error(ctx, r, "rbd image %s/%s: cannot list its lock owners: %m", c->pool, image);
        }
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = rbd_lock_break(img, mode, owners[i]);
                if (r < 0)
                        ctx_error(ctx, r, "rbd image %s/%s: cannot break the lock of %s: %m", c->pool, image, owners[i]);
                else
                        broken++;
        }
        rbd_lock_get_owners_cleanup(owners, n);
        rbd_close(img);
        return r < 0 ? r : broken;
}
