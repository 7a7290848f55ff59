/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The blocks a thin device owns relative to its origin (what the zero-discard wipe must
 * overwrite), found by walking both mapping trees in step, and the extent array they fill.
 */
#include <errno.h>
#include <stdlib.h>

#include "format/thin_meta.h"

int thin_meta_extents_add(struct thin_meta_extents *e, uint64_t vblock, uint64_t data_block,
                          uint64_t length)
{
        struct thin_meta_extent *last = e->n ? &e->items[e->n - 1] : NULL;

        if (length == 0 || vblock + length < vblock ||
            (last && vblock < last->vblock + last->length))
                return -EINVAL;
        if (last && last->vblock + last->length == vblock &&
            last->data_block + last->length == data_block) {
                last->length += length;
                e->nr_blocks += length;
                return 0;
        }
        if (e->n == e->allocated) {
                size_t a = e->allocated ? e->allocated * 2 : 64;
                struct thin_meta_extent *p = reallocarray(e->items, a, sizeof(*p));

                if (!p)
                        return -ENOMEM;
                e->items = p;
                e->allocated = a;
        }
        e->items[e->n++] = (struct thin_meta_extent){ vblock, data_block, length };
        e->nr_blocks += length;
        return 0;
}

size_t thin_meta_extents_vrun(const struct thin_meta_extents *e, size_t i, uint64_t *ret_vblock,
                              uint64_t *ret_length)
{
        uint64_t start = e->items[i].vblock, length = e->items[i].length;

        for (i++; i < e->n && e->items[i].vblock == start + length; i++)
                length += e->items[i].length;
        *ret_vblock = start;
        *ret_length = length;
        return i;
}

void thin_meta_extents_free(struct thin_meta_extents *e)
{
        if (!e)
                return;
        free(e->items);
        *e = (struct thin_meta_extents){ 0 };
}

static int next(struct thin_meta_iter *it, struct thin_meta_mapping *ret, bool *ret_have)
{
        int r = thin_meta_iter_next(it, ret);

        if (r < 0)
                return r;
        *ret_have = r > 0;
        return r;
}

int thin_meta_owned(struct thin_meta *m, uint64_t id, uint64_t origin,
                    struct thin_meta_extents *ret_extents)
{
        _cleanup_(thin_meta_extents_free) struct thin_meta_extents e = { 0 };
        _cleanup_(thin_meta_iter_done) struct thin_meta_iter a = { 0 }, b = { 0 };
        struct thin_meta_mapping ma, mb;
        bool have_a = false, have_b = false, b_done = origin == THIN_META_NO_ORIGIN;
        int r;

        r = thin_meta_iter_init(m, id, &a);
        if (r < 0)
                return r;
        if (!b_done) {
                r = thin_meta_iter_init(m, origin, &b);
                if (r < 0)
                        return r;
        }
        for (;;) {
                /* A block both walks stand before holds the same entries for both: none
                 * is owned, and none of @b's can match an entry of @a elsewhere. */
                if (!b_done && (!have_a || !have_b)) {
                        r = btree_iter_skip_shared(&a.bt, &b.bt);
                        if (r < 0)
                                return r;
                }
                if (!have_a) {
                        r = next(&a, &ma, &have_a);
                        if (r < 0)
                                return r;
                        if (!have_a)
                                break;
                }
                if (!have_b && !b_done) {
                        r = next(&b, &mb, &have_b);
                        if (r < 0)
                                return r;
                        b_done = !have_b;
                }
                if (have_b && mb.vblock < ma.vblock) {
                        have_b = false;
                        continue;
                }
                if (have_b && mb.vblock == ma.vblock) {
                        have_b = false;
                        if (mb.data_block == ma.data_block) {
                                have_a = false;
                                continue;
                        }
                }
                r = thin_meta_extents_add(&e, ma.vblock, ma.data_block, 1);
                if (r < 0)
                        return r;
                have_a = false;
        }
        *ret_extents = e;
        e = (struct thin_meta_extents){ 0 };
        return 0;
}
