// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of thin_pool.c: the table parameters (exact text, block size bounds, never
 * skip_block_zeroing), status lines as Debian's 6.1 kernel prints them, and malformed ones.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel/thin_pool.h"
#include "util/macro.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* ---- table parameters ----------------------------------------------------------------- */

struct table_case {
        struct thin_pool_table t;
        int ret;          /* the length, or -errno */
        const char *want; /* when ret >= 0 */
};

static const struct table_case table_cases[] = {
        { { 7, 1, 7, 0, 128, 0, false, false, false }, 13, "7:1 7:0 128 0" },
        { { 253, 0, 253, 1, 128, 0, false, false, false }, 17, "253:0 253:1 128 0" },
        { { 7, 3, 7, 2, 256, 1024, false, false, false }, 16, "7:3 7:2 256 1024" },
        { { 259, 1048575, 4095, 1048575, 2097152, UINT64_MAX, false, false, false }, 53,
          "259:1048575 4095:1048575 2097152 18446744073709551615" },
        { { UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, 2097024, 1, false, false, false }, 53,
          "4294967295:4294967295 4294967295:4294967295 2097024 1" },
        /* an in-RAM pool: writes past its data fail at once */
        { { 252, 1, 252, 2, 128, 1638, true, false, false }, 40, "252:1 252:2 128 1638 1 error_if_no_space" },
        /* a disk pool: a VM's discards are refused, so nothing it trims escapes the wipe */
        { { 7, 1, 7, 0, 128, 0, false, true, false }, 30, "7:1 7:0 128 0 1 ignore_discard" },
        { { 252, 1, 252, 2, 128, 1638, true, true, false }, 55, "252:1 252:2 128 1638 2 error_if_no_space ignore_discard" },
        /* a pool whose free blocks read zero (backend/thin_zero.h) */
        { { 7, 1, 7, 0, 128, 0, false, true, true }, 49, "7:1 7:0 128 0 2 ignore_discard skip_block_zeroing" },
        /* block sizes outside 128..2097152 or not a multiple of 128 sectors */
        { { 7, 1, 7, 0, 0, 0, false, false, false }, -EINVAL, NULL },
        { { 7, 1, 7, 0, 64, 0, false, false, false }, -EINVAL, NULL },
        { { 7, 1, 7, 0, 127, 0, false, false, false }, -EINVAL, NULL },
        { { 7, 1, 7, 0, 129, 0, false, false, false }, -EINVAL, NULL },
        { { 7, 1, 7, 0, 192, 0, false, false, false }, -EINVAL, NULL },
        { { 7, 1, 7, 0, 2097151, 0, false, false, false }, -EINVAL, NULL },
        { { 7, 1, 7, 0, 2097280, 0, false, false, false }, -EINVAL, NULL },
        { { 7, 1, 7, 0, 4194304, 0, false, false, false }, -EINVAL, NULL },
        { { 7, 1, 7, 0, UINT64_MAX, 0, false, false, false }, -EINVAL, NULL },
        { { 7, 1, 7, 0, 128ULL << 32, 0, false, false, false }, -EINVAL, NULL },
};

Test(thin_pool_table, params)
{
        for (size_t i = 0; i < ARRAY_SIZE(table_cases); i++) {
                const struct table_case *c = &table_cases[i];
                char buf[128] = "untouched";
                int r = thin_pool_table_params(&c->t, buf, sizeof(buf));

                cr_expect_eq(r, c->ret, "case %zu (block %ju): returned %d, want %d", i,
                             (uintmax_t)c->t.block_sectors, r, c->ret);
                if (c->ret < 0)
                        continue;
                cr_expect_str_eq(buf, c->want, "case %zu: params \"%s\", want \"%s\"", i, buf, c->want);
                cr_expect_eq((size_t)r, strlen(buf), "case %zu: returned %d for \"%s\"", i, r, buf);
        }
}

