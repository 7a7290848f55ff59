// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dvm-udev-id: the udev properties of one of our devices, for 54-dvm-vol-cookie.rules and
 * 57-dvm-vol.rules, which run it on the events of our devices. It parses the device-mapper
 * name with driver/lifecycle/volume_name.c (the one parser) and links statically against libc alone: no
 * libdvm dependency, no Xen library, no catalog, so an event costs one small exec.
 *   dvm-udev-id DM-NAME                   DVM_POOL, DVM_VM, DVM_VOLUME of a volume; exit 2
 *                                         for any other name
 *   dvm-udev-id --cookie COOKIE DM-NAME   also what `dmsetup udevflags COOKIE` prints (the
 *                                         flags libdevmapper put in the cookie's upper 16
 *                                         bits), and DVM_COOKIE; any DVM- name is fine. A
 *                                         cookie with DM_UDEV_DISABLE_DM_RULES_FLAG (libdvm's,
 *                                         whose nodes libdevmapper makes) is completed at
 *                                         once, and DVM_COOKIE_DONE=1 says so
 *   dvm-udev-id --complete COOKIE         what `dmsetup udevcomplete COOKIE` does: tells the
 *                                         libdevmapper caller waiting on the cookie that its
 *                                         event is done (one semaphore decrement)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>

#include "dvm.h"

/* the flag bits of libdevmapper.h (DM_UDEV_FLAGS_SHIFT 16), named as dmsetup udevflags does */
static const char *const cookie_flags[16] = {
        "DM_UDEV_DISABLE_DM_RULES_FLAG", "DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG",
        "DM_UDEV_DISABLE_DISK_RULES_FLAG", "DM_UDEV_DISABLE_OTHER_RULES_FLAG",
        "DM_UDEV_LOW_PRIORITY_FLAG", "DM_UDEV_DISABLE_LIBRARY_FALLBACK_FLAG",
        "DM_UDEV_PRIMARY_SOURCE_FLAG", "DM_UDEV_FLAG7",
        "DM_SUBSYSTEM_UDEV_FLAG0", "DM_SUBSYSTEM_UDEV_FLAG1", "DM_SUBSYSTEM_UDEV_FLAG2",
        "DM_SUBSYSTEM_UDEV_FLAG3", "DM_SUBSYSTEM_UDEV_FLAG4", "DM_SUBSYSTEM_UDEV_FLAG5",
        "DM_SUBSYSTEM_UDEV_FLAG6", "DM_SUBSYSTEM_UDEV_FLAG7",
};

/* COOKIE: decimal, 32 bits, as the kernel puts DM_COOKIE in the uevent */
static int parse_cookie(const char *s, unsigned long *ret)
{
        char *end;
        unsigned long n;

        if (s[0] < '0' || s[0] > '9')
                return -1;
        n = strtoul(s, &end, 10);
        if (*end || n > 0xffffffffUL)
                return -1;
        *ret = n;
        return 0;
}

/*
 * libdevmapper's cookie (libdm-common.c): the low 16 bits pick a SysV semaphore whose key is
 * those bits under the magic 0x0D4D; the high 16 bits of the uevent's value are the flags.
 * The waiter counts the semaphore down to zero; each completion takes one off, without
 * waiting. A cookie whose low bits are 0 carries flags only: nothing waits on it.
 */
#define DM_COOKIE_MAGIC 0x0D4DUL
/* the first flag bit: udev's dm rules make no node; the library does (and waits for none) */
#define DISABLE_DM_RULES 1UL

static int complete_cookie(unsigned long cookie)
{
        struct sembuf dec = { .sem_num = 0, .sem_op = -1, .sem_flg = IPC_NOWAIT };
        int semid;

        if ((cookie & 0xffffUL) == 0)
                return 0;
        semid = semget((key_t)(DM_COOKIE_MAGIC << 16 | (cookie & 0xffffUL)), 1, 0);
        if (semid < 0 || semop(semid, &dec, 1) < 0) {
                fprintf(stderr, "dvm-udev-id: cookie %lu: cannot complete its semaphore: %m\n", cookie);
                return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        char pool[DVM_POOL_NAME_MAX + 1], vm[DVM_NAME_MAX + 1], vol[16];
        const char *name = argv[argc - 1];
        unsigned long cookie = 0;
        int volume;

        if (argc == 3 && strcmp(argv[1], "--complete") == 0) {
                if (parse_cookie(argv[2], &cookie) < 0) {
                        fprintf(stderr, "dvm-udev-id: cookie \"%s\": not a 32-bit number\n", argv[2]);
                        return 2;
                }
                return complete_cookie(cookie);
        }
        if (!(argc == 2 || (argc == 4 && strcmp(argv[1], "--cookie") == 0))) {
                fprintf(stderr, "usage: dvm-udev-id [--cookie COOKIE] DM-NAME | --complete COOKIE "
                                "(run by our udev rules)\n");
                return 2;
        }
        if (argc == 4 && (parse_cookie(argv[2], &cookie) < 0 || strncmp(name, "DVM-", 4) != 0)) {
                fprintf(stderr, "dvm-udev-id: cookie \"%s\" of \"%s\": not a 32-bit number, or not our device\n",
                        argv[2], name);
                return 2;
        }
        volume = dvm_volume_dm_name_parse(name, pool, vm, vol) == 0;
        if (argc == 2 && !volume) {
                fprintf(stderr, "dvm-udev-id: \"%s\" is not the device-mapper name of a volume "
                                "(DVM-<pool>-<vm>-<root|private|volatile>)\n", name);
                return 2;
        }
        if (argc == 4) {
                for (unsigned i = 0; i < 16; i++)
                        if (cookie >> 16 & 1UL << i)
                                printf("%s=1\n", cookie_flags[i]);
                printf("DVM_COOKIE=%lu\n", cookie);
                /* Nothing the rules do after this is for the waiter: its /dev/mapper node is
                 * libdevmapper's to make. Completing now spares the event a second exec. */
                if (cookie >> 16 & DISABLE_DM_RULES) {
                        if (complete_cookie(cookie))
                                return 1;
                        printf("DVM_COOKIE_DONE=1\n");
                }
        }
        if (volume)
                printf("DVM_POOL=%s\nDVM_VM=%s\nDVM_VOLUME=%s\n", pool, vm, vol);
        return 0;
}
