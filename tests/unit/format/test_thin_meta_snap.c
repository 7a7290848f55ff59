/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * thin_meta on what only a running kernel makes: a held metadata snapshot (a copy of the
 * superblock at `held_root`, space map roots wiped, as __reserve_metadata_snap() does) and
 * mapping trees that share subtrees between a snapshot and its origin. thin_restore cannot
 * write either, so we edit its output, and thin_dump / thin_delta confirm the result.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "format/thin_meta.h"
#include "thin_fixture.h"

#define HALF (4u << 20)                 /* the old pool goes to the upper half */
#define K ((uint64_t)HALF / TFX_BLOCK)  /* where its blocks land */

enum kind { DETAILS, TOP, BOTTOM };

static const struct tfx_spec old_specs[] = {
        { .id = 1, .nr_blocks = 3000, .hole_every = 5 },
        { .id = 2, .snap = true, .origin = 1, .change_every = 30, .time = 1 },
};

static const struct tfx_spec live_specs[] = {
        { .id = 1, .nr_blocks = 3000, .hole_every = 5 },
        { .id = 2, .snap = true, .origin = 1, .change_every = 30, .drop_every = 7, .time = 1 },
        { .id = 3, .snap = true, .origin = 2, .add_from = 2990, .add_count = 40, .add_stride = 2,
          .time = 2 },
};

static const struct tfx_spec share_specs[] = {
        { .id = 100, .nr_blocks = 40000 },
        { .id = 101, .snap = true, .origin = 100, .change_every = 9000, .time = 1 },
        { .id = 102, .snap = true, .origin = 100, .drop_every = 20000, .change_every = 15000,
          .add_from = 30000, .add_count = 30, .add_stride = 1, .time = 2 },
        { .id = 103, .snap = true, .origin = 100, .time = 3 },
};

static char dir[128], err[512];
static struct dvm_ctx ctx;

static void setup(void)
{
        const char *missing = tfx_tools_missing();

        if (missing)
                cr_skip_test("%s not found: install thin-provisioning-tools to run this test",
                             missing);
        cr_assert_eq(tfx_dir_new(dir, sizeof(dir)), 0, "mkdtemp: %m");
}

static void teardown(void)
{
        if (dir[0])
                tfx_dir_remove(dir);
}

static void restore(const struct tfx_spec *specs, size_t n, uint64_t size, struct tfx_pool *model,
                    const char *name, char *path, size_t path_size)
{
        int r = tfx_build(model, specs, n);

        cr_assert_eq(r, 0, "building the model: %d", r);
        cr_assert_eq(tfx_restore(model, dir, name, size, path, path_size, err, sizeof(err)), 0,
                     "%s", err);
}

static uint32_t nr_entries(const uint8_t *b) { return get_le32(b + 16); }
static size_t value_off(const uint8_t *b, uint32_t i)
{
        return 32 + 8 * get_le32(b + 20) + 8 * i;
}
static bool is_leaf(const uint8_t *b) { return get_le32(b + 4) == 2; }

/* Copy the tree at @blocknr of @from into @to at blocknr + K, pointers moved along. */
static void relocate(const char *from, const char *to, uint64_t blocknr, enum kind kind)
{
        uint8_t b[TFX_BLOCK];

        cr_assert_eq(tfx_block_read(from, blocknr, b), 0);
        tfx_put64(b, 8, blocknr + K);
        for (uint32_t i = 0; i < nr_entries(b) && (!is_leaf(b) || kind == TOP); i++) {
                uint64_t child = tfx_get64(b, value_off(b, i));
                relocate(from, to, child, is_leaf(b) ? BOTTOM : kind);
                tfx_put64(b, value_off(b, i), child + K);
        }
        tfx_reseal(b, false);
        cr_assert_eq(tfx_block_write(to, blocknr + K, b), 0);
}

