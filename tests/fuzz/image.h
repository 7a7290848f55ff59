/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the libFuzzer targets share: the libFuzzer entry point, and the compact "sparse
 * file" form in which the file targets (COW store, thin metadata) take their image, so that
 * a few hundred input bytes can describe a store of megabytes that is mostly holes.
 */
#ifndef DVM_FUZZ_IMAGE_H
#define DVM_FUZZ_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The form: le32 file size in 512-byte sectors, then records { le32 byte offset; le16
 * length; length bytes }, applied in order (a record cut short by the end of the input
 * keeps what is there). Bytes past the file size are dropped; the rest is zero (holes).
 */
#define FUZZ_IMAGE_BLOCK 4096u
#define FUZZ_IMAGE_MAX_BLOCKS 256u  /* distinct 4 KiB blocks an input can write; more: ignored */

/** libFuzzer's entry point, defined once per target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Called on each written 4 KiB block before it reaches the file (e.g. to fix checksums). */
typedef void fuzz_block_fn(uint8_t *block, uint64_t blocknr);

/**
 * fuzz_image_open() - a memfd holding the image that @data describes; @fixup (may be NULL)
 * sees each written block first.
 * Returns the descriptor and its size in @ret_size, or -1 (the input is too short or the
 * host refused a memfd: an input not worth running).
 */
int fuzz_image_open(const uint8_t *data, size_t size, fuzz_block_fn *fixup, uint64_t *ret_size);

/**
 * fuzz_image_encode() - write the image of the @size bytes of @fd to @out in that form: one
 * record per run of non-zero bytes (short zero gaps kept inside a run).
 * Returns 0, or -errno.
 */
int fuzz_image_encode(int fd, uint64_t size, FILE *out);

#endif
