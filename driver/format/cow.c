// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cow: reads the dm-snapshot persistent COW store with bounded preads (header, metadata
 * areas, exceptions, usage, changed ranges) and writes the zeroed header of a fresh store.
 * Every offset is checked against the store size: a hostile file yields -EUCLEAN, never UB.
 *
 * Facts checked in drivers/md/dm-snap-persistent.c (torvalds/linux 02d2fd31, old, and the
 * post-6.1 gregkh/linux 32788483; the on-disk logic is the same in both and in 6.1):
 * - read_header(): magic 0 = new store, rest of chunk 0 ignored, the table's chunk size used,
 *   then write_header() and zero_disk_area(0). Other magic != "SnAp": -ENXIO. An on-disk
 *   chunk size overrides the table's if dm_exception_store_set_chunk_size() takes it: power
 *   of two, multiple of the logical block size, at most INT_MAX >> 9 sectors.
 * - version != 1: -EINVAL. valid == 0 (any other value is valid): exceptions not read.
 * - area i at chunk 1 + (chunk_bytes / 16 + 1) * i. read_exceptions() reads the next area
 *   only while the previous one was full; insert_exceptions() stops at the first
 *   new_chunk == 0 (old_chunk is not looked at). Filling an area zeroes the next one
 *   (persistent_commit_exception()); reading past the device end fails the load.
 * - next_free = max(2, max(new_chunk) + 1), stepped over a metadata chunk (skip_metadata());
 *   status: allocated next_free * chunk, metadata (current_area + 2) * chunk sectors.
 * - Commits complete out of order: new_chunk is not monotonic, a crash can leave holes.
 */
#include <endian.h>
#include <errno.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/param.h>
#include <sys/stat.h>

#include "format/cow.h"
#include "util/le.h"
#include "util/macro.h"

/* Upper bound of every buffer here, whatever the chunk size (up to 1 GiB) says. */
#define IO_BYTES (64u * 1024u)

/* pread or pwrite all of @len bytes; a read that meets the end of file is -EUCLEAN. */
static int io_full(int fd, bool do_write, void *buf, size_t len, uint64_t off)
{
        uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = do_write ? pwrite(fd, p, len, (off_t)off)
                                     : pread(fd, p, len, (off_t)off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return do_write ? -EIO : -EUCLEAN; /* shorter than the size we were told */
                p += n;
                off += (uint64_t)n;
                len -= (size_t)n;
        }
        return 0;
}

static bool chunk_sectors_ok(uint32_t s)
{
        return s >= COW_CHUNK_SECTORS_MIN && s <= COW_CHUNK_SECTORS_MAX && (s & (s - 1)) == 0;
}

int cow_file_size(int fd, uint64_t *ret_size)
{
        struct stat st;
        uint64_t size;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode))
                size = (uint64_t)st.st_size;
        else if (S_ISBLK(st.st_mode)) {
                if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                        return -errno;
        } else
                return -EINVAL;
        *ret_size = size;
        return 0;
}

int cow_header_read(int fd, struct cow_header *ret_header)
{
        uint8_t raw[16];
        struct cow_header h = {};
        int r;

        r = io_full(fd, false, raw, sizeof(raw), 0);
        if (r < 0)
                return r;

        if (get_le32(raw) == 0) {
                h.is_new = true;
                *ret_header = h;
                return 0;
        }
        if (get_le32(raw) != COW_MAGIC)
                return -EINVAL;
        h.valid = get_le32(raw + 4) != 0;
        h.version = get_le32(raw + 8);
        h.chunk_sectors = get_le32(raw + 12);
        if (h.version != COW_VERSION || !chunk_sectors_ok(h.chunk_sectors))
                return -EINVAL;
        h.chunk_bytes = h.chunk_sectors << SECTOR_SHIFT;
        h.per_area = h.chunk_bytes / COW_EXCEPTION_SIZE;
        *ret_header = h;
        return 0;
}

uint64_t cow_area_chunk(const struct cow_header *h, uint64_t area)
{
        return 1 + ((uint64_t)h->per_area + 1) * area;
}

bool cow_chunk_is_metadata(const struct cow_header *h, uint64_t chunk)
{
        return chunk == 0 || chunk % ((uint64_t)h->per_area + 1) == 1;
}

static int check_exception(const struct cow_header *h, uint64_t file_chunks,
                           const struct cow_exception *e)
{
        if (e->new_chunk >= file_chunks || cow_chunk_is_metadata(h, e->new_chunk))
                return -EUCLEAN;
        /* Keep (old_chunk + 1) * chunk_bytes representable for every caller. */
        if (e->old_chunk >= UINT64_MAX / h->chunk_bytes)
                return -EUCLEAN;
        return 0;
}

