// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, the amnesia proofs, on each backend: a random canary written all over disposables
 * (root, private, volatile; over template blocks, overwritten in part, again and again) is
 * found by a raw scan of a thin pool's disk while they run, and 0 times after destroy or
 * stop, the templates intact; a volatile canary, or one in a snap pool's COW stores, is never
 * there in plaintext, and their keys are in no log or file. The negative control removes a disposable's devices without dvm-vol, and the same
 * scan finds the canary. The disk is a scratch virtio disk that ignores discards: only the
 * wipe can remove anything. (In-RAM disposables: test_in_ram.c.)
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "canary.h"
#include "dvm.h"

#define MiB (1ULL << 20)
static struct vt vt;
static struct canary can;

#define CLI_OK(...) VT_CLI_OK(&vt, __VA_ARGS__)

static void teardown(void)
{
        scratch_cleanup(&vt);
}

TestSuite(canary, .fini = teardown, .timeout = 900);

/* The templates' data hashed through a fresh start of each (origins never change). */
struct template_sums {
        uint64_t tmpl_root, tmpl_private, dvm_private;
};

static struct template_sums template_sums(void)
{
        struct template_sums s;

        CLI_OK("start", "tmpl");
        s.tmpl_root = vt_hash(vt_dev(&vt, "tmpl", "root"), 0, 0);
        s.tmpl_private = vt_hash(vt_dev(&vt, "tmpl", "private"), 0, 0);
        CLI_OK("stop", "tmpl");
        CLI_OK("start", "dvm");
        s.dvm_private = vt_hash(vt_dev(&vt, "dvm", "private"), 0, 0);
        CLI_OK("stop", "dvm");
        return s;
}

/* canary_fixture() on @backend; returns the checksums of its templates. */
static struct template_sums setup(const char *backend)
{
        canary_fixture(&vt, &can, backend);
        return template_sums();
}

static void check_templates(const struct template_sums *want)
{
        struct template_sums got = template_sums();

        cr_expect_eq(got.tmpl_root, want->tmpl_root, "TemplateVM root changed: %llx, was %llx",
                     (unsigned long long)got.tmpl_root, (unsigned long long)want->tmpl_root);
        cr_expect_eq(got.tmpl_private, want->tmpl_private, "TemplateVM private changed: %llx, was %llx",
                     (unsigned long long)got.tmpl_private, (unsigned long long)want->tmpl_private);
        cr_expect_eq(got.dvm_private, want->dvm_private, "DVM Template private changed: %llx, was %llx",
                     (unsigned long long)got.dvm_private, (unsigned long long)want->dvm_private);
}

/* The canary where a VM puts it: over template data (whole and partial blocks), where the
 * template has nothing, again and again, overwritten in part afterwards. */
static void write_canaries(const char *d, const struct canary *vcan)
{
        const char *root = vt_dev(&vt, d, "root"), *priv = vt_dev(&vt, d, "private"),
                   *vola = vt_dev(&vt, d, "volatile");

        canary_write(root, MiB + 4096, 8192, &can);          /* inside a template block */
        canary_write(root, 3 * MiB, 512 << 10, &can);        /* over template blocks */
        for (int i = 0; i < 3; i++)
                canary_write(root, 20 * MiB, MiB, &can);     /* fresh blocks, many times */
        canary_write(root, 40 * MiB, 256 << 10, &can);
        vt_pattern(root, 40 * MiB + (64 << 10), 64 << 10, 77); /* overwritten in part */
        canary_write(priv, (512 << 10) + 4096, 4096, &can);  /* inside a DVM Template block */
        canary_write(priv, 16 * MiB, MiB, &can);
        canary_write(vola, 0, MiB, vcan);
        canary_write(vola, 50 * MiB, 2 * MiB, vcan);
        vt_pattern(vola, 51 * MiB, 512 << 10, 78);
        cr_assert(canary_reads_back(root, 20 * MiB, MiB, &can), "%s root does not read the canary back", d);
        cr_assert(canary_reads_back(priv, 16 * MiB, MiB, &can), "%s private does not read the canary back", d);
        cr_assert(canary_reads_back(vola, 0, MiB, vcan), "%s volatile does not read the canary back", d);
        cr_assert(vt_has_pattern(root, 0, MiB, 1), "%s root lost the template's data around the canary", d);
}

