/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Thin metadata fixtures, the model half: pools of devices and mappings built from specs,
 * what a device owns relative to another by the model, and comparisons of thin_meta's
 * answers with a model device.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/thin_meta.h"
#include "thin_fixture.h"

struct tfx_device *tfx_pool_add(struct tfx_pool *p, uint64_t id, uint64_t transaction,
                                uint32_t creation_time, uint32_t snap_time)
{
        struct tfx_device *devs = reallocarray(p->devs, p->n + 1, sizeof(*devs));

        if (!devs)
                return NULL;
        p->devs = devs;
        devs[p->n] = (struct tfx_device){ .id = id, .transaction = transaction,
                                          .creation_time = creation_time,
                                          .snap_time = snap_time };
        return &devs[p->n++];
}

int tfx_map(struct tfx_device *d, uint64_t vblock, uint64_t data_block, uint64_t length,
            uint32_t time)
{
        struct tfx_range *last = d->n ? &d->ranges[d->n - 1] : NULL;

        if (length == 0 || (last && vblock < last->vblock + last->length))
                return -EINVAL;
        d->mapped_blocks += length;
        if (last && last->vblock + last->length == vblock &&
            last->data_block + last->length == data_block && last->time == time) {
                last->length += length;
                return 0;
        }
        if (d->n == d->allocated) {
                size_t a = d->allocated ? 2 * d->allocated : 64;
                struct tfx_range *r = reallocarray(d->ranges, a, sizeof(*r));
                if (!r)
                        return -ENOMEM;
                d->ranges = r;
                d->allocated = a;
        }
        d->ranges[d->n++] = (struct tfx_range){ vblock, data_block, length, time };
        return 0;
}

const struct tfx_device *tfx_find(const struct tfx_pool *p, uint64_t id)
{
        for (size_t i = 0; i < p->n; i++)
                if (p->devs[i].id == id)
                        return &p->devs[i];
        return NULL;
}

void tfx_pool_free(struct tfx_pool *p)
{
        for (size_t i = 0; i < p->n; i++)
                free(p->devs[i].ranges);
        free(p->devs);
        *p = (struct tfx_pool){ 0 };
}

size_t tfx_expand(const struct tfx_device *d, struct tfx_block **ret)
{
        size_t n = 0;
        struct tfx_block *b = malloc((d->mapped_blocks + 1) * sizeof(*b));

        if (!b)
                abort();
        for (size_t i = 0; i < d->n; i++)
                for (uint64_t j = 0; j < d->ranges[i].length && n < d->mapped_blocks; j++)
                        b[n++] = (struct tfx_block){ d->ranges[i].vblock + j,
                                                     d->ranges[i].data_block + j,
                                                     d->ranges[i].time };
        *ret = b;
        return n;
}

size_t tfx_owned(const struct tfx_device *a, const struct tfx_device *b, struct tfx_block **ret)
{
        struct tfx_block *ea, *eb = NULL;
        size_t na = tfx_expand(a, &ea), nb = b ? tfx_expand(b, &eb) : 0, n = 0, j = 0;

        for (size_t i = 0; i < na; i++) {
                while (j < nb && eb[j].vblock < ea[i].vblock)
                        j++;
                if (j < nb && eb[j].vblock == ea[i].vblock && eb[j].data_block == ea[i].data_block)
                        continue;
                ea[n++] = ea[i];
        }
        free(eb);
        *ret = ea;
        return n;
}

static int cmp_block(const void *a, const void *b)
{
        const struct tfx_block *x = a, *y = b;

        return x->vblock < y->vblock ? -1 : x->vblock > y->vblock;
}

static int build_one(struct tfx_pool *p, const struct tfx_spec *s, uint64_t *cursor)
{
        _cleanup_free_ struct tfx_block *b = NULL;
        const struct tfx_device *o = s->snap ? tfx_find(p, s->origin) : NULL;
        size_t n = o ? tfx_expand(o, &b) : 0, m = 0;
        struct tfx_device *d;

        if (s->snap && !o)
                return -EINVAL;
        b = realloc(b, (n + s->nr_blocks + s->add_count + 1) * sizeof(*b));
        if (!b)
                return -ENOMEM;
        for (uint64_t v = 0; v < s->nr_blocks; v++) {
                if (s->hole_every && v % s->hole_every == 0)
                        continue;
                if (++*cursor % 50 == 0)
                        *cursor += 3;
                b[n++] = (struct tfx_block){ v, *cursor, s->time };
        }
        for (size_t i = 0; i < n; i++) {
                if (s->drop_every && i % s->drop_every == s->drop_every - 1)
                        continue;
                if (s->change_every && i % s->change_every == 0)
                        b[i] = (struct tfx_block){ b[i].vblock, ++*cursor, s->time };
                b[m++] = b[i];
        }
        for (uint64_t i = 0, sorted = m; i < s->add_count; i++) {
                struct tfx_block nb = { s->add_from + i * s->add_stride, ++*cursor, s->time };
                struct tfx_block *hit = bsearch(&nb, b, sorted, sizeof(*b), cmp_block);
                if (hit)
                        *hit = nb;
                else
                        b[m++] = nb;
        }
        qsort(b, m, sizeof(*b), cmp_block);
        d = tfx_pool_add(p, s->id, s->id % 7, s->time, s->time + (uint32_t)(s->id % 5));
        if (!d)
                return -ENOMEM;
        d->mapped_attr = s->mapped_attr;
        for (size_t i = 0; i < m; i++)
                if (tfx_map(d, b[i].vblock, b[i].data_block, 1, b[i].time) < 0)
                        return -EINVAL;
        return 0;
}

