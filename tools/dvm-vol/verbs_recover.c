// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dvm-vol verbs that keep pools healthy: recover (finish or roll back what a crash left),
 * reap (after a Xen domain that died), pool set (the space guard). The udev properties of
 * our devices come from tools/dvm-udev-id, which links nothing but libc.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
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

static const struct {
        const char *what;
        size_t offset;
} report_fields[] = {
        { "devices removed", offsetof(struct dvm_recover_report, devices_removed) },
        { "devices resumed", offsetof(struct dvm_recover_report, devices_resumed) },
        { "devices activated", offsetof(struct dvm_recover_report, devices_activated) },
        { "layers deleted", offsetof(struct dvm_recover_report, layers_deleted) },
        { "catalog rows repaired", offsetof(struct dvm_recover_report, rows_repaired) },
        { "loops detached", offsetof(struct dvm_recover_report, loops_detached) },
        { "VMs reaped", offsetof(struct dvm_recover_report, vms_reaped) },
        { "intents finished", offsetof(struct dvm_recover_report, intents_finished) },
        { "pending", offsetof(struct dvm_recover_report, pending) },
};

static unsigned field(const struct dvm_recover_report *rep, size_t i)
{
        return *(const unsigned *)((const char *)rep + report_fields[i].offset);
}

static void print_report(const struct cli *cli, const char *pool, const struct dvm_recover_report *rep,
                         json_object *all)
{
        bool any = false;

        if (cli->json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "pool", json_object_new_string(pool));
                for (size_t i = 0; i < sizeof(report_fields) / sizeof(report_fields[0]); i++)
                        json_object_object_add(o, report_fields[i].what, json_object_new_int((int)field(rep, i)));
                json_object_array_add(all, o);
                return;
        }
        printf("pool %s:", pool);
        for (size_t i = 0; i < sizeof(report_fields) / sizeof(report_fields[0]); i++) {
                if (!field(rep, i))
                        continue;
                printf("%s %u %s", any ? "," : "", field(rep, i), report_fields[i].what);
                any = true;
        }
        printf("%s\n", any ? "" : " clean");
}

static int recover_one(struct cli *cli, const char *name, json_object *all, bool *ret_pending)
{
        struct dvm_recover_report rep = {};
        dvm_pool *pool = NULL; /* stays NULL when the pool does not open */
        int r = dvm_pool_open(cli->ctx, name, &pool);

        if (r >= 0)
                r = dvm_pool_recover(pool, &rep);
        dvm_pool_close(pool);
        if (r < 0)
                return cli_fail(cli, r, "recover");
        print_report(cli, name ? name : DVM_DEFAULT_POOL, &rep, all);
        if (rep.pending) {
                fprintf(stderr, "dvm-vol: recover: pool %s: %u item(s) wait for devices that are still held open\n",
                        name ? name : DVM_DEFAULT_POOL, rep.pending);
                *ret_pending = true;
        }
        return EXIT_OK;
}

/* recover --host: what dead host @host held in the Ceph pool of rbd pool @name goes */
static int reap_host(struct cli *cli, const char *name, const char *host)
{
        struct dvm_host_reap rep = {};
        dvm_pool *pool = NULL;
        int r = dvm_pool_open(cli->ctx, name, &pool);

        if (r >= 0)
                r = dvm_pool_reap_host(pool, host, &rep);
        dvm_pool_close(pool);
        if (r < 0)
                return cli_fail(cli, r, "recover --host");
        if (cli->json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "host", json_object_new_string(host));
                json_object_object_add(o, "locks_broken", json_object_new_int64(rep.locks_broken));
                json_object_object_add(o, "images_removed", json_object_new_int64(rep.images_removed));
                json_object_object_add(o, "uses_dropped", json_object_new_int64(rep.uses_dropped));
                json_object_object_add(o, "snapshots_removed", json_object_new_int64(rep.snapshots_removed));
                cli_print_json(o);
        } else {
                printf("host %s: %u lock(s) broken, %u image(s) removed, %u use(s) dropped, %u snapshot(s) removed\n",
                       host, rep.locks_broken, rep.images_removed, rep.uses_dropped, rep.snapshots_removed);
        }
        return EXIT_OK;
}

