// SPDX-License-Identifier: GPL-2.0-or-later
/* Strict parsing of decimal numbers, shared by the status-line parsers and size parsing. */
#include <ctype.h>
#include <errno.h>

#include "text.h"

int text_parse_u64(const char *s, const char **ret_end, uint64_t *ret)
{
        uint64_t n = 0;
        const char *p = s;

        if (!s || !isdigit((unsigned char)*p))
                return -EINVAL;
        for (; isdigit((unsigned char)*p); p++) {
                unsigned d = (unsigned)(*p - '0');
                if (n > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                n = n * 10 + d;
        }
        *ret_end = p;
        *ret = n;
        return 0;
}