/* Raw volumes go to untrusted VMs: a new block must never show old data. */
Test(thin_pool_table, never_skips_block_zeroing)
{
        for (uint64_t b = THIN_POOL_BLOCK_MIN; b <= THIN_POOL_BLOCK_MAX; b *= 2) {
                struct thin_pool_table t = { 253, 2, 253, 3, b, b, false, false, false };
                char buf[128];
                int r = thin_pool_table_params(&t, buf, sizeof(buf));

                cr_assert_gt(r, 0, "block %ju: returned %d", (uintmax_t)b, r);
                cr_expect_null(strstr(buf, "skip_block_zeroing"), "block %ju: \"%s\"", (uintmax_t)b, buf);
                cr_expect_null(strstr(buf, "ignore_discard"), "block %ju: \"%s\"", (uintmax_t)b, buf);
                cr_expect_null(strstr(buf, "no_discard_passdown"), "block %ju: \"%s\"", (uintmax_t)b, buf);
        }
}

Test(thin_pool_table, buffer_bounds)
{
        static const struct thin_pool_table t = { 7, 1, 7, 0, 128, 0, false, false, false }; /* "7:1 7:0 128 0" */
        char buf[32];
        int r;

        r = thin_pool_table_params(&t, buf, 14);
        cr_expect_eq(r, 13, "exact fit: returned %d", r);
        cr_expect_str_eq(buf, "7:1 7:0 128 0", "exact fit: \"%s\"", buf);
        r = thin_pool_table_params(&t, buf, 13);
        cr_expect_eq(r, -ENOBUFS, "one byte short: returned %d", r);
        r = thin_pool_table_params(&t, buf, 1);
        cr_expect_eq(r, -ENOBUFS, "1-byte buffer: returned %d", r);
        r = thin_pool_table_params(&t, NULL, 0);
        cr_expect_eq(r, -ENOBUFS, "no buffer: returned %d", r);
}

/* ---- table lines as the kernel shows them ---------------------------------------------- */

struct parse_case {
        const char *line;
        int ret;
        struct thin_pool_table want;
};

static const struct parse_case parse_cases[] = {
        { "7:1 7:0 128 0", 0, { 7, 1, 7, 0, 128, 0, false, false, false } },
        { "253:4 7:3 128 1638 0", 0, { 253, 4, 7, 3, 128, 1638, false, false, false } },
        { "252:1 252:2 128 1638 1 error_if_no_space", 0, { 252, 1, 252, 2, 128, 1638, true, false, false } },
        { "252:1 252:2 2097152 9 2 skip_block_zeroing error_if_no_space", 0,
          { 252, 1, 252, 2, 2097152, 9, true, false, true } },
        { "7:1 7:0 128 0 2 ignore_discard skip_block_zeroing", 0, { 7, 1, 7, 0, 128, 0, false, true, true } },
        { "7:1 7:0 128 0 1 no_discard_passdown", 0, { 7, 1, 7, 0, 128, 0, false, false, false } },
        { "7:1 7:0 128 0 1 ignore_discard", 0, { 7, 1, 7, 0, 128, 0, false, true, false } },
        { "7:1 7:0 128 0 2 ignore_discard error_if_no_space", 0, { 7, 1, 7, 0, 128, 0, true, true, false } },
        { "4294967295:4294967295 0:0 128 18446744073709551615", 0,
          { UINT32_MAX, UINT32_MAX, 0, 0, 128, UINT64_MAX, false, false, false } },
        /* not a thin-pool table */
        { "", -EINVAL, {} },
        { "7:1 7:0 128", -EINVAL, {} },
        { "7:1 7:0 128 x", -EINVAL, {} },
        { "7 7:0 128 0", -EINVAL, {} },
        { "7:1: 7:0 128 0", -EINVAL, {} },
        { "4294967296:1 7:0 128 0", -EINVAL, {} },
        { "7:1 7:0 -128 0", -EINVAL, {} },
        { "7:1 7:0 128 0 2 error_if_no_space", -EINVAL, {} },
        { "7:1 7:0 128 0 0 error_if_no_space", -EINVAL, {} },
        { "7:1 7:0 128 0 x", -EINVAL, {} },
};

