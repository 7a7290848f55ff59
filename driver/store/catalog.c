// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The catalog in SQLite: schema, transactions, and row access for pool settings, VMs and
 * volumes; thin ids are allocated here. The only file that includes <sqlite3.h>.
 */
#include <ctype.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/catalog.h"
#include "util/fault.h"

#define THIN_ID_LIMIT (1 << 24)

struct catalog {
        dvm_ctx *ctx;
        sqlite3 *db;
        char *path;
};

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS vms("
        "  name TEXT PRIMARY KEY, kind INTEGER NOT NULL, template TEXT NOT NULL DEFAULT '',"
        "  running INTEGER NOT NULL DEFAULT 0, named INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE IF NOT EXISTS volumes("
        "  vm TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL, flags INTEGER NOT NULL,"
        "  thin_id INTEGER UNIQUE, run_id INTEGER UNIQUE,"
        "  source_vm TEXT NOT NULL DEFAULT '', source_vol TEXT NOT NULL DEFAULT '',"
        "  source_id INTEGER NOT NULL DEFAULT -1,"
        "  PRIMARY KEY(vm, name));"
        "CREATE INDEX IF NOT EXISTS volumes_source_id ON volumes(source_id);"
        "CREATE TABLE IF NOT EXISTS domains("
        "  vm TEXT PRIMARY KEY, domid INTEGER NOT NULL, uuid TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS attachments("
        "  domid INTEGER NOT NULL, devid INTEGER NOT NULL, vdev TEXT NOT NULL, vm TEXT NOT NULL,"
        "  volume TEXT NOT NULL, rw INTEGER NOT NULL, PRIMARY KEY(domid, devid));"
        "CREATE TABLE IF NOT EXISTS intents("
        "  vm TEXT PRIMARY KEY, op INTEGER NOT NULL, since INTEGER NOT NULL, error TEXT NOT NULL DEFAULT '');";

/* The per-volume calls (dvm_volume_*): a volume's settings beyond its row, the committed
 * layers its commits replaced (revisions), and an import under way. Their own statements,
 * created like the tables above at every open (a catalog from before gains them). */
static const char schema_volume_layers[] =
        "CREATE TABLE IF NOT EXISTS volume_settings("
        "  vm TEXT NOT NULL, name TEXT NOT NULL, revisions_to_keep INTEGER NOT NULL DEFAULT 0,"
        "  PRIMARY KEY(vm, name));"
        "CREATE TABLE IF NOT EXISTS revisions("
        "  layer_id INTEGER PRIMARY KEY, vm TEXT NOT NULL, name TEXT NOT NULL,"
        "  time INTEGER NOT NULL, size INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS imports("
        "  vm TEXT NOT NULL, name TEXT NOT NULL, layer_id INTEGER NOT NULL UNIQUE, size INTEGER NOT NULL,"
        "  PRIMARY KEY(vm, name));";

/* The layer ids a volume row needs (committed, running, and the origin of a running
 * snap_on_start layer), and those its revisions and imports hold: ?1 is the id. */
#define LAYER_USERS_SQL                                                                         \
        "SELECT (SELECT COUNT(*) FROM volumes WHERE thin_id = ?1 OR run_id = ?1 "               \
        "OR (source_id = ?1 AND run_id IS NOT NULL AND flags & 1)) + "                          \
        "(SELECT COUNT(*) FROM revisions WHERE layer_id = ?1) + "                               \
        "(SELECT COUNT(*) FROM imports WHERE layer_id = ?1)"

DEFINE_CLEANUP(sqlite3_stmt *, sqlite3_finalize)
#define _cleanup_stmt_ _cleanup_(sqlite3_finalizep)

static int db_error(catalog *cat, int rc, const char *what)
{
        int err = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? -EBUSY
                : rc == SQLITE_FULL                        ? -ENOSPC
                : rc == SQLITE_CONSTRAINT                  ? -EEXIST
                : rc == SQLITE_CANTOPEN                    ? -ENOENT
                                                           : -EIO;
        return ctx_error(cat->ctx, err, "catalog %s: %s: %s", cat->path, what, sqlite3_errmsg(cat->db));
}

static int prepare(catalog *cat, const char *sql, sqlite3_stmt **ret)
{
        int rc = sqlite3_prepare_v2(cat->db, sql, -1, ret, NULL);
        return rc == SQLITE_OK ? 0 : db_error(cat, rc, "prepare");
}

static int exec(catalog *cat, const char *sql)
{
        int rc = sqlite3_exec(cat->db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : db_error(cat, rc, sql);
}

int catalog_open(dvm_ctx *ctx, const char *path, catalog **ret_cat)
{
        catalog *cat = calloc(1, sizeof(*cat));
        int rc, r;

        if (!cat)
                return -ENOMEM;
        cat->ctx = ctx;
        cat->path = strdup(path);
        if (!cat->path) {
                free(cat);
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
        r = exec(cat, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        if (r >= 0)
                r = exec(cat, schema);
        if (r >= 0)
                r = exec(cat, schema_volume_layers);
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
                sqlite3_close(cat->db);
                free(cat->path);
                free(cat);
        }
        return NULL;
}

int catalog_begin(catalog *cat)
{
        return exec(cat, "BEGIN IMMEDIATE");
}

int catalog_commit(catalog *cat)
{
        int r = exec(cat, "COMMIT");

        if (r >= 0)
                FAULT_POINT("catalog.commit");
        return r;
}

void catalog_rollback(catalog *cat)
{
        if (!sqlite3_get_autocommit(cat->db))
                sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Step a statement that returns no rows. */
static int step_done(catalog *cat, sqlite3_stmt *st, const char *what)
{
        int rc = sqlite3_step(st);
        return rc == SQLITE_DONE ? 0 : db_error(cat, rc, what);
}

/* Run @sql, a statement without rows whose one parameter is the text @arg. */
static int exec_text(catalog *cat, const char *sql, const char *arg, const char *what)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(cat, sql, &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        return step_done(cat, st, what);
}

int catalog_meta_get(catalog *cat, const char *key, char **ret_value)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(cat, "SELECT value FROM meta WHERE key = ?", &st);
        int rc;

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_error(cat, rc, "read setting");
        char *v = strdup((const char *)sqlite3_column_text(st, 0));
        if (!v)
                return -ENOMEM;
        *ret_value = v;
        return 0;
}

int catalog_meta_get_u64(catalog *cat, const char *key, uint64_t *ret_value)
{
        _cleanup_free_ char *v = NULL;
        char *end;
        int r = catalog_meta_get(cat, key, &v);

        if (r < 0)
                return r;
        /* strtoull() alone would take " 5", "+5" and "-1" (as 2^64 - 1) */
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        if (!isdigit((unsigned char)v[0]) || errno || *end)
                return ctx_error(cat->ctx, -EINVAL, "catalog %s: setting %s is not a number: \"%s\"",
                                 cat->path, key, v);
        *ret_value = n;
        return 0;
}

int catalog_meta_set(catalog *cat, const char *key, const char *value)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(cat, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        return step_done(cat, st, "write setting");
}

int catalog_meta_delete(catalog *cat, const char *key)
{
        return exec_text(cat, "DELETE FROM meta WHERE key = ?", key, "delete setting");
}

int catalog_meta_set_u64(catalog *cat, const char *key, uint64_t value)
{
        char buf[24];
        snprintf(buf, sizeof(buf), "%" PRIu64, value);
        return catalog_meta_set(cat, key, buf);
}

static void copy_text(char *dst, size_t len, sqlite3_stmt *st, int col)
{
        const unsigned char *t = sqlite3_column_text(st, col);
        snprintf(dst, len, "%s", t ? (const char *)t : "");
}

#define VM_COLS "name, kind, template, running, named"

static void vm_from_row(sqlite3_stmt *st, struct cat_vm *vm)
{
        *vm = (struct cat_vm){};
        copy_text(vm->name, sizeof(vm->name), st, 0);
        vm->kind = (enum dvm_vm_kind)sqlite3_column_int(st, 1);
        copy_text(vm->template, sizeof(vm->template), st, 2);
        vm->running = sqlite3_column_int(st, 3);
        vm->named = sqlite3_column_int(st, 4);
}

int catalog_vm_get(catalog *cat, const char *name, struct cat_vm *ret_vm)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(cat, "SELECT " VM_COLS " FROM vms WHERE name = ?", &st);
        int rc;

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_error(cat, rc, "read VM");
        vm_from_row(st, ret_vm);
        return 0;
}

int catalog_vm_put(catalog *cat, const struct cat_vm *vm)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(cat, "INSERT OR REPLACE INTO vms(" VM_COLS ") VALUES(?, ?, ?, ?, ?)", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, vm->name, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, vm->kind);
        sqlite3_bind_text(st, 3, vm->template, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, vm->running);
        sqlite3_bind_int(st, 5, vm->named);
        return step_done(cat, st, "write VM");
}

int catalog_vm_delete(catalog *cat, const char *name)
{
        static const char *const sql[] = { "DELETE FROM volumes WHERE vm = ?", "DELETE FROM domains WHERE vm = ?",
                                           "DELETE FROM volume_settings WHERE vm = ?",
                                           "DELETE FROM revisions WHERE vm = ?", "DELETE FROM imports WHERE vm = ?",
                                           "DELETE FROM attachments WHERE vm = ?",
                                           "DELETE FROM vms WHERE name = ?" };
        for (size_t i = 0; i < ARRAY_SIZE(sql); i++) {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                int r = prepare(cat, sql[i], &st);
                if (r < 0)
                        return r;
                sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
                r = step_done(cat, st, "delete VM");
                if (r < 0)
                        return r;
        }
        return 0;
}

int catalog_vm_list(catalog *cat, struct cat_vm **ret_vms)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ struct cat_vm *v = NULL;
        size_t n = 0;
        int rc, r = prepare(cat, "SELECT " VM_COLS " FROM vms ORDER BY kind, name", &st);

        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct cat_vm *nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv)
                        return -ENOMEM;
                v = nv;
                vm_from_row(st, &v[n++]);
        }
        if (rc != SQLITE_DONE)
                return db_error(cat, rc, "list VMs");
        *ret_vms = TAKE_PTR(v);
        return (int)n;
}

