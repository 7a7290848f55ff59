// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of cow.c on synthetic dm-snapshot COW stores built in memfds: header checks,
 * the area walk (empty, one, many, full areas), malformed stores, usage, changed ranges.
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "format/cow.h"
#include "util/macro.h"

#define CS 8u            /* chunk sectors of most stores here */
#define CB 4096u         /* their chunk bytes */
#define PER_AREA 256u    /* their exceptions per area */
#define MAGIC COW_MAGIC

static int store_fd(uint32_t magic, uint32_t valid, uint32_t version, uint32_t chunk,
                    uint64_t size)
{
        uint32_t hdr[4] = { htole32(magic), htole32(valid), htole32(version), htole32(chunk) };
        int fd = memfd_create("cow-test", MFD_CLOEXEC);

        cr_assert_geq(fd, 0, "memfd_create: %s", strerror(errno));
        cr_assert_eq(pwrite(fd, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr), "pwrite header");
        cr_assert_eq(ftruncate(fd, (off_t)size), 0, "ftruncate %ju: %s", (uintmax_t)size,
                     strerror(errno));
        return fd;
}

static void put_pair(int fd, uint64_t off, uint64_t old_chunk, uint64_t new_chunk)
{
        uint64_t raw[2] = { htole64(old_chunk), htole64(new_chunk) };

        cr_assert_eq(pwrite(fd, raw, sizeof(raw), (off_t)off), (ssize_t)sizeof(raw),
                     "pwrite exception at %ju", (uintmax_t)off);
}

/* Writes @e[k] as the kernel does: area k / PER_AREA, slot k % PER_AREA (chunk size CS). */
static void put_exceptions(int fd, const struct cow_exception *e, size_t n)
{
        for (size_t k = 0; k < n; k++) {
                uint64_t area_chunk = 1 + (PER_AREA + 1) * (k / PER_AREA);
                put_pair(fd, area_chunk * CB + (k % PER_AREA) * 16, e[k].old_chunk, e[k].new_chunk);
        }
}

/* The kernel's allocator: next data chunk, stepping over each metadata area. */
static uint64_t kernel_alloc(uint64_t *next_free)
{
        uint64_t c = (*next_free)++;
        if (*next_free % (PER_AREA + 1) == 1)
                (*next_free)++;
        return c;
}

struct list {
        size_t n;
        struct cow_exception v[1024];
};

static int add(void *userdata, _unused_ const struct cow_header *h, const struct cow_exception *e)
{
        struct list *l = userdata;

        if (l->n == ARRAY_SIZE(l->v))
                return -E2BIG;
        l->v[l->n++] = *e;
        return 0;
}

static void assert_list(const struct list *l, const struct cow_exception *want, size_t n)
{
        cr_assert_eq(l->n, n, "read %zu exceptions, want %zu", l->n, n);
        for (size_t i = 0; i < n; i++)
                cr_assert(l->v[i].old_chunk == want[i].old_chunk &&
                          l->v[i].new_chunk == want[i].new_chunk,
                          "exception %zu is %ju->%ju, want %ju->%ju", i,
                          (uintmax_t)l->v[i].old_chunk, (uintmax_t)l->v[i].new_chunk,
                          (uintmax_t)want[i].old_chunk, (uintmax_t)want[i].new_chunk);
}

static void walk_ok(int fd, uint64_t size, struct list *l)
{
        int r;

        l->n = 0;
        r = cow_for_each_exception(fd, size, add, l);
        cr_assert_eq(r, 0, "walk returned %d after %zu exceptions", r, l->n);
}

/* Checks cow_usage() against the numbers the kernel's status line would show. */
static void usage_is(int fd, uint64_t size, uint64_t n, uint64_t areas, uint64_t allocated,
                     uint64_t metadata)
{
        struct cow_usage u;
        int r = cow_usage(fd, size, &u);

        cr_assert_eq(r, 0, "usage returned %d", r);
        cr_assert(u.exceptions == n && u.areas == areas && u.metadata_chunks == areas + 1 &&
                  u.data_bytes == n * CB && u.sectors_allocated == allocated &&
                  u.metadata_sectors == metadata && u.total_sectors == size / 512,
                  "usage: %ju exceptions, %ju areas, %ju metadata chunks, %ju bytes, "
                  "status %ju/%ju %ju", (uintmax_t)u.exceptions, (uintmax_t)u.areas,
                  (uintmax_t)u.metadata_chunks, (uintmax_t)u.data_bytes,
                  (uintmax_t)u.sectors_allocated, (uintmax_t)u.total_sectors,
                  (uintmax_t)u.metadata_sectors);
}

