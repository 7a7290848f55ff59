// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, with a real Ceph cluster (tests/lib/ceph-cluster.sh, started by suites.sh around the
 * rbd suites) and the kernel's rbd driver: librbd import, snapshot, protect, clone, ids and
 * exclusive locks (rbd_client.c); read-only maps and unmaps through sysfs with identity checks
 * (rbd_map.c); the inputs they must refuse. Witnesses: the rbd CLI as client.admin, sysfs.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/rbd_origin.h"
#include "ceph/rbd_client.h"
#include "kernel/rbd_map.h"
#include "kernel/thin.h"
#include "util/ctx.h"
#include "vmtest.h"

#define MiB (1ULL << 20)
#define POOL "rbd"
#define CLIENT "dvm"

static dvm_ctx *ctx;
static struct rbd_conn *conn;
static const char *conf;
static char img_a[64], img_b[64], img_c[64], file_a[96], tp[64];

static void require_cluster(void)
{
        int r;

        if (geteuid() != 0)
                cr_skip_test("SKIP: the rbd suite needs root (sysfs maps)");
        conf = getenv("DVM_CEPH_CONF");
        cr_assert(conf && *conf, "DVM_CEPH_CONF is not set: run this suite through tests/vm/suites.sh, which starts "
                  "the Ceph cluster (tests/lib/ceph-cluster.sh) around it");
        cr_assert(access("/sys/bus/rbd/add_single_major", W_OK) == 0,
                  "/sys/bus/rbd/add_single_major: %m (suites.sh loads the rbd module)");
        cr_assert_eq(dvm_ctx_new("/tmp/dvm-rbd-state", &ctx), 0);
        r = rbdc_connect(ctx, conf, CLIENT, POOL, &conn);
        cr_assert_eq(r, 0, "connect: %d: %s", r, dvm_ctx_last_error(ctx));
        snprintf(img_a, sizeof(img_a), "a-%d", getpid());
        snprintf(img_b, sizeof(img_b), "b-%d", getpid());
        snprintf(img_c, sizeof(img_c), "c-%d", getpid());
        snprintf(file_a, sizeof(file_a), "/tmp/rbd-src-%d", getpid());
        snprintf(tp, sizeof(tp), "rbdtest-%d", getpid());
}

/* the rbd CLI as client.admin, as a witness; its stdout */
static char *rbd_cli(int *st, const char *args)
{
        return vt_sh(st, "rbd -c %s --id admin -p " POOL " %s 2>&1", conf, args);
}

static void teardown(void)
{
        int st;
        const char *imgs[] = { img_c, img_a, img_b };

        if (!conn)
                goto out;
        /* the thin-pool of the origin test: its volumes, the pool, its loop devices */
        free(vt_sh(&st, "for d in %s-t1 %s-t2 %s-pool; do dmsetup remove $d 2>/dev/null; done; "
                   "for f in /tmp/%s.meta /tmp/%s.data; do for l in $(losetup -j $f -O NAME -n); do "
                   "losetup -d $l; done; rm -f $f; done", tp, tp, tp, tp, tp));
        /* whatever a failed test left: its mappings, clone, snapshots, images */
        free(vt_sh(&st, "for d in /sys/bus/rbd/devices/*; do [ -e \"$d\" ] || continue; "
                   "case $(cat $d/name) in %s|%s) echo ${d##*/} > /sys/bus/rbd/remove_single_major;; esac; done",
                   img_a, img_b));
        /* in-process: the CLI costs seconds a call under TCG; the cluster lives for one run */
        for (size_t i = 0; i < 3; i++) {
                rbdc_snap_remove(ctx, conn, imgs[i], "s");
                rbdc_image_remove(ctx, conn, imgs[i]);
        }
        rbdc_free(conn);
        conn = NULL;
out:
        unlink(file_a);
        dvm_ctx_free(ctx);
        ctx = NULL;
}