/* Walks the exceptions of a store whose header @h is already valid and not new. */
static int walk(int fd, uint64_t file_size, const struct cow_header *h, cow_exception_fn fn,
                void *userdata)
{
        uint64_t file_chunks = file_size / h->chunk_bytes;
        size_t buf_entries = MIN(h->per_area, IO_BYTES / COW_EXCEPTION_SIZE);
        _cleanup_free_ uint8_t *buf = malloc(buf_entries * COW_EXCEPTION_SIZE);
        int r;

        if (!buf)
                return -ENOMEM;

        /* Each area lies further into the file: the file size bounds the loop. */
        for (uint64_t area = 0;; area++) {
                uint64_t chunk = cow_area_chunk(h, area);

                if (chunk >= file_chunks)
                        return -EUCLEAN; /* the kernel would fail to load it: I/O error */

                for (uint32_t i = 0; i < h->per_area;) {
                        size_t n = MIN(buf_entries, (size_t)(h->per_area - i));
                        r = io_full(fd, false, buf, n * COW_EXCEPTION_SIZE,
                                    chunk * h->chunk_bytes + (uint64_t)i * COW_EXCEPTION_SIZE);
                        if (r < 0)
                                return r;
                        for (size_t j = 0; j < n; j++, i++) {
                                const uint8_t *p = buf + j * COW_EXCEPTION_SIZE;
                                struct cow_exception e = {
                                        .old_chunk = get_le64(p),
                                        .new_chunk = get_le64(p + 8),
                                };
                                if (e.new_chunk == 0)
                                        return 0;
                                r = check_exception(h, file_chunks, &e);
                                if (r < 0)
                                        return r;
                                r = fn(userdata, h, &e);
                                if (r != 0)
                                        return r;
                        }
                }
        }
}

int cow_for_each_exception(int fd, uint64_t file_size, cow_exception_fn fn, void *userdata)
{
        struct cow_header h;
        int r;

        r = cow_header_read(fd, &h);
        if (r < 0)
                return r;
        if (h.is_new)
                return 0;
        return walk(fd, file_size, &h, fn, userdata);
}

struct tally {
        uint64_t count;
        uint64_t max_new;
};

static int tally_one(void *userdata, _unused_ const struct cow_header *h,
                     const struct cow_exception *e)
{
        struct tally *t = userdata;

        t->count++;
        t->max_new = MAX(t->max_new, e->new_chunk);
        return 0;
}

int cow_usage(int fd, uint64_t file_size, struct cow_usage *ret_usage)
{
        struct cow_usage u = { .total_sectors = file_size >> SECTOR_SHIFT };
        struct tally t = {};
        uint64_t stride, next_free;
        int r;

        r = cow_header_read(fd, &u.header);
        if (r < 0)
                return r;
        if (u.header.is_new) {
                *ret_usage = u;
                return 0;
        }
        r = walk(fd, file_size, &u.header, tally_one, &t);
        if (r < 0)
                return r;

        /* Every area before the last one read is full, so the count locates that one. */
        u.exceptions = t.count;
        u.areas = t.count / u.header.per_area + 1;
        u.metadata_chunks = 1 + u.areas;
        u.data_bytes = t.count * u.header.chunk_bytes;
        stride = (uint64_t)u.header.per_area + 1;
        next_free = MAX(2, t.max_new + 1);
        if (next_free % stride == 1)
                next_free++;
        u.sectors_allocated = next_free * u.header.chunk_sectors;
        u.metadata_sectors = u.metadata_chunks * u.header.chunk_sectors;
        *ret_usage = u;
        return 0;
}

struct collect {
        struct cow_exception *v;
        size_t n, cap;
        uint64_t origin_chunks; /* UINT64_MAX: origin size unknown */
};

static int collect_one(void *userdata, _unused_ const struct cow_header *h,
                       const struct cow_exception *e)
{
        struct collect *c = userdata;

        if (e->old_chunk >= c->origin_chunks)
                return -EUCLEAN;
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 256;
                struct cow_exception *v = reallocarray(c->v, cap, sizeof(*v));
                if (!v)
                        return -ENOMEM;
                c->v = v;
                c->cap = cap;
        }
        c->v[c->n++] = *e;
        return 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
        return (a > b) - (a < b);
}

static int cmp_new(const void *a, const void *b)
{
        return cmp_u64(((const struct cow_exception *)a)->new_chunk,
                       ((const struct cow_exception *)b)->new_chunk);
}

static int cmp_old(const void *a, const void *b)
{
        return cmp_u64(((const struct cow_exception *)a)->old_chunk,
                       ((const struct cow_exception *)b)->old_chunk);
}

