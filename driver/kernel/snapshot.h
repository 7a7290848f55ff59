/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The snapshot target (a persistent dm-snapshot of a read-only origin): its table parameters
 * and its status line, including the states the kernel reports instead of numbers.
 */
#ifndef DVM_SNAPSHOT_H
#define DVM_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

struct snapshot_table {
        uint32_t origin_major, origin_minor;
        uint32_t cow_major, cow_minor;
        uint32_t chunk_sectors; /* a power of two, at least 8 (4 KiB) */
};

enum snapshot_state {
        SNAPSHOT_VALID = 0,     /* the numbers are set */
        SNAPSHOT_INVALID,       /* "Invalid": COW full (P store) or an I/O error; all I/O fails */
        SNAPSHOT_OVERFLOW,      /* "Overflow": COW full with a PO store; reads still work */
        SNAPSHOT_MERGE_FAILED,  /* "Merge failed" (snapshot-merge only) */
        SNAPSHOT_UNKNOWN,       /* "Unknown": a store that reports no usage */
};

struct snapshot_status {
        enum snapshot_state state;
        uint64_t sectors_allocated; /* header, metadata areas and data chunks handed out */
        uint64_t total_sectors;     /* size of the COW device */
        uint64_t metadata_sectors;  /* header and metadata areas */
};

/**
 * snapshot_table_params() - "<origin maj:min> <cow maj:min> P <chunk sectors>" into @buf:
 * a persistent store without overflow support, so a full COW invalidates the snapshot (the
 * VM sees I/O errors) instead of leaving it half readable.
 * Returns the length written, -EINVAL for a chunk size that is not a power of two of at
 * least 8 sectors, or -ENOBUFS.
 */
int snapshot_table_params(const struct snapshot_table *t, char *buf, size_t len);

/**
 * snapshot_status_parse() - parse the snapshot target's status line: "<allocated>/<total>
 * <metadata>" (sectors), or one of "Invalid", "Overflow", "Merge failed", "Unknown".
 * Returns 0 and fills @ret_status, or -EINVAL for anything else (@ret_status untouched).
 */
int snapshot_status_parse(const char *params, struct snapshot_status *ret_status);

/** snapshot_state_name() - "valid", "invalid", "overflow", "merge failed" or "unknown". */
const char *snapshot_state_name(enum snapshot_state state);

#endif
