// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of snapshot.c and linear.c: table parameters, the snapshot status line as the
 * 6.1 kernel prints it (numbers, and the words it prints instead), and malformed lines.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kernel/linear.h"
#include "kernel/snapshot.h"
#include "util/macro.h"

struct table_case {
        struct snapshot_table t;
        int ret;
        const char *want;
};

static const struct table_case table_cases[] = {
        { { 7, 0, 7, 1, 128 }, 13, "7:0 7:1 P 128" },
        { { 7, 12, 7, 300, 8 }, 14, "7:12 7:300 P 8" },
        { { 259, 65535, 259, 1, 2048 }, 22, "259:65535 259:1 P 2048" },
        { { 7, 0, 7, 1, 0 }, -EINVAL, NULL },   /* no chunk */
        { { 7, 0, 7, 1, 4 }, -EINVAL, NULL },   /* below 4 KiB */
        { { 7, 0, 7, 1, 96 }, -EINVAL, NULL },  /* not a power of two */
        { { 7, 0, 7, 1, 129 }, -EINVAL, NULL },
};

Test(snapshot_table, params)
{
        for (size_t i = 0; i < ARRAY_SIZE(table_cases); i++) {
                const struct table_case *c = &table_cases[i];
                char buf[64] = "untouched";
                int r = snapshot_table_params(&c->t, buf, sizeof(buf));

                cr_expect_eq(r, c->ret, "case %zu (chunk %u): returned %d, want %d", i, c->t.chunk_sectors, r, c->ret);
                if (c->ret >= 0)
                        cr_expect_str_eq(buf, c->want, "case %zu: \"%s\", want \"%s\"", i, buf, c->want);
        }
}

Test(snapshot_table, buffer_bounds)
{
        static const struct snapshot_table t = { 7, 0, 7, 1, 128 };
        char buf[32];
        int r = snapshot_table_params(&t, buf, 14); /* 13 + NUL */

        cr_expect_eq(r, 13, "exact fit: returned %d", r);
        cr_expect_str_eq(buf, "7:0 7:1 P 128", "exact fit: \"%s\"", buf);
        r = snapshot_table_params(&t, buf, 13);
        cr_expect_eq(r, -ENOBUFS, "one byte short: returned %d", r);
        r = snapshot_table_params(&t, NULL, 0);
        cr_expect_eq(r, -ENOBUFS, "no buffer: returned %d", r);
}

struct status_case {
        const char *line;
        int ret;
        enum snapshot_state state;
        uint64_t allocated, total, metadata;
};

/*
 * dm-snap.c snapshot_status() on 6.1: "<allocated>/<total> <metadata>" in sectors, or a word
 * for a snapshot the kernel gave up on. The first lines are what the vm tier's kernel printed
 * for a fresh 1 MiB store with 64 KiB chunks, after three chunks, and when it filled up
 * (P: Invalid; PO: Overflow).
 */
static const struct status_case status_cases[] = {
        { "256/2048 256", 0, SNAPSHOT_VALID, 256, 2048, 256 },
        { "640/2048 256", 0, SNAPSHOT_VALID, 640, 2048, 256 },
        { "Invalid", 0, SNAPSHOT_INVALID, 0, 0, 0 },
        { "Overflow", 0, SNAPSHOT_OVERFLOW, 0, 0, 0 },
        { "Merge failed", 0, SNAPSHOT_MERGE_FAILED, 0, 0, 0 },
        { "Unknown", 0, SNAPSHOT_UNKNOWN, 0, 0, 0 },
        { "16/16 16", 0, SNAPSHOT_VALID, 16, 16, 16 },
        { "18446744073709551615/18446744073709551615 0", 0, SNAPSHOT_VALID, UINT64_MAX, UINT64_MAX, 0 },
        { "", -EINVAL, 0, 0, 0, 0 },
        { "invalid", -EINVAL, 0, 0, 0, 0 },
        { "Invalid ", -EINVAL, 0, 0, 0, 0 },
        { "Merge", -EINVAL, 0, 0, 0, 0 },
        { "256/2048", -EINVAL, 0, 0, 0, 0 },
        { "256 2048 256", -EINVAL, 0, 0, 0, 0 },
        { "256/2048 256 ", -EINVAL, 0, 0, 0, 0 },
        { "256/2048  256", -EINVAL, 0, 0, 0, 0 },
        { "-256/2048 256", -EINVAL, 0, 0, 0, 0 },
        { "+256/2048 256", -EINVAL, 0, 0, 0, 0 },
        { "256/-2048 256", -EINVAL, 0, 0, 0, 0 },
        { "0x10/2048 256", -EINVAL, 0, 0, 0, 0 },
        { "18446744073709551616/2048 256", -EINVAL, 0, 0, 0, 0 }, /* overflow */
        { "4096/2048 256", -EINVAL, 0, 0, 0, 0 },                 /* more than the device */
        { "256/2048 512", -EINVAL, 0, 0, 0, 0 },                  /* metadata above the allocation */
        { "256/2048 256\n", -EINVAL, 0, 0, 0, 0 },
};