/* Sorts @v by @cmp; fails if two entries compare equal (a chunk used twice). */
static int sort_unique(struct cow_exception *v, size_t n, int (*cmp)(const void *, const void *))
{
        qsort(v, n, sizeof(*v), cmp);
        for (size_t i = 1; i < n; i++)
                if (cmp(&v[i - 1], &v[i]) == 0)
                        return -EUCLEAN;
        return 0;
}

struct cow_changes *cow_changes_free(struct cow_changes *c)
{
        if (c) {
                free(c->extents);
                free(c->mappings);
                free(c);
        }
        return NULL;
}

static void build_ranges(struct cow_changes *c, const struct cow_exception *v, size_t n,
                         uint64_t origin_size)
{
        uint64_t cb = c->chunk_bytes;

        for (size_t i = 0; i < n; i++) {
                uint64_t o = v[i].old_chunk * cb, w = v[i].new_chunk * cb, len = cb;
                struct cow_mapping *m = c->n_mappings ? &c->mappings[c->n_mappings - 1] : NULL;
                struct cow_extent *x = c->n_extents ? &c->extents[c->n_extents - 1] : NULL;

                /* The last chunk of an origin whose size is not a chunk multiple is partial. */
                if (origin_size && o + len > origin_size)
                        len = origin_size - o;
                if (m && m->origin_offset + m->length == o && m->cow_offset + m->length == w)
                        m->length += len;
                else
                        c->mappings[c->n_mappings++] = (struct cow_mapping){ o, w, len };
                if (x && x->offset + x->length == o)
                        x->length += len;
                else
                        c->extents[c->n_extents++] = (struct cow_extent){ o, len };
        }
}

int cow_changed_ranges(int fd, uint64_t file_size, uint64_t origin_size,
                       struct cow_changes **ret_changes)
{
        _cleanup_(cow_changes_freep) struct cow_changes *c = calloc(1, sizeof(*c));
        struct collect col = { .origin_chunks = UINT64_MAX };
        _cleanup_free_ struct cow_exception *v = NULL;
        struct cow_header h;
        int r;

        if (!c)
                return -ENOMEM;
        r = cow_header_read(fd, &h);
        if (r < 0)
                return r;
        if (!h.is_new) {
                c->chunk_bytes = h.chunk_bytes;
                if (origin_size)
                        col.origin_chunks = (origin_size - 1) / h.chunk_bytes + 1;
                r = walk(fd, file_size, &h, collect_one, &col);
                v = col.v;
                if (r < 0)
                        return r;
        }
        if (col.n > 0) {
                r = sort_unique(v, col.n, cmp_new);
                if (r < 0)
                        return r;
                r = sort_unique(v, col.n, cmp_old);
                if (r < 0)
                        return r;
                c->extents = calloc(col.n, sizeof(*c->extents));
                c->mappings = calloc(col.n, sizeof(*c->mappings));
                if (!c->extents || !c->mappings)
                        return -ENOMEM;
                build_ranges(c, v, col.n, origin_size);
        }
        *ret_changes = TAKE_PTR(c);
        return 0;
}

uint64_t cow_store_size(uint64_t data_bytes, uint32_t chunk_sectors)
{
        uint64_t chunk_bytes = (uint64_t)chunk_sectors << SECTOR_SHIFT, per_area, data, areas;

        if (!chunk_sectors_ok(chunk_sectors))
                return 0;
        per_area = chunk_bytes / COW_EXCEPTION_SIZE;
        data = data_bytes / chunk_bytes + (data_bytes % chunk_bytes != 0);
        areas = data / per_area + (data % per_area != 0);
        /* header + areas + the area zeroed ahead + data; at least header and area 0 */
        if (data > UINT64_MAX / chunk_bytes - areas - 2)
                return 0;
        return (2 + areas + data) * chunk_bytes;
}

int cow_init_empty(int fd, uint32_t chunk_sectors)
{
        static uint8_t zeroes[IO_BYTES]; /* never written to */
        uint64_t chunk_bytes = (uint64_t)chunk_sectors << SECTOR_SHIFT, size;
        int r;

        if (!chunk_sectors_ok(chunk_sectors))
                return -EINVAL;
        r = cow_file_size(fd, &size);
        if (r < 0)
                return r;
        /* The kernel writes the header and area 0 on first load: less fails with EIO there. */
        if (size < 2 * chunk_bytes)
                return -ENOSPC;
        for (uint64_t off = 0; off < chunk_bytes; off += IO_BYTES) {
                r = io_full(fd, true, zeroes, (size_t)MIN(IO_BYTES, chunk_bytes - off), off);
                if (r < 0)
                        return r;
        }
        /* The snapshot table is loaded next: the zeroed magic must be on disk before it. */
        if (fdatasync(fd) < 0)
                return -errno;
        return 0;
}
