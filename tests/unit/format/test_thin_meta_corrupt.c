/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * thin_meta on damaged and hostile metadata: flipped bytes, truncation, bad superblock
 * fields, nodes with valid checksums but lying headers, cycles and shared children, and a
 * seeded fuzz loop. Every case must end in the expected error, never a crash or a hang.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "format/thin_meta.h"
#include "thin_fixture.h"

#define META_SIZE (4u << 20)

static const struct tfx_spec specs[] = {
        { .id = 1, .nr_blocks = 3000 },
        { .id = 2, .snap = true, .origin = 1, .change_every = 50, .time = 1 },
        { .id = 3 },
};

/* Where things are in the pristine file. */
struct where {
        uint64_t details, top, dev_root, leaf, last_leaf, nr_blocks;
};

static char dir[128], meta[256], err[512];
static struct where at;
static unsigned error_lines;

static void count_errors(void *userdata, enum dvm_log_level level, const char *msg)
{
        (void)userdata;
        (void)msg;
        error_lines += level == DVM_LOG_ERR;
}

static struct dvm_ctx ctx = { .log_fn = count_errors, .log_max = DVM_LOG_DEBUG };

static void setup(void)
{
        _cleanup_free_ uint8_t *buf = aligned_alloc(TFX_BLOCK, TFX_BLOCK);
        struct tfx_pool model = { 0 };
        const char *missing = tfx_tools_missing();
        _cleanup_close_ int fd = -1;
        struct btree_dev d;
        struct btree_node n;
        uint8_t v[8];
        int r;

        if (missing)
                cr_skip_test("%s not found: install thin-provisioning-tools to run this test",
                             missing);
        cr_assert_eq(tfx_dir_new(dir, sizeof(dir)), 0, "mkdtemp: %m");
        r = tfx_build(&model, specs, ARRAY_SIZE(specs));
        cr_assert_eq(r, 0, "building the model: %d", r);
        r = tfx_restore(&model, dir, "meta", META_SIZE, meta, sizeof(meta), err, sizeof(err));
        tfx_pool_free(&model);
        cr_assert_eq(r, 0, "%s", err);

        fd = open(meta, O_RDONLY | O_CLOEXEC);
        d = (struct btree_dev){ .fd = fd, .nr_blocks = META_SIZE / TFX_BLOCK, .name = meta };
        cr_assert_eq(tfx_block_read(meta, 0, buf), 0);
        at.nr_blocks = META_SIZE / TFX_BLOCK;
        at.details = tfx_get64(buf, TFX_SB_DETAILS_ROOT);
        at.top = tfx_get64(buf, TFX_SB_MAPPING_ROOT);
        cr_assert_eq(btree_lookup(&d, at.top, 1, 8, v), 0, "device 1 not found");
        at.dev_root = get_le64(v);
        cr_assert_eq(btree_read_node(&d, at.dev_root, 8, buf, &n), 0);
        cr_assert(!n.leaf && n.nr_entries >= 3, "device 1's root: leaf %d, %" PRIu32
                  " entries; the cases need an internal node", n.leaf, n.nr_entries);
        at.leaf = get_le64(btree_value(&n, 0));
        at.last_leaf = get_le64(btree_value(&n, n.nr_entries - 1));
}

static void teardown(void)
{
        if (dir[0])
                tfx_dir_remove(dir);
}

enum target { T_SB, T_DETAILS, T_TOP, T_DEV_ROOT, T_LEAF, T_LAST_LEAF };
enum op { OP_OPEN, OP_HELD, OP_LIST, OP_ITER, OP_OWNED };

/* Run @op on the file as it is now. Returns its result (0 or -errno). */
static int run_op(enum op op)
{
        _cleanup_(thin_meta_freep) struct thin_meta *m = NULL;
        _cleanup_(thin_meta_iter_done) struct thin_meta_iter it = { 0 };
        _cleanup_(thin_meta_extents_free) struct thin_meta_extents e = { 0 };
        _cleanup_free_ struct thin_meta_device *devs = NULL;
        struct thin_meta_mapping mp;
        int r = thin_meta_open(&ctx, meta, op == OP_HELD ? THIN_META_HELD_ROOT : 0, &m);

        if (r < 0 || op == OP_OPEN || op == OP_HELD)
                return r;
        if (op == OP_LIST) {
                r = thin_meta_list_devices(m, &devs);
                return r < 0 ? r : 0;
        }
        if (op == OP_OWNED) {
                r = thin_meta_owned(m, 2, 1, &e);
                if (r < 0)
                        cr_expect_null(e.items, "extents set on failure");
                return r;
        }
        r = thin_meta_iter_init(m, 1, &it);
        while (r >= 0 && (r = thin_meta_iter_next(&it, &mp)) > 0)
                ;
        return r;
}

