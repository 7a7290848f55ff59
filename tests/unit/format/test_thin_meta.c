/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * thin_meta against the thin-provisioning-tools: a pool built with thin_restore from a model
 * (origins, snapshots, snapshot chains, an empty device, a three-level tree), read by us and
 * by thin_dump / thin_delta; devices, mappings and owned blocks must agree with both.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "format/thin_meta.h"
#include "thin_fixture.h"

#define NONE THIN_META_NO_ORIGIN

static const struct tfx_spec specs[] = {
        { .id = 0, .nr_blocks = 40 },                          /* id 0 is a valid thin id */
        { .id = 1, .nr_blocks = 5000, .hole_every = 7 },        /* origin, ~4300 mappings */
        { .id = 2, .snap = true, .origin = 1, .change_every = 97, .drop_every = 331,
          .add_from = 2000, .add_count = 100, .add_stride = 1, .time = 1 },
        { .id = 3, .snap = true, .origin = 1, .add_from = 4900, .add_count = 300,
          .add_stride = 3, .time = 2, .mapped_attr = 12345 },
        { .id = 4 },                                           /* empty */
        { .id = 5, .snap = true, .origin = 2, .change_every = 13, .time = 3 },
        { .id = 100, .nr_blocks = 70000 },                      /* three levels */
        { .id = 101, .snap = true, .origin = 100, .change_every = 1000, .drop_every = 4999,
          .time = 4 },
        { .id = 0xffffff, .add_from = UINT64_C(1) << 32, .add_count = 50, .add_stride = 1000,
          .time = 0xfffffe },
};

static char dir[128], meta[256], err[512];
static struct tfx_pool model;
static struct dvm_ctx ctx;

