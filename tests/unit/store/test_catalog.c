// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of store/catalog.c on a throwaway SQLite file: open (every part's tables, on a
 * new file and on one from before a part existed), settings, and transactions across two
 * connections.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catfix.h"
#include "store/catalog.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"
#include "util/ctx.h"

TestSuite(catalog, .init = catfix_setup, .fini = catfix_teardown, .timeout = 30);

Test(catalog, open_creates_and_reopens)
{
        struct stat st;
        char *v = NULL;
        int r;

        cr_assert_eq(stat(cf.path, &st), 0, "%s was not created: %s", cf.path, strerror(errno));
        r = catalog_meta_set(cf.cat, "backend", "thin");
        cr_assert_eq(r, 0, "meta_set: %d", r);
        cf.cat = catalog_close(cf.cat);
        cr_assert_null(cf.cat, "catalog_close() returned %p, not NULL", (void *)cf.cat);

        r = catalog_open(cf.ctx, cf.path, &cf.cat);
        cr_assert_eq(r, 0, "reopen: %d (%s)", r, catfix_err());
        r = catalog_meta_get(cf.cat, "backend", &v);
        cr_assert_eq(r, 0, "meta_get after reopen: %d", r);
        cr_expect_str_eq(v, "thin", "after reopen: \"%s\"", v);
        free(v);
}

Test(catalog, open_fails_in_missing_directory)
{
        catalog *other = (catalog *)0x1;
        char path[192];
        int r;

        snprintf(path, sizeof(path), "%s/no/such/dir/catalog.db", cf.dir);
        r = catalog_open(cf.ctx, path, &other);
        cr_expect_eq(r, -ENOENT, "catalog_open(%s) returned %d", path, r);
        cr_expect_eq(other, (catalog *)0x1, "failed open set the handle to %p", (void *)other);
        cr_expect(strstr(catfix_err(), path) != NULL, "the error does not name the path: \"%s\"",
                  catfix_err());
}

Test(catalog, close_null)
{
        catalog *closed = catalog_close(NULL);

        cr_assert_null(closed, "catalog_close(NULL) returned %p, not NULL", (void *)closed);
}

Test(catalog, meta_get_set)
{
        char *v = (char *)0x1;
        int r;

        r = catalog_meta_get(cf.cat, "data", &v);
        cr_expect_eq(r, -ENOENT, "missing key: %d", r);
        cr_expect_eq(v, (char *)0x1, "missing key: value set to %p", (void *)v);

        CF_ASSERT_EQ(catalog_meta_set(cf.cat, "data", "/dev/sdb"), 0, "set");
        CF_ASSERT_EQ(catalog_meta_get(cf.cat, "data", &v), 0, "get");
        cr_expect_str_eq(v, "/dev/sdb", "\"%s\"", v);
        free(v);

        CF_ASSERT_EQ(catalog_meta_set(cf.cat, "data", ""), 0, "overwrite");
        CF_ASSERT_EQ(catalog_meta_get(cf.cat, "data", &v), 0, "get");
        cr_expect_str_eq(v, "", "overwritten with \"\": \"%s\"", v);
        free(v);

        CF_ASSERT_EQ(catalog_meta_set(cf.cat, "path", "/var/lib/dvm-vol/it's \"quoted\""), 0, "quotes");
        CF_ASSERT_EQ(catalog_meta_get(cf.cat, "path", &v), 0, "get");
        cr_expect_str_eq(v, "/var/lib/dvm-vol/it's \"quoted\"", "\"%s\"", v);
        free(v);
}

Test(catalog, meta_u64)
{
        static const uint64_t values[] = { 0, 1, 128, 1ULL << 32, INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX };

        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
                uint64_t got = 42;
                int r = catalog_meta_set_u64(cf.cat, "n", values[i]);

                cr_assert_eq(r, 0, "set %ju: %d", (uintmax_t)values[i], r);
                r = catalog_meta_get_u64(cf.cat, "n", &got);
                cr_expect_eq(r, 0, "get %ju: %d (%s)", (uintmax_t)values[i], r, catfix_err());
                cr_expect_eq(got, values[i], "set %ju, got %ju", (uintmax_t)values[i], (uintmax_t)got);
        }
}

