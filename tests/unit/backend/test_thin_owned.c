// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * thin_owned_ranges(), the bytes a thin layer owns (what the wipe zeroes), against
 * thin_delta and thin_dump on metadata made by thin_restore: the blocks the tools call
 * right_only or different (all mappings without an origin), as byte ranges of the device,
 * merged, and cut at the device's size.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/thin_owned.h"
#include "thin_fixture.h"

#define NONE THIN_META_NO_ORIGIN
#define BLOCK (128u * 512u) /* tfx_build's data block size */

static const struct tfx_spec specs[] = {
        { .id = 1, .nr_blocks = 3000, .hole_every = 5 },       /* a template's root */
        { .id = 2, .snap = true, .origin = 1, .change_every = 41, .drop_every = 173,
          .add_from = 1500, .add_count = 64, .add_stride = 1, .time = 1 },  /* a disposable */
        { .id = 3, .add_from = 10, .add_count = 200, .add_stride = 3, .time = 2 }, /* a volatile */
        { .id = 4, .snap = true, .origin = 1, .add_from = 2990, .add_count = 30, .add_stride = 1,
          .time = 3 },                                          /* writes past its end */
        { .id = 5, .snap = true, .origin = 1, .time = 4 },      /* untouched snapshot */
};

struct owned_case {
        uint64_t id, origin;
        uint64_t size; /* bytes of the device */
};

static const struct owned_case cases[] = {
        { 2, 1, 3000ULL * BLOCK },
        { 2, 1, 1520ULL * BLOCK + 4096 },      /* cut inside a written block */
        { 2, 1, 512 },                          /* one sector */
        { 3, NONE, 4000ULL * BLOCK },
        { 3, NONE, 300ULL * BLOCK + 1536 },
        { 4, 1, 3000ULL * BLOCK },              /* the blocks past 3000 are not the device's */
        { 4, 1, 3020ULL * BLOCK },
        { 5, 1, 3000ULL * BLOCK },              /* owns nothing */
        { 1, NONE, 3000ULL * BLOCK },           /* an origin owns all it maps */
        { 1, 2, 3000ULL * BLOCK },              /* the other way round */
};

static char dir[128], meta[256], err[512];
static struct tfx_pool model;
static struct dvm_ctx ctx;

static void setup(void)
{
        const char *missing = tfx_tools_missing();
        int r;

        if (missing)
                cr_skip_test("SKIP: %s not found: install thin-provisioning-tools to run this test", missing);
        cr_assert_eq(tfx_dir_new(dir, sizeof(dir)), 0, "mkdtemp: %m");
        r = tfx_build(&model, specs, ARRAY_SIZE(specs));
        cr_assert_eq(r, 0, "building the model: %d", r);
        cr_assert_eq(model.data_block_size * 512u, BLOCK, "the fixture's block is %u sectors", model.data_block_size);
        cr_assert_eq(tfx_restore(&model, dir, "meta", 16 << 20, meta, sizeof(meta), err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
        tfx_pool_free(&model);
        if (dir[0])
                tfx_dir_remove(dir);
}

/* The tools' answer: the blocks of thin_delta (thin_dump without an origin), in bytes. */
static void tools_ranges(const struct owned_case *c, struct extent_list *ret)
{
        struct tfx_device delta = { 0 };
        _cleanup_free_ struct tfx_block *blocks = NULL;
        struct tfx_pool dump = { 0 };
        size_t n;

        if (c->origin == NONE) {
                cr_assert_eq(tfx_dump(meta, "", &dump, err, sizeof(err)), 0, "%s", err);
                n = tfx_expand(tfx_find(&dump, c->id), &blocks);
                tfx_pool_free(&dump);
        } else {
                cr_assert_eq(tfx_delta(meta, "", c->origin, c->id, &delta, err, sizeof(err)), 0, "%s", err);
                n = tfx_expand(&delta, &blocks);
                free(delta.ranges);
        }
        for (size_t i = 0; i < n; i++) {
                uint64_t off = blocks[i].vblock * BLOCK;
                if (off >= c->size)
                        break;
                cr_assert_eq(extent_add(ret, off, MIN((uint64_t)BLOCK, c->size - off)), 0, "extent_add");
        }
}

ParameterizedTestParameters(thin_owned, matches_thin_delta)
{
        return cr_make_param_array(struct owned_case, (void *)cases, ARRAY_SIZE(cases));
}

ParameterizedTest(const struct owned_case *c, thin_owned, matches_thin_delta, .init = setup, .fini = teardown,
                  .timeout = 60)
{
        _cleanup_(thin_meta_freep) struct thin_meta *m = NULL;
        struct extent_list got = {}, want = {};
        int r = thin_meta_open(&ctx, meta, 0, &m);

        cr_assert_eq(r, 0, "open %s: %d (%s)", meta, r, ctx.last_error);
        tools_ranges(c, &want);
        r = thin_owned_ranges(m, c->id, c->origin, c->size, &got);
        cr_assert_eq(r, 0, "%" PRIu64 " over %" PRIu64 ": returned %d (%s)", c->id, c->origin, r, ctx.last_error);
        cr_expect_eq(got.n, want.n, "%" PRIu64 " over %" PRIu64 ", size %" PRIu64 ": %zu ranges, the tools %zu",
                     c->id, c->origin, c->size, got.n, want.n);
        cr_expect_eq(extent_total(&got), extent_total(&want), "%" PRIu64 " over %" PRIu64 ": %" PRIu64
                     " bytes, the tools %" PRIu64, c->id, c->origin, extent_total(&got), extent_total(&want));
        for (size_t i = 0; i < MIN(got.n, want.n); i++)
                cr_expect(got.v[i].offset == want.v[i].offset && got.v[i].length == want.v[i].length,
                          "%" PRIu64 " over %" PRIu64 ": range %zu is %" PRIu64 "+%" PRIu64 ", the tools %" PRIu64
                          "+%" PRIu64, c->id, c->origin, i, got.v[i].offset, got.v[i].length, want.v[i].offset,
                          want.v[i].length);
        for (size_t i = 0; i < got.n; i++)
                cr_expect(got.v[i].offset + got.v[i].length <= c->size, "range %zu ends past the device: %" PRIu64
                          "+%" PRIu64, i, got.v[i].offset, got.v[i].length);
        extent_list_free(&got);
        extent_list_free(&want);
}

Test(thin_owned, missing_device_leaves_result_untouched, .init = setup, .fini = teardown, .timeout = 60)
{
        _cleanup_(thin_meta_freep) struct thin_meta *m = NULL;
        struct extent_list got = {};
        int r = thin_meta_open(&ctx, meta, 0, &m);

        cr_assert_eq(r, 0, "open %s: %d (%s)", meta, r, ctx.last_error);
        r = thin_owned_ranges(m, 77, NONE, 1 << 30, &got);
        cr_expect_eq(r, -ENOENT, "a missing device: returned %d", r);
        r = thin_owned_ranges(m, 2, 77, 1 << 30, &got);
        cr_expect_eq(r, -ENOENT, "a missing origin: returned %d", r);
        cr_expect(got.n == 0 && got.v == NULL, "the result changed on failure: %zu ranges", got.n);
}
