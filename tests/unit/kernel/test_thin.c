// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of thin.c: thin table parameters, thin status lines as the 6.1 kernel prints
 * them (and malformed ones), and the pool messages with the 24-bit bound on thin ids.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel/thin.h"
#include "util/macro.h"

/* ---- table parameters ----------------------------------------------------------------- */

struct table_case {
        uint32_t major, minor, id;
        int ret;
        const char *want;
};

static const struct table_case table_cases[] = {
        { 253, 0, 0, 7, "253:0 0" },
        { 253, 3, 1, 7, "253:3 1" },
        { 254, 12, 4096, 11, "254:12 4096" },
        { 253, 0, THIN_ID_MAX, 14, "253:0 16777215" },
        { UINT32_MAX, UINT32_MAX, THIN_ID_MAX, 30, "4294967295:4294967295 16777215" },
        { 253, 0, THIN_ID_MAX + 1, -EINVAL, NULL },
        { 253, 0, UINT32_MAX, -EINVAL, NULL },
};

Test(thin_table, params)
{
        for (size_t i = 0; i < ARRAY_SIZE(table_cases); i++) {
                const struct table_case *c = &table_cases[i];
                char buf[64] = "untouched";
                int r = thin_table_params(c->major, c->minor, c->id, buf, sizeof(buf));

                cr_expect_eq(r, c->ret, "%u:%u id %u: returned %d, want %d", c->major, c->minor, c->id, r,
                             c->ret);
                if (c->ret >= 0)
                        cr_expect_str_eq(buf, c->want, "%u:%u id %u: \"%s\", want \"%s\"", c->major, c->minor,
                                         c->id, buf, c->want);
        }
}

struct origin_case {
        uint32_t id, origin_major, origin_minor;
        int ret;
        const char *want;
};

static const struct origin_case origin_cases[] = {
        { 5, 253, 9, 13, "253:0 5 253:9" },
        { THIN_ID_MAX, 7, 12, 19, "253:0 16777215 7:12" },
        { THIN_ID_MAX + 1, 7, 12, -EINVAL, NULL },
};

/* A thin volume over an external origin (in-RAM layers over their templates). */
Test(thin_table, external_origin)
{
        for (size_t i = 0; i < ARRAY_SIZE(origin_cases); i++) {
                const struct origin_case *c = &origin_cases[i];
                char buf[64] = "untouched";
                int r = thin_table_params_origin(253, 0, c->id, c->origin_major, c->origin_minor, buf, sizeof(buf));

                cr_expect_eq(r, c->ret, "id %u over %u:%u: returned %d, want %d", c->id, c->origin_major,
                             c->origin_minor, r, c->ret);
                if (c->ret >= 0)
                        cr_expect_str_eq(buf, c->want, "id %u: \"%s\", want \"%s\"", c->id, buf, c->want);
        }
        cr_expect_eq(thin_table_params_origin(253, 0, 5, 253, 9, (char[13]){ 0 }, 13), -ENOBUFS,
                     "one byte short fits");
}

Test(thin_table, buffer_bounds)
{
        char buf[16];
        int r;

        r = thin_table_params(253, 0, 7, buf, 8); /* "253:0 7" + NUL */
        cr_expect_eq(r, 7, "exact fit: returned %d", r);
        cr_expect_str_eq(buf, "253:0 7", "exact fit: \"%s\"", buf);
        r = thin_table_params(253, 0, 7, buf, 7);
        cr_expect_eq(r, -ENOBUFS, "one byte short: returned %d", r);
        r = thin_table_params(253, 0, 7, NULL, 0);
        cr_expect_eq(r, -ENOBUFS, "no buffer: returned %d", r);
}

/* ---- status lines --------------------------------------------------------------------- */

struct status_case {
        const char *line;
        int ret;
        uint64_t mapped;
        int64_t highest;
        bool failed;
};

/*
 * The kernel's thin_status() (drivers/md/dm-thin.c, 6.1): "<mapped sectors> <highest
 * mapped sector>" or "<mapped sectors> -" when nothing is mapped, or "Fail".
 */
static const struct status_case status_cases[] = {
        { "0 -", 0, 0, -1, false },
        { "8192 16383", 0, 8192, 16383, false },
        { "128 127", 0, 128, 127, false },
        { "2097152 4294967295", 0, 2097152, 4294967295LL, false },
        { "18446744073709551615 9223372036854775807", 0, UINT64_MAX, INT64_MAX, false },
        { "Fail", 0, 0, -1, true },

        /* malformed */
        { "", -EINVAL, 0, 0, false },
        { "-", -EINVAL, 0, 0, false },
        { "0", -EINVAL, 0, 0, false },
        { "0 ", -EINVAL, 0, 0, false },
        { "Error", -EINVAL, 0, 0, false }, /* what thin_status() prints when it cannot read metadata */
        { "fail", -EINVAL, 0, 0, false },
        { "Fail ", -EINVAL, 0, 0, false },
        { "x -", -EINVAL, 0, 0, false },
        { "0 x", -EINVAL, 0, 0, false },
        { "0 --", -EINVAL, 0, 0, false },
        { "0 -x", -EINVAL, 0, 0, false },
        { "0 - ", -EINVAL, 0, 0, false },
        { "0 - 1", -EINVAL, 0, 0, false },
        { "8192 16383 1", -EINVAL, 0, 0, false },
        { "8192 16383x", -EINVAL, 0, 0, false },
        { "8192x 16383", -EINVAL, 0, 0, false },
        { "8192/16383", -EINVAL, 0, 0, false },
        /* blanks, signs and overflow: sscanf's %llu takes these, the kernel never prints them */
        { "0-", -EINVAL, 0, 0, false },
        { " 0 -", -EINVAL, 0, 0, false },
        { "0  -", -EINVAL, 0, 0, false },
        { "0\t-", -EINVAL, 0, 0, false },
        { "8192 -5", -EINVAL, 0, 0, false },
        { "8192 -1", -EINVAL, 0, 0, false },
        { "-8192 16383", -EINVAL, 0, 0, false },
        { "+8192 16383", -EINVAL, 0, 0, false },
        { "8192 +16383", -EINVAL, 0, 0, false },
        { "18446744073709551616 -", -EINVAL, 0, 0, false },
        { "8192 99999999999999999999", -EINVAL, 0, 0, false },
        { "8192 18446744073709551615", -EINVAL, 0, 0, false }, /* not an int64 sector */
};

