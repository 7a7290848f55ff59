// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, with the real Ceph cluster suites.sh starts around the rbd suites: the rbd pool
 * backend through dvm-vol. Templates' committed layers are snapshots of images in the cluster
 * and nothing of them stays in the local pool; disposables run on local thin volumes over one
 * read-only kernel mapping per snapshot, shared, gone with its last user; a template commit
 * is the next spawn's, running disposables keep theirs, the old snapshot goes with its last
 * one; a disposable's canary is on neither the local disk nor in the cluster after destroy,
 * a TemplateVM's saved canary is in the cluster. Bad settings at init change nothing.
 * Witnesses: the rbd and rados CLIs as client.admin, sysfs, the scratch disk.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "canary.h"
#include "dvm.h"

#define MiB (1ULL << 20)
#define CPOOL "rbd"

static struct vt vt;
static struct canary can;
static const char *conf;
static char host[32];

#define CLI_OK(...) VT_CLI_OK(&vt, __VA_ARGS__)

static void need_cluster(void)
{
        conf = getenv("DVM_CEPH_CONF");
        if (geteuid() != 0)
                cr_skip_test("SKIP: the rbd pool suite needs root");
        cr_assert(conf && *conf, "DVM_CEPH_CONF is not set: run this suite through tests/vm/suites.sh, which starts "
                  "the Ceph cluster (tests/lib/ceph-cluster.sh) around it");
        snprintf(host, sizeof(host), "h%d", getpid());
}

static void init_pool(void)
{
        need_cluster();
        vt_init_backend(&vt, "rbd", "--data-size", "512M", "--rbd-conf", conf, "--rbd-client", "dvm", "--rbd-pool",
                        CPOOL, "--host", host, NULL);
}

/* our images in the cluster ("dvm.<host>.<pool>.*"), one per line, as the rbd CLI lists them */
static char *images(void)
{
        int st;
        char *out = vt_sh(&st, "rbd -c %s --id admin -p " CPOOL " ls | grep '^dvm\\.%s\\.%s\\.' || true", conf, host,
                          vt.pool);
        cr_assert_eq(st, 0, "rbd ls: %s", out);
        return out;
}

/* the snapshots of the image that holds @vm/@vol's committed layer, one per line */
static char *snaps_of(const char *image)
{
        int st;
        char *out = vt_sh(&st, "rbd -c %s --id admin -p " CPOOL " snap ls %s --format json | "
                          "grep -o '\"name\":\"[^\"]*\"' || true", conf, image);
        cr_assert_eq(st, 0, "rbd snap ls %s: %s", image, out);
        return out;
}

/* the kernel mappings of our images, one per line */
static int mappings(void)
{
        int st;
        char *out = vt_sh(&st, "for d in /sys/bus/rbd/devices/*; do [ -e \"$d/name\" ] && "
                          "grep -l '^dvm\\.%s\\.' \"$d/name\"; done 2>/dev/null || true", host);
        int n = vt_count_lines(out);
        free(out);
        return n;
}

static void teardown(void)
{
        int st;

        scratch_cleanup(&vt);
        if (!conf || !host[0])
                return;
        /* what a failed test left in the cluster and the kernel */
        free(vt_sh(&st, "for d in /sys/bus/rbd/devices/*; do [ -e \"$d/name\" ] && grep -q '^dvm\\.%s\\.' \"$d/name\" && "
                   "echo ${d##*/} > /sys/bus/rbd/remove_single_major; done 2>/dev/null; "
                   "for i in $(rbd -c %s --id admin -p " CPOOL " ls | grep '^dvm\\.%s\\.'); do "
                   "rbd -c %s --id admin -p " CPOOL " snap unprotect $i@$(rbd -c %s --id admin -p " CPOOL
                   " snap ls $i | awk 'NR>1{print $2}') 2>/dev/null; "
                   "rbd -c %s --id admin -p " CPOOL " snap purge $i >/dev/null 2>&1; "
                   "rbd -c %s --id admin -p " CPOOL " rm $i >/dev/null 2>&1; done",
                   host, conf, host, conf, conf, conf, conf));
}

