/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crc32c: the standard check value and the iSCSI test vectors of RFC 3720 B.4, through
 * the kernel convention (seed ~0, no final inversion), whole and in pieces.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>

#include "format/crc32c.h"
#include "util/macro.h"

struct vector {
        char name[16];
        uint8_t data[32];
        size_t len;
        uint32_t want;          /* the standard CRC-32C, i.e. ~crc32c(~0, ...) */
};

static const struct vector vectors[] = {
        { "empty", { 0 }, 0, 0x00000000 },
        { "123456789", { '1', '2', '3', '4', '5', '6', '7', '8', '9' }, 9, 0xe3069283 },
        { "32 zeroes", { 0 }, 32, 0x8a9136aa },
        { "32 x 0xff", { [0 ... 31] = 0xff }, 32, 0x62a8ab43 },
        { "0..31", { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                     21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 }, 32, 0x46dd794e },
        { "31..0", { 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14,
                     13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 }, 32, 0x113fdb5c },
};

ParameterizedTestParameters(crc32c, vectors)
{
        return cr_make_param_array(struct vector, (void *)vectors, ARRAY_SIZE(vectors));
}

ParameterizedTest(const struct vector *v, crc32c, vectors)
{
        uint32_t whole = ~crc32c(~UINT32_C(0), v->data, v->len);

        cr_assert_eq(whole, v->want, "%s: %#010" PRIx32 ", want %#010" PRIx32, v->name, whole,
                     v->want);
        for (size_t cut = 0; cut <= v->len; cut++) {
                uint32_t r = crc32c(crc32c(~UINT32_C(0), v->data, cut), v->data + cut,
                                    v->len - cut);
                cr_assert_eq(~r, v->want, "%s cut at %zu: %#010" PRIx32, v->name, cut, ~r);
        }
}
