/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the catalog: the handle, what each store/catalog_*.c file declares about its tables,
 * and the statement helpers they share. Only store/catalog*.c include it (with <sqlite3.h>).
 */
#ifndef DVM_CATALOG_DB_H
#define DVM_CATALOG_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "util/ctx.h"

typedef struct catalog catalog;

struct catalog {
        dvm_ctx *ctx;
        sqlite3 *db;
        char *path;
        char *layer_users_sql;             /* built at open from the parts' layer_users */
        char *layer_ids_sql;               /* built at open from the parts' layer_ids */
};

/*
 * What one catalog_*.c file stores: its tables, created at an open when the catalog's
 * schema number is not that of today's text (so a catalog from before gains new ones), and
 * how its rows take part in what spans tables. Each statement field may be NULL. catalog.c lists every part; a new kind of row is a new file and a new
 * line there.
 */
struct catalog_part {
        const char *schema;                /* CREATE ... IF NOT EXISTS statements */
        const char *const *delete_vm;      /* NULL-ended: delete VM ?1's rows (catalog_vm_delete) */
        const char *const *delete_volume;  /* NULL-ended: delete volume ?1/?2's rows (catalog_volume_forget) */
        const char *layer_users;           /* a COUNT(*) of the rows that need layer id ?1 */
        const char *layer_ids;             /* a SELECT of every layer id the rows hold */
};

extern const struct catalog_part catalog_meta_part, catalog_vm_part, catalog_volume_part,
        catalog_domain_part, catalog_intent_part, catalog_layer_part, catalog_preload_part;

/** db_parts() - every part, in the order their rows are deleted. Returns their count. */
size_t db_parts(const struct catalog_part *const **ret_parts);

/** db_release() - give back statement @st of db_prepare() (NULL: nothing): reset, kept for its next use or finalized. */
void db_release(sqlite3_stmt *st);
/** db_forget() - finalize the kept statements of connection @db, before it is closed. */
void db_forget(sqlite3 *db);

DEFINE_CLEANUP(sqlite3_stmt *, db_release)
#define _cleanup_stmt_ _cleanup_(db_releasep)

/** db_error() - record SQLite result @rc of @what as the last error. Returns its -errno. */
int db_error(catalog *cat, int rc, const char *what);
/**
 * db_prepare() - the one statement @sql, ready to bind and step: a kept one that nobody
 * uses, else compiled now (and kept when there is room). @sql must stay unchanged while
 * the catalog is open to be found again (a text that changed is compiled anew). Give it back with
 * db_release() (_cleanup_stmt_). Returns 0 or -errno.
 */
int db_prepare(catalog *cat, const char *sql, sqlite3_stmt **ret);
/** db_exec() - run @sql, statements without parameters, compiled each time. Returns 0 or -errno. */
int db_exec(catalog *cat, const char *sql);
/** db_run() - run the one statement @sql, without parameters or rows, through the cache. Returns 0 or -errno. */
int db_run(catalog *cat, const char *sql);
/** db_step_done() - step @st, a statement that returns no rows. Returns 0 or -errno. */
int db_step_done(catalog *cat, sqlite3_stmt *st, const char *what);
/** db_step_row() - step @st, a statement of at most one row. Returns 0 at the row, -ENOENT without, or -errno. */
int db_step_row(catalog *cat, sqlite3_stmt *st, const char *what);
/** db_exec_text() - run @sql, without rows, with the text @arg as ?1. Returns 0 or -errno. */
int db_exec_text(catalog *cat, const char *sql, const char *arg, const char *what);
/** db_prepare_volume() - compile @sql and bind volume @vm/@vol as ?1 and ?2. Returns 0 or -errno. */
int db_prepare_volume(catalog *cat, const char *sql, const char *vm, const char *vol, sqlite3_stmt **ret);
/** db_count() - the number @sql (one row, one column) gives, with @arg as ?1 unless negative. */
int db_count(catalog *cat, const char *sql, int64_t arg);
/**
 * db_rows() - step @st to its end, reading each row with @from_row into an element of
 * @size bytes. Returns the count and a malloc'd array (one zeroed element past the last,
 * so never NULL) in @ret, or -errno.
 */
int db_rows(catalog *cat, sqlite3_stmt *st, size_t size, void (*from_row)(sqlite3_stmt *st, void *row),
            const char *what, void **ret);
/** db_copy_text() - column @col as a string in @dst ("" for NULL), cut to @len. */
void db_copy_text(char *dst, size_t len, sqlite3_stmt *st, int col);
/** db_bind_id() - bind layer id @id as @col: NULL when negative (none). */
void db_bind_id(sqlite3_stmt *st, int col, int64_t id);
/** db_column_id() - layer id column @col: -1 for NULL. */
int64_t db_column_id(sqlite3_stmt *st, int col);
/** db_row_i64() - a db_rows() reader: column 0 into an int64_t. */
void db_row_i64(sqlite3_stmt *st, void *row);

#endif