/* The key of a volatile volume: the table's, as dmsetup shows it with --showkeys. */
static char *volatile_key(const char *d)
{
        int st;
        char *out = vt_sh(&st, "dmsetup table --showkeys DVM-%s-%s-volatile", vt.pool, d);
        char cipher[64] = "", key[300] = "";

        cr_assert_eq(st, 0, "dmsetup table of %s volatile: %s", d, out);
        cr_assert_eq(sscanf(out, "%*u %*u crypt %63s %299s", cipher, key), 2, "%s volatile is no crypt device: %s", d,
                     out);
        cr_expect_str_eq(cipher, "aes-xts-plain64", "%s volatile cipher: %s", d, cipher);
        cr_expect_eq(strlen(key), 128, "%s volatile key of %zu hex digits: %s", d, strlen(key), key);
        free(out);
        return strdup(key);
}

/* The volatile volumes' keys: 512 bits each, different, in no log line and no file. */
static void check_keys(const char *a, const char *b, const struct vt_run *spawn_a)
{
        char *ka = volatile_key(a), *kb = volatile_key(b), *found;
        int st;

        cr_expect_str_neq(ka, kb, "two volatile volumes share a key");
        cr_assert(strstr(spawn_a->err, "libdevmapper"), "-v -v shows no libdevmapper lines, so it proves nothing:\n%s",
                  spawn_a->err);
        cr_expect_null(strstr(spawn_a->err, ka), "the key is in the debug log of spawn");
        cr_expect_null(strstr(spawn_a->out, ka), "the key is in the output of spawn");
        found = vt_sh(&st, "grep -rl -e %s -e %.32s %s || true", ka, ka, vt.state);
        cr_expect_str_empty(found, "the key is in files of the state directory: %s", found);
        free(found);
        free(ka);
        free(kb);
}

VT_BACKEND_PARAMETERS(canary, teardown_leaves_none)

/*
 * An unnamed disposable destroyed, a named one stopped, a TemplateVM's volatile dropped at
 * its stop: none leaves a copy. While they run, the root and private canary is on the disk
 * of a thin pool (the scan can see it) and only encrypted in a snap pool's COW stores; the
 * volatile canary is only encrypted.
 */
ParameterizedTest(const struct vt_backend *b, canary, teardown_leaves_none)
{
        struct template_sums sums = setup(b->name);
        const char *disk = scratch_disk();
        struct canary vcan;
        char what[96];
        struct vt_run r = vt_cli(&vt, "-v", "-v", "spawn", "dvm", NULL);
        uint64_t n;

        cr_assert_eq(r.status, 0, "spawn: exit %d: %s", r.status, r.err);
        char *d = strndup(r.out, strcspn(r.out, "\n")), *named = vt_spawn(&vt, "dvm", "--name", "named1", NULL);
        canary_new(&vcan);
        write_canaries(d, &vcan);
        write_canaries(named, &vcan);
        CLI_OK("start", "tmpl");
        canary_write(vt_dev(&vt, "tmpl", "volatile"), 8 * MiB, MiB, &vcan);

        snprintf(what, sizeof(what), "%s: canary while running", b->name);
        n = canary_scan(disk, &can, what);
        if (strcmp(b->name, "snap") == 0) /* COW stores under ephemeral keys: never in plaintext */
                cr_expect_eq(n, 0, "%s: %llu plaintext copies of the canary in COW stores on %s", b->name,
                             (unsigned long long)n, disk);
        else /* the positive control: thin layers hold it in plaintext */
                cr_assert_gt(n, 0, "%s: the running disposables' canary is not on %s: the scan cannot see it",
                             b->name, disk);
        snprintf(what, sizeof(what), "%s: volatile canary while running", b->name);
        n = canary_scan(disk, &vcan, what);
        cr_expect_eq(n, 0, "%s: %llu plaintext copies of the volatile canary on %s", b->name, (unsigned long long)n,
                     disk);
        check_keys(d, named, &r);
        vt_run_free(&r);
        if (strcmp(b->name, "snap") == 0) {
                int st;
                char *cows = vt_sh(&st, "dmsetup table | grep -c '^DVM-%s-cow-[0-9]*: 0 [0-9]* crypt aes-xts-plain64 ' "
                                        "|| true", vt.pool);
                /* root and private of each disposable; the TemplateVM's running root is kept: none */
                cr_expect_str_eq(cows, "4\n", "%s: COW stores under crypt: %s", b->name, cows);
                free(cows);
        }

        CLI_OK("destroy", "--wait", d);
        CLI_OK("stop", named);
        CLI_OK("stop", "tmpl");
        snprintf(what, sizeof(what), "%s: canary after destroy and stop", b->name);
        n = canary_scan(disk, &can, what);
        cr_expect_eq(n, 0, "%s: %llu copies of the canary on %s after destroy and stop", b->name,
                     (unsigned long long)n, disk);
        snprintf(what, sizeof(what), "%s: volatile canary after destroy and stop", b->name);
        n = canary_scan(disk, &vcan, what);
        cr_expect_eq(n, 0, "%s: %llu copies of the volatile canary on %s", b->name, (unsigned long long)n, disk);
        check_templates(&sums);
        CLI_OK("start", named);
        cr_expect(vt_has_pattern(vt_dev(&vt, named, "root"), 0, 8 * MiB, 1), "%s: restarted %s lost the template",
                  b->name, named);
        cr_expect(!canary_reads_back(vt_dev(&vt, named, "root"), 20 * MiB, 4096, &can), "%s: restarted %s kept its data",
                  b->name, named);
        CLI_OK("destroy", "--wait", named);
        free(d);
        free(named);
}

