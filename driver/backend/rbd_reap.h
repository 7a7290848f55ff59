/* SPDX-License-Identifier: GPL-2.0-or-later */
/* recover --host on an rbd pool: what a dead, fenced host held in the cluster goes. */
#ifndef DVM_RBD_REAP_H
#define DVM_RBD_REAP_H

#include "backend/backend.h"

/** rbd_reap_host() - the backend's reap_host op: see dvm_pool_reap_host() in dvm.h. */
int rbd_reap_host(dvm_pool *pool, const char *host, struct dvm_host_reap *ret);

#endif
