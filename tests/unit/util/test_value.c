// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of value.c: sizes as users type them (suffixes, bounds, overflow, junk), size
 * formatting, and the VM and pool name rules that guard dm device names and the catalog.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dvm.h"
#include "util/macro.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)
#define SENTINEL 0xdeadbeefULL

/* ---- dvm_parse_size ------------------------------------------------------------------- */

struct size_case {
        const char *in;
        int ret;
        uint64_t bytes; /* when ret == 0 */
};

static const struct size_case size_cases[] = {
        /* plain bytes */
        { "512", 0, 512 },
        { "1024", 0, 1024 },
        { "1536", 0, 1536 },
        { "000512", 0, 512 },
        { "4096", 0, 4096 },
        /* suffixes, both cases, powers of 1024 */
        { "1K", 0, KiB },
        { "1k", 0, KiB },
        { "64K", 0, 64 * KiB },
        { "4M", 0, 4 * MiB },
        { "4m", 0, 4 * MiB },
        { "2G", 0, 2 * GiB },
        { "2g", 0, 2 * GiB },
        { "1T", 0, TiB },
        { "1t", 0, TiB },
        /* "iB" and "B" after a suffix change nothing: still powers of 1024 */
        { "1KiB", 0, KiB },
        { "1KB", 0, KiB },
        { "1kB", 0, KiB },
        { "1MiB", 0, MiB },
        { "10GB", 0, 10 * GiB },
        { "3TiB", 0, 3 * TiB },
        { "1gib", -EINVAL, 0 },
        { "1kb", -EINVAL, 0 },
        { "1KIB", -EINVAL, 0 },
        { "1B", -EINVAL, 0 },
        { "512B", -EINVAL, 0 },
        { "1iB", -EINVAL, 0 },
        { "1KiBx", -EINVAL, 0 },
        { "1KBB", -EINVAL, 0 },
        /* zero, and not a multiple of 512 */
        { "0", -EINVAL, 0 },
        { "0K", -EINVAL, 0 },
        { "0T", -EINVAL, 0 },
        { "1", -EINVAL, 0 },
        { "511", -EINVAL, 0 },
        { "513", -EINVAL, 0 },
        { "1000", -EINVAL, 0 },
        /* the top: byte counts stay below 2^63 */
        { "9223372036854775296", 0, (UINT64_MAX >> 1) - 511 },
        { "9223372036854775807", -EINVAL, 0 },  /* 2^63 - 1: in range, not a multiple of 512 */
        { "9223372036854775808", -ERANGE, 0 },  /* 2^63 */
        { "18446744073709551615", -ERANGE, 0 }, /* 2^64 - 1: fits the digits, not the rule */
        { "18446744073709551616", -ERANGE, 0 }, /* 2^64: overflows while reading digits */
        { "99999999999999999999999999", -ERANGE, 0 },
        { "8388607T", 0, (8388608ULL - 1) * TiB },
        { "8388608T", -ERANGE, 0 },             /* 2^63 */
        { "16777215T", -ERANGE, 0 },
        { "16777216T", -ERANGE, 0 },            /* 2^64: the shift overflows */
        { "18446744073709551615T", -ERANGE, 0 },
        { "8589934591G", 0, (8589934592ULL - 1) * GiB },
        { "17179869184G", -ERANGE, 0 },
        { "9007199254740991K", 0, 9007199254740991ULL * KiB }, /* 2^63 - 1024 */
        { "9007199254740992K", -ERANGE, 0 },
        /* junk */
        { "", -EINVAL, 0 },
        { "K", -EINVAL, 0 },
        { "G1", -EINVAL, 0 },
        { "abc", -EINVAL, 0 },
        { "1X", -EINVAL, 0 },
        { "1P", -EINVAL, 0 },
        { "1KK", -EINVAL, 0 },
        { "1KM", -EINVAL, 0 },
        { "1.5G", -EINVAL, 0 },
        { "1,5G", -EINVAL, 0 },
        { "0x200", -EINVAL, 0 },
        { "1e9", -EINVAL, 0 },
        { "-512", -EINVAL, 0 },
        { "-1K", -EINVAL, 0 },
        { "+512", -EINVAL, 0 },
        { " 512", -EINVAL, 0 },
        { "512 ", -EINVAL, 0 },
        { "1 K", -EINVAL, 0 },
        { "\t1K", -EINVAL, 0 },
        { "1K\n", -EINVAL, 0 },
        { "１K", -EINVAL, 0 }, /* a fullwidth digit */
};