VT_BACKEND_PARAMETERS(canary, negative_control)

/*
 * A VM taken apart without dvm-vol: devices removed, layers deleted, as a tool that knows
 * nothing of the wipe would. The same scan must find the canary. On the thin backend, a
 * disposable; on the snap backend, whose disposables write only ciphertext to their COW
 * stores, a TemplateVM's running root (a layer that is kept, so under no ephemeral key).
 */
ParameterizedTest(const struct vt_backend *b, canary, negative_control)
{
        canary_fixture(&vt, &can, b->name);
        const char *disk = scratch_disk();
        bool thin = strcmp(b->name, "thin") == 0;
        char *d = thin ? vt_spawn(&vt, "dvm", NULL) : strdup("tmpl");
        int st;

        if (thin) {
                write_canaries(d, &can);
        } else {
                CLI_OK("start", d);
                canary_write(vt_dev(&vt, d, "root"), 20 * MiB, MiB, &can);
        }
        struct vt_run r = vt_cli(&vt, "--json", "info", d, NULL);
        cr_assert_eq(r.status, 0, "info: %s", r.err);
        json_object *o = json_tokener_parse(r.out), *vols = NULL;
        cr_assert(o && json_object_object_get_ex(o, "volumes", &vols), "info --json: %s", r.out);
        free(vt_sh(&st, "for i in 1 2; do for v in $(dmsetup ls | awk '{print $1}' | grep '^DVM-%s-%s-'); do "
                        "dmsetup remove $v 2>/dev/null; done; done", vt.pool, d));
        for (size_t i = 0; i < json_object_array_length(vols); i++) {
                json_object *id = NULL;
                json_object_object_get_ex(json_object_array_get_idx(vols, i), "thin_id", &id);
                cr_assert(id, "info --json: a volume without an id: %s", r.out);
                if (thin)
                        free(vt_sh(&st, "dmsetup message DVM-%s 0 'delete %lld'", vt.pool,
                                   (long long)json_object_get_int64(id)));
                else
                        free(vt_sh(&st, "rm -f %s/%s/%lld.cow", vt.state, vt.pool, (long long)json_object_get_int64(id)));
        }
        json_object_put(o);
        vt_run_free(&r);
        char what[96];
        snprintf(what, sizeof(what), "%s: negative control, %s taken apart without dvm-vol", b->name, d);
        uint64_t n = canary_scan(disk, &can, what);
        cr_expect_gt(n, 0, "%s: the scan found no canary after removing %s without the wipe: it cannot fail",
                     b->name, d);
        free(d);
}

/* A guest's discards: BLKDISCARD over the whole volume, as blkdiscard(8) does. The device
 * taking none (-EOPNOTSUPP) is the fix; one that takes them must not free a canary unwiped. */
static void guest_discard(const char *dev, const char *what)
{
        int r = canary_discard(dev);

        cr_assert(r == 0 || r == -EOPNOTSUPP, "%s: BLKDISCARD %s: %s", what, dev, strerror(-r));
        fprintf(stderr, "guest discard: %s: BLKDISCARD %s: %s\n", what, dev, r ? strerror(-r) : "done");
}

/* What fstrim(8) in a guest does: a file system on @dev, the canary in a file, the file
 * deleted, the free space trimmed. */
