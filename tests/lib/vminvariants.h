/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm-tier invariants of a pool at rest: the kernel's view must match the catalog's.
 */
#ifndef DVM_TEST_VMINVARIANTS_H
#define DVM_TEST_VMINVARIANTS_H

#include <stdbool.h>

#include "vmtest.h"

/**
 * vt_check_invariants() - assert (Criterion) that, for the pool of @vt, our dm devices are
 * exactly the catalog's running layers (name and layer id in the UUID), the thin ids in
 * the pool metadata (thin_dump of a metadata snapshot) exactly the catalog's, only the
 * pool's two loops are attached to its files, no intent is left, and the pool is neither
 * suspended nor failed and has the transaction id the catalog records. On a snap pool
 * (@vt->backend "snap"): our devices as above, the layer files in the pool directory
 * exactly those the catalog's layers need, one loop per file a running layer uses, no
 * intent, no dirty mark. On an rbd pool ("rbd"): the local pool's as on thin (the layers in
 * the cluster are no thin ids of it), and the cluster's: this pool's images and snapshots
 * exactly the catalog's, none locked, the kernel's mappings of them exactly one per
 * snapshot a running volume stands on, each held. @when prefixes every failure message. Returns the state read, for vt_has_vm() (malloc'd).
 */
char *vt_check_invariants(struct vt *vt, const char *when);

/** vt_has_vm() - whether VM @name is in the catalog, from vt_check_invariants()'s state. */
bool vt_has_vm(const char *state, const char *name);

#endif