int catalog_vm_dependents(catalog *cat, const char *name, char ret_first[DVM_NAME_MAX + 1])
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int n = 0, rc, r = prepare(cat, "SELECT name FROM vms WHERE template = ? ORDER BY name", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n++ == 0 && ret_first)
                        copy_text(ret_first, DVM_NAME_MAX + 1, st, 0);
        }
        return rc == SQLITE_DONE ? n : db_error(cat, rc, "list dependents");
}

#define DISP_NAME_LIMIT 1000000u

int catalog_disposable_name(catalog *cat, char ret_name[DVM_NAME_MAX + 1])
{
        uint64_t next = 0;
        int r = catalog_meta_get_u64(cat, "next_disposable", &next);

        if (r < 0 && r != -ENOENT)
                return r;
        /* Numbers advance from the last one given, like thin ids: a name is not handed out
         * again at once, and a pool with many live disposables finds a free one in one look
         * instead of trying every number from 1. */
        next = next % (DISP_NAME_LIMIT - 1);
        for (unsigned tries = 0; tries < DISP_NAME_LIMIT - 1; tries++, next = (next + 1) % (DISP_NAME_LIMIT - 1)) {
                struct cat_vm vm;
                snprintf(ret_name, DVM_NAME_MAX + 1, "disp%u", (unsigned)next + 1);
                r = catalog_vm_get(cat, ret_name, &vm);
                if (r == -ENOENT)
                        return catalog_meta_set_u64(cat, "next_disposable", next + 1);
                if (r < 0)
                        return r;
        }
        return -ENOSPC;
}

