// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Values users type: sizes with K/M/G/T suffixes, VM and pool names. Pure functions; the
 * rules here decide what may reach a dm device name or the catalog.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dvm.h"
#include "util/text.h"

int dvm_parse_size(const char *s, uint64_t *ret_bytes)
{
        uint64_t n = 0;
        unsigned shift = 0;
        const char *p = s;
        int r = text_parse_u64(s, &p, &n);

        if (r < 0)
                return r;
        switch (*p) {
        case '\0': break;
        case 'K': case 'k': shift = 10; p++; break;
        case 'M': case 'm': shift = 20; p++; break;
        case 'G': case 'g': shift = 30; p++; break;
        case 'T': case 't': shift = 40; p++; break;
        default: return -EINVAL;
        }
        /* "1G", "1GiB" and "1GB" all mean 2^30: sizes here are always powers of 1024. */
        if (shift && (strcmp(p, "iB") == 0 || strcmp(p, "B") == 0))
                p += strlen(p);
        if (*p)
                return -EINVAL;
        if (shift && n > (UINT64_MAX >> shift))
                return -ERANGE;
        n <<= shift;
        /* dm tables count 512-byte sectors in 64 bits; keep byte counts representable too */
        if (n > (UINT64_MAX >> 1))
                return -ERANGE;
        if (n == 0 || n % 512)
                return -EINVAL;
        *ret_bytes = n;
        return 0;
}

char *dvm_format_size(uint64_t bytes, char *buf, size_t len)
{
        static const char units[] = "BKMGTPE";
        unsigned u = 0;
        double v = (double)bytes;

        /* Step up also when "%.1f" would round v up to "1024.0" (1G - 512 is "1.0G"). */
        while ((v >= 1024 || (u > 0 && v >= 1023.95)) && u < sizeof(units) - 2) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, len, "%lluB", (unsigned long long)bytes);
        else if (bytes % (1ULL << (10 * u)) == 0)
                snprintf(buf, len, "%llu%c", (unsigned long long)(bytes >> (10 * u)), units[u]);
        else
                snprintf(buf, len, "%.1f%c", v, units[u]);
        return buf;
}

static int set_why(const char **ret_why, const char *why)
{
        if (ret_why)
                *ret_why = why;
        return -EINVAL;
}

static int check_chars(const char *name, size_t max, bool allow_punct, const char **ret_why)
{
        size_t len;

        if (!name || !*name)
                return set_why(ret_why, "the name is empty");
        len = strnlen(name, max + 1);
        if (len > max)
                return set_why(ret_why, allow_punct ? "the name is longer than 64 bytes"
                                                    : "the name is longer than 32 bytes");
        for (const char *p = name; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (c < 0x20 || c == 0x7f)
                        return set_why(ret_why, "the name contains a control character");
                if (c == '/')
                        return set_why(ret_why, "the name contains '/'");
                if (isalnum(c) && c < 0x80)
                        continue;
                if (c == '_' || (allow_punct && (c == '-' || c == '.')))
                        continue;
                return set_why(ret_why, allow_punct
                                ? "the name may only hold letters, digits, '_', '.' and '-'"
                                : "a pool name may only hold letters, digits and '_'");
        }
        if (!isalpha((unsigned char)name[0]) || (unsigned char)name[0] >= 0x80)
                return set_why(ret_why, "the name must start with a letter");
        return 0;
}

int dvm_name_check(const char *name, const char **ret_why)
{
        return check_chars(name, DVM_NAME_MAX, true, ret_why);
}

int dvm_pool_name_check(const char *name, const char **ret_why)
{
        return check_chars(name, DVM_POOL_NAME_MAX, false, ret_why);
}

const char *dvm_vm_kind_name(enum dvm_vm_kind kind)
{
        switch (kind) {
        case DVM_VM_TEMPLATE: return "template";
        case DVM_VM_DVM_TEMPLATE: return "dvm-template";
        case DVM_VM_DISPOSABLE: return "disposable";
        case DVM_VM_QUBE: return "qube";
        }
        return "unknown";
}

const char *dvm_backend_name(enum dvm_backend backend)
{
        return backend == DVM_BACKEND_SNAP ? "snap" : backend == DVM_BACKEND_RBD ? "rbd" : "thin";
}
