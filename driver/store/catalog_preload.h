/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The catalog's preload tables: how many disposables each DVM Template keeps ready
 * (preload), and which disposables are ready, built and not handed out (ready). A row of
 * either goes with its VM's row.
 */
#ifndef DVM_STORE_PRELOAD_H
#define DVM_STORE_PRELOAD_H

#include "store/catalog.h"

/** The preload setting of a DVM Template. */
struct cat_preload {
        char dvm[DVM_NAME_MAX + 1];
        unsigned count;                    /* disposables kept ready */
        char note[256];                    /* why fewer are ready, from the last refill; "" */
};

/** catalog_preload_get() - the setting of @dvm. Returns 0, -ENOENT, or -errno. */
int catalog_preload_get(catalog *cat, const char *dvm, struct cat_preload *ret);
/** catalog_preload_put() - record (or replace) a setting. Returns 0 or -errno. */
int catalog_preload_put(catalog *cat, const struct cat_preload *p);
/** catalog_preload_delete() - forget the setting of @dvm (absent is no error). Returns 0 or -errno. */
int catalog_preload_delete(catalog *cat, const char *dvm);
/** catalog_preload_list() - every setting, by DVM Template. Returns the count and a malloc'd array, or -errno. */
int catalog_preload_list(catalog *cat, struct cat_preload **ret);

/** catalog_ready_put() - record disposable @vm of @dvm as ready. Returns 0 or -errno. */
int catalog_ready_put(catalog *cat, const char *vm, const char *dvm);
/** catalog_ready_delete() - @vm is ready no more (absent is no error). Returns 0 or -errno. */
int catalog_ready_delete(catalog *cat, const char *vm);
/** catalog_ready_is() - whether @vm is ready. Returns 1, 0, or -errno. */
int catalog_ready_is(catalog *cat, const char *vm);
/**
 * catalog_ready_list() - the ready disposables of @dvm (of every DVM Template when NULL),
 * oldest first. Returns the count and a malloc'd array of names, or -errno.
 */
int catalog_ready_list(catalog *cat, const char *dvm, char (**ret)[DVM_NAME_MAX + 1]);

#endif
