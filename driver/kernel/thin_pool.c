// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * thin-pool table parameters and status parsing
 * (kernel Documentation/admin-guide/device-mapper/thin-provisioning.rst).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kernel/thin_pool.h"
#include "util/macro.h"
#include "util/text.h"

int thin_pool_block_check(uint64_t sectors)
{
        if (sectors < THIN_POOL_BLOCK_MIN || sectors > THIN_POOL_BLOCK_MAX || sectors % 128)
                return -EINVAL;
        return 0;
}

int thin_pool_table_params(const struct thin_pool_table *t, char *buf, size_t len)
{
        int n;

        if (thin_pool_block_check(t->block_sectors) < 0)
                return -EINVAL;
        /* skip_block_zeroing only where the caller proved that every free block reads zero
         * (backend/thin_zero.h): else a freshly provisioned block would show a VM what
         * another VM left in it. */
        n = snprintf(buf, len, "%u:%u %u:%u %" PRIu64 " %" PRIu64, t->meta_major, t->meta_minor, t->data_major,
                     t->data_minor, t->block_sectors, t->low_water_blocks);
        if (n >= 0 && (size_t)n < len && (t->error_if_no_space || t->ignore_discard || t->skip_block_zeroing))
                n += snprintf(buf + n, len - (size_t)n, " %d%s%s%s",
                              t->error_if_no_space + t->ignore_discard + t->skip_block_zeroing,
                              t->error_if_no_space ? " error_if_no_space" : "",
                              t->ignore_discard ? " ignore_discard" : "",
                              t->skip_block_zeroing ? " skip_block_zeroing" : "");
        if (n < 0 || (size_t)n >= len)
                return -ENOBUFS;
        return n;
}

/* A number ending at one of @stops or at the end of the string. */
static int parse_u64(const char *s, const char *stops, const char **ret_end, uint64_t *ret)
{
        const char *p;
        uint64_t n;

        if (text_parse_u64(s, &p, &n) < 0 || (*p && !strchr(stops, *p)))
                return -EINVAL;
        *ret_end = p;
        *ret = n;
        return 0;
}

static int parse_number(const char *s, uint64_t *ret)
{
        const char *end;
        return parse_u64(s, "", &end, ret);
}

static int parse_ratio(const char *s, uint64_t *a, uint64_t *b)
{
        const char *end;
        uint64_t x, y;

        if (parse_u64(s, "/", &end, &x) < 0 || *end != '/' || parse_number(end + 1, &y) < 0)
                return -EINVAL;
        *a = x;
        *b = y;
        return 0;
}

int thin_pool_status_parse(const char *params, struct thin_pool_status *ret_status)
{
        struct thin_pool_status st = { .held_root = -1 };
        char buf[512], *save = NULL, *tok[16];
        unsigned n = 0;

        if (!params || strlen(params) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, params);
        for (char *t = strtok_r(buf, " ", &save); t && n < sizeof(tok) / sizeof(tok[0]); t = strtok_r(NULL, " ", &save))
                tok[n++] = t;
        if (n == 1 && strcmp(tok[0], "Fail") == 0) {
                st.failed = true;
                *ret_status = st;
                return 0;
        }
        /* <txn> <used>/<total meta> <used>/<total data> <held root|-> ro|rw|out_of_data_space ... */
        if (n < 5 || parse_number(tok[0], &st.transaction_id) < 0)
                return -EINVAL;
        if (parse_ratio(tok[1], &st.meta_used, &st.meta_total) < 0 ||
            parse_ratio(tok[2], &st.data_used, &st.data_total) < 0)
                return -EINVAL;
        if (strcmp(tok[3], "-") != 0) {
                uint64_t root;
                if (parse_number(tok[3], &root) < 0 || root > INT64_MAX)
                        return -EINVAL;
                st.held_root = (int64_t)root;
        }
        if (strcmp(tok[4], "ro") == 0)
                st.read_only = true;
        else if (strcmp(tok[4], "out_of_data_space") == 0)
                st.out_of_data_space = true;
        else if (strcmp(tok[4], "rw") != 0)
                return -EINVAL;
        for (unsigned i = 5; i < n; i++)
                if (strcmp(tok[i], "needs_check") == 0)
                        st.needs_check = true;
        *ret_status = st;
        return 0;
}

static int parse_devnum(const char *s, uint32_t *ret_major, uint32_t *ret_minor)
{
        const char *end;
        uint64_t major, minor;

        if (parse_u64(s, ":", &end, &major) < 0 || *end != ':' || parse_number(end + 1, &minor) < 0 ||
            major > UINT32_MAX || minor > UINT32_MAX)
                return -EINVAL;
        *ret_major = (uint32_t)major;
        *ret_minor = (uint32_t)minor;
        return 0;
}

int thin_pool_table_parse(const char *params, struct thin_pool_table *ret_table)
{
        struct thin_pool_table t = {};
        char buf[512], *save = NULL, *tok[16];
        unsigned n = 0;
        uint64_t features;

        if (!params || strlen(params) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, params);
        for (char *w = strtok_r(buf, " ", &save); w && n < ARRAY_SIZE(tok); w = strtok_r(NULL, " ", &save))
                tok[n++] = w;
        if (n < 4 || parse_devnum(tok[0], &t.meta_major, &t.meta_minor) < 0 ||
            parse_devnum(tok[1], &t.data_major, &t.data_minor) < 0 || parse_number(tok[2], &t.block_sectors) < 0 ||
            parse_number(tok[3], &t.low_water_blocks) < 0)
                return -EINVAL;
        if (n > 4 && (parse_number(tok[4], &features) < 0 || features != n - 5))
                return -EINVAL;
        for (unsigned i = 5; i < n; i++)
                if (strcmp(tok[i], "error_if_no_space") == 0)
                        t.error_if_no_space = true;
                else if (strcmp(tok[i], "ignore_discard") == 0)
                        t.ignore_discard = true;
                else if (strcmp(tok[i], "skip_block_zeroing") == 0)
                        t.skip_block_zeroing = true;
        *ret_table = t;
        return 0;
}

uint64_t thin_pool_metadata_size(uint64_t data_bytes, uint64_t block_bytes)
{
        /* The kernel's guide is 48 bytes per data block, at least 2 MiB; snapshots share
         * btree nodes only until they diverge, so give it room: 64 bytes a block, at least
         * 8 MiB, at most the 16 GiB the format can address. */
        uint64_t blocks = block_bytes ? data_bytes / block_bytes : 0;
        uint64_t size = blocks * 64;

        if (size < (8ULL << 20))
                size = 8ULL << 20;
        if (size > (16ULL << 30))
                size = 16ULL << 30;
        return (size + (1 << 20) - 1) & ~((uint64_t)(1 << 20) - 1);
}

int thin_pool_msg_set_transaction_id(uint64_t old_id, uint64_t new_id, char *buf, size_t len)
{
        int n = snprintf(buf, len, "set_transaction_id %" PRIu64 " %" PRIu64, old_id, new_id);
        return n < 0 || (size_t)n >= len ? -ENOBUFS : n;
}
