// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The sparse-file form of the file targets' inputs (image.h): decoding into a memfd,
 * with a per-block hook, and encoding a real image into it (the seeds).
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image.h"
#include "util/le.h"

#define GAP 16u          /* zero bytes kept inside a record rather than starting a new one */

struct block {
        uint64_t nr;
        uint8_t data[FUZZ_IMAGE_BLOCK];
};

/* The buffer of block @nr, made (zeroed) on first use; NULL past FUZZ_IMAGE_MAX_BLOCKS. */
static struct block *block_get(struct block *v, size_t *n, uint64_t nr)
{
        for (size_t i = 0; i < *n; i++)
                if (v[i].nr == nr)
                        return &v[i];
        if (*n == FUZZ_IMAGE_MAX_BLOCKS)
                return NULL;
        v[*n].nr = nr;
        memset(v[*n].data, 0, FUZZ_IMAGE_BLOCK);
        return &v[(*n)++];
}

int fuzz_image_open(const uint8_t *data, size_t size, fuzz_block_fn *fixup, uint64_t *ret_size)
{
        static struct block *blocks;
        uint64_t file_size;
        size_t n = 0, pos = 4;
        int fd;

        if (size < 4)
                return -1;
        if (!blocks && !(blocks = malloc(FUZZ_IMAGE_MAX_BLOCKS * sizeof(*blocks))))
                return -1;
        file_size = (uint64_t)get_le32(data) << 9;
        while (pos + 6 <= size) {
                uint64_t off = get_le32(data + pos);
                size_t len = get_le16(data + pos + 4);

                pos += 6;
                len = len < size - pos ? len : size - pos;
                for (size_t done = 0; done < len;) {
                        uint64_t at = off + done;
                        struct block *b = block_get(blocks, &n, at / FUZZ_IMAGE_BLOCK);
                        size_t in = FUZZ_IMAGE_BLOCK - at % FUZZ_IMAGE_BLOCK;

                        in = in < len - done ? in : len - done;
                        if (b)
                                memcpy(b->data + at % FUZZ_IMAGE_BLOCK, data + pos + done, in);
                        done += in;
                }
                pos += len;
        }

        fd = memfd_create("fuzz-image", MFD_CLOEXEC);
        if (fd < 0)
                return -1;
        if (ftruncate(fd, (off_t)file_size) < 0)
                goto fail;
        for (size_t i = 0; i < n; i++) {
                uint64_t off = blocks[i].nr * FUZZ_IMAGE_BLOCK;

                if (off >= file_size)
                        continue;
                if (fixup)
                        fixup(blocks[i].data, blocks[i].nr);
                size_t len = file_size - off < FUZZ_IMAGE_BLOCK ? file_size - off : FUZZ_IMAGE_BLOCK;
                if (pwrite(fd, blocks[i].data, len, (off_t)off) != (ssize_t)len)
                        goto fail;
        }
        *ret_size = file_size;
        return fd;
fail:
        close(fd);
        return -1;
}

static int put_record(FILE *out, uint64_t off, const uint8_t *p, size_t len)
{
        uint32_t o = htole32((uint32_t)off);
        uint16_t l = htole16((uint16_t)len);

        if (fwrite(&o, 4, 1, out) != 1 || fwrite(&l, 2, 1, out) != 1 ||
            fwrite(p, 1, len, out) != len)
                return -EIO;
        return 0;
}

int fuzz_image_encode(int fd, uint64_t size, FILE *out)
{
        uint8_t buf[FUZZ_IMAGE_BLOCK];
        uint32_t sectors = htole32((uint32_t)((size + 511) >> 9));
        int r;

        if (size > UINT32_MAX)
                return -EFBIG;  /* record offsets are 32-bit */
        if (fwrite(&sectors, 4, 1, out) != 1)
                return -EIO;
        for (uint64_t off = 0; off < size; off += FUZZ_IMAGE_BLOCK) {
                size_t len = size - off < FUZZ_IMAGE_BLOCK ? size - off : FUZZ_IMAGE_BLOCK;
                ssize_t got = pread(fd, buf, len, (off_t)off);

                if (got != (ssize_t)len)
                        return got < 0 ? -errno : -EIO;
                /* runs of non-zero bytes within the block, joined across short gaps */
                for (size_t i = 0; i < len;) {
                        size_t start, end, zeroes = 0;

                        while (i < len && buf[i] == 0)
                                i++;
                        if (i == len)
                                break;
                        start = end = i;
                        for (; i < len && zeroes < GAP; i++) {
                                if (buf[i]) {
                                        end = i + 1;
                                        zeroes = 0;
                                } else {
                                        zeroes++;
                                }
                        }
                        r = put_record(out, off + start, buf + start, end - start);
                        if (r < 0)
                                return r;
                        i = end;
                }
        }
        return 0;
}
