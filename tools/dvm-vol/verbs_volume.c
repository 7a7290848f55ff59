// SPDX-License-Identifier: GPL-2.0-or-later
/* dvm-vol volume verbs, for a qube's volumes (the per-volume calls a Qubes pool driver
 * makes): list a volume's revisions, revert to one, grow it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* Take "VM/VOLUME" apart into @vm (the buffer) and @ret_volume; --help and the count of
 * arguments (@min to @max) checked. Returns 0, -1 after --help, or an exit code. */
static int parse(const struct verb *verb, int argc, char **argv, int min, int max, char vm[DVM_NAME_MAX + 1],
                 const char **ret_volume)
{
        char *slash;

        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
                return cli_verb_help(verb, "") - 1;
        if (argc - 1 < min || argc - 1 > max)
                return cli_usage_error(verb, argc - 1 < min ? "missing arguments" : "too many arguments");
        slash = strrchr(argv[1], '/');
        if (!slash || slash == argv[1] || (size_t)(slash - argv[1]) > DVM_NAME_MAX)
                return cli_usage_error(verb, "\"%s\" is not VM/VOLUME", argv[1]);
        snprintf(vm, DVM_NAME_MAX + 1, "%.*s", (int)(slash - argv[1]), argv[1]);
        *ret_volume = slash + 1;
        return 0;
}

static int revisions(struct cli *cli, int argc, char **argv)
{
        const struct verb *verb = &volume_verbs[0];
        struct dvm_volume_revision *revs = NULL;
        char vm[DVM_NAME_MAX + 1], size[32], when[32];
        const char *volume;
        dvm_pool *pool = NULL;
        int r = parse(verb, argc, argv, 1, 1, vm, &volume), n;

        if (r)
                return r < 0 ? EXIT_OK : r;
        if ((r = cli_open_pool(cli, &pool)))
                return r;
        n = dvm_volume_revisions(pool, vm, volume, &revs);
        if (n < 0)
                r = cli_fail(cli, n, argv[1]);
        if (cli->json && n >= 0) {
                json_object *a = json_object_new_array();
                for (int i = 0; i < n; i++) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "id", json_object_new_int64(revs[i].id));
                        json_object_object_add(o, "time", json_object_new_int64(revs[i].time));
                        json_object_object_add(o, "size", json_object_new_int64((int64_t)revs[i].size));
                        json_object_array_add(a, o);
                }
                cli_print_json(a);
        } else {
                for (int i = 0; i < n; i++) {
                        time_t t = (time_t)revs[i].time;
                        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime(&t));
                        printf("%-10" PRId64 " %s %s\n", revs[i].id, when, dvm_format_size(revs[i].size, size, sizeof(size)));
                }
        }
        free(revs);
        dvm_pool_close(pool);
        return r;
}

static int revert(struct cli *cli, int argc, char **argv)
{
        const struct verb *verb = &volume_verbs[1];
        char vm[DVM_NAME_MAX + 1], *end;
        const char *volume;
        long long id = -1;
        dvm_pool *pool = NULL;
        int r = parse(verb, argc, argv, 1, 2, vm, &volume);

        if (r)
                return r < 0 ? EXIT_OK : r;
        if (argc == 3) {
                errno = 0;
                id = strtoll(argv[2], &end, 10);
                if (errno || *end || end == argv[2] || id < 0)
                        return cli_usage_error(verb, "revision \"%s\" is not a revision id", argv[2]);
        }
        if ((r = cli_open_pool(cli, &pool)))
                return r;
        r = dvm_volume_revert(pool, vm, volume, id);
        r = r < 0 ? cli_fail(cli, r, "revert") : EXIT_OK;
        dvm_pool_close(pool);
        return r;
}

static int resize(struct cli *cli, int argc, char **argv)
{
        const struct verb *verb = &volume_verbs[2];
        char vm[DVM_NAME_MAX + 1];
        const char *volume;
        uint64_t size;
        dvm_pool *pool = NULL;
        int r = parse(verb, argc, argv, 2, 2, vm, &volume);

        if (r)
                return r < 0 ? EXIT_OK : r;
        if ((r = cli_parse_size(verb, "SIZE", argv[2], &size)))
                return r;
        if ((r = cli_open_pool(cli, &pool)))
                return r;
        r = dvm_volume_resize(pool, vm, volume, size);
        r = r < 0 ? cli_fail(cli, r, "resize") : EXIT_OK;
        dvm_pool_close(pool);
        return r;
}

const struct verb volume_verbs[] = {
        { "volume revisions", "VM/VOLUME", "list a qube volume's revisions, newest first", revisions },
        { "volume revert", "VM/VOLUME [ID]", "make a revision (default: the newest) a qube volume's data again", revert },
        { "volume resize", "VM/VOLUME SIZE", "grow a qube volume (it cannot shrink)", resize },
        {}
};
