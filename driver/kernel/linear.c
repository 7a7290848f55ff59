// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The linear target's table parameters
 * (Documentation/admin-guide/device-mapper/linear.rst: "<dev path> <offset>").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "kernel/linear.h"

int linear_table_params(uint32_t major, uint32_t minor, uint64_t start_sector, char *buf, size_t len)
{
        int n = snprintf(buf, len, "%u:%u %" PRIu64, major, minor, start_sector);

        if (n < 0 || (size_t)n >= len)
                return -ENOBUFS;
        return n;
}