int tfx_build(struct tfx_pool *p, const struct tfx_spec *specs, size_t n)
{
        uint64_t cursor = 1000;

        for (size_t i = 0; i < n; i++) {
                int r = build_one(p, &specs[i], &cursor);
                if (r < 0)
                        return r;
        }
        p->data_block_size = 128;
        p->nr_data_blocks = (cursor + 4096) & ~UINT64_C(4095);
        for (size_t i = 0; i < p->n; i++)
                if (p->devs[i].snap_time > p->time)
                        p->time = p->devs[i].snap_time;
        p->transaction = 42;
        return 0;
}

#define WHY(...) (snprintf(why, size, __VA_ARGS__), -1)

int tfx_check_mappings(struct thin_meta *m, const struct tfx_device *want, char *why,
                       size_t size)
{
        _cleanup_(thin_meta_iter_done) struct thin_meta_iter it = { 0 };
        _cleanup_free_ struct tfx_block *b = NULL;
        size_t n = tfx_expand(want, &b), i = 0;
        struct thin_meta_mapping mp;
        int r = thin_meta_iter_init(m, want->id, &it);

        if (r < 0)
                return WHY("dev %" PRIu64 ": walk: %d", want->id, r);
        while ((r = thin_meta_iter_next(&it, &mp)) > 0) {
                if (i == n)
                        return WHY("dev %" PRIu64 ": extra mapping %" PRIu64 " -> %" PRIu64,
                                   want->id, mp.vblock, mp.data_block);
                if (mp.vblock != b[i].vblock || mp.data_block != b[i].data_block ||
                    mp.time != b[i].time)
                        return WHY("dev %" PRIu64 " mapping %zu: got %" PRIu64 " -> %" PRIu64
                                   " t%" PRIu32 ", want %" PRIu64 " -> %" PRIu64 " t%" PRIu32,
                                   want->id, i, mp.vblock, mp.data_block, mp.time, b[i].vblock,
                                   b[i].data_block, b[i].time);
                i++;
        }
        if (r < 0)
                return WHY("dev %" PRIu64 ": walk failed after %zu mappings: %d", want->id, i, r);
        if (i != n)
                return WHY("dev %" PRIu64 ": %zu mappings, want %zu", want->id, i, n);
        return 0;
}

int tfx_check_extents(const struct thin_meta_extents *e, const struct tfx_block *want,
                      size_t n, char *why, size_t size)
{
        uint64_t total = 0;
        size_t k = 0;

        for (size_t i = 0; i < e->n; i++) {
                const struct thin_meta_extent *x = &e->items[i], *p = i ? x - 1 : NULL;

                if (x->length == 0)
                        return WHY("extent %zu is empty", i);
                if (p && x->vblock < p->vblock + p->length)
                        return WHY("extent %zu at %" PRIu64 " overlaps or is out of order", i,
                                   x->vblock);
                if (p && x->vblock == p->vblock + p->length &&
                    x->data_block == p->data_block + p->length)
                        return WHY("extent %zu at %" PRIu64 " should have been merged", i,
                                   x->vblock);
                for (uint64_t j = 0; j < x->length; j++, k++) {
                        if (k == n)
                                return WHY("extra owned block %" PRIu64, x->vblock + j);
                        if (x->vblock + j != want[k].vblock ||
                            x->data_block + j != want[k].data_block)
                                return WHY("owned block %zu: got %" PRIu64 " -> %" PRIu64
                                           ", want %" PRIu64 " -> %" PRIu64, k, x->vblock + j,
                                           x->data_block + j, want[k].vblock,
                                           want[k].data_block);
                }
                total += x->length;
        }
        if (k != n)
                return WHY("%zu owned blocks, want %zu", k, n);
        if (e->nr_blocks != total)
                return WHY("nr_blocks %" PRIu64 ", the extents add up to %" PRIu64, e->nr_blocks,
                           total);
        return 0;
}
