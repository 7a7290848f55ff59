/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A layer's owned ranges as the files `delta` and `changed` show them: SEEK_DATA and
 * SEEK_HOLE over a sorted extent array, the extents a read touches, and the text form.
 */
#ifndef DVM_INSPECT_EXTENTS_H
#define DVM_INSPECT_EXTENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dvm.h"

/**
 * extents_seek() - lseek(SEEK_DATA) (@data true) or lseek(SEEK_HOLE) from @off in a file
 * of @size bytes whose data are the sorted, disjoint extents @e[0..@n). The end of the
 * file counts as a hole. Returns the offset, or -ENXIO when @off is at or past the end or
 * (SEEK_DATA) no data follows.
 */
int64_t extents_seek(const struct dvm_extent *e, size_t n, uint64_t size, uint64_t off, bool data);

/** extents_first_after() - index of the first extent that ends after @off (@n: none). */
size_t extents_first_after(const struct dvm_extent *e, size_t n, uint64_t off);

/**
 * extents_text() - the `changed` file: one "offset length\n" line per extent, decimal bytes.
 * Returns 0 and a malloc'd NUL-terminated text in @ret_text with its length in @ret_len,
 * or -ENOMEM.
 */
int extents_text(const struct dvm_extent *e, size_t n, char **ret_text, size_t *ret_len);

#endif