TestSuite(rbd, .init = require_cluster, .fini = teardown, .timeout = 600);

/* a 16 MiB + 1000 byte source: random data in the first and last 4 MiB, zeroes between */
static uint64_t make_source(const char *path)
{
        int st;
        char *out = vt_sh(&st, "set -e; head -c 4M /dev/urandom > %s; truncate -s 12M %s; "
                          "head -c 4M /dev/urandom >> %s; head -c 1000 /dev/urandom >> %s", path, path, path, path);
        cr_assert_eq(st, 0, "making %s: %s", path, out);
        free(out);
        return 16 * MiB + 1000;
}

/* image @img imported from @file, with protected snapshot "s"; its spec in @spec */
static void make_snapshot(const char *img, const char *file, struct rbd_map_spec *spec, char *image_id, size_t len)
{
        int r;

        r = rbdc_image_import(ctx, conn, img, file);
        cr_assert_eq(r, 0, "import %s: %d: %s", img, r, dvm_ctx_last_error(ctx));
        r = rbdc_snap_create(ctx, conn, img, "s", true);
        cr_assert_eq(r, 0, "snap %s@s: %d: %s", img, r, dvm_ctx_last_error(ctx));
        r = rbdc_image_id(ctx, conn, img, image_id, len);
        cr_assert_eq(r, 0, "image id of %s: %d: %s", img, r, dvm_ctx_last_error(ctx));
        *spec = (struct rbd_map_spec){ .pool = POOL, .image = img, .snap = "s", .pool_id = (uint64_t)rbdc_pool_id(conn),
                                       .image_id = image_id };
        r = rbdc_snap_id(ctx, conn, img, "s", &spec->snap_id);
        cr_assert_eq(r, 0, "snap id of %s@s: %d: %s", img, r, dvm_ctx_last_error(ctx));
}

static struct rbd_kernel_auth kauth;

/* the monitors and key librados used, for the kernel (pointing into kauth) */
static struct rbd_map_auth kernel_auth(void)
{
        int r = rbdc_kernel_auth(ctx, conn, &kauth);

        cr_assert_eq(r, 0, "kernel auth: %d: %s", r, dvm_ctx_last_error(ctx));
        return (struct rbd_map_auth){ .mons = kauth.mons, .client = kauth.client, .secret = kauth.secret };
}

/* sysfs attribute @attr of mapping @id */
static char *sysattr(int id, const char *attr)
{
        int st;
        char *out = vt_sh(&st, "cat /sys/bus/rbd/devices/%d/%s", id, attr);
        out[strcspn(out, "\n")] = 0;
        return out;
}

static void assert_one_line(const char *what)
{
        const char *e = dvm_ctx_last_error(ctx);
        cr_assert(e[0] && !strchr(e, '\n'), "%s: error message not one line: \"%s\"", what, e);
}

static int count_mappings(void)
{
        int st, n;
        char *out = vt_sh(&st, "ls /sys/bus/rbd/devices | wc -l");
        n = atoi(out);
        free(out);
        return n;
}

/* The imported bytes are in the cluster, the snapshot maps read-only and reads them through
 * the checked descriptor, and the unmap takes the device away. */
