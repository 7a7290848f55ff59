/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reconciliation of a pool's kernel state with its catalog, the first half of recovery.
 */
#ifndef DVM_RECONCILE_H
#define DVM_RECONCILE_H

#include "backend/pool.h"

/**
 * reconcile() - with the pool locked and no operation in flight: resume our suspended
 * devices, remove volume devices no running layer accounts for, delete layers no row
 * accounts for, repair rows naming lost layers, release disks of domains that are gone,
 * bring back missing devices of running VMs and record a stop or destroy intent for those
 * that cannot be running any more, detach unused loops over the pool's files. Busy leftovers
 * stay and are counted in @rep->pending. Counts go to @rep. Returns 0 or -errno.
 */
int reconcile(dvm_pool *pool, struct dvm_recover_report *rep);

/**
 * reconcile_devices() - the devices part of reconcile(): resume our suspended devices,
 * remove volume devices no running layer accounts for and the helpers of in-RAM VMs that
 * are not running. Busy ones stay and count in @rep->pending. Returns 0 or -errno.
 */
int reconcile_devices(dvm_pool *pool, struct dvm_recover_report *rep);

#endif
