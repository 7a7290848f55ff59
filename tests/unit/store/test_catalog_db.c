// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of store/catalog_db.c, the statement helpers of the catalog files, on a real
 * catalog's database: the row loop at 0, 1 and many rows, one-row steps, layer ids as NULL,
 * and SQLite errors as -errno with a message naming the catalog.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catfix.h"
#include "store/catalog_db.h"

TestSuite(catalog_db, .init = catfix_setup, .fini = catfix_teardown, .timeout = 30);

static void exec(const char *sql)
{
        int r = db_exec(cf.cat, sql);

        cr_assert_eq(r, 0, "%s: %d (%s)", sql, r, catfix_err());
}

/* the ids of table t, listed with db_rows(); @n rows 0..n-1 were put in */
static void want_rows(int n)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int64_t *ids = NULL;
        void *rows = NULL;
        int r = db_prepare(cf.cat, "SELECT id FROM t ORDER BY id", &st);

        cr_assert_eq(r, 0, "prepare: %d (%s)", r, catfix_err());
        r = db_rows(cf.cat, st, sizeof(int64_t), db_row_i64, "list t", &rows);
        cr_assert_eq(r, n, "db_rows over %d rows: %d (%s)", n, r, catfix_err());
        ids = rows;
        cr_assert_not_null(ids, "db_rows over %d rows gave NULL", n);
        for (int i = 0; i < n; i++)
                cr_expect_eq(ids[i], i, "row %d: %lld", i, (long long)ids[i]);
        cr_expect_eq(ids[n], 0, "the element past the last row: %lld, want 0", (long long)ids[n]);
        free(ids);
}

Test(catalog_db, rows_none_one_many)
{
        exec("CREATE TABLE t(id INTEGER PRIMARY KEY)");
        want_rows(0);
        exec("INSERT INTO t VALUES(0)");
        want_rows(1);
        /* past several doublings of the array */
        exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1028) "
             "INSERT INTO t SELECT x FROM c");
        want_rows(1029);
}

Test(catalog_db, step_row)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        exec("CREATE TABLE t(id INTEGER PRIMARY KEY)");
        r = db_prepare(cf.cat, "SELECT id FROM t", &st);
        cr_assert_eq(r, 0, "prepare: %d (%s)", r, catfix_err());
        r = db_step_row(cf.cat, st, "read t");
        cr_expect_eq(r, -ENOENT, "no row: %d", r);
        exec("INSERT INTO t VALUES(7)");
        sqlite3_reset(st);
        r = db_step_row(cf.cat, st, "read t");
        cr_expect_eq(r, 0, "one row: %d (%s)", r, catfix_err());
}

/* a layer id below 0 (none) is NULL in the table, and NULL reads back as -1 */
Test(catalog_db, layer_id_null)
{
        static const int64_t ids[] = { -1, 0, 16777215 };

        exec("CREATE TABLE t(n INTEGER, id INTEGER)");
        for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
                _cleanup_stmt_ sqlite3_stmt *ins = NULL, *sel = NULL;
                int r = db_prepare(cf.cat, "INSERT INTO t VALUES(?1, ?2)", &ins);

                cr_assert_eq(r, 0, "prepare: %d (%s)", r, catfix_err());
                sqlite3_bind_int64(ins, 1, (int64_t)i);
                db_bind_id(ins, 2, ids[i]);
                r = db_step_done(cf.cat, ins, "insert");
                cr_assert_eq(r, 0, "insert id %lld: %d (%s)", (long long)ids[i], r, catfix_err());
                r = db_prepare(cf.cat, "SELECT id, id IS NULL FROM t WHERE n = ?1", &sel);
                cr_assert_eq(r, 0, "prepare: %d (%s)", r, catfix_err());
                sqlite3_bind_int64(sel, 1, (int64_t)i);
                r = db_step_row(cf.cat, sel, "read");
                cr_assert_eq(r, 0, "read id %lld back: %d (%s)", (long long)ids[i], r, catfix_err());
                cr_expect_eq(sqlite3_column_int(sel, 1), ids[i] < 0, "id %lld stored as NULL: %d", (long long)ids[i],
                             sqlite3_column_int(sel, 1));
                cr_expect_eq(db_column_id(sel, 0), ids[i], "id %lld read back as %lld", (long long)ids[i],
                             (long long)db_column_id(sel, 0));
        }
}

