// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The statement helpers every catalog_*.c file shares: errors as -errno with the catalog's
 * path, prepare, step, the row loop, and the columns that hold layer ids.
 */
#include <pthread.h>
#include <stdbool.h>
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

/*
 * The statement cache. Compiling a statement costs more than running most of ours (a
 * spawn taken from a ready disposable runs some thirty, each compiled anew before), so a
 * statement is kept, once compiled, for the next use of the same SQL on the same
 * connection, and lent to one user at a time: db_prepare() lends it, db_release() (the
 * cleanup of _cleanup_stmt_) resets it and takes it back. The cache is shared by every
 * open catalog of the process; a statement it has no room for is finalized after its use.
 */
#define DB_CACHE_MAX 128

static struct {
        sqlite3 *db;
        const char *sql;                   /* the caller's text, compared by address, then by content */
        sqlite3_stmt *st;
        bool lent;
} cache[DB_CACHE_MAX];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* An idle cached statement of @sql on @db, lent from now on; NULL when there is none. */
static sqlite3_stmt *cache_lend(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *st = NULL;

        pthread_mutex_lock(&cache_lock);
        for (size_t i = 0; i < DB_CACHE_MAX && !st; i++)
                if (cache[i].db == db && cache[i].sql == sql && !cache[i].lent &&
                    strcmp(sqlite3_sql(cache[i].st), sql) == 0) {
                        cache[i].lent = true;
                        st = cache[i].st;
                }
        pthread_mutex_unlock(&cache_lock);
        return st;
}

/* Keep @st, just compiled from @sql and lent, when there is room. */
static void cache_keep(sqlite3 *db, const char *sql, sqlite3_stmt *st)
{
        pthread_mutex_lock(&cache_lock);
        for (size_t i = 0; i < DB_CACHE_MAX; i++)
                if (!cache[i].db) {
                        cache[i].db = db;
                        cache[i].sql = sql;
                        cache[i].st = st;
                        cache[i].lent = true;
                        break;
                }
        pthread_mutex_unlock(&cache_lock);
}

int db_prepare(catalog *cat, const char *sql, sqlite3_stmt **ret)
{
        int rc;

        *ret = cache_lend(cat->db, sql);
        if (*ret)
                return 0;
        rc = sqlite3_prepare_v3(cat->db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL);
        if (rc != SQLITE_OK)
                return db_error(cat, rc, "prepare");
        cache_keep(cat->db, sql, *ret);
        return 0;
}

void db_release(sqlite3_stmt *st)
{
        bool kept = false;

        if (!st)
                return;
        pthread_mutex_lock(&cache_lock);
        for (size_t i = 0; i < DB_CACHE_MAX && !kept; i++)
                if (cache[i].st == st) {
                        /* no read transaction is left open by a statement put back */
                        sqlite3_reset(st);
                        sqlite3_clear_bindings(st);
                        cache[i].lent = false;
                        kept = true;
                }
        pthread_mutex_unlock(&cache_lock);
        if (!kept)
                sqlite3_finalize(st);
}

void db_forget(sqlite3 *db)
{
        pthread_mutex_lock(&cache_lock);
        for (size_t i = 0; i < DB_CACHE_MAX; i++)
                if (cache[i].db == db) {
                        sqlite3_finalize(cache[i].st);
                        memset(&cache[i], 0, sizeof(cache[i]));
                }
        pthread_mutex_unlock(&cache_lock);
}

int db_run(catalog *cat, const char *sql)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(cat, sql, &st);

        return r < 0 ? r : db_step_done(cat, st, sql);
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