Test(thin_pool_table, parse)
{
        for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
                const struct parse_case *c = &parse_cases[i];
                struct thin_pool_table got = { 1, 1, 1, 1, 1, 1, true, false, false }, untouched = got;
                int r = thin_pool_table_parse(c->line, &got);

                cr_expect_eq(r, c->ret, "\"%s\": returned %d, want %d", c->line, r, c->ret);
                if (c->ret < 0) {
                        cr_expect_eq(memcmp(&got, &untouched, sizeof(got)), 0, "\"%s\": table changed on failure",
                                     c->line);
                        continue;
                }
                cr_expect(got.meta_major == c->want.meta_major && got.meta_minor == c->want.meta_minor &&
                          got.data_major == c->want.data_major && got.data_minor == c->want.data_minor,
                          "\"%s\": devices %u:%u %u:%u", c->line, got.meta_major, got.meta_minor, got.data_major,
                          got.data_minor);
                cr_expect(got.block_sectors == c->want.block_sectors && got.low_water_blocks == c->want.low_water_blocks,
                          "\"%s\": block %ju, low water %ju", c->line, (uintmax_t)got.block_sectors,
                          (uintmax_t)got.low_water_blocks);
                cr_expect_eq(got.error_if_no_space, c->want.error_if_no_space, "\"%s\": error_if_no_space %d",
                             c->line, got.error_if_no_space);
                cr_expect_eq(got.ignore_discard, c->want.ignore_discard, "\"%s\": ignore_discard %d", c->line,
                             got.ignore_discard);
                cr_expect_eq(got.skip_block_zeroing, c->want.skip_block_zeroing, "\"%s\": skip_block_zeroing %d",
                             c->line, got.skip_block_zeroing);
        }
        cr_expect_eq(thin_pool_table_parse(NULL, &(struct thin_pool_table){}), -EINVAL, "NULL line accepted");
}

/* What we write, we read back. */
Test(thin_pool_table, round_trip)
{
        for (size_t i = 0; i < ARRAY_SIZE(table_cases); i++) {
                const struct table_case *c = &table_cases[i];
                struct thin_pool_table got;
                char buf[128];
                int r;

                if (c->ret < 0)
                        continue;
                thin_pool_table_params(&c->t, buf, sizeof(buf));
                r = thin_pool_table_parse(buf, &got);
                cr_expect_eq(r, 0, "\"%s\": parse returned %d", buf, r);
                cr_expect_eq(memcmp(&got, &c->t, sizeof(got)), 0, "\"%s\" read back differently", buf);
        }
}

Test(thin_pool_table, block_check)
{
        static const struct {
                uint64_t sectors;
                int ret;
        } cases[] = {
                { 0, -EINVAL },   { 1, -EINVAL },       { 127, -EINVAL },     { 128, 0 },
                { 129, -EINVAL }, { 192, -EINVAL },     { 256, 0 },           { 384, 0 },
                { 2048, 0 },      { 2097088, -EINVAL }, { 2097024, 0 },       { 2097152, 0 },
                { 2097153, -EINVAL }, { 2097280, -EINVAL }, { UINT64_MAX, -EINVAL },
                { UINT64_MAX - 127, -EINVAL },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                int r = thin_pool_block_check(cases[i].sectors);
                cr_expect_eq(r, cases[i].ret, "thin_pool_block_check(%ju) returned %d, want %d",
                             (uintmax_t)cases[i].sectors, r, cases[i].ret);
        }
}

/* ---- status lines --------------------------------------------------------------------- */

struct status_case {
        const char *line;
        int ret;
        struct thin_pool_status want; /* when ret == 0 */
};

#define RW(txn, mu, mt, du, dt) { .transaction_id = txn, .meta_used = mu, .meta_total = mt, \
                                  .data_used = du, .data_total = dt, .held_root = -1 }

