/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * thin_meta: our read-only reader of dm-thin pool metadata (the kernel's
 * dm-thin-metadata.c format): superblock or held metadata snapshot, device details, a
 * device's mappings, and the blocks a thin device owns relative to its origin. Internal.
 */
#ifndef DVM_THIN_META_H
#define DVM_THIN_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/thin_meta_btree.h"
#include "util/ctx.h"

#define THIN_META_MAGIC 27022010u
#define THIN_META_SB_CSUM_XOR 160774u
#define THIN_META_BLOCK_SECTORS 8u          /* metadata blocks are 4 KiB */
#define THIN_META_DETAILS_SIZE 24u          /* struct disk_device_details */
/* Passed as the origin of thin_meta_owned(): the device has none (a fresh volume). */
#define THIN_META_NO_ORIGIN UINT64_MAX

struct thin_meta;

enum thin_meta_open_flags {
        /* Read the metadata snapshot the pool holds (message `reserve_metadata_snap`), the
         * only consistent view of a live pool, instead of the live superblock. */
        THIN_META_HELD_ROOT = 1 << 0,
};

enum thin_meta_sb_flags {
        THIN_META_NEEDS_CHECK = 1 << 0,  /* the kernel asks for thin_check before use */
};

/** The superblock in use, as thin_meta_get_info() reports it. */
struct thin_meta_info {
        uint64_t transaction_id;
        uint64_t held_root;          /* the live superblock's held snapshot block; 0: none */
        uint64_t metadata_nr_blocks; /* 4 KiB blocks */
        uint64_t nr_data_blocks;     /* size of the data device in blocks (live space map) */
        uint32_t data_block_size;    /* sectors */
        uint32_t time;               /* snapshot counter (mapping times refer to it) */
        uint32_t flags;              /* enum thin_meta_sb_flags */
        uint8_t uuid[16];
        bool snapshot;               /* read through the held snapshot */
};

/** One thin device (struct disk_device_details). */
struct thin_meta_device {
        uint64_t id;
        uint64_t mapped_blocks;
        uint64_t transaction_id;     /* of the pool when the device was created */
        uint32_t creation_time;
        uint32_t snapshotted_time;
};

/** Virtual block @vblock of a device lives in data block @data_block, written at @time. */
struct thin_meta_mapping {
        uint64_t vblock;
        uint64_t data_block;
        uint32_t time;
};

/** A walk over one device's mappings; fields are private. */
struct thin_meta_iter {
        struct thin_meta *meta;
        struct btree_iter bt;
};

/** @length blocks from @vblock that live in data blocks from @data_block. */
struct thin_meta_extent {
        uint64_t vblock;
        uint64_t data_block;
        uint64_t length;
};

/** A growing array of extents sorted by vblock; zero-initialise, free with _free(). */
struct thin_meta_extents {
        struct thin_meta_extent *items;
        size_t n;
        size_t allocated;
        uint64_t nr_blocks;          /* sum of the lengths */
};

/**
 * thin_meta_open() - open the metadata device or file at @path read-only (O_DIRECT for a
 * block device: the kernel writes it behind the page cache) and read its superblock.
 * Returns 0 and a handle in @ret_meta, or an error of thin_meta_open_fd() or open().
 */
int thin_meta_open(dvm_ctx *ctx, const char *path, unsigned flags, struct thin_meta **ret_meta);

/**
 * thin_meta_open_fd() - like thin_meta_open() on a duplicate of @fd (the caller keeps
 * @fd); @name names it in messages (NULL: "fd <n>"). Errors are described to @ctx if it is
 * not NULL. A handle and its walks belong to one thread at a time.
 * @flags: enum thin_meta_open_flags.
 * Returns 0 and a handle in @ret_meta; -EINVAL if it is not thin-pool metadata (bad magic,
 * all zeroes) or not a file or block device; -EOPNOTSUPP for a version, block size or
 * incompatible feature we do not know; -ENOENT if THIN_META_HELD_ROOT is asked and no
 * snapshot is held; -EUCLEAN if a superblock is corrupt or the device is shorter than it
 * says; -ENOMEM; or -errno.
 */
