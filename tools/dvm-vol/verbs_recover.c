// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dvm-vol verbs for crash recovery and udev: recover (finish or roll back interrupted
 * operations), reap (clean up after a Xen domain that died), udev-id (the udev properties
 * of one of our devices).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct verb *self(const char *name)
{
        for (const struct verb *v = recover_verbs; v->name; v++)
                if (strcmp(v->name, name) == 0)
                        return v;
        return NULL;
}

/* Only --help: returns 0, -1 after the help, or an exit code. */
static int no_options(const struct verb *verb, int argc, char **argv)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, {} };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h')
                        return cli_verb_help(verb, NULL) - 1;
                return cli_usage_error(verb, "unknown option \"%s\"", argv[optind - 1]);
        }
        return 0;
}

static int udev_id(struct cli *cli, int argc, char **argv)
{
        const struct verb *verb = self("udev-id");
        char pool[DVM_POOL_NAME_MAX + 1], vm[DVM_NAME_MAX + 1], vol[16];
        int r = no_options(verb, argc, argv);

        (void)cli; /* no pool: udev calls this for every event of our devices */
        if (r)
                return r < 0 ? EXIT_OK : r;
        if (argc - optind != 1)
                return cli_usage_error(verb, argc - optind < 1 ? "missing argument" : "too many arguments");
        if (dvm_volume_dm_name_parse(argv[optind], pool, vm, vol) < 0) {
                fprintf(stderr, "dvm-vol udev-id: \"%s\" is not the device-mapper name of a volume "
                                "(DVM-<pool>-<vm>-<root|private|volatile>)\n", argv[optind]);
                return EXIT_USAGE;
        }
        printf("DVM_POOL=%s\nDVM_VM=%s\nDVM_VOLUME=%s\n", pool, vm, vol);
        return EXIT_OK;
}

const struct verb recover_verbs[] = {
        { "udev-id", "DM-NAME", "print the udev properties of a volume's device (for the udev rules)", udev_id },
        {}
};