Test(parse_size, table)
{
        for (size_t i = 0; i < ARRAY_SIZE(size_cases); i++) {
                const struct size_case *c = &size_cases[i];
                uint64_t got = SENTINEL;
                int r = dvm_parse_size(c->in, &got);

                cr_expect_eq(r, c->ret, "dvm_parse_size(\"%s\") returned %d (%s), want %d", c->in, r,
                             strerror(-r), c->ret);
                if (c->ret == 0)
                        cr_expect_eq(got, c->bytes, "dvm_parse_size(\"%s\") = %ju, want %ju", c->in,
                                     (uintmax_t)got, (uintmax_t)c->bytes);
                else
                        cr_expect_eq(got, SENTINEL, "dvm_parse_size(\"%s\") failed but wrote %ju", c->in,
                                     (uintmax_t)got);
        }
}

Test(parse_size, null)
{
        uint64_t got = SENTINEL;
        int r = dvm_parse_size(NULL, &got);

        cr_assert_eq(r, -EINVAL, "dvm_parse_size(NULL) returned %d", r);
        cr_assert_eq(got, SENTINEL, "dvm_parse_size(NULL) wrote %ju", (uintmax_t)got);
}

/* Every power-of-two multiple of 512 up to 2^62 parses as its decimal text. */
Test(parse_size, powers_of_two)
{
        for (unsigned b = 9; b < 63; b++) {
                char s[32];
                uint64_t got = 0, want = 1ULL << b;
                int r;

                snprintf(s, sizeof(s), "%ju", (uintmax_t)want);
                r = dvm_parse_size(s, &got);
                cr_expect_eq(r, 0, "dvm_parse_size(\"%s\") returned %d", s, r);
                cr_expect_eq(got, want, "dvm_parse_size(\"%s\") = %ju", s, (uintmax_t)got);
        }
}

/* ---- dvm_format_size ------------------------------------------------------------------ */

struct format_case {
        uint64_t bytes;
        const char *want;
};

static const struct format_case format_cases[] = {
        { 0, "0B" },
        { 1, "1B" },
        { 512, "512B" },
        { 1023, "1023B" },
        { KiB, "1K" },
        { 1536, "1.5K" },
        { 64 * KiB, "64K" },
        { MiB - KiB, "1023K" },
        { MiB - 512, "1023.5K" },
        { MiB, "1M" },
        { MiB + 512, "1.0M" },
        { 3 * MiB / 2, "1.5M" },
        { GiB, "1G" },
        { 3 * GiB / 2, "1.5G" },
        { 16 * GiB, "16G" },
        { 1023 * GiB, "1023G" },
        { TiB, "1T" },
        { 1ULL << 50, "1P" },
        { 1ULL << 60, "1E" },
        { 15ULL << 60, "15E" },
        /* just below a unit: rounding must carry into the next unit, not print "1024.0" */
        { MiB - 1, "1.0M" },
        { GiB - 512, "1.0G" },
        { TiB - 512, "1.0T" },
        { (1ULL << 50) - 512, "1.0P" },
        { (1ULL << 60) - 512, "1.0E" },
        { UINT64_MAX, "16.0E" },
};

Test(format_size, table)
{
        for (size_t i = 0; i < ARRAY_SIZE(format_cases); i++) {
                const struct format_case *c = &format_cases[i];
                char buf[32];
                char *r = dvm_format_size(c->bytes, buf, sizeof(buf));

                cr_expect_eq(r, buf, "dvm_format_size(%ju) returned %p, not its buffer %p",
                             (uintmax_t)c->bytes, (void *)r, (void *)buf);
                cr_expect_str_eq(buf, c->want, "dvm_format_size(%ju) = \"%s\", want \"%s\"",
                                 (uintmax_t)c->bytes, buf, c->want);
        }
}

