/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The catalog: one SQLite database per pool (WAL, busy timeout) recording the pool's
 * configuration, its VMs and their volumes with their thin ids. This header opens and
 * closes it, runs transactions and keeps the pool settings; the rows are declared in
 * store/catalog_<row>.h, one header per kind of row.
 */
#ifndef DVM_CATALOG_H
#define DVM_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "util/ctx.h"

typedef struct catalog catalog;

/**
 * catalog_open() - open or create the database at @path, with every part's tables (made
 * only when the database was not made from this schema: catalog_schema_print()). Returns 0
 * or -errno.
 */
int catalog_open(dvm_ctx *ctx, const char *path, catalog **ret_cat);
/**
 * catalog_schema_print() - a number of every part's CREATE statements (a hash of their text,
 * never 0), which a catalog's header keeps once they ran on it (SQLite's user_version).
 */
uint32_t catalog_schema_print(void);

/** catalog_close() - close; NULL is a no-op. Returns NULL. */
catalog *catalog_close(catalog *cat);

/** catalog_begin() - start a write transaction (BEGIN IMMEDIATE). Returns 0 or -errno. */
int catalog_begin(catalog *cat);
/** catalog_commit() - commit the transaction. Returns 0 or -errno. */
int catalog_commit(catalog *cat);
/** catalog_rollback() - roll back the transaction, if one is open. */
void catalog_rollback(catalog *cat);

/** catalog_meta_get() - the value of @key. Returns 0 and a malloc'd string, or -ENOENT. */
int catalog_meta_get(catalog *cat, const char *key, char **ret_value);
/** catalog_meta_get_u64() - the value of @key as a number. Returns 0, -ENOENT, -EINVAL. */
int catalog_meta_get_u64(catalog *cat, const char *key, uint64_t *ret_value);
/** The settings a change of the pool leaves (recover.c): the boot the pool was last seen
 * clean in ("" if none), the transaction id of the pool's metadata the catalog matches
 * (absent or not a number: !has_transaction_id), and whether a change marked it dirty. */
struct cat_marks {
        char boot_id[64];
        bool has_transaction_id;
        uint64_t transaction_id;
        bool dirty;
};
/** catalog_meta_marks() - the three settings of struct cat_marks in one read. Returns 0 or -errno. */
int catalog_meta_marks(catalog *cat, struct cat_marks *ret);
/** catalog_meta_set() - set @key to @value. Returns 0 or -errno. */
int catalog_meta_set(catalog *cat, const char *key, const char *value);
/** catalog_meta_delete() - forget @key (absent is no error). Returns 0 or -errno. */
int catalog_meta_delete(catalog *cat, const char *key);
/** catalog_meta_set_u64() - set @key to a number. Returns 0 or -errno. */
int catalog_meta_set_u64(catalog *cat, const char *key, uint64_t value);

#endif
