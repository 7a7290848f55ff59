/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test fixtures for the thin metadata reader (thin_fixture.c: the model; thin_fixture_tools.c:
 * the tools and raw blocks): a model of a pool's devices and mappings,
 * real metadata files built from it with thin_restore, the views of thin_dump and
 * thin_delta parsed back into the model, and raw block editing with valid checksums.
 */
#ifndef DVM_TEST_THIN_FIXTURE_H
#define DVM_TEST_THIN_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TFX_BLOCK 4096u
/* struct thin_disk_superblock offsets (kernel dm-thin-metadata.c) */
enum {
        TFX_SB_BLOCKNR = 8, TFX_SB_MAGIC = 32, TFX_SB_VERSION = 40, TFX_SB_TIME = 44,
        TFX_SB_TRANS_ID = 48, TFX_SB_HELD_ROOT = 56, TFX_SB_DATA_SM_ROOT = 64,
        TFX_SB_META_SM_ROOT = 192, TFX_SB_MAPPING_ROOT = 320, TFX_SB_DETAILS_ROOT = 328,
        TFX_SB_METADATA_BLOCK_SIZE = 340, TFX_SB_METADATA_NR_BLOCKS = 344,
        TFX_SB_INCOMPAT = 360,
};

/** @length blocks from @vblock in data blocks from @data_block, written at @time. */
struct tfx_range {
        uint64_t vblock, data_block, length;
        uint32_t time;
};

struct tfx_device {
        uint64_t id, transaction;
        uint64_t mapped_blocks;  /* mappings in @ranges */
        uint64_t mapped_attr;    /* the details' mapped_blocks (0: write @mapped_blocks) */
        uint32_t creation_time, snap_time;
        struct tfx_range *ranges;
        size_t n, allocated;
};

struct tfx_pool {
        uint64_t transaction;
        uint32_t time, data_block_size;
        uint64_t nr_data_blocks;
        struct tfx_device *devs;
        size_t n;
};

/** One mapping, expanded. */
struct tfx_block {
        uint64_t vblock, data_block;
        uint32_t time;
};

/** How tfx_build() makes one device; fields left 0 do nothing. */
struct tfx_spec {
        uint64_t id;
        bool snap;               /* start as a copy of device @origin (built earlier) */
        uint64_t origin;
        uint64_t nr_blocks;      /* map vblocks [0, nr_blocks) to fresh data blocks ... */
        unsigned hole_every;     /* ... except those with v % hole_every == 0 */
        unsigned change_every;   /* remap every n-th mapping (of the copy) to a fresh block */
        unsigned drop_every;     /* unmap every n-th mapping (of the copy) */
        uint64_t add_from, add_count, add_stride; /* map add_from + i * add_stride afresh */
        uint32_t time;           /* of new mappings; creation and snapshot time */
        uint64_t mapped_attr;    /* stored mapped_blocks if not the count */
};

/**
 * tfx_build() - build the pool of @n specs: fresh data blocks come from one cursor, with a
 * gap now and then so that data runs break. Returns 0 or -errno.
 */
int tfx_build(struct tfx_pool *p, const struct tfx_spec *specs, size_t n);

/** tfx_tools_missing() - Returns the name of a missing thin tool, or NULL if all are there. */
const char *tfx_tools_missing(void);

/** tfx_dir_new() - sweep dead runs' directories, make a fresh one. Returns 0 or -errno. */
int tfx_dir_new(char *ret_dir, size_t size);

/** tfx_dir_remove() - remove @dir and the files in it. */
void tfx_dir_remove(const char *dir);

/**
 * tfx_dir_shared() - the directory all workers of this Criterion run share (named after the
 * runner, our parent): made if missing, refused unless it is our own real directory.
 * Returns 0 or -errno.
 */
int tfx_dir_shared(char *ret_dir, size_t size);

/** tfx_dir_shared_remove() - remove the shared directory; call from the runner (POST_ALL). */
void tfx_dir_shared_remove(void);

