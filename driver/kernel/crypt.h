/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The crypt target: table parameters of a dm-crypt device with a raw key (the ephemeral-key
 * layers). Text only; the key never leaves the caller's buffer except into @buf.
 */
#ifndef DVM_CRYPT_H
#define DVM_CRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The cipher of every ephemeral layer; XTS takes a double-length key. */
#define CRYPT_CIPHER "aes-xts-plain64"
/** Bytes of key for CRYPT_CIPHER: two AES-256 keys. */
#define CRYPT_KEY_BYTES 64u
/** Longest parameter text crypt_table_params() writes, with its NUL. */
#define CRYPT_PARAMS_MAX (sizeof(CRYPT_CIPHER) + 2 * CRYPT_KEY_BYTES + 80)

struct crypt_table {
        const uint8_t *key;       /* CRYPT_KEY_BYTES bytes */
        size_t key_len;
        uint32_t major, minor;    /* the device below */
        uint64_t offset;          /* sectors into it where the data starts */
        bool allow_discards;      /* pass discards down (the layer below frees the space) */
};

/**
 * crypt_table_params() - "aes-xts-plain64 <key hex> 0 <maj:min> <offset> [1 allow_discards]"
 * into @buf (dm-crypt.rst). The caller wipes @buf after use: it holds the key.
 * Returns the length written, -EINVAL for a key that is not CRYPT_KEY_BYTES long, or
 * -ENOBUFS (then @buf holds no part of the key).
 */
int crypt_table_params(const struct crypt_table *t, char *buf, size_t len);

#endif
