// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dvm-vol verbs that keep pools healthy: pool set (the space guard), and for udev,
 * udev-id (the udev properties of one of our devices).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
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

/* PERCENT: 0..99, digits only */
static int parse_percent(const struct verb *verb, const char *arg, unsigned *ret)
{
        char *end;
        unsigned long n;

        errno = 0;
        n = strtoul(arg, &end, 10);
        if (!isdigit((unsigned char)arg[0]) || *end || errno || n > 99)
                return cli_usage_error(verb, "space-guard: \"%s\" is not a percentage from 0 to 99", arg);
        *ret = (unsigned)n;
        return 0;
}

static int pool_set(struct cli *cli, int argc, char **argv)
{
        const struct verb *verb = self("pool set");
        dvm_pool *pool;
        unsigned percent = 0;
        int n, r = no_options(verb, argc, argv);

        if (r)
                return r < 0 ? EXIT_OK : r;
        n = argc - optind;
        if (n < 2)
                return cli_usage_error(verb, "missing argument");
        if (n > 3)
                return cli_usage_error(verb, "too many arguments");
        if (n == 3)
                cli->pool = argv[optind++];
        if (strcmp(argv[optind], "space-guard") != 0)
                return cli_usage_error(verb, "unknown setting \"%s\" (settings: space-guard)", argv[optind]);
        if ((r = parse_percent(verb, argv[optind + 1], &percent)) || (r = cli_open_pool(cli, &pool)))
                return r;
        r = dvm_pool_set_space_guard(pool, percent);
        if (r < 0)
                r = cli_fail(cli, r, "pool set");
        else if (!cli->json)
                printf("pool %s: space guard %u%%\n", cli->pool ? cli->pool : DVM_DEFAULT_POOL, percent);
        dvm_pool_close(pool);
        return r;
}

const struct verb recover_verbs[] = {
        { "pool set", "[NAME] space-guard PERCENT",
          "refuse spawn, start and import that would leave less than PERCENT of the pool free", pool_set },
        { "udev-id", "DM-NAME", "print the udev properties of a volume's device (for the udev rules)", udev_id },
        {}
};
