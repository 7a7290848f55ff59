// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of api/pool_open.c where no kernel is needed: bad pool names and bad settings
 * are refused with -EINVAL and one line naming the pool and the cause, before anything is
 * created; opening a pool that is not initialised says how to initialise it; the list of
 * pools takes only initialised pools with valid names.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dvm.h"
#include "tmpdir.h"
#include "util/macro.h"

static char base[64], state[96];
static dvm_ctx *ctx;

static void setup(void)
{
        int r;

        r = tmpdir_new("dvm-test-pool-open-", base, sizeof(base));
        cr_assert_eq(r, 0, "mkdtemp %s: %s", base, strerror(-r));
        snprintf(state, sizeof(state), "%s/state", base);
        r = dvm_ctx_new(state, &ctx);
        cr_assert_eq(r, 0, "dvm_ctx_new(%s): %d", state, r);
}

static void teardown(void)
{
        ctx = dvm_ctx_free(ctx);
        if (base[0])
                tmpdir_remove(base);
}

TestSuite(pool_open, .init = setup, .fini = teardown, .timeout = 30);

static bool exists(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0;
}

static void expect_error_has(const char *what, const char *a, const char *b)
{
        const char *msg = dvm_ctx_last_error(ctx);

        cr_expect(msg && strstr(msg, a) && (!b || strstr(msg, b)), "%s: the error \"%s\" does not name \"%s\"%s%s",
                  what, msg ? msg : "(none)", a, b ? " and " : "", b ? b : "");
}

struct bad_name {
        char name[48];
};

static const struct bad_name bad_names[] = {
        { "" },
        { "1pool" },
        { "my-pool" },
        { "a/b" },
        { ".." },
        { "a b" },
        { "p23456789012345678901234567890123" }, /* 33 bytes */
};

ParameterizedTestParameters(pool_open, bad_name_init)
{
        return cr_make_param_array(struct bad_name, (void *)bad_names, ARRAY_SIZE(bad_names));
}

ParameterizedTest(const struct bad_name *c, pool_open, bad_name_init)
{
        char quoted[64];
        int r = dvm_pool_init(ctx, c->name, NULL);

        cr_expect_eq(r, -EINVAL, "dvm_pool_init(\"%s\"): %d, want %d", c->name, r, -EINVAL);
        snprintf(quoted, sizeof(quoted), "\"%s\"", c->name);
        expect_error_has(c->name, "invalid pool name", quoted);
        cr_expect(!exists(state), "dvm_pool_init(\"%s\") created the state directory %s", c->name, state);
}

ParameterizedTestParameters(pool_open, bad_name_open)
{
        return cr_make_param_array(struct bad_name, (void *)bad_names, ARRAY_SIZE(bad_names));
}

ParameterizedTest(const struct bad_name *c, pool_open, bad_name_open)
{
        dvm_pool *pool = (dvm_pool *)0x1;
        char quoted[64];
        int r = dvm_pool_open(ctx, c->name, &pool);

        cr_expect_eq(r, -EINVAL, "dvm_pool_open(\"%s\"): %d, want %d", c->name, r, -EINVAL);
        cr_expect_eq(pool, (dvm_pool *)0x1, "a failed open set the handle to %p", (void *)pool);
        snprintf(quoted, sizeof(quoted), "\"%s\"", c->name);
        expect_error_has(c->name, "invalid pool name", quoted);
        cr_expect(!exists(state), "dvm_pool_open(\"%s\") created the state directory %s", c->name, state);
}

/* settings of the other backend, or out of range: refused before anything exists */
struct bad_config {
        char what[40];
        struct dvm_pool_config cfg;
        char cause[40];          /* in the error */
};

static const struct bad_config bad_configs[] = {
        { "thin with a chunk size", { .backend = DVM_BACKEND_THIN, .chunk_size = 65536 }, "settings of snap pools" },
        { "thin with a COW share", { .backend = DVM_BACKEND_THIN, .cow_percent = 50 }, "settings of snap pools" },
        { "thin block 32K", { .backend = DVM_BACKEND_THIN, .block_size = 32768 }, "block size 32K" },
        { "thin block 96K", { .backend = DVM_BACKEND_THIN, .block_size = 98304 }, "block size 96K" },
        { "thin block 2G", { .backend = DVM_BACKEND_THIN, .block_size = 2ULL << 30 }, "block size 2G" },
        { "thin block 1000 bytes", { .backend = DVM_BACKEND_THIN, .block_size = 1000 }, "block size" },
        { "snap with a block size", { .backend = DVM_BACKEND_SNAP, .block_size = 65536 }, "settings of thin pools" },
        { "snap with a data size", { .backend = DVM_BACKEND_SNAP, .data_size = 1 << 30 }, "settings of thin pools" },
        { "snap skipping zeroing", { .backend = DVM_BACKEND_SNAP, .skip_zeroing = DVM_SKIP_ZEROING_YES },
          "settings of thin pools" },
        { "snap zeroing", { .backend = DVM_BACKEND_SNAP, .skip_zeroing = DVM_SKIP_ZEROING_NO }, "settings of thin pools" },
        { "snap chunk 2K", { .backend = DVM_BACKEND_SNAP, .chunk_size = 2048 }, "chunk size 2K" },
        { "snap chunk 96K", { .backend = DVM_BACKEND_SNAP, .chunk_size = 98304 }, "chunk size 96K" },
        { "snap chunk 2M", { .backend = DVM_BACKEND_SNAP, .chunk_size = 2 << 20 }, "chunk size 2M" },
        { "snap COW share 101%", { .backend = DVM_BACKEND_SNAP, .cow_percent = 101 }, "COW share 101%" },
        { "rbd skipping zeroing", { .backend = DVM_BACKEND_RBD, .skip_zeroing = DVM_SKIP_ZEROING_YES },
          "cannot skip block zeroing" },
};

