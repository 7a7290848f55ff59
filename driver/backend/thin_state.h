/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A live thin-pool's own record, for recovery: its transaction id and its thin ids.
 */
#ifndef DVM_THIN_STATE_H
#define DVM_THIN_STATE_H

#include <stdint.h>

#include "backend/pool.h"

/** thin_state_txn_get() - the pool's transaction id, from its status. Returns 0 or -errno. */
int thin_state_txn_get(dvm_pool *pool, uint64_t *ret_id);

/**
 * thin_state_txn_set() - move the pool's transaction id from @old_id to @new_id.
 * Returns 0, or -errno (-EINVAL from the kernel when @old_id is not the current one).
 */
int thin_state_txn_set(dvm_pool *pool, uint64_t old_id, uint64_t new_id);

/**
 * thin_state_layers() - every thin id in the pool's metadata, sorted, read through a
 * metadata snapshot held for the read. Returns the count and a malloc'd array, or -errno.
 */
int thin_state_layers(dvm_pool *pool, int64_t **ret_ids);

#endif