Test(rbd, import_snapshot_map_read_unmap)
{
        struct rbd_map_auth auth = kernel_auth();
        struct rbd_map_spec spec;
        struct rbd_mapping m, found;
        char image_id[64], fdpath[64], *out;
        uint64_t size = make_source(file_a);
        int fd, r, st;

        make_snapshot(img_a, file_a, &spec, image_id, sizeof(image_id));
        /* the CLI sees the same image: id, size rounded up to 512, protected snapshot */
        char args[200];
        snprintf(args, sizeof(args), "info %s --format json", img_a);
        out = rbd_cli(&st, args);
        char want[96];
        snprintf(want, sizeof(want), "\"id\":\"%s\"", image_id);
        cr_assert(strstr(out, want), "rbd info %s does not show %s:\n%s", img_a, want, out);
        cr_assert(strstr(out, "\"size\":16778240,"), "rbd info %s: size is not 16 MiB + 1024:\n%s", img_a, out);
        free(out);
        snprintf(args, sizeof(args), "snap ls %s --format json", img_a);
        out = rbd_cli(&st, args);
        snprintf(want, sizeof(want), "\"id\":%llu,\"name\":\"s\"", (unsigned long long)spec.snap_id);
        cr_assert(strstr(out, want), "rbd snap ls %s does not show %s:\n%s", img_a, want, out);
        cr_assert(strstr(out, "\"protected\":\"true\""), "snapshot s is not protected:\n%s", out);
        free(out);

        r = rbdmap_add(ctx, &auth, &spec, &m);
        cr_assert_eq(r, 0, "map: %d: %s", r, dvm_ctx_last_error(ctx));
        snprintf(want, sizeof(want), "/dev/rbd%d", m.dev_id);
        cr_assert_str_eq(m.path, want);
        cr_assert(m.diskseq > 0, "no disk sequence number for %s", m.path);
        /* what the kernel says it mapped */
        out = sysattr(m.dev_id, "image_id");
        cr_assert_str_eq(out, image_id, "sysfs image_id %s, want %s", out, image_id);
        free(out);
        out = sysattr(m.dev_id, "current_snap");
        cr_assert_str_eq(out, "s", "sysfs current_snap %s", out);
        free(out);
        out = vt_sh(&st, "blockdev --getro %s", m.path);
        cr_assert_str_eq(out, "1\n", "%s is not read-only: %s", m.path, out);
        free(out);
        r = rbdmap_find(ctx, &spec, &found);
        cr_assert(r == 0 && found.dev_id == m.dev_id && found.diskseq == m.diskseq, "find: %d, dev %d", r,
                  found.dev_id);

        fd = rbdmap_open(ctx, &m, &spec);
        cr_assert(fd >= 0, "open: %d: %s", fd, dvm_ctx_last_error(ctx));
        snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
        cr_assert_eq(vt_hash(fdpath, 0, size), vt_hash(file_a, 0, size), "%s does not read the imported bytes",
                     m.path);
        out = vt_sh(&st, "tail -c 24 %s | od -An -tx1 | tr -d ' \\n'", m.path);
        cr_assert_str_eq(out, "000000000000000000000000000000000000000000000000",
                         "the 24 bytes past the file's end are not zero: %s", out);
        free(out);
        /* open, it cannot go */
        r = rbdmap_remove(ctx, &m);
        cr_assert_eq(r, -EBUSY, "unmap while open: %d", r);
        assert_one_line("unmap while open");
        cr_assert(strstr(dvm_ctx_last_error(ctx), m.path), "message does not name %s: %s", m.path,
                  dvm_ctx_last_error(ctx));
        close(fd);

        r = rbdmap_remove(ctx, &m);
        cr_assert_eq(r, 0, "unmap: %d: %s", r, dvm_ctx_last_error(ctx));
        snprintf(args, sizeof(args), "/sys/bus/rbd/devices/%d", m.dev_id);
        cr_assert(access(args, F_OK) != 0, "%s still there after unmap", args);
        cr_assert(access(m.path, F_OK) != 0, "%s still there after unmap", m.path);
        r = rbdmap_find(ctx, &spec, &found);
        cr_assert_eq(r, -ENOENT, "find after unmap: %d", r);
        r = rbdmap_remove(ctx, &m);
        cr_assert_eq(r, -ENOENT, "second unmap: %d", r);
}

/* Unknown images and snapshots, bad names: refused with one line naming the object, and no
 * mapping is left. */