/* ---- header --------------------------------------------------------------------------- */

static const struct header_case {
        const char *name;
        uint32_t magic, valid, version, chunk;
        size_t len; /* bytes of the file */
        int rc;
        bool is_new, valid_out;
        uint32_t per_area;
} header_cases[] = {
        { "chunk 8", MAGIC, 1, 1, 8, 4096, 0, false, true, 256 },
        { "chunk 32", MAGIC, 1, 1, 32, 16, 0, false, true, 1024 },
        { "largest chunk", MAGIC, 1, 1, 1u << 21, 16, 0, false, true, 1u << 26 },
        { "invalidated", MAGIC, 0, 1, 8, 16, 0, false, false, 256 },
        { "valid is any non-zero", MAGIC, 2, 1, 8, 16, 0, false, true, 256 },
        { "zero magic, garbage after", 0, 7, 9, 3, 16, 0, true, false, 0 },
        { "bad magic", MAGIC + 1, 1, 1, 8, 16, -EINVAL, false, false, 0 },
        { "big-endian magic", 0x536e4170, 1, 1, 8, 16, -EINVAL, false, false, 0 },
        { "version 0", MAGIC, 1, 0, 8, 16, -EINVAL, false, false, 0 },
        { "version 2", MAGIC, 1, 2, 8, 16, -EINVAL, false, false, 0 },
        { "chunk 0", MAGIC, 1, 1, 0, 16, -EINVAL, false, false, 0 },
        { "chunk 4", MAGIC, 1, 1, 4, 16, -EINVAL, false, false, 0 },
        { "chunk 12", MAGIC, 1, 1, 12, 16, -EINVAL, false, false, 0 },
        { "chunk 2^22", MAGIC, 1, 1, 1u << 22, 16, -EINVAL, false, false, 0 },
        { "chunk 2^31", MAGIC, 1, 1, 1u << 31, 16, -EINVAL, false, false, 0 },
        { "short header", MAGIC, 1, 1, 8, 10, -EUCLEAN, false, false, 0 },
        { "empty file", MAGIC, 1, 1, 8, 0, -EUCLEAN, false, false, 0 },
};

Test(cow_header, table)
{
        for (size_t i = 0; i < ARRAY_SIZE(header_cases); i++) {
                const struct header_case *c = &header_cases[i];
                _cleanup_close_ int fd = store_fd(c->magic, c->valid, c->version, c->chunk, c->len);
                struct cow_header h, poison;
                int r;

                memset(&h, 0xa5, sizeof(h));
                poison = h;
                r = cow_header_read(fd, &h);
                cr_assert_eq(r, c->rc, "%s: returned %d, want %d", c->name, r, c->rc);
                if (r < 0) {
                        cr_assert(memcmp(&h, &poison, sizeof(h)) == 0, "%s: ret touched", c->name);
                        continue;
                }
                cr_assert_eq(h.is_new, c->is_new, "%s: is_new %d", c->name, h.is_new);
                cr_assert_eq(h.valid, c->valid_out, "%s: valid %d", c->name, h.valid);
                cr_assert_eq(h.per_area, c->per_area, "%s: per_area %u", c->name, h.per_area);
                if (!c->is_new)
                        cr_assert_eq(h.chunk_bytes, c->chunk * 512, "%s: chunk_bytes %u", c->name,
                                     h.chunk_bytes);
        }
}

Test(cow_header, layout)
{
        static const struct { uint32_t per_area; uint64_t chunk; bool meta; } cases[] = {
                { 256, 0, true }, { 256, 1, true }, { 256, 2, false }, { 256, 257, false },
                { 256, 258, true }, { 256, 259, false }, { 256, 515, true }, { 1024, 258, false },
                { 1024, 1026, true }, { 1024, 1025, false },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct cow_header h = { .per_area = cases[i].per_area };
                bool meta = cow_chunk_is_metadata(&h, cases[i].chunk);
                cr_assert_eq(meta, cases[i].meta, "per_area %u chunk %ju: metadata %d",
                             h.per_area, (uintmax_t)cases[i].chunk, meta);
        }
        static const uint64_t area_at[] = { 1, 258, 515 };
        for (uint64_t a = 0; a < ARRAY_SIZE(area_at); a++) {
                uint64_t c = cow_area_chunk(&(struct cow_header){ .per_area = 256 }, a);
                cr_assert_eq(c, area_at[a], "area %ju at chunk %ju", (uintmax_t)a, (uintmax_t)c);
        }
}