static void check_pool(struct thin_meta *m, const struct tfx_pool *want, const char *what)
{
        _cleanup_free_ struct thin_meta_device *devs = NULL;
        int n = thin_meta_list_devices(m, &devs);

        cr_assert_eq(n, (int)want->n, "%s: %d devices, want %zu (%s)", what, n, want->n,
                     ctx.last_error);
        for (int i = 0; i < n; i++) {
                cr_assert_eq(devs[i].id, want->devs[i].id, "%s: device %d is %" PRIu64, what,
                             i, devs[i].id);
                cr_assert_eq(tfx_check_mappings(m, &want->devs[i], err, sizeof(err)), 0,
                             "%s: %s", what, err);
        }
}

static void check_owned(struct thin_meta *m, const char *meta, const char *args, uint64_t id,
                        uint64_t origin)
{
        _cleanup_(thin_meta_extents_free) struct thin_meta_extents e = { 0 };
        _cleanup_free_ struct tfx_block *want = NULL;
        struct tfx_device delta;
        size_t n;
        int r;

        cr_assert_eq(tfx_delta(meta, args, origin, id, &delta, err, sizeof(err)), 0, "%s", err);
        n = tfx_expand(&delta, &want);
        free(delta.ranges);
        r = thin_meta_owned(m, id, origin, &e);
        cr_assert_eq(r, 0, "owned %" PRIu64 " vs %" PRIu64 ": %d (%s)", id, origin, r,
                     ctx.last_error);
        cr_assert_eq(tfx_check_extents(&e, want, n, err, sizeof(err)), 0, "%" PRIu64 " vs %"
                     PRIu64 " %s: %s", id, origin, args, err);
}

Test(thin_meta_snap, held_root, .init = setup, .fini = teardown, .timeout = 60)
{
        struct tfx_pool old_model = { 0 }, live_model = { 0 }, dumped = { 0 };
        _cleanup_(thin_meta_freep) struct thin_meta *live = NULL, *snap = NULL;
        char old[256], meta[256];
        struct thin_meta_info info;
        uint8_t sb[TFX_BLOCK];
        int r;

        restore(old_specs, ARRAY_SIZE(old_specs), HALF, &old_model, "old", old, sizeof(old));
        restore(live_specs, ARRAY_SIZE(live_specs), 2 * HALF, &live_model, "live", meta,
                sizeof(meta));

        /* the snapshot: the old pool's trees and superblock copy at K */
        cr_assert_eq(tfx_block_read(old, 0, sb), 0);
        relocate(old, meta, tfx_get64(sb, TFX_SB_DETAILS_ROOT), DETAILS);
        relocate(old, meta, tfx_get64(sb, TFX_SB_MAPPING_ROOT), TOP);
        tfx_put64(sb, TFX_SB_BLOCKNR, K);
        tfx_put64(sb, TFX_SB_DETAILS_ROOT, tfx_get64(sb, TFX_SB_DETAILS_ROOT) + K);
        tfx_put64(sb, TFX_SB_MAPPING_ROOT, tfx_get64(sb, TFX_SB_MAPPING_ROOT) + K);
        tfx_put64(sb, TFX_SB_METADATA_NR_BLOCKS, 2 * K);
        tfx_put64(sb, TFX_SB_TRANS_ID, 41);
        memset(sb + TFX_SB_DATA_SM_ROOT, 0, 256);       /* both space map roots */
        tfx_reseal(sb, true);
        cr_assert_eq(tfx_block_write(meta, K, sb), 0);
        cr_assert_eq(tfx_block_read(meta, 0, sb), 0);
        tfx_put64(sb, TFX_SB_HELD_ROOT, K);
        tfx_reseal(sb, true);
        cr_assert_eq(tfx_block_write(meta, 0, sb), 0);

        /* the tools agree that this is a held snapshot of the old pool */
        cr_assert_eq(tfx_dump(meta, "-m", &dumped, err, sizeof(err)), 0, "%s", err);
        cr_assert_eq(dumped.transaction, 41, "thin_dump -m: transaction %" PRIu64,
                     dumped.transaction);
        cr_assert_eq(dumped.n, old_model.n, "thin_dump -m: %zu devices", dumped.n);

        r = thin_meta_open(&ctx, meta, 0, &live);
        cr_assert_eq(r, 0, "open live: %d (%s)", r, ctx.last_error);
        r = thin_meta_open(&ctx, meta, THIN_META_HELD_ROOT, &snap);
        cr_assert_eq(r, 0, "open snapshot: %d (%s)", r, ctx.last_error);
        thin_meta_get_info(snap, &info);
        cr_expect(info.snapshot && info.held_root == K && info.transaction_id == 41 &&
                  info.nr_data_blocks == live_model.nr_data_blocks,
                  "snapshot info: snapshot %d held_root %" PRIu64 " transaction %" PRIu64
                  " data blocks %" PRIu64, info.snapshot, info.held_root, info.transaction_id,
                  info.nr_data_blocks);
        thin_meta_get_info(live, &info);
        cr_expect(!info.snapshot && info.held_root == K && info.transaction_id == 42,
                  "live info: snapshot %d held_root %" PRIu64 " transaction %" PRIu64,
                  info.snapshot, info.held_root, info.transaction_id);
        check_pool(snap, &old_model, "snapshot");
        check_pool(snap, &dumped, "snapshot vs thin_dump -m");
        check_pool(live, &live_model, "live");
        check_owned(snap, meta, "-m", 2, 1);
        check_owned(live, meta, "", 2, 1);
        check_owned(live, meta, "", 3, 2);
        tfx_pool_free(&old_model);
        tfx_pool_free(&live_model);
        tfx_pool_free(&dumped);
}