TestSuite(rbd_pool, .fini = teardown, .timeout = 900);

/* The image of tmpl's root: the one whose snapshot a disposable's root maps. */
static char *root_image(const char *d)
{
        int st;
        char *out = vt_sh(&st, "dmsetup table DVM-%s-%s-root | awk '{print $NF}'", vt.pool, d), *img;
        unsigned maj, min;

        cr_assert(sscanf(out, "%u:%u", &maj, &min) == 2, "%s root's table ends in no device: %s", d, out);
        free(out);
        out = vt_sh(&st, "for m in /sys/bus/rbd/devices/*; do [ \"$(cat $m/major):$(cat $m/minor)\" = %u:%u ] && "
                    "cat $m/name; done; true", maj, min);
        img = strndup(out, strcspn(out, "\n"));
        free(out);
        cr_assert(img && img[0], "%s root is not over an rbd mapping (%u:%u)", d, maj, min);
        return img;
}

Test(rbd_pool, lifecycle)
{
        char *all, *d1, *d2, *d3, *d4, *img, *ids, *s;

        init_pool();
        /* the local thin pool zeroes new blocks: its releases are not all wiped */
        int tst;
        char *table = vt_sh(&tst, "dmsetup table DVM-%s", vt.pool);
        cr_assert(tst == 0 && strstr(table, "thin-pool") && !strstr(table, "skip_block_zeroing"),
                  "the rbd pool's local thin pool skips block zeroing: %s", table);
        free(table);
        vt_make_templates(&vt, "48M", "24M");
        /* tmpl's root and private, dvm's private: in the cluster, nothing of them local */
        all = images();
        cr_assert_eq(vt_count_lines(all), 3, "images of the templates in the cluster:\n%s", all);
        ids = vt_thin_ids(&vt);
        cr_assert_str_eq(ids, " ", "committed layers left thin ids in the local pool: %s", ids);
        free(ids);
        free(all);

        d1 = vt_spawn(&vt, "dvm", NULL);
        d2 = vt_spawn(&vt, "dvm", NULL);
        cr_assert(vt_has_pattern(vt_dev(&vt, d1, "root"), 0, 8 * MiB, 1), "%s root lacks the template's data", d1);
        cr_assert(vt_has_pattern(vt_dev(&vt, d2, "private"), 0, 4 * MiB, 2), "%s private lacks the DVM data", d2);
        cr_assert_eq(mappings(), 2, "two disposables of one template: one mapping per snapshot (root, private)");
        vt_pattern(vt_dev(&vt, d1, "root"), MiB, MiB, 9);
        cr_assert(vt_has_pattern(vt_dev(&vt, d2, "root"), 0, 8 * MiB, 1), "%s sees %s's write", d2, d1);
        img = root_image(d1);
        CLI_OK("destroy", "--wait", d1);
        cr_assert_eq(mappings(), 2, "the mappings went with one of their two users");
        CLI_OK("destroy", "--wait", d2);
        cr_assert_eq(mappings(), 0, "the mappings stayed after their last user");
        ids = vt_thin_ids(&vt);
        cr_assert_str_eq(ids, " ", "destroyed disposables left thin ids: %s", ids);
        free(ids);

        /* a commit is the next spawn's; a running disposable keeps its snapshot */
        d3 = vt_spawn(&vt, "dvm", NULL);
        CLI_OK("start", "tmpl");
        vt_pattern(vt_dev(&vt, "tmpl", "root"), 0, MiB, 3);
        CLI_OK("stop", "tmpl");
        s = snaps_of(img);
        cr_assert_eq(vt_count_lines(s), 2, "%s: the old snapshot went while %s runs on it:\n%s", img, d3, s);
        free(s);
        d4 = vt_spawn(&vt, "dvm", NULL);
        cr_assert(vt_has_pattern(vt_dev(&vt, d3, "root"), 0, MiB, 1), "%s lost its template state", d3);
        struct vt_run r = vt_cli(&vt, "info", d3, NULL);
        cr_assert(strstr(r.out, "state:     running (outdated)"), "info %s does not say outdated:\n%s%s", d3, r.out,
                  r.err);
        vt_run_free(&r);
        r = vt_cli(&vt, "info", d4, NULL);
        cr_assert(r.status == 0 && !strstr(r.out, "outdated"), "info %s says outdated:\n%s%s", d4, r.out, r.err);
        vt_run_free(&r);
        cr_assert(vt_has_pattern(vt_dev(&vt, d4, "root"), 0, MiB, 3), "%s lacks the new commit", d4);
        cr_assert(vt_has_pattern(vt_dev(&vt, d4, "root"), MiB, 7 * MiB, 1), "%s lost the unchanged data", d4);
        all = images();
        cr_assert_eq(vt_count_lines(all), 3, "the commit made an image instead of a snapshot:\n%s", all);
        free(all);
        CLI_OK("destroy", "--wait", d3);
        s = snaps_of(img);
        cr_assert_eq(vt_count_lines(s), 1, "%s: the old snapshot stayed after its last user:\n%s", img, s);
        free(s);
        CLI_OK("destroy", "--wait", d4);
        cr_assert_eq(mappings(), 0, "mappings left after the last disposable");

        /* what a spawn killed between its map and its table leaves: recover unmaps it */
        s = snaps_of(img);
        char snap[64] = "";
        cr_assert_eq(sscanf(s, "\"name\":\"%63[^\"]\"", snap), 1, "%s: no snapshot: %s", img, s);
        free(s);
        int st;
        /* through sysfs: `rbd map` waits for udev, which the test VM does not run */
        char *out = vt_sh(&st, "k=$(ceph-authtool -p -n client.dvm $(dirname %s)/keyring) && "
                          "m=$(sed -n 's/^[[:space:]]*mon host.*v1:\\([0-9.]*:[0-9]*\\).*/\\1/p' %s) && "
                          "echo \"$m name=dvm,secret=$k " CPOOL " %s %s\" > /sys/bus/rbd/add_single_major 2>&1",
                          conf, conf, img, snap);
        cr_assert_eq(st, 0, "map %s@%s through sysfs: %s", img, snap, out);
        free(out);
        cr_assert_eq(mappings(), 1, "the hand-made mapping is not there");
        CLI_OK("recover");
        cr_assert_eq(mappings(), 0, "recover left an unused mapping of the pool's snapshot");
        free(d1), free(d2), free(d3), free(d4), free(img);
}

