/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Holding a live thin-pool's metadata snapshot while we read it (the wipe's owned ranges,
 * the inspector's, recovery's list of thin ids). The kernel keeps one per pool and does not
 * say who holds it; our readers hold it only under the pool's lock.
 */
#ifndef DVM_THIN_HOLD_H
#define DVM_THIN_HOLD_H

#include "util/ctx.h"

/**
 * thin_hold() - reserve the metadata snapshot of thin-pool device @pool_dm. Call it under
 * the pool's lock: a snapshot that stays held then (after a short wait for a foreign tool
 * such as thin_ls) is no live reader's of ours but one killed while it read, and is
 * released, with a warning, and reserved anew. Returns 0 or -errno (described to @ctx).
 */
int thin_hold(dvm_ctx *ctx, const char *pool_dm);

/** thin_unhold() - release it. Returns 0 or -errno (described to @ctx). */
int thin_unhold(dvm_ctx *ctx, const char *pool_dm);

#endif