/* Make @x's subtree use @y's nodes wherever they hold the same entries, as a kernel
 * snapshot does. Returns the block that now stands for @x; counts shared nodes. */
static uint64_t share(const char *meta, uint64_t x, uint64_t y, unsigned *shared)
{
        uint8_t bx[TFX_BLOCK], by[TFX_BLOCK];
        bool same = true, changed = false;
        uint32_t n;

        cr_assert_eq(tfx_block_read(meta, x, bx), 0);
        cr_assert_eq(tfx_block_read(meta, y, by), 0);
        n = nr_entries(bx);
        /* same kind, count and keys: then the children correspond */
        if (memcmp(bx + 4, by + 4, 4) || memcmp(bx + 16, by + 16, 16) ||
            memcmp(bx + 32, by + 32, 8 * n))
                return x;
        for (uint32_t i = 0; i < n; i++) {
                uint64_t cx = tfx_get64(bx, value_off(bx, i)), cy = tfx_get64(by, value_off(by, i));
                if (!is_leaf(bx)) {
                        uint64_t c = share(meta, cx, cy, shared);
                        if (c != cx) {
                                tfx_put64(bx, value_off(bx, i), c);
                                changed = true;
                        }
                        cx = c;
                }
                same = same && cx == cy;
        }
        if (same) {
                (*shared)++;
                return y;
        }
        if (changed) {
                tfx_reseal(bx, false);
                cr_assert_eq(tfx_block_write(meta, x, bx), 0);
        }
        return x;
}

/* Point @id's entry in the top-level tree (a single leaf here) at @root. */
static void set_device_root(const char *meta, uint64_t top, uint64_t id, uint64_t root)
{
        uint8_t b[TFX_BLOCK];

        cr_assert_eq(tfx_block_read(meta, top, b), 0);
        cr_assert(is_leaf(b), "the top-level tree has more than one level");
        for (uint32_t i = 0; i < nr_entries(b); i++)
                if (tfx_get64(b, 32 + 8 * i) == id)
                        tfx_put64(b, value_off(b, i), root);
        tfx_reseal(b, false);
        cr_assert_eq(tfx_block_write(meta, top, b), 0);
}

