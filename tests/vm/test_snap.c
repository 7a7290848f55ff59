// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, snap backend only: our COW reader against what the kernel really wrote, the
 * backend's owned ranges, COW exhaustion (only that disposable suffers), a full-size COW
 * that never fills, shared origin loops, a thin and a snap pool side by side, and the
 * refused pool options. Witnesses: dmsetup, losetup, the pool's files.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "format/cow.h"
#include "lifecycle/volume.h"
#include "store/catalog_volume.h"
#include "vmtest.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
static struct vt vt, vt2;

static void teardown(void)
{
        int st;
        char *out;

        vt_cleanup(&vt);
        vt_cleanup(&vt2);
        /* the ext4 some tests mount at the state directory, after its files went */
        if (vt.pool[0]) {
                out = vt_sh(&st, "if mountpoint -q %s; then umount %s; fi; rm -rf %s %s.ext4", vt.state, vt.state,
                            vt.state, vt.state);
                free(out);
        }
}

TestSuite(snap, .init = vt_require_dm, .fini = teardown, .timeout = 600);

#define CLI_OK(t, ...) VT_CLI_OK(t, __VA_ARGS__)

/* TemplateVM "tmpl" (64M root with pattern 1 in its first 8 MiB, 32M private) and DVM Template "dvm". */
static void make_templates(struct vt *t)
{
        CLI_OK(t, "template", "create", "tmpl", "--root-size", "64M", "--private-size", "32M");
        CLI_OK(t, "start", "tmpl");
        vt_pattern(vt_dev(t, "tmpl", "root"), 0, 8 * MiB, 1);
        CLI_OK(t, "stop", "tmpl");
        CLI_OK(t, "dvm", "create", "dvm", "--template", "tmpl");
}

/* The --json info of @vm, parsed; the caller puts it. */
static json_object *info_json(struct vt *t, const char *vm)
{
        struct vt_run r = vt_cli(t, "--json", "info", vm, NULL);
        cr_assert_eq(r.status, 0, "info %s: exit %d: %s", vm, r.status, r.err);
        json_object *o = json_tokener_parse(r.out);
        cr_assert(o, "info %s: not JSON:\n%s", vm, r.out);
        vt_run_free(&r);
        return o;
}

static json_object *volume_of(json_object *o, const char *vol)
{
        json_object *vols = json_object_object_get(o, "volumes");
        for (size_t i = 0; i < json_object_array_length(vols); i++) {
                json_object *v = json_object_array_get_idx(vols, i);
                if (strcmp(json_object_get_string(json_object_object_get(v, "name")), vol) == 0)
                        return v;
        }
        cr_assert_fail("no volume %s in:\n%s", vol, json_object_to_json_string(o));
        return NULL;
}

static int64_t layer_id(struct vt *t, const char *vm, const char *vol)
{
        json_object *o = info_json(t, vm);
        int64_t id = json_object_get_int64(json_object_object_get(volume_of(o, vol), "thin_id"));
        json_object_put(o);
        return id;
}

static void file_of(struct vt *t, int64_t id, const char *suffix, char *buf, size_t len)
{
        snprintf(buf, len, "%s/%s/%lld%s", t->state, t->pool, (long long)id, suffix);
}

struct write {
        uint64_t off, len;
};

/* Over template data, past it, one chunk alone, a partial chunk, and 300 chunks every other
 * chunk from 32 MiB on: with 4 KiB chunks (256 exceptions per area) that fills area 0. */
static const struct write writes[] = {
        { 0, 64 * KiB }, { 2 * MiB + 4 * KiB, 12 * KiB }, { 20 * MiB, 4 * KiB }, { 24 * MiB + 1024, 512 },
};
#define SPREAD_FROM (32 * MiB)
#define SPREAD_N 300

static int cmp_ext(const void *a, const void *b)
{
        const struct extent *x = a, *y = b;
        return (x->offset > y->offset) - (x->offset < y->offset);
}

