// SPDX-License-Identifier: GPL-2.0-or-later
/* The preload rows: how many disposables a DVM Template keeps ready (preload) and the ready
 * disposables, built and handed out to no one (ready). Both go with their VM's row. */
#include <stdio.h>

#include "store/catalog_db.h"
#include "store/catalog_preload.h"

static const char *const delete_vm[] = { "DELETE FROM ready WHERE vm = ?", "DELETE FROM preload WHERE dvm = ?", NULL };

const struct catalog_part catalog_preload_part = {
        .schema = "CREATE TABLE IF NOT EXISTS preload("
                  "  dvm TEXT PRIMARY KEY, count INTEGER NOT NULL, note TEXT NOT NULL DEFAULT '');"
                  "CREATE TABLE IF NOT EXISTS ready("
                  "  vm TEXT PRIMARY KEY, dvm TEXT NOT NULL, seq INTEGER NOT NULL);",
        .delete_vm = delete_vm,
};

static void preload_from_row(sqlite3_stmt *st, void *row)
{
        struct cat_preload *p = row;

        *p = (struct cat_preload){ .count = (unsigned)sqlite3_column_int64(st, 1) };
        db_copy_text(p->dvm, sizeof(p->dvm), st, 0);
        db_copy_text(p->note, sizeof(p->note), st, 2);
}

int catalog_preload_get(catalog *cat, const char *dvm, struct cat_preload *ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r = db_prepare(cat, "SELECT dvm, count, note FROM preload WHERE dvm = ?", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, dvm, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_error(cat, rc, "read preload setting");
        preload_from_row(st, ret);
        return 0;
}

int catalog_preload_put(catalog *cat, const struct cat_preload *p)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(cat, "INSERT OR REPLACE INTO preload(dvm, count, note) VALUES(?, ?, ?)", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, p->dvm, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, p->count);
        sqlite3_bind_text(st, 3, p->note, -1, SQLITE_STATIC);
        return db_step_done(cat, st, "write preload setting");
}

int catalog_preload_delete(catalog *cat, const char *dvm)
{
        return db_exec_text(cat, "DELETE FROM preload WHERE dvm = ?", dvm, "delete preload setting");
}

int catalog_preload_list(catalog *cat, struct cat_preload **ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        void *rows;
        int n = db_prepare(cat, "SELECT dvm, count, note FROM preload ORDER BY dvm", &st);

        if (n >= 0)
                n = db_rows(cat, st, sizeof(struct cat_preload), preload_from_row, "list preload settings", &rows);
        if (n >= 0)
                *ret = rows;
        return n;
}

int catalog_ready_put(catalog *cat, const char *vm, const char *dvm)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        /* seq orders them by when they were made: a spawn takes the oldest */
        int r = db_prepare(cat, "INSERT OR REPLACE INTO ready(vm, dvm, seq) "
                                "VALUES(?1, ?2, (SELECT IFNULL(MAX(seq), 0) + 1 FROM ready))", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, dvm, -1, SQLITE_STATIC);
        return db_step_done(cat, st, "write ready disposable");
}

int catalog_ready_delete(catalog *cat, const char *vm)
{
        return db_exec_text(cat, "DELETE FROM ready WHERE vm = ?", vm, "delete ready disposable");
}

int catalog_ready_is(catalog *cat, const char *vm)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r = db_prepare(cat, "SELECT 1 FROM ready WHERE vm = ?", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return 0;
        return rc == SQLITE_ROW ? 1 : db_error(cat, rc, "read ready disposable");
}

static void name_from_row(sqlite3_stmt *st, void *row)
{
        db_copy_text(row, DVM_NAME_MAX + 1, st, 0);
}

int catalog_ready_list(catalog *cat, const char *dvm, char (**ret)[DVM_NAME_MAX + 1])
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        void *rows;
        int n = db_prepare(cat, "SELECT vm FROM ready WHERE ?1 IS NULL OR dvm = ?1 ORDER BY seq", &st);

        if (n < 0)
                return n;
        if (dvm)
                sqlite3_bind_text(st, 1, dvm, -1, SQLITE_STATIC);
        n = db_rows(cat, st, DVM_NAME_MAX + 1, name_from_row, "list ready disposables", &rows);
        if (n >= 0)
                *ret = rows;
        return n;
}