typedef void edit_fn(uint8_t *b);

static void flip(uint8_t *b) { b[100] ^= 0x40; }
static void zero(uint8_t *b) { memset(b, 0, TFX_BLOCK); }
static void magic(uint8_t *b) { tfx_put64(b, TFX_SB_MAGIC, 12345); }
static void version3(uint8_t *b) { tfx_put32(b, TFX_SB_VERSION, 3); }
static void incompat(uint8_t *b) { tfx_put32(b, TFX_SB_INCOMPAT, 1); }
static void mbs16(uint8_t *b) { tfx_put32(b, TFX_SB_METADATA_BLOCK_SIZE, 16); }
static void sb_blocknr(uint8_t *b) { tfx_put64(b, TFX_SB_BLOCKNR, 5); }
static void sb_too_big(uint8_t *b) { tfx_put64(b, TFX_SB_METADATA_NR_BLOCKS, 1u << 20); }
static void dbs0(uint8_t *b) { tfx_put32(b, 336, 0); }
static void held_node(uint8_t *b) { tfx_put64(b, TFX_SB_HELD_ROOT, at.details); }
static void held_far(uint8_t *b) { tfx_put64(b, TFX_SB_HELD_ROOT, UINT64_C(1) << 40); }
static void top_far(uint8_t *b) { tfx_put64(b, TFX_SB_MAPPING_ROOT, at.nr_blocks); }
static void sb_small(uint8_t *b) { tfx_put64(b, TFX_SB_METADATA_NR_BLOCKS, 4); }
static void blocknr(uint8_t *b) { tfx_put64(b, 8, tfx_get64(b, 8) + 1); }
static void flags3(uint8_t *b) { tfx_put32(b, 4, 3); }
static void flags0(uint8_t *b) { tfx_put32(b, 4, 0); }
static void vsize16(uint8_t *b) { tfx_put32(b, 24, 16); }
static void nr_gt_max(uint8_t *b) { tfx_put32(b, 16, get_le32(b + 20) + 1); }
static void max_huge(uint8_t *b) { tfx_put32(b, 20, 1000); }
static void nr0(uint8_t *b) { tfx_put32(b, 16, 0); }
static void swap_keys(uint8_t *b)
{
        uint64_t k0 = tfx_get64(b, 32), k1 = tfx_get64(b, 40);

        tfx_put64(b, 32, k1);
        tfx_put64(b, 40, k0);
}
static uint8_t *value0(uint8_t *b) { return b + 32 + 8 * get_le32(b + 20); }
static void self_loop(uint8_t *b) { tfx_put64(value0(b), 0, at.dev_root); }
static void back_to_root(uint8_t *b) { tfx_put64(value0(b), 8, at.dev_root); }
static void twice(uint8_t *b) { tfx_put64(value0(b), 8, at.leaf); }
static void child_far(uint8_t *b) { tfx_put64(value0(b), 0, UINT64_C(1) << 50); }
static void data_far(uint8_t *b) { tfx_put64(value0(b), 0, UINT64_C(1) << 60); }
static void top_to_details(uint8_t *b) { tfx_put64(value0(b), 0, at.details); }
static void key_huge(uint8_t *b)
{
        tfx_put64(b, 32 + 8 * (get_le32(b + 16) - 1), UINT64_C(1) << 60);
}

enum edit {
        E_NONE,
        E_FLIP,
        E_ZERO,
        E_MAGIC,
        E_VERSION3,
        E_INCOMPAT,
        E_MBS16,
        E_SB_BLOCKNR,
        E_SB_TOO_BIG,
        E_DBS0,
        E_SB_SMALL,
        E_HELD_NODE,
        E_HELD_FAR,
        E_TOP_FAR,
        E_VSIZE16,
        E_TOP_TO_DETAILS,
        E_BLOCKNR,
        E_FLAGS3,
        E_FLAGS0,
        E_NR_GT_MAX,
        E_MAX_HUGE,
        E_SWAP_KEYS,
        E_SELF_LOOP,
        E_BACK_TO_ROOT,
        E_TWICE,
        E_CHILD_FAR,
        E_NR0,
        E_DATA_FAR,
        E_KEY_HUGE,
};

