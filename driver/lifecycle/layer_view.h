/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Read-only views of layers (the public dvm_layer_*): the running layer through its
 * volume's own device, a committed layer through a read-only device of its own that lives
 * as long as the view. Their names, for whoever cleans up after a crashed reader.
 */
#ifndef DVM_LAYER_VIEW_H
#define DVM_LAYER_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/pool.h"

/* View devices are "DVM-<pool>" LAYER_VIEW_MARK "<layer id>-<pid>-<n>": a pool name holds
 * no '+', so no volume device name ("DVM-<pool>-<vm>-<volume>") ever looks like one. */
#define LAYER_VIEW_MARK "+view-"

/** layer_view_dm_name() - a fresh view device name for layer @id into @buf. Returns @buf. */
char *layer_view_dm_name(const dvm_pool *pool, int64_t id, char *buf, size_t len);

/**
 * layer_view_name_parse() - whether @dm_name is a view device of pool @pool_name, and of
 * which layer and process. Returns 0 and fills @ret_id and @ret_pid, or -EINVAL.
 */
int layer_view_name_parse(const char *dm_name, const char *pool_name, int64_t *ret_id, int *ret_pid);

/**
 * layer_view_reap_orphan() - delete layer @id if no volume uses it any more: its last user
 * went while a view held it open (the kernel refuses to delete an open thin device).
 */
void layer_view_reap_orphan(dvm_pool *pool, int64_t id);

DEFINE_CLEANUP(dvm_layer *, dvm_layer_close)

#endif
