/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Preloaded disposables: which ready disposables a spawn may take, and the take; their
 * refill by the worker is preload_fill.h.
 */
#ifndef DVM_PRELOAD_H
#define DVM_PRELOAD_H

#include "backend/pool.h"

/**
 * preload_take() - inside the caller's transaction, take a ready disposable of @dvm: its
 * ready row goes, so that no other spawn can have it. Ready rows whose VM is no longer a
 * running unnamed disposable of @dvm are dropped; outdated ones are left to the worker.
 * Returns 1 and its name, 0 when none is ready, or -errno.
 */
int preload_take(dvm_pool *pool, const char *dvm, char ret_name[DVM_NAME_MAX + 1]);

/**
 * preload_take_now() - preload_take() as a change of its own: the pool lock, recovery when
 * the pool needs it, one catalog transaction, no kernel change; the one taken is described
 * in @ret_info (may be NULL) inside that transaction. Returns as preload_take().
 */
int preload_take_now(dvm_pool *pool, const char *dvm, char ret_name[DVM_NAME_MAX + 1], struct dvm_vm_info *ret_info);

/**
 * preload_drop() - under the pool lock inside a change: forget the preload setting of @dvm
 * and queue the wipes of its ready disposables (later_queue()). Returns 0 or -errno.
 */
int preload_drop(dvm_pool *pool, const char *dvm);

/** preload_wanted() - whether any DVM Template of the pool has a preload count. */
bool preload_wanted(dvm_pool *pool);

/**
 * preload_still_ready() - whether ready row @name still names a running unnamed disposable
 * of @dvm that no domain holds and no wipe waits for (anything else is a row to drop).
 */
bool preload_still_ready(dvm_pool *pool, const char *name, const char *dvm);

/**
 * preload_outdated() - Qubes' is_outdated for VM @name: a running layer of it was taken
 * from a source that has committed since (the TemplateVM's root, the DVM Template's
 * private); with @remote also one that follows another host's template that committed
 * since (volume_outdated()); without it, from the catalog alone. Returns 1, 0, or -errno
 * (the catalog, or with @remote the cluster, could not tell).
 */
int preload_outdated(dvm_pool *pool, const char *name, bool remote);

/**
 * preload_queue_wipe() - under the pool lock inside a change: cut ready disposable @name off
 * and queue its wipe (later_queue()); its ready row goes with the cut. Returns 0 or -errno.
 */
int preload_queue_wipe(dvm_pool *pool, const char *name);

#endif