/* The chunk-rounded ranges the writes above touch, merged. */
static void expected_ranges(uint64_t chunk, struct extent_list *want)
{
        struct extent e[ARRAY_SIZE(writes) + SPREAD_N];
        size_t n = 0;

        for (size_t i = 0; i < ARRAY_SIZE(writes); i++) {
                uint64_t s = writes[i].off / chunk * chunk;
                e[n++] = (struct extent){ s, (writes[i].off + writes[i].len + chunk - 1) / chunk * chunk - s };
        }
        for (int i = 0; i < SPREAD_N; i++)
                e[n++] = (struct extent){ SPREAD_FROM + (uint64_t)i * 2 * chunk, chunk };
        qsort(e, n, sizeof(e[0]), cmp_ext);
        for (size_t i = 0; i < n; i++)
                cr_assert_eq(extent_add(want, e[i].offset, e[i].length), 0, "extent_add");
}

static void assert_same_ranges(const char *what, const struct extent *got, size_t n_got, const struct extent_list *want)
{
        cr_assert_eq(n_got, want->n, "%s: %zu ranges, want %zu (first %llu+%llu)", what, n_got, want->n,
                     n_got ? (unsigned long long)got[0].offset : 0ULL, n_got ? (unsigned long long)got[0].length : 0ULL);
        for (size_t i = 0; i < n_got; i++)
                cr_assert(got[i].offset == want->v[i].offset && got[i].length == want->v[i].length,
                          "%s: range %zu is %llu+%llu, want %llu+%llu", what, i, (unsigned long long)got[i].offset,
                          (unsigned long long)got[i].length, (unsigned long long)want->v[i].offset,
                          (unsigned long long)want->v[i].length);
}

/* The backend's owned op on the running layer of @vm/@vol, through the library. */
static void owned_ranges(struct vt *t, const char *vm, const char *vol, struct extent_list *ret)
{
        dvm_ctx *ctx;
        dvm_pool *pool;
        struct cat_volume v;
        char name[VOLUME_DM_NAME_MAX];

        cr_assert_eq(dvm_ctx_new(t->state, &ctx), 0, "dvm_ctx_new");
        int r = dvm_pool_open(ctx, t->pool, &pool);
        cr_assert_eq(r, 0, "pool open: %d %s", r, dvm_ctx_last_error(ctx));
        cr_assert_eq(catalog_volume_get(pool->cat, vm, vol, &v), 0, "no volume %s/%s", vm, vol);
        struct layer l = volume_running_layer(&v);
        r = pool->ops->owned(pool, volume_dm_name(pool, vm, vol, name, sizeof(name)), &l, ret);
        cr_assert_eq(r, 0, "owned %s/%s: %d %s", vm, vol, r, dvm_ctx_last_error(ctx));
        dvm_pool_close(pool);
        dvm_ctx_free(ctx);
}