/* ---- walk ----------------------------------------------------------------------------- */

Test(cow_walk, empty_store)
{
        _cleanup_close_ int fd = store_fd(MAGIC, 1, 1, CS, 16 * CB);
        struct list l;

        walk_ok(fd, 16 * CB, &l);
        cr_assert_eq(l.n, 0, "read %zu exceptions", l.n);
        /* A fresh snapshot's status reads "16/128 16" with 8-sector chunks. */
        usage_is(fd, 16 * CB, 0, 1, 16, 16);
}

Test(cow_walk, one_area_out_of_order)
{
        /* Commits complete out of order: new_chunk need not grow, and holes are allowed. */
        static const struct cow_exception want[] = { { 7, 3 }, { 0, 2 }, { 1000, 5 }, { 8, 4 },
                                                     { 3, 7 } };
        _cleanup_close_ int fd = store_fd(MAGIC, 1, 1, CS, 16 * CB);
        struct list l;

        put_exceptions(fd, want, ARRAY_SIZE(want));
        /* Only new_chunk 0 ends the list; what follows is stale and must not be read. */
        put_pair(fd, CB + 5 * 16, 1234, 0);
        put_pair(fd, CB + 6 * 16, 5, 9);
        walk_ok(fd, 16 * CB, &l);
        assert_list(&l, want, ARRAY_SIZE(want));
        usage_is(fd, 16 * CB, 5, 1, 8 * CS, 2 * CS);
}

static void fill_kernel_like(int fd, struct cow_exception *v, size_t n)
{
        uint64_t next_free = 2;

        for (size_t i = 0; i < n; i++)
                v[i] = (struct cow_exception){ (i * 7) % 1000, kernel_alloc(&next_free) };
        put_exceptions(fd, v, n);
}

Test(cow_walk, many_areas)
{
        _cleanup_close_ int fd = store_fd(MAGIC, 1, 1, CS, 700 * CB);
        static struct cow_exception want[600];
        static struct list l;

        fill_kernel_like(fd, want, 600);
        /* Areas sit at chunks 1, 258, 515: data 2..257, 259..514, 516..603. */
        cr_assert(want[255].new_chunk == 257 && want[256].new_chunk == 259 &&
                  want[599].new_chunk == 603, "test allocator: %ju %ju %ju",
                  (uintmax_t)want[255].new_chunk, (uintmax_t)want[256].new_chunk,
                  (uintmax_t)want[599].new_chunk);
        walk_ok(fd, 700 * CB, &l);
        assert_list(&l, want, 600);
        usage_is(fd, 700 * CB, 600, 3, 604 * CS, 4 * CS);
}

Test(cow_walk, full_area_boundary)
{
        _cleanup_close_ int fd = store_fd(MAGIC, 1, 1, CS, 300 * CB);
        static struct cow_exception want[257];
        static struct list l;
        int r;

        /* Exactly one full area: the walk must read area 1 (chunk 258) and stop there.
         * next_free 258 is area 1, the kernel steps to 259; metadata: header + 2 areas. */
        fill_kernel_like(fd, want, 256);
        walk_ok(fd, 300 * CB, &l);
        assert_list(&l, want, 256);
        usage_is(fd, 300 * CB, 256, 2, 259 * CS, 3 * CS);

        /* A full last area with no room for the next one: the kernel fails the load. The
         * memfd is longer than the size we pass: only that size may be trusted. */
        r = cow_for_each_exception(fd, 258 * CB + CB - 1, add, &l);
        cr_assert_eq(r, -EUCLEAN, "walk returned %d", r);

        /* What the next area holds is read, found at byte 258 * 4096. */
        want[256] = (struct cow_exception){ 999, 259 };
        put_pair(fd, 258 * CB, 999, 259);
        walk_ok(fd, 300 * CB, &l);
        assert_list(&l, want, 257);
        usage_is(fd, 300 * CB, 257, 2, 260 * CS, 3 * CS);

        /* The file itself ends after area 0's last data chunk. */
        cr_assert_eq(ftruncate(fd, 258 * CB), 0, "ftruncate");
        r = cow_for_each_exception(fd, 258 * CB, add, &l);
        cr_assert_eq(r, -EUCLEAN, "walk returned %d", r);
}

