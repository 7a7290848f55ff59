// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of rbd_auth.c: the kernel's monitor list out of Ceph's "mon host" forms (legacy
 * addresses, msgr2 address vectors, IPv6), and the client key out of keyring text, with the
 * inputs that must be refused (a key that would inject a kernel option, a malformed list).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "ceph/rbd_auth.h"

struct mon_case {
        const char *mon_host;
        int ret;
        const char *want; /* when ret == 0 */
};

static const struct mon_case mon_cases[] = {
        { "[v2:127.0.0.1:3300,v1:127.0.0.1:6789]", 0, "127.0.0.1:6789" },
        { "[v1:10.0.0.1:6789,v2:10.0.0.1:3300]", 0, "10.0.0.1:6789" },
        { "[v2:10.0.0.1:3300,v1:10.0.0.1:6789],[v2:10.0.0.2:3300,v1:10.0.0.2:6789]", 0,
          "10.0.0.1:6789,10.0.0.2:6789" },
        { "[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0]", -EINVAL, NULL }, /* nonces: not a mon host form */
        { "10.0.0.1", 0, "10.0.0.1:6789" },
        { "10.0.0.1:6790", 0, "10.0.0.1:6790" },
        { "10.0.0.1, 10.0.0.2:6790; mon3.example", 0, "10.0.0.1:6789,10.0.0.2:6790,mon3.example:6789" },
        { "v1:10.0.0.1:6789", 0, "10.0.0.1:6789" },
        { "v2:10.0.0.1:3300", -ENOENT, NULL },
        { "[v2:10.0.0.1:3300]", -ENOENT, NULL },
        { "[v2:[::1]:3300,v1:[::1]:6789]", 0, "[::1]:6789" },
        { "[::1]:6789", 0, "[::1]:6789" },
        { "[::1]", 0, "[::1]:6789" },
        { "::1", -EINVAL, NULL },
        { "", -ENOENT, NULL },
        { "[v2:10.0.0.1:3300,v1:10.0.0.1:6789", -EINVAL, NULL },
        { "10.0.0.1 name=admin", -EINVAL, NULL }, /* no option may ride along */
        { "10.0.0.1:6789\nx", -EINVAL, NULL },
};

Test(rbd_auth, mon_v1)
{
        for (size_t i = 0; i < sizeof(mon_cases) / sizeof(mon_cases[0]); i++) {
                const struct mon_case *c = &mon_cases[i];
                char out[256] = "untouched";
                int r = rbdauth_mon_v1(c->mon_host, out, sizeof(out));

                cr_assert_eq(r, c->ret, "\"%s\": returned %d, want %d (output \"%s\")", c->mon_host, r, c->ret, out);
                if (c->ret == 0)
                        cr_assert_str_eq(out, c->want, "\"%s\": gave \"%s\", want \"%s\"", c->mon_host, out, c->want);
        }
}

Test(rbd_auth, mon_v1_too_long)
{
        char out[8];
        int r = rbdauth_mon_v1("10.0.0.1:6789", out, sizeof(out));

        cr_assert_eq(r, -ENAMETOOLONG, "returned %d", r);
}

static const char keyring[] =
        "[mon.]\n"
        "\tkey = AQAAAAAAAAAAABAAmonmonmonmonmonmonmonmon==\n"
        "\tcaps mon = \"allow *\"\n"
        "# a comment\n"
        "[client.admin]\n"
        "\tkey = AQBBBBBBBBBBBBAAadminadminadminadminadmin==\n"
        "[client.dvm]\n"
        "\tkeyring = /nowhere\n"
        "    key=AQCCCCCCCCCCCCAAdvmdvmdvmdvmdvmdvmdvmdvm==   \n"
        "\tcaps osd = \"profile rbd\"\n"
        "[client.bad]\n"
        "\tkey = AQ,secret=x\n"
        "[client.nokey]\n"
        "\tcaps mon = \"allow r\"\n";

Test(rbd_auth, keyring_key)
{
        char key[128];

        cr_assert_eq(rbdauth_keyring_key(keyring, "client.dvm", key, sizeof(key)), 0);
        cr_assert_str_eq(key, "AQCCCCCCCCCCCCAAdvmdvmdvmdvmdvmdvmdvmdvm==", "client.dvm: \"%s\"", key);
        cr_assert_eq(rbdauth_keyring_key(keyring, "client.admin", key, sizeof(key)), 0);
        cr_assert_str_eq(key, "AQBBBBBBBBBBBBAAadminadminadminadminadmin==", "client.admin: \"%s\"", key);
}

Test(rbd_auth, keyring_refused)
{
        char key[128] = "untouched";
        int r;

        r = rbdauth_keyring_key(keyring, "client.bad", key, sizeof(key));
        cr_assert_eq(r, -EINVAL, "a key with ',' and '=' options: returned %d", r);
        r = rbdauth_keyring_key(keyring, "client.nokey", key, sizeof(key));
        cr_assert_eq(r, -ENOENT, "a section without key: returned %d", r);
        r = rbdauth_keyring_key(keyring, "client.other", key, sizeof(key));
        cr_assert_eq(r, -ENOENT, "no such section: returned %d", r);
        r = rbdauth_keyring_key(keyring, "client", key, sizeof(key));
        cr_assert_eq(r, -ENOENT, "a prefix of a section name: returned %d", r);
        cr_assert_str_eq(key, "untouched", "output changed on failure: \"%s\"", key);
        r = rbdauth_keyring_key(keyring, "client.dvm", key, 8);
        cr_assert_eq(r, -ENAMETOOLONG, "small buffer: returned %d", r);
}

Test(rbd_auth, key_valid)
{
        cr_assert(rbdauth_key_valid("AQCCCC+/CCCC=="));
        cr_assert_not(rbdauth_key_valid(""));
        cr_assert_not(rbdauth_key_valid("AQ CC"));
        cr_assert_not(rbdauth_key_valid("AQ,name=x"));
}
