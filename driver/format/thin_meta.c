/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dm-thin pool metadata: the superblock (live or the held metadata snapshot), the device
 * details tree and the two-level mapping tree (dev id -> vblock -> data block << 24 | time).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/thin_meta.h"

/* Offsets in struct thin_disk_superblock (little endian, packed). */
enum {
        SB_CSUM = 0, SB_FLAGS = 4, SB_BLOCKNR = 8, SB_UUID = 16, SB_MAGIC = 32, SB_VERSION = 40,
        SB_TIME = 44, SB_TRANS_ID = 48, SB_HELD_ROOT = 56, SB_DATA_SM_ROOT = 64,
        SB_DATA_MAPPING_ROOT = 320, SB_DETAILS_ROOT = 328, SB_DATA_BLOCK_SIZE = 336,
        SB_METADATA_BLOCK_SIZE = 340, SB_METADATA_NR_BLOCKS = 344, SB_INCOMPAT_FLAGS = 360,
};
#define THIN_VERSION_MIN 1u
#define THIN_VERSION_MAX 2u
#define SB_READ_TRIES 3

struct thin_meta {
        struct btree_dev dev;
        struct thin_meta_info info;
        uint64_t mapping_root;
        uint64_t details_root;
        uint64_t max_vblock;     /* larger vblocks overflow a byte offset */
        char name[];
};

static int file_size(int fd, uint64_t *ret_size)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode)) {
                *ret_size = (uint64_t)st.st_size;
                return 0;
        }
        if (S_ISBLK(st.st_mode))
                return ioctl(fd, BLKGETSIZE64, ret_size) < 0 ? -errno : 0;
        return -EINVAL;
}