#define VOL_COLS "vm, name, size, flags, thin_id, run_id, source_vm, source_vol, source_id"

static void bind_id(sqlite3_stmt *st, int col, int64_t id)
{
        if (id < 0)
                sqlite3_bind_null(st, col);
        else
                sqlite3_bind_int64(st, col, id);
}

static int64_t column_id(sqlite3_stmt *st, int col)
{
        return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, col);
}

static void vol_from_row(sqlite3_stmt *st, struct cat_volume *v)
{
        *v = (struct cat_volume){};
        copy_text(v->vm, sizeof(v->vm), st, 0);
        copy_text(v->name, sizeof(v->name), st, 1);
        v->size = (uint64_t)sqlite3_column_int64(st, 2);
        v->flags = (unsigned)sqlite3_column_int(st, 3);
        v->thin_id = column_id(st, 4);
        v->run_id = column_id(st, 5);
        copy_text(v->source_vm, sizeof(v->source_vm), st, 6);
        copy_text(v->source_vol, sizeof(v->source_vol), st, 7);
        v->source_id = sqlite3_column_int64(st, 8);
}

int catalog_volume_get(catalog *cat, const char *vm, const char *vol, struct cat_volume *ret_vol)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r = prepare(cat, "SELECT " VOL_COLS " FROM volumes WHERE vm = ? AND name = ?", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, vol, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_error(cat, rc, "read volume");
        vol_from_row(st, ret_vol);
        return 0;
}

