// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The catalog's database: open (WAL, busy timeout, every part's tables), close,
 * transactions, and the pool settings (meta). The rows themselves are in the
 * store/catalog_*.c files, one per kind of row, which with this file and catalog_db.c are
 * the only users of <sqlite3.h>.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog.h"
#include "store/catalog_db.h"
#include "util/fault.h"

const struct catalog_part catalog_meta_part = {
        .schema = "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);",
};

/* What each file stores. The order is the order catalog_vm_delete() and
 * catalog_volume_forget() delete in: the VM and volume rows themselves go first, as before. */
static const struct catalog_part *const parts[] = {
        &catalog_meta_part,   &catalog_vm_part,     &catalog_volume_part,
        &catalog_domain_part, &catalog_intent_part, &catalog_layer_part, &catalog_preload_part,
};

size_t db_parts(const struct catalog_part *const **ret_parts)
{
        *ret_parts = parts;
        return ARRAY_SIZE(parts);
}

/* @head, then each part's @field (offset into the struct) wrapped in @pre/@post and joined
 * by @sep, then @tail; the parts without one are left out. Returns a malloc'd string. */
static char *join_parts(const char *head, size_t field, const char *pre, const char *post, const char *sep,
                        const char *tail)
{
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        bool first = true;

        if (!f)
                return NULL;
        fputs(head, f);
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                const char *sql = *(const char *const *)((const char *)parts[i] + field);
                if (!sql)
                        continue;
                fprintf(f, "%s%s%s%s", first ? "" : sep, pre, sql, post);
                first = false;
        }
        fputs(tail, f);
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

uint32_t catalog_schema_print(void)
{
        uint32_t h = 2166136261u;          /* FNV-1a */

        for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
                for (const char *c = parts[i]->schema; c && *c; c++)
                        h = (h ^ (unsigned char)*c) * 16777619u;
        return (h & 0x7fffffffu) | 1u;
}

/*
 * Every part's tables, unless the database says they were made from this very schema text:
 * its header keeps catalog_schema_print() (PRAGMA user_version) once they were. An open of a
 * catalog that has them is then one read of that header, not a transaction per part (the
 * hook's add opens the catalog each time). A catalog from before a part existed, or from an
 * older schema text, has another number and gets every CREATE ... IF NOT EXISTS, in one
 * transaction that also writes the number.
 */
static int schema_ensure(catalog *cat)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        uint32_t print = catalog_schema_print();
        char sql[48];
        int r = db_prepare(cat, "PRAGMA user_version", &st);

        if (r < 0 || (r = db_step_row(cat, st, "read the schema version")) < 0)
                return r;
        if ((uint32_t)sqlite3_column_int64(st, 0) == print)
                return 0;
        db_release(st);
        st = NULL;
        /* outside a transaction, as SQLite wants it; a file's journal mode stays once set */
        if ((r = db_exec(cat, "PRAGMA journal_mode=WAL;")) < 0 || (r = catalog_begin(cat)) < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(parts); i++)
                if (parts[i]->schema)
                        r = db_exec(cat, parts[i]->schema);
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %" PRIu32, print);
        if (r >= 0)
                r = db_exec(cat, sql);
        /* not catalog_commit(): its fault point is a step of the changes the crash walks kill */
        if (r >= 0)
                r = db_run(cat, "COMMIT");
        if (r < 0)
                catalog_rollback(cat);
        return r;
}

