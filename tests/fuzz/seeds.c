// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Writes the seed corpora of the fuzz targets into DIR/<target>/: COW stores laid out as
 * tests/unit/format/test_cow.c builds them, thin-pool metadata restored by thin_restore from the
 * models of tests/unit/format/test_thin_meta*.c (tests/lib/thin_fixture.c), with and without a
 * held snapshot, and the hook's parameters of tests/unit/xen/test_xen_params.c.
 * Usage: seeds DIR      Exit 0, or 1 with a message (thin_restore missing: thin seeds are
 * skipped with a warning, the other corpora are still written).
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/cow.h"
#include "format/thin_meta.h"
#include "image.h"
#include "thin_fixture.h"

static const char *out_dir;

static int die(const char *what, int err)
{
        fprintf(stderr, "seeds: %s: %s\n", what, strerror(err));
        exit(1);
}

/* Opens DIR/@target/@name for writing, and writes @prefix first. */
static FILE *seed_open(const char *target, const char *name, const void *prefix, size_t len)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", out_dir, target);
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                die(path, errno);
        snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
        f = fopen(path, "we");
        if (!f)
                die(path, errno);
        if (len && fwrite(prefix, 1, len, f) != len)
                die(path, EIO);
        return f;
}

static void seed_close(FILE *f, const char *name)
{
        if (fclose(f) != 0)
                die(name, errno);
}

static void seed_image(const char *target, const char *name, const void *prefix, size_t len,
                       int fd, uint64_t size)
{
        FILE *f = seed_open(target, name, prefix, len);
        int r = fuzz_image_encode(fd, size, f);

        if (r < 0)
                die(name, -r);
        seed_close(f, name);
}

/* ---- COW stores (test_cow.c's layout) -------------------------------------------------- */

struct cow_seed {
        const char *name;
        uint32_t magic, valid, chunk;   /* chunk sectors */
        uint64_t chunks;                /* file size in chunks */
        unsigned exceptions;            /* allocated as the kernel does */
        unsigned stride;                /* origin chunk of exception k: k * stride + 3 */
        uint64_t origin_size;           /* prefix of the input; 0: unknown */
};

static const struct cow_seed cow_seeds[] = {
        { "new", 0, 0, 8, 16, 0, 0, 0 },
        { "empty", COW_MAGIC, 1, 8, 16, 0, 0, 0 },
        { "few", COW_MAGIC, 1, 8, 64, 10, 1, 40 * 4096 - 1000 },
        { "scattered", COW_MAGIC, 1, 8, 64, 12, 5, 0 },
        { "full-area", COW_MAGIC, 1, 8, 600, 259, 1, 0 },
        { "invalid", COW_MAGIC, 0, 8, 32, 3, 2, 0 },
        { "chunk16", COW_MAGIC, 1, 16, 32, 6, 1, 6 * 8192 + 3 * 8192 },
};

static void put64(int fd, uint64_t off, uint64_t v)
{
        v = htole64(v);
        if (pwrite(fd, &v, 8, (off_t)off) != 8)
                die("pwrite", errno);
}

static void cow_seed_write(const struct cow_seed *s)
{
        uint32_t hdr[4] = { htole32(s->magic), htole32(s->valid), htole32(COW_VERSION),
                            htole32(s->chunk) };
        uint64_t cb = (uint64_t)s->chunk * 512, per_area = cb / 16, next_free = 2;
        uint8_t prefix[9];
        uint64_t origin = htole64(s->origin_size);
        int fd = memfd_create("seed-cow", MFD_CLOEXEC);

        if (fd < 0 || ftruncate(fd, (off_t)(s->chunks * cb)) < 0 ||
            pwrite(fd, hdr, sizeof(hdr), 0) != sizeof(hdr))
                die(s->name, errno);
        for (uint64_t k = 0; k < s->exceptions; k++) {
                uint64_t area_chunk = 1 + (per_area + 1) * (k / per_area);
                uint64_t c = next_free++;

                if (next_free % (per_area + 1) == 1)
                        next_free++;
                put64(fd, area_chunk * cb + (k % per_area) * 16, k * s->stride + 3);
                put64(fd, area_chunk * cb + (k % per_area) * 16 + 8, c);
        }
        memcpy(prefix, &origin, 8);
        prefix[8] = 0;
        seed_image("fuzz_cow", s->name, prefix, sizeof(prefix), fd, s->chunks * cb);
        close(fd);
}

/* ---- thin metadata (test_thin_meta_corrupt.c's model) ---------------------------------- */