Test(rbd, unknown_objects_refused)
{
        struct rbd_map_auth auth = kernel_auth();
        struct rbd_map_spec spec;
        struct rbd_mapping m;
        char image_id[64], id[64], nosuch[80];
        uint64_t snap_id;
        int r, before;

        make_source(file_a);
        make_snapshot(img_a, file_a, &spec, image_id, sizeof(image_id));
        snprintf(nosuch, sizeof(nosuch), "nosuch-%d", getpid());

        r = rbdc_image_id(ctx, conn, nosuch, id, sizeof(id));
        cr_assert_eq(r, -ENOENT, "image id of %s: %d", nosuch, r);
        assert_one_line("unknown image");
        char want[160];
        snprintf(want, sizeof(want), POOL "/%s", nosuch);
        cr_assert(strstr(dvm_ctx_last_error(ctx), want), "message does not name %s: %s", want, dvm_ctx_last_error(ctx));

        r = rbdc_snap_id(ctx, conn, img_a, "nosnap", &snap_id);
        cr_assert_eq(r, -ENOENT, "snap id of %s@nosnap: %d", img_a, r);
        assert_one_line("unknown snapshot");
        snprintf(want, sizeof(want), POOL "/%s@nosnap", img_a);
        cr_assert(strstr(dvm_ctx_last_error(ctx), want), "message does not name %s: %s", want, dvm_ctx_last_error(ctx));

        before = count_mappings();
        struct rbd_map_spec bad = spec;
        bad.snap = "nosnap";
        r = rbdmap_add(ctx, &auth, &bad, &m);
        cr_assert_eq(r, -ENOENT, "map of %s@nosnap: %d: %s", img_a, r, dvm_ctx_last_error(ctx));
        assert_one_line("map unknown snapshot");
        cr_assert(strstr(dvm_ctx_last_error(ctx), want), "message does not name %s: %s", want, dvm_ctx_last_error(ctx));
        bad = spec;
        bad.image = nosuch;
        r = rbdmap_add(ctx, &auth, &bad, &m);
        cr_assert_eq(r, -ENOENT, "map of %s@s: %d: %s", nosuch, r, dvm_ctx_last_error(ctx));
        bad = spec;
        bad.snap = "s rbd other";
        r = rbdmap_add(ctx, &auth, &bad, &m);
        cr_assert_eq(r, -EINVAL, "map of a snapshot name with blanks: %d", r);
        assert_one_line("blank in a name");
        /* a key that would add options to the kernel's string */
        char evil_secret[200];
        snprintf(evil_secret, sizeof(evil_secret), "%s,noshare", auth.secret);
        struct rbd_map_auth evil = auth;
        evil.secret = evil_secret;
        r = rbdmap_add(ctx, &evil, &spec, &m);
        cr_assert_eq(r, -EINVAL, "map with a key holding ',': %d", r);
        cr_assert_eq(count_mappings(), before, "a refused map left a mapping");

        r = rbdc_image_import(ctx, conn, img_a, file_a);
        cr_assert_eq(r, -EEXIST, "import over an existing image: %d", r);
        r = rbdc_image_remove(ctx, conn, img_a);
        cr_assert_eq(r, -ENOTEMPTY, "remove of an image with a snapshot: %d: %s", r, dvm_ctx_last_error(ctx));
        r = rbdc_image_import(ctx, conn, img_b, "/nonexistent/file");
        cr_assert_eq(r, -ENOENT, "import of a missing file: %d", r);
        int st;
        char args[128];
        snprintf(args, sizeof(args), "info %s", img_b);
        free(rbd_cli(&st, args));
        cr_assert_neq(st, 0, "a failed import left image %s", img_b);
}

/* A mapping whose device was replaced (unmapped, and the number given to another snapshot,
 * or to the same snapshot again) is refused by open and left alone by remove. */
