// SPDX-License-Identifier: GPL-2.0-or-later
/* The VM rows (table vms), the delete of a VM across every part, and disposable names. */
#include <stdio.h>

#include "store/catalog_db.h"
#include "store/catalog_vm.h"

const struct catalog_part catalog_vm_part = {
        .schema = "CREATE TABLE IF NOT EXISTS vms("
                  "  name TEXT PRIMARY KEY, kind INTEGER NOT NULL, template TEXT NOT NULL DEFAULT '',"
                  "  running INTEGER NOT NULL DEFAULT 0, named INTEGER NOT NULL DEFAULT 0);",
        /* the vms row itself goes last, in catalog_vm_delete() */
};

#define VM_COLS "name, kind, template, running, named"

static void vm_from_row(sqlite3_stmt *st, void *row)
{
        struct cat_vm *vm = row;

        *vm = (struct cat_vm){};
        db_copy_text(vm->name, sizeof(vm->name), st, 0);
        vm->kind = (enum dvm_vm_kind)sqlite3_column_int(st, 1);
        db_copy_text(vm->template, sizeof(vm->template), st, 2);
        vm->running = sqlite3_column_int(st, 3);
        vm->named = sqlite3_column_int(st, 4);
}

int catalog_vm_get(catalog *cat, const char *name, struct cat_vm *ret_vm)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(cat, "SELECT " VM_COLS " FROM vms WHERE name = ?", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        r = db_step_row(cat, st, "read VM");
        if (r < 0)
                return r;
        vm_from_row(st, ret_vm);
        return 0;
}

int catalog_vm_put(catalog *cat, const struct cat_vm *vm)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(cat, "INSERT OR REPLACE INTO vms(" VM_COLS ") VALUES(?, ?, ?, ?, ?)", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, vm->name, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, vm->kind);
        sqlite3_bind_text(st, 3, vm->template, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, vm->running);
        sqlite3_bind_int(st, 5, vm->named);
        return db_step_done(cat, st, "write VM");
}

int catalog_vm_delete(catalog *cat, const char *name)
{
        const struct catalog_part *const *parts;
        size_t n = db_parts(&parts);
        int r;

        for (size_t i = 0; i < n; i++)
                for (const char *const *sql = parts[i]->delete_vm; sql && *sql; sql++) {
                        r = db_exec_text(cat, *sql, name, "delete VM");
                        if (r < 0)
                                return r;
                }
        return db_exec_text(cat, "DELETE FROM vms WHERE name = ?", name, "delete VM");
}

int catalog_vm_list(catalog *cat, struct cat_vm **ret_vms)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        void *rows;
        int n = db_prepare(cat, "SELECT " VM_COLS " FROM vms ORDER BY kind, name", &st);

        if (n >= 0)
                n = db_rows(cat, st, sizeof(struct cat_vm), vm_from_row, "list VMs", &rows);
        if (n >= 0)
                *ret_vms = rows;
        return n;
}

int catalog_vm_dependents(catalog *cat, const char *name, char ret_first[DVM_NAME_MAX + 1])
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int n = 0, rc, r = db_prepare(cat, "SELECT name FROM vms WHERE template = ? ORDER BY name", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n++ == 0 && ret_first)
                        db_copy_text(ret_first, DVM_NAME_MAX + 1, st, 0);
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