Test(catalog, meta_u64_rejects_non_numbers)
{
        static const char *const bad[] = {
                "", "abc", "12x", "x12", "1.5", "0x10", "-1", "-0", "+1", " 5", "5 ", "\t5",
                "18446744073709551616", "99999999999999999999999",
        };
        uint64_t got;
        int r;

        r = catalog_meta_get_u64(cf.cat, "absent", &got);
        cr_expect_eq(r, -ENOENT, "absent key: %d", r);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                got = 42;
                cr_assert_eq(catalog_meta_set(cf.cat, "n", bad[i]), 0, "set \"%s\"", bad[i]);
                r = catalog_meta_get_u64(cf.cat, "n", &got);
                cr_expect_eq(r, -EINVAL, "\"%s\" read as a number: returned %d, value %ju", bad[i], r,
                             (uintmax_t)got);
                cr_expect_eq(got, 42u, "\"%s\": failed but wrote %ju", bad[i], (uintmax_t)got);
                if (r == -EINVAL)
                        cr_expect(strstr(catfix_err(), "setting n") != NULL,
                                  "\"%s\": the error does not name the setting: \"%s\"", bad[i],
                                  catfix_err());
        }
}

Test(catalog, rollback_undoes)
{
        struct cat_vm got;
        int r;

        cr_assert_eq(catalog_begin(cf.cat), 0, "begin: %s", catfix_err());
        catfix_put_vm("fedora", DVM_VM_TEMPLATE, NULL);
        catfix_put_vol("fedora", "root", 0, -1);
        CF_ASSERT_EQ(catfix_alloc_id(), 1, "allocation inside the transaction");
        catalog_rollback(cf.cat);

        CF_EXPECT_EQ(catalog_vm_get(cf.cat, "fedora", &got), -ENOENT, "the VM survived the rollback");
        cr_expect_eq(catalog_volume_count(cf.cat), 0, "%d volumes survived", catalog_volume_count(cf.cat));
        CF_EXPECT_EQ(catfix_alloc_id(), 0, "the allocator did not roll back");

        /* rollback without a transaction does nothing */
        catalog_rollback(cf.cat);
        CF_ASSERT_EQ(catalog_begin(cf.cat), 0, "begin");
        catfix_put_vm("fedora", DVM_VM_TEMPLATE, NULL);
        cr_assert_eq(catalog_commit(cf.cat), 0, "commit: %s", catfix_err());
        catalog_rollback(cf.cat);
        r = catalog_vm_get(cf.cat, "fedora", &got);
        cr_expect_eq(r, 0, "a committed VM is gone after a stray rollback: %d", r);
}

Test(catalog, nested_begin_fails)
{
        int r;

        CF_ASSERT_EQ(catalog_begin(cf.cat), 0, "begin");
        r = catalog_begin(cf.cat);
        cr_expect_lt(r, 0, "a second begin returned %d", r);
        catalog_rollback(cf.cat);
        r = catalog_commit(cf.cat);
        cr_expect_lt(r, 0, "commit without a transaction returned %d", r);
}

struct second {
        catalog *cat;
        dvm_ctx *ctx;
        int begin_r;
        struct timespec done;
};

static void *second_begin(void *arg)
{
        struct second *s = arg;

        s->begin_r = catalog_begin(s->cat);
        clock_gettime(CLOCK_MONOTONIC, &s->done);
        return NULL;
}