int catalog_volume_put(catalog *cat, const struct cat_volume *v)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        /* An upsert on (vm, name) only: INSERT OR REPLACE would also "resolve" a clash on
         * the UNIQUE thin_id / run_id by deleting the other volume's row. */
        int r = prepare(cat,
                        "INSERT INTO volumes(" VOL_COLS ") VALUES(?,?,?,?,?,?,?,?,?) "
                        "ON CONFLICT(vm, name) DO UPDATE SET size = excluded.size, flags = excluded.flags, "
                        "thin_id = excluded.thin_id, run_id = excluded.run_id, source_vm = excluded.source_vm, "
                        "source_vol = excluded.source_vol, source_id = excluded.source_id",
                        &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, v->vm, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, v->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)v->size);
        sqlite3_bind_int(st, 4, (int)v->flags);
        bind_id(st, 5, v->thin_id);
        bind_id(st, 6, v->run_id);
        sqlite3_bind_text(st, 7, v->source_vm, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, v->source_vol, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, v->source_id);
        return step_done(cat, st, "write volume");
}

int catalog_volume_list(catalog *cat, const char *vm, struct cat_volume *ret_vols, unsigned max)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        unsigned n = 0;
        int rc = SQLITE_DONE, r = prepare(cat,
                            "SELECT " VOL_COLS " FROM volumes WHERE vm = ? ORDER BY "
                            "CASE name WHEN 'root' THEN 0 WHEN 'private' THEN 1 ELSE 2 END, name",
                            &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
        while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
                vol_from_row(st, &ret_vols[n++]);
        if (n < max && rc != SQLITE_DONE)
                return db_error(cat, rc, "list volumes");
        return (int)n;
}

static int count_rows(catalog *cat, const char *sql, int64_t arg)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r = prepare(cat, sql, &st);

        if (r < 0)
                return r;
        if (arg >= 0)
                sqlite3_bind_int64(st, 1, arg);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return db_error(cat, rc, "count");
        return sqlite3_column_int(st, 0);
}

int catalog_layer_users(catalog *cat, int64_t id)
{
        return count_rows(cat, LAYER_USERS_SQL, id);
}

int catalog_volume_count(catalog *cat)
{
        return count_rows(cat, "SELECT COUNT(*) FROM volumes", -1);
}

int catalog_thin_id_alloc(catalog *cat, int64_t *ret_id)
{
        uint64_t next = 0;
        int r = catalog_meta_get_u64(cat, "next_thin_id", &next);

        if (r < 0 && r != -ENOENT)
                return r;
        /* a damaged setting must still give an id the kernel takes */
        next %= THIN_ID_LIMIT;
        /* Ids advance rather than being reused at once, so a recycled id is never mistaken
         * for the volume that just had it (block-dvm checks identities). */
        for (unsigned tries = 0; tries < THIN_ID_LIMIT; tries++, next = (next + 1) % THIN_ID_LIMIT) {
                /* nor an id a running snapshot still names as its origin: an outdated
                 * disposable's source_id is the only row that names it */
                r = count_rows(cat, LAYER_USERS_SQL, (int64_t)next);
                if (r < 0)
                        return r;
                if (r == 0) {
                        r = catalog_meta_set_u64(cat, "next_thin_id", (next + 1) % THIN_ID_LIMIT);
                        if (r < 0)
                                return r;
                        *ret_id = (int64_t)next;
                        return 0;
                }
        }
        return ctx_error(cat->ctx, -ENOSPC, "catalog %s: all %d thin ids are in use", cat->path,
                         THIN_ID_LIMIT);
}