/* The tests only read the pool: the first worker builds it, the others reuse it. */
static void setup(void)
{
        const char *missing = tfx_tools_missing();
        int r;

        if (missing)
                cr_skip_test("%s not found: install thin-provisioning-tools to run this test",
                             missing);
        r = tfx_build(&model, specs, ARRAY_SIZE(specs));
        cr_assert_eq(r, 0, "building the model: %d", r);
        r = tfx_dir_shared(dir, sizeof(dir));
        cr_assert_eq(r, 0, "shared directory %s: %d", dir, r);
        cr_assert_eq(tfx_restore_once(&model, dir, "meta", 32 << 20, meta, sizeof(meta), err,
                                      sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
        tfx_pool_free(&model);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
        (void)stats;
        tfx_dir_shared_remove();
}

static void dump_all(struct tfx_pool *ret)
{
        cr_assert_eq(tfx_dump(meta, "", ret, err, sizeof(err)), 0, "%s", err);
}

static struct thin_meta *open_meta(unsigned flags)
{
        struct thin_meta *m = NULL;
        int r = thin_meta_open(&ctx, meta, flags, &m);

        cr_assert_eq(r, 0, "open %s: %d (%s)", meta, r, ctx.last_error);
        return m;
}

Test(thin_meta, devices_and_superblock, .init = setup, .fini = teardown, .timeout = 60)
{
        _cleanup_(thin_meta_freep) struct thin_meta *m = open_meta(0);
        _cleanup_free_ struct thin_meta_device *devs = NULL;
        _cleanup_(tfx_pool_free) struct tfx_pool dump = { 0 };
        struct thin_meta_info info;
        int n = thin_meta_list_devices(m, &devs);

        dump_all(&dump);
        thin_meta_get_info(m, &info);
        cr_expect_eq(info.transaction_id, dump.transaction, "transaction %" PRIu64 ", dump %"
                     PRIu64, info.transaction_id, dump.transaction);
        cr_expect_eq(info.time, dump.time, "time %" PRIu32 ", dump %" PRIu32, info.time,
                     dump.time);
        cr_expect_eq(info.data_block_size, dump.data_block_size, "block size %" PRIu32,
                     info.data_block_size);
        cr_expect_eq(info.nr_data_blocks, dump.nr_data_blocks, "data blocks %" PRIu64 ", dump %"
                     PRIu64, info.nr_data_blocks, dump.nr_data_blocks);
        cr_expect_eq(info.held_root, 0, "held root %" PRIu64, info.held_root);
        cr_expect_eq(info.metadata_nr_blocks, (32 << 20) / 4096, "metadata blocks %" PRIu64,
                     info.metadata_nr_blocks);
        cr_expect(!info.snapshot, "read through a snapshot");
        cr_assert_eq(n, (int)dump.n, "%d devices, thin_dump lists %zu (%s)", n, dump.n,
                     ctx.last_error);
        for (int i = 0; i < n; i++) {
                const struct tfx_device *w = &dump.devs[i];
                struct thin_meta_device one;

                cr_expect(devs[i].id == w->id && devs[i].mapped_blocks == w->mapped_attr &&
                          devs[i].transaction_id == w->transaction &&
                          devs[i].creation_time == w->creation_time &&
                          devs[i].snapshotted_time == w->snap_time,
                          "device %d: got id %" PRIu64 " mapped %" PRIu64 " trans %" PRIu64
                          " ctime %" PRIu32 " stime %" PRIu32 "; thin_dump: %" PRIu64 " %"
                          PRIu64 " %" PRIu64 " %" PRIu32 " %" PRIu32, i, devs[i].id,
                          devs[i].mapped_blocks, devs[i].transaction_id, devs[i].creation_time,
                          devs[i].snapshotted_time, w->id, w->mapped_attr, w->transaction,
                          w->creation_time, w->snap_time);
                cr_assert_eq(thin_meta_get_device(m, w->id, &one), 0, "lookup %" PRIu64, w->id);
                cr_expect(memcmp(&one, &devs[i], sizeof(one)) == 0, "lookup of %" PRIu64
                          " differs from the list: mapped %" PRIu64, w->id, one.mapped_blocks);
        }
}

Test(thin_meta, mappings_match_thin_dump, .init = setup, .fini = teardown, .timeout = 60)
{
        _cleanup_(thin_meta_freep) struct thin_meta *m = open_meta(0);
        _cleanup_(tfx_pool_free) struct tfx_pool dump = { 0 };

        dump_all(&dump);
        cr_assert_eq(dump.n, model.n, "thin_dump lists %zu devices, model %zu", dump.n, model.n);
        for (size_t i = 0; i < dump.n; i++) {
                cr_assert_eq(dump.devs[i].mapped_blocks, model.devs[i].mapped_blocks,
                             "dev %" PRIu64 ": thin_dump has %" PRIu64 " mappings, model %"
                             PRIu64, dump.devs[i].id, dump.devs[i].mapped_blocks,
                             model.devs[i].mapped_blocks);
                cr_assert_eq(tfx_check_mappings(m, &dump.devs[i], err, sizeof(err)), 0,
                             "%s (%s)", err, ctx.last_error);
        }
}

/* A block device is read with O_DIRECT: every buffer must be block aligned. */
Test(thin_meta, o_direct, .init = setup, .fini = teardown, .timeout = 60)
{
        _cleanup_(thin_meta_freep) struct thin_meta *m = NULL;
        _cleanup_close_ int fd = open(meta, O_RDONLY | O_CLOEXEC | O_DIRECT);
        int r;

        if (fd < 0 && errno == EINVAL)
                cr_skip_test("%s does not support O_DIRECT", dir);
        cr_assert_geq(fd, 0, "open O_DIRECT: %m");
        r = thin_meta_open_fd(&ctx, fd, NULL, 0, &m);
        cr_assert_eq(r, 0, "open: %d (%s)", r, ctx.last_error);
        for (size_t i = 0; i < model.n; i++)
                cr_assert_eq(tfx_check_mappings(m, &model.devs[i], err, sizeof(err)), 0,
                             "%s (%s)", err, ctx.last_error);
}

Test(thin_meta, multi_level_tree, .init = setup, .fini = teardown)
{
        uint8_t sb[TFX_BLOCK], v[8];
        _cleanup_free_ uint8_t *buf = aligned_alloc(TFX_BLOCK, TFX_BLOCK);
        _cleanup_close_ int fd = open(meta, O_RDONLY | O_CLOEXEC);
        struct btree_dev d = { .fd = fd, .nr_blocks = (32 << 20) / TFX_BLOCK, .name = meta };
        struct btree_node n = { .leaf = false };
        uint64_t blocknr;
        int depth = 0;

        cr_assert_eq(tfx_block_read(meta, 0, sb), 0);
        cr_assert_eq(btree_lookup(&d, tfx_get64(sb, TFX_SB_MAPPING_ROOT), 100, 8, v), 0);
        for (blocknr = get_le64(v); !n.leaf; blocknr = get_le64(btree_value(&n, 0))) {
                cr_assert_eq(btree_read_node(&d, blocknr, 8, buf, &n), 0, "node %" PRIu64,
                             blocknr);
                depth++;
        }
        cr_assert_geq(depth, 3, "device 100's tree has %d levels; the test wants 3", depth);
}

Test(thin_meta, missing_things, .init = setup, .fini = teardown)
{
        _cleanup_(thin_meta_freep) struct thin_meta *m = open_meta(0);
        struct thin_meta *none = NULL;
        struct thin_meta_device dev = { .id = 77 };
        struct thin_meta_iter it = { 0 };
        struct thin_meta_extents e = { 0 };
        int r;

        r = thin_meta_get_device(m, 6, &dev);
        cr_expect_eq(r, -ENOENT, "lookup of a missing device: %d", r);
        cr_expect_eq(dev.id, 77, "untouched on failure, id %" PRIu64, dev.id);
        r = thin_meta_iter_init(m, 0x1000000, &it);
        cr_expect_eq(r, -ENOENT, "walk of a missing device: %d", r);
        cr_expect_null(it.meta, "iterator touched on failure");
        r = thin_meta_owned(m, 2, 99, &e);
        cr_expect_eq(r, -ENOENT, "owned against a missing origin: %d", r);
        cr_expect_null(e.items, "extents touched on failure");
        r = thin_meta_open(&ctx, meta, THIN_META_HELD_ROOT, &none);
        cr_expect_eq(r, -ENOENT, "held root without a snapshot: %d", r);
        cr_expect(strstr(ctx.last_error, "reserve_metadata_snap"), "message: %s",
                  ctx.last_error);
        cr_expect_null(none, "handle set on failure");
        r = thin_meta_open(&ctx, "/nonexistent/meta", 0, &none);
        cr_expect_eq(r, -ENOENT, "open of a missing file: %d", r);
        r = thin_meta_open(NULL, "/tmp", 0, &none);
        cr_expect_eq(r, -EINVAL, "open of a directory: %d", r);
}

struct owned_case {
        uint64_t id, origin;
};

static const struct owned_case owned_cases[] = {
        { 2, 1 }, { 3, 1 }, { 5, 2 }, { 5, 1 }, { 1, 2 }, { 101, 100 }, { 100, 101 },
        { 1, 1 }, { 4, 1 }, { 2, 4 }, { 0, 1 },
        { 1, NONE }, { 4, NONE }, { 101, NONE }, { 0xffffff, NONE }, { 0, NONE },
};

ParameterizedTestParameters(thin_meta, owned)
{
        return cr_make_param_array(struct owned_case, (void *)owned_cases,
                                   ARRAY_SIZE(owned_cases));
}

/* Our extents, the tools' answer and the model's must be the same blocks. */
ParameterizedTest(const struct owned_case *c, thin_meta, owned, .init = setup,
                  .fini = teardown, .timeout = 60)
{
        _cleanup_(thin_meta_freep) struct thin_meta *m = open_meta(0);
        _cleanup_(thin_meta_extents_free) struct thin_meta_extents e = { 0 };
        _cleanup_free_ struct tfx_block *want = NULL, *tool = NULL;
        struct tfx_device delta = { 0 };
        size_t n_want, n_tool;
        int r;

        if (c->origin == NONE) {
                _cleanup_(tfx_pool_free) struct tfx_pool dump = { 0 };
                char args[64];

                snprintf(args, sizeof(args), "--dev-id %" PRIu64, c->id);
                cr_assert_eq(tfx_dump(meta, args, &dump, err, sizeof(err)), 0, "%s", err);
                cr_assert_eq(dump.n, 1, "thin_dump %s lists %zu devices", args, dump.n);
                n_tool = tfx_expand(&dump.devs[0], &tool);
        } else {
                cr_assert_eq(tfx_delta(meta, "", c->origin, c->id, &delta, err,
                                       sizeof(err)), 0,
                             "%s", err);
                n_tool = tfx_expand(&delta, &tool);
                free(delta.ranges);
        }
        n_want = tfx_owned(tfx_find(&model, c->id),
                           c->origin == NONE ? NULL : tfx_find(&model, c->origin), &want);
        cr_assert_eq(n_tool, n_want, "%" PRIu64 " vs %" PRIu64 ": the tools say %zu blocks, "
                     "the model %zu", c->id, c->origin, n_tool, n_want);
        r = thin_meta_owned(m, c->id, c->origin, &e);
        cr_assert_eq(r, 0, "owned %" PRIu64 " vs %" PRIu64 ": %d (%s)", c->id, c->origin, r,
                     ctx.last_error);
        cr_assert_eq(tfx_check_extents(&e, tool, n_tool, err, sizeof(err)), 0, "%" PRIu64
                     " vs %" PRIu64 ": %s", c->id, c->origin, err);
}
