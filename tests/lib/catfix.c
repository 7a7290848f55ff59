// SPDX-License-Identifier: GPL-2.0-or-later
/* The catalog fixture of the store/ unit tests (catfix.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catfix.h"
#include "tmpdir.h"
#include "util/ctx.h"

struct catfix cf;

void catfix_setup(void)
{
        int r;

        cf = (struct catfix){};
        r = tmpdir_new("dvm-test-catalog-", cf.dir, sizeof(cf.dir));
        cr_assert_eq(r, 0, "mkdtemp %s: %s", cf.dir, strerror(-r));
        snprintf(cf.path, sizeof(cf.path), "%s/catalog.db", cf.dir);
        r = dvm_ctx_new(cf.dir, &cf.ctx);
        cr_assert_eq(r, 0, "dvm_ctx_new(%s): %d", cf.dir, r);
        r = catalog_open(cf.ctx, cf.path, &cf.cat);
        cr_assert_eq(r, 0, "catalog_open(%s): %d (%s)", cf.path, r, catfix_err());
}

void catfix_teardown(void)
{
        cf.cat = catalog_close(cf.cat);
        cf.ctx = dvm_ctx_free(cf.ctx);
        if (cf.dir[0])
                tmpdir_remove(cf.dir);
}

const char *catfix_err(void)
{
        return cf.ctx ? dvm_ctx_last_error(cf.ctx) : "(no context)";
}

struct cat_vm catfix_vm(const char *name, enum dvm_vm_kind kind, const char *template)
{
        struct cat_vm vm = { .kind = kind };

        snprintf(vm.name, sizeof(vm.name), "%s", name);
        snprintf(vm.template, sizeof(vm.template), "%s", template ? template : "");
        return vm;
}

void catfix_put_vm(const char *name, enum dvm_vm_kind kind, const char *template)
{
        struct cat_vm vm = catfix_vm(name, kind, template);
        int r = catalog_vm_put(cf.cat, &vm);

        cr_assert_eq(r, 0, "catalog_vm_put(%s): %d (%s)", name, r, catfix_err());
}

struct cat_volume catfix_vol(const char *vm, const char *name, int64_t thin_id, int64_t run_id)
{
        struct cat_volume v = { .size = 1 << 20, .flags = DVM_VOL_RW, .thin_id = thin_id, .run_id = run_id,
                                .source_id = -1 };

        snprintf(v.vm, sizeof(v.vm), "%s", vm);
        snprintf(v.name, sizeof(v.name), "%s", name);
        return v;
}

void catfix_put_vol(const char *vm, const char *name, int64_t thin_id, int64_t run_id)
{
        struct cat_volume v = catfix_vol(vm, name, thin_id, run_id);
        int r = catalog_volume_put(cf.cat, &v);

        cr_assert_eq(r, 0, "catalog_volume_put(%s/%s, %lld, %lld): %d (%s)", vm, name, (long long)thin_id,
                     (long long)run_id, r, catfix_err());
}

int64_t catfix_alloc_id(void)
{
        int64_t id = -2;
        int r = catalog_thin_id_alloc(cf.cat, &id);

        cr_assert_eq(r, 0, "catalog_thin_id_alloc: %d (%s)", r, catfix_err());
        return id;
}

int catfix_count(const char *table)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        char sql[128];
        int rc, n = -1;

        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
        rc = sqlite3_open_v2(cf.path, &db, SQLITE_OPEN_READONLY, NULL);
        cr_assert_eq(rc, SQLITE_OK, "sqlite3_open_v2(%s): %d", cf.path, rc);
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        cr_assert_geq(n, 0, "%s: %d (%s)", sql, rc, rc == SQLITE_OK ? "no row" : sqlite3_errstr(rc));
        return n;
}
