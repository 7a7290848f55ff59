// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Owned ranges for `delta` and `changed`: hole and data lookups by binary search over the
 * sorted extents, and their text form.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "extents.h"

size_t extents_first_after(const struct dvm_extent *e, size_t n, uint64_t off)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (e[mid].offset + e[mid].length <= off)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

int64_t extents_seek(const struct dvm_extent *e, size_t n, uint64_t size, uint64_t off, bool data)
{
        size_t i;

        if (off >= size)
                return -ENXIO;
        i = extents_first_after(e, n, off);
        if (data) {
                if (i == n || e[i].offset >= size)
                        return -ENXIO;
                return (int64_t)(e[i].offset > off ? e[i].offset : off);
        }
        /* in a hole already, or at the end of extent i (extents touching are merged, but
         * be safe with adjacent ones: walk over them) */
        while (i < n && e[i].offset <= off) {
                off = e[i].offset + e[i].length;
                i++;
        }
        return (int64_t)(off < size ? off : size);
}

int extents_text(const struct dvm_extent *e, size_t n, char **ret_text, size_t *ret_len)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%" PRIu64 " %" PRIu64 "\n", e[i].offset, e[i].length);
        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        *ret_text = text;
        *ret_len = len;
        return 0;
}
