// SPDX-License-Identifier: GPL-2.0-or-later
/* dvm-vol VM verbs: template create/import, dvm create, preload, spawn, start, stop, destroy, list, info. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct vm_args {
        const char *template;
        const char *root;
        const char *private;
        const char *name;
        const char *vdev_base;
        bool xl_disks;
        bool wait;
        const char *count;
        const char *from_host;
        uint64_t root_size;
        uint64_t private_size;
        struct dvm_spawn_config spawn;
};

enum { OPT_TEMPLATE = 256, OPT_ROOT, OPT_PRIVATE, OPT_ROOT_SIZE, OPT_PRIVATE_SIZE, OPT_NAME, OPT_XL_DISKS, OPT_VDEV_BASE,
       OPT_IN_RAM, OPT_RAM_LIMIT, OPT_WAIT, OPT_COUNT, OPT_FROM_HOST };

static const struct option vm_opts[] = {
        { "template", required_argument, NULL, OPT_TEMPLATE },
        { "root", required_argument, NULL, OPT_ROOT },
        { "private", required_argument, NULL, OPT_PRIVATE },
        { "root-size", required_argument, NULL, OPT_ROOT_SIZE },
        { "private-size", required_argument, NULL, OPT_PRIVATE_SIZE },
        { "name", required_argument, NULL, OPT_NAME },
        { "xl-disks", no_argument, NULL, OPT_XL_DISKS },
        { "vdev-base", required_argument, NULL, OPT_VDEV_BASE },
        { "in-ram", no_argument, NULL, OPT_IN_RAM },
        { "ram-limit", required_argument, NULL, OPT_RAM_LIMIT },
        { "wait", no_argument, NULL, OPT_WAIT },
        { "count", required_argument, NULL, OPT_COUNT },
        { "from-host", required_argument, NULL, OPT_FROM_HOST },
        { "help", no_argument, NULL, 'h' },
        {}
};

static const struct verb *self(const char *name)
{
        for (const struct verb *v = vm_verbs; v->name; v++)
                if (strcmp(v->name, name) == 0)
                        return v;
        return NULL;
}

/*
 * Parse @verb's options (only those named in @allowed, by their letters) and its
 * positional arguments: exactly @min..@max. Returns 0, -1 after --help, or an exit code.
 */
static int parse(const struct verb *verb, const char *allowed, int argc, char **argv, int min, int max,
                 struct vm_args *a)
{
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", vm_opts, NULL)) != -1) {
                static const char letters[] = "trpRPnxviLwcf";
                if (c == 'h')
                        return cli_verb_help(verb, NULL) - 1;
                if (c < OPT_TEMPLATE || !strchr(allowed, letters[c - OPT_TEMPLATE]))
                        return cli_usage_error(verb, "unknown option \"%s\"", argv[optind - 1]);
                switch (c) {
                case OPT_TEMPLATE: a->template = optarg; break;
                case OPT_ROOT: a->root = optarg; break;
                case OPT_PRIVATE: a->private = optarg; break;
                case OPT_NAME: a->name = optarg; break;
                case OPT_XL_DISKS: a->xl_disks = true; break;
                case OPT_VDEV_BASE: a->vdev_base = optarg; break;
                case OPT_ROOT_SIZE:
                        if ((r = cli_parse_size(verb, "--root-size", optarg, &a->root_size)))
                                return r;
                        break;
                case OPT_PRIVATE_SIZE:
                        if ((r = cli_parse_size(verb, "--private-size", optarg, &a->private_size)))
                                return r;
                        break;
                case OPT_IN_RAM: a->spawn.in_ram = true; break;
                case OPT_WAIT: a->wait = true; break;
                case OPT_COUNT: a->count = optarg; break;
                case OPT_FROM_HOST: a->from_host = optarg; break;
                case OPT_RAM_LIMIT:
                        if ((r = cli_parse_size(verb, "--ram-limit", optarg, &a->spawn.ram_limit)))
                                return r;
                        break;
                }
        }
        int n = argc - optind;
        if (a->spawn.ram_limit && !a->spawn.in_ram)
                return cli_usage_error(verb, "--ram-limit goes with --in-ram");
        if (n < min)
                return cli_usage_error(verb, "missing argument");
        if (n > max)
                return cli_usage_error(verb, "too many arguments");
        return 0;
}

/* Parse, open the pool, run @body; the common frame of every VM verb. */
#define VM_VERB(verb_name, allowed, min, max, body)                                     \
        const struct verb *verb = self(verb_name);                                      \
        struct vm_args a = {};                                                          \
        dvm_pool *pool = NULL;                                                          \
        int r = parse(verb, allowed, argc, argv, min, max, &a);                         \
        if (r)                                                                          \
                return r < 0 ? EXIT_OK : r;                                             \
        argv += optind;                                                                 \
        argc -= optind;                                                                 \
        if ((r = cli_open_pool(cli, &pool)))                                            \
                return r;                                                               \
        body;                                                                           \
        dvm_pool_close(pool);                                                           \
        return r

