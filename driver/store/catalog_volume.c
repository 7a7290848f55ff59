// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The volume rows (table volumes), the delete of a volume across every part, and the thin
 * ids: allocated here, never one a row of any part still needs.
 */
#include "store/catalog_db.h"
#include "store/catalog_volume.h"

#define THIN_ID_LIMIT (1 << 24)

static const char *const delete_vm[] = { "DELETE FROM volumes WHERE vm = ?", NULL };
static const char *const delete_volume[] = { "DELETE FROM volumes WHERE vm = ?1 AND name = ?2", NULL };

const struct catalog_part catalog_volume_part = {
        .schema = "CREATE TABLE IF NOT EXISTS volumes("
                  "  vm TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL, flags INTEGER NOT NULL,"
                  "  thin_id INTEGER UNIQUE, run_id INTEGER UNIQUE,"
                  "  source_vm TEXT NOT NULL DEFAULT '', source_vol TEXT NOT NULL DEFAULT '',"
                  "  source_id INTEGER NOT NULL DEFAULT -1,"
                  "  PRIMARY KEY(vm, name));"
                  "CREATE INDEX IF NOT EXISTS volumes_source_id ON volumes(source_id);",
        .delete_vm = delete_vm,
        .delete_volume = delete_volume,
        /* the committed and running layers, and the origin of a running snap_on_start
         * layer: an outdated disposable's source_id is the only row that names it */
        .layer_users = "SELECT COUNT(*) FROM volumes WHERE thin_id = ?1 OR run_id = ?1 "
                       "OR (source_id = ?1 AND run_id IS NOT NULL AND flags & 1)",
        .layer_ids = "SELECT thin_id FROM volumes WHERE thin_id IS NOT NULL UNION "
                     "SELECT run_id FROM volumes WHERE run_id IS NOT NULL",
};

#define VOL_COLS "vm, name, size, flags, thin_id, run_id, source_vm, source_vol, source_id"

static void vol_from_row(sqlite3_stmt *st, struct cat_volume *v)
{
        *v = (struct cat_volume){};
        db_copy_text(v->vm, sizeof(v->vm), st, 0);
        db_copy_text(v->name, sizeof(v->name), st, 1);
        v->size = (uint64_t)sqlite3_column_int64(st, 2);
        v->flags = (unsigned)sqlite3_column_int(st, 3);
        v->thin_id = db_column_id(st, 4);
        v->run_id = db_column_id(st, 5);
        db_copy_text(v->source_vm, sizeof(v->source_vm), st, 6);
        db_copy_text(v->source_vol, sizeof(v->source_vol), st, 7);
        v->source_id = sqlite3_column_int64(st, 8);
}

int catalog_volume_get(catalog *cat, const char *vm, const char *vol, struct cat_volume *ret_vol)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare_volume(cat, "SELECT " VOL_COLS " FROM volumes WHERE vm = ?1 AND name = ?2", vm, vol, &st);

        if (r < 0)
                return r;
        r = db_step_row(cat, st, "read volume");
        if (r < 0)
                return r;
        vol_from_row(st, ret_vol);
        return 0;
}

int catalog_volume_put(catalog *cat, const struct cat_volume *v)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        /* An upsert on (vm, name) only: INSERT OR REPLACE would also "resolve" a clash on
         * the UNIQUE thin_id / run_id by deleting the other volume's row. */
        int r = db_prepare_volume(cat,
                                  "INSERT INTO volumes(" VOL_COLS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) "
                                  "ON CONFLICT(vm, name) DO UPDATE SET size = excluded.size, flags = excluded.flags, "
                                  "thin_id = excluded.thin_id, run_id = excluded.run_id, source_vm = excluded.source_vm, "
                                  "source_vol = excluded.source_vol, source_id = excluded.source_id",
                                  v->vm, v->name, &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 3, (sqlite3_int64)v->size);
        sqlite3_bind_int(st, 4, (int)v->flags);
        db_bind_id(st, 5, v->thin_id);
        db_bind_id(st, 6, v->run_id);
        sqlite3_bind_text(st, 7, v->source_vm, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, v->source_vol, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, v->source_id);
        return db_step_done(cat, st, "write volume");
}

int catalog_volume_list(catalog *cat, const char *vm, struct cat_volume *ret_vols, unsigned max)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        unsigned n = 0;
        int rc = SQLITE_DONE, r = db_prepare(cat,
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

int catalog_volume_count(catalog *cat)
{
        return db_count(cat, "SELECT COUNT(*) FROM volumes", -1);
}

int catalog_volume_forget(catalog *cat, const char *vm, const char *vol)
{
        const struct catalog_part *const *parts;
        size_t n = db_parts(&parts);

        for (size_t i = 0; i < n; i++)
                for (const char *const *sql = parts[i]->delete_volume; sql && *sql; sql++) {
                        _cleanup_stmt_ sqlite3_stmt *st = NULL;
                        int r = db_prepare_volume(cat, *sql, vm, vol, &st);
                        if (r >= 0)
                                r = db_step_done(cat, st, "delete volume");
                        if (r < 0)
                                return r;
                }
        return 0;
}

int catalog_layer_users(catalog *cat, int64_t id)
{
        return db_count(cat, cat->layer_users_sql, id);
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
                /* nor an id any row still needs (catalog_layer_users()) */
                r = catalog_layer_users(cat, (int64_t)next);
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
        void *rows;
        int n = db_prepare(cat, cat->layer_ids_sql, &st);

        if (n >= 0)
                n = db_rows(cat, st, sizeof(int64_t), db_row_i64, "list thin ids", &rows);
        if (n >= 0)
                *ret_ids = rows;
        return n;
}
