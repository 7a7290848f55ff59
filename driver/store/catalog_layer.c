// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The layers a volume holds beyond its row (dvm_volume_*): revisions its commits replaced,
 * how many to keep (volume_settings), and an import under way. Their ids count as used
 * for the thin id allocator (catalog_layer_users()).
 */
#include "store/catalog_db.h"
#include "store/catalog_layer.h"

static const char *const delete_vm[] = { "DELETE FROM volume_settings WHERE vm = ?",
                                         "DELETE FROM revisions WHERE vm = ?", "DELETE FROM imports WHERE vm = ?",
                                         NULL };
static const char *const delete_volume[] = { "DELETE FROM volume_settings WHERE vm = ?1 AND name = ?2",
                                             "DELETE FROM revisions WHERE vm = ?1 AND name = ?2",
                                             "DELETE FROM imports WHERE vm = ?1 AND name = ?2", NULL };

const struct catalog_part catalog_layer_part = {
        .schema = "CREATE TABLE IF NOT EXISTS volume_settings("
                  "  vm TEXT NOT NULL, name TEXT NOT NULL, revisions_to_keep INTEGER NOT NULL DEFAULT 0,"
                  "  PRIMARY KEY(vm, name));"
                  "CREATE TABLE IF NOT EXISTS revisions("
                  "  layer_id INTEGER PRIMARY KEY, vm TEXT NOT NULL, name TEXT NOT NULL,"
                  "  time INTEGER NOT NULL, size INTEGER NOT NULL);"
                  "CREATE TABLE IF NOT EXISTS imports("
                  "  vm TEXT NOT NULL, name TEXT NOT NULL, layer_id INTEGER NOT NULL UNIQUE, size INTEGER NOT NULL,"
                  "  PRIMARY KEY(vm, name));",
        .delete_vm = delete_vm,
        .delete_volume = delete_volume,
        .layer_users = "(SELECT COUNT(*) FROM revisions WHERE layer_id = ?1) + "
                       "(SELECT COUNT(*) FROM imports WHERE layer_id = ?1)",
        .layer_ids = "SELECT layer_id FROM revisions UNION SELECT layer_id FROM imports",
};

int catalog_volume_keep_get(catalog *cat, const char *vm, const char *vol, unsigned *ret_keep)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare_volume(cat, "SELECT revisions_to_keep FROM volume_settings WHERE vm = ?1 AND name = ?2",
                                  vm, vol, &st);

        if (r < 0)
                return r;
        r = db_step_row(cat, st, "read volume settings");
        if (r < 0 && r != -ENOENT)
                return r;
        *ret_keep = r == -ENOENT ? 0 : (unsigned)sqlite3_column_int(st, 0);
        return 0;
}

int catalog_volume_keep_set(catalog *cat, const char *vm, const char *vol, unsigned keep)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare_volume(cat,
                                  "INSERT OR REPLACE INTO volume_settings(vm, name, revisions_to_keep) VALUES(?1, ?2, ?3)",
                                  vm, vol, &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 3, keep);
        return db_step_done(cat, st, "write volume settings");
}

int catalog_revision_add(catalog *cat, const char *vm, const char *vol, const struct cat_revision *rev)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare_volume(cat, "INSERT INTO revisions(vm, name, layer_id, time, size) VALUES(?1, ?2, ?3, ?4, ?5)",
                                  vm, vol, &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 3, rev->id);
        sqlite3_bind_int64(st, 4, rev->time);
        sqlite3_bind_int64(st, 5, (int64_t)rev->size);
        return db_step_done(cat, st, "write revision");
}

static void revision_from_row(sqlite3_stmt *st, void *row)
{
        *(struct cat_revision *)row = (struct cat_revision){ .id = sqlite3_column_int64(st, 0),
                                                             .time = sqlite3_column_int64(st, 1),
                                                             .size = (uint64_t)sqlite3_column_int64(st, 2) };
}

int catalog_revision_list(catalog *cat, const char *vm, const char *vol, struct cat_revision **ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        void *rows;
        int n = db_prepare_volume(cat, "SELECT layer_id, time, size FROM revisions WHERE vm = ?1 AND name = ?2 "
                                       "ORDER BY time DESC, rowid DESC", vm, vol, &st);

        if (n >= 0)
                n = db_rows(cat, st, sizeof(struct cat_revision), revision_from_row, "list revisions", &rows);
        if (n >= 0)
                *ret = rows;
        return n;
}

int catalog_revision_delete(catalog *cat, int64_t id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(cat, "DELETE FROM revisions WHERE layer_id = ?", &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, id);
        return db_step_done(cat, st, "delete revision");
}

int catalog_import_get(catalog *cat, const char *vm, const char *vol, int64_t *ret_id, uint64_t *ret_size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare_volume(cat, "SELECT layer_id, size FROM imports WHERE vm = ?1 AND name = ?2", vm, vol, &st);

        if (r < 0)
                return r;
        r = db_step_row(cat, st, "read import");
        if (r < 0)
                return r;
        *ret_id = sqlite3_column_int64(st, 0);
        *ret_size = (uint64_t)sqlite3_column_int64(st, 1);
        return 0;
}

int catalog_import_put(catalog *cat, const char *vm, const char *vol, int64_t id, uint64_t size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare_volume(cat, "INSERT INTO imports(vm, name, layer_id, size) VALUES(?1, ?2, ?3, ?4)", vm, vol,
                                  &st);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 3, id);
        sqlite3_bind_int64(st, 4, (int64_t)size);
        return db_step_done(cat, st, "write import");
}

int catalog_import_delete(catalog *cat, const char *vm, const char *vol)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare_volume(cat, "DELETE FROM imports WHERE vm = ?1 AND name = ?2", vm, vol, &st);

        return r < 0 ? r : db_step_done(cat, st, "delete import");
}

int catalog_held_layers(catalog *cat, int64_t **ret_ids)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        void *rows;
        int n = db_prepare(cat, "SELECT layer_id FROM revisions UNION SELECT layer_id FROM imports ORDER BY 1", &st);

        if (n >= 0)
                n = db_rows(cat, st, sizeof(int64_t), db_row_i64, "list held layers", &rows);
        if (n >= 0)
                *ret_ids = rows;
        return n;
}
