// SPDX-License-Identifier: GPL-2.0-or-later
/* dvm-vol pool verbs: init, list, info, activate. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define HELP_OPTION { "help", no_argument, NULL, 'h' }

static const struct verb *self(const char *name)
{
        for (const struct verb *v = pool_verbs; v->name; v++)
                if (strcmp(v->name, name) == 0)
                        return v;
        return NULL;
}

/* The pool named on the command line after the verb, else --pool, else the default. */
static int pool_arg(struct cli *cli, const struct verb *verb, int argc, char **argv)
{
        if (argc - optind > 1)
                return cli_usage_error(verb, "too many arguments");
        if (argc - optind == 1)
                cli->pool = argv[optind];
        return 0;
}

static int pool_init(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
                { "data", required_argument, NULL, 'd' },     { "data-size", required_argument, NULL, 's' },
                { "metadata", required_argument, NULL, 'm' }, { "block-size", required_argument, NULL, 'b' },
                { "backend", required_argument, NULL, 'B' },  { "chunk-size", required_argument, NULL, 'c' },
                { "cow-percent", required_argument, NULL, 'p' }, { "rbd-conf", required_argument, NULL, 'C' },
                { "rbd-client", required_argument, NULL, 'I' },  { "rbd-pool", required_argument, NULL, 'P' },
                { "host", required_argument, NULL, 'H' },       { "skip-zeroing", required_argument, NULL, 'z' },
                HELP_OPTION, {}
        };
        const struct verb *verb = self("pool init");
        struct dvm_pool_config cfg = {};
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'd': cfg.data_dev = optarg; break;
                case 'C': cfg.rbd_conf = optarg; break;
                case 'I': cfg.rbd_client = optarg; break;
                case 'P': cfg.rbd_pool = optarg; break;
                case 'H': cfg.rbd_host = optarg; break;
                case 'm': cfg.metadata_dev = optarg; break;
                case 's': if ((r = cli_parse_size(verb, "--data-size", optarg, &cfg.data_size))) return r; break;
                case 'b': if ((r = cli_parse_size(verb, "--block-size", optarg, &cfg.block_size))) return r; break;
                case 'c': if ((r = cli_parse_size(verb, "--chunk-size", optarg, &cfg.chunk_size))) return r; break;
                case 'p': {
                        char *end;
                        unsigned long n = strtoul(optarg, &end, 10);
                        if (optarg[0] < '0' || optarg[0] > '9' || *end || n < 1 || n > 100)
                                return cli_usage_error(verb, "--cow-percent: \"%s\" is not a whole number from 1 to 100",
                                                       optarg);
                        cfg.cow_percent = (unsigned)n;
                        break;
                }
                case 'z':
                        if (strcmp(optarg, "yes") == 0) cfg.skip_zeroing = DVM_SKIP_ZEROING_YES;
                        else if (strcmp(optarg, "no") == 0) cfg.skip_zeroing = DVM_SKIP_ZEROING_NO;
                        else return cli_usage_error(verb, "--skip-zeroing: \"%s\" is not yes or no", optarg);
                        break;
                case 'B':
                        if (strcmp(optarg, "thin") == 0) cfg.backend = DVM_BACKEND_THIN;
                        else if (strcmp(optarg, "snap") == 0) cfg.backend = DVM_BACKEND_SNAP;
                        else if (strcmp(optarg, "rbd") == 0) cfg.backend = DVM_BACKEND_RBD;
                        else return cli_usage_error(verb, "--backend: \"%s\" is not thin, snap or rbd", optarg);
                        break;
                case 'h':
                        return cli_verb_help(verb, "  --data DEV          data block device (default: a sparse file)\n"
                                                   "  --metadata DEV      metadata block device (with --data)\n"
                                                   "  --data-size SIZE    size of the sparse data file (default 16G)\n"
                                                   "  --block-size SIZE   thin block size, 64K..1G (default 64K)\n"
                                                   "  --skip-zeroing yes|no  thin: provision blocks unzeroed (default: yes\n"
                                                   "                      on a new sparse file, where free blocks read zero)\n"
                                                   "  --backend thin|snap|rbd  pool backend (default thin)\n"
                                                   "  --chunk-size SIZE   snap: snapshot chunk, 4K..1M, a power of two (default 64K)\n"
                                                   "  --cow-percent N     snap: a disposable may change up to N% of a volume (default 100)\n"
                                                   "  --rbd-conf FILE     rbd: Ceph config (default: librados' search)\n"
                                                   "  --rbd-client ID     rbd: Ceph client id (default admin)\n"
                                                   "  --rbd-pool NAME     rbd: Ceph pool of the images (default rbd)\n"
                                                   "  --host NAME         rbd: this host's name in image names (default: node name)\n");
                default: return cli_usage_error(verb, "unknown option");
                }
        }
        if ((r = pool_arg(cli, verb, argc, argv)))
                return r;
        if (cfg.data_dev && cfg.data_size)
                return cli_usage_error(verb, "--data and --data-size exclude each other");
        if (cfg.backend == DVM_BACKEND_SNAP && (cfg.data_dev || cfg.metadata_dev || cfg.data_size || cfg.block_size))
                return cli_usage_error(verb, "--data, --metadata, --data-size and --block-size are for thin pools");
        if (cfg.backend != DVM_BACKEND_RBD && (cfg.rbd_conf || cfg.rbd_client || cfg.rbd_pool || cfg.rbd_host))
                return cli_usage_error(verb, "--rbd-conf, --rbd-client, --rbd-pool and --host are for rbd pools "
                                       "(--backend rbd)");
        if (cfg.backend != DVM_BACKEND_THIN && cfg.skip_zeroing)
                return cli_usage_error(verb, "--skip-zeroing is for thin pools");
        if (cfg.backend != DVM_BACKEND_SNAP && (cfg.chunk_size || cfg.cow_percent))
                return cli_usage_error(verb, "--chunk-size and --cow-percent are for snap pools (--backend snap)");
        r = dvm_pool_init(cli->ctx, cli->pool, &cfg);
        if (r < 0)
                return cli_fail(cli, r, "pool init");
        if (!cli->json)
                printf("pool %s initialised in %s\n", cli->pool ? cli->pool : DVM_DEFAULT_POOL,
                       dvm_ctx_state_dir(cli->ctx));
        return EXIT_OK;
}