/* A whole number of units formats to text that parses back to the same bytes. */
Test(format_size, round_trip)
{
        static const char *const in[] = { "512", "1K", "64K", "1M", "2G", "7T", "1023M" };

        for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
                uint64_t bytes = 0, again = 0;
                char buf[32];
                int r = dvm_parse_size(in[i], &bytes);

                cr_assert_eq(r, 0, "dvm_parse_size(\"%s\") returned %d", in[i], r);
                dvm_format_size(bytes, buf, sizeof(buf));
                /* plain bytes print as "512B"; the parser takes them without the B */
                if (buf[strlen(buf) - 1] == 'B')
                        buf[strlen(buf) - 1] = '\0';
                r = dvm_parse_size(buf, &again);
                cr_expect_eq(r, 0, "\"%s\" formatted as \"%s\", which does not parse (%d)", in[i], buf, r);
                cr_expect_eq(again, bytes, "\"%s\" -> %ju -> \"%s\" -> %ju", in[i], (uintmax_t)bytes, buf,
                             (uintmax_t)again);
        }
}

Test(format_size, truncates_to_buffer)
{
        char buf[8];

        memset(buf, 'x', sizeof(buf));
        dvm_format_size(1536 * GiB, buf, 3);
        cr_assert_str_eq(buf, "1.", "a 3-byte buffer holds \"%s\"", buf);
        cr_assert_eq(buf[3], 'x', "wrote past the buffer: byte 3 is 0x%02x", (unsigned char)buf[3]);
        dvm_format_size(GiB, buf, 1);
        cr_assert_str_eq(buf, "", "a 1-byte buffer holds \"%s\"", buf);
}

/* ---- dvm_name_check / dvm_pool_name_check ------------------------------------------------ */

struct name_case {
        const char *name;
        int ret;
        const char *why; /* a part of the reason, when ret < 0 */
};

/* 64 and 65 bytes */
#define N64 "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcd"
#define N65 N64 "e"
#define N32 "abcdefghij" "abcdefghij" "abcdefghij" "ab"
#define N33 N32 "c"

static const struct name_case vm_names[] = {
        { "a", 0, NULL },
        { "Z", 0, NULL },
        { "work", 0, NULL },
        { "disp1", 0, NULL },
        { "fedora-39", 0, NULL },
        { "debian-12.dvm", 0, NULL },
        { "my_vm", 0, NULL },
        { "a-", 0, NULL },
        { "a.", 0, NULL },
        { "a..b", 0, NULL },
        { "Z.-_9", 0, NULL },
        { N64, 0, NULL },
        { N65, -EINVAL, "longer than 64" },
        { "", -EINVAL, "empty" },
        { "/", -EINVAL, "'/'" },
        { "a/b", -EINVAL, "'/'" },
        { "..", -EINVAL, "start with a letter" },
        { ".", -EINVAL, "start with a letter" },
        { ".hidden", -EINVAL, "start with a letter" },
        { "1vm", -EINVAL, "start with a letter" },
        { "9", -EINVAL, "start with a letter" },
        { "-vm", -EINVAL, "start with a letter" },
        { "--help", -EINVAL, "start with a letter" },
        { "_vm", -EINVAL, "start with a letter" },
        { "a\x01", -EINVAL, "control character" },
        { "a\x7f" "b", -EINVAL, "control character" },
        { "a\nb", -EINVAL, "control character" },
        { "\tab", -EINVAL, "control character" },
        { "\x1f", -EINVAL, "control character" },
        { "a b", -EINVAL, "may only hold" },
        { "a:b", -EINVAL, "may only hold" },
        { "a@b", -EINVAL, "may only hold" },
        { "a*", -EINVAL, "may only hold" },
        { "a\\b", -EINVAL, "may only hold" },
        { "caf\xc3\xa9", -EINVAL, "may only hold" },    /* UTF-8 é */
        { "\xc3\xa9t\xc3\xa9", -EINVAL, "may only hold" },
        { "a\xff", -EINVAL, "may only hold" },
        { "\x80", -EINVAL, "may only hold" },
};

static const struct name_case pool_names[] = {
        { "default", 0, NULL },
        { "p", 0, NULL },
        { "pool_1", 0, NULL },
        { "Fast2", 0, NULL },
        { N32, 0, NULL },
        { N33, -EINVAL, "longer than 32" },
        { "", -EINVAL, "empty" },
        { "a-b", -EINVAL, "letters, digits and '_'" },
        { "a.b", -EINVAL, "letters, digits and '_'" },
        { "a b", -EINVAL, "letters, digits and '_'" },
        { "caf\xc3\xa9", -EINVAL, "letters, digits and '_'" },
        { "/", -EINVAL, "'/'" },
        { "..", -EINVAL, "letters, digits and '_'" },
        { "p\x01", -EINVAL, "control character" },
        { "1pool", -EINVAL, "start with a letter" },
        { "_pool", -EINVAL, "start with a letter" },
};