Test(rbd, changed_identity_refused)
{
        struct rbd_map_auth auth = kernel_auth();
        struct rbd_map_spec spec_a, spec_b;
        struct rbd_mapping ma, mb, ma2;
        char id_a[64], id_b[64];
        int r, fd;

        make_source(file_a);
        make_snapshot(img_a, file_a, &spec_a, id_a, sizeof(id_a));
        make_snapshot(img_b, file_a, &spec_b, id_b, sizeof(id_b));

        cr_assert_eq(rbdmap_add(ctx, &auth, &spec_a, &ma), 0, "map a: %s", dvm_ctx_last_error(ctx));
        cr_assert_eq(rbdmap_remove(ctx, &ma), 0, "unmap a: %s", dvm_ctx_last_error(ctx));
        cr_assert_eq(rbdmap_add(ctx, &auth, &spec_b, &mb), 0, "map b: %s", dvm_ctx_last_error(ctx));
        cr_assert_eq(mb.dev_id, ma.dev_id, "the kernel did not reuse device %d (gave %d): the test needs it",
                     ma.dev_id, mb.dev_id);

        fd = rbdmap_open(ctx, &ma, &spec_a);
        cr_assert_eq(fd, -ESTALE, "open of a's old mapping, now b: %d", fd);
        assert_one_line("other snapshot under the number");
        cr_assert(strstr(dvm_ctx_last_error(ctx), ma.path) && strstr(dvm_ctx_last_error(ctx), img_a),
                  "message does not name %s and %s: %s", ma.path, img_a, dvm_ctx_last_error(ctx));
        /* the device's own identity, even when the disk sequence number is not recorded */
        struct rbd_mapping noseq = ma;
        noseq.diskseq = 0;
        fd = rbdmap_open(ctx, &noseq, &spec_a);
        cr_assert_eq(fd, -ESTALE, "open of a's old mapping without diskseq: %d", fd);
        cr_assert(strstr(dvm_ctx_last_error(ctx), id_b), "message does not name b's image id %s: %s", id_b,
                  dvm_ctx_last_error(ctx));
        r = rbdmap_remove(ctx, &ma);
        cr_assert_eq(r, -ESTALE, "unmap through a's old mapping: %d", r);
        fd = rbdmap_open(ctx, &mb, &spec_b);
        cr_assert(fd >= 0, "b's mapping was harmed: %d: %s", fd, dvm_ctx_last_error(ctx));
        close(fd);
        cr_assert_eq(rbdmap_remove(ctx, &mb), 0, "unmap b: %s", dvm_ctx_last_error(ctx));

        /* the same snapshot mapped again under the same number: only the disk sequence differs */
        cr_assert_eq(rbdmap_add(ctx, &auth, &spec_a, &ma2), 0, "map a again: %s", dvm_ctx_last_error(ctx));
        cr_assert(ma2.dev_id == ma.dev_id && ma2.minor == ma.minor && ma2.diskseq != ma.diskseq,
                  "remap: dev %d minor %u diskseq %llu (old %d %u %llu)", ma2.dev_id, ma2.minor,
                  (unsigned long long)ma2.diskseq, ma.dev_id, ma.minor, (unsigned long long)ma.diskseq);
        fd = rbdmap_open(ctx, &ma, &spec_a);
        cr_assert_eq(fd, -ESTALE, "open of the first mapping of a, now its second: %d", fd);
        cr_assert(strstr(dvm_ctx_last_error(ctx), "disk sequence"), "message: %s", dvm_ctx_last_error(ctx));
        cr_assert_eq(rbdmap_remove(ctx, &ma), -ESTALE, "unmap through the first mapping");
        cr_assert_eq(rbdmap_remove(ctx, &ma2), 0, "unmap a: %s", dvm_ctx_last_error(ctx));
}

/* A clone of the protected snapshot reads its parent; an exclusive lock held by one client is
 * refused to another until that one breaks it. */