static void guest_fstrim(const char *dev, const char *what)
{
        char dir[96];
        int st;

        snprintf(dir, sizeof(dir), "/tmp/dvm-fstrim-%s", vt.pool);
        char *out = vt_sh(&st, "mkfs.ext4 -F -q -E nodiscard %s 2>&1 && mkdir -p %s && mount -o nodiscard %s %s 2>&1 "
                               "&& truncate -s 4M %s/c", dev, dir, dev, dir, dir);
        cr_assert_eq(st, 0, "%s: file system on %s: %s", what, dev, out);
        free(out);
        snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/c");
        canary_write(dir, 0, 4 * MiB, &can);
        dir[strlen(dir) - 2] = 0;
        out = vt_sh(&st, "rm %s/c && sync && fstrim -v %s 2>&1; umount %s 2>&1", dir, dir, dir);
        fprintf(stderr, "guest fstrim: %s: %s", what, out);
        free(out);
}

VT_BACKEND_PARAMETERS(canary, guest_discards_leave_none)

/*
 * Issue 12 defect 8: blocks a disposable discards itself must not leave its pool unwiped.
 * A canary in each volume of a disposable, then the guest's discards (BLKDISCARD over root
 * and volatile, fstrim of a file system on private), then destroy: the scan of the disk
 * (which ignores discards) finds 0 copies. No device a disposable gets takes discards.
 */
ParameterizedTest(const struct vt_backend *b, canary, guest_discards_leave_none)
{
        canary_fixture(&vt, &can, b->name);
        const char *disk = scratch_disk();
        char *d = vt_spawn(&vt, "dvm", NULL);
        const char *root = vt_dev(&vt, d, "root"), *priv = vt_dev(&vt, d, "private"),
                   *vola = vt_dev(&vt, d, "volatile");
        struct canary vcan;
        char what[96];
        uint64_t n;

        canary_new(&vcan);
        canary_write(root, 20 * MiB, 4 * MiB, &can);
        canary_write(root, MiB + 4096, 8192, &can);
        canary_write(vola, 0, 4 * MiB, &vcan);
        snprintf(what, sizeof(what), "%s: canary before the guest's discards", b->name);
        n = canary_scan(disk, &can, what);
        if (strcmp(b->name, "thin") == 0)
                cr_assert_gt(n, 0, "%s: the canary is not on %s: the scan cannot see it", b->name, disk);
        cr_expect_eq(canary_discard_max(root), 0, "%s: %s root takes discards (%llu bytes)", b->name, d,
                     (unsigned long long)canary_discard_max(root));
        cr_expect_eq(canary_discard_max(priv), 0, "%s: %s private takes discards (%llu bytes)", b->name, d,
                     (unsigned long long)canary_discard_max(priv));
        cr_expect_eq(canary_discard_max(vola), 0, "%s: %s volatile takes discards (%llu bytes)", b->name, d,
                     (unsigned long long)canary_discard_max(vola));
        guest_discard(root, "root");
        guest_discard(vola, "volatile");
        guest_fstrim(priv, "private");

        CLI_OK("destroy", "--wait", d);
        snprintf(what, sizeof(what), "%s: canary after the guest's discards and destroy", b->name);
        n = canary_scan(disk, &can, what);
        cr_expect_eq(n, 0, "%s: %llu copies of a canary the guest discarded survive destroy on %s", b->name,
                     (unsigned long long)n, disk);
        snprintf(what, sizeof(what), "%s: volatile canary after the guest's discards and destroy", b->name);
        n = canary_scan(disk, &vcan, what);
        cr_expect_eq(n, 0, "%s: %llu copies of the volatile canary on %s", b->name, (unsigned long long)n, disk);
        free(d);
}

/* Info lines of the library, kept for the test to read. */
static void keep_log(void *userdata, enum dvm_log_level level, const char *msg)
{
        char *log = userdata;
        size_t used = strlen(log);

        if (level == DVM_LOG_INFO && used + strlen(msg) + 2 < 8192)
                snprintf(log + used, 8192 - used, "%s\n", msg);
}

/*
 * A qube's volumes stopped in one call (dvm_volumes_stop(), as the Qubes driver stops them):
 * the layers the stop drops (the snap_on_start root, the volatile) are wiped together, in one
 * wipe, and leave no copy; the save_on_stop private keeps its data.
 */
