/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lists of byte ranges of a device (what a layer owns, what a wipe must cover), kept
 * sorted and merged.
 */
#ifndef DVM_EXTENT_H
#define DVM_EXTENT_H

#include <stddef.h>
#include <stdint.h>

struct extent {
        uint64_t offset; /* bytes */
        uint64_t length; /* bytes */
};

struct extent_list {
        struct extent *v;
        size_t n, cap;
};

/**
 * extent_add() - append [@offset, @offset + @length); a range that touches or overlaps the
 * last one is merged into it. Ranges must come in ascending order of offset.
 * Returns 0, -EINVAL (out of order or overflow), or -ENOMEM.
 */
int extent_add(struct extent_list *l, uint64_t offset, uint64_t length);

/** extent_total() - the sum of the lengths. */
uint64_t extent_total(const struct extent_list *l);

/** extent_list_free() - free the array and reset @l to empty. */
void extent_list_free(struct extent_list *l);

#endif