Test(snap, cow_reader_agrees_with_kernel)
{
        enum { CHUNK = 4096 };
        struct extent_list want = {}, owned = {}, vol_owned = {};
        struct cow_changes *ch = NULL;
        struct cow_usage u;
        char cow[256], *status;
        int st;

        vt_init_backend(&vt, "snap", "--chunk-size", "4K", NULL);
        make_templates(&vt);
        CLI_OK(&vt, "spawn", "dvm", "--name", "d1");
        const char *root = vt_dev(&vt, "d1", "root"), *volatile_dev = vt_dev(&vt, "d1", "volatile");
        for (size_t i = 0; i < ARRAY_SIZE(writes); i++)
                vt_pattern(root, writes[i].off, writes[i].len, 10 + (uint32_t)i);
        for (int i = 0; i < SPREAD_N; i++)
                vt_pattern(root, SPREAD_FROM + (uint64_t)i * 2 * CHUNK, CHUNK, 500 + (uint32_t)i);
        vt_pattern(volatile_dev, 0, 12 * KiB, 3);
        vt_pattern(volatile_dev, 40 * MiB, 1 * MiB, 4);
        expected_ranges(CHUNK, &want);

        /* suspended: the kernel has committed every exception, and its status is final */
        free(vt_sh(&st, "dmsetup suspend DVM-%s-d1-root", vt.pool));
        cr_assert_eq(st, 0, "suspend");
        status = vt_sh(&st, "dmsetup status DVM-%s-d1-root | awk '{print $4, $5}'", vt.pool);
        /* a disposable's store is under an ephemeral key: it reads through its crypt device */
        snprintf(cow, sizeof(cow), "/dev/mapper/DVM-%s-cow-%lld", vt.pool, (long long)layer_id(&vt, "d1", "root"));
        int fd = open(cow, O_RDONLY | O_CLOEXEC);
        uint64_t size;
        cr_assert(fd >= 0 && cow_file_size(fd, &size) == 0, "open %s: %m", cow);
        int r = cow_usage(fd, size, &u);
        cr_assert_eq(r, 0, "cow_usage %s: %d", cow, r);
        char mine[96];
        snprintf(mine, sizeof(mine), "%llu/%llu %llu\n", (unsigned long long)u.sectors_allocated,
                 (unsigned long long)u.total_sectors, (unsigned long long)u.metadata_sectors);
        cr_assert_str_eq(mine, status, "our reader says %s, the kernel %s", mine, status);
        cr_assert_eq(u.exceptions, extent_total(&want) / CHUNK, "exceptions: %llu, want %llu",
                     (unsigned long long)u.exceptions, (unsigned long long)(extent_total(&want) / CHUNK));
        cr_assert_eq(u.areas, 2, "the writes should fill area 0 and start area 1: %llu areas",
                     (unsigned long long)u.areas);
        free(status);
        free(vt_sh(&st, "dmsetup resume DVM-%s-d1-root", vt.pool));
        cr_assert_eq(st, 0, "resume");

        r = cow_changed_ranges(fd, size, 64 * MiB, &ch);
        cr_assert_eq(r, 0, "cow_changed_ranges: %d", r);
        assert_same_ranges("COW extents", (const struct extent *)ch->extents, ch->n_extents, &want);
        /* each mapping's bytes in the store are what the snapshot shows at its origin offset */
        int dev = open(root, O_RDONLY | O_CLOEXEC);
        cr_assert(dev >= 0, "open %s: %m", root);
        for (size_t i = 0; i < ch->n_mappings; i++) {
                const struct cow_mapping *m = &ch->mappings[i];
                char *a = malloc(m->length), *b = malloc(m->length);
                cr_assert(pread(fd, a, m->length, (off_t)m->cow_offset) == (ssize_t)m->length &&
                                  pread(dev, b, m->length, (off_t)m->origin_offset) == (ssize_t)m->length,
                          "read mapping %zu: %m", i);
                cr_assert(memcmp(a, b, m->length) == 0, "mapping %zu (origin %llu, COW %llu, %llu bytes): the store "
                          "holds other data than the snapshot shows", i, (unsigned long long)m->origin_offset,
                          (unsigned long long)m->cow_offset, (unsigned long long)m->length);
                free(a);
                free(b);
        }
        close(dev);
        close(fd);
        cow_changes_free(ch);

        owned_ranges(&vt, "d1", "root", &owned);
        assert_same_ranges("owned root", owned.v, owned.n, &want);
        owned_ranges(&vt, "d1", "volatile", &vol_owned);
        struct extent_list vwant = {};
        extent_add(&vwant, 0, 12 * KiB);
        extent_add(&vwant, 40 * MiB, MiB);
        assert_same_ranges("owned volatile", vol_owned.v, vol_owned.n, &vwant);
        extent_list_free(&want);
        extent_list_free(&owned);
        extent_list_free(&vol_owned);
        extent_list_free(&vwant);
}