Test(thin_meta_snap, shared_subtrees, .init = setup, .fini = teardown, .timeout = 60)
{
        struct tfx_pool model = { 0 }, dumped = { 0 };
        _cleanup_(thin_meta_freep) struct thin_meta *m = NULL;
        _cleanup_(thin_meta_extents_free) struct thin_meta_extents e = { 0 };
        char meta[256];
        uint64_t top, root[4], before, reads_alone, reads_shared;
        unsigned shared = 0;
        uint8_t sb[TFX_BLOCK], v[8];
        int r;

        restore(share_specs, ARRAY_SIZE(share_specs), 2 * HALF, &model, "meta", meta,
                sizeof(meta));
        r = thin_meta_open(&ctx, meta, 0, &m);
        cr_assert_eq(r, 0, "open: %d (%s)", r, ctx.last_error);
        cr_assert_eq(tfx_block_read(meta, 0, sb), 0);
        top = tfx_get64(sb, TFX_SB_MAPPING_ROOT);
        for (int i = 0; i < 4; i++) {
                _cleanup_close_ int fd = open(meta, O_RDONLY | O_CLOEXEC);
                struct btree_dev d = { .fd = fd, .nr_blocks = 2 * K, .name = meta };

                cr_assert_eq(btree_lookup(&d, top, 100 + i, 8, v), 0, "device %d", 100 + i);
                root[i] = get_le64(v);
        }
        cr_assert_eq(share(meta, root[1], root[0], &shared), root[1], "101 became 100");
        cr_assert_eq(share(meta, root[2], root[0], &shared), root[2], "102 became 100");
        cr_assert_gt(shared, 100, "only %u nodes could be shared", shared);
        set_device_root(meta, top, 103, root[0]);

        /* the content is unchanged for the tools and for us */
        cr_assert_eq(tfx_dump(meta, "", &dumped, err, sizeof(err)), 0, "%s", err);
        cr_assert_eq(dumped.n, model.n, "thin_dump lists %zu devices", dumped.n);
        for (size_t i = 0; i < model.n; i++)
                cr_assert_eq(dumped.devs[i].mapped_blocks, model.devs[i].mapped_blocks,
                             "dev %" PRIu64 ": thin_dump has %" PRIu64 " mappings",
                             model.devs[i].id, dumped.devs[i].mapped_blocks);
        check_pool(m, &model, "shared");
        check_owned(m, meta, "", 101, 100);
        check_owned(m, meta, "", 102, 100);
        check_owned(m, meta, "", 100, 102);
        check_owned(m, meta, "", 102, 101);
        check_owned(m, meta, "", 103, 100);

        /* and comparing a snapshot with its origin reads what differs, not everything */
        before = thin_meta_blocks_read(m);
        cr_assert_eq(thin_meta_owned(m, 101, THIN_META_NO_ORIGIN, &e), 0);
        reads_alone = thin_meta_blocks_read(m) - before;
        thin_meta_extents_free(&e);
        before = thin_meta_blocks_read(m);
        cr_assert_eq(thin_meta_owned(m, 101, 100, &e), 0);
        reads_shared = thin_meta_blocks_read(m) - before;
        cr_log_info("%u shared nodes; owned 101 vs 100 read %" PRIu64 " blocks, alone %" PRIu64,
                    shared, reads_shared, reads_alone);
        cr_assert_lt(reads_shared * 4, reads_alone, "owned 101 vs 100 read %" PRIu64
                     " blocks, 101 alone %" PRIu64, reads_shared, reads_alone);
        thin_meta_extents_free(&e);
        before = thin_meta_blocks_read(m);
        cr_assert_eq(thin_meta_owned(m, 103, 100, &e), 0);
        cr_assert_eq(e.n, 0, "103 is 100, yet owns %zu extents", e.n);
        cr_assert_leq(thin_meta_blocks_read(m) - before, 4, "owned 103 vs 100 read %" PRIu64
                      " blocks", thin_meta_blocks_read(m) - before);
        tfx_pool_free(&model);
        tfx_pool_free(&dumped);
}