Test(snapshot_status, lines)
{
        for (size_t i = 0; i < ARRAY_SIZE(status_cases); i++) {
                const struct status_case *c = &status_cases[i];
                struct snapshot_status st = { .state = 99, .sectors_allocated = 7 };
                int r = snapshot_status_parse(c->line, &st);

                cr_expect_eq(r, c->ret, "\"%s\": returned %d, want %d", c->line, r, c->ret);
                if (c->ret < 0) {
                        cr_expect(st.state == 99 && st.sectors_allocated == 7, "\"%s\": failed but changed the result",
                                  c->line);
                        continue;
                }
                cr_expect_eq(st.state, c->state, "\"%s\": state %d, want %d", c->line, st.state, c->state);
                cr_expect_eq(st.sectors_allocated, c->allocated, "\"%s\": allocated %llu", c->line,
                             (unsigned long long)st.sectors_allocated);
                cr_expect_eq(st.total_sectors, c->total, "\"%s\": total %llu", c->line,
                             (unsigned long long)st.total_sectors);
                cr_expect_eq(st.metadata_sectors, c->metadata, "\"%s\": metadata %llu", c->line,
                             (unsigned long long)st.metadata_sectors);
        }
}

Test(snapshot_status, null_line)
{
        struct snapshot_status st;
        int r = snapshot_status_parse(NULL, &st);
        cr_expect_eq(r, -EINVAL, "NULL: returned %d", r);
}

Test(snapshot_status, state_names)
{
        static const struct {
                enum snapshot_state s;
                const char *name;
        } names[] = { { SNAPSHOT_VALID, "valid" },       { SNAPSHOT_INVALID, "invalid" },
                      { SNAPSHOT_OVERFLOW, "overflow" }, { SNAPSHOT_MERGE_FAILED, "merge failed" },
                      { SNAPSHOT_UNKNOWN, "unknown" },   { (enum snapshot_state)42, "unknown" } };

        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                cr_expect_str_eq(snapshot_state_name(names[i].s), names[i].name, "state %d: \"%s\"", names[i].s,
                                 snapshot_state_name(names[i].s));
}

Test(linear_table, params)
{
        static const struct {
                uint32_t major, minor;
                uint64_t start;
                int ret;
                const char *want;
        } cases[] = {
                { 7, 3, 0, 5, "7:3 0" },
                { 259, 1048575, 2048, 16, "259:1048575 2048" },
                { 7, 0, UINT64_MAX, 24, "7:0 18446744073709551615" },
        };
        char buf[64];

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                int r = linear_table_params(cases[i].major, cases[i].minor, cases[i].start, buf, sizeof(buf));
                cr_expect_eq(r, cases[i].ret, "case %zu: returned %d, want %d", i, r, cases[i].ret);
                cr_expect_str_eq(buf, cases[i].want, "case %zu: \"%s\"", i, buf);
        }
        int r = linear_table_params(7, 3, 0, buf, 5);
        cr_expect_eq(r, -ENOBUFS, "one byte short: returned %d", r);
}
