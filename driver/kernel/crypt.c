// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The crypt target's table parameters (Documentation/admin-guide/device-mapper/dm-crypt.rst:
 * "<cipher> <key> <iv_offset> <device> <offset> [<#opt_params> <opt_params>]"). dm-crypt has
 * no status line of its own to parse.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kernel/crypt.h"

int crypt_table_params(const struct crypt_table *t, char *buf, size_t len)
{
        static const char hex[] = "0123456789abcdef";
        size_t head = sizeof(CRYPT_CIPHER), pos;
        int n;

        if (!t->key || t->key_len != CRYPT_KEY_BYTES)
                return -EINVAL;
        if (!buf || len < head + 2 * t->key_len + 1)
                return -ENOBUFS;
        memcpy(buf, CRYPT_CIPHER " ", head);
        pos = head;
        for (size_t i = 0; i < t->key_len; i++) {
                buf[pos++] = hex[t->key[i] >> 4];
                buf[pos++] = hex[t->key[i] & 15];
        }
        n = snprintf(buf + pos, len - pos, " 0 %u:%u %" PRIu64 "%s", t->major, t->minor, t->offset,
                     t->allow_discards ? " 1 allow_discards" : "");
        if (n < 0 || (size_t)n >= len - pos) {
                explicit_bzero(buf, len);
                return -ENOBUFS;
        }
        return (int)(pos + (size_t)n);
}