static bool all_zero(const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

/* The checks of the kernel's sb_check() and __check_incompat_features(), and sanity. */
static int sb_check(struct thin_meta *m, uint64_t blocknr, const uint8_t *sb)
{
        struct btree_dev *d = &m->dev;
        uint32_t csum = get_le32(sb + SB_CSUM), want = btree_checksum(sb, THIN_META_SB_CSUM_XOR);
        uint64_t magic = get_le64(sb + SB_MAGIC);
        uint32_t version = get_le32(sb + SB_VERSION);
        uint32_t incompat = get_le32(sb + SB_INCOMPAT_FLAGS);
        uint32_t mbs = get_le32(sb + SB_METADATA_BLOCK_SIZE);

        if (all_zero(sb, BTREE_BLOCK_SIZE))
                return btree_error(d, -EINVAL, "superblock %" PRIu64 " is all zeroes: not "
                                   "formatted (the pool was never activated)", blocknr);
        if (magic != THIN_META_MAGIC)
                return btree_error(d, -EINVAL, "superblock %" PRIu64 ": magic %" PRIu64 " is "
                                   "not thin-pool metadata", blocknr, magic);
        if (csum != want)
                return btree_error(d, -EUCLEAN, "superblock %" PRIu64 ": checksum %#x, expected "
                                   "%#x: corrupt, run thin_check", blocknr, csum, want);
        if (get_le64(sb + SB_BLOCKNR) != blocknr)
                return btree_error(d, -EUCLEAN, "superblock %" PRIu64 " says it is block %" PRIu64,
                                   blocknr, get_le64(sb + SB_BLOCKNR));
        if (version < THIN_VERSION_MIN || version > THIN_VERSION_MAX || incompat ||
            mbs != THIN_META_BLOCK_SECTORS)
                return btree_error(d, -EOPNOTSUPP, "superblock %" PRIu64 ": version %" PRIu32
                                   ", incompatible features %#x, block size %" PRIu32 " sectors "
                                   "are not supported", blocknr, version, incompat, mbs);
        if (get_le32(sb + SB_DATA_BLOCK_SIZE) == 0)
                return btree_error(d, -EUCLEAN, "superblock %" PRIu64 ": data block size 0",
                                   blocknr);
        if (get_le64(sb + SB_METADATA_NR_BLOCKS) > d->nr_blocks)
                return btree_error(d, -EUCLEAN, "superblock %" PRIu64 " spans %" PRIu64 " blocks"
                                   " but the device has %" PRIu64 ": truncated", blocknr,
                                   get_le64(sb + SB_METADATA_NR_BLOCKS), d->nr_blocks);
        return 0;
}

static int read_superblock(struct thin_meta *m, uint64_t blocknr, uint8_t *sb)
{
        int r = btree_read_block(&m->dev, blocknr, sb);

        return r < 0 ? r : sb_check(m, blocknr, sb);
}

static int load_superblock(struct thin_meta *m, unsigned flags)
{
        _cleanup_free_ uint8_t *sb = NULL;
        dvm_ctx *ctx = m->dev.ctx;
        uint64_t blocknr = 0;
        int r;

        if (posix_memalign((void **)&sb, BTREE_BLOCK_SIZE, BTREE_BLOCK_SIZE))
                return -ENOMEM;
        /* A live pool commits by rewriting block 0; a read through a loop device over a
         * file can catch it half written. Retry a corrupt-looking block quietly first. */
        m->dev.ctx = NULL;
        for (int i = 0; i < SB_READ_TRIES && (r = read_superblock(m, 0, sb)) == -EUCLEAN; i++)
                usleep(1000);
        m->dev.ctx = ctx;
        if (r < 0)
                r = read_superblock(m, 0, sb);  /* once more, to describe the failure */
        if (r < 0)
                return r;
        m->info.held_root = get_le64(sb + SB_HELD_ROOT);
        /* A snapshot's copy has its space map roots wiped; the data device only grows. */
        m->info.nr_data_blocks = get_le64(sb + SB_DATA_SM_ROOT);
        if (flags & THIN_META_HELD_ROOT) {
                blocknr = m->info.held_root;
                if (blocknr == 0)
                        return btree_error(&m->dev, -ENOENT, "no metadata snapshot is held: send "
                                           "reserve_metadata_snap to the pool first");
                r = read_superblock(m, blocknr, sb);
                if (r < 0)
                        return r;
                m->info.snapshot = true;
        }
        m->info.transaction_id = get_le64(sb + SB_TRANS_ID);
        m->info.metadata_nr_blocks = get_le64(sb + SB_METADATA_NR_BLOCKS);
        m->info.data_block_size = get_le32(sb + SB_DATA_BLOCK_SIZE);
        m->info.time = get_le32(sb + SB_TIME);
        m->info.flags = get_le32(sb + SB_FLAGS);
        memcpy(m->info.uuid, sb + SB_UUID, sizeof(m->info.uuid));
        m->mapping_root = get_le64(sb + SB_DATA_MAPPING_ROOT);
        m->details_root = get_le64(sb + SB_DETAILS_ROOT);
        m->max_vblock = (UINT64_MAX >> SECTOR_SHIFT) / m->info.data_block_size - 1;
        return 0;
}

int thin_meta_open_fd(dvm_ctx *ctx, int fd, const char *name, unsigned flags,
                      struct thin_meta **ret_meta)
{
        _cleanup_(thin_meta_freep) struct thin_meta *m = NULL;
        char fdname[32];
        uint64_t size;
        int r;

        if (!name) {
                snprintf(fdname, sizeof(fdname), "fd %d", fd);
                name = fdname;
        }
        m = calloc(1, sizeof(*m) + strlen(name) + 1);
        if (!m)
                return -ENOMEM;
        strcpy(m->name, name);
        m->dev = (struct btree_dev){ .fd = -1, .ctx = ctx, .name = m->name };
        m->dev.fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (m->dev.fd < 0)
                return btree_error(&m->dev, -errno, "cannot duplicate descriptor %d: %m", fd);
        r = file_size(fd, &size);
        if (r < 0)
                return btree_error(&m->dev, r, "cannot get the size (not a file or block "
                                   "device?): %m");
        m->dev.nr_blocks = size / BTREE_BLOCK_SIZE;
        r = load_superblock(m, flags);
        if (r < 0)
                return r;
        *ret_meta = TAKE_PTR(m);
        return 0;
}

int thin_meta_open(dvm_ctx *ctx, const char *path, unsigned flags, struct thin_meta **ret_meta)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int oflags = O_RDONLY | O_CLOEXEC;

        /* dm-bufio writes the device directly; cached pages of it may be stale. */
        if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
                oflags |= O_DIRECT;
        fd = open(path, oflags);
        if (fd < 0) {
                int r = -errno;
                if (ctx)
                        ctx_error(ctx, r, "thin metadata %s: cannot open: %m", path);
                return r;
        }
        return thin_meta_open_fd(ctx, fd, path, flags, ret_meta);
}

