/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reaping the disks of dead Xen domains: dvm_reap_disk() and dvm_reap_domain() in dvm.h.
 */
#ifndef DVM_REAP_H
#define DVM_REAP_H

#include "dvm.h"

#endif
