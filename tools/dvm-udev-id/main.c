// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dvm-udev-id: the udev properties of one of our volumes, for 57-dvm-vol.rules, which runs
 * it on every add/change event of a volume's device. It parses the device-mapper name with
 * driver/volume_name.c (the one parser) and links against nothing but libc: no libdvm
 * dependency, no Xen library, no catalog, so an event costs one small exec.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dvm.h"

int main(int argc, char **argv)
{
        char pool[DVM_POOL_NAME_MAX + 1], vm[DVM_NAME_MAX + 1], vol[16];

        if (argc != 2) {
                fprintf(stderr, "usage: dvm-udev-id DM-NAME (run by 57-dvm-vol.rules)\n");
                return 2;
        }
        if (dvm_volume_dm_name_parse(argv[1], pool, vm, vol) < 0) {
                fprintf(stderr, "dvm-udev-id: \"%s\" is not the device-mapper name of a volume "
                                "(DVM-<pool>-<vm>-<root|private|volatile>)\n", argv[1]);
                return 2;
        }
        printf("DVM_POOL=%s\nDVM_VM=%s\nDVM_VOLUME=%s\n", pool, vm, vol);
        return 0;
}
