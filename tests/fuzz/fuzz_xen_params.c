// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target of the hook's parameter parser (driver/xen/xen_params.c): the target, the
 * backend path and the mode come from xenstore and the environment libxl sets. Input: up
 * to four NUL-separated fields (target, backend path, mode, vdev base) and a count byte at
 * the end; each is copied into a buffer of its exact length, so a read past it is seen.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "xen/xen_params.h"

#define CHECK(cond)                                                                      \
        do {                                                                             \
                if (!(cond)) {                                                           \
                        fprintf(stderr, "fuzz_xen_params: %s:%d: %s\n", __FILE__, __LINE__, \
                                #cond);                                                  \
                        abort();                                                         \
                }                                                                        \
        } while (0)

static void target(const char *s)
{
        struct xen_target t, back;
        const char *why = NULL;
        char text[256], line[512], small[8];
        int r = xen_target_parse(s, &t, &why);

        if (r < 0) {
                CHECK(r == -EINVAL && why != NULL);
                return;
        }
        CHECK(t.kind == XEN_TARGET_VOLUME || t.kind == XEN_TARGET_SPAWN);
        /* what it accepted it formats back to the same text, and that parses the same */
        xen_target_format(&t, text, sizeof(text));
        CHECK(strcmp(text, s) == 0);
        CHECK(xen_target_parse(text, &back, NULL) == 0 && back.kind == t.kind &&
              strcmp(back.pool, t.pool) == 0 && strcmp(back.vm, t.vm) == 0 &&
              strcmp(back.volume, t.volume) == 0);
        CHECK(xen_target_format(&t, small, sizeof(small))[0] == 0);
        r = xen_xl_disk_line(&t, "xvdb", true, line, sizeof(line));
        CHECK(r > 0 && (size_t)r == strlen(line) && strstr(line, text) != NULL);
        CHECK(xen_xl_disk_line(&t, "xvdb", false, line, (size_t)r) == -ENOSPC);
}

static void backend(const char *s)
{
        struct xen_backend b;
        char text[64];

        if (xen_backend_parse(s, &b) < 0)
                return;
        CHECK(b.domid > 0 && b.domid <= XEN_DOMID_MAX && b.devid <= INT32_MAX);
        snprintf(text, sizeof(text), "backend/vbd/%u/%u", b.domid, b.devid);
        CHECK(strcmp(text, s) == 0);
}

static void mode(const char *s)
{
        bool rw;

        if (xen_mode_parse(s, &rw) < 0)
                return;
        CHECK(strcmp(s, rw ? "w" : "r") == 0);
}

static void vdev(const char *base, unsigned n)
{
        char buf[8];
        size_t len = strlen(base);
        int r = xen_vdev_nth(base, n, buf, sizeof(buf));

        if (r < 0) {
                CHECK(r == -EINVAL || r == -ERANGE);
                return;
        }
        CHECK(strlen(buf) == len && memcmp(buf, base, len - 1) == 0);
        CHECK(buf[len - 1] >= 'a' && buf[len - 1] <= 'z' &&
              (unsigned)(buf[len - 1] - base[len - 1]) == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *field[4] = { NULL };
        unsigned count = 0;
        size_t pos = 0;

        if (size > 0) {
                count = data[size - 1];
                size--;
        }
        for (int i = 0; i < 4; i++) {
                const uint8_t *end = memchr(data + pos, 0, size - pos);
                size_t len = end ? (size_t)(end - (data + pos)) : size - pos;

                field[i] = malloc(len + 1);
                if (!field[i])
                        abort();
                memcpy(field[i], data + pos, len);
                field[i][len] = 0;
                pos += end ? len + 1 : len;
        }
        target(field[0]);
        backend(field[1]);
        mode(field[2]);
        vdev(field[3], count);
        /* NULL is refused, not dereferenced */
        CHECK(xen_target_parse(NULL, NULL, NULL) == -EINVAL);
        CHECK(xen_backend_parse(NULL, NULL) == -EINVAL);
        CHECK(xen_mode_parse(NULL, NULL) == -EINVAL);
        CHECK(xen_vdev_nth(NULL, 0, NULL, 0) == -EINVAL);
        for (int i = 0; i < 4; i++)
                free(field[i]);
        return 0;
}