static int template_create(struct cli *cli, int argc, char **argv)
{
        VM_VERB("template create", "RP", 1, 1, {
                if (!a.root_size || !a.private_size)
                        r = cli_usage_error(verb, "--root-size and --private-size are required");
                else if ((r = dvm_template_create(pool, argv[0], a.root_size, a.private_size)) < 0)
                        r = cli_fail(cli, r, "template create");
        });
}

static int template_import(struct cli *cli, int argc, char **argv)
{
        VM_VERB("template import", "rpf", 1, 1, {
                if (a.from_host && (a.root || a.private))
                        r = cli_usage_error(verb, "--from-host excludes --root and --private");
                else if (a.from_host && (r = dvm_template_follow(pool, argv[0], a.from_host)) < 0)
                        r = cli_fail(cli, r, "template import");
                else if (a.from_host)
                        ;
                else if (!a.root)
                        r = cli_usage_error(verb, "--root IMAGE (or --from-host HOST) is required");
                else if ((r = dvm_template_import(pool, argv[0], a.root, a.private)) < 0)
                        r = cli_fail(cli, r, "template import");
        });
}

static int dvm_create(struct cli *cli, int argc, char **argv)
{
        VM_VERB("dvm create", "tP", 1, 1, {
                if (!a.template)
                        r = cli_usage_error(verb, "--template TEMPLATE is required");
                else if ((r = dvm_dvm_create(pool, argv[0], a.template, a.private_size)) < 0)
                        r = cli_fail(cli, r, "dvm create");
        });
}

static void print_preload(const struct dvm_preload_info *p)
{
        printf("%-24s %5u %5u", p->dvm, p->count, p->ready);
        if (p->outdated)
                printf("  (%u outdated, being replaced)", p->outdated);
        putchar('\n');
        if (p->note[0])
                printf("  %s\n", p->note);
}

static json_object *preload_json(const struct dvm_preload_info *p)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "dvm", json_object_new_string(p->dvm));
        json_object_object_add(o, "count", json_object_new_int64(p->count));
        json_object_object_add(o, "ready", json_object_new_int64(p->ready));
        json_object_object_add(o, "outdated", json_object_new_int64(p->outdated));
        json_object_object_add(o, "note", p->note[0] ? json_object_new_string(p->note) : NULL);
        return o;
}

/* preload: set a DVM Template's count (--count N), or show it (all settings without DVM). */
static int preload(struct cli *cli, int argc, char **argv)
{
        struct dvm_preload_info one, *all = NULL;
        VM_VERB("preload", "c", 0, 1, {
                char *end = NULL;
                unsigned long n = a.count ? strtoul(a.count, &end, 10) : 0;
                int k = 1;
                if (a.count && (!*a.count || *end || a.count[0] == '-' || n > DVM_PRELOAD_MAX))
                        r = cli_usage_error(verb, "--count \"%s\" is not a number from 0 to %u", a.count,
                                            DVM_PRELOAD_MAX);
                else if (a.count && argc == 0)
                        r = cli_usage_error(verb, "--count goes with a DVM Template");
                else if (a.count)
                        r = dvm_preload_set(pool, argv[0], (unsigned)n);
                else if (argc == 1)
                        r = dvm_preload_get(pool, argv[0], &one);
                else
                        r = k = dvm_preload_list(pool, &all);
                if (r < 0)
                        r = cli_fail(cli, r, "preload");
                else if (!a.count) {
                        const struct dvm_preload_info *list = argc == 1 ? &one : all;
                        if (cli->json) {
                                json_object *arr = json_object_new_array();
                                for (int i = 0; i < k; i++)
                                        json_object_array_add(arr, preload_json(&list[i]));
                                cli_print_json(argc == 1 ? json_object_get(json_object_array_get_idx(arr, 0)) : arr);
                                if (argc == 1)
                                        json_object_put(arr);
                        } else {
                                printf("%-24s %5s %5s\n", "DVM", "COUNT", "READY");
                                for (int i = 0; i < k; i++)
                                        print_preload(&list[i]);
                        }
                        r = EXIT_OK;
                }
                free(all);
        });
}

/* --xl-disks: spawn nothing now; print the disk lines with which block-dvm spawns the
 * disposable when the domain starts. */
static int xl_disks(struct cli *cli, const char *dvm, const struct vm_args *a, dvm_pool *pool)
{
        char **lines = NULL;
        int n = dvm_xl_disks(pool, dvm, a->vdev_base, &lines);

        if (n < 0)
                return cli_fail(cli, n, "spawn --xl-disks");
        for (int i = 0; i < n; i++)
                printf("%s\n", lines[i]);
        dvm_strv_free(lines);
        return EXIT_OK;
}

