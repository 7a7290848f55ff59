/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cow: our reader of the dm-snapshot persistent COW store (header, metadata areas,
 * exceptions) and writer of the zeroed header a fresh store starts from. Internal.
 */
#ifndef DVM_COW_H
#define DVM_COW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"

#define COW_MAGIC 0x70416e53u     /* "SnAp" little-endian */
#define COW_VERSION 1u
#define COW_EXCEPTION_SIZE 16u    /* {le64 old_chunk; le64 new_chunk} */
/* Our policy: page-sized chunks at least. The kernel accepts any power of two that is a
 * multiple of the logical block size and at most INT_MAX >> 9 sectors (2^21 is the largest). */
#define COW_CHUNK_SECTORS_MIN 8u
#define COW_CHUNK_SECTORS_MAX (1u << 21)

/** The header (chunk 0) as cow_header_read() decodes it. */
struct cow_header {
        bool is_new;            /* magic 0: the kernel will initialise it; no other field set */
        bool valid;             /* false: invalidated (overflow, I/O error); never usable again */
        uint32_t version;
        uint32_t chunk_sectors;
        uint32_t chunk_bytes;
        uint32_t per_area;      /* exceptions per metadata area: chunk_bytes / 16 */
};

/** One exception: origin chunk @old_chunk has its data in COW chunk @new_chunk. */
struct cow_exception {
        uint64_t old_chunk;
        uint64_t new_chunk;
};

/** Called once per exception, in on-disk order; a non-zero return stops the walk. */
typedef int (*cow_exception_fn)(void *userdata, const struct cow_header *h,
                                const struct cow_exception *e);

/** What `info` shows, and what the kernel's snapshot status line should agree with. */
struct cow_usage {
        struct cow_header header;
        uint64_t exceptions;        /* data chunks in use */
        uint64_t areas;             /* metadata areas in use (the kernel's current_area + 1) */
        uint64_t metadata_chunks;   /* header + areas */
        uint64_t data_bytes;        /* exceptions * chunk_bytes */
        uint64_t total_sectors;     /* size of the store */
        uint64_t sectors_allocated; /* as in status "<allocated>/<total> <metadata>" */
        uint64_t metadata_sectors;
};

/** Origin bytes [origin_offset, +length) live in COW bytes [cow_offset, +length). */
struct cow_mapping {
        uint64_t origin_offset;
        uint64_t cow_offset;
        uint64_t length;
};

/** A run of origin bytes the snapshot owns. */
struct cow_extent {
        uint64_t offset;
        uint64_t length;
};

/** The changes a store holds, sorted by origin offset; free with cow_changes_free(). */
struct cow_changes {
        uint32_t chunk_bytes;
        size_t n_extents;             /* merged when origin-contiguous */
        struct cow_extent *extents;
        size_t n_mappings;            /* merged when contiguous on both sides */
        struct cow_mapping *mappings;
};

/**
 * cow_file_size() - size in bytes of a COW store: a regular file's length, or a block
 * device's size (BLKGETSIZE64; fstat says 0 for those).
 * Returns 0 and the size in @ret_size, -EINVAL for other file types, or -errno.
 */
int cow_file_size(int fd, uint64_t *ret_size);

/**
 * cow_header_read() - read and check the header at offset 0 of @fd. A zero magic is a new
 * store (is_new; nothing else decoded, as the kernel does); an invalidated store is reported
 * in the valid field, not as an error.
 * Returns 0 and fills @ret_header; -EINVAL when the magic is neither 0 nor "SnAp", the
 * version is not 1, or the chunk size is not a power of two in [COW_CHUNK_SECTORS_MIN,
 * COW_CHUNK_SECTORS_MAX]; -EUCLEAN if the file ends inside the header; or -errno.
 */
int cow_header_read(int fd, struct cow_header *ret_header);

/** cow_area_chunk() - the chunk holding metadata area @area. Returns the chunk index. */
uint64_t cow_area_chunk(const struct cow_header *h, uint64_t area);

/** cow_chunk_is_metadata() - Returns whether @chunk is the header or a metadata area. */
bool cow_chunk_is_metadata(const struct cow_header *h, uint64_t chunk);

/**
 * cow_for_each_exception() - call @fn for each exception of the store in @fd, whose size is
 * @file_size bytes (see cow_file_size()), in on-disk order, as the kernel reads them: area
 * after area, up to the first entry with new_chunk 0. Reads in bounded slices; no call for
 * a new store. The valid flag is not looked at (the kernel skips an invalid store, but its
 * data chunks still hold what the VM wrote). Duplicates are not detected here.
 * Returns 0 at the end of the list; @fn's non-zero return when it stopped the walk; the
 * errors of cow_header_read(); -EUCLEAN when an area or a data chunk lies beyond
 * @file_size, a new_chunk points at the header or a metadata area, an old_chunk's byte
 * offset overflows, or the file is shorter than @file_size; -ENOMEM; or -errno.
 */
int cow_for_each_exception(int fd, uint64_t file_size, cow_exception_fn fn, void *userdata);

/**
 * cow_usage() - count what the store in @fd (@file_size bytes) uses, with the numbers the
 * kernel's status line would show once it has loaded the store. A new store reports only
 * the header (is_new) and total_sectors.
 * Returns 0 and fills @ret_usage, or an error of cow_for_each_exception().
 */
int cow_usage(int fd, uint64_t file_size, struct cow_usage *ret_usage);

/**
 * cow_changed_ranges() - the origin bytes the store in @fd (@file_size bytes) owns and where
 * their data sits in it: sorted by origin offset, extents merged when origin-contiguous,
 * mappings only when contiguous on both sides. @origin_size (bytes; 0: unknown) rejects
 * exceptions past the origin's end and clips its last partial chunk.
 * Returns 0 and a struct to free with cow_changes_free() in @ret_changes (empty for a new store);
 * -EUCLEAN if an origin chunk or a COW chunk appears twice or an origin chunk lies past
 * @origin_size; or an error of cow_for_each_exception().
 */
int cow_changed_ranges(int fd, uint64_t file_size, uint64_t origin_size,
                       struct cow_changes **ret_changes);

/** cow_changes_free() - free @c; NULL is a no-op. Returns NULL. */
struct cow_changes *cow_changes_free(struct cow_changes *c);
DEFINE_CLEANUP(struct cow_changes *, cow_changes_free)

/**
 * cow_store_size() - bytes a store needs to hold @data_bytes of changed data in chunks of
 * @chunk_sectors: the header, the data chunks (rounded up), their metadata areas, and the
 * next area, which the kernel zeroes as soon as the one before it fills up.
 * Returns the size, or 0 for a chunk size cow_header_read() would refuse or on overflow.
 */
uint64_t cow_store_size(uint64_t data_bytes, uint32_t chunk_sectors);

/**
 * cow_init_empty() - make @fd a fresh store for a snapshot table with @chunk_sectors: zero
 * chunk 0 and sync. The kernel sees magic 0 and writes the header and zeroes area 0 itself
 * on first load. The rest of the file is untouched: stale data from an earlier use stays
 * there until it is wiped.
 * Returns 0; -EINVAL for a chunk size cow_header_read() would refuse; -ENOSPC if @fd is
 * smaller than two chunks (header and area 0); or -errno.
 */
int cow_init_empty(int fd, uint32_t chunk_sectors);

#endif
