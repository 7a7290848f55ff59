/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Canary helpers for the amnesia proofs of the vm tier: a random token written over and over
 * into devices, and a raw scan of a disk that counts the copies left; and the scratch disk
 * (a virtio disk that ignores discards) that holds a test pool's files on a file system.
 */
#ifndef DVM_TEST_CANARY_H
#define DVM_TEST_CANARY_H

#include <stdbool.h>
#include <stdint.h>

#include "vmtest.h"

#define CANARY_TOKEN 32u

struct canary {
        uint8_t token[CANARY_TOKEN]; /* random: leftovers of earlier tests never match */
};

/** canary_new() - a fresh random token. */
void canary_new(struct canary *c);

/** canary_write() - fill @len bytes of @dev at @off with the token, repeated (O_DIRECT, fsync). */
void canary_write(const char *dev, uint64_t off, uint64_t len, const struct canary *c);

/** canary_reads_back() - whether @len bytes of @dev at @off are the token, repeated. */
bool canary_reads_back(const char *dev, uint64_t off, uint64_t len, const struct canary *c);

/**
 * canary_scan() - sync, then read all of raw device @dev (O_DIRECT) and count the copies of
 * the token at every 32-byte boundary (every layer maps at least 512-byte sectors, so no
 * copy can sit elsewhere). Prints the count on stderr as "canary scan: @what: N copies",
 * the run's evidence. Returns the count.
 */
uint64_t canary_scan(const char *dev, const struct canary *c, const char *what);

/**
 * canary_discard() - what a guest's blkdiscard does: BLKDISCARD over all of @dev.
 * Returns 0, or -errno (-EOPNOTSUPP: the device takes no discards).
 */
int canary_discard(const char *dev);

/** canary_discard_max() - the discard_max_bytes of block device @dev (0: it takes no discards). */
uint64_t canary_discard_max(const char *dev);

/**
 * scratch_disk() - the scratch disk: $DVM_SCRATCH_DISK, or the virtio disk with serial
 * "dvm-scratch" that tests/vm/run-in-vm.sh attaches (discard=ignore). NULL if there is none.
 */
const char *scratch_disk(void);

/**
 * scratch_init() - like vt_init(), with the state directory on a fresh ext4 file system on
 * the scratch disk, and the pool initialised with the words after @backend (NULL-terminated).
 * Skips loudly when there is no scratch disk or @backend is not built in.
 */
void scratch_init(struct vt *vt, const char *backend, ...) __attribute__((sentinel));

/**
 * canary_fixture() - what the canary suites start from: a scratch pool of @backend (thin:
 * 512 MiB of data), a fresh canary in @c, and vt_make_templates() with a 48M root and a
 * 24M private.
 */
void canary_fixture(struct vt *vt, struct canary *c, const char *backend);

/** scratch_cleanup() - vt_cleanup() and unmount the scratch file system. */
void scratch_cleanup(struct vt *vt);

#endif