static int spawn(struct cli *cli, int argc, char **argv)
{
        struct dvm_vm_info vm;
        VM_VERB("spawn", "nxviL", 1, 1, {
                if (a.xl_disks && a.name)
                        r = cli_usage_error(verb, "--xl-disks and --name: the domain's first disk spawns an unnamed "
                                            "disposable");
                else if (a.xl_disks && a.spawn.in_ram)
                        r = cli_usage_error(verb, "--xl-disks and --in-ram: the hook spawns disposables on the "
                                            "pool's disk, not in RAM");
                else if (a.xl_disks)
                        r = xl_disks(cli, argv[0], &a, pool);
                else if (a.vdev_base)
                        r = cli_usage_error(verb, "--vdev-base goes with --xl-disks");
                else if ((r = dvm_spawn_ex(pool, argv[0], a.name, &a.spawn, &vm)) >= 0)
                        cli_print_devices(cli, &vm);
                if (r < 0)
                        r = cli_fail(cli, r, "spawn");
        });
}

static int start(struct cli *cli, int argc, char **argv)
{
        struct dvm_vm_info vm;
        VM_VERB("start", "", 1, 1, {
                r = dvm_vm_start(pool, argv[0], &vm);
                if (r < 0)
                        r = cli_fail(cli, r, "start");
                else
                        cli_print_devices(cli, &vm);
        });
}

static int stop(struct cli *cli, int argc, char **argv)
{
        VM_VERB("stop", "", 1, 1, {
                if ((r = dvm_vm_stop(pool, argv[0])) < 0)
                        r = cli_fail(cli, r, "stop");
        });
}

static int destroy(struct cli *cli, int argc, char **argv)
{
        VM_VERB("destroy", "w", 1, 1024, {
                for (int i = 0; i < argc; i++) {
                        int q = dvm_vm_destroy_ex(pool, argv[i], a.wait ? 0 : DVM_DESTROY_LATER);
                        if (q < 0 && !r)
                                r = cli_fail(cli, q, "destroy");
                        else if (q < 0)
                                cli_fail(cli, q, "destroy");
                }
        });
}

static int list(struct cli *cli, int argc, char **argv)
{
        struct dvm_vm_info *vms = NULL;
        VM_VERB("list", "", 0, 0, {
                int n = dvm_vm_list(pool, &vms);
                if (n < 0) {
                        r = cli_fail(cli, n, "list");
                } else if (cli->json) {
                        json_object *arr = json_object_new_array();
                        for (int i = 0; i < n; i++)
                                json_object_array_add(arr, cli_vm_json(&vms[i]));
                        cli_print_json(arr);
                } else {
                        printf("%-24s %-13s %-24s %s\n", "NAME", "KIND", "TEMPLATE", "STATE");
                        for (int i = 0; i < n; i++)
                                printf("%-24s %-13s %-24s %s%s\n", vms[i].name, dvm_vm_kind_name(vms[i].kind),
                                       vms[i].template[0] ? vms[i].template : "-",
                                       cli_vm_state(&vms[i]), vms[i].outdated ? " outdated" : "");
                }
                free(vms);
        });
}

static int info(struct cli *cli, int argc, char **argv)
{
        struct dvm_vm_info vm;
        VM_VERB("info", "", 1, 1, {
                r = dvm_vm_get(pool, argv[0], &vm);
                if (r < 0)
                        r = cli_fail(cli, r, "info");
                else
                        cli_print_vm(cli, &vm);
        });
}

const struct verb vm_verbs[] = {
        { "template create", "NAME --root-size SIZE --private-size SIZE", "create an empty TemplateVM", template_create },
        { "template import", "NAME --root IMAGE [--private IMAGE] | NAME --from-host HOST",
          "create a TemplateVM from images, or one that follows HOST's of that name (rbd)", template_import },
        { "dvm create", "NAME --template TEMPLATE [--private-size SIZE]", "create a DVM Template", dvm_create },
        { "preload", "[DVM [--count N]]", "keep N disposables of DVM ready for spawn (0: none); show the settings",
          preload },
        { "spawn", "DVM [--name NAME] [--in-ram [--ram-limit SIZE]] | DVM --xl-disks [--vdev-base xvda]",
          "start a disposable, print its name and devices; or print xl disk lines that spawn one", spawn },
        { "start", "NAME", "start a template, DVM Template or named disposable", start },
        { "stop", "NAME", "stop a VM (an unnamed disposable is destroyed)", stop },
        { "destroy", "NAME... [--wait]", "remove VMs and their volumes (a disposable's wipe runs after, unless --wait)",
          destroy },
        { "list", "", "list the VMs of the pool", list },
        { "info", "NAME", "show a VM's layers, sizes, state and usage", info },
        {}
};
