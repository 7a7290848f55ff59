// SPDX-License-Identifier: GPL-2.0-or-later
/* Strict parsing of decimal numbers, shared by the status-line parsers and size parsing;
 * the reading of one-line kernel attribute files. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/macro.h"
#include "util/text.h"

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

int text_read_line(const char *path, char *buf, size_t len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, len - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}
