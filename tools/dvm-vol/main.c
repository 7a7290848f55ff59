// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dvm-vol: the admin CLI. Global options, the verb table and dispatch; the verbs live in
 * verbs_pool.c and verbs_vm.c, output in output.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cli.h"

static void usage(FILE *f)
{
        fprintf(f, "Usage: dvm-vol [--state-dir DIR] [--pool NAME] [--lock-timeout S] [-jv] VERB ...\n"
                   "Copy-on-write volumes for disposable VMs on device-mapper.\n\nVerbs:\n");
        const struct verb *tables[] = { pool_verbs, vm_verbs, recover_verbs, xen_verbs, volume_verbs };
        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
                for (const struct verb *v = tables[t]; v->name; v++)
                        fprintf(f, "  %-16s %s\n", v->name, v->help);
        fprintf(f, "\n'dvm-vol VERB --help' shows a verb's options; dvm-vol(8) has the exit codes.\n");
}

int cli_usage_error(const struct verb *verb, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "dvm-vol %s: ", verb->name);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nUsage: dvm-vol %s %s\n", verb->name, verb->args);
        return EXIT_USAGE;
}

int cli_verb_help(const struct verb *verb, const char *options)
{
        printf("Usage: dvm-vol %s %s\n%s\n", verb->name, verb->args, verb->help);
        if (options && *options)
                printf("\nOptions:\n%s", options);
        return EXIT_OK;
}

int cli_parse_size(const struct verb *verb, const char *option, const char *arg, uint64_t *ret)
{
        int r = dvm_parse_size(arg, ret);
        if (r == -ERANGE)
                return cli_usage_error(verb, "%s: size \"%s\" is too large", option, arg);
        if (r < 0)
                return cli_usage_error(verb, "%s: invalid size \"%s\" (a non-zero multiple of 512 bytes, "
                                       "with an optional K, M, G or T suffix)", option, arg);
        return 0;
}

static int exit_code(int r)
{
        switch (-r) {
        case EINVAL: case ERANGE: case ENAMETOOLONG: return EXIT_USAGE;
        case ENOENT: case ENXIO: return EXIT_NOT_FOUND;
        case EEXIST: case EALREADY: return EXIT_EXISTS;
        case EBUSY: return EXIT_BUSY;
        case ENOSPC: return EXIT_NO_SPACE;
        case ENODEV: case EOPNOTSUPP: case EPERM: case EACCES: case EROFS: return EXIT_UNSUPPORTED;
        default: return EXIT_FAIL;
        }
}

int cli_fail(struct cli *cli, int r, const char *what)
{
        const char *msg = cli->ctx ? dvm_ctx_last_error(cli->ctx) : "";
        if (*msg)
                fprintf(stderr, "dvm-vol: %s: %s\n", what, msg);
        else
                fprintf(stderr, "dvm-vol: %s: %s\n", what, strerror(-r));
        return exit_code(r);
}

int cli_open_pool(struct cli *cli, dvm_pool **ret_pool)
{
        int r = dvm_pool_open(cli->ctx, cli->pool, ret_pool);
        return r < 0 ? cli_fail(cli, r, "cannot open pool") : 0;
}

static void log_stderr(void *userdata, enum dvm_log_level level, const char *msg)
{
        (void)userdata;
        /* errors are printed once, by cli_fail(), from the context's last error */
        if (level > DVM_LOG_ERR)
                fprintf(stderr, "dvm-vol: %s\n", msg);
}

static const struct verb *find_verb(int argc, char **argv, int *ret_words)
{
        const struct verb *tables[] = { pool_verbs, vm_verbs, recover_verbs, xen_verbs, volume_verbs };
        char two[64] = "";

        if (argc >= 2)
                snprintf(two, sizeof(two), "%s %s", argv[0], argv[1]);
        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
                for (const struct verb *v = tables[t]; v->name; v++) {
                        if (argc >= 2 && strcmp(v->name, two) == 0) {
                                *ret_words = 2;
                                return v;
                        }
                        if (strcmp(v->name, argv[0]) == 0) {
                                *ret_words = 1;
                                return v;
                        }
                }
        return NULL;
}

/* a whole number of seconds, 0 to a day */
static int parse_seconds(const char *arg, unsigned *ret)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(arg, &end, 10);
        if (errno || end == arg || *end || arg[0] == '-' || v > 86400)
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "state-dir", required_argument, NULL, 's' }, { "pool", required_argument, NULL, 'p' },
                { "json", no_argument, NULL, 'j' },             { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },             { "lock-timeout", required_argument, NULL, 'w' },
                {}
        };
        struct cli cli = {};
        const struct verb *verb;
        unsigned lock_timeout = 0;
        int c, words, r;

        while ((c = getopt_long(argc, argv, "+s:p:w:jvh", opts, NULL)) != -1) {
                switch (c) {
                case 's': cli.state_dir = optarg; break;
                case 'p': cli.pool = optarg; break;
                case 'j': cli.json = true; break;
                case 'v': cli.verbose++; break;
                case 'w':
                        if (parse_seconds(optarg, &lock_timeout) < 0) {
                                fprintf(stderr, "dvm-vol: --lock-timeout: invalid number of seconds \"%s\" "
                                                "(0 to 86400; 0 waits as long as it takes)\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'h': usage(stdout); return EXIT_OK;
                default: usage(stderr); return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return EXIT_USAGE;
        }
        verb = find_verb(argc - optind, argv + optind, &words);
        if (!verb) {
                fprintf(stderr, "dvm-vol: unknown verb \"%s\"; 'dvm-vol --help' lists them\n", argv[optind]);
                return EXIT_USAGE;
        }
        r = dvm_ctx_new(cli.state_dir, &cli.ctx);
        if (r < 0) {
                fprintf(stderr, "dvm-vol: invalid state directory \"%s\": it must be an absolute path\n",
                        cli.state_dir ? cli.state_dir : getenv("DVM_STATE_DIR"));
                return EXIT_USAGE;
        }
        dvm_ctx_set_log(cli.ctx, cli.verbose > 1 ? DVM_LOG_DEBUG : cli.verbose ? DVM_LOG_INFO : DVM_LOG_WARNING,
                        log_stderr, NULL);
        dvm_ctx_set_progress(cli.ctx, cli_progress, NULL);
        dvm_ctx_set_lock_timeout(cli.ctx, lock_timeout * 1000);
        /* verbs see their own words as argv[0..]: "pool init" runs with argv = {"init", ...} */
        optind += words - 1;
        r = verb->run(&cli, argc - optind, argv + optind);
        dvm_ctx_free(cli.ctx);
        return r;
}
