/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The persistent-data btrees of dm-thin metadata, read-only: 4 KiB blocks read with pread,
 * node validation (checksum, location, geometry, key order), lookup and an in-order
 * iterator in bounded memory that can skip subtrees two trees share. Internal.
 */
#ifndef DVM_THIN_META_BTREE_H
#define DVM_THIN_META_BTREE_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/ctx.h"
#include "util/le.h"

#define BTREE_BLOCK_SIZE 4096u
#define BTREE_NODE_HEADER_SIZE 32u  /* csum, flags, blocknr, nr/max entries, value size, pad */
#define BTREE_CSUM_XOR 121107u      /* dm-btree-spine.c */
/* 2^64 keys need fewer than 10 levels at the kernel's minimum fill; deeper is corrupt. */
#define BTREE_MAX_DEPTH 16

enum btree_node_flags {
        BTREE_INTERNAL = 1 << 0,
        BTREE_LEAF = 1 << 1,
};

/** Where the nodes come from: @nr_blocks addressable 4 KiB blocks of @fd. */
struct btree_dev {
        int fd;
        uint64_t nr_blocks;
        uint64_t reads;     /* blocks read so far */
        dvm_ctx *ctx;       /* receives error messages; NULL: none */
        const char *name;   /* the device or file, for messages */
};

/** A validated node inside a block buffer. */
struct btree_node {
        const uint8_t *data;
        uint64_t blocknr;
        uint32_t nr_entries;
        uint32_t max_entries;
        uint32_t value_size;
        bool leaf;
};


static inline uint64_t btree_key(const struct btree_node *n, uint32_t i)
{
        return get_le64(n->data + BTREE_NODE_HEADER_SIZE + 8u * i);
}

static inline const uint8_t *btree_value(const struct btree_node *n, uint32_t i)
{
        return n->data + BTREE_NODE_HEADER_SIZE + 8u * n->max_entries + n->value_size * i;
}

/**
 * btree_error() - describe a failure on @d (to its context, if any).
 * Returns @err, so that callers can `return btree_error(...)`.
 */
int btree_error(struct btree_dev *d, int err, const char *fmt, ...) _printf_(3, 4);

/**
 * btree_checksum() - the persistent-data checksum of a metadata block: crc32c over all but
 * the first four bytes (where it is stored), seeded with ~0, xor-ed with the structure's
 * @salt (dm_bm_checksum()).
 * Returns the checksum in CPU order.
 */
uint32_t btree_checksum(const void *block, uint32_t salt);

/**
 * btree_read_block() - read block @blocknr of @d into @buf (BTREE_BLOCK_SIZE bytes,
 * 4096-aligned so that O_DIRECT descriptors work).
 * Returns 0, -EUCLEAN if @blocknr is out of range or the device ends inside the block, or
 * -errno from pread.
 */
int btree_read_block(struct btree_dev *d, uint64_t blocknr, void *buf);

/**
 * btree_read_node() - read and validate the node at @blocknr into @buf: checksum, its
 * recorded location, one of leaf/internal, geometry within the block, nr_entries <=
 * max_entries, strictly increasing keys, value size 8 for internal nodes and
 * @leaf_value_size for leaves.
 * Returns 0 and the node in @ret_node, -EUCLEAN when it is corrupt, or an error of
 * btree_read_block().
 */
int btree_read_node(struct btree_dev *d, uint64_t blocknr, uint32_t leaf_value_size, void *buf,
                    struct btree_node *ret_node);

/**
 * btree_lookup() - find @key in the tree at @root whose leaves hold @value_size-byte values
 * and copy its value to @ret_value.
 * Returns 0, -ENOENT if the key is absent, -ENOMEM, or an error of btree_read_node().
 */
int btree_lookup(struct btree_dev *d, uint64_t root, uint64_t key, uint32_t value_size,
                 void *ret_value);

struct btree_frame {
        uint8_t *block;         /* owned, BTREE_BLOCK_SIZE, allocated on first use */
        struct btree_node node;
        uint32_t index;         /* next entry (leaf) or child (internal) to visit */
        uint64_t lower;         /* keys below this are out of place */
        uint64_t upper;         /* keys from this on are out of place, if bounded */
        bool bounded;
};

/** In-order walk over one tree; at most BTREE_MAX_DEPTH blocks in memory. */
struct btree_iter {
        struct btree_dev *dev;
        uint64_t root;
        uint32_t value_size;
        bool root_taken;
        unsigned depth;         /* frames in use */
        unsigned leaf_depth;    /* 0 until the first leaf */
        struct btree_frame frames[BTREE_MAX_DEPTH];
};

/** btree_iter_init() - start a walk over the tree at @root (leaf values of @value_size). */
void btree_iter_init(struct btree_iter *it, struct btree_dev *d, uint64_t root,
                     uint32_t value_size);

/** btree_iter_done() - free the iterator's buffers; it may be initialised again. */
void btree_iter_done(struct btree_iter *it);

/**
 * btree_iter_next() - the next entry in key order. A leaf entry out of its parents' key
 * range, a leaf at another depth than the first, an empty non-root node or a tree deeper
 * than BTREE_MAX_DEPTH is corruption: so the walk visits each node at most once and ends
 * even on a malicious tree (cycles, shared children).
 * Returns 1 with the key in @ret_key and a pointer to the value (valid until the next call)
 * in @ret_value, 0 at the end, -ENOMEM, or an error of btree_read_node().
 */
int btree_iter_next(struct btree_iter *it, uint64_t *ret_key, const void **ret_value);

/**
 * btree_iter_skip_shared() - when both walks stand before a subtree (no entry of the
 * current leaf left) and it is the same block in both, skip it in both: it holds the same
 * entries for both, at the same keys, so a merge of the two walks loses nothing but
 * entries that compare equal. Descends both while their next subtrees differ, to find
 * shared ones below; stops as soon as either stands before a leaf entry.
 * Returns the number of subtrees skipped, or an error of btree_iter_next().
 */
int btree_iter_skip_shared(struct btree_iter *a, struct btree_iter *b);

#endif