Test(rbd, clone_and_exclusive_lock)
{
        struct rbd_map_spec spec;
        struct rbd_conn *holder = NULL, *other = NULL;
        struct rbd_lock *l1 = NULL, *l2 = NULL;
        char id[64], args[200], *out;
        int r, st;

        make_source(file_a);
        make_snapshot(img_a, file_a, &spec, id, sizeof(id));
        r = rbdc_clone(ctx, conn, img_a, "s", img_c);
        cr_assert_eq(r, 0, "clone: %d: %s", r, dvm_ctx_last_error(ctx));
        snprintf(args, sizeof(args), "info %s | grep parent:", img_c);
        out = rbd_cli(&st, args);
        char want[128];
        snprintf(want, sizeof(want), POOL "/%s@s", img_a);
        cr_assert(strstr(out, want), "rbd info %s: parent is not %s:\n%s", img_c, want, out);
        free(out);
        r = rbdc_clone(ctx, conn, img_a, "s", img_c);
        cr_assert_eq(r, -EEXIST, "second clone under the same name: %d", r);
        r = rbdc_snap_remove(ctx, conn, img_a, "s");
        cr_assert_eq(r, -EBUSY, "remove of a snapshot with a clone: %d: %s", r, dvm_ctx_last_error(ctx));

        /* the holder gets blocklisted by the break: not the suite's connection */
        r = rbdc_connect(ctx, conf, CLIENT, POOL, &holder);
        cr_assert_eq(r, 0, "holder connection: %s", dvm_ctx_last_error(ctx));
        r = rbdc_connect(ctx, conf, CLIENT, POOL, &other);
        cr_assert_eq(r, 0, "second connection: %s", dvm_ctx_last_error(ctx));
        r = rbdc_lock_acquire(ctx, holder, img_c, &l1);
        cr_assert_eq(r, 0, "lock: %d: %s", r, dvm_ctx_last_error(ctx));
        r = rbdc_lock_acquire(ctx, other, img_c, &l2);
        cr_assert(r == -EROFS || r == -EBUSY, "lock by a second client while held: %d", r);
        assert_one_line("lock held");
        cr_assert(strstr(dvm_ctx_last_error(ctx), img_c), "message does not name %s: %s", img_c,
                  dvm_ctx_last_error(ctx));
        r = rbdc_lock_break(ctx, other, img_c);
        cr_assert_eq(r, 1, "break: %d: %s", r, dvm_ctx_last_error(ctx));
        r = rbdc_lock_acquire(ctx, other, img_c, &l2);
        cr_assert_eq(r, 0, "lock after the break: %d: %s", r, dvm_ctx_last_error(ctx));
        rbdc_lock_release(l2);
        rbdc_lock_release(l1); /* blocklisted: its release fails, quietly */
        r = rbdc_image_remove(ctx, holder, img_c);
        cr_assert(r < 0, "the broken (blocklisted) holder could still remove the image: %d", r);
        rbdc_free(other);
        rbdc_free(holder);

        r = rbdc_image_remove(ctx, conn, img_c);
        cr_assert_eq(r, 0, "remove clone: %d: %s", r, dvm_ctx_last_error(ctx));
        r = rbdc_snap_remove(ctx, conn, img_a, "s");
        cr_assert_eq(r, 0, "remove snapshot: %d: %s", r, dvm_ctx_last_error(ctx));
        r = rbdc_image_remove(ctx, conn, img_a);
        cr_assert_eq(r, 0, "remove image: %d: %s", r, dvm_ctx_last_error(ctx));
}

/* One mapping per host and snapshot, shared by the thin volumes layered over it as their
 * external origin: they read the template's bytes, write locally (the snapshot and the other
 * volume keep theirs), and the mapping goes with its last holder. */
