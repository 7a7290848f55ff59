// SPDX-License-Identifier: GPL-2.0-or-later
/* The intents (table intents): a stop or destroy recorded before it changed the kernel. A
 * VM's delete leaves its intent: the intent's owner drops it when the work is done. */
#include "store/catalog_db.h"
#include "store/catalog_intent.h"

const struct catalog_part catalog_intent_part = {
        .schema = "CREATE TABLE IF NOT EXISTS intents("
                  "  vm TEXT PRIMARY KEY, op INTEGER NOT NULL, since INTEGER NOT NULL, error TEXT NOT NULL DEFAULT '');",
};

int catalog_intent_put(catalog *cat, const struct cat_intent *in)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(cat, "INSERT OR REPLACE INTO intents(vm, op, since, error) VALUES(?, ?, ?, ?)", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, in->vm, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, in->op);
        sqlite3_bind_int64(st, 3, in->since);
        sqlite3_bind_text(st, 4, in->error, -1, SQLITE_STATIC);
        return db_step_done(cat, st, "write intent");
}

int catalog_intent_delete(catalog *cat, const char *vm)
{
        return db_exec_text(cat, "DELETE FROM intents WHERE vm = ?", vm, "delete intent");
}

static void intent_from_row(sqlite3_stmt *st, void *row)
{
        struct cat_intent *in = row;

        *in = (struct cat_intent){ .op = (enum cat_intent_op)sqlite3_column_int(st, 1),
                                   .since = sqlite3_column_int64(st, 2) };
        db_copy_text(in->vm, sizeof(in->vm), st, 0);
        db_copy_text(in->error, sizeof(in->error), st, 3);
}

int catalog_intent_list(catalog *cat, struct cat_intent **ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        void *rows;
        int n = db_prepare(cat, "SELECT vm, op, since, error FROM intents ORDER BY since, vm", &st);

        if (n >= 0)
                n = db_rows(cat, st, sizeof(struct cat_intent), intent_from_row, "list intents", &rows);
        if (n >= 0)
                *ret = rows;
        return n;
}
