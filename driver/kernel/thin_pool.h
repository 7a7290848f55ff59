/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The thin-pool target: its table parameters and its status line. Pure text work; the
 * ioctls are dm.c's.
 */
#ifndef DVM_THIN_POOL_H
#define DVM_THIN_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Smallest and largest thin-pool block, in sectors (64 KiB .. 1 GiB, multiples of 64 KiB). */
#define THIN_POOL_BLOCK_MIN 128u
#define THIN_POOL_BLOCK_MAX 2097152u

struct thin_pool_table {
        uint32_t meta_major, meta_minor;
        uint32_t data_major, data_minor;
        uint64_t block_sectors;
        uint64_t low_water_blocks;
        bool error_if_no_space;  /* fail writes at once when the data device is full */
        bool ignore_discard;     /* no discards: a block a VM discards stays its own until the wipe */
        bool skip_block_zeroing; /* new blocks are not zeroed: only when every free block reads zero */
};

struct thin_pool_status {
        uint64_t transaction_id;
        uint64_t meta_used, meta_total; /* metadata blocks (4 KiB) */
        uint64_t data_used, data_total; /* data blocks */
        int64_t held_root;              /* metadata snapshot root, -1 if none */
        bool read_only;
        bool out_of_data_space;
        bool needs_check;
        bool failed;                    /* status "Fail" */
};

/**
 * thin_pool_table_params() - the parameters of a thin-pool table line into @buf. The
 * features are error_if_no_space, ignore_discard and skip_block_zeroing, as @t asks (block
 * zeroing stays on unless the caller proved every free block reads zero: volumes go to
 * untrusted VMs).
 * Returns the length written, or -EINVAL (bad block size) / -ENOBUFS.
 */
int thin_pool_table_params(const struct thin_pool_table *t, char *buf, size_t len);

/**
 * thin_pool_table_parse() - the devices, block size and low water mark of a thin-pool table
 * line as the kernel shows it ("<meta maj:min> <data maj:min> <block> <low water> [<n>
 * <features>...]"); error_if_no_space, ignore_discard and skip_block_zeroing are set when
 * they are among the features.
 * Returns 0 and fills @ret_table, or -EINVAL (@ret_table untouched).
 */
int thin_pool_table_parse(const char *params, struct thin_pool_table *ret_table);

/** thin_pool_block_check() - Returns 0 if @sectors is a valid pool block size, else -EINVAL. */
int thin_pool_block_check(uint64_t sectors);

/**
 * thin_pool_status_parse() - parse a thin-pool status line.
 * Returns 0, or -EINVAL if @params is not one.
 */
int thin_pool_status_parse(const char *params, struct thin_pool_status *ret_status);

/** thin_pool_metadata_size() - metadata bytes to give a pool of @data_bytes in blocks of @block_bytes. */
uint64_t thin_pool_metadata_size(uint64_t data_bytes, uint64_t block_bytes);

/**
 * thin_pool_msg_set_transaction_id() - the pool message that moves the pool's transaction id
 * from @old_id (the kernel refuses it if that is not the current one) to @new_id.
 * Returns the length, or -ENOBUFS.
 */
int thin_pool_msg_set_transaction_id(uint64_t old_id, uint64_t new_id, char *buf, size_t len);

#endif