Test(rbd, shared_origin_under_thin_volumes)
{
        struct rbd_origin o1, o2;
        char params[128], *out;
        int r, st, before = count_mappings();
        uint64_t tmpl;

        make_source(file_a);
        struct rbd_map_spec spec;
        char id[64];
        make_snapshot(img_a, file_a, &spec, id, sizeof(id));
        tmpl = vt_hash(file_a, 0, 16 * MiB);

        r = rbd_origin_get(ctx, conn, img_a, "s", &o1);
        cr_assert_eq(r, 0, "get: %d: %s", r, dvm_ctx_last_error(ctx));
        r = rbd_origin_get(ctx, conn, img_a, "s", &o2);
        cr_assert_eq(r, 0, "second get: %d: %s", r, dvm_ctx_last_error(ctx));
        cr_assert(o2.map.dev_id == o1.map.dev_id && o2.map.diskseq == o1.map.diskseq,
                  "second get mapped anew: %s, first %s", o2.map.path, o1.map.path);
        cr_assert_eq(count_mappings(), before + 1, "two gets, %d new mappings", count_mappings() - before);
        r = rbd_origin_get(ctx, conn, img_a, "nosnap", &o2);
        cr_assert_eq(r, -ENOENT, "get of an unknown snapshot: %d", r);

        /* a thin-pool on two loop devices, thin ids 1 and 2 over the mapping */
        out = vt_sh(&st, "set -e; truncate -s 16M /tmp/%s.meta; truncate -s 64M /tmp/%s.data; "
                    "m=$(losetup -f --show /tmp/%s.meta); d=$(losetup -f --show /tmp/%s.data); "
                    "dd if=/dev/zero of=$m bs=4096 count=1 status=none; "
                    "dmsetup create %s-pool --table \"0 131072 thin-pool $m $d 128 0\"; "
                    "dmsetup message %s-pool 0 'create_thin 1'; dmsetup message %s-pool 0 'create_thin 2'; "
                    "dmsetup info -c --noheadings -o major,minor %s-pool", tp, tp, tp, tp, tp, tp, tp, tp);
        cr_assert_eq(st, 0, "thin-pool: %s", out);
        unsigned pmaj, pmin;
        cr_assert_eq(sscanf(out, "%u:%u", &pmaj, &pmin), 2, "pool numbers: %s", out);
        free(out);
        for (unsigned t = 1; t <= 2; t++) {
                r = thin_table_params_origin(pmaj, pmin, t, o1.map.major, o1.map.minor, params, sizeof(params));
                cr_assert(r > 0, "table: %d", r);
                out = vt_sh(&st, "dmsetup create %s-t%u --table '0 32768 thin %s' 2>&1", tp, t, params);
                cr_assert_eq(st, 0, "thin %u over %s: %s", t, o1.map.path, out);
                free(out);
        }
        rbd_origin_release(&o1);
        rbd_origin_release(&o2);

        char t1[96], t2[96];
        snprintf(t1, sizeof(t1), "/dev/mapper/%s-t1", tp);
        snprintf(t2, sizeof(t2), "/dev/mapper/%s-t2", tp);
        cr_assert_eq(vt_hash(t1, 0, 16 * MiB), tmpl, "thin 1 does not read the template");
        vt_pattern(t1, 0, 1 * MiB, 7);
        cr_assert(vt_has_pattern(t1, 0, 1 * MiB, 7), "thin 1 does not read its own write");
        cr_assert_eq(vt_hash(t1, 1 * MiB, 15 * MiB), vt_hash(file_a, 1 * MiB, 15 * MiB),
                     "thin 1 past its write is not the template");
        cr_assert_eq(vt_hash(t2, 0, 16 * MiB), tmpl, "thin 2 sees thin 1's write");
        cr_assert_eq(vt_hash(o1.map.path, 0, 16 * MiB), tmpl, "the snapshot mapping sees thin 1's write");

        /* held by two volumes, then one: it stays; by none: it goes */
        r = rbd_origin_put(ctx, &o1.map);
        cr_assert_eq(r, 0, "put while two volumes hold it: %d: %s", r, dvm_ctx_last_error(ctx));
        free(vt_sh(&st, "dmsetup remove %s-t1", tp));
        r = rbd_origin_put(ctx, &o1.map);
        cr_assert_eq(r, 0, "put while one volume holds it: %d: %s", r, dvm_ctx_last_error(ctx));
        cr_assert_eq(count_mappings(), before + 1, "the mapping went while thin 2 holds it");
        cr_assert_eq(vt_hash(t2, 0, 16 * MiB), tmpl, "thin 2 after thin 1 went");
        free(vt_sh(&st, "dmsetup remove %s-t2", tp));
        r = rbd_origin_put(ctx, &o1.map);
        cr_assert_eq(r, 1, "put of the last user: %d: %s", r, dvm_ctx_last_error(ctx));
        cr_assert_eq(count_mappings(), before, "the mapping outlived its last holder");
        r = rbd_origin_put(ctx, &o1.map);
        cr_assert_eq(r, 1, "second put: %d", r);

        /* the cluster's snapshot never saw a byte of it */
        r = rbd_origin_get(ctx, conn, img_a, "s", &o1);
        cr_assert_eq(r, 0, "get after the unmap: %d: %s", r, dvm_ctx_last_error(ctx));
        snprintf(params, sizeof(params), "/proc/self/fd/%d", o1.fd);
        cr_assert_eq(vt_hash(params, 0, 16 * MiB), tmpl, "the snapshot changed");
        rbd_origin_release(&o1);
        cr_assert_eq(rbd_origin_put(ctx, &o1.map), 1, "put: %s", dvm_ctx_last_error(ctx));
}

