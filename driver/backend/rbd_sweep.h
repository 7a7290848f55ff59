/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Recovery of an rbd pool's part of the cluster: what a process of this pool killed midway
 * left there. The pool lock is held, so no live process of this pool holds anything in the
 * images of this host and pool ("dvm.<host>.<pool>."): their exclusive locks are a dead
 * one's, their snapshots the catalog does not record are an import's or a commit's whose
 * catalog transaction never committed (unless other hosts use them: released to them), and
 * such an image left without snapshots is one too. Left there, the next layer given the
 * same id (the catalog's rolled back) would take the stale image as its own commit.
 * This host's uses of other hosts' snapshots (rbd_share.h) that the catalog does not record
 * and no mapping on this machine stands for are a start's that never committed: left
 * there, the owner would keep a snapshot it released for good.
 */
#ifndef DVM_RBD_SWEEP_H
#define DVM_RBD_SWEEP_H

#include "backend/rbd_backend.h"

/**
 * rbd_sweep() - break the locks of this pool's images, remove their snapshots the catalog
 * does not record and no other host uses, and the images left with none that the catalog
 * does not name; drop this host's unrecorded, unmapped uses of other hosts' snapshots (and
 * such a snapshot its owner released, when no host uses it any more). Returns the count
 * of snapshots, images and uses removed, or -errno.
 */
int rbd_sweep(dvm_pool *pool, struct rbd_conn *c);

#endif
