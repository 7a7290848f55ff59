/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The layers a volume holds beyond its row (the dvm_volume_* calls): the committed layers
 * its commits replaced (table revisions), how many of them to keep (volume_settings), and
 * an import under way (imports).
 */
#ifndef DVM_CATALOG_LAYER_H
#define DVM_CATALOG_LAYER_H

#include "store/catalog.h"

/** A committed layer of a volume that a later commit replaced. */
struct cat_revision {
        int64_t id;                        /* its layer id */
        int64_t time;                      /* when it was replaced, seconds since the epoch */
        uint64_t size;                     /* bytes */
};

/** catalog_volume_keep_get() - revisions_to_keep of @vm/@vol (0 without a setting). Returns 0 or -errno. */
int catalog_volume_keep_get(catalog *cat, const char *vm, const char *vol, unsigned *ret_keep);
/** catalog_volume_keep_set() - set revisions_to_keep of @vm/@vol. Returns 0 or -errno. */
int catalog_volume_keep_set(catalog *cat, const char *vm, const char *vol, unsigned keep);
/** catalog_revision_add() - record a revision of @vm/@vol. Returns 0 or -errno. */
int catalog_revision_add(catalog *cat, const char *vm, const char *vol, const struct cat_revision *rev);
/**
 * catalog_revision_list() - the revisions of @vm/@vol, newest first. Returns the count and
 * a malloc'd array, or -errno.
 */
int catalog_revision_list(catalog *cat, const char *vm, const char *vol, struct cat_revision **ret);
/** catalog_revision_delete() - forget the revision of layer @id. Returns 0 or -errno. */
int catalog_revision_delete(catalog *cat, int64_t id);
/** catalog_import_get() - the import under way into @vm/@vol. Returns 0, -ENOENT, or -errno. */
int catalog_import_get(catalog *cat, const char *vm, const char *vol, int64_t *ret_id, uint64_t *ret_size);
/** catalog_import_put() - record an import of layer @id (@size bytes) into @vm/@vol. Returns 0 or -errno. */
int catalog_import_put(catalog *cat, const char *vm, const char *vol, int64_t id, uint64_t size);
/** catalog_import_delete() - forget the import into @vm/@vol. Returns 0 or -errno. */
int catalog_import_delete(catalog *cat, const char *vm, const char *vol);
/**
 * catalog_held_layers() - the layer ids revisions and imports hold, sorted. Returns the
 * count and a malloc'd array, or -errno.
 */
int catalog_held_layers(catalog *cat, int64_t **ret_ids);

#endif
