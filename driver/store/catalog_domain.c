// SPDX-License-Identifier: GPL-2.0-or-later
/* The Xen rows: the domain each VM was started for (domains) and the disks of domains
 * (attachments). */
#include "store/catalog_db.h"
#include "store/catalog_domain.h"

static const char *const delete_vm[] = { "DELETE FROM domains WHERE vm = ?", "DELETE FROM attachments WHERE vm = ?",
                                         NULL };

const struct catalog_part catalog_domain_part = {
        .schema = "CREATE TABLE IF NOT EXISTS domains("
                  "  vm TEXT PRIMARY KEY, domid INTEGER NOT NULL, uuid TEXT NOT NULL);"
                  "CREATE TABLE IF NOT EXISTS attachments("
                  "  domid INTEGER NOT NULL, devid INTEGER NOT NULL, vdev TEXT NOT NULL, vm TEXT NOT NULL,"
                  "  volume TEXT NOT NULL, rw INTEGER NOT NULL, PRIMARY KEY(domid, devid));",
        .delete_vm = delete_vm,
};

int catalog_domain_put(catalog *cat, const struct cat_domain *d)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(cat, "INSERT OR REPLACE INTO domains(vm, domid, uuid) VALUES(?, ?, ?)", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, d->vm, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, d->domid);
        sqlite3_bind_text(st, 3, d->uuid, -1, SQLITE_STATIC);
        return db_step_done(cat, st, "write domain");
}

int catalog_domain_get(catalog *cat, const char *vm, struct cat_domain *ret_domain)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(cat, "SELECT vm, domid, uuid FROM domains WHERE vm = ?", &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
        r = db_step_row(cat, st, "read domain");
        if (r < 0)
                return r;
        *ret_domain = (struct cat_domain){ .domid = (uint32_t)sqlite3_column_int64(st, 1) };
        db_copy_text(ret_domain->vm, sizeof(ret_domain->vm), st, 0);
        db_copy_text(ret_domain->uuid, sizeof(ret_domain->uuid), st, 2);
        return 0;
}

int catalog_domain_delete(catalog *cat, const char *vm)
{
        return db_exec_text(cat, "DELETE FROM domains WHERE vm = ?", vm, "delete domain");
}

int catalog_domain_disposable(catalog *cat, const char *dvm, uint32_t domid, const char *uuid,
                              char ret_vm[DVM_NAME_MAX + 1])
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(cat,
                           "SELECT d.vm FROM domains d JOIN vms v ON v.name = d.vm "
                           "WHERE v.template = ? AND v.kind = ? AND d.domid = ? AND d.uuid = ? ORDER BY d.vm",
                           &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, dvm, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, DVM_VM_DISPOSABLE);
        sqlite3_bind_int64(st, 3, domid);
        sqlite3_bind_text(st, 4, uuid, -1, SQLITE_STATIC);
        r = db_step_row(cat, st, "find a domain's disposable");
        if (r < 0)
                return r;
        db_copy_text(ret_vm, DVM_NAME_MAX + 1, st, 0);
        return 0;
}

#define ATT_COLS "domid, devid, vdev, vm, volume, rw"

static void attachment_from_row(sqlite3_stmt *st, void *row)
{
        struct cat_attachment *a = row;

        *a = (struct cat_attachment){ .domid = (uint32_t)sqlite3_column_int64(st, 0),
                                      .devid = (uint32_t)sqlite3_column_int64(st, 1),
                                      .rw = sqlite3_column_int(st, 5) };
        db_copy_text(a->vdev, sizeof(a->vdev), st, 2);
        db_copy_text(a->vm, sizeof(a->vm), st, 3);
        db_copy_text(a->volume, sizeof(a->volume), st, 4);
}

/* Prepare @sql and bind disk @devid of domain @domid as ?1 and ?2. */
static int prepare_disk(catalog *cat, const char *sql, uint32_t domid, uint32_t devid, sqlite3_stmt **ret)
{
        int r = db_prepare(cat, sql, ret);

        if (r < 0)
                return r;
        sqlite3_bind_int64(*ret, 1, domid);
        sqlite3_bind_int64(*ret, 2, devid);
        return 0;
}

int catalog_attachment_put(catalog *cat, const struct cat_attachment *a)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare_disk(cat, "INSERT OR REPLACE INTO attachments(" ATT_COLS ") VALUES(?, ?, ?, ?, ?, ?)",
                             a->domid, a->devid, &st);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 3, a->vdev, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, a->vm, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, a->volume, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, a->rw);
        return db_step_done(cat, st, "write attachment");
}

int catalog_attachment_get(catalog *cat, uint32_t domid, uint32_t devid, struct cat_attachment *ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare_disk(cat, "SELECT " ATT_COLS " FROM attachments WHERE domid = ? AND devid = ?", domid, devid,
                             &st);

        if (r < 0)
                return r;
        r = db_step_row(cat, st, "read attachment");
        if (r < 0)
                return r;
        attachment_from_row(st, ret);
        return 0;
}

int catalog_attachment_delete(catalog *cat, uint32_t domid, uint32_t devid)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare_disk(cat, "DELETE FROM attachments WHERE domid = ? AND devid = ?", domid, devid, &st);

        return r < 0 ? r : db_step_done(cat, st, "delete attachment");
}

int catalog_attachment_list(catalog *cat, const char *vm, struct cat_attachment **ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        void *rows;
        int n = db_prepare(cat,
                           vm ? "SELECT " ATT_COLS " FROM attachments WHERE vm = ? ORDER BY domid, devid"
                              : "SELECT " ATT_COLS " FROM attachments ORDER BY domid, devid",
                           &st);

        if (n < 0)
                return n;
        if (vm)
                sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
        n = db_rows(cat, st, sizeof(struct cat_attachment), attachment_from_row, "list attachments", &rows);
        if (n >= 0)
                *ret = rows;
        return n;
}