/* Cases cross a process boundary (Criterion re-executes the binary): no pointers in them. */
static edit_fn *const edit_fns[] = {
        [E_FLIP] = flip,
        [E_ZERO] = zero,
        [E_MAGIC] = magic,
        [E_VERSION3] = version3,
        [E_INCOMPAT] = incompat,
        [E_MBS16] = mbs16,
        [E_SB_BLOCKNR] = sb_blocknr,
        [E_SB_TOO_BIG] = sb_too_big,
        [E_DBS0] = dbs0,
        [E_SB_SMALL] = sb_small,
        [E_HELD_NODE] = held_node,
        [E_HELD_FAR] = held_far,
        [E_TOP_FAR] = top_far,
        [E_VSIZE16] = vsize16,
        [E_TOP_TO_DETAILS] = top_to_details,
        [E_BLOCKNR] = blocknr,
        [E_FLAGS3] = flags3,
        [E_FLAGS0] = flags0,
        [E_NR_GT_MAX] = nr_gt_max,
        [E_MAX_HUGE] = max_huge,
        [E_SWAP_KEYS] = swap_keys,
        [E_SELF_LOOP] = self_loop,
        [E_BACK_TO_ROOT] = back_to_root,
        [E_TWICE] = twice,
        [E_CHILD_FAR] = child_far,
        [E_NR0] = nr0,
        [E_DATA_FAR] = data_far,
        [E_KEY_HUGE] = key_huge,
};

struct corrupt_case {
        char name[32];
        enum target target;
        enum edit edit;
        bool reseal;
        uint64_t truncate_to;    /* bytes; 0: keep the size */
        enum op op;
        int err;
        char msg[32];            /* in the error message */
};

static const struct corrupt_case cases[] = {
        { "sb flipped byte", T_SB, E_FLIP, false, 0, OP_OPEN, -EUCLEAN, "checksum" },
        { "sb zeroed", T_SB, E_ZERO, false, 0, OP_OPEN, -EINVAL, "all zeroes" },
        { "sb bad magic", T_SB, E_MAGIC, true, 0, OP_OPEN, -EINVAL, "magic" },
        { "sb bad magic, old csum", T_SB, E_MAGIC, false, 0, OP_OPEN, -EINVAL, "magic" },
        { "sb version 3", T_SB, E_VERSION3, true, 0, OP_OPEN, -EOPNOTSUPP, "version 3" },
        { "sb incompat flag", T_SB, E_INCOMPAT, true, 0, OP_OPEN, -EOPNOTSUPP, "features 0x1" },
        { "sb 8 KiB blocks", T_SB, E_MBS16, true, 0, OP_OPEN, -EOPNOTSUPP, "16 sectors" },
        { "sb wrong blocknr", T_SB, E_SB_BLOCKNR, true, 0, OP_OPEN, -EUCLEAN, "block 5" },
        { "sb larger than file", T_SB, E_SB_TOO_BIG, true, 0, OP_OPEN, -EUCLEAN, "truncated" },
        { "sb data block size 0", T_SB, E_DBS0, true, 0, OP_OPEN, -EUCLEAN, "block size 0" },
        { "truncated file", T_SB, E_NONE, false, 65536, OP_OPEN, -EUCLEAN, "truncated" },
        { "truncated, sb agrees", T_SB, E_SB_SMALL, true, 16384, OP_ITER, -EUCLEAN, "beyond" },
        { "held root is a node", T_SB, E_HELD_NODE, true, 0, OP_HELD, -EINVAL, "magic" },
        { "held root far away", T_SB, E_HELD_FAR, true, 0, OP_HELD, -EUCLEAN, "beyond" },
        { "mapping root far away", T_SB, E_TOP_FAR, true, 0, OP_ITER, -EUCLEAN, "beyond" },
        { "details flipped byte", T_DETAILS, E_FLIP, false, 0, OP_LIST, -EUCLEAN, "checksum" },
        { "details value size", T_DETAILS, E_VSIZE16, true, 0, OP_LIST, -EUCLEAN, "value size" },
        { "top flipped byte", T_TOP, E_FLIP, false, 0, OP_ITER, -EUCLEAN, "checksum" },
        { "top points at details", T_TOP, E_TOP_TO_DETAILS, true, 0, OP_ITER, -EUCLEAN,
          "value size" },
        { "root blocknr", T_DEV_ROOT, E_BLOCKNR, true, 0, OP_ITER, -EUCLEAN, "says it is" },
        { "root flags 3", T_DEV_ROOT, E_FLAGS3, true, 0, OP_ITER, -EUCLEAN, "neither" },
        { "root flags 0", T_DEV_ROOT, E_FLAGS0, true, 0, OP_ITER, -EUCLEAN, "neither" },
        { "root nr > max", T_DEV_ROOT, E_NR_GT_MAX, true, 0, OP_ITER, -EUCLEAN, "do not fit" },
        { "root max too big", T_DEV_ROOT, E_MAX_HUGE, true, 0, OP_ITER, -EUCLEAN, "do not fit" },
        { "root keys swapped", T_DEV_ROOT, E_SWAP_KEYS, true, 0, OP_ITER, -EUCLEAN,
          "out of order" },
        { "root child is itself", T_DEV_ROOT, E_SELF_LOOP, true, 0, OP_ITER, -EUCLEAN,
          "deeper than" },
        { "root child is root", T_DEV_ROOT, E_BACK_TO_ROOT, true, 0, OP_ITER, -EUCLEAN, "btree" },
        { "root child twice", T_DEV_ROOT, E_TWICE, true, 0, OP_ITER, -EUCLEAN, "outside" },
        { "root child far away", T_DEV_ROOT, E_CHILD_FAR, true, 0, OP_ITER, -EUCLEAN, "beyond" },
        { "leaf flipped byte", T_LEAF, E_FLIP, false, 0, OP_ITER, -EUCLEAN, "checksum" },
        { "leaf flipped, owned", T_LEAF, E_FLIP, false, 0, OP_OWNED, -EUCLEAN, "checksum" },
        { "leaf empty", T_LEAF, E_NR0, true, 0, OP_ITER, -EUCLEAN, "empty" },
        { "leaf value size", T_LEAF, E_VSIZE16, true, 0, OP_ITER, -EUCLEAN, "value size" },
        { "leaf keys swapped", T_LEAF, E_SWAP_KEYS, true, 0, OP_ITER, -EUCLEAN, "out of order" },
        { "leaf data block far", T_LEAF, E_DATA_FAR, true, 0, OP_ITER, -EUCLEAN, "data device" },
        { "leaf data far, owned", T_LEAF, E_DATA_FAR, true, 0, OP_OWNED, -EUCLEAN, "data device" },
        { "last leaf key huge", T_LAST_LEAF, E_KEY_HUGE, true, 0, OP_ITER, -EUCLEAN,
          "beyond any device size" },
};