Test(cow_walk, invalid_store_still_walked)
{
        static const struct cow_exception want[] = { { 4, 2 }, { 5, 3 } };
        _cleanup_close_ int fd = store_fd(MAGIC, 0, 1, CS, 8 * CB);
        struct cow_usage u;
        struct list l;
        int r;

        put_exceptions(fd, want, ARRAY_SIZE(want));
        walk_ok(fd, 8 * CB, &l);
        assert_list(&l, want, ARRAY_SIZE(want));
        r = cow_usage(fd, 8 * CB, &u);
        cr_assert(r == 0 && !u.header.valid && u.exceptions == 2, "usage %d valid %d n %ju", r,
                  u.header.valid, (uintmax_t)u.exceptions);
}

Test(cow_walk, new_store_ignores_rest)
{
        static const struct cow_exception junk[] = { { 4, 2 }, { 5, 99999 } };
        _cleanup_close_ int fd = store_fd(0, 1, 1, CS, 8 * CB);
        struct cow_changes *c = NULL;
        struct cow_usage u;
        struct list l;
        int r;

        put_exceptions(fd, junk, ARRAY_SIZE(junk));
        walk_ok(fd, 8 * CB, &l);
        cr_assert_eq(l.n, 0, "read %zu exceptions", l.n);
        r = cow_usage(fd, 8 * CB, &u);
        cr_assert(r == 0 && u.header.is_new && u.exceptions == 0 && u.sectors_allocated == 0,
                  "usage %d new %d n %ju", r, u.header.is_new, (uintmax_t)u.exceptions);
        r = cow_changed_ranges(fd, 8 * CB, 0, &c);
        cr_assert(r == 0 && c->n_extents == 0 && c->n_mappings == 0, "ranges %d", r);
        cow_changes_free(c);
}

static int in_sequence(void *userdata, const struct cow_header *h, const struct cow_exception *e)
{
        uint64_t *n = userdata;

        if (h->per_area != 8192 || e->old_chunk != *n || e->new_chunk != 2 + *n % 30)
                return -EILSEQ;
        ++*n;
        return 0;
}

Test(cow_walk, area_read_in_slices)
{
        /* 128 KiB chunks: an area of 8192 entries is read in more than one slice. */
        _cleanup_close_ int fd = store_fd(MAGIC, 1, 1, 256, 40 * 32 * CB);
        uint64_t n = 0;
        int r;

        for (uint64_t i = 0; i < 5000; i++)
                put_pair(fd, 32 * CB + i * 16, i, 2 + i % 30);
        r = cow_for_each_exception(fd, 40 * 32 * CB, in_sequence, &n);
        cr_assert(r == 0 && n == 5000, "walk returned %d after %ju exceptions", r, (uintmax_t)n);
}

static int stop_at_3(void *userdata, _unused_ const struct cow_header *h,
                     _unused_ const struct cow_exception *e)
{
        return ++*(int *)userdata == 3 ? 7 : 0;
}

Test(cow_walk, callback_stops_walk)
{
        static struct cow_exception v[10];
        _cleanup_close_ int fd = store_fd(MAGIC, 1, 1, CS, 16 * CB);
        int calls = 0, r;

        fill_kernel_like(fd, v, 10);
        r = cow_for_each_exception(fd, 16 * CB, stop_at_3, &calls);
        cr_assert(r == 7 && calls == 3, "walk returned %d after %d calls", r, calls);
}

/* ---- malformed stores ----------------------------------------------------------------- */

static const struct bad_case {
        const char *name;
        uint64_t file_chunks;  /* of the memfd */
        uint64_t told_chunks;  /* file_size passed in */
        struct cow_exception e;
} bad_cases[] = {
        { "new_chunk past the end", 16, 16, { 1, 16 } },
        { "new_chunk far past the end", 16, 16, { 1, UINT64_MAX } },
        { "new_chunk is area 0", 16, 16, { 1, 1 } },
        { "new_chunk is area 1", 600, 600, { 1, 258 } },
        { "new_chunk is area 2", 600, 600, { 1, 515 } },
        { "old_chunk overflows bytes", 16, 16, { UINT64_MAX / CB, 2 } },
        { "area 0 past the end", 1, 1, { 1, 2 } },
        { "empty area 0 past the size told", 16, 1, { 0, 0 } },
        { "data chunk past the size told", 16, 4, { 1, 4 } },
        { "file shorter than told", 1, 16, { 1, 2 } },
};