/* SQLite's errors: -errno, and one line naming the catalog's path, what was done, and why */
Test(catalog_db, errors_name_the_catalog)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const char *msg;
        int r;

        exec("CREATE TABLE t(id INTEGER PRIMARY KEY)");
        exec("INSERT INTO t VALUES(1)");
        r = db_exec_text(cf.cat, "INSERT INTO t VALUES(?)", "1", "write t");
        cr_expect_eq(r, -EEXIST, "a constraint: %d, want %d", r, -EEXIST);
        msg = catfix_err();
        cr_expect(strstr(msg, cf.path) && strstr(msg, "write t") && strstr(msg, "UNIQUE"),
                  "the error does not name the catalog, the step and the cause: \"%s\"", msg);

        r = db_prepare(cf.cat, "SELECT nosuch FROM t", &st);
        cr_expect_eq(r, -EIO, "a bad statement: %d, want %d", r, -EIO);
        msg = catfix_err();
        cr_expect(strstr(msg, cf.path) && strstr(msg, "nosuch"), "the error does not name the catalog and the column: \"%s\"",
                  msg);
}

/*
 * The statement cache: a statement given back is lent again for the same SQL, reset and
 * with no binding left; one still lent is never lent twice (a nested use of the same SQL
 * gets a statement of its own); the same address with another text is another statement.
 */
Test(catalog_db, statements_kept_and_lent_once)
{
        static const char *const sql = "SELECT ?1";
        sqlite3_stmt *a = NULL, *b = NULL, *c = NULL;
        char text[32];

        cr_assert_eq(db_prepare(cf.cat, sql, &a), 0, "prepare: %s", catfix_err());
        sqlite3_bind_int(a, 1, 7);
        cr_assert_eq(db_step_row(cf.cat, a, "select"), 0, "step: %s", catfix_err());
        cr_expect_eq(sqlite3_column_int(a, 0), 7, "the bound value");
        cr_assert_eq(db_prepare(cf.cat, sql, &b), 0, "nested prepare: %s", catfix_err());
        cr_expect_neq(a, b, "a statement still in use was lent a second time");
        db_release(b);
        db_release(a);

        cr_assert_eq(db_prepare(cf.cat, sql, &c), 0, "prepare again: %s", catfix_err());
        cr_expect(c == a || c == b, "the statement given back was compiled anew, not kept");
        cr_expect(!sqlite3_stmt_busy(c), "the kept statement was not reset");
        cr_assert_eq(db_step_row(cf.cat, c, "select"), 0, "step: %s", catfix_err());
        cr_expect_eq(sqlite3_column_type(c, 0), SQLITE_NULL, "a binding of the last user is left");
        db_release(c);

        /* a buffer whose text changes between uses: the address alone does not match */
        snprintf(text, sizeof(text), "SELECT 1");
        cr_assert_eq(db_prepare(cf.cat, text, &a), 0, "prepare: %s", catfix_err());
        db_release(a);
        snprintf(text, sizeof(text), "SELECT 2");
        cr_assert_eq(db_prepare(cf.cat, text, &b), 0, "prepare: %s", catfix_err());
        cr_assert_eq(db_step_row(cf.cat, b, "select"), 0, "step: %s", catfix_err());
        cr_expect_eq(sqlite3_column_int(b, 0), 2, "a statement of another text was lent for the same address");
        db_release(b);
        db_release(NULL);
}