/* A process that has the mapping open for @ms after it opened it (as udev's blkid probes each
 * new mapping); returns its pid once it holds it open. */
static pid_t open_for(const char *path, int ms)
{
        int p[2];
        char c;

        cr_assert_eq(pipe(p), 0, "pipe");
        pid_t pid = fork();
        cr_assert(pid >= 0, "fork");
        if (pid == 0) {
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || write(p[1], "o", 1) != 1)
                        _exit(1);
                nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L }, NULL);
                _exit(0);
        }
        close(p[1]);
        cr_assert_eq(read(p[0], &c, 1), 1, "the child did not open %s", path);
        close(p[0]);
        return pid;
}

/* The last user's put of a mapping that a probe has open for a moment (udev's blkid of a new
 * mapping, under a slow dom0) unmaps it once the probe is done, instead of leaving it for
 * good; one that stays open past the put's patience is left to its opener. */
Test(rbd, last_put_waits_out_a_probe)
{
        struct rbd_origin o;
        struct rbd_map_spec spec;
        char id[64];
        int r, st, before = count_mappings();
        pid_t pid;

        make_source(file_a);
        make_snapshot(img_a, file_a, &spec, id, sizeof(id));
        r = rbd_origin_get(ctx, conn, img_a, "s", &o);
        cr_assert_eq(r, 0, "get: %d: %s", r, dvm_ctx_last_error(ctx));
        rbd_origin_release(&o);

        pid = open_for(o.map.path, 1000);
        r = rbd_origin_put(ctx, &o.map);
        waitpid(pid, &st, 0);
        cr_assert_eq(r, 1, "put while a probe had it open for 1 s: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert_eq(count_mappings(), before, "the mapping outlived the probe");

        r = rbd_origin_get(ctx, conn, img_a, "s", &o);
        cr_assert_eq(r, 0, "get: %d: %s", r, dvm_ctx_last_error(ctx));
        rbd_origin_release(&o);
        pid = open_for(o.map.path, 8000);
        r = rbd_origin_put(ctx, &o.map);
        cr_assert_eq(r, 0, "put while it stays open 8 s: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert_eq(count_mappings(), before + 1, "the mapping went while open");
        waitpid(pid, &st, 0);
        cr_assert_eq(rbd_origin_put(ctx, &o.map), 1, "put after the opener closed: %s", dvm_ctx_last_error(ctx));
        cr_assert_eq(count_mappings(), before, "the mapping stayed");
}
