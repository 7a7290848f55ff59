/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The catalog's volume rows (table volumes) and the thin ids of their layers. */
#ifndef DVM_CATALOG_VOLUME_H
#define DVM_CATALOG_VOLUME_H

#include "store/catalog.h"

/** A volume row: the committed layer (thin_id) and the running layer (run_id), -1 = none. */
struct cat_volume {
        char vm[DVM_NAME_MAX + 1];
        char name[16];
        uint64_t size;
        unsigned flags;                    /* enum dvm_volume_flags */
        int64_t thin_id;
        int64_t run_id;
        char source_vm[DVM_NAME_MAX + 1];  /* "" when none */
        char source_vol[16];
        int64_t source_id;                 /* the source's thin_id when run_id was taken */
};

/** catalog_volume_get() - volume @vol of @vm. Returns 0, -ENOENT, or -errno. */
int catalog_volume_get(catalog *cat, const char *vm, const char *vol, struct cat_volume *ret_vol);
/** catalog_volume_put() - insert or replace a volume row. Returns 0 or -errno. */
int catalog_volume_put(catalog *cat, const struct cat_volume *vol);
/**
 * catalog_volume_list() - the volumes of @vm (root, private, volatile order), at most
 * @max. Returns the count, or -errno.
 */
int catalog_volume_list(catalog *cat, const char *vm, struct cat_volume *ret_vols, unsigned max);
/** catalog_volume_count() - number of volume rows. Returns it, or -errno. */
int catalog_volume_count(catalog *cat);
/**
 * catalog_volume_forget() - delete the row of @vm/@vol with the rows of every table that
 * names the volume (settings, revisions, import). Returns 0 or -errno.
 */
int catalog_volume_forget(catalog *cat, const char *vm, const char *vol);

/**
 * catalog_layer_users() - how many rows still need layer @id: volume rows as their
 * committed or running layer or as the origin of a running snap_on_start layer, and the
 * revisions and imports that hold it. Returns it, or -errno.
 */
int catalog_layer_users(catalog *cat, int64_t id);
/**
 * catalog_thin_id_alloc() - the next free 24-bit thin id (one no row needs, as
 * catalog_layer_users() counts them), advancing the allocator. Call inside a transaction
 * and store the id before the next call. Returns 0 or -errno (-ENOSPC when all ids are taken).
 */
int catalog_thin_id_alloc(catalog *cat, int64_t *ret_id);
/**
 * catalog_thin_ids() - every thin id the catalog references, sorted. Returns the count
 * and a malloc'd array, or -errno.
 */
int catalog_thin_ids(catalog *cat, int64_t **ret_ids);

#endif