int catalog_thin_ids(catalog *cat, int64_t **ret_ids)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ int64_t *v = NULL;
        size_t n = 0;
        int rc, r = prepare(cat,
                            "SELECT thin_id FROM volumes WHERE thin_id IS NOT NULL UNION "
                            "SELECT run_id FROM volumes WHERE run_id IS NOT NULL UNION "
                            "SELECT layer_id FROM revisions UNION SELECT layer_id FROM imports ORDER BY 1",
                            &st);

        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                int64_t *nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv)
                        return -ENOMEM;
                v = nv;
                v[n++] = sqlite3_column_int64(st, 0);
        }
        if (rc != SQLITE_DONE)
                return db_error(cat, rc, "list thin ids");
        *ret_ids = TAKE_PTR(v);
        return (int)n;
}

int catalog_domain_put(catalog *cat, const struct cat_domain *d)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(cat, "INSERT OR REPLACE INTO domains(vm, domid, uuid) VALUES(?, ?, ?)", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, d->vm, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, d->domid);
        sqlite3_bind_text(st, 3, d->uuid, -1, SQLITE_STATIC);
        return step_done(cat, st, "write domain");
}

int catalog_domain_get(catalog *cat, const char *vm, struct cat_domain *ret_domain)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r = prepare(cat, "SELECT vm, domid, uuid FROM domains WHERE vm = ?", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_error(cat, rc, "read domain");
        *ret_domain = (struct cat_domain){ .domid = (uint32_t)sqlite3_column_int64(st, 1) };
        copy_text(ret_domain->vm, sizeof(ret_domain->vm), st, 0);
        copy_text(ret_domain->uuid, sizeof(ret_domain->uuid), st, 2);
        return 0;
}

int catalog_domain_delete(catalog *cat, const char *vm)
{
        return exec_text(cat, "DELETE FROM domains WHERE vm = ?", vm, "delete domain");
}

int catalog_domain_disposable(catalog *cat, const char *dvm, uint32_t domid, const char *uuid,
                              char ret_vm[DVM_NAME_MAX + 1])
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r = prepare(cat,
                            "SELECT d.vm FROM domains d JOIN vms v ON v.name = d.vm "
                            "WHERE v.template = ? AND v.kind = ? AND d.domid = ? AND d.uuid = ? ORDER BY d.vm",
                            &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, dvm, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, DVM_VM_DISPOSABLE);
        sqlite3_bind_int64(st, 3, domid);
        sqlite3_bind_text(st, 4, uuid, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_error(cat, rc, "find a domain's disposable");
        copy_text(ret_vm, DVM_NAME_MAX + 1, st, 0);
        return 0;
}

#define ATT_COLS "domid, devid, vdev, vm, volume, rw"

static void attachment_from_row(sqlite3_stmt *st, struct cat_attachment *a)
{
        *a = (struct cat_attachment){ .domid = (uint32_t)sqlite3_column_int64(st, 0),
                                      .devid = (uint32_t)sqlite3_column_int64(st, 1),
                                      .rw = sqlite3_column_int(st, 5) };
        copy_text(a->vdev, sizeof(a->vdev), st, 2);
        copy_text(a->vm, sizeof(a->vm), st, 3);
        copy_text(a->volume, sizeof(a->volume), st, 4);
}

int catalog_attachment_put(catalog *cat, const struct cat_attachment *a)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(cat, "INSERT OR REPLACE INTO attachments(" ATT_COLS ") VALUES(?, ?, ?, ?, ?, ?)", &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, a->domid);
        sqlite3_bind_int64(st, 2, a->devid);
        sqlite3_bind_text(st, 3, a->vdev, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, a->vm, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, a->volume, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, a->rw);
        return step_done(cat, st, "write attachment");
}

int catalog_attachment_get(catalog *cat, uint32_t domid, uint32_t devid, struct cat_attachment *ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r = prepare(cat, "SELECT " ATT_COLS " FROM attachments WHERE domid = ? AND devid = ?", &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, domid);
        sqlite3_bind_int64(st, 2, devid);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_error(cat, rc, "read attachment");
        attachment_from_row(st, ret);
        return 0;
}

