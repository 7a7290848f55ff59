/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The table of dm targets we use, with the kernel module that provides each and the
 * oldest version we accept. Features are probed from target versions, never from the
 * kernel's version number.
 */
#ifndef DVM_TARGET_H
#define DVM_TARGET_H

#include <stdint.h>

#include "util/ctx.h"

struct target_desc {
        const char *name;        /* target name in tables */
        const char *module;      /* kernel module that provides it */
        uint32_t min_version[3]; /* oldest version we rely on */
};

/** target_find() - the descriptor of target @name, or NULL. */
const struct target_desc *target_find(const char *name);

/**
 * target_require() - make sure the kernel has target @name at a version we accept.
 * Returns 0, -ENODEV without device-mapper, or -EOPNOTSUPP (message names the module).
 */
int target_require(dvm_ctx *ctx, const char *name);

/** target_devnum() - "major:minor" of a block device, as tables want it, into @buf. */
char *target_devnum(uint32_t major, uint32_t minor, char *buf, size_t len);

#endif