static int simple_opts(const struct verb *verb, int argc, char **argv)
{
        static const struct option opts[] = { HELP_OPTION, {} };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h')
                        return cli_verb_help(verb, NULL) - 1; /* -1: done, exit 0 */
                return cli_usage_error(verb, "unknown option");
        }
        return 0;
}

static int pool_list(struct cli *cli, int argc, char **argv)
{
        const struct verb *verb = self("pool list");
        char **names = NULL;
        int r = simple_opts(verb, argc, argv);

        if (r)
                return r < 0 ? EXIT_OK : r;
        if (argc - optind > 0)
                return cli_usage_error(verb, "too many arguments");
        r = dvm_pool_list(cli->ctx, &names);
        if (r < 0)
                return cli_fail(cli, r, "pool list");
        if (cli->json) {
                json_object *a = json_object_new_array();
                for (char **n = names; *n; n++)
                        json_object_array_add(a, json_object_new_string(*n));
                cli_print_json(a);
        } else {
                for (char **n = names; *n; n++)
                        printf("%s\n", *n);
        }
        dvm_strv_free(names);
        return EXIT_OK;
}

static void print_info(const struct cli *cli, const struct dvm_pool_info *i)
{
        char a[32], b[32], c[32];

        if (cli->json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(i->name));
                json_object_object_add(o, "backend", json_object_new_string(dvm_backend_name(i->backend)));
                json_object_object_add(o, "active", json_object_new_boolean(i->active));
                json_object_object_add(o, "block_size", json_object_new_uint64(i->block_size));
                json_object_object_add(o, "data_total", json_object_new_uint64(i->data_total));
                json_object_object_add(o, "data_used", json_object_new_uint64(i->data_used));
                json_object_object_add(o, "metadata_total", json_object_new_uint64(i->metadata_total));
                json_object_object_add(o, "metadata_used", json_object_new_uint64(i->metadata_used));
                json_object_object_add(o, "transaction_id", json_object_new_uint64(i->transaction_id));
                json_object_object_add(o, "volumes", json_object_new_int((int)i->volumes));
                json_object_object_add(o, "data", json_object_new_string(i->data_path));
                json_object_object_add(o, "metadata", json_object_new_string(i->metadata_path));
                json_object_object_add(o, "skip_zeroing", json_object_new_boolean(i->skip_zeroing));
                cli_print_json(o);
                return;
        }
        printf("pool:        %s (%s, %s)\n", i->name, dvm_backend_name(i->backend), i->active ? "active" : "inactive");
        printf("block size:  %s\n", dvm_format_size(i->block_size, a, sizeof(a)));
        printf("data:        %s used of %s (%.1f%%)  %s\n", dvm_format_size(i->data_used, b, sizeof(b)),
               dvm_format_size(i->data_total, c, sizeof(c)),
               i->data_total ? 100.0 * (double)i->data_used / (double)i->data_total : 0.0, i->data_path);
        printf("metadata:    %s used of %s (%.1f%%)  %s\n", dvm_format_size(i->metadata_used, a, sizeof(a)),
               dvm_format_size(i->metadata_total, b, sizeof(b)),
               i->metadata_total ? 100.0 * (double)i->metadata_used / (double)i->metadata_total : 0.0,
               i->metadata_path);
        printf("volumes:     %u\ntransaction: %llu\n", i->volumes, (unsigned long long)i->transaction_id);
        if (i->backend == DVM_BACKEND_THIN)
                printf("zeroing:     %s\n", i->skip_zeroing ? "skipped (every free block reads zero)" : "on");
}

