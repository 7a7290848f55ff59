/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal VM helpers shared by the verbs (vm.c) and template import (import.c).
 */
#ifndef DVM_VM_H
#define DVM_VM_H

#include "backend/pool.h"
#include "store/catalog_intent.h"
#include "store/catalog_volume.h"

/**
 * vm_template_add() - catalog rows and empty origins of a new TemplateVM, inside the
 * caller's transaction; on failure the new thin ids are deleted again.
 * Returns 0 and the root and private rows in @ret_vols, or -errno.
 */
int vm_template_add(dvm_pool *pool, const char *name, uint64_t root_size, uint64_t private_size,
                    struct cat_volume ret_vols[2]);

/**
 * vm_spawn() - dvm_spawn() inside the caller's transaction: a disposable of @dvm named
 * @name (NULL: a ready one when there is one, which sets pool->preload_taken; else the
 * next free "disp<N>"), started. Returns 0 and its name, or -errno
 * (the kernel as it was; the caller rolls the catalog back).
 */
int vm_spawn(dvm_pool *pool, const char *dvm, const char *name, char ret_name[DVM_NAME_MAX + 1]);

/**
 * vm_spawn_built() - vm_spawn() of an unnamed disposable that is built now, never taken
 * from the ready ones (the worker's refill). Returns 0 and its name, or -errno.
 */
int vm_spawn_built(dvm_pool *pool, const char *dvm, char ret_name[DVM_NAME_MAX + 1]);

/** vm_start() - dvm_vm_start() inside the caller's transaction. Returns 0 or -errno. */
int vm_start(dvm_pool *pool, const char *name);

/**
 * vm_finish() - carry out a recorded stop or destroy of @name in its own transaction (the
 * pool locked by the caller): its layers go down, the intent with its rows, then the
 * layers nothing uses any more are deleted. A VM that is gone, or stopped already for a
 * stop, only loses the intent. Returns 0 or -errno (the intent then stays).
 */
int vm_finish(dvm_pool *pool, const char *name, enum cat_intent_op op);

/**
 * vm_describe_volume() - @v as the public API shows it: the row joined with what the kernel
 * says (its device, bytes used) and its revisions and import.
 */
void vm_describe_volume(dvm_pool *pool, const struct cat_volume *v, struct dvm_volume_info *out);

#endif