ParameterizedTestParameters(thin_meta_corrupt, cases)
{
        return cr_make_param_array(struct corrupt_case, (void *)cases, ARRAY_SIZE(cases));
}

ParameterizedTest(const struct corrupt_case *c, thin_meta_corrupt, cases, .init = setup,
                  .fini = teardown, .timeout = 30)
{
        const uint64_t blocks[] = { [T_SB] = 0, [T_DETAILS] = at.details, [T_TOP] = at.top,
                                    [T_DEV_ROOT] = at.dev_root, [T_LEAF] = at.leaf,
                                    [T_LAST_LEAF] = at.last_leaf };
        uint8_t b[TFX_BLOCK];
        int r;

        r = run_op(c->op);
        cr_assert_eq(r, c->op == OP_HELD ? -ENOENT : 0, "%s: on the pristine file: %d (%s)",
                     c->name, r, ctx.last_error);
        if (c->edit != E_NONE) {
                cr_assert_eq(tfx_block_read(meta, blocks[c->target], b), 0);
                edit_fns[c->edit](b);
                if (c->reseal)
                        tfx_reseal(b, c->target == T_SB);
                cr_assert_eq(tfx_block_write(meta, blocks[c->target], b), 0);
        }
        if (c->truncate_to)
                cr_assert_eq(truncate(meta, (off_t)c->truncate_to), 0, "truncate: %m");
        ctx.last_error[0] = '\0';
        error_lines = 0;
        r = run_op(c->op);
        cr_assert_eq(r, c->err, "%s: got %d (%s), want %d", c->name, r, ctx.last_error, c->err);
        cr_assert(strstr(ctx.last_error, c->msg), "%s: message \"%s\" lacks \"%s\"", c->name,
                  ctx.last_error, c->msg);
        cr_assert_eq(error_lines, 1, "%s: %u error lines logged, want one", c->name,
                     error_lines);
}

