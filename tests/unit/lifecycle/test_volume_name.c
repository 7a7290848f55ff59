// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of volume_name.c: the dm names the udev rules turn into /dev/dvm/<pool>/<vm>/<vol>
 * links. VM names with '-' and '.', every volume, and names of other devices that must give
 * no link (the pool itself, helper devices, foreign devices, names out of the name rules).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "dvm.h"
#include "util/macro.h"

struct name_case {
        const char *dm_name;
        int ret;
        const char *pool, *vm, *volume; /* when ret == 0 */
};

static const struct name_case cases[] = {
        { "DVM-default-disp1-root", 0, "default", "disp1", "root" },
        { "DVM-default-disp1-private", 0, "default", "disp1", "private" },
        { "DVM-default-disp1-volatile", 0, "default", "disp1", "volatile" },
        { "DVM-p_1-debian-12-dvm-root", 0, "p_1", "debian-12-dvm", "root" },
        { "DVM-t123_4-fedora-42.xfce-private", 0, "t123_4", "fedora-42.xfce", "private" },
        { "DVM-a-b-volatile", 0, "a", "b", "volatile" },
        /* a VM may be called like a volume */
        { "DVM-p-root-root", 0, "p", "root", "root" },
        { "DVM-p-a-root-private", 0, "p", "a-root", "private" },
        /* the longest names */
        { "DVM-abcdefghijklmnopqrstuvwxyz012345-"
          "v123456789012345678901234567890123456789012345678901234567890123-root",
          0, "abcdefghijklmnopqrstuvwxyz012345",
          "v123456789012345678901234567890123456789012345678901234567890123", "root" },
        /* not a volume */
        { "DVM-default", -EINVAL, NULL, NULL, NULL },
        { "DVM-default-", -EINVAL, NULL, NULL, NULL },
        { "DVM-default-pool", -EINVAL, NULL, NULL, NULL },
        { "DVM-default-disp1", -EINVAL, NULL, NULL, NULL },
        { "DVM-default-disp1-root-cow", -EINVAL, NULL, NULL, NULL },
        { "DVM-default-disp1-kernel", -EINVAL, NULL, NULL, NULL },
        { "DVM-default-disp1-Root", -EINVAL, NULL, NULL, NULL },
        { "DVM-default--root", -EINVAL, NULL, NULL, NULL },
        { "DVM--disp1-root", -EINVAL, NULL, NULL, NULL },
        { "DVM-default-1disp-root", -EINVAL, NULL, NULL, NULL },
        { "DVM-default-disp 1-root", -EINVAL, NULL, NULL, NULL },
        { "DVM-default-disp1-root ", -EINVAL, NULL, NULL, NULL },
        { "DVM-9pool-disp1-root", -EINVAL, NULL, NULL, NULL },
        { "DVM-abcdefghijklmnopqrstuvwxyz0123456-vm-root", -EINVAL, NULL, NULL, NULL }, /* pool of 33 */
        { "DVM-p-v1234567890123456789012345678901234567890123456789012345678901234-root", -EINVAL, NULL, NULL, NULL },
        { "dvm-default-disp1-root", -EINVAL, NULL, NULL, NULL },
        { "LVM-default-disp1-root", -EINVAL, NULL, NULL, NULL },
        { "vg-lv", -EINVAL, NULL, NULL, NULL },
        { "", -EINVAL, NULL, NULL, NULL },
        { "DVM-", -EINVAL, NULL, NULL, NULL },
        { "DVM-a-b-", -EINVAL, NULL, NULL, NULL },
        { "DVM-a-b-c-", -EINVAL, NULL, NULL, NULL },
};

Test(volume_name, table)
{
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                const struct name_case *c = &cases[i];
                char pool[DVM_POOL_NAME_MAX + 1] = "x", vm[DVM_NAME_MAX + 1] = "x", vol[16] = "x";
                int r = dvm_volume_dm_name_parse(c->dm_name, pool, vm, vol);

                cr_assert_eq(r, c->ret, "parse \"%s\": %d, expected %d", c->dm_name, r, c->ret);
                if (r < 0) {
                        cr_assert(strcmp(pool, "x") == 0 && strcmp(vm, "x") == 0 && strcmp(vol, "x") == 0,
                                  "parse \"%s\" failed but changed its out-parameters: %s %s %s", c->dm_name,
                                  pool, vm, vol);
                        continue;
                }
                cr_assert_str_eq(pool, c->pool, "pool of \"%s\": %s", c->dm_name, pool);
                cr_assert_str_eq(vm, c->vm, "VM of \"%s\": %s", c->dm_name, vm);
                cr_assert_str_eq(vol, c->volume, "volume of \"%s\": %s", c->dm_name, vol);
        }
}

Test(volume_name, null_is_invalid)
{
        char pool[DVM_POOL_NAME_MAX + 1], vm[DVM_NAME_MAX + 1], vol[16];
        int r = dvm_volume_dm_name_parse(NULL, pool, vm, vol);
        cr_assert_eq(r, -EINVAL, "parse NULL: %d", r);
}
