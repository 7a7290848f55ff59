/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The catalog: one SQLite database per pool (WAL, busy timeout) recording the pool's
 * configuration, its VMs and their volumes with their thin ids. The only SQLite user.
 */
#ifndef DVM_CATALOG_H
#define DVM_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "util/ctx.h"

typedef struct catalog catalog;

/** A VM row. */
struct cat_vm {
        char name[DVM_NAME_MAX + 1];
        enum dvm_vm_kind kind;
        char template[DVM_NAME_MAX + 1]; /* "" when none */
        bool running;
        bool named;
};

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

/** What an interrupted stop or destroy was doing to a VM: recovery finishes it. A destroy
 * left to the worker (CAT_INTENT_WIPE) has its VM cut off from every domain already; its
 * wipe and removal wait for `dvm-vol worker` (or recovery), not for the next change. */
enum cat_intent_op { CAT_INTENT_STOP = 1, CAT_INTENT_DESTROY = 2, CAT_INTENT_WIPE = 3 };

/** An operation recorded before it changed the kernel, dropped when it is done. */
struct cat_intent {
        char vm[DVM_NAME_MAX + 1];
        enum cat_intent_op op;
        int64_t since;                     /* seconds since the epoch */
        char error[256];                   /* why the last attempt did not finish; "" */
};

/** catalog_open() - open or create the database at @path. Returns 0 or -errno. */
int catalog_open(dvm_ctx *ctx, const char *path, catalog **ret_cat);

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
/** catalog_meta_set() - set @key to @value. Returns 0 or -errno. */
int catalog_meta_set(catalog *cat, const char *key, const char *value);
/** catalog_meta_delete() - forget @key (absent is no error). Returns 0 or -errno. */
int catalog_meta_delete(catalog *cat, const char *key);
/** catalog_meta_set_u64() - set @key to a number. Returns 0 or -errno. */
int catalog_meta_set_u64(catalog *cat, const char *key, uint64_t value);

/** catalog_vm_get() - the VM @name. Returns 0, -ENOENT, or -errno. */
int catalog_vm_get(catalog *cat, const char *name, struct cat_vm *ret_vm);
/** catalog_vm_put() - insert or replace a VM row. Returns 0 or -errno. */
int catalog_vm_put(catalog *cat, const struct cat_vm *vm);
/** catalog_vm_delete() - delete a VM row and its volume rows. Returns 0 or -errno. */
int catalog_vm_delete(catalog *cat, const char *name);
/** catalog_vm_list() - all VM rows, by kind then name. Returns the count, or -errno. */
int catalog_vm_list(catalog *cat, struct cat_vm **ret_vms);
/**
 * catalog_vm_dependents() - VMs whose template is @name. Returns their count and the first
 * one's name in @ret_first (may be NULL), or -errno.
 */
int catalog_vm_dependents(catalog *cat, const char *name, char ret_first[DVM_NAME_MAX + 1]);
/**
 * catalog_disposable_name() - a free "disp<N>" name (N from 1 to 999999), N advancing from the
 * last one given (meta key next_disposable) so that a name is not reused at once. Call it
 * inside a transaction. Returns 0, -EINVAL for a damaged setting, -ENOSPC, or -errno.
 */
int catalog_disposable_name(catalog *cat, char ret_name[DVM_NAME_MAX + 1]);

/** catalog_volume_get() - volume @vol of @vm. Returns 0, -ENOENT, or -errno. */
int catalog_volume_get(catalog *cat, const char *vm, const char *vol, struct cat_volume *ret_vol);
/** catalog_volume_put() - insert or replace a volume row. Returns 0 or -errno. */
int catalog_volume_put(catalog *cat, const struct cat_volume *vol);
/**
 * catalog_volume_list() - the volumes of @vm (root, private, volatile order), at most
 * @max. Returns the count, or -errno.
 */
int catalog_volume_list(catalog *cat, const char *vm, struct cat_volume *ret_vols, unsigned max);
/**
 * catalog_layer_users() - how many volume rows still need layer @id: as their committed or
 * running layer, or as the origin of a running snap_on_start layer. Returns it, or -errno.
 */
int catalog_layer_users(catalog *cat, int64_t id);

/** catalog_volume_count() - number of volume rows. Returns it, or -errno. */
int catalog_volume_count(catalog *cat);

/**
 * catalog_thin_id_alloc() - the next free 24-bit thin id (one no volume row needs, as
 * catalog_layer_users() counts them), advancing the allocator. Call inside a transaction
 * and store the id before the next call. Returns 0 or -errno (-ENOSPC when all ids are taken).
 */
int catalog_thin_id_alloc(catalog *cat, int64_t *ret_id);

/**
 * catalog_thin_ids() - every thin id the catalog references, sorted. Returns the count
 * and a malloc'd array, or -errno.
 */
int catalog_thin_ids(catalog *cat, int64_t **ret_ids);

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

/** catalog_intent_put() - record (or replace) the intent on @in->vm. Returns 0 or -errno. */
int catalog_intent_put(catalog *cat, const struct cat_intent *in);
/** catalog_intent_delete() - drop the intent on VM @vm, if any. Returns 0 or -errno. */
int catalog_intent_delete(catalog *cat, const char *vm);
/** catalog_intent_list() - every intent, oldest first. Returns the count and a malloc'd array, or -errno. */
int catalog_intent_list(catalog *cat, struct cat_intent **ret);

/* ---- per-volume settings, revisions and imports (the dvm_volume_* calls) ---- */

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
/** catalog_volume_forget() - delete the row of @vm/@vol with its settings, revisions and import. Returns 0 or -errno. */
int catalog_volume_forget(catalog *cat, const char *vm, const char *vol);
/**
 * catalog_held_layers() - the layer ids revisions and imports hold, sorted. Returns the
 * count and a malloc'd array, or -errno.
 */
int catalog_held_layers(catalog *cat, int64_t **ret_ids);

#endif
