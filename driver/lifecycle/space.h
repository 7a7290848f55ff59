/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The space guard of a pool (dvm_pool_set_space_guard() in dvm.h): the free data and
 * metadata share that spawn, start and import must leave.
 */
#ifndef DVM_SPACE_H
#define DVM_SPACE_H

#include <stdint.h>

#include "backend/pool.h"

#define SPACE_GUARD_DEFAULT 10u
#define SPACE_GUARD_MAX 99u

/**
 * space_guard_check() - refuse @what (a verb, for the message) when the pool's free data,
 * less @need_data bytes it is about to write, or its free metadata is under the pool's guard.
 * Call before any change. Returns 0, -ENOSPC with a message, or -errno.
 */
int space_guard_check(dvm_pool *pool, const char *what, uint64_t need_data);

#endif
