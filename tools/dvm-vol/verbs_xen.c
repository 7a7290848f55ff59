// SPDX-License-Identifier: GPL-2.0-or-later
/* dvm-vol Xen verbs: attach a VM's volumes to a running domain, detach them (libxenlight). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct xen_args {
        const char *domain;
        const char *vdev_base;
};

enum { OPT_DOMAIN = 256, OPT_VDEV_BASE };

/* Parse --domain / --vdev-base (as @allowed says) and exactly one VM name. Returns 0, -1
 * after --help, or an exit code. */
static int parse(const struct verb *verb, bool vdev_allowed, int argc, char **argv, struct xen_args *a)
{
        static const struct option opts[] = { { "domain", required_argument, NULL, OPT_DOMAIN },
                                               { "vdev-base", required_argument, NULL, OPT_VDEV_BASE },
                                               { "help", no_argument, NULL, 'h' },
                                               {} };
        static const char help[] = "  --domain DOMID|NAME  the running Xen domain\n"
                                   "  --vdev-base VDEV     the first virtual device (default xvda)\n";
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h')
                        return cli_verb_help(verb, help) - 1;
                if (c == OPT_DOMAIN)
                        a->domain = optarg;
                else if (c == OPT_VDEV_BASE && vdev_allowed)
                        a->vdev_base = optarg;
                else
                        return cli_usage_error(verb, "unknown option \"%s\"", argv[optind - 1]);
        }
        if (argc - optind != 1)
                return cli_usage_error(verb, argc - optind < 1 ? "missing VM name" : "too many arguments");
        return 0;
}

static int attach(struct cli *cli, int argc, char **argv)
{
        const struct verb *verb = &xen_verbs[0];
        struct dvm_xen_disk disks[3];
        struct xen_args a = {};
        dvm_pool *pool = NULL;
        int r = parse(verb, true, argc, argv, &a), n;

        if (r)
                return r < 0 ? EXIT_OK : r;
        if (!a.domain)
                return cli_usage_error(verb, "--domain DOMID|NAME is required");
        if ((r = cli_open_pool(cli, &pool)))
                return r;
        n = dvm_xen_attach(pool, argv[optind], a.domain, a.vdev_base, disks);
        if (n < 0)
                r = cli_fail(cli, n, "attach");
        for (int i = 0; i < n; i++)
                printf("%s %s/%s %s\n", disks[i].vdev, argv[optind], disks[i].volume, disks[i].rw ? "rw" : "ro");
        dvm_pool_close(pool);
        return r;
}

static int detach(struct cli *cli, int argc, char **argv)
{
        const struct verb *verb = &xen_verbs[1];
        struct xen_args a = {};
        dvm_pool *pool = NULL;
        int r = parse(verb, false, argc, argv, &a), n;

        if (r)
                return r < 0 ? EXIT_OK : r;
        if ((r = cli_open_pool(cli, &pool)))
                return r;
        n = dvm_xen_detach(pool, argv[optind], a.domain);
        if (n < 0)
                r = cli_fail(cli, n, "detach");
        dvm_pool_close(pool);
        return r;
}

const struct verb xen_verbs[] = {
        { "attach", "NAME --domain DOMID|NAME [--vdev-base xvda]",
          "hand a VM's volumes to a running Xen domain (root, private, volatile)", attach },
        { "detach", "NAME [--domain DOMID|NAME]", "unplug a VM's volumes from Xen domains", detach },
        {}
};