struct thin_meta *thin_meta_free(struct thin_meta *m)
{
        if (!m)
                return NULL;
        if (m->dev.fd >= 0)
                close(m->dev.fd);
        free(m);
        return NULL;
}

void thin_meta_get_info(const struct thin_meta *m, struct thin_meta_info *ret_info)
{
        *ret_info = m->info;
}

uint64_t thin_meta_blocks_read(const struct thin_meta *m)
{
        return m->dev.reads;
}

static void decode_details(uint64_t id, const uint8_t *v, struct thin_meta_device *ret)
{
        *ret = (struct thin_meta_device){
                .id = id,
                .mapped_blocks = get_le64(v),
                .transaction_id = get_le64(v + 8),
                .creation_time = get_le32(v + 16),
                .snapshotted_time = get_le32(v + 20),
        };
}

int thin_meta_list_devices(struct thin_meta *m, struct thin_meta_device **ret_devices)
{
        _cleanup_(btree_iter_done) struct btree_iter it = { 0 };
        _cleanup_free_ struct thin_meta_device *devs = NULL;
        size_t n = 0, allocated = 0;
        const void *value;
        uint64_t key;
        int r;

        btree_iter_init(&it, &m->dev, m->details_root, THIN_META_DETAILS_SIZE);
        while ((r = btree_iter_next(&it, &key, &value)) > 0) {
                if (n == allocated) {
                        size_t a = allocated ? allocated * 2 : 16;
                        struct thin_meta_device *p = reallocarray(devs, a, sizeof(*devs));
                        if (!p)
                                return -ENOMEM;
                        devs = p;
                        allocated = a;
                }
                if (n == INT32_MAX)
                        return btree_error(&m->dev, -EUCLEAN, "more than %d devices",
                                           INT32_MAX);
                decode_details(key, value, &devs[n++]);
        }
        if (r < 0)
                return r;
        *ret_devices = TAKE_PTR(devs);
        return (int)n;
}

int thin_meta_get_device(struct thin_meta *m, uint64_t id, struct thin_meta_device *ret_device)
{
        uint8_t v[THIN_META_DETAILS_SIZE];
        int r = btree_lookup(&m->dev, m->details_root, id, sizeof(v), v);

        if (r < 0)
                return r;
        decode_details(id, v, ret_device);
        return 0;
}

int thin_meta_iter_init(struct thin_meta *m, uint64_t id, struct thin_meta_iter *ret_iter)
{
        uint8_t v[8];
        int r = btree_lookup(&m->dev, m->mapping_root, id, sizeof(v), v);

        if (r == -ENOENT)
                return btree_error(&m->dev, r, "thin device %" PRIu64 " does not exist", id);
        if (r < 0)
                return r;
        ret_iter->meta = m;
        btree_iter_init(&ret_iter->bt, &m->dev, get_le64(v), 8);
        return 0;
}

int thin_meta_iter_next(struct thin_meta_iter *it, struct thin_meta_mapping *ret_mapping)
{
        struct thin_meta *m = it->meta;
        const void *value;
        uint64_t key, v, block;
        int r = btree_iter_next(&it->bt, &key, &value);

        if (r <= 0)
                return r;
        v = get_le64(value);
        block = v >> 24;
        if (key > m->max_vblock)
                return btree_error(&m->dev, -EUCLEAN, "virtual block %" PRIu64 " is beyond any "
                                   "device size", key);
        if (m->info.nr_data_blocks && block >= m->info.nr_data_blocks)
                return btree_error(&m->dev, -EUCLEAN, "virtual block %" PRIu64 " maps to data "
                                   "block %" PRIu64 ", beyond the data device (%" PRIu64 ")",
                                   key, block, m->info.nr_data_blocks);
        *ret_mapping = (struct thin_meta_mapping){
                .vblock = key,
                .data_block = block,
                .time = (uint32_t)(v & 0xffffff),
        };
        return 1;
}

void thin_meta_iter_done(struct thin_meta_iter *it)
{
        btree_iter_done(&it->bt);
        it->meta = NULL;
}
