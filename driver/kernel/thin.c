// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The thin target's table parameters and status line, and the thin-pool messages about
 * single thin ids.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/thin.h"
#include "util/text.h"

static int fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));
static int fmt(char *buf, size_t len, const char *f, ...)
{
        va_list ap;
        int n;

        va_start(ap, f);
        n = vsnprintf(buf, len, f, ap);
        va_end(ap);
        return n < 0 || (size_t)n >= len ? -ENOBUFS : n;
}

int thin_table_params(uint32_t pool_major, uint32_t pool_minor, uint32_t id, char *buf, size_t len)
{
        if (id > THIN_ID_MAX)
                return -EINVAL;
        return fmt(buf, len, "%u:%u %u", pool_major, pool_minor, id);
}

int thin_table_params_origin(uint32_t pool_major, uint32_t pool_minor, uint32_t id, uint32_t origin_major,
                             uint32_t origin_minor, char *buf, size_t len)
{
        if (id > THIN_ID_MAX)
                return -EINVAL;
        return fmt(buf, len, "%u:%u %u %u:%u", pool_major, pool_minor, id, origin_major, origin_minor);
}

/* A number ending at @stop or at the end of the string. */
static int parse_u64(const char *s, char stop, const char **ret_end, uint64_t *ret)
{
        const char *p;
        uint64_t n;

        if (text_parse_u64(s, &p, &n) < 0 || (*p != stop && *p))
                return -EINVAL;
        *ret_end = p;
        *ret = n;
        return 0;
}

int thin_status_parse(const char *params, struct thin_status *ret_status)
{
        uint64_t mapped, highest;
        const char *p;

        if (!params)
                return -EINVAL;
        if (strcmp(params, "Fail") == 0) {
                *ret_status = (struct thin_status){ .failed = true, .highest_mapped = -1 };
                return 0;
        }
        /* "<mapped sectors> <highest mapped sector>", or "<mapped sectors> -" */
        if (parse_u64(params, ' ', &p, &mapped) < 0 || *p != ' ')
                return -EINVAL;
        p++;
        if (strcmp(p, "-") == 0) {
                *ret_status = (struct thin_status){ .mapped_sectors = mapped, .highest_mapped = -1 };
                return 0;
        }
        if (parse_u64(p, '\0', &p, &highest) < 0 || highest > INT64_MAX)
                return -EINVAL;
        *ret_status = (struct thin_status){ .mapped_sectors = mapped, .highest_mapped = (int64_t)highest };
        return 0;
}

int thin_msg_create(uint32_t id, char *buf, size_t len)
{
        return id > THIN_ID_MAX ? -EINVAL : fmt(buf, len, "create_thin %u", id);
}

int thin_msg_snap(uint32_t id, uint32_t origin, char *buf, size_t len)
{
        if (id > THIN_ID_MAX || origin > THIN_ID_MAX)
                return -EINVAL;
        return fmt(buf, len, "create_snap %u %u", id, origin);
}

int thin_msg_delete(uint32_t id, char *buf, size_t len)
{
        return id > THIN_ID_MAX ? -EINVAL : fmt(buf, len, "delete %u", id);
}