Test(canary, qube_volumes_stopped_together_leave_none)
{
        canary_fixture(&vt, &can, "thin");
        const char *disk = scratch_disk(), *three[] = { "root", "private", "volatile" };
        char log[8192] = "", what[96];
        struct dvm_volume_config tpl = { .size = 48 * MiB, .flags = DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW },
                                 root = { .size = 48 * MiB, .flags = DVM_VOL_SNAP_ON_START | DVM_VOL_RW, .source = "qt/root" },
                                 priv = { .size = 24 * MiB, .flags = DVM_VOL_SAVE_ON_STOP | DVM_VOL_RW },
                                 vola = { .size = 24 * MiB, .flags = DVM_VOL_RW };
        struct dvm_volume_info info;
        dvm_ctx *ctx;
        dvm_pool *pool;
        int res[3], r;

        cr_assert_eq(dvm_ctx_new(vt.state, &ctx), 0, "dvm_ctx_new");
        r = dvm_pool_open(ctx, vt.pool, &pool);
        cr_assert_eq(r, 0, "dvm_pool_open: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert_eq(dvm_volume_create(pool, "qt", "root", &tpl), 0, "create qt/root: %s", dvm_ctx_last_error(ctx));
        cr_assert_eq(dvm_volume_start(pool, "qt", "root", &info), 0, "start qt/root: %s", dvm_ctx_last_error(ctx));
        vt_pattern(info.path, 0, 8 * MiB, 1);
        cr_assert_eq(dvm_volume_stop(pool, "qt", "root"), 0, "stop qt/root: %s", dvm_ctx_last_error(ctx));
        cr_assert_eq(dvm_volume_create(pool, "app", "root", &root), 0, "create: %s", dvm_ctx_last_error(ctx));
        cr_assert_eq(dvm_volume_create(pool, "app", "private", &priv), 0, "create: %s", dvm_ctx_last_error(ctx));
        cr_assert_eq(dvm_volume_create(pool, "app", "volatile", &vola), 0, "create: %s", dvm_ctx_last_error(ctx));
        r = dvm_volumes_start(pool, "app", three, 3, res);
        cr_assert_eq(r, 0, "volumes_start: %d (%s)", r, dvm_ctx_last_error(ctx));

        const char *rdev = vt_dev(&vt, "app", "root"), *pdev = vt_dev(&vt, "app", "private");
        canary_write(rdev, MiB + 4096, 8192, &can);        /* inside a template block */
        canary_write(rdev, 20 * MiB, MiB, &can);           /* fresh blocks */
        canary_write(vt_dev(&vt, "app", "volatile"), 0, MiB, &can);
        vt_pattern(pdev, 0, 4 * MiB, 9);
        snprintf(what, sizeof(what), "qube volumes: canary while running");
        cr_assert_gt(canary_scan(disk, &can, what), 0, "the running root's canary is not on %s: the scan cannot see it",
                     disk);

        dvm_ctx_set_log(ctx, DVM_LOG_INFO, keep_log, log);
        r = dvm_volumes_stop(pool, "app", three, 3, res);
        dvm_ctx_set_log(ctx, DVM_LOG_INFO, NULL, NULL);
        cr_assert_eq(r, 0, "volumes_stop: %d (%s)", r, dvm_ctx_last_error(ctx));
        cr_assert(res[0] == 0 && res[1] == 0 && res[2] == 0, "results %d %d %d", res[0], res[1], res[2]);
        cr_expect(strstr(log, "wiped 2 volume(s)") && !strstr(log, "wiped 1 volume(s)"),
                  "root and volatile were not wiped in one wipe:\n%s", log);
        snprintf(what, sizeof(what), "qube volumes: canary after they stopped together");
        uint64_t n = canary_scan(disk, &can, what);
        cr_expect_eq(n, 0, "%llu copies of the canary on %s after the qube's volumes stopped", (unsigned long long)n,
                     disk);
        cr_assert_eq(dvm_volume_start(pool, "app", "private", &info), 0, "start app/private: %s",
                     dvm_ctx_last_error(ctx));
        cr_expect(vt_has_pattern(info.path, 0, 4 * MiB, 9), "app/private lost what it committed");
        cr_assert_eq(dvm_volume_stop(pool, "app", "private"), 0, "stop app/private: %s", dvm_ctx_last_error(ctx));
        dvm_pool_close(pool);
        dvm_ctx_free(ctx);
}