static double since(const struct timespec *a, const struct timespec *b)
{
        return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/*
 * Two processes on one pool: the writer's BEGIN IMMEDIATE makes the other's begin wait (the
 * busy timeout) until it commits, and a reader never sees uncommitted rows.
 */
Test(catalog, two_connections)
{
        struct second s = {};
        struct cat_vm got;
        struct timespec committed;
        pthread_t t;
        int r;

        r = dvm_ctx_new(cf.dir, &s.ctx);
        cr_assert_eq(r, 0, "second ctx: %d", r);
        r = catalog_open(s.ctx, cf.path, &s.cat);
        cr_assert_eq(r, 0, "second open: %d (%s)", r, dvm_ctx_last_error(s.ctx));

        cr_assert_eq(catalog_begin(cf.cat), 0, "first begin: %s", catfix_err());
        catfix_put_vm("fedora", DVM_VM_TEMPLATE, NULL);
        r = catalog_vm_get(s.cat, "fedora", &got);
        cr_expect_eq(r, -ENOENT, "the second connection sees an uncommitted row: %d", r);

        CF_ASSERT_EQ(pthread_create(&t, NULL, second_begin, &s), 0, "pthread_create");
        usleep(300 * 1000);
        clock_gettime(CLOCK_MONOTONIC, &committed);
        cr_assert_eq(catalog_commit(cf.cat), 0, "first commit: %s", catfix_err());
        pthread_join(t, NULL);

        cr_expect_eq(s.begin_r, 0, "the second begin returned %d (%s)", s.begin_r, dvm_ctx_last_error(s.ctx));
        cr_expect_geq(since(&committed, &s.done), 0.0,
                      "the second begin returned %.3f s before the first committed", -since(&committed, &s.done));
        r = catalog_vm_get(s.cat, "fedora", &got);
        cr_expect_eq(r, 0, "the second connection does not see the committed row: %d", r);
        if (s.begin_r == 0)
                cr_expect_eq(catalog_commit(s.cat), 0, "second commit: %s", dvm_ctx_last_error(s.ctx));
        catalog_close(s.cat);
        dvm_ctx_free(s.ctx);
}

/* ---- the parts' tables ------------------------------------------------------------------ */

/* The tables of @path, by name, one string "a b c" (read with SQLite, not the catalog). */
static void tables_of(const char *path, char *buf, size_t len)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        size_t at = 0;
        int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);

        cr_assert_eq(rc, SQLITE_OK, "open %s: %s", path, sqlite3_errstr(rc));
        rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", -1, &st, NULL);
        cr_assert_eq(rc, SQLITE_OK, "list tables of %s: %s", path, sqlite3_errmsg(db));
        buf[0] = '\0';
        while (sqlite3_step(st) == SQLITE_ROW)
                at += (size_t)snprintf(buf + at, at < len ? len - at : 0, "%s%s", at ? " " : "",
                                       (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        sqlite3_close(db);
}

#define ALL_TABLES "attachments domains imports intents meta preload ready revisions vms volume_settings volumes"

/* every part's tables are there after the first open */
Test(catalog, open_creates_every_part)
{
        char tables[512];

        tables_of(cf.path, tables, sizeof(tables));
        cr_expect_str_eq(tables, ALL_TABLES, "tables of a new catalog: \"%s\"", tables);
}

/* A catalog from before a part existed (here: only meta, vms and volumes, with rows) gains
 * the missing tables at open and keeps its rows. */
Test(catalog, open_adds_missing_parts_and_keeps_rows)
{
        char path[192], tables[512], *v = NULL;
        struct cat_vm vm;
        struct cat_volume vol;
        catalog *old = NULL;
        sqlite3 *db = NULL;
        int rc, r;

        snprintf(path, sizeof(path), "%s/old.db", cf.dir);
        rc = sqlite3_open(path, &db);
        cr_assert_eq(rc, SQLITE_OK, "create %s: %s", path, sqlite3_errstr(rc));
        rc = sqlite3_exec(db,
                          "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                          "CREATE TABLE vms(name TEXT PRIMARY KEY, kind INTEGER NOT NULL, template TEXT NOT NULL "
                          "DEFAULT '', running INTEGER NOT NULL DEFAULT 0, named INTEGER NOT NULL DEFAULT 0);"
                          "CREATE TABLE volumes(vm TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL,"
                          " flags INTEGER NOT NULL, thin_id INTEGER UNIQUE, run_id INTEGER UNIQUE,"
                          " source_vm TEXT NOT NULL DEFAULT '', source_vol TEXT NOT NULL DEFAULT '',"
                          " source_id INTEGER NOT NULL DEFAULT -1, PRIMARY KEY(vm, name));"
                          "INSERT INTO meta VALUES('backend', 'thin');"
                          "INSERT INTO vms(name, kind) VALUES('fedora', 1);"
                          "INSERT INTO volumes(vm, name, size, flags, thin_id) VALUES('fedora', 'root', 4096, 1, 7);",
                          NULL, NULL, NULL);
        cr_assert_eq(rc, SQLITE_OK, "fill %s: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);

        r = catalog_open(cf.ctx, path, &old);
        cr_assert_eq(r, 0, "catalog_open(%s): %d (%s)", path, r, catfix_err());
        tables_of(path, tables, sizeof(tables));
        cr_expect_str_eq(tables, ALL_TABLES, "tables after opening an old catalog: \"%s\"", tables);
        r = catalog_meta_get(old, "backend", &v);
        cr_expect_eq(r, 0, "the setting is gone: %d", r);
        cr_expect_str_eq(v ? v : "", "thin", "setting backend: \"%s\"", v ? v : "");
        free(v);
        r = catalog_vm_get(old, "fedora", &vm);
        cr_expect_eq(r, 0, "the VM row is gone: %d", r);
        r = catalog_volume_get(old, "fedora", "root", &vol);
        cr_expect_eq(r, 0, "the volume row is gone: %d", r);
        cr_expect_eq(vol.thin_id, 7, "thin id %lld, want 7", (long long)vol.thin_id);
        cr_expect_eq(vol.run_id, -1, "run id %lld, want -1 (none)", (long long)vol.run_id);
        catalog_close(old);
}

/* Run @sql on @path with SQLite alone (not the catalog). */
static void sql_on(const char *path, const char *sql)
{
        sqlite3 *db = NULL;
        int rc = sqlite3_open(path, &db);

        cr_assert_eq(rc, SQLITE_OK, "open %s: %s", path, sqlite3_errstr(rc));
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        cr_assert_eq(rc, SQLITE_OK, "%s on %s: %s", sql, path, sqlite3_errmsg(db));
        sqlite3_close(db);
}

/* The header's schema number, read with SQLite alone. */
static uint32_t schema_number_of(const char *path)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        uint32_t v;
        int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);

        cr_assert_eq(rc, SQLITE_OK, "open %s: %s", path, sqlite3_errstr(rc));
        rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
        cr_assert_eq(rc, SQLITE_OK, "read user_version of %s: %s", path, sqlite3_errmsg(db));
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "no user_version row in %s", path);
        v = (uint32_t)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return v;
}

