// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Whether a VM's devices are free to be taken down, and when they are not, which process,
 * device, mount or Xen domain holds them: the one line a busy stop or destroy reports.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kernel/dm.h"
#include "kernel/holders.h"
#include "lifecycle/busy.h"
#include "lifecycle/volume.h"
#include "store/catalog_volume.h"

int busy_check(dvm_pool *pool, const char *vm, const char *doing)
{
        struct cat_volume vols[BUSY_MAX_VOLUMES];
        int n = catalog_volume_list(pool->cat, vm, vols, BUSY_MAX_VOLUMES);

        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                char name[VOLUME_DM_NAME_MAX], who[512];
                struct dm_dev_info info;

                if (vols[i].run_id < 0 ||
                    dm_info(pool->ctx, volume_dm_name(pool, vm, vols[i].name, name, sizeof(name)), &info) < 0 ||
                    info.open_count <= 0)
                        continue;
                if (holders_describe(makedev(info.major, info.minor), S_IFBLK, who, sizeof(who)) == 0)
                        snprintf(who, sizeof(who), "nobody we can see (a kernel user?)");
                return ctx_error(pool->ctx, -EBUSY, "cannot %s %s: its %s device %s is in use (open %d time(s)), held by %s",
                                 doing, vm, vols[i].name, name, info.open_count, who);
        }
        return 0;
}