Test(cow_malformed, table)
{
        for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
                const struct bad_case *c = &bad_cases[i];
                _cleanup_close_ int fd = store_fd(MAGIC, 1, 1, CS, c->file_chunks * CB);
                struct cow_changes *ch = (void *)0x1;
                struct list l = {};
                struct cow_usage u;
                int r;

                if (c->file_chunks >= 2)
                        put_pair(fd, CB, c->e.old_chunk, c->e.new_chunk);
                r = cow_for_each_exception(fd, c->told_chunks * CB, add, &l);
                cr_assert_eq(r, -EUCLEAN, "%s: walk returned %d", c->name, r);
                cr_assert_eq(l.n, 0, "%s: %zu exceptions passed", c->name, l.n);
                r = cow_usage(fd, c->told_chunks * CB, &u);
                cr_assert_eq(r, -EUCLEAN, "%s: usage returned %d", c->name, r);
                r = cow_changed_ranges(fd, c->told_chunks * CB, 0, &ch);
                cr_assert(r == -EUCLEAN && ch == (void *)0x1, "%s: ranges returned %d", c->name, r);
        }
}

static int count(void *userdata, _unused_ const struct cow_header *h,
                 _unused_ const struct cow_exception *e)
{
        ++*(uint64_t *)userdata;
        return 0;
}

/* Random damage to the areas and the header of a 3-area store: an error or a clean walk,
 * never a crash (run under ASan/valgrind), never more exceptions than the file has chunks. */
Test(cow_malformed, random_damage, .timeout = 60)
{
        static struct cow_exception v[600];
        _cleanup_close_ int fd = store_fd(MAGIC, 1, 1, CS, 700 * CB);
        uint64_t s = 0x9e3779b97f4a7c15u;

        fill_kernel_like(fd, v, 600);
        for (int iter = 0; iter < 3000; iter++) {
                uint64_t offs[4], saved[4], junk, size;
                struct cow_changes *c = NULL;
                struct cow_usage u;
                uint64_t calls = 0;
                int r;

                for (int k = 0; k < 4; k++) {
                        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                        /* Mostly a word of area 0, 1 or 2; sometimes one of the header. */
                        offs[k] = k == 0 && s % 8 == 0
                                          ? (s >> 8) % 2 * 8
                                          : (1 + 257 * (s % 3)) * CB + (s >> 8) % CB / 8 * 8;
                        /* Zero a quarter of the time (ends lists), else a mostly in-range value. */
                        junk = htole64((s >> 16) % 4 == 0 ? 0 : s * 0x2545f4914f6cdd1du % (800 + iter));
                        cr_assert_eq(pread(fd, &saved[k], 8, (off_t)offs[k]), 8, "pread");
                        cr_assert_eq(pwrite(fd, &junk, 8, (off_t)offs[k]), 8, "pwrite");
                }
                size = (s % 5 == 0 ? s % 700 : 700) * CB;
                r = cow_for_each_exception(fd, size, count, &calls);
                cr_assert(r == 0 || r == -EUCLEAN || r == -EINVAL, "iter %d: walk %d", iter, r);
                cr_assert(calls <= size / CB, "iter %d: %ju calls", iter, (uintmax_t)calls);
                r = cow_usage(fd, size, &u);
                cr_assert(r == 0 || r == -EUCLEAN || r == -EINVAL, "iter %d: usage %d", iter, r);
                cr_assert(r < 0 || u.exceptions < size / CB, "iter %d: %ju exceptions", iter,
                          (uintmax_t)u.exceptions);
                r = cow_changed_ranges(fd, size, 0, &c);
                cr_assert(r == 0 || r == -EUCLEAN || r == -EINVAL, "iter %d: ranges %d", iter, r);
                cow_changes_free(c);
                for (int k = 3; k >= 0; k--)
                        cr_assert_eq(pwrite(fd, &saved[k], 8, (off_t)offs[k]), 8, "restore");
        }
}

/* ---- changed ranges ------------------------------------------------------------------- */

#define K(n) ((uint64_t)(n) * CB)