Test(thin_status, lines)
{
        for (size_t i = 0; i < ARRAY_SIZE(status_cases); i++) {
                const struct status_case *c = &status_cases[i];
                struct thin_status st = { .mapped_sectors = 0xa5, .highest_mapped = 0xa5, .failed = false };
                int r = thin_status_parse(c->line, &st);

                cr_expect_eq(r, c->ret, "\"%s\": returned %d, want %d (mapped %ju, highest %jd)", c->line, r,
                             c->ret, (uintmax_t)st.mapped_sectors, (intmax_t)st.highest_mapped);
                if (c->ret < 0) {
                        cr_expect(st.mapped_sectors == 0xa5 && st.highest_mapped == 0xa5,
                                  "\"%s\": failed but wrote mapped %ju, highest %jd", c->line,
                                  (uintmax_t)st.mapped_sectors, (intmax_t)st.highest_mapped);
                        continue;
                }
                cr_expect_eq(st.mapped_sectors, c->mapped, "\"%s\": mapped %ju", c->line,
                             (uintmax_t)st.mapped_sectors);
                cr_expect_eq(st.highest_mapped, c->highest, "\"%s\": highest %jd", c->line,
                             (intmax_t)st.highest_mapped);
                cr_expect_eq(st.failed, c->failed, "\"%s\": failed %d", c->line, st.failed);
        }
}

Test(thin_status, null)
{
        struct thin_status st;
        int r = thin_status_parse(NULL, &st);

        cr_assert_eq(r, -EINVAL, "NULL: returned %d", r);
}

/* ---- messages ------------------------------------------------------------------------- */

struct msg_case {
        const char *what;
        int (*one)(uint32_t, char *, size_t); /* create or delete; NULL: snap */
        uint32_t id, origin;
        int ret;
        const char *want;
};

static const struct msg_case msg_cases[] = {
        { "create", thin_msg_create, 0, 0, 13, "create_thin 0" },
        { "create", thin_msg_create, 17, 0, 14, "create_thin 17" },
        { "create", thin_msg_create, THIN_ID_MAX, 0, 20, "create_thin 16777215" },
        { "create", thin_msg_create, THIN_ID_MAX + 1, 0, -EINVAL, NULL },
        { "create", thin_msg_create, UINT32_MAX, 0, -EINVAL, NULL },
        { "delete", thin_msg_delete, 0, 0, 8, "delete 0" },
        { "delete", thin_msg_delete, 4242, 0, 11, "delete 4242" },
        { "delete", thin_msg_delete, THIN_ID_MAX, 0, 15, "delete 16777215" },
        { "delete", thin_msg_delete, THIN_ID_MAX + 1, 0, -EINVAL, NULL },
        { "delete", thin_msg_delete, UINT32_MAX, 0, -EINVAL, NULL },
        { "snap", NULL, 1, 0, 15, "create_snap 1 0" },
        { "snap", NULL, 12, 3, 16, "create_snap 12 3" },
        { "snap", NULL, THIN_ID_MAX, THIN_ID_MAX, 29, "create_snap 16777215 16777215" },
        { "snap", NULL, THIN_ID_MAX + 1, 3, -EINVAL, NULL },
        { "snap", NULL, 3, THIN_ID_MAX + 1, -EINVAL, NULL },
        { "snap", NULL, UINT32_MAX, UINT32_MAX, -EINVAL, NULL },
};

Test(thin_msg, table)
{
        for (size_t i = 0; i < ARRAY_SIZE(msg_cases); i++) {
                const struct msg_case *c = &msg_cases[i];
                char buf[64] = "untouched";
                int r = c->one ? c->one(c->id, buf, sizeof(buf)) : thin_msg_snap(c->id, c->origin, buf, sizeof(buf));

                cr_expect_eq(r, c->ret, "%s %u %u: returned %d, want %d", c->what, c->id, c->origin, r, c->ret);
                if (c->ret >= 0) {
                        cr_expect_str_eq(buf, c->want, "%s %u %u: \"%s\", want \"%s\"", c->what, c->id, c->origin,
                                         buf, c->want);
                        cr_expect_eq((size_t)r, strlen(buf), "%s %u: returned %d for \"%s\"", c->what, c->id, r,
                                     buf);
                }
        }
}

Test(thin_msg, buffer_bounds)
{
        char buf[32];
        int r;

        r = thin_msg_create(5, buf, 14); /* "create_thin 5" + NUL */
        cr_expect_eq(r, 13, "create, exact fit: returned %d", r);
        r = thin_msg_create(5, buf, 13);
        cr_expect_eq(r, -ENOBUFS, "create, one byte short: returned %d", r);
        r = thin_msg_snap(5, 4, buf, 15);
        cr_expect_eq(r, -ENOBUFS, "snap, one byte short: returned %d", r);
        r = thin_msg_delete(5, buf, 8);
        cr_expect_eq(r, -ENOBUFS, "delete, one byte short: returned %d", r);
        r = thin_msg_delete(5, buf, 9);
        cr_expect_eq(r, 8, "delete, exact fit: returned %d", r);
}