Test(rbd_pool, destroy_leaves_nothing)
{
        char *all;

        init_pool();
        vt_make_templates(&vt, "16M", "8M");
        CLI_OK("destroy", "--wait", "dvm");
        CLI_OK("destroy", "--wait", "tmpl");
        all = images();
        cr_assert_str_empty(all, "images left in the cluster after the templates were removed:\n%s", all);
        free(all);
}

/* count the copies of the token in every object of the Ceph pool */
static uint64_t cluster_copies(const char *what)
{
        int st;
        char *out = vt_sh(&st, "rm -rf /tmp/rbd-objs && mkdir /tmp/rbd-objs && for o in $(rados -c %s --id admin -p "
                          CPOOL " ls); do rados -c %s --id admin -p " CPOOL " get \"$o\" \"/tmp/rbd-objs/$o\" || "
                          "exit 1; done; cat /tmp/rbd-objs/* 2>/dev/null > /tmp/rbd-objs.all; ls /tmp/rbd-objs | wc -l",
                          conf, conf);
        cr_assert_eq(st, 0, "rados get of every object: %s", out);
        uint64_t n = 0;
        FILE *f = fopen("/tmp/rbd-objs.all", "rb");
        cr_assert(f, "/tmp/rbd-objs.all");
        static char buf[8 << 20];
        size_t got, keep = 0;
        while ((got = fread(buf + keep, 1, sizeof(buf) - keep, f)) > 0) {
                size_t len = keep + got;
                for (const char *p = buf; (p = memmem(p, (size_t)(buf + len - p), can.token, CANARY_TOKEN)); p++)
                        n++;
                keep = len < CANARY_TOKEN ? len : CANARY_TOKEN - 1;
                memmove(buf, buf + len - keep, keep);
        }
        fclose(f);
        fprintf(stderr, "canary scan: %s: %llu copies in %d objects of Ceph pool " CPOOL "\n", what,
                (unsigned long long)n, atoi(out));
        free(out);
        free(vt_sh(&st, "rm -rf /tmp/rbd-objs /tmp/rbd-objs.all"));
        return n;
}

