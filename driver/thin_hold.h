/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Holding a live thin-pool's metadata snapshot while we read it (the wipe's owned ranges,
 * recovery's list of thin ids). The kernel keeps one such snapshot per pool and does not
 * say who holds it, so every holder of ours locks the pool's device node first.
 */
#ifndef DVM_THIN_HOLD_H
#define DVM_THIN_HOLD_H

#include "ctx.h"

/**
 * thin_hold() - lock /dev/mapper/@pool_dm (waiting for our other readers), then reserve
 * the pool's metadata snapshot. One that stays held while we have the lock is no live
 * reader's of ours (a process killed while it read, or a foreign tool that kept it past a
 * short wait): it is released, with a warning, and reserved anew. Returns the lock's fd,
 * for thin_unhold(), or -errno (described to @ctx).
 */
int thin_hold(dvm_ctx *ctx, const char *pool_dm);

/**
 * thin_unhold() - release the metadata snapshot of @pool_dm, then the lock @fd that
 * thin_hold() returned. Returns 0, or the release's -errno (described to @ctx).
 */
int thin_unhold(dvm_ctx *ctx, const char *pool_dm, int fd);

#endif
