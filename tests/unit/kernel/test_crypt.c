// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of crypt.c: the dm-crypt table text of an ephemeral layer (cipher, key in hex,
 * device, options), keys of the wrong length, and buffers too short, which must not keep
 * any part of the key.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel/crypt.h"
#include "util/macro.h"

static uint8_t key[CRYPT_KEY_BYTES];

static void make_key(void)
{
        for (size_t i = 0; i < sizeof(key); i++)
                key[i] = (uint8_t)(i * 37 + 1);
}

/* the start of make_key()'s key in hex */
static const char key_hex[] = "01264b7095badf04";

Test(crypt_table, params, .init = make_key)
{
        char want[CRYPT_PARAMS_MAX], hex[2 * CRYPT_KEY_BYTES + 1], buf[CRYPT_PARAMS_MAX];
        struct crypt_table t = { .key = key, .key_len = sizeof(key), .major = 253, .minor = 7,
                                 .allow_discards = true };
        int r;

        for (size_t i = 0; i < sizeof(key); i++)
                snprintf(hex + 2 * i, 3, "%02x", key[i]);
        cr_assert_eq(strncmp(hex, key_hex, strlen(key_hex)), 0, "hex %s", hex);
        snprintf(want, sizeof(want), "aes-xts-plain64 %s 0 253:7 0 1 allow_discards", hex);
        r = crypt_table_params(&t, buf, sizeof(buf));
        cr_expect_eq(r, (int)strlen(want), "returned %d for \"%s\"", r, buf);
        cr_expect_str_eq(buf, want, "\"%s\"", buf);

        t.allow_discards = false;
        t.offset = 8;
        snprintf(want, sizeof(want), "aes-xts-plain64 %s 0 253:7 8", hex);
        r = crypt_table_params(&t, buf, sizeof(buf));
        cr_expect_eq(r, (int)strlen(want), "returned %d for \"%s\"", r, buf);
        cr_expect_str_eq(buf, want, "\"%s\"", buf);
}

Test(crypt_table, key_length, .init = make_key)
{
        static const size_t lengths[] = { 0, 16, 32, 63, 65, 128 };
        char buf[CRYPT_PARAMS_MAX] = "untouched";

        for (size_t i = 0; i < ARRAY_SIZE(lengths); i++) {
                struct crypt_table t = { .key = key, .key_len = lengths[i], .major = 7, .minor = 0 };
                int r = crypt_table_params(&t, buf, sizeof(buf));
                cr_expect_eq(r, -EINVAL, "a %zu-byte key: returned %d", lengths[i], r);
        }
        struct crypt_table none = { .key = NULL, .key_len = CRYPT_KEY_BYTES };
        cr_expect_eq(crypt_table_params(&none, buf, sizeof(buf)), -EINVAL, "no key accepted");
        cr_expect_str_eq(buf, "untouched", "the buffer changed: \"%s\"", buf);
}

/* A buffer too short fails, and keeps no part of the key. */
Test(crypt_table, short_buffer_keeps_no_key, .init = make_key)
{
        struct crypt_table t = { .key = key, .key_len = sizeof(key), .major = 4294967295u, .minor = 4294967295u,
                                 .offset = UINT64_MAX, .allow_discards = true };
        char full[CRYPT_PARAMS_MAX];
        int n = crypt_table_params(&t, full, sizeof(full));

        cr_assert_gt(n, 0, "the longest table: returned %d", n);
        cr_assert_lt((size_t)n, sizeof(full), "CRYPT_PARAMS_MAX %zu is too small for %d", sizeof(full), n);
        for (size_t len = 0; len <= (size_t)n; len += (len < 20 || len > (size_t)n - 20) ? 1 : 7) {
                char buf[CRYPT_PARAMS_MAX];
                memset(buf, 'x', sizeof(buf));
                int r = crypt_table_params(&t, len ? buf : NULL, len);
                cr_expect_eq(r, -ENOBUFS, "%zu bytes for %d: returned %d", len, n, r);
                cr_expect_null(memmem(buf, sizeof(buf), key_hex, 6), "%zu bytes: the key is left in the buffer", len);
        }
        cr_expect_eq(crypt_table_params(&t, full, (size_t)n + 1), n, "an exact fit fails");
}
