// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The inverse of volume_dm_name(): which pool, VM and volume a device-mapper name
 * "DVM-<pool>-<vm>-<volume>" stands for. The udev rules name /dev/dvm links with it.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/dm.h"
#include "lifecycle/volume_name.h"

static const char *const volume_names[] = { "root", "private", "volatile" };

int dvm_volume_dm_name_parse(const char *dm_name, char ret_pool[DVM_POOL_NAME_MAX + 1],
                             char ret_vm[DVM_NAME_MAX + 1], char ret_volume[16])
{
        const size_t plen = strlen(DM_UUID_PREFIX);
        char pool[DVM_POOL_NAME_MAX + 1], vm[DVM_NAME_MAX + 1];
        const char *p, *dash, *last;
        size_t n;

        if (!dm_name || strncmp(dm_name, DM_UUID_PREFIX, plen) != 0)
                return -EINVAL;
        p = dm_name + plen;
        /* a pool name holds no '-': the first one ends it; a volume name neither: the
         * last one starts it; the VM name, which may hold '-', is what lies between */
        dash = strchr(p, '-');
        last = strrchr(p, '-');
        if (!dash || dash == last)
                return -EINVAL;
        n = (size_t)(dash - p);
        if (n == 0 || n >= sizeof(pool))
                return -EINVAL;
        memcpy(pool, p, n);
        pool[n] = 0;
        n = (size_t)(last - dash - 1);
        if (n == 0 || n >= sizeof(vm))
                return -EINVAL;
        memcpy(vm, dash + 1, n);
        vm[n] = 0;
        if (dvm_pool_name_check(pool, NULL) < 0 || dvm_name_check(vm, NULL) < 0)
                return -EINVAL;
        for (size_t i = 0; i < ARRAY_SIZE(volume_names); i++) {
                if (strcmp(last + 1, volume_names[i]) != 0)
                        continue;
                snprintf(ret_pool, DVM_POOL_NAME_MAX + 1, "%s", pool);
                snprintf(ret_vm, DVM_NAME_MAX + 1, "%s", vm);
                snprintf(ret_volume, 16, "%s", volume_names[i]);
                return 0;
        }
        return -EINVAL;
}