Test(snap, cow_exhaustion_harms_only_that_disposable)
{
        int st;

        vt_init_backend(&vt, "snap", "--cow-percent", "10", NULL);
        make_templates(&vt);
        char *before = vt_layers(&vt);
        CLI_OK(&vt, "spawn", "dvm", "--name", "full");
        CLI_OK(&vt, "spawn", "dvm", "--name", "other");
        /* 10% of 64 MiB is 6.4 MiB of changes: 16 MiB cannot fit */
        char *out = vt_sh(&st, "dd if=/dev/urandom of=%s bs=1M count=16 oflag=direct 2>&1", vt_dev(&vt, "full", "root"));
        cr_assert_neq(st, 0, "writing 16 MiB into a 6.4 MiB COW succeeded: %s", out);
        free(out);
        out = vt_sh(&st, "dmsetup status DVM-%s-full-root | awk '{print $4}'", vt.pool);
        cr_assert_str_eq(out, "Invalid\n", "kernel status of the full snapshot: %s", out);
        free(out);
        out = vt_sh(&st, "dd if=%s of=/dev/null bs=4k count=1 iflag=direct 2>&1", vt_dev(&vt, "full", "root"));
        cr_assert_neq(st, 0, "an invalidated snapshot still reads: %s", out);
        free(out);

        json_object *o = info_json(&vt, "full"), *v = volume_of(o, "root");
        uint64_t used = json_object_get_uint64(json_object_object_get(v, "cow_used")),
                 size = json_object_get_uint64(json_object_object_get(v, "cow_size"));
        cr_assert(json_object_get_boolean(json_object_object_get(v, "invalid")), "info --json: not invalid:\n%s",
                  json_object_to_json_string(v));
        cr_assert(size > 6 * MiB && size < 8 * MiB && used > size / 2 && used <= size,
                  "info --json: COW %llu of %llu bytes", (unsigned long long)used, (unsigned long long)size);
        cr_assert(!json_object_get_boolean(json_object_object_get(volume_of(o, "private"), "invalid")),
                  "the private snapshot of the same disposable is called invalid");
        json_object_put(o);
        struct vt_run r = vt_cli(&vt, "info", "full", NULL);
        cr_assert(strstr(r.out, "INVALID"), "info does not say INVALID:\n%s", r.out);
        vt_run_free(&r);

        /* the other disposable and the template are untouched */
        const char *oroot = vt_dev(&vt, "other", "root");
        cr_assert(vt_has_pattern(oroot, 0, 8 * MiB, 1), "the other disposable lost the template data");
        vt_pattern(oroot, 2 * MiB, MiB, 77);
        cr_assert(vt_has_pattern(oroot, 2 * MiB, MiB, 77), "the other disposable cannot write");
        o = info_json(&vt, "other");
        cr_assert(!json_object_get_boolean(json_object_object_get(volume_of(o, "root"), "invalid")),
                  "the other disposable is called invalid");
        json_object_put(o);

        CLI_OK(&vt, "destroy", "--wait", "full", "other");
        char *after = vt_layers(&vt);
        cr_assert_str_eq(after, before, "layers after destroying both: %s, before: %s", after, before);
        out = vt_sh(&st, "dmsetup ls | grep -e '^DVM-%s-full-' -e '^DVM-%s-other-' || true", vt.pool, vt.pool);
        cr_assert_str_empty(out, "devices left: %s", out);
        free(out);
        CLI_OK(&vt, "spawn", "dvm", "--name", "later");
        cr_assert(vt_has_pattern(vt_dev(&vt, "later", "root"), 0, 8 * MiB, 1), "the template root changed");
        free(before);
        free(after);
}

Test(snap, full_size_cow_never_fills)
{
        int st;

        vt_init_backend(&vt, "snap", NULL);
        make_templates(&vt);
        CLI_OK(&vt, "spawn", "dvm", "--name", "d1");
        /* every chunk of both snapshots changed: the store sized by cow_store_size() holds them */
        for (const char *const *vol = (const char *const[]){ "root", "private", NULL }; *vol; vol++) {
                char *out = vt_sh(&st, "dd if=/dev/zero of=%s bs=1M oflag=direct 2>&1 | grep -v 'No space left'; "
                                       "dmsetup status DVM-%s-d1-%s | awk '{print $4}'",
                                  vt_dev(&vt, "d1", *vol), vt.pool, *vol);
                cr_assert(strchr(out, '/') && !strstr(out, "Invalid") && !strstr(out, "error"),
                          "%s filled up: %s", *vol, out);
                free(out);
        }
}

