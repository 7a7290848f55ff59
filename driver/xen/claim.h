/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A volume claimed as a disk of a Xen domain, in the catalog: the disposable a domain's
 * dvm-spawn disks share (made on the first one), a halted VM started for the domain, the
 * rule that a writable volume goes to one disk only; and the release that stops or
 * destroys what was made for the domain once its last disk is gone.
 */
#ifndef DVM_CLAIM_H
#define DVM_CLAIM_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/pool.h"
#include "lifecycle/volume.h"
#include "store/catalog_volume.h"
#include "xen/xen_params.h"

/** The disk of a domain that asks for a volume. */
struct claim_disk {
        uint32_t domid;
        uint32_t devid;
        char vdev[16];
        char dom_uuid[40];
        bool rw;
};

/** The volume a claim hands over. */
struct claim_result {
        char vm[DVM_NAME_MAX + 1];
        char volume[16];
        char dm_name[VOLUME_DM_NAME_MAX];
        int64_t layer_id;                      /* the running layer its device shows */
        char path[VOLUME_DM_NAME_MAX + 16];    /* /dev/mapper/<dm_name> */
        bool made;                             /* this claim spawned or started the VM */
};

/**
 * claim_add() - claim the volume target @t names for disk @d, in one transaction under
 * the pool lock: a spawn target finds or spawns the disposable of its DVM Template for
 * the domain (@d->domid, @d->dom_uuid); a volume target starts its VM for the domain
 * when it is halted. A claim served by what is there (a ready disposable taken, the domain's
 * disposable, a running VM) changes the catalog alone: no dirty mark, no thin-pool commit.
 * Claiming the same disk again is a no-op. Returns 0 and @ret, or
 * -errno: -ENOENT (no such VM or volume), -EROFS (a read-only volume asked writable),
 * -EBUSY (another disk has it and one of them is writable), -EEXIST (the disk has another
 * volume), with a message. Other VMs' deferred stops and destroys wait for recover: a
 * hook has 40 s (pool->defer_intents).
 */
int claim_add(dvm_pool *pool, const struct xen_target *t, const struct claim_disk *d, struct claim_result *ret);

/**
 * claim_check_sharing() - whether volume @v may become disk @d: a writable volume goes to one
 * disk, a read-only one to any number of read-only disks. Returns 0, or -EBUSY with a
 * message naming the disk that has it.
 */
int claim_check_sharing(dvm_pool *pool, const struct cat_volume *v, const struct claim_disk *d);

/**
 * claim_remove() - release disk @devid of domain @domid. When it was the last disk of a VM
 * started or spawned for that domain, the VM stops: an unnamed disposable is destroyed
 * (with the wipe), a named one loses its layers, a template commits. Releasing a disk
 * that holds nothing is a no-op. Other VMs' deferred stops and destroys wait for recover,
 * as in claim_add(). Returns 0 and the VM in @ret_vm ("" for none, may be NULL), or -errno.
 */
int claim_remove(dvm_pool *pool, uint32_t domid, uint32_t devid, char *ret_vm);

/**
 * claim_reap_dead() - with the pool locked, in recovery: release every disk of the pool
 * whose domain's Xen backend is gone (the domain died without the toolstack's remove), as
 * block-dvm's remove would. Counts the VMs that went in rep->vms_reaped and the releases
 * that failed in rep->pending. Returns 0 or -errno.
 */
int claim_reap_dead(dvm_pool *pool, struct dvm_recover_report *rep);

#endif