/*
 * The kernel's pool_status() (drivers/md/dm-thin.c, 6.1): "<txn> <meta used>/<total>
 * <data used>/<total> <held root|-> rw|ro|out_of_data_space
 * discard_passdown|no_discard_passdown|ignore_discard error_if_no_space|queue_if_no_space
 * needs_check|- <metadata low watermark> " -- with a trailing space -- or "Fail".
 */
static const struct status_case status_cases[] = {
        { "1 105/2048 0/32768 - rw discard_passdown queue_if_no_space - 1024", 0, RW(1, 105, 2048, 0, 32768) },
        { "0 13/4096 0/262144 - rw discard_passdown queue_if_no_space - 1024 ", 0,
          RW(0, 13, 4096, 0, 262144) },
        { "42 4096/4096 262144/262144 - rw no_discard_passdown error_if_no_space - 1024 ", 0,
          RW(42, 4096, 4096, 262144, 262144) },
        { "3 10/2048 5/32768 - rw ignore_discard queue_if_no_space - 1024 ", 0, RW(3, 10, 2048, 5, 32768) },
        /* a held metadata snapshot */
        { "7 130/4096 812/262144 129 rw discard_passdown queue_if_no_space - 1024 ", 0,
          { .transaction_id = 7, .meta_used = 130, .meta_total = 4096, .data_used = 812,
            .data_total = 262144, .held_root = 129 } },
        { "7 130/4096 812/262144 0 rw discard_passdown queue_if_no_space - 1024 ", 0,
          { .transaction_id = 7, .meta_used = 130, .meta_total = 4096, .data_used = 812,
            .data_total = 262144, .held_root = 0 } },
        /* read-only, with and without needs_check */
        { "9 200/2048 300/32768 - ro discard_passdown queue_if_no_space - 1024 ", 0,
          { .transaction_id = 9, .meta_used = 200, .meta_total = 2048, .data_used = 300,
            .data_total = 32768, .held_root = -1, .read_only = true } },
        { "9 200/2048 300/32768 - ro discard_passdown queue_if_no_space needs_check 1024 ", 0,
          { .transaction_id = 9, .meta_used = 200, .meta_total = 2048, .data_used = 300,
            .data_total = 32768, .held_root = -1, .read_only = true, .needs_check = true } },
        { "9 200/2048 300/32768 - rw discard_passdown queue_if_no_space needs_check 1024 ", 0,
          { .transaction_id = 9, .meta_used = 200, .meta_total = 2048, .data_used = 300,
            .data_total = 32768, .held_root = -1, .needs_check = true } },
        /* a full pool */
        { "5 210/2048 32768/32768 - out_of_data_space discard_passdown queue_if_no_space - 1024 ", 0,
          { .transaction_id = 5, .meta_used = 210, .meta_total = 2048, .data_used = 32768,
            .data_total = 32768, .held_root = -1, .out_of_data_space = true } },
        /* the largest numbers */
        { "18446744073709551615 1/18446744073709551615 18446744073709551615/18446744073709551615 "
          "9223372036854775807 rw discard_passdown queue_if_no_space - 1024 ", 0,
          { .transaction_id = UINT64_MAX, .meta_used = 1, .meta_total = UINT64_MAX,
            .data_used = UINT64_MAX, .data_total = UINT64_MAX, .held_root = INT64_MAX } },
        /* only the five fields we read */
        { "1 105/2048 0/32768 - rw", 0, RW(1, 105, 2048, 0, 32768) },
        /* the pool failed */
        { "Fail", 0, { .held_root = -1, .failed = true } },
        { "Fail ", 0, { .held_root = -1, .failed = true } },

        /* malformed */
        { "", -EINVAL, {} },
        { " ", -EINVAL, {} },
        { "Error", -EINVAL, {} },     /* what pool_status() prints when it cannot read metadata */
        { "fail", -EINVAL, {} },
        { "Fail 1", -EINVAL, {} },
        { "1", -EINVAL, {} },
        { "1 105/2048", -EINVAL, {} },
        { "1 105/2048 0/32768 -", -EINVAL, {} },
        { "x 105/2048 0/32768 - rw", -EINVAL, {} },
        { "1x 105/2048 0/32768 - rw", -EINVAL, {} },
        { "1 105 0/32768 - rw", -EINVAL, {} },
        { "1 105/ 0/32768 - rw", -EINVAL, {} },
        { "1 /2048 0/32768 - rw", -EINVAL, {} },
        { "1 105/2048/1 0/32768 - rw", -EINVAL, {} },
        { "1 105/2048x 0/32768 - rw", -EINVAL, {} },
        { "1 105:2048 0/32768 - rw", -EINVAL, {} },
        { "1 105/2048 0/32768 x rw", -EINVAL, {} },
        { "1 105/2048 0/32768 12x rw", -EINVAL, {} },
        { "1 105/2048 0/32768 - rx", -EINVAL, {} },
        { "1 105/2048 0/32768 - RW", -EINVAL, {} },
        { "1 105/2048 0/32768 rw discard_passdown", -EINVAL, {} },
        { "1\t105/2048\t0/32768\t-\trw", -EINVAL, {} },
        /* signs and overflow: sscanf's %llu takes these, the kernel never prints them */
        { "-1 105/2048 0/32768 - rw", -EINVAL, {} },
        { "+1 105/2048 0/32768 - rw", -EINVAL, {} },
        { "1 -105/2048 0/32768 - rw", -EINVAL, {} },
        { "1 105/-2048 0/32768 - rw", -EINVAL, {} },
        { "1 105/2048 0/+32768 - rw", -EINVAL, {} },
        { "1 105/2048 0/32768 -5 rw", -EINVAL, {} },
        { "18446744073709551616 105/2048 0/32768 - rw", -EINVAL, {} },
        { "1 105/2048 0/99999999999999999999999 - rw", -EINVAL, {} },
        { "1 105/2048 0/32768 18446744073709551615 rw", -EINVAL, {} }, /* not an int64 root */
};