int catalog_attachment_delete(catalog *cat, uint32_t domid, uint32_t devid)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(cat, "DELETE FROM attachments WHERE domid = ? AND devid = ?", &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, domid);
        sqlite3_bind_int64(st, 2, devid);
        return step_done(cat, st, "delete attachment");
}

int catalog_attachment_list(catalog *cat, const char *vm, struct cat_attachment **ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ struct cat_attachment *v = NULL;
        size_t n = 0;
        int rc, r = prepare(cat,
                            vm ? "SELECT " ATT_COLS " FROM attachments WHERE vm = ? ORDER BY domid, devid"
                               : "SELECT " ATT_COLS " FROM attachments ORDER BY domid, devid",
                            &st);

        if (r < 0)
                return r;
        if (vm)
                sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct cat_attachment *nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv)
                        return -ENOMEM;
                v = nv;
                attachment_from_row(st, &v[n++]);
        }
        if (rc != SQLITE_DONE)
                return db_error(cat, rc, "list attachments");
        *ret = TAKE_PTR(v);
        return (int)n;
}

int catalog_intent_put(catalog *cat, const struct cat_intent *in)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(cat, "INSERT OR REPLACE INTO intents(vm, op, since, error) VALUES(?, ?, ?, ?)", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, in->vm, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, in->op);
        sqlite3_bind_int64(st, 3, in->since);
        sqlite3_bind_text(st, 4, in->error, -1, SQLITE_STATIC);
        return step_done(cat, st, "write intent");
}

int catalog_intent_delete(catalog *cat, const char *vm)
{
        return exec_text(cat, "DELETE FROM intents WHERE vm = ?", vm, "delete intent");
}

int catalog_intent_list(catalog *cat, struct cat_intent **ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ struct cat_intent *v = NULL;
        size_t n = 0;
        int rc, r = prepare(cat, "SELECT vm, op, since, error FROM intents ORDER BY since, vm", &st);

        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct cat_intent *nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv)
                        return -ENOMEM;
                v = nv;
                v[n] = (struct cat_intent){ .op = (enum cat_intent_op)sqlite3_column_int(st, 1),
                                            .since = sqlite3_column_int64(st, 2) };
                copy_text(v[n].vm, sizeof(v[n].vm), st, 0);
                copy_text(v[n].error, sizeof(v[n].error), st, 3);
                n++;
        }
        if (rc != SQLITE_DONE)
                return db_error(cat, rc, "list intents");
        *ret = TAKE_PTR(v);
        return (int)n;
}

/* ---- per-volume settings, revisions and imports (dvm_volume_*) ---------------------------- */

/* Prepare @sql and bind the volume's @vm and @vol as ?1 and ?2. */
static int prepare_volume(catalog *cat, const char *sql, const char *vm, const char *vol, sqlite3_stmt **ret)
{
        int r = prepare(cat, sql, ret);

        if (r < 0)
                return r;
        sqlite3_bind_text(*ret, 1, vm, -1, SQLITE_STATIC);
        sqlite3_bind_text(*ret, 2, vol, -1, SQLITE_STATIC);
        return 0;
}

int catalog_volume_keep_get(catalog *cat, const char *vm, const char *vol, unsigned *ret_keep)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r = prepare_volume(cat, "SELECT revisions_to_keep FROM volume_settings WHERE vm = ?1 AND name = ?2",
                                   vm, vol, &st);

        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
                *ret_keep = 0;
                return 0;
        }
        if (rc != SQLITE_ROW)
                return db_error(cat, rc, "read volume settings");
        *ret_keep = (unsigned)sqlite3_column_int(st, 0);
        return 0;
}

int catalog_volume_keep_set(catalog *cat, const char *vm, const char *vol, unsigned keep)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare_volume(cat, "INSERT OR REPLACE INTO volume_settings(vm, name, revisions_to_keep) VALUES(?1, ?2, ?3)",
                               vm, vol, &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 3, keep);
        return step_done(cat, st, "write volume settings");
}

