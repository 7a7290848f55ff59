// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The monitor addresses and the client key for the kernel's Ceph client, parsed out of the
 * values librados reads: "mon host" (legacy addresses or msgr2 address vectors) and a
 * keyring file (INI sections "[client.<id>]" with a "key = <base64>" line).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ceph/rbd_auth.h"

#define MON_V1_PORT "6789"
#define BASE64 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

/* Append "," (unless first) and @s (@n bytes) to @ret. */
static int append(char *ret, size_t len, size_t *pos, const char *s, size_t n)
{
        size_t need = (*pos ? 1 : 0) + n;

        if (*pos + need + 1 > len)
                return -ENAMETOOLONG;
        if (*pos)
                ret[(*pos)++] = ',';
        memcpy(ret + *pos, s, n);
        *pos += n;
        ret[*pos] = 0;
        return 0;
}

/* One address "a", "a:p", "[ipv6]", "[ipv6]:p", optionally "v1:"/"v2:"-prefixed, @n bytes:
 * appended when it is a msgr1 address. */
static int one_addr(const char *s, size_t n, char *ret, size_t len, size_t *pos)
{
        char buf[160];
        const char *colon;
        bool has_port;

        if (n >= 3 && (strncmp(s, "v1:", 3) == 0 || strncmp(s, "v2:", 3) == 0)) {
                if (s[1] == '2')
                        return 0;
                s += 3;
                n -= 3;
        }
        if (n == 0 || n + sizeof(MON_V1_PORT) + 1 > sizeof(buf))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr(".:-[]", s[i]))
                        return -EINVAL;
        if (s[0] == '[') {
                const char *close = memchr(s, ']', n);
                if (!close)
                        return -EINVAL;
                has_port = close + 1 < s + n;
                if (has_port && close[1] != ':')
                        return -EINVAL;
        } else {
                colon = memchr(s, ':', n);
                has_port = colon != NULL;
                if (has_port && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)))
                        return -EINVAL; /* a bare IPv6 address: ambiguous, Ceph wants [] */
        }
        snprintf(buf, sizeof(buf), "%.*s%s", (int)n, s, has_port ? "" : ":" MON_V1_PORT);
        return append(ret, len, pos, buf, strlen(buf));
}

int rbdauth_mon_v1(const char *mon_host, char *ret, size_t len)
{
        const char *p = mon_host, *end;
        size_t pos = 0;
        int r;

        if (len == 0)
                return -ENAMETOOLONG;
        ret[0] = 0;
        while (*p) {
                if (strchr(", ;\t", *p)) {
                        p++;
                        continue;
                }
                if (p[0] == '[' && (strncmp(p + 1, "v1:", 3) == 0 || strncmp(p + 1, "v2:", 3) == 0)) {
                        /* an address vector: its entries may hold "[ipv6]" themselves */
                        int depth = 0;
                        for (end = p; *end; end++) {
                                if (*end == '[')
                                        depth++;
                                else if (*end == ']' && --depth == 0)
                                        break;
                        }
                        if (!*end)
                                return -EINVAL;
                        for (const char *q = p + 1; q < end;) {
                                const char *e = q;
                                int d = 0;
                                while (e < end && (d > 0 || *e != ',')) {
                                        d += *e == '[' ? 1 : *e == ']' ? -1 : 0;
                                        e++;
                                }
                                if ((r = one_addr(q, (size_t)(e - q), ret, len, &pos)) < 0)
                                        return r;
                                q = e < end ? e + 1 : e;
                        }
                        p = end + 1;
                        continue;
                }
                end = p + strcspn(p, ", ;\t");
                if ((r = one_addr(p, (size_t)(end - p), ret, len, &pos)) < 0)
                        return r;
                p = end;
        }
        return pos ? 0 : -ENOENT;
}

bool rbdauth_key_valid(const char *key)
{
        return key[0] && !key[strspn(key, BASE64)];
}

/* @s without leading and trailing blanks, @n bytes: start in *@ret_start, length returned */
static size_t trim(const char *s, size_t n, const char **ret_start)
{
        while (n && isspace((unsigned char)*s))
                s++, n--;
        while (n && isspace((unsigned char)s[n - 1]))
                n--;
        *ret_start = s;
        return n;
}

int rbdauth_keyring_key(const char *text, const char *entity, char *ret, size_t len)
{
        const char *line = text, *nl, *s;
        bool in_section = false;
        size_t n;

        for (; *line; line = *nl ? nl + 1 : nl) {
                nl = line + strcspn(line, "\n");
                n = trim(line, (size_t)(nl - line), &s);
                if (n == 0 || s[0] == '#' || s[0] == ';')
                        continue;
                if (s[0] == '[') {
                        in_section = n == strlen(entity) + 2 && s[n - 1] == ']' &&
                                     strncmp(s + 1, entity, n - 2) == 0;
                        continue;
                }
                if (!in_section || n < 3 || strncmp(s, "key", 3) != 0)
                        continue;
                const char *v = s + 3, *vend = s + n;
                while (v < vend && (*v == ' ' || *v == '\t'))
                        v++;
                if (v == vend || *v != '=')
                        continue; /* "keyring", "key_xyz": another setting */
                n = trim(v + 1, (size_t)(vend - v - 1), &v);
                if (n == 0 || strspn(v, BASE64) < n)
                        return -EINVAL;
                if (n + 1 > len)
                        return -ENAMETOOLONG;
                memcpy(ret, v, n);
                ret[n] = 0;
                return 0;
        }
        return -ENOENT;
}