static const struct range_case {
        const char *name;
        uint64_t origin_size;
        size_t n_exc, n_ext, n_map;
        struct cow_exception exc[4];
        struct cow_extent ext[4];
        struct cow_mapping map[4];
} range_cases[] = {
        { "none", 0, 0, 0, 0, {}, {}, {} },
        { "contiguous run", 0, 3, 1, 1, { { 5, 2 }, { 6, 3 }, { 7, 4 } }, { { K(5), K(3) } },
          { { K(5), K(2), K(3) } } },
        { "origin-contiguous only", 0, 2, 1, 2, { { 10, 5 }, { 11, 9 } }, { { K(10), K(2) } },
          { { K(10), K(5), K(1) }, { K(11), K(9), K(1) } } },
        { "on-disk order reversed", 0, 2, 1, 1, { { 4, 3 }, { 3, 2 } }, { { K(3), K(2) } },
          { { K(3), K(2), K(2) } } },
        { "unsorted with gaps", 0, 4, 3, 4, { { 3, 2 }, { 1, 3 }, { 9, 4 }, { 8, 5 } },
          { { K(1), K(1) }, { K(3), K(1) }, { K(8), K(2) } },
          { { K(1), K(3), K(1) }, { K(3), K(2), K(1) }, { K(8), K(5), K(1) },
            { K(9), K(4), K(1) } } },
        { "partial last chunk", K(6) + 100, 2, 1, 1, { { 6, 3 }, { 5, 2 } },
          { { K(5), K(1) + 100 } },
          { { K(5), K(2), K(1) + 100 } } },
};

static void ranges_ok(int fd, uint64_t size, uint64_t origin_size, const char *name,
                      const struct cow_extent *ext, size_t n_ext, const struct cow_mapping *map,
                      size_t n_map)
{
        struct cow_changes *c = NULL;
        int r = cow_changed_ranges(fd, size, origin_size, &c);

        cr_assert_eq(r, 0, "%s: returned %d", name, r);
        cr_assert(c->chunk_bytes == CB && c->n_extents == n_ext && c->n_mappings == n_map,
                  "%s: chunk %u, %zu extents, %zu mappings", name, c->chunk_bytes, c->n_extents,
                  c->n_mappings);
        for (size_t i = 0; i < n_ext; i++)
                cr_assert(c->extents[i].offset == ext[i].offset &&
                          c->extents[i].length == ext[i].length,
                          "%s: extent %zu is %ju+%ju", name, i, (uintmax_t)c->extents[i].offset,
                          (uintmax_t)c->extents[i].length);
        for (size_t i = 0; i < n_map; i++)
                cr_assert(memcmp(&c->mappings[i], &map[i], sizeof(map[i])) == 0,
                          "%s: mapping %zu is %ju->%ju+%ju", name, i,
                          (uintmax_t)c->mappings[i].origin_offset,
                          (uintmax_t)c->mappings[i].cow_offset, (uintmax_t)c->mappings[i].length);
        cow_changes_free(c);
}

Test(cow_ranges, table)
{
        for (size_t i = 0; i < ARRAY_SIZE(range_cases); i++) {
                const struct range_case *c = &range_cases[i];
                _cleanup_close_ int fd = store_fd(MAGIC, 1, 1, CS, 16 * CB);

                put_exceptions(fd, c->exc, c->n_exc);
                ranges_ok(fd, 16 * CB, c->origin_size, c->name, c->ext, c->n_ext, c->map, c->n_map);
        }
}

Test(cow_ranges, split_at_metadata_areas)
{
        static const struct cow_extent ext[] = { { 0, K(600) } };
        static const struct cow_mapping map[] = { { 0, K(2), K(256) }, { K(256), K(259), K(256) },
                                                  { K(512), K(516), K(88) } };
        _cleanup_close_ int fd = store_fd(MAGIC, 1, 1, CS, 700 * CB);
        static struct cow_exception v[600];
        uint64_t next_free = 2;

        for (uint64_t i = 0; i < 600; i++)
                v[i] = (struct cow_exception){ i, kernel_alloc(&next_free) };
        put_exceptions(fd, v, 600);
        ranges_ok(fd, 700 * CB, 0, "600 in order", ext, 1, map, 3);
}

static const struct range_bad_case {
        const char *name;
        uint64_t origin_size;
        struct cow_exception exc[2];
} range_bad_cases[] = {
        { "origin chunk twice", 0, { { 5, 2 }, { 5, 3 } } },
        { "cow chunk twice", 0, { { 5, 2 }, { 6, 2 } } },
        { "past the origin", K(6), { { 5, 2 }, { 6, 3 } } },
};