static int pool_info_or_activate(struct cli *cli, int argc, char **argv, const char *name)
{
        const struct verb *verb = self(name);
        struct dvm_pool_info info;
        dvm_pool *pool;
        int r = simple_opts(verb, argc, argv);

        if (r)
                return r < 0 ? EXIT_OK : r;
        if ((r = pool_arg(cli, verb, argc, argv)) || (r = cli_open_pool(cli, &pool)))
                return r;
        r = dvm_pool_info(pool, &info);
        if (r < 0) {
                r = cli_fail(cli, r, name);
        } else if (strcmp(name, "pool info") == 0 || cli->json) {
                print_info(cli, &info);
        } else {
                printf("pool %s is active\n", info.name);
        }
        dvm_pool_close(pool);
        return r;
}

static int pool_info(struct cli *cli, int argc, char **argv)
{
        return pool_info_or_activate(cli, argc, argv, "pool info");
}

static int pool_activate(struct cli *cli, int argc, char **argv)
{
        return pool_info_or_activate(cli, argc, argv, "pool activate");
}

const struct verb pool_verbs[] = {
        { "pool init", "[NAME] [--data DEV --metadata DEV | --data-size SIZE] [--block-size SIZE] "
                       "[--skip-zeroing yes|no] | --backend snap [--chunk-size SIZE] [--cow-percent N] | "
                       "--backend rbd [thin options] [--rbd-conf FILE] [--rbd-client ID] [--rbd-pool NAME] "
                       "[--host NAME]",
          "create a pool (default: file-backed under the state directory)", pool_init },
        { "pool list", "", "list the pools", pool_list },
        { "pool info", "[NAME]", "show a pool's devices and usage", pool_info },
        { "pool activate", "[NAME]", "bring a pool back after a reboot", pool_activate },
        {}
};
