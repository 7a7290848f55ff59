/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Busy devices: a VM whose devices someone holds open cannot be stopped or destroyed now.
 */
#ifndef DVM_BUSY_H
#define DVM_BUSY_H

#include "backend/pool.h"

#define BUSY_MAX_VOLUMES 3

/**
 * busy_check() - whether any device of VM @vm's running layers is open. @doing ("stop",
 * "destroy") goes into the message, which names the device and who holds it.
 * Returns 0 when all are closed (or absent), -EBUSY with the message, or -errno.
 */
int busy_check(dvm_pool *pool, const char *vm, const char *doing);

#endif