int catalog_open(dvm_ctx *ctx, const char *path, catalog **ret_cat)
{
        catalog *cat = calloc(1, sizeof(*cat));
        int rc, r;

        if (!cat)
                return -ENOMEM;
        cat->ctx = ctx;
        cat->path = strdup(path);
        /* thin_id_alloc's count of the rows that need an id, and every id the rows hold */
        cat->layer_users_sql = join_parts("SELECT ", offsetof(struct catalog_part, layer_users), "(", ")", " + ", "");
        cat->layer_ids_sql = join_parts("", offsetof(struct catalog_part, layer_ids), "", "", " UNION ", " ORDER BY 1");
        if (!cat->path || !cat->layer_users_sql || !cat->layer_ids_sql) {
                catalog_close(cat);
                return -ENOMEM;
        }
        rc = sqlite3_open_v2(path, &cat->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                r = db_error(cat, rc, "open");
                catalog_close(cat);
                return r;
        }
        sqlite3_busy_timeout(cat->db, 30000);
        ctx_debug(ctx, "catalog %s: open", path);
        r = db_exec(cat, "PRAGMA synchronous=FULL;");
        if (r >= 0)
                r = schema_ensure(cat);
        if (r >= 0)
                ctx_debug(ctx, "catalog %s: schema checked", path);
        if (r < 0) {
                catalog_close(cat);
                return r;
        }
        *ret_cat = cat;
        return 0;
}

catalog *catalog_close(catalog *cat)
{
        if (cat) {
                db_forget(cat->db);
                sqlite3_close(cat->db);
                free(cat->path);
                free(cat->layer_users_sql);
                free(cat->layer_ids_sql);
                free(cat);
        }
        return NULL;
}

int catalog_begin(catalog *cat)
{
        return db_run(cat, "BEGIN IMMEDIATE");
}

int catalog_commit(catalog *cat)
{
        int r = db_run(cat, "COMMIT");

        if (r >= 0)
                FAULT_POINT("catalog.commit");
        return r;
}

void catalog_rollback(catalog *cat)
{
        if (!sqlite3_get_autocommit(cat->db))
                sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
}

int catalog_meta_get(catalog *cat, const char *key, char **ret_value)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(cat, "SELECT value FROM meta WHERE key = ?", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        r = db_step_row(cat, st, "read setting");
        if (r < 0)
                return r;
        char *v = strdup((const char *)sqlite3_column_text(st, 0));
        if (!v)
                return -ENOMEM;
        *ret_value = v;
        return 0;
}

/* @v as a number: digits only (strtoull() alone would take " 5", "+5" and "-1" as 2^64 - 1) */
static bool parse_u64(const char *v, uint64_t *ret_value)
{
        char *end;

        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        if (!isdigit((unsigned char)v[0]) || errno || *end)
                return false;
        *ret_value = n;
        return true;
}

int catalog_meta_get_u64(catalog *cat, const char *key, uint64_t *ret_value)
{
        _cleanup_free_ char *v = NULL;
        int r = catalog_meta_get(cat, key, &v);

        if (r < 0)
                return r;
        if (!parse_u64(v, ret_value))
                return ctx_error(cat->ctx, -EINVAL, "catalog %s: setting %s is not a number: \"%s\"",
                                 cat->path, key, v);
        return 0;
}

int catalog_meta_marks(catalog *cat, struct cat_marks *ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(cat, "SELECT (SELECT value FROM meta WHERE key = 'boot_id'), "
                                "(SELECT value FROM meta WHERE key = 'transaction_id'), "
                                "(SELECT value FROM meta WHERE key = 'dirty')", &st);

        if (r < 0)
                return r;
        if ((r = db_step_row(cat, st, "read the marks of a change")) < 0)
                return r;
        const char *txn = (const char *)sqlite3_column_text(st, 1), *dirty = (const char *)sqlite3_column_text(st, 2);
        *ret = (struct cat_marks){ .dirty = dirty && strcmp(dirty, "0") != 0 };
        db_copy_text(ret->boot_id, sizeof(ret->boot_id), st, 0);
        ret->has_transaction_id = txn && parse_u64(txn, &ret->transaction_id);
        return 0;
}

int catalog_meta_set(catalog *cat, const char *key, const char *value)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(cat, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        return db_step_done(cat, st, "write setting");
}

int catalog_meta_delete(catalog *cat, const char *key)
{
        return db_exec_text(cat, "DELETE FROM meta WHERE key = ?", key, "delete setting");
}

int catalog_meta_set_u64(catalog *cat, const char *key, uint64_t value)
{
        char buf[24];
        snprintf(buf, sizeof(buf), "%" PRIu64, value);
        return catalog_meta_set(cat, key, buf);
}