static uint64_t rnd(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

/* Every read path, errors tolerated. Returns how many failed. */
static int exercise(void)
{
        static const uint64_t ids[] = { 1, 2, 3 };
        int failed = 0;

        failed += run_op(OP_OPEN) < 0;
        run_op(OP_HELD);     /* none is held: must fail, cleanly */
        failed += run_op(OP_LIST) < 0;
        failed += run_op(OP_OWNED) < 0;
        for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
                _cleanup_(thin_meta_freep) struct thin_meta *m = NULL;
                _cleanup_(thin_meta_iter_done) struct thin_meta_iter it = { 0 };
                _cleanup_(thin_meta_extents_free) struct thin_meta_extents e = { 0 };
                struct thin_meta_device dev;
                struct thin_meta_mapping mp;
                int r;

                if (thin_meta_open(NULL, meta, 0, &m) < 0)
                        return failed + 1;
                failed += thin_meta_get_device(m, ids[i], &dev) < 0;
                failed += thin_meta_owned(m, ids[i], THIN_META_NO_ORIGIN, &e) < 0;
                r = thin_meta_iter_init(m, ids[i], &it);
                while (r >= 0 && (r = thin_meta_iter_next(&it, &mp)) > 0)
                        ;
                failed += r < 0;
        }
        return failed;
}

/* Random edits of the blocks in use, resealed so that they pass the checksum: the reader
 * must fail cleanly or read something, and always return. */
Test(thin_meta_corrupt, fuzz, .init = setup, .fini = teardown, .timeout = 300)
{
        _cleanup_free_ uint8_t *pristine = NULL;
        /* DVM_FUZZ_RUNS / DVM_FUZZ_SEED: longer or other runs by hand */
        const char *env_runs = getenv("DVM_FUZZ_RUNS"), *env_seed = getenv("DVM_FUZZ_SEED");
        uint64_t seed = (env_seed ? strtoull(env_seed, NULL, 0) + 1 : 1) *
                        UINT64_C(0x9e3779b97f4a7c15);
        unsigned runs = env_runs ? (unsigned)atoi(env_runs) : 1500;
        unsigned failing_runs = 0, fine_runs = 0;
        uint64_t used = 0;
        uint8_t b[TFX_BLOCK];

        for (uint64_t i = 0; i < at.nr_blocks; i++) {
                cr_assert_eq(tfx_block_read(meta, i, b), 0);
                for (size_t j = 0; j < TFX_BLOCK; j++)
                        if (b[j]) {
                                used = i + 1;
                                break;
                        }
        }
        pristine = malloc(used * TFX_BLOCK);
        cr_assert_not_null(pristine);
        for (uint64_t i = 0; i < used; i++)
                cr_assert_eq(tfx_block_read(meta, i, pristine + i * TFX_BLOCK), 0);
        for (unsigned run = 0; run < runs; run++) {
                uint64_t blk = rnd(&seed) % used;
                const uint8_t *orig = pristine + blk * TFX_BLOCK;
                bool node = get_le32(orig) == btree_checksum(orig, BTREE_CSUM_XOR);
                unsigned edits = 1 + rnd(&seed) % 4;

                memcpy(b, orig, TFX_BLOCK);
                for (unsigned k = 0; k < edits; k++) {
                        uint64_t x = rnd(&seed);
                        switch (x % 4) {
                        case 0: /* a header field */
                                b[4 + (x >> 8) % 60] = (uint8_t)(x >> 32);
                                break;
                        case 1: /* anywhere */
                                b[4 + (x >> 8) % (TFX_BLOCK - 4)] ^= (uint8_t)(1u << (x >> 40) % 8);
                                break;
                        case 2: /* a key or value becomes a block in use: cycles, sharing */
                                tfx_put64(b, 32 + 8 * ((x >> 8) % 500), (x >> 32) % used);
                                break;
                        default: /* a small count */
                                tfx_put32(b, 16 + 4 * ((x >> 8) % 3), (uint32_t)(x >> 32) % 300);
                        }
                }
                if (blk == 0 || node)
                        tfx_reseal(b, blk == 0);
                cr_assert_eq(tfx_block_write(meta, blk, b), 0);
                if (exercise())
                        failing_runs++;
                else
                        fine_runs++;
                cr_assert_eq(tfx_block_write(meta, blk, orig), 0);
        }
        cr_log_info("fuzz: %u runs, %u with errors, %u read fine", runs, failing_runs,
                    fine_runs);
        cr_assert_gt(failing_runs, runs / 4, "only %u of %u edits were noticed", failing_runs,
                     runs);
        cr_assert_eq(exercise(), 0, "the restored file fails: %s", ctx.last_error);
}
