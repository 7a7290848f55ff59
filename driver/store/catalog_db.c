// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The statement helpers every catalog_*.c file shares: errors as -errno with the catalog's
 * path, prepare, step, the row loop, and the columns that hold layer ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog_db.h"

int db_error(catalog *cat, int rc, const char *what)
{
        int err = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? -EBUSY
                : rc == SQLITE_FULL                        ? -ENOSPC
                : rc == SQLITE_CONSTRAINT                  ? -EEXIST
                : rc == SQLITE_CANTOPEN                    ? -ENOENT
                                                           : -EIO;
        return ctx_error(cat->ctx, err, "catalog %s: %s: %s", cat->path, what, sqlite3_errmsg(cat->db));
}

int db_prepare(catalog *cat, const char *sql, sqlite3_stmt **ret)
{
        int rc = sqlite3_prepare_v2(cat->db, sql, -1, ret, NULL);
        return rc == SQLITE_OK ? 0 : db_error(cat, rc, "prepare");
}

int db_exec(catalog *cat, const char *sql)
{
        int rc = sqlite3_exec(cat->db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : db_error(cat, rc, sql);
}

int db_step_done(catalog *cat, sqlite3_stmt *st, const char *what)
{
        int rc = sqlite3_step(st);
        return rc == SQLITE_DONE ? 0 : db_error(cat, rc, what);
}

int db_step_row(catalog *cat, sqlite3_stmt *st, const char *what)
{
        int rc = sqlite3_step(st);
        return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : db_error(cat, rc, what);
}

int db_exec_text(catalog *cat, const char *sql, const char *arg, const char *what)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(cat, sql, &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        return db_step_done(cat, st, what);
}

int db_prepare_volume(catalog *cat, const char *sql, const char *vm, const char *vol, sqlite3_stmt **ret)
{
        int r = db_prepare(cat, sql, ret);

        if (r < 0)
                return r;
        sqlite3_bind_text(*ret, 1, vm, -1, SQLITE_STATIC);
        sqlite3_bind_text(*ret, 2, vol, -1, SQLITE_STATIC);
        return 0;
}

int db_count(catalog *cat, const char *sql, int64_t arg)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r = db_prepare(cat, sql, &st);

        if (r < 0)
                return r;
        if (arg >= 0)
                sqlite3_bind_int64(st, 1, arg);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return db_error(cat, rc, "count");
        return sqlite3_column_int(st, 0);
}

int db_rows(catalog *cat, sqlite3_stmt *st, size_t size, void (*from_row)(sqlite3_stmt *st, void *row),
            const char *what, void **ret)
{
        _cleanup_free_ char *v = calloc(1, size);
        size_t n = 0, cap = 1;
        int rc;

        if (!v)
                return -ENOMEM;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n + 1 == cap) {
                        char *nv = reallocarray(v, cap * 2, size);
                        if (!nv)
                                return -ENOMEM;
                        v = nv;
                        cap *= 2;
                }
                from_row(st, v + n * size);
                n++;
        }
        if (rc != SQLITE_DONE)
                return db_error(cat, rc, what);
        memset(v + n * size, 0, size);
        *ret = TAKE_PTR(v);
        return (int)n;
}

void db_copy_text(char *dst, size_t len, sqlite3_stmt *st, int col)
{
        const unsigned char *t = sqlite3_column_text(st, col);
        snprintf(dst, len, "%s", t ? (const char *)t : "");
}

void db_bind_id(sqlite3_stmt *st, int col, int64_t id)
{
        if (id < 0)
                sqlite3_bind_null(st, col);
        else
                sqlite3_bind_int64(st, col, id);
}

int64_t db_column_id(sqlite3_stmt *st, int col)
{
        return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, col);
}

void db_row_i64(sqlite3_stmt *st, void *row)
{
        *(int64_t *)row = sqlite3_column_int64(st, 0);
}