int catalog_revision_add(catalog *cat, const char *vm, const char *vol, const struct cat_revision *rev)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare_volume(cat, "INSERT INTO revisions(vm, name, layer_id, time, size) VALUES(?1, ?2, ?3, ?4, ?5)",
                               vm, vol, &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 3, rev->id);
        sqlite3_bind_int64(st, 4, rev->time);
        sqlite3_bind_int64(st, 5, (int64_t)rev->size);
        return step_done(cat, st, "write revision");
}

int catalog_revision_list(catalog *cat, const char *vm, const char *vol, struct cat_revision **ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ struct cat_revision *v = NULL;
        size_t n = 0;
        int rc, r = prepare_volume(cat, "SELECT layer_id, time, size FROM revisions WHERE vm = ?1 AND name = ?2 "
                                        "ORDER BY time DESC, rowid DESC", vm, vol, &st);

        if (r < 0)
                return r;
        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct cat_revision *nv = realloc(v, (n + 2) * sizeof(*v));
                if (!nv)
                        return -ENOMEM;
                v = nv;
                v[n++] = (struct cat_revision){ .id = sqlite3_column_int64(st, 0), .time = sqlite3_column_int64(st, 1),
                                                .size = (uint64_t)sqlite3_column_int64(st, 2) };
        }
        if (rc != SQLITE_DONE)
                return db_error(cat, rc, "list revisions");
        *ret = TAKE_PTR(v);
        return (int)n;
}

int catalog_revision_delete(catalog *cat, int64_t id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(cat, "DELETE FROM revisions WHERE layer_id = ?", &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, id);
        return step_done(cat, st, "delete revision");
}

int catalog_import_get(catalog *cat, const char *vm, const char *vol, int64_t *ret_id, uint64_t *ret_size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int rc, r = prepare_volume(cat, "SELECT layer_id, size FROM imports WHERE vm = ?1 AND name = ?2", vm, vol, &st);

        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_error(cat, rc, "read import");
        *ret_id = sqlite3_column_int64(st, 0);
        *ret_size = (uint64_t)sqlite3_column_int64(st, 1);
        return 0;
}

int catalog_import_put(catalog *cat, const char *vm, const char *vol, int64_t id, uint64_t size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare_volume(cat, "INSERT INTO imports(vm, name, layer_id, size) VALUES(?1, ?2, ?3, ?4)", vm, vol, &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 3, id);
        sqlite3_bind_int64(st, 4, (int64_t)size);
        return step_done(cat, st, "write import");
}

int catalog_import_delete(catalog *cat, const char *vm, const char *vol)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare_volume(cat, "DELETE FROM imports WHERE vm = ?1 AND name = ?2", vm, vol, &st);

        return r < 0 ? r : step_done(cat, st, "delete import");
}

int catalog_volume_forget(catalog *cat, const char *vm, const char *vol)
{
        static const char *const sql[] = {
                "DELETE FROM volumes WHERE vm = ?1 AND name = ?2",
                "DELETE FROM volume_settings WHERE vm = ?1 AND name = ?2",
                "DELETE FROM revisions WHERE vm = ?1 AND name = ?2",
                "DELETE FROM imports WHERE vm = ?1 AND name = ?2",
        };
        for (size_t i = 0; i < ARRAY_SIZE(sql); i++) {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                int r = prepare_volume(cat, sql[i], vm, vol, &st);
                if (r >= 0)
                        r = step_done(cat, st, "delete volume");
                if (r < 0)
                        return r;
        }
        return 0;
}

int catalog_held_layers(catalog *cat, int64_t **ret_ids)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ int64_t *v = NULL;
        size_t n = 0;
        int rc, r = prepare(cat, "SELECT layer_id FROM revisions UNION SELECT layer_id FROM imports ORDER BY 1", &st);

        if (r < 0)
                return r;
        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                int64_t *nv = realloc(v, (n + 2) * sizeof(*v));
                if (!nv)
                        return -ENOMEM;
                v = nv;
                v[n++] = sqlite3_column_int64(st, 0);
        }
        if (rc != SQLITE_DONE)
                return db_error(cat, rc, "list held layers");
        *ret_ids = TAKE_PTR(v);
        return (int)n;
}