static void expect_status(size_t i, const struct thin_pool_status *got, const struct thin_pool_status *w)
{
        const char *line = status_cases[i].line;

        cr_expect_eq(got->transaction_id, w->transaction_id, "\"%s\": txn %ju", line,
                     (uintmax_t)got->transaction_id);
        cr_expect_eq(got->meta_used, w->meta_used, "\"%s\": meta used %ju", line, (uintmax_t)got->meta_used);
        cr_expect_eq(got->meta_total, w->meta_total, "\"%s\": meta total %ju", line,
                     (uintmax_t)got->meta_total);
        cr_expect_eq(got->data_used, w->data_used, "\"%s\": data used %ju", line, (uintmax_t)got->data_used);
        cr_expect_eq(got->data_total, w->data_total, "\"%s\": data total %ju", line,
                     (uintmax_t)got->data_total);
        cr_expect_eq(got->held_root, w->held_root, "\"%s\": held root %jd", line, (intmax_t)got->held_root);
        cr_expect_eq(got->read_only, w->read_only, "\"%s\": read_only %d", line, got->read_only);
        cr_expect_eq(got->out_of_data_space, w->out_of_data_space, "\"%s\": out_of_data_space %d", line,
                     got->out_of_data_space);
        cr_expect_eq(got->needs_check, w->needs_check, "\"%s\": needs_check %d", line, got->needs_check);
        cr_expect_eq(got->failed, w->failed, "\"%s\": failed %d", line, got->failed);
}

Test(thin_pool_status, lines)
{
        for (size_t i = 0; i < ARRAY_SIZE(status_cases); i++) {
                const struct status_case *c = &status_cases[i];
                struct thin_pool_status got;
                int r;

                memset(&got, 0xa5, sizeof(got));
                r = thin_pool_status_parse(c->line, &got);
                cr_expect_eq(r, c->ret, "\"%s\": returned %d, want %d", c->line, r, c->ret);
                if (c->ret == 0 && r == 0) {
                        expect_status(i, &got, &c->want);
                } else if (c->ret < 0) {
                        /* out-parameters stay untouched on failure */
                        cr_expect_eq(got.transaction_id, 0xa5a5a5a5a5a5a5a5ULL, "\"%s\": failed but wrote txn %ju",
                                     c->line, (uintmax_t)got.transaction_id);
                }
        }
}

