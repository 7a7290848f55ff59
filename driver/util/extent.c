// SPDX-License-Identifier: GPL-2.0-or-later
/* Sorted, merged lists of byte ranges. */
#include <errno.h>
#include <stdlib.h>

#include "util/extent.h"

int extent_add(struct extent_list *l, uint64_t offset, uint64_t length)
{
        if (length == 0)
                return 0;
        if (offset + length < offset)
                return -EINVAL;
        if (l->n > 0) {
                struct extent *last = &l->v[l->n - 1];
                if (offset < last->offset)
                        return -EINVAL;
                if (offset <= last->offset + last->length) {
                        uint64_t end = offset + length;
                        if (end > last->offset + last->length)
                                last->length = end - last->offset;
                        return 0;
                }
        }
        if (l->n == l->cap) {
                size_t cap = l->cap ? 2 * l->cap : 64;
                struct extent *v = realloc(l->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                l->v = v;
                l->cap = cap;
        }
        l->v[l->n++] = (struct extent){ offset, length };
        return 0;
}

uint64_t extent_total(const struct extent_list *l)
{
        uint64_t sum = 0;
        for (size_t i = 0; i < l->n; i++)
                sum += l->v[i].length;
        return sum;
}

void extent_list_free(struct extent_list *l)
{
        free(l->v);
        *l = (struct extent_list){};
}