static void check_names(const char *what, int (*check)(const char *, const char **),
                        const struct name_case *cases, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const struct name_case *c = &cases[i];
                const char *why = "(untouched)";
                int r = check(c->name, &why);

                cr_expect_eq(r, c->ret, "%s(\"%s\") returned %d, want %d (reason: %s)", what, c->name, r,
                             c->ret, why);
                if (c->ret == 0) {
                        cr_expect_str_eq(why, "(untouched)", "%s(\"%s\") passed but set a reason: %s", what,
                                         c->name, why);
                } else {
                        cr_expect(strstr(why, c->why) != NULL, "%s(\"%s\"): reason \"%s\" lacks \"%s\"", what,
                                  c->name, why, c->why);
                }
                /* a NULL reason pointer is allowed */
                r = check(c->name, NULL);
                cr_expect_eq(r, c->ret, "%s(\"%s\", NULL) returned %d, want %d", what, c->name, r, c->ret);
        }
}

Test(name_check, vm_names)
{
        check_names("dvm_name_check", dvm_name_check, vm_names, ARRAY_SIZE(vm_names));
}

Test(name_check, pool_names)
{
        check_names("dvm_pool_name_check", dvm_pool_name_check, pool_names, ARRAY_SIZE(pool_names));
}

Test(name_check, null)
{
        const char *why = NULL;
        int r = dvm_name_check(NULL, &why);

        cr_assert_eq(r, -EINVAL, "dvm_name_check(NULL) returned %d", r);
        cr_assert(why && strstr(why, "empty"), "dvm_name_check(NULL): reason %s", why ? why : "(null)");
        r = dvm_pool_name_check(NULL, NULL);
        cr_assert_eq(r, -EINVAL, "dvm_pool_name_check(NULL) returned %d", r);
}

/* Every single byte: exactly letters are valid one-byte names; the rest of the set only
 * after a letter. The table above samples this; here is the whole byte range. */
Test(name_check, every_byte)
{
        for (unsigned c = 1; c < 256; c++) {
                char first[2] = { (char)c, 0 }, second[3] = { 'a', (char)c, 0 };
                bool letter = c < 0x80 && ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
                bool digit = c >= '0' && c <= '9';
                bool vm_ok = letter || digit || c == '_' || c == '.' || c == '-';
                bool pool_ok = letter || digit || c == '_';
                int r;

                r = dvm_name_check(first, NULL);
                cr_expect_eq(r, letter ? 0 : -EINVAL, "dvm_name_check(byte 0x%02x) returned %d", c, r);
                r = dvm_name_check(second, NULL);
                cr_expect_eq(r, vm_ok ? 0 : -EINVAL, "dvm_name_check(\"a\" + byte 0x%02x) returned %d", c, r);
                r = dvm_pool_name_check(second, NULL);
                cr_expect_eq(r, pool_ok ? 0 : -EINVAL, "dvm_pool_name_check(\"a\" + byte 0x%02x) returned %d",
                             c, r);
        }
}

/* ---- names of enums ------------------------------------------------------------------- */

Test(names, kinds_and_backends)
{
        static const struct {
                enum dvm_vm_kind kind;
                const char *want;
        } kinds[] = {
                { DVM_VM_TEMPLATE, "template" },
                { DVM_VM_DVM_TEMPLATE, "dvm-template" },
                { DVM_VM_DISPOSABLE, "disposable" },
                { (enum dvm_vm_kind)42, "unknown" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
                cr_expect_str_eq(dvm_vm_kind_name(kinds[i].kind), kinds[i].want, "kind %d is \"%s\"",
                                 (int)kinds[i].kind, dvm_vm_kind_name(kinds[i].kind));
        cr_expect_str_eq(dvm_backend_name(DVM_BACKEND_THIN), "thin", "thin is \"%s\"",
                         dvm_backend_name(DVM_BACKEND_THIN));
        cr_expect_str_eq(dvm_backend_name(DVM_BACKEND_SNAP), "snap", "snap is \"%s\"",
                         dvm_backend_name(DVM_BACKEND_SNAP));
}