Test(snap, origin_loops_are_shared_and_go_with_their_users)
{
        int st;
        char img[256];

        vt_init_backend(&vt, "snap", NULL);
        make_templates(&vt);
        file_of(&vt, layer_id(&vt, "tmpl", "root"), ".img", img, sizeof(img));
        for (int i = 0; i < 3; i++)
                CLI_OK(&vt, "spawn", "dvm");
        char *loops = vt_sh(&st, "losetup -nO NAME,RO -j %s", img);
        cr_assert_eq(vt_count_lines(loops), 1, "loops on the template root image (want one, read-only): %s", loops);
        cr_assert(strstr(loops, " 1\n") || strstr(loops, "  1\n"), "the origin loop is not read-only: %s", loops);
        free(loops);
        CLI_OK(&vt, "destroy", "--wait", "disp1", "disp2", "disp3");
        loops = vt_loops(&vt);
        cr_assert_str_empty(loops, "loops left after the last disposable went: %s", loops);
        free(loops);
}

Test(snap, thin_and_snap_pools_side_by_side)
{
        int st;

        vt_init_backend(&vt, "thin", NULL);
        /* a second pool in the same state directory */
        vt2 = vt;
        cr_assert(strlen(vt.pool) + 2 < sizeof(vt2.pool), "pool name %s too long", vt.pool);
        memcpy(vt2.pool + strlen(vt.pool), "_s", 3);
        snprintf(vt2.backend, sizeof(vt2.backend), "snap");
        CLI_OK(&vt2, "pool", "init", "--backend", "snap");
        make_templates(&vt);
        make_templates(&vt2);
        char *thin_before = vt_layers(&vt), *snap_before = vt_layers(&vt2);

        CLI_OK(&vt, "spawn", "dvm", "--name", "a");
        CLI_OK(&vt2, "spawn", "dvm", "--name", "a");
        vt_pattern(vt_dev(&vt, "a", "root"), 0, MiB, 21);
        vt_pattern(vt_dev(&vt2, "a", "root"), 0, MiB, 22);
        cr_assert(vt_has_pattern(vt_dev(&vt, "a", "root"), 0, MiB, 21), "thin disposable lost its write");
        cr_assert(vt_has_pattern(vt_dev(&vt2, "a", "root"), 0, MiB, 22), "snap disposable lost its write");
        cr_assert(vt_has_pattern(vt_dev(&vt2, "a", "root"), MiB, 7 * MiB, 1), "snap disposable: template data");

        struct vt_run r = vt_cli(&vt, "pool", "list", NULL);
        char want[128];
        snprintf(want, sizeof(want), "%s\n%s\n", vt.pool, vt2.pool);
        cr_assert_str_eq(r.out, want, "pool list: %s", r.out);
        vt_run_free(&r);
        r = vt_cli(&vt2, "pool", "info", NULL);
        cr_assert(strstr(r.out, "(snap, active)"), "pool info of the snap pool:\n%s", r.out);
        vt_run_free(&r);

        CLI_OK(&vt, "destroy", "--wait", "a");
        cr_assert(vt_has_pattern(vt_dev(&vt2, "a", "root"), 0, MiB, 22), "destroying the thin one hurt the snap one");
        CLI_OK(&vt2, "destroy", "--wait", "a");
        char *thin_after = vt_layers(&vt), *snap_after = vt_layers(&vt2);
        cr_assert_str_eq(thin_after, thin_before, "thin layers: %s, before %s", thin_after, thin_before);
        cr_assert_str_eq(snap_after, snap_before, "snap layers: %s, before %s", snap_after, snap_before);
        char *devs = vt_sh(&st, "dmsetup ls | grep -e '^DVM-%s-' || true", vt2.pool);
        cr_assert_str_empty(devs, "snap devices left: %s", devs);
        free(devs);
        free(thin_before);
        free(snap_before);
        free(thin_after);
        free(snap_after);
}

/* On a file system with direct I/O (ext4) the layer loops use it; on tmpfs (every other
 * test here) LOOP_CONFIGURE refuses it and the loops run buffered. */
