/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Destroys left to a worker: the caller waits only until the disposable is cut off (its
 * devices that a domain can open are gone, its domain and disk rows with them) and the
 * intent to wipe it is in the catalog; `dvm-vol worker` then wipes it and removes what is
 * left, one worker per pool at a time. A crash leaves the intent, which recovery finishes.
 */
#ifndef DVM_LATER_H
#define DVM_LATER_H

#include <stdbool.h>

#include "backend/pool.h"
#include "store/catalog_intent.h"
#include "store/catalog_vm.h"

/**
 * later_eligible() - whether the destroy of @vm may be left to the worker: it has running
 * layers in the pool itself (an in-RAM VM or a halted one has no wipe worth deferring).
 */
bool later_eligible(dvm_pool *pool, const struct cat_vm *vm);

/**
 * later_queue() - cut @vm off and leave its wipe to the worker. Called under the pool lock
 * inside a change, after the busy check. The intent (CAT_INTENT_WIPE), with the VM's
 * domain and disk rows gone, is committed before any device goes; then the devices a
 * domain could open go (the crypt device of a volatile volume, its key with it; the
 * device of any other layer): their nodes at once, the devices themselves by the kernel
 * (dm_remove_deferred()) where the backend allows it, else removed here. A device that cannot go leaves a plain destroy intent
 * (recover finishes it) and -EBUSY with a message. Returns 0 or -errno.
 */
int later_queue(dvm_pool *pool, const struct cat_vm *vm);

/**
 * later_unfence() - bring back the layer devices of @vm's running layers that
 * later_queue() took down, so that the wipe can go through them. Returns 0 or -errno.
 */
int later_unfence(dvm_pool *pool, const struct cat_vm *vm);

/** later_pending() - whether VM @name waits for its wipe (a CAT_INTENT_WIPE). */
bool later_pending(dvm_pool *pool, const char *name);

/**
 * later_finish_for() - finish now the wipes pending for @name and for the VMs whose
 * template it is (a template goes after its disposables). Called under the pool lock
 * inside a change. Returns 0 or -errno.
 */
int later_finish_for(dvm_pool *pool, const char *name);

struct wipe_job;

/**
 * later_claim() - take the claim on the pool's queued wipes (<pool dir>/wipe.lock): the
 * worker holds it while it writes zeros without the pool lock; whoever else finishes a
 * queued wipe takes it (@wait) under the pool lock, and so waits for those zeros. Without
 * @wait, -EWOULDBLOCK when it is taken. Returns 0 and the descriptor to close in @ret_fd.
 */
int later_claim(dvm_pool *pool, bool wait, int *ret_fd);

/**
 * later_wipe_begin() - under the pool lock, with the claim: mark in the catalog that the
 * wipe of @vm is under way (a mark left by another says that one did not finish: the pool
 * drops its zero invariant), bring back its layer devices and plan the wipe of its running
 * layers, which the caller runs without the lock (wipe_run()). The intent keeps the
 * layers and the name taken meanwhile. Returns 0 and the job in @ret_job, or -errno.
 */
int later_wipe_begin(dvm_pool *pool, const struct cat_vm *vm, struct wipe_job **ret_job);

/**
 * later_wipe_end() - in the transaction that finishes the queued wipe of @name: when this
 * process did not wipe all its running layers and the catalog says a wipe of it was under
 * way, that wipe did not finish (the pool drops its zero invariant); the mark goes.
 * Returns 0 or -errno.
 */
int later_wipe_end(dvm_pool *pool, const char *name);

/** later_zero_drop() - the pool zeroes new blocks again (@why); a failure is a warning. */
void later_zero_drop(dvm_pool *pool, const char *why);

/**
 * later_kick() - start `dvm-vol worker --try POOL` detached (through a vfork child that
 * exits once the worker is exec'd: no child left to the caller, no copy of its memory; its
 * own session, no descriptor of ours, stdio on /dev/null): the binary named by $DVM_VOL_BIN, else this
 * program when it is dvm-vol, else the installed one. It returns at once: a thread of the
 * context starts the worker, and dvm_ctx_free() waits for it (ctx_background()). A worker
 * that cannot start leaves the work queued for the next worker, `dvm-vol recover` and the
 * boot unit.
 */
void later_kick(dvm_pool *pool);

#endif
