/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Read-only access to the persistent-data btrees of dm-thin metadata (the layout of the
 * kernel's dm-btree-internal.h): block reads, node validation, lookup, in-order iteration.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "format/crc32c.h"
#include "format/thin_meta_btree.h"

int btree_error(struct btree_dev *d, int err, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        if (!d->ctx)
                return err;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return ctx_error(d->ctx, err, "thin metadata %s: %s", d->name, msg);
}

uint32_t btree_checksum(const void *block, uint32_t salt)
{
        return crc32c(~UINT32_C(0), (const uint8_t *)block + 4, BTREE_BLOCK_SIZE - 4) ^ salt;
}

int btree_read_block(struct btree_dev *d, uint64_t blocknr, void *buf)
{
        size_t done = 0;

        if (blocknr >= d->nr_blocks)
                return btree_error(d, -EUCLEAN, "block %" PRIu64 " is beyond the end (%" PRIu64
                                   " blocks): the metadata is corrupt", blocknr, d->nr_blocks);
        while (done < BTREE_BLOCK_SIZE) {
                ssize_t n = pread(d->fd, (uint8_t *)buf + done, BTREE_BLOCK_SIZE - done,
                                  (off_t)(blocknr * BTREE_BLOCK_SIZE + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return btree_error(d, -errno, "cannot read block %" PRIu64 ": %m",
                                           blocknr);
                if (n == 0)
                        return btree_error(d, -EUCLEAN, "the device ends inside block %" PRIu64
                                           ": truncated metadata", blocknr);
                done += (size_t)n;
        }
        d->reads++;
        return 0;
}

static int node_check(struct btree_dev *d, uint64_t blocknr, uint32_t leaf_value_size,
                      const uint8_t *data, struct btree_node *ret_node)
{
        uint32_t csum = get_le32(data), want = btree_checksum(data, BTREE_CSUM_XOR);
        uint32_t flags = get_le32(data + 4);
        struct btree_node n = {
                .data = data,
                .blocknr = get_le64(data + 8),
                .nr_entries = get_le32(data + 16),
                .max_entries = get_le32(data + 20),
                .value_size = get_le32(data + 24),
                .leaf = flags == BTREE_LEAF,
        };
        uint32_t want_size = n.leaf ? leaf_value_size : 8;

        if (csum != want)
                return btree_error(d, -EUCLEAN, "btree node %" PRIu64 ": checksum %#x, "
                                   "expected %#x", blocknr, csum, want);
        if (n.blocknr != blocknr)
                return btree_error(d, -EUCLEAN, "btree node %" PRIu64 " says it is block %"
                                   PRIu64, blocknr, n.blocknr);
        if (flags != BTREE_LEAF && flags != BTREE_INTERNAL)
                return btree_error(d, -EUCLEAN, "btree node %" PRIu64 ": flags %#x are neither "
                                   "leaf nor internal", blocknr, flags);
        if (n.value_size != want_size)
                return btree_error(d, -EUCLEAN, "btree node %" PRIu64 ": value size %" PRIu32
                                   ", expected %" PRIu32, blocknr, n.value_size, want_size);
        if ((uint64_t)n.max_entries * (8 + n.value_size) >
            BTREE_BLOCK_SIZE - BTREE_NODE_HEADER_SIZE || n.nr_entries > n.max_entries)
                return btree_error(d, -EUCLEAN, "btree node %" PRIu64 ": %" PRIu32 " of %" PRIu32
                                   " entries do not fit", blocknr, n.nr_entries, n.max_entries);
        for (uint32_t i = 1; i < n.nr_entries; i++)
                if (btree_key(&n, i) <= btree_key(&n, i - 1))
                        return btree_error(d, -EUCLEAN, "btree node %" PRIu64 ": keys out of "
                                           "order at entry %" PRIu32, blocknr, i);
        *ret_node = n;
        return 0;
}

int btree_read_node(struct btree_dev *d, uint64_t blocknr, uint32_t leaf_value_size, void *buf,
                    struct btree_node *ret_node)
{
        int r = btree_read_block(d, blocknr, buf);

        if (r < 0)
                return r;
        return node_check(d, blocknr, leaf_value_size, buf, ret_node);
}

static void *block_alloc(void)
{
        void *p;

        return posix_memalign(&p, BTREE_BLOCK_SIZE, BTREE_BLOCK_SIZE) == 0 ? p : NULL;
}

int btree_lookup(struct btree_dev *d, uint64_t root, uint64_t key, uint32_t value_size,
                 void *ret_value)
{
        _cleanup_free_ uint8_t *buf = block_alloc();
        uint64_t blocknr = root;

        if (!buf)
                return -ENOMEM;
        for (unsigned depth = 0; depth < BTREE_MAX_DEPTH; depth++) {
                struct btree_node n;
                uint32_t lo = 0, hi;
                int r = btree_read_node(d, blocknr, value_size, buf, &n);

                if (r < 0)
                        return r;
                /* the last entry whose key is <= @key */
                hi = n.nr_entries;
                while (lo < hi) {
                        uint32_t mid = lo + (hi - lo) / 2;
                        if (btree_key(&n, mid) <= key)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                if (lo == 0)
                        return -ENOENT;
                if (n.leaf) {
                        if (btree_key(&n, lo - 1) != key)
                                return -ENOENT;
                        memcpy(ret_value, btree_value(&n, lo - 1), value_size);
                        return 0;
                }
                blocknr = get_le64(btree_value(&n, lo - 1));
        }
        return btree_error(d, -EUCLEAN, "btree at block %" PRIu64 " is deeper than %d levels",
                           root, BTREE_MAX_DEPTH);
}

void btree_iter_init(struct btree_iter *it, struct btree_dev *d, uint64_t root,
                     uint32_t value_size)
{
        *it = (struct btree_iter){ .dev = d, .root = root, .value_size = value_size };
}

void btree_iter_done(struct btree_iter *it)
{
        for (unsigned i = 0; i < BTREE_MAX_DEPTH; i++)
                free(it->frames[i].block);
        *it = (struct btree_iter){ 0 };
}

enum pos { POS_END, POS_ENTRY, POS_CHILD };

/* Drop finished nodes; then say what comes next and, before a subtree, its block. */
static enum pos position(struct btree_iter *it, uint64_t *ret_child)
{
        while (it->depth > 0) {
                struct btree_frame *f = &it->frames[it->depth - 1];

                if (f->index < f->node.nr_entries) {
                        if (f->node.leaf)
                                return POS_ENTRY;
                        *ret_child = get_le64(btree_value(&f->node, f->index));
                        return POS_CHILD;
                }
                it->depth--;
        }
        if (it->root_taken)
                return POS_END;
        *ret_child = it->root;
        return POS_CHILD;
}

/* Pass over the subtree position() announced. */
static void skip_child(struct btree_iter *it)
{
        if (it->depth == 0)
                it->root_taken = true;
        else
                it->frames[it->depth - 1].index++;
}

/* Load the subtree position() announced as @blocknr and stand before its first entry. */
static int descend(struct btree_iter *it, uint64_t blocknr)
{
        struct btree_dev *d = it->dev;
        struct btree_frame *f, *parent = it->depth ? &it->frames[it->depth - 1] : NULL;
        int r;

        if (it->depth == BTREE_MAX_DEPTH)
                return btree_error(d, -EUCLEAN, "btree at block %" PRIu64 " is deeper than %d "
                                   "levels (a cycle?)", it->root, BTREE_MAX_DEPTH);
        f = &it->frames[it->depth];
        if (!f->block && !(f->block = block_alloc()))
                return -ENOMEM;
        r = btree_read_node(d, blocknr, it->value_size, f->block, &f->node);
        if (r < 0)
                return r;
        f->index = 0;
        if (parent) {
                uint32_t i = parent->index;
                uint64_t lo = btree_key(&parent->node, i);

                f->lower = lo > parent->lower ? lo : parent->lower;
                f->bounded = parent->bounded;
                f->upper = parent->upper;
                if (i + 1 < parent->node.nr_entries) {
                        uint64_t hi = btree_key(&parent->node, i + 1);
                        if (!f->bounded || hi < f->upper)
                                f->upper = hi;
                        f->bounded = true;
                }
        } else {
                f->lower = 0;
                f->upper = 0;
                f->bounded = false;
        }
        skip_child(it);
        it->depth++;
        if (f->node.nr_entries == 0 && it->depth > 1)
                return btree_error(d, -EUCLEAN, "btree node %" PRIu64 " is empty", blocknr);
        if (f->node.leaf) {
                const struct btree_node *n = &f->node;

                if (it->leaf_depth && it->leaf_depth != it->depth)
                        return btree_error(d, -EUCLEAN, "btree leaf %" PRIu64 " at depth %u, "
                                           "others at %u", blocknr, it->depth, it->leaf_depth);
                it->leaf_depth = it->depth;
                if (n->nr_entries > 0 &&
                    (btree_key(n, 0) < f->lower ||
                     (f->bounded && btree_key(n, n->nr_entries - 1) >= f->upper)))
                        return btree_error(d, -EUCLEAN, "btree leaf %" PRIu64 ": keys outside "
                                           "the range of its parent", blocknr);
        }
        return 0;
}

int btree_iter_next(struct btree_iter *it, uint64_t *ret_key, const void **ret_value)
{
        for (;;) {
                uint64_t child;
                int r;

                switch (position(it, &child)) {
                case POS_END:
                        return 0;
                case POS_CHILD:
                        r = descend(it, child);
                        if (r < 0)
                                return r;
                        break;
                case POS_ENTRY: {
                        struct btree_frame *f = &it->frames[it->depth - 1];

                        *ret_key = btree_key(&f->node, f->index);
                        *ret_value = btree_value(&f->node, f->index);
                        f->index++;
                        return 1;
                }
                }
        }
}

int btree_iter_skip_shared(struct btree_iter *a, struct btree_iter *b)
{
        int skipped = 0;

        for (;;) {
                uint64_t ca, cb;
                int r;

                if (position(a, &ca) != POS_CHILD || position(b, &cb) != POS_CHILD)
                        return skipped;
                if (ca == cb) {
                        skip_child(a);
                        skip_child(b);
                        skipped++;
                        continue;
                }
                r = descend(a, ca);
                if (r < 0)
                        return r;
                r = descend(b, cb);
                if (r < 0)
                        return r;
        }
}
