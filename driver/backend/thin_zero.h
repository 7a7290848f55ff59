/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The zero invariant of a thin pool: every free block of its data device reads zero, so the
 * pool may provision blocks without zeroing them (the thin-pool's skip_block_zeroing).
 * The file <pool dir>/skip-zeroing records it: made when the pool is created on storage
 * that reads zero, gone (and the pool back to zeroing) as soon as anything could break the
 * invariant. It never comes back by itself.
 */
#ifndef DVM_THIN_ZERO_H
#define DVM_THIN_ZERO_H

#include <stdbool.h>

#include "backend/pool.h"

/** thin_zero_on() - whether pool @pool has the zero invariant (and skips block zeroing). */
bool thin_zero_on(dvm_pool *pool);

/**
 * thin_zero_enable() - record the invariant for a pool being created on storage that
 * reads zero (a new sparse file). Returns 0 or -errno.
 */
int thin_zero_enable(dvm_pool *pool);

/**
 * thin_zero_drop() - the invariant may no longer hold (@why, for the log): forget it
 * durably first, then reload the pool's table with block zeroing. Nothing when it is off.
 * Returns 0, or -errno when the pool may still skip zeroing (the caller must not free
 * unwiped blocks then).
 */
int thin_zero_drop(dvm_pool *pool, const char *why);

/**
 * thin_zero_sync() - make an active pool's table agree with the record: a pool that skips
 * zeroing without the record (a drop cut short between the two steps) is reloaded with
 * zeroing. Returns 0 or -errno.
 */
int thin_zero_sync(dvm_pool *pool);

#endif
