// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the catalog's preload rows (catalog_preload.c): a DVM Template's setting
 * with its note, the ready disposables listed oldest first and per DVM Template, and both
 * gone with their VM's row (so a later VM of the same name is never taken as ready).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/catalog.h"
#include "store/catalog_preload.h"
#include "store/catalog_vm.h"
#include "util/ctx.h"

static char dir[64];
static dvm_ctx *ctx;
static catalog *cat;

static void setup(void)
{
        char db[128];
        int r;

        snprintf(dir, sizeof(dir), "/tmp/dvm-test-catalog-preload.XXXXXX");
        cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
        snprintf(db, sizeof(db), "%s/catalog.db", dir);
        cr_assert_eq(dvm_ctx_new(dir, &ctx), 0, "dvm_ctx_new");
        r = catalog_open(ctx, db, &cat);
        cr_assert_eq(r, 0, "catalog_open(%s): %d (%s)", db, r, dvm_ctx_last_error(ctx));
}

static void teardown(void)
{
        char cmd[128];
        cat = catalog_close(cat);
        ctx = dvm_ctx_free(ctx);
        snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
        if (dir[0] && system(cmd) != 0)
                cr_log_warn("could not remove %s", dir);
}

TestSuite(catalog_preload, .init = setup, .fini = teardown, .timeout = 30);

static void put_vm(const char *name, enum dvm_vm_kind kind, const char *template)
{
        struct cat_vm vm = { .kind = kind, .running = true };
        snprintf(vm.name, sizeof(vm.name), "%s", name);
        snprintf(vm.template, sizeof(vm.template), "%s", template);
        int r = catalog_vm_put(cat, &vm);
        cr_assert_eq(r, 0, "catalog_vm_put(%s): %d (%s)", name, r, dvm_ctx_last_error(ctx));
}

static void put_ready(const char *vm, const char *dvm)
{
        put_vm(vm, DVM_VM_DISPOSABLE, dvm);
        int r = catalog_ready_put(cat, vm, dvm);
        cr_assert_eq(r, 0, "catalog_ready_put(%s): %d (%s)", vm, r, dvm_ctx_last_error(ctx));
}

Test(catalog_preload, setting_round_trip)
{
        struct cat_preload p = { .count = 3 }, got;

        snprintf(p.dvm, sizeof(p.dvm), "d");
        cr_expect_eq(catalog_preload_get(cat, "d", &got), -ENOENT, "a setting before any was put");
        cr_assert_eq(catalog_preload_put(cat, &p), 0, "put: %s", dvm_ctx_last_error(ctx));
        snprintf(p.note, sizeof(p.note), "1 of 3 ready: the space guard");
        cr_assert_eq(catalog_preload_put(cat, &p), 0, "put again: %s", dvm_ctx_last_error(ctx));
        cr_assert_eq(catalog_preload_get(cat, "d", &got), 0, "get: %s", dvm_ctx_last_error(ctx));
        cr_expect_eq(got.count, 3u, "count %u", got.count);
        cr_expect_str_eq(got.note, p.note, "note \"%s\"", got.note);
        cr_assert_eq(catalog_preload_delete(cat, "d"), 0, "delete");
        cr_expect_eq(catalog_preload_delete(cat, "d"), 0, "delete of an absent setting");
        cr_expect_eq(catalog_preload_get(cat, "d", &got), -ENOENT, "the setting outlived its delete");
}

Test(catalog_preload, ready_oldest_first_per_template)
{
        char(*list)[DVM_NAME_MAX + 1] = NULL;

        put_ready("disp9", "d");
        put_ready("disp2", "e");
        put_ready("disp3", "d");
        int n = catalog_ready_list(cat, "d", &list);
        cr_assert_eq(n, 2, "ready of d: %d", n);
        cr_expect_str_eq(list[0], "disp9", "the oldest first: %s", list[0]);
        cr_expect_str_eq(list[1], "disp3", "then %s", list[1]);
        free(list);
        n = catalog_ready_list(cat, NULL, &list);
        cr_expect_eq(n, 3, "ready of every DVM Template: %d", n);
        free(list);
        cr_expect_eq(catalog_ready_is(cat, "disp2"), 1, "disp2 is ready");
        cr_expect_eq(catalog_ready_delete(cat, "disp2"), 0, "delete");
        cr_expect_eq(catalog_ready_is(cat, "disp2"), 0, "disp2 is ready after its delete");
}

/* A VM's row going takes its ready row (and a DVM Template's its setting): a new VM of the
 * same name is not ready. */
Test(catalog_preload, rows_go_with_their_vm)
{
        struct cat_preload p = { .count = 1 }, got;

        put_vm("d", DVM_VM_DVM_TEMPLATE, "t");
        snprintf(p.dvm, sizeof(p.dvm), "d");
        cr_assert_eq(catalog_preload_put(cat, &p), 0, "put");
        put_ready("disp1", "d");
        cr_assert_eq(catalog_vm_delete(cat, "disp1"), 0, "delete disp1: %s", dvm_ctx_last_error(ctx));
        cr_expect_eq(catalog_ready_is(cat, "disp1"), 0, "disp1's ready row outlived it");
        put_vm("disp1", DVM_VM_DISPOSABLE, "d");
        cr_expect_eq(catalog_ready_is(cat, "disp1"), 0, "a new disp1 is taken for the old ready one");
        cr_assert_eq(catalog_vm_delete(cat, "d"), 0, "delete d");
        cr_expect_eq(catalog_preload_get(cat, "d", &got), -ENOENT, "d's setting outlived it");
}