/**
 * tfx_restore_once() - tfx_restore() into @dir unless an earlier worker did, under a lock
 * on @dir. Returns 0, or -1 with the reason in @err.
 */
int tfx_restore_once(const struct tfx_pool *p, const char *dir, const char *name,
                     uint64_t size, char *ret_path, size_t path_size, char *err,
                     size_t err_size);

/** tfx_pool_add() - add a device (ids ascending). Returns it, or NULL on ENOMEM. */
struct tfx_device *tfx_pool_add(struct tfx_pool *p, uint64_t id, uint64_t transaction,
                                uint32_t creation_time, uint32_t snap_time);

/** tfx_map() - append a mapping at a vblock after the last. Returns 0, -EINVAL or -ENOMEM. */
int tfx_map(struct tfx_device *d, uint64_t vblock, uint64_t data_block, uint64_t length,
            uint32_t time);

/** tfx_find() - Returns device @id of @p, or NULL. */
const struct tfx_device *tfx_find(const struct tfx_pool *p, uint64_t id);

/** tfx_pool_free() - free the devices of @p and zero it. */
void tfx_pool_free(struct tfx_pool *p);

/** tfx_expand() - the mappings of @d one by one. Returns the count; array in @ret (free()). */
size_t tfx_expand(const struct tfx_device *d, struct tfx_block **ret);

/** tfx_owned() - the model's answer: blocks of @a not in @b with the same data block. */
size_t tfx_owned(const struct tfx_device *a, const struct tfx_device *b, struct tfx_block **ret);

/**
 * tfx_restore() - write @p as XML to @dir/@name.xml and thin_restore it into @dir/@name
 * (@size bytes, sparse). Returns 0, or -1 with the tool's output in @err.
 */
int tfx_restore(const struct tfx_pool *p, const char *dir, const char *name, uint64_t size,
                char *ret_path, size_t path_size, char *err, size_t err_size);

/** tfx_dump() - parse `thin_dump @args @meta`. Returns 0, or -1 with the output in @err. */
int tfx_dump(const char *meta, const char *args, struct tfx_pool *ret, char *err,
             size_t err_size);

/**
 * tfx_delta() - `thin_delta --verbose @args --snap1 @left --snap2 @right @meta`: the
 * right_only and different ranges, with the right device's data blocks, into @ret.
 * Returns 0, or -1 with the output in @err.
 */
int tfx_delta(const char *meta, const char *args, uint64_t left, uint64_t right,
              struct tfx_device *ret, char *err, size_t err_size);

struct thin_meta;
struct thin_meta_extents;

/**
 * tfx_check_mappings() - walk device @want->id with thin_meta and compare every mapping.
 * Returns 0, or -1 with the first difference described in @why.
 */
int tfx_check_mappings(struct thin_meta *m, const struct tfx_device *want, char *why,
                       size_t size);

/**
 * tfx_check_extents() - @e must be sorted, maximally merged, add up to nr_blocks and
 * expand to exactly the @n blocks of @want. Returns 0, or -1 with the reason in @why.
 */
int tfx_check_extents(const struct thin_meta_extents *e, const struct tfx_block *want,
                      size_t n, char *why, size_t size);

/** tfx_block_read() / tfx_block_write() - raw block I/O. Return 0 or -errno. */
int tfx_block_read(const char *path, uint64_t blocknr, void *buf);
int tfx_block_write(const char *path, uint64_t blocknr, const void *buf);

/** tfx_reseal() - recompute the checksum of a superblock or btree node after an edit. */
void tfx_reseal(void *block, bool superblock);

/** tfx_get64() / tfx_put64() / tfx_put32() - little-endian fields of a block. */
uint64_t tfx_get64(const void *block, size_t off);
void tfx_put64(void *block, size_t off, uint64_t v);
void tfx_put32(void *block, size_t off, uint32_t v);

#endif