ParameterizedTestParameters(pool_open, bad_config)
{
        return cr_make_param_array(struct bad_config, (void *)bad_configs, ARRAY_SIZE(bad_configs));
}

ParameterizedTest(const struct bad_config *c, pool_open, bad_config)
{
        int r = dvm_pool_init(ctx, "tank", &c->cfg);

        cr_expect_eq(r, -EINVAL, "%s: dvm_pool_init: %d, want %d (%s)", c->what, r, -EINVAL,
                     dvm_ctx_last_error(ctx));
        expect_error_has(c->what, "pool tank", c->cause);
        cr_expect(!exists(state), "%s: dvm_pool_init created the state directory %s", c->what, state);
}

/* a pool that was never initialised: -ENOENT, naming the pool and the way to make it */
Test(pool_open, open_uninitialised)
{
        dvm_pool *pool = (dvm_pool *)0x1;
        int r;

        r = dvm_pool_open(ctx, "tank", &pool);
        cr_expect_eq(r, -ENOENT, "dvm_pool_open(tank): %d, want %d", r, -ENOENT);
        cr_expect_eq(pool, (dvm_pool *)0x1, "a failed open set the handle to %p", (void *)pool);
        expect_error_has("tank", "pool tank is not initialised", "dvm-vol pool init tank");
        r = dvm_pool_open(ctx, NULL, &pool);
        cr_expect_eq(r, -ENOENT, "dvm_pool_open(NULL): %d, want %d", r, -ENOENT);
        expect_error_has("the default pool", "pool " DVM_DEFAULT_POOL " is not initialised", NULL);
        cr_expect(!exists(state), "a failed open created the state directory %s", state);
}

/* a catalog without the pool's settings (an init that died before writing them) */
Test(pool_open, open_without_settings)
{
        char dir[160], db[192];
        dvm_pool *pool = (dvm_pool *)0x1;
        FILE *f;
        int r;

        snprintf(dir, sizeof(dir), "%s/tank", state);
        snprintf(db, sizeof(db), "%s/catalog.db", dir);
        cr_assert(mkdir(state, 0700) == 0 && mkdir(dir, 0700) == 0, "mkdir %s: %s", dir, strerror(errno));
        f = fopen(db, "w");
        cr_assert_not_null(f, "create %s: %s", db, strerror(errno));
        fclose(f);
        r = dvm_pool_open(ctx, "tank", &pool);
        cr_expect_eq(r, -ENOENT, "dvm_pool_open of a pool without settings: %d, want %d (%s)", r, -ENOENT,
                     dvm_ctx_last_error(ctx));
        cr_expect_eq(pool, (dvm_pool *)0x1, "a failed open set the handle to %p", (void *)pool);
        expect_error_has("tank", "pool tank is not initialised", "no settings");
}

/* initialised pools (a catalog in a directory with a valid name), sorted; nothing else */
Test(pool_open, list_takes_initialised_pools)
{
        static const char *const dirs[] = { "zeta", "alpha", "no_catalog", "bad-name", "9lives" };
        static const bool catalog[] = { true, true, false, true, true };
        char **names = NULL;
        int n;

        n = dvm_pool_list(ctx, &names);
        cr_assert_eq(n, 0, "pools of a missing state directory: %d (%s)", n, dvm_ctx_last_error(ctx));
        cr_expect(names && !names[0], "the list of no pools is not an empty array: %p, first \"%s\"", (void *)names,
                  names && names[0] ? names[0] : "(none)");
        dvm_strv_free(names);

        cr_assert_eq(mkdir(state, 0700), 0, "mkdir %s: %s", state, strerror(errno));
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                char p[192];
                snprintf(p, sizeof(p), "%s/%s", state, dirs[i]);
                cr_assert_eq(mkdir(p, 0700), 0, "mkdir %s: %s", p, strerror(errno));
                if (!catalog[i])
                        continue;
                strcat(p, "/catalog.db");
                FILE *f = fopen(p, "w");
                cr_assert_not_null(f, "create %s: %s", p, strerror(errno));
                fclose(f);
        }
        n = dvm_pool_list(ctx, &names);
        cr_assert_eq(n, 2, "listed %d pools, want 2 (alpha, zeta) (%s)", n, dvm_ctx_last_error(ctx));
        cr_expect_str_eq(names[0], "alpha", "first pool: \"%s\"", names[0]);
        cr_expect_str_eq(names[1], "zeta", "second pool: \"%s\"", names[1]);
        cr_expect_null(names[2], "the list does not end in NULL: \"%s\"", names[2]);
        dvm_strv_free(names);
}