Test(thin_pool_status, null_and_too_long)
{
        struct thin_pool_status got;
        char line[600];
        int r;

        r = thin_pool_status_parse(NULL, &got);
        cr_expect_eq(r, -EINVAL, "NULL: returned %d", r);

        /* a valid line padded with spaces past the parser's buffer */
        snprintf(line, sizeof(line), "%-599s", "1 105/2048 0/32768 - rw discard_passdown queue_if_no_space - 1024");
        r = thin_pool_status_parse(line, &got);
        cr_expect_eq(r, -EINVAL, "a %zu-byte line: returned %d", strlen(line), r);

        /* many tokens: the ones past the parser's limit are ignored, not overrun */
        snprintf(line, sizeof(line), "1 105/2048 0/32768 - rw%s",
                 " x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x needs_check");
        r = thin_pool_status_parse(line, &got);
        cr_expect_eq(r, 0, "many tokens: returned %d", r);
}

/* ---- metadata size -------------------------------------------------------------------- */

struct meta_case {
        uint64_t data, block, want;
};

static const struct meta_case meta_cases[] = {
        { 0, 64 << 10, 8 * MiB },                   /* at least 8 MiB */
        { 1 * GiB, 64 << 10, 8 * MiB },             /* 16384 blocks * 64 = 1 MiB -> 8 MiB */
        { 16 * GiB, 64 << 10, 16 * MiB },           /* 262144 blocks * 64 */
        { 8 * GiB, 64 << 10, 8 * MiB },             /* exactly the floor */
        { 8 * GiB + (64 << 10), 64 << 10, 9 * MiB }, /* one block over: rounded up to a MiB */
        { 100 * GiB, 1 * MiB, 8 * MiB },
        { 1ULL << 40, 64 << 10, 1 * GiB },          /* 1 TiB: 2^24 blocks * 64 */
        { 1ULL << 44, 64 << 10, 16 * GiB },         /* 16 TiB: exactly the ceiling */
        { 1ULL << 46, 64 << 10, 16 * GiB },         /* beyond: capped */
        { UINT64_MAX, 64 << 10, 16 * GiB },
        { UINT64_MAX, 1ULL << 30, 16 * GiB },        /* 2^34 blocks of 1 GiB: capped */
        { 1ULL << 50, 1ULL << 30, 64 * MiB },        /* 1 PiB in 2^20 blocks of 1 GiB */
        { 4 * GiB, 0, 8 * MiB },                    /* no block size: the floor */
};

Test(thin_pool_meta, size)
{
        for (size_t i = 0; i < ARRAY_SIZE(meta_cases); i++) {
                const struct meta_case *c = &meta_cases[i];
                uint64_t got = thin_pool_metadata_size(c->data, c->block);

                cr_expect_eq(got, c->want, "metadata for %ju bytes in %ju-byte blocks: %ju, want %ju",
                             (uintmax_t)c->data, (uintmax_t)c->block, (uintmax_t)got, (uintmax_t)c->want);
        }
}

/* Whatever the input, the size is a whole number of MiB between 8 MiB and 16 GiB. */
Test(thin_pool_meta, bounds)
{
        for (unsigned d = 20; d < 64; d++)
                for (unsigned b = 16; b <= 30; b++) {
                        uint64_t got = thin_pool_metadata_size(1ULL << d, 1ULL << b);
                        cr_expect(got >= 8 * MiB && got <= 16 * GiB && got % MiB == 0,
                                  "metadata for 2^%u bytes in 2^%u-byte blocks: %ju", d, b, (uintmax_t)got);
                }
}