Test(rbd_pool, canary)
{
        char *d;

        need_cluster();
        scratch_init(&vt, "rbd", "--data-size", "512M", "--rbd-conf", conf, "--rbd-client", "dvm", "--rbd-pool",
                     CPOOL, "--host", host, NULL);
        canary_new(&can);
        vt_make_templates(&vt, "48M", "24M");
        d = vt_spawn(&vt, "dvm", NULL);
        canary_write(vt_dev(&vt, d, "root"), MiB + 4096, 8192, &can);   /* inside a template block */
        canary_write(vt_dev(&vt, d, "root"), 20 * MiB, MiB, &can);      /* fresh blocks */
        canary_write(vt_dev(&vt, d, "private"), 16 * MiB, MiB, &can);
        cr_assert(canary_reads_back(vt_dev(&vt, d, "root"), 20 * MiB, MiB, &can), "the canary does not read back");
        cr_assert_gt(canary_scan(scratch_disk(), &can, "rbd pool, disposable running"), 0,
                     "the scan cannot see the canary on the local disk while it runs: it proves nothing");
        CLI_OK("destroy", "--wait", d);
        cr_expect_eq(canary_scan(scratch_disk(), &can, "rbd pool, after destroy"), 0,
                     "the local disk keeps the destroyed disposable's canary");
        cr_expect_eq(cluster_copies("after destroy"), 0, "the cluster holds a disposable's canary");
        /* a save_on_stop volume's data is in the cluster, as it must be */
        CLI_OK("start", "tmpl");
        canary_write(vt_dev(&vt, "tmpl", "root"), 30 * MiB, MiB, &can);
        CLI_OK("stop", "tmpl");
        cr_expect_gt(cluster_copies("TemplateVM committed"), 0, "a TemplateVM's committed data is not in the cluster");
        free(d);
}

/* init with @words fails with @status and one line naming @object, and leaves no pool */
static void init_refused(int status, const char *object, const char *const words[])
{
        const char *argv[24] = { "pool", "init", "--backend", "rbd", "--data-size", "64M" };
        size_t n = 6;
        int st;

        for (; *words; words++)
                argv[n++] = *words;
        struct vt_run r = vt_cliv(&vt, argv);
        cr_expect_eq(r.status, status, "pool init %s...: exit %d, not %d: %s", argv[6], r.status, status, r.err);
        cr_expect_eq(vt_count_lines(r.err), 1, "not one line: %s", r.err);
        cr_expect(strstr(r.err, object), "the error does not name %s: %s", object, r.err);
        vt_run_free(&r);
        char *left = vt_sh(&st, "ls -A %s 2>/dev/null; dmsetup ls | grep -c 'DVM-%s' || true", vt.state, vt.pool);
        cr_expect_str_eq(left, "0\n", "a refused init left something: %s", left);
        free(left);
}

