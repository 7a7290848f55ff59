// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Ephemeral-key dm-crypt devices: a fresh key from getrandom(), handed to the kernel in a
 * secure dm task and wiped from this process at once. Nothing else ever holds the key.
 */
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "kernel/crypt.h"
#include "kernel/dm.h"
#include "kernel/ephemeral.h"
#include "kernel/target.h"

/* The key and the table text that spells it, together, so that one mlock covers both. */
struct secret {
        uint8_t key[CRYPT_KEY_BYTES];
        char params[CRYPT_PARAMS_MAX];
};

static int fill_random(uint8_t *buf, size_t len)
{
        for (size_t done = 0; done < len;) {
                ssize_t n = getrandom(buf + done, len - done, 0);
                if (n < 0 && errno != EINTR)
                        return -errno;
                if (n > 0)
                        done += (size_t)n;
        }
        return 0;
}

int ephemeral_create(dvm_ctx *ctx, const char *name, const char *uuid, uint64_t sectors, uint32_t major,
                     uint32_t minor)
{
        struct secret s;
        /* no allow_discards: a block the VM discards stays mapped below, and the wipe covers it */
        struct crypt_table t = { .key = s.key, .key_len = sizeof(s.key), .major = major, .minor = minor };
        struct dm_table_line line = { 0, sectors, "crypt", s.params };
        bool locked;
        int r = target_require(ctx, "crypt");

        if (r < 0)
                return r;
        /* Locked so that no page of the key can be written to swap; best effort, since the
         * key is wiped within microseconds either way. */
        locked = mlock(&s, sizeof(s)) == 0;
        r = fill_random(s.key, sizeof(s.key));
        if (r < 0) {
                r = ctx_error(ctx, r, "%s: cannot get a random key: %m", name);
                goto out;
        }
        r = crypt_table_params(&t, s.params, sizeof(s.params));
        if (r < 0) {
                r = ctx_error(ctx, r, "%s: cannot build the crypt table: %m", name);
                goto out;
        }
        r = dm_create_secret(ctx, name, uuid, &line, 1);
out:
        explicit_bzero(&s, sizeof(s));
        if (locked)
                munlock(&s, sizeof(s));
        return r;
}