Test(snap, loops_use_direct_io_where_the_file_system_has_it)
{
        int st;

        vt_init(&vt, NULL);
        free(vt_sh(&st, "mkdir -p %s && truncate -s 1G %s.ext4 && mkfs.ext4 -q %s.ext4 && mount -o loop %s.ext4 %s",
                   vt.state, vt.state, vt.state, vt.state, vt.state));
        cr_assert_eq(st, 0, "an ext4 at %s", vt.state);
        snprintf(vt.backend, sizeof(vt.backend), "snap");
        CLI_OK(&vt, "pool", "init", "--backend", "snap");
        make_templates(&vt);
        CLI_OK(&vt, "spawn", "dvm", "--name", "d1");
        char *loops = vt_sh(&st, "losetup -nO DIO,BACK-FILE | grep -E '%s/.*/[0-9]+\\.(img|cow)$' | sort", vt.state);
        /* origins of root and private, their two COW stores, the volatile image */
        cr_assert_eq(vt_count_lines(loops), 5, "layer loops: %s", loops);
        cr_assert(!strstr(loops, "0 /"), "a layer loop without direct I/O on ext4:\n%s", loops);
        vt_pattern(vt_dev(&vt, "d1", "root"), MiB, MiB, 5);
        cr_assert(vt_has_pattern(vt_dev(&vt, "d1", "root"), 0, MiB, 1) &&
                          vt_has_pattern(vt_dev(&vt, "d1", "root"), MiB, MiB, 5),
                  "a disposable on direct-I/O loops reads back wrong data");
        CLI_OK(&vt, "destroy", "--wait", "d1");
        free(loops);
}

struct bad_init {
        const char *argv[8];
        const char *says;
};

static const struct bad_init bad_inits[] = {
        { { "--backend", "snap", "--chunk-size", "3K" }, "chunk size 3K is not a power of two" },
        { { "--backend", "snap", "--chunk-size", "96K" }, "not a power of two between 4K and 1M" },
        { { "--backend", "snap", "--chunk-size", "2M" }, "between 4K and 1M" },
        { { "--backend", "snap", "--cow-percent", "0" }, "--cow-percent: \"0\" is not a whole number from 1 to 100" },
        { { "--backend", "snap", "--cow-percent", "101" }, "from 1 to 100" },
        { { "--backend", "snap", "--cow-percent", "-5" }, "from 1 to 100" },
        { { "--backend", "snap", "--cow-percent", "5%" }, "from 1 to 100" },
        { { "--backend", "snap", "--data-size", "1G" }, "are for thin pools" },
        { { "--backend", "snap", "--block-size", "64K" }, "are for thin pools" },
        { { "--chunk-size", "64K" }, "are for snap pools" },
        { { "--backend", "thin", "--cow-percent", "50" }, "are for snap pools" },
        { { "--backend", "snapshot" }, "is not thin, snap or rbd" },
};

Test(snap, bad_pool_options_change_nothing)
{
        vt_init(&vt, NULL);
        for (size_t i = 0; i < ARRAY_SIZE(bad_inits); i++) {
                const char *const *a = bad_inits[i].argv;
                struct vt_run r = vt_cli(&vt, "pool", "init", a[0], a[1], a[2], a[3], a[4], a[5], NULL);
                cr_expect_eq(r.status, 2, "pool init %s %s %s %s: exit %d: %s", a[0], a[1], a[2] ? a[2] : "",
                             a[3] ? a[3] : "", r.status, r.err);
                size_t first = strcspn(r.err, "\n");
                char *hit = strstr(r.err, bad_inits[i].says);
                cr_expect(hit && hit < r.err + first, "pool init %s %s %s %s: want \"%s\" on the first line, got: %s", a[0], a[1], a[2] ? a[2] : "",
                          a[3] ? a[3] : "", bad_inits[i].says, r.err);
                vt_run_free(&r);
                cr_expect(access(vt.state, F_OK) != 0, "case %zu left %s behind", i, vt.state);
        }
}