static int recover(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { "host", required_argument, NULL, 'H' },
                                              { "help", no_argument, NULL, 'h' }, {} };
        const char *host = NULL;
        const struct verb *verb = self("recover");
        json_object *all = cli->json ? json_object_new_array() : NULL;
        char **names = NULL;
        bool every = false, pending = false;
        int c, r = EXIT_OK, q;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'a')
                        every = true;
                else if (c == 'H')
                        host = optarg;
                else if (c == 'h')
                        return cli_verb_help(verb, "  --all         every pool of the state directory\n"
                                                   "  --host HOST   rbd: take back what dead (fenced) HOST held\n");
                else
                        return cli_usage_error(verb, "unknown option \"%s\"", argv[optind - 1]);
        }
        if (argc - optind > 1 || (every && argc - optind > 0))
                return cli_usage_error(verb, "too many arguments");
        if (argc - optind == 1)
                cli->pool = argv[optind];
        if (host && every)
                return cli_usage_error(verb, "--host goes with one pool, not --all");
        if (host)
                return reap_host(cli, cli->pool, host);
        if (!every) {
                r = recover_one(cli, cli->pool, all, &pending);
        } else if ((q = dvm_pool_list(cli->ctx, &names)) < 0) {
                r = cli_fail(cli, q, "recover");
        } else {
                for (char **n = names; *n; n++)
                        if ((q = recover_one(cli, *n, all, &pending)) != EXIT_OK && r == EXIT_OK)
                                r = q;
                dvm_strv_free(names);
        }
        if (all)
                cli_print_json(all);
        return r == EXIT_OK && pending ? EXIT_BUSY : r;
}

static int reap(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
                { "xenbus-path", required_argument, NULL, 'x' }, { "domain", required_argument, NULL, 'd' },
                { "help", no_argument, NULL, 'h' }, {}
        };
        const struct verb *verb = self("reap");
        const char *path = NULL, *dom = NULL;
        char *end;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'x': path = optarg; break;
                case 'd': dom = optarg; break;
                case 'h':
                        return cli_verb_help(verb, "  --xenbus-path backend/vbd/DOMID/DEVID   the backend that went away\n"
                                                   "  --domain DOMID                          every disk of a domain\n");
                default: return cli_usage_error(verb, "unknown option \"%s\"", argv[optind - 1]);
                }
        }
        if (argc - optind > 0)
                return cli_usage_error(verb, "too many arguments");
        if (!path == !dom)
                return cli_usage_error(verb, "give one of --xenbus-path and --domain");
        if (path) {
                r = dvm_reap_disk(cli->ctx, path);
        } else {
                errno = 0;
                unsigned long d = strtoul(dom, &end, 10);
                if (!isdigit((unsigned char)dom[0]) || *end || errno || d > UINT32_MAX)
                        return cli_usage_error(verb, "--domain: \"%s\" is not a domain id", dom);
                r = dvm_reap_domain(cli->ctx, (uint32_t)d);
        }
        if (r < 0)
                return cli_fail(cli, r, "reap");
        if (!cli->json)
                printf("%d disk(s) released\n", r);
        return EXIT_OK;
}

/* The worker a deferred destroy starts (and anyone may run): drain the queued wipes. */
static int worker(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = { { "try", no_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' }, {} };
        const struct verb *verb = self("worker");
        dvm_pool *pool;
        bool try = false;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 't')
                        try = true;
                else if (c == 'h')
                        return cli_verb_help(verb, "  --try    exit at once when another worker of the pool runs\n");
                else
                        return cli_usage_error(verb, "unknown option \"%s\"", argv[optind - 1]);
        }
        if (argc - optind > 1)
                return cli_usage_error(verb, "too many arguments");
        if (argc - optind == 1)
                cli->pool = argv[optind];
        if ((r = cli_open_pool(cli, &pool)))
                return r;
        r = dvm_pool_work(pool, try ? DVM_WORK_TRY : 0);
        dvm_pool_close(pool);
        if (r < 0)
                return cli_fail(cli, r, "worker");
        if (cli->json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "finished", json_object_new_int(r));
                cli_print_json(o);
        } else if (cli->verbose) {
                printf("pool %s: %d wipe(s) or preload step(s) done\n", cli->pool ? cli->pool : DVM_DEFAULT_POOL, r);
        }
        return EXIT_OK;
}

const struct verb recover_verbs[] = {
        { "recover", "[NAME | --all] | [NAME] --host HOST",
          "finish or roll back what a crash left in flight; take back a dead host's locks and images", recover },
        { "reap", "--xenbus-path backend/vbd/DOMID/DEVID | --domain DOMID",
          "release the disks of a Xen domain that died (the udev rule runs this)", reap },
        { "worker", "[NAME] [--try]", "finish queued wipes, refill preloaded disposables, then exit", worker },
        { "pool set", "[NAME] space-guard PERCENT",
          "refuse spawn, start and import that would leave less than PERCENT of the pool free", pool_set },
        {}
};
