// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target of the COW store reader (driver/format/cow.c): a disposable writes its own
 * store, so every byte of it is hostile. Input: le64 origin size, a control byte (bits 0-4:
 * stop a second walk after that many exceptions; bit 7: write a fresh header over the store
 * afterwards, with the chunk size bits 5-6 pick), then the store in the form of image.h.
 * Runs the header read, the walk, usage, changed ranges and the size a store needs, and
 * aborts when their answers disagree with each other or with the store's bounds.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/cow.h"
#include "image.h"

#define CHECK(cond)                                                                    \
        do {                                                                           \
                if (!(cond)) {                                                         \
                        fprintf(stderr, "fuzz_cow: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                       \
                }                                                                      \
        } while (0)

struct count {
        uint64_t n;
        uint64_t stop_at;       /* 0: never stop */
};

static int count_one(void *userdata, const struct cow_header *h, const struct cow_exception *e)
{
        struct count *c = userdata;

        CHECK(!h->is_new && h->chunk_bytes > 0);
        CHECK(e->new_chunk != 0 && !cow_chunk_is_metadata(h, e->new_chunk));
        c->n++;
        return c->stop_at && c->n == c->stop_at ? 7 : 0;
}

static void check_changes(const struct cow_changes *c, uint64_t file_size, uint64_t origin_size,
                          uint64_t exceptions)
{
        uint64_t ext_bytes = 0, map_bytes = 0;

        CHECK(c->n_mappings >= c->n_extents);
        for (size_t i = 0; i < c->n_extents; i++) {
                const struct cow_extent *x = &c->extents[i];

                CHECK(x->length > 0 && x->offset + x->length > x->offset);
                CHECK(!origin_size || x->offset + x->length <= origin_size);
                /* merged when contiguous: a gap between any two */
                CHECK(i == 0 || c->extents[i - 1].offset + c->extents[i - 1].length < x->offset);
                ext_bytes += x->length;
        }
        for (size_t i = 0; i < c->n_mappings; i++) {
                const struct cow_mapping *m = &c->mappings[i];

                CHECK(m->length > 0 && m->cow_offset >= c->chunk_bytes);
                CHECK(m->cow_offset + m->length <= file_size);
                CHECK(i == 0 || c->mappings[i - 1].origin_offset + c->mappings[i - 1].length <=
                                m->origin_offset);
                map_bytes += m->length;
        }
        CHECK(ext_bytes == map_bytes);
        CHECK(ext_bytes <= exceptions * c->chunk_bytes);
}

/* cow_store_size() of what the input gives: a store of that size holds the data. */
static void check_store_size(uint64_t data_bytes, uint32_t chunk_sectors)
{
        uint64_t size = cow_store_size(data_bytes, chunk_sectors), cb, data, per_area;

        if (size == 0)
                return;
        cb = (uint64_t)chunk_sectors << 9;
        data = data_bytes / cb + (data_bytes % cb != 0);
        per_area = cb / COW_EXCEPTION_SIZE;
        CHECK(size % cb == 0 && size / cb >= 2 + data);
        /* header, the areas the data needs, the next one the kernel zeroes ahead */
        CHECK(size / cb - data >= 2 + data / per_area);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct cow_header h;
        struct cow_usage u;
        struct count all = { 0 }, some = { 0 };
        struct cow_changes *c = NULL;
        uint64_t origin_size, file_size, real;
        int fd, r_walk, r;

        if (size < 9)
                return 0;
        memcpy(&origin_size, data, 8);
        origin_size = le64toh(origin_size);
        some.stop_at = data[8];
        fd = fuzz_image_open(data + 9, size - 9, NULL, &file_size);
        if (fd < 0)
                return 0;
        CHECK(cow_file_size(fd, &real) == 0 && real == file_size);

        r = cow_header_read(fd, &h);
        if (r == 0 && !h.is_new) {
                CHECK(h.chunk_sectors >= COW_CHUNK_SECTORS_MIN &&
                      h.chunk_sectors <= COW_CHUNK_SECTORS_MAX);
                CHECK(h.per_area == h.chunk_bytes / COW_EXCEPTION_SIZE);
                CHECK(cow_chunk_is_metadata(&h, cow_area_chunk(&h, 0)));
        }
        r_walk = cow_for_each_exception(fd, file_size, count_one, &all);
        CHECK(r_walk <= 0);
        r = cow_for_each_exception(fd, file_size, count_one, &some);
        CHECK(r == r_walk || (r == 7 && some.n == some.stop_at));

        r = cow_usage(fd, file_size, &u);
        CHECK(r == r_walk);
        if (r == 0 && !u.header.is_new) {
                CHECK(u.exceptions == all.n);
                CHECK(u.sectors_allocated <= u.total_sectors + 2 * u.header.chunk_sectors);
        }

        r = cow_changed_ranges(fd, file_size, origin_size, &c);
        if (r == 0) {
                CHECK(r_walk == 0);
                check_changes(c, file_size, origin_size, all.n);
                cow_changes_free(c);
        }

        r = cow_header_read(fd, &h);
        check_store_size(origin_size, r == 0 && !h.is_new ? h.chunk_sectors
                                                         : (uint32_t)(origin_size >> 40));
        if (data[8] & 0x80) {
                /* the chunk size of a fresh store is ours (the table's), not the store's */
                uint32_t cs = COW_CHUNK_SECTORS_MIN << ((data[8] >> 5) & 3);

                r = cow_init_empty(fd, cs);
                CHECK(r == 0 || (r == -ENOSPC && file_size < 2 * ((uint64_t)cs << 9)));
                if (r == 0)
                        CHECK(cow_header_read(fd, &h) == 0 && h.is_new);
        }
        close(fd);
        return 0;
}
