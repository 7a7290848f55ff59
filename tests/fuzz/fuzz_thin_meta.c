// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target of the thin-pool metadata reader (driver/format/thin_meta*.c): a disposable
 * shapes the mapping trees of its devices, and a pool's metadata can be damaged. Input: a
 * flags byte, two device picks, then the metadata in the form of image.h. The checksum
 * of every written block is fixed first (unless told not to), since an attacker who can
 * write the blocks can also compute it; then open, devices, lookups, mapping walks and
 * owned blocks, aborting when their answers disagree.
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/thin_meta.h"
#include "image.h"

#define CHECK(cond)                                                                     \
        do {                                                                            \
                if (!(cond)) {                                                          \
                        fprintf(stderr, "fuzz_thin_meta: %s:%d: %s\n", __FILE__, __LINE__, \
                                #cond);                                                 \
                        abort();                                                        \
                }                                                                       \
        } while (0)

enum {
        F_HELD = 1 << 0,        /* open the held metadata snapshot */
        F_RAW = 1 << 1,         /* leave checksums as they are */
        F_NO_CTX = 1 << 2,      /* no context: errors are not described */
};
#define NO_PICK 0xff            /* as the origin pick: THIN_META_NO_ORIGIN */
#define DEVICES_MAX 8           /* devices walked per input */

static void reseal(uint8_t *b, uint64_t blocknr)
{
        uint64_t magic;
        uint32_t csum;

        (void)blocknr;
        memcpy(&magic, b + 32, 8);
        csum = htole32(btree_checksum(b, le64toh(magic) == THIN_META_MAGIC ?
                                                 THIN_META_SB_CSUM_XOR : BTREE_CSUM_XOR));
        memcpy(b, &csum, 4);
}

/* Walks the mappings of @id. Returns how many, or -errno. */
static int64_t walk(struct thin_meta *m, uint64_t id)
{
        struct thin_meta_iter it = { 0 };
        struct thin_meta_mapping mp;
        struct thin_meta_info info;
        int64_t n = 0;
        uint64_t last = 0;
        int r = thin_meta_iter_init(m, id, &it);

        thin_meta_get_info(m, &info);
        while (r >= 0 && (r = thin_meta_iter_next(&it, &mp)) > 0) {
                CHECK(n == 0 || mp.vblock > last);
                CHECK(!info.nr_data_blocks || mp.data_block < info.nr_data_blocks);
                CHECK(mp.time <= 0xffffff);
                last = mp.vblock;
                n++;
        }
        thin_meta_iter_done(&it);
        return r < 0 ? r : n;
}

/* The mappings of @id, in vblock order, into @ret (free()). Returns how many, or -errno. */
static int64_t collect(struct thin_meta *m, uint64_t id, struct thin_meta_mapping **ret)
{
        struct thin_meta_iter it = { 0 };
        struct thin_meta_mapping *v = NULL, mp;
        size_t n = 0, cap = 0;
        int r = thin_meta_iter_init(m, id, &it);

        while (r >= 0 && (r = thin_meta_iter_next(&it, &mp)) > 0) {
                if (n == cap) {
                        cap = cap ? 2 * cap : 256;
                        v = realloc(v, cap * sizeof(*v));
                        CHECK(v != NULL);
                }
                v[n++] = mp;
        }
        thin_meta_iter_done(&it);
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        return (int64_t)n;
}

/* thin_meta_owned(), checked against the plain merge of both full walks when they succeed. */
static void owned(struct thin_meta *m, uint64_t id, uint64_t origin, int64_t mapped)
{
        struct thin_meta_extents e = { 0 };
        struct thin_meta_mapping *va = NULL, *vb = NULL;
        int64_t na, nb = 0;
        uint64_t sum = 0;
        size_t k = 0, j = 0;
        int r = thin_meta_owned(m, id, origin, &e);

        if (r < 0) {
                CHECK(e.items == NULL && e.n == 0);
                return;
        }
        for (size_t i = 0; i < e.n; i++) {
                const struct thin_meta_extent *x = &e.items[i];

                CHECK(x->length > 0);
                CHECK(i == 0 || e.items[i - 1].vblock + e.items[i - 1].length <= x->vblock);
                sum += x->length;
        }
        CHECK(sum == e.nr_blocks);
        if (mapped >= 0)
                CHECK(sum <= (uint64_t)mapped);
        if (e.n > 0) {
                uint64_t v, len;
                size_t next = thin_meta_extents_vrun(&e, 0, &v, &len);

                CHECK(next >= 1 && next <= e.n && v == e.items[0].vblock && len > 0);
        }

        na = collect(m, id, &va);
        if (na >= 0 && origin != THIN_META_NO_ORIGIN)
                nb = collect(m, origin, &vb);
        if (na >= 0 && nb >= 0) {
                /* each owned mapping of the merge, in order, is the next block of @e */
                size_t x = 0;
                uint64_t in_x = 0;

                for (int64_t i = 0; i < na; i++) {
                        while (j < (size_t)nb && vb[j].vblock < va[i].vblock)
                                j++;
                        if (j < (size_t)nb && vb[j].vblock == va[i].vblock &&
                            vb[j].data_block == va[i].data_block)
                                continue;
                        CHECK(x < e.n);
                        CHECK(e.items[x].vblock + in_x == va[i].vblock &&
                              e.items[x].data_block + in_x == va[i].data_block);
                        k++;
                        if (++in_x == e.items[x].length) {
                                x++;
                                in_x = 0;
                        }
                }
                CHECK(k == e.nr_blocks);
        }
        free(va);
        free(vb);
        thin_meta_extents_free(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct dvm_ctx ctx = { 0 };
        struct thin_meta *m = NULL;
        struct thin_meta_device *devs = NULL;
        struct thin_meta_info info;
        uint64_t file_size;
        uint8_t flags, pick_a, pick_b;
        int fd, n, r;

        if (size < 3)
                return 0;
        flags = data[0];
        pick_a = data[1];
        pick_b = data[2];
        fd = fuzz_image_open(data + 3, size - 3, flags & F_RAW ? NULL : reseal, &file_size);
        if (fd < 0)
                return 0;
        r = thin_meta_open_fd(flags & F_NO_CTX ? NULL : &ctx, fd, "fuzz",
                              flags & F_HELD ? THIN_META_HELD_ROOT : 0, &m);
        close(fd);
        if (r < 0) {
                CHECK(m == NULL);
                return 0;
        }
        thin_meta_get_info(m, &info);
        CHECK(info.data_block_size > 0);
        CHECK(info.metadata_nr_blocks <= file_size / 4096);
        CHECK(info.snapshot == !!(flags & F_HELD));

        n = thin_meta_list_devices(m, &devs);
        if (n > 0) {
                int64_t mapped[DEVICES_MAX];
                int k = n < DEVICES_MAX ? n : DEVICES_MAX;

                for (int i = 0; i < n; i++) {
                        struct thin_meta_device d;

                        CHECK(i == 0 || devs[i - 1].id < devs[i].id);
                        if (i >= DEVICES_MAX)
                                continue;
                        /* the walk accepted the tree: a lookup must find what it listed */
                        r = thin_meta_get_device(m, devs[i].id, &d);
                        CHECK(r == 0 && memcmp(&d, &devs[i], sizeof(d)) == 0);
                }
                for (int i = 0; i < k; i++)
                        mapped[i] = walk(m, devs[i].id);
                owned(m, devs[pick_a % k].id,
                      pick_b == NO_PICK ? THIN_META_NO_ORIGIN : devs[pick_b % k].id,
                      mapped[pick_a % k]);
        } else {
                /* ids that were never listed */
                owned(m, pick_a, pick_b == NO_PICK ? THIN_META_NO_ORIGIN : pick_b, -1);
                (void)walk(m, pick_a);
        }
        free(devs);
        thin_meta_free(m);
        return 0;
}