int thin_meta_open_fd(dvm_ctx *ctx, int fd, const char *name, unsigned flags,
                      struct thin_meta **ret_meta);

/** thin_meta_free() - close the handle; NULL is a no-op. Returns NULL. */
struct thin_meta *thin_meta_free(struct thin_meta *m);

DEFINE_CLEANUP(struct thin_meta *, thin_meta_free)

/** thin_meta_get_info() - fill @ret_info from the superblock in use. */
void thin_meta_get_info(const struct thin_meta *m, struct thin_meta_info *ret_info);

/** thin_meta_blocks_read() - Returns how many metadata blocks @m has read so far. */
uint64_t thin_meta_blocks_read(const struct thin_meta *m);

/**
 * thin_meta_list_devices() - all thin devices, sorted by id.
 * Returns the count and an array to free() in @ret_devices (NULL when there are none),
 * -ENOMEM, or -EUCLEAN / -errno when the details tree cannot be read.
 */
int thin_meta_list_devices(struct thin_meta *m, struct thin_meta_device **ret_devices);

/**
 * thin_meta_get_device() - the details of device @id.
 * Returns 0 and fills @ret_device, -ENOENT if there is no such device, or -EUCLEAN / -errno.
 */
int thin_meta_get_device(struct thin_meta *m, uint64_t id, struct thin_meta_device *ret_device);

/**
 * thin_meta_iter_init() - start a walk over the mappings of device @id in vblock order,
 * reading at most BTREE_MAX_DEPTH blocks at a time. @m must outlive the walk.
 * Returns 0 and the walk in @ret_iter (end it with thin_meta_iter_done()), -ENOENT if the
 * device has no mapping tree, or -EUCLEAN / -errno.
 */
int thin_meta_iter_init(struct thin_meta *m, uint64_t id, struct thin_meta_iter *ret_iter);

/**
 * thin_meta_iter_next() - the next mapping of the walk.
 * Returns 1 and fills @ret_mapping, 0 at the end, -EUCLEAN when the tree is corrupt or a
 * data block lies beyond the data device or a vblock beyond 2^64 bytes, or -errno.
 */
int thin_meta_iter_next(struct thin_meta_iter *it, struct thin_meta_mapping *ret_mapping);

/** thin_meta_iter_done() - end a walk; a zeroed iterator is fine. Usable with _cleanup_. */
void thin_meta_iter_done(struct thin_meta_iter *it);

/**
 * thin_meta_owned() - the blocks device @id owns exclusively relative to device @origin:
 * its mappings where @origin has no mapping or another data block (thin_delta's right_only
 * and different, with @origin on the left). With THIN_META_NO_ORIGIN, all its mappings.
 * Subtrees both devices share are skipped unread, so the cost follows the differences.
 * Returns 0 and the extents, merged when contiguous in vblock and data block, in
 * @ret_extents (free with thin_meta_extents_free()); -ENOENT if a device is missing;
 * -ENOMEM; or an error of thin_meta_iter_next().
 */
int thin_meta_owned(struct thin_meta *m, uint64_t id, uint64_t origin,
                    struct thin_meta_extents *ret_extents);

/**
 * thin_meta_extents_add() - append @length blocks at @vblock -> @data_block, which must lie
 * after the last extent; merged into it when contiguous on both sides.
 * Returns 0, -EINVAL if out of order or empty, or -ENOMEM.
 */
int thin_meta_extents_add(struct thin_meta_extents *e, uint64_t vblock, uint64_t data_block,
                          uint64_t length);

/**
 * thin_meta_extents_vrun() - the run of vblocks (contiguous, whatever the data blocks)
 * that starts at extent @i < e->n: its start in @ret_vblock, its length in @ret_length.
 * Returns the index of the extent after the run.
 */
size_t thin_meta_extents_vrun(const struct thin_meta_extents *e, size_t i, uint64_t *ret_vblock,
                              uint64_t *ret_length);

/** thin_meta_extents_free() - free the items and empty @e; NULL is a no-op. */
void thin_meta_extents_free(struct thin_meta_extents *e);

#endif