Test(cow_ranges, rejects)
{
        for (size_t i = 0; i < ARRAY_SIZE(range_bad_cases); i++) {
                const struct range_bad_case *c = &range_bad_cases[i];
                _cleanup_close_ int fd = store_fd(MAGIC, 1, 1, CS, 16 * CB);
                struct cow_changes *ch = (void *)0x1;
                int r;

                put_exceptions(fd, c->exc, 2);
                r = cow_changed_ranges(fd, 16 * CB, c->origin_size, &ch);
                cr_assert(r == -EUCLEAN && ch == (void *)0x1, "%s: returned %d", c->name, r);
        }
}

/* ---- a fresh store -------------------------------------------------------------------- */

Test(cow_init, zeroes_chunk_0_only)
{
        static uint8_t buf[4 * CB];
        _cleanup_close_ int fd = store_fd(MAGIC, 1, 1, CS, 0);
        struct cow_header h;
        uint64_t size;
        int r;

        memset(buf, 0xab, sizeof(buf));
        cr_assert_eq(pwrite(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf), "pwrite");
        r = cow_init_empty(fd, CS);
        cr_assert_eq(r, 0, "init returned %d", r);
        r = cow_header_read(fd, &h);
        cr_assert(r == 0 && h.is_new, "header %d, is_new %d", r, h.is_new);
        cr_assert_eq(pread(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf), "pread");
        for (size_t i = 0; i < sizeof(buf); i++)
                cr_assert_eq(buf[i], i < CB ? 0 : 0xab, "byte %zu is %#x", i, buf[i]);
        r = cow_file_size(fd, &size);
        cr_assert(r == 0 && size == 4 * CB, "size %d %ju", r, (uintmax_t)size);
}

Test(cow_init, rejects)
{
        static const struct { uint32_t chunk; uint64_t size; int rc; } cases[] = {
                { 0, K(4), -EINVAL }, { 4, K(4), -EINVAL }, { 24, K(16), -EINVAL },
                { 1u << 22, K(4), -EINVAL }, { 8, K(2) - 1, -ENOSPC }, { 16, K(3), -ENOSPC },
                { 16, K(4), 0 },
        };
        int pipefd[2];

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_close_ int fd = store_fd(MAGIC, 1, 1, CS, cases[i].size);
                int r = cow_init_empty(fd, cases[i].chunk);
                cr_assert_eq(r, cases[i].rc, "chunk %u size %ju: returned %d", cases[i].chunk,
                             (uintmax_t)cases[i].size, r);
        }
        cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0, "pipe2");
        cr_assert_eq(cow_init_empty(pipefd[1], CS), -EINVAL, "init on a pipe");
        close(pipefd[0]);
        close(pipefd[1]);
}

/* What the kernel needs for n data chunks: header, the areas that index them, the area it
 * zeroes ahead when the last one fills, and the chunks themselves. */
Test(cow_store_size, table)
{
        static const struct { uint64_t data; uint32_t chunk; uint64_t want; } cases[] = {
                { 0, CS, 2 * CB },                          /* header + area 0 */
                { 1, CS, 4 * CB },                          /* a partial chunk is a chunk */
                { CB, CS, 4 * CB },
                { CB + 1, CS, 5 * CB },
                { (uint64_t)PER_AREA * CB, CS, (2 + 1 + PER_AREA) * (uint64_t)CB },       /* area 0 full */
                { (uint64_t)(PER_AREA + 1) * CB, CS, (2 + 2 + PER_AREA + 1) * (uint64_t)CB },
                { 64ULL << 20, 128, ((64 << 4) + 1 + 2) * (64ULL << 10) },               /* 64 KiB chunks */
                { 1ULL << 30, 128, ((1 << 14) + 4 + 2) * (64ULL << 10) },                /* 4096 per area */
                { 1, 0, 0 }, { 1, 96, 0 }, { 1, 4, 0 },    /* chunk sizes the reader refuses */
                { UINT64_MAX, CS, 0 },                     /* overflow */
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                uint64_t got = cow_store_size(cases[i].data, cases[i].chunk);
                cr_expect_eq(got, cases[i].want, "%ju bytes in chunks of %u sectors: %ju, want %ju",
                             (uintmax_t)cases[i].data, cases[i].chunk, (uintmax_t)got, (uintmax_t)cases[i].want);
        }
}