Test(rbd_pool, bad_init_changes_nothing)
{
        need_cluster();
        vt_init(&vt, NULL);
        init_refused(3, "nosuchpool", (const char *const[]){ "--rbd-conf", conf, "--rbd-client", "dvm", "--rbd-pool",
                                                             "nosuchpool", NULL });
        init_refused(3, "/nonexistent.conf", (const char *const[]){ "--rbd-conf", "/nonexistent.conf", NULL });
        init_refused(2, "a b", (const char *const[]){ "--rbd-conf", conf, "--rbd-pool", "a b", NULL });
        init_refused(2, "x.y", (const char *const[]){ "--rbd-conf", conf, "--host", "x.y", NULL });
        struct vt_run r = vt_cli(&vt, "pool", "init", "--rbd-pool", CPOOL, NULL);
        cr_expect_eq(r.status, 2, "rbd options on a thin pool: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
}

/* A second rbd pool of one state directory under the first one's host name, on the same Ceph
 * pool, is refused (exit 4, one line naming the host and the pool that has it) before it
 * makes anything: the two would share their uses of other hosts' snapshots. */
Test(rbd_pool, host_name_of_another_pool_refused)
{
        struct vt other;
        int st;

        init_pool();
        other = vt;
        snprintf(other.pool, sizeof(other.pool), "%.28s2", vt.pool);
        struct vt_run r = vt_cli(&other, "pool", "init", "--backend", "rbd", "--data-size", "64M", "--rbd-conf", conf,
                                 "--rbd-client", "dvm", "--rbd-pool", CPOOL, "--host", host, NULL);
        cr_expect(r.status == 4 && vt_count_lines(r.err) == 1 && strstr(r.err, host) && strstr(r.err, vt.pool),
                  "a second pool under host name %s: exit %d: %s", host, r.status, r.err);
        vt_run_free(&r);
        char *left = vt_sh(&st, "ls -d %s/%s 2>/dev/null; dmsetup ls | grep -c 'DVM-%s' || true", vt.state,
                           other.pool, other.pool);
        cr_expect_str_eq(left, "0\n", "the refused init left something: %s", left);
        free(left);
        /* the first pool is untouched */
        CLI_OK("template", "create", "tmpl", "--root-size", "8M", "--private-size", "8M");
        CLI_OK("destroy", "--wait", "tmpl");
}

/* The descriptors this process has open. */
static int open_fds(void)
{
        int st, n;
        char *out = vt_sh(&st, "ls /proc/%d/fd | wc -l", getpid());

        cr_assert(st == 0 && sscanf(out, "%d", &n) == 1, "cannot count the descriptors: %s", out);
        free(out);
        return n;
}

/* A long-lived library user (qubesd through the pool driver, make bench's dvmbench) keeps its
 * descriptors: spawns and destroys over an rbd pool, with the pool opened and closed around
 * each as the driver does, leave as many open as before the first (the first connection to
 * the cluster may load librados, which keeps what it opens once). */
Test(rbd_pool, library_user_keeps_its_descriptors)
{
        struct dvm_vm_info info;
        dvm_pool *pool;
        dvm_ctx *ctx;
        int r, before = -1, after;

        init_pool();
        vt_make_templates(&vt, "48M", "24M");
        cr_assert_eq(dvm_ctx_new(vt.state, &ctx), 0, "dvm_ctx_new");
        for (int i = 0; i < 12; i++) {
                if (i == 2)
                        before = open_fds();
                r = dvm_pool_open(ctx, vt.pool, &pool);
                cr_assert_eq(r, 0, "dvm_pool_open: %d (%s)", r, dvm_ctx_last_error(ctx));
                r = dvm_spawn(pool, "dvm", NULL, &info);
                cr_assert_eq(r, 0, "dvm_spawn %d: %d (%s)", i, r, dvm_ctx_last_error(ctx));
                r = dvm_vm_destroy(pool, info.name);
                cr_assert_eq(r, 0, "dvm_vm_destroy %s: %d (%s)", info.name, r, dvm_ctx_last_error(ctx));
                dvm_pool_close(pool);
        }
        after = open_fds();
        cr_expect_eq(after, before, "descriptors open after 10 spawns and destroys: %d, before them: %d", after, before);
        dvm_ctx_free(ctx);
}
