/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who holds a device open: the text that "device is busy" messages carry.
 */
#ifndef DVM_HOLDERS_H
#define DVM_HOLDERS_H

#include <stddef.h>
#include <sys/types.h>

#include "util/macro.h"

/**
 * holders_describe() - who holds device @dev open: "process 123 (qemu), device dm-4
 * (DVM-...) stacked on it, mounted on /mnt, Xen domain 5 (backend vbd-5-51712)", into @buf
 * (truncated to @len; "" when nobody is found). @type is S_IFBLK (every kind of holder is
 * looked for) or S_IFCHR (processes only). Our own process is left out.
 * Returns the number of holders found.
 */
int holders_describe(dev_t dev, mode_t type, char *buf, size_t len);

#endif
