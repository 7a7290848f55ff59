/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The linear target: a device that maps straight onto a range of another (a layer image on
 * its loop device). Table parameters only; it has no status to read.
 */
#ifndef DVM_LINEAR_H
#define DVM_LINEAR_H

#include <stddef.h>
#include <stdint.h>

/**
 * linear_table_params() - "<maj:min> <start sector>" into @buf.
 * Returns the length written, or -ENOBUFS.
 */
int linear_table_params(uint32_t major, uint32_t minor, uint64_t start_sector, char *buf, size_t len);

#endif