/* An open runs the parts' CREATE statements only on a catalog not made from today's schema
 * text: the first open writes its number, a second open of a catalog that carries it makes
 * nothing (a table dropped behind its back stays gone: nothing ran), and one with another
 * number (an older schema) gets every missing table and today's number. */
Test(catalog, schema_made_once_per_schema_text)
{
        char tables[512];
        uint32_t print = catalog_schema_print();
        int r;

        cr_assert_neq(print, 0, "the schema number is 0, which every new SQLite file has");
        cr_expect_eq(schema_number_of(cf.path), print, "a new catalog's number: %u, want %u",
                     schema_number_of(cf.path), print);
        cf.cat = catalog_close(cf.cat);

        sql_on(cf.path, "DROP TABLE ready");
        r = catalog_open(cf.ctx, cf.path, &cf.cat);
        cr_assert_eq(r, 0, "reopen: %d (%s)", r, catfix_err());
        tables_of(cf.path, tables, sizeof(tables));
        cr_expect_str_eq(tables, "attachments domains imports intents meta preload revisions vms volume_settings volumes",
                         "an open of a catalog of today's schema made tables: \"%s\"", tables);
        cf.cat = catalog_close(cf.cat);

        sql_on(cf.path, "PRAGMA user_version = 12345");
        r = catalog_open(cf.ctx, cf.path, &cf.cat);
        cr_assert_eq(r, 0, "open of an older schema's catalog: %d (%s)", r, catfix_err());
        tables_of(cf.path, tables, sizeof(tables));
        cr_expect_str_eq(tables, ALL_TABLES, "tables after opening an older schema's catalog: \"%s\"", tables);
        cr_expect_eq(schema_number_of(cf.path), print, "its number after the open: %u, want %u",
                     schema_number_of(cf.path), print);
}