static const struct tfx_spec thin_specs[] = {
        { .id = 1, .nr_blocks = 300, .hole_every = 7 },         /* two leaves under a node */
        { .id = 2, .snap = true, .origin = 1, .add_from = 290, .add_count = 5, .add_stride = 1,
          .time = 1 },                                        /* shares its first leaf */
        { .id = 3 },
        { .id = 4, .snap = true, .origin = 2, .change_every = 100, .drop_every = 97,
          .time = 2 },
};

#define THIN_SIZE (1u << 20)

static void thin_seed_write(const char *name, const char *path, const uint8_t prefix[3])
{
        FILE *in = fopen(path, "re");

        if (!in)
                die(path, errno);
        seed_image("fuzz_thin_meta", name, prefix, 3, fileno(in), THIN_SIZE);
        fclose(in);
}

static int thin_seeds(void)
{
        static const uint8_t live[3] = { 0, 1, 0 }, fresh[3] = { 0, 0, 0xff },
                             held[3] = { 1, 3, 1 };
        char dir[128], path[256], err[512];
        uint8_t *b = aligned_alloc(TFX_BLOCK, TFX_BLOCK);
        struct tfx_pool model = { 0 };
        const char *missing = tfx_tools_missing();
        uint64_t copy = THIN_SIZE / TFX_BLOCK - 1;
        int r;

        if (missing) {
                fprintf(stderr, "seeds: warning: %s not found (thin-provisioning-tools): no "
                        "thin_meta seeds, the fuzzer starts from nothing\n", missing);
                free(b);
                return 0;
        }
        if (!b || tfx_dir_new(dir, sizeof(dir)) < 0)
                die("thin seed directory", errno ? errno : ENOMEM);
        r = tfx_build(&model, thin_specs, sizeof(thin_specs) / sizeof(thin_specs[0]));
        if (r == 0)
                r = tfx_restore(&model, dir, "meta", THIN_SIZE, path, sizeof(path), err,
                                sizeof(err));
        tfx_pool_free(&model);
        if (r < 0) {
                fprintf(stderr, "seeds: thin_restore: %s\n", err);
                tfx_dir_remove(dir);
                exit(1);
        }
        thin_seed_write("live", path, live);
        thin_seed_write("fresh", path, fresh);
        /* a held snapshot: a copy of the superblock in the last block, named by block 0 */
        if (tfx_block_read(path, 0, b) < 0)
                die(path, errno);
        tfx_put64(b, TFX_SB_BLOCKNR, copy);
        tfx_reseal(b, true);
        if (tfx_block_write(path, copy, b) < 0 || tfx_block_read(path, 0, b) < 0)
                die(path, errno);
        tfx_put64(b, TFX_SB_HELD_ROOT, copy);
        tfx_reseal(b, true);
        if (tfx_block_write(path, 0, b) < 0)
                die(path, errno);
        thin_seed_write("held", path, held);
        tfx_dir_remove(dir);
        free(b);
        return 0;
}

/* ---- the hook's parameters (test_xen_params.c's cases) --------------------------------- */

static const char *const xen_seeds[][5] = {
        /* target, backend path, mode, vdev base, vdev count */
        { "dvm:default/work/root", "backend/vbd/5/51712", "w", "xvda", "\001" },
        { "dvm-spawn:default/dvm/volatile", "backend/vbd/32751/0", "r", "sdb", "\002" },
        { "dvm:p1/debian-12.dvm/private", "backend/vbd/1/2147483647", "rw", "hdz", "\000" },
        { "dvm-spawn:Pool_2/a/root", "backend/vbd/0/1", "", "xvd", "\031" },
        { "dvm:default/work/root/", "backend/vbd/05/1", "W", "xvdaa", "\377" },
        { "dvm:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/work/swap", "/backend/vbd/1/1", "w\n", "", "" },
};

static void xen_seed_write(unsigned i)
{
        char name[16];
        FILE *f;

        snprintf(name, sizeof(name), "case%u", i);
        f = seed_open("fuzz_xen_params", name, NULL, 0);
        for (unsigned k = 0; k < 4; k++)
                fprintf(f, "%s%c", xen_seeds[i][k], 0);
        fwrite(xen_seeds[i][4], 1, 1, f);
        seed_close(f, name);
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: seeds DIR\n");
                return 2;
        }
        out_dir = argv[1];
        if (mkdir(out_dir, 0755) < 0 && errno != EEXIST)
                die(out_dir, errno);
        for (size_t i = 0; i < sizeof(cow_seeds) / sizeof(cow_seeds[0]); i++)
                cow_seed_write(&cow_seeds[i]);
        for (unsigned i = 0; i < sizeof(xen_seeds) / sizeof(xen_seeds[0]); i++)
                xen_seed_write(i);
        return thin_seeds();
}
