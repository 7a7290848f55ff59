/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The catalog's VM rows (table vms) and the names of new disposables. */
#ifndef DVM_CATALOG_VM_H
#define DVM_CATALOG_VM_H

#include "store/catalog.h"

/** A VM row. */
struct cat_vm {
        char name[DVM_NAME_MAX + 1];
        enum dvm_vm_kind kind;
        char template[DVM_NAME_MAX + 1]; /* "" when none */
        bool running;
        bool named;
};

/** catalog_vm_get() - the VM @name. Returns 0, -ENOENT, or -errno. */
int catalog_vm_get(catalog *cat, const char *name, struct cat_vm *ret_vm);
/** catalog_vm_put() - insert or replace a VM row. Returns 0 or -errno. */
int catalog_vm_put(catalog *cat, const struct cat_vm *vm);
/**
 * catalog_vm_delete() - delete a VM row with the rows of every table that names the VM (its
 * volumes and their layers, its domain and disks; not its intent). Returns 0 or -errno.
 */
int catalog_vm_delete(catalog *cat, const char *name);
/** catalog_vm_list() - all VM rows, by kind then name. Returns the count and a malloc'd array, or -errno. */
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

#endif
