/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The catalog's Xen rows: the domain each VM was started for (table domains) and the
 * volumes handed to domains as disks (table attachments). */
#ifndef DVM_CATALOG_DOMAIN_H
#define DVM_CATALOG_DOMAIN_H

#include "store/catalog.h"

/** The Xen domain a VM was started for (block-dvm); its volumes go when the domain lets go. */
struct cat_domain {
        char vm[DVM_NAME_MAX + 1];
        uint32_t domid;
        char uuid[40];                     /* the domain's UUID: domain ids are recycled */
};

/** A volume handed to a Xen domain as one of its disks. */
struct cat_attachment {
        uint32_t domid;
        uint32_t devid;                    /* the vbd device id */
        char vdev[16];                     /* as the domain sees it: xvda, ... */
        char vm[DVM_NAME_MAX + 1];
        char volume[16];
        bool rw;
};

/** catalog_domain_put() - record (or replace) the domain VM @d->vm was started for. Returns 0 or -errno. */
int catalog_domain_put(catalog *cat, const struct cat_domain *d);
/** catalog_domain_get() - the domain VM @vm was started for. Returns 0, -ENOENT, or -errno. */
int catalog_domain_get(catalog *cat, const char *vm, struct cat_domain *ret_domain);
/** catalog_domain_delete() - forget the domain of VM @vm. Returns 0 or -errno. */
int catalog_domain_delete(catalog *cat, const char *vm);
/**
 * catalog_domain_disposable() - the disposable of DVM Template @dvm started for domain
 * @domid with UUID @uuid. Returns 0 and its name, -ENOENT, or -errno.
 */
int catalog_domain_disposable(catalog *cat, const char *dvm, uint32_t domid, const char *uuid,
                              char ret_vm[DVM_NAME_MAX + 1]);

/** catalog_attachment_put() - record a disk of a domain (replacing its row). Returns 0 or -errno. */
int catalog_attachment_put(catalog *cat, const struct cat_attachment *a);
/** catalog_attachment_get() - disk @devid of domain @domid. Returns 0, -ENOENT, or -errno. */
int catalog_attachment_get(catalog *cat, uint32_t domid, uint32_t devid, struct cat_attachment *ret);
/** catalog_attachment_delete() - forget disk @devid of domain @domid. Returns 0 or -errno. */
int catalog_attachment_delete(catalog *cat, uint32_t domid, uint32_t devid);
/**
 * catalog_attachment_list() - the disks made of VM @vm's volumes (every disk when @vm is
 * NULL), by domain and device id. Returns the count and a malloc'd array, or -errno.
 */
int catalog_attachment_list(catalog *cat, const char *vm, struct cat_attachment **ret);

#endif
