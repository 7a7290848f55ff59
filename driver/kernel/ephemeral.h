/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ephemeral-key layers: a dm-crypt device over another block device with a random key that
 * only the kernel's table keeps. Whatever is written below it is ciphertext under a key that
 * is gone once the device is removed. Used for volatile volumes (and COW stores).
 */
#ifndef DVM_EPHEMERAL_H
#define DVM_EPHEMERAL_H

#include <stdint.h>

#include "util/ctx.h"

/**
 * ephemeral_create() - create dm device @name (dm UUID @uuid) of @sectors sectors over the
 * block device @major:@minor, encrypted (aes-xts-plain64) with a 512-bit key from
 * getrandom(). The key lives in locked memory of this process only while the table is
 * built and is wiped right after; it is never logged, and an error message withholds it.
 * It takes no discards (dm-crypt without allow_discards): what a VM discards stays below it
 * until the wipe. Returns 0, -EOPNOTSUPP without dm-crypt, or -errno.
 */
int ephemeral_create(dvm_ctx *ctx, const char *name, const char *uuid, uint64_t sectors, uint32_t major,
                     uint32_t minor);

#endif
