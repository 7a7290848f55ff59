// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The snapshot target's table parameters and status line (drivers/md/dm-snap.c,
 * snapshot_status(); checked on Debian's 6.1 kernel, target version 1.16.0).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kernel/snapshot.h"
#include "util/macro.h"
#include "util/text.h"

static bool chunk_ok(uint32_t s)
{
        return s >= 8 && (s & (s - 1)) == 0;
}

int snapshot_table_params(const struct snapshot_table *t, char *buf, size_t len)
{
        int n;

        if (!chunk_ok(t->chunk_sectors))
                return -EINVAL;
        n = snprintf(buf, len, "%u:%u %u:%u P %u", t->origin_major, t->origin_minor, t->cow_major,
                     t->cow_minor, t->chunk_sectors);
        if (n < 0 || (size_t)n >= len)
                return -ENOBUFS;
        return n;
}

static const char *const state_words[] = {
        [SNAPSHOT_INVALID] = "Invalid",
        [SNAPSHOT_OVERFLOW] = "Overflow",
        [SNAPSHOT_MERGE_FAILED] = "Merge failed",
        [SNAPSHOT_UNKNOWN] = "Unknown",
};

int snapshot_status_parse(const char *params, struct snapshot_status *ret_status)
{
        struct snapshot_status st = {};
        const char *p;

        if (!params)
                return -EINVAL;
        for (size_t i = 0; i < ARRAY_SIZE(state_words); i++)
                if (state_words[i] && strcmp(params, state_words[i]) == 0) {
                        *ret_status = (struct snapshot_status){ .state = (enum snapshot_state)i };
                        return 0;
                }
        if (text_parse_u64(params, &p, &st.sectors_allocated) < 0 || *p != '/' ||
            text_parse_u64(p + 1, &p, &st.total_sectors) < 0 || *p != ' ' ||
            text_parse_u64(p + 1, &p, &st.metadata_sectors) < 0 || *p)
                return -EINVAL;
        /* what the kernel can report: metadata is part of the allocation, which fits the device */
        if (st.metadata_sectors > st.sectors_allocated || st.sectors_allocated > st.total_sectors)
                return -EINVAL;
        *ret_status = st;
        return 0;
}

const char *snapshot_state_name(enum snapshot_state state)
{
        static const char *const names[] = {
                [SNAPSHOT_VALID] = "valid",
                [SNAPSHOT_INVALID] = "invalid",
                [SNAPSHOT_OVERFLOW] = "overflow",
                [SNAPSHOT_MERGE_FAILED] = "merge failed",
                [SNAPSHOT_UNKNOWN] = "unknown",
        };
        return (size_t)state < ARRAY_SIZE(names) ? names[state] : "unknown";
}
