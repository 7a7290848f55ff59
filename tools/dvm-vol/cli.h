/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dvm-vol internals shared by its files: the global options, the verb table entry, the
 * exit codes (documented in dvm-vol(8)) and the output helpers.
 */
#ifndef DVM_CLI_H
#define DVM_CLI_H

#include <json-c/json.h>
#include <stdbool.h>

#include "dvm.h"

enum exit_code {
        EXIT_OK = 0,
        EXIT_FAIL = 1,        /* the kernel or I/O failed */
        EXIT_USAGE = 2,       /* bad syntax, name, size or other argument */
        EXIT_NOT_FOUND = 3,   /* no such pool, VM or image */
        EXIT_EXISTS = 4,      /* exists already, or already in that state */
        EXIT_BUSY = 5,        /* in use, or other VMs depend on it */
        EXIT_NO_SPACE = 6,    /* the pool is (nearly) full */
        EXIT_UNSUPPORTED = 7, /* no device-mapper, a missing target, not permitted */
};

struct cli {
        const char *state_dir;
        const char *pool;
        bool json;
        int verbose;
        dvm_ctx *ctx;
};

struct verb {
        const char *name;   /* "pool init", "spawn", ... */
        const char *args;   /* synopsis after the name */
        const char *help;   /* one line */
        int (*run)(struct cli *cli, int argc, char **argv);
};

extern const struct verb pool_verbs[];
extern const struct verb vm_verbs[];
extern const struct verb recover_verbs[];
extern const struct verb xen_verbs[];
extern const struct verb volume_verbs[];

/** cli_fail() - print "dvm-vol: <what>: <library message>" and map @r to an exit code. */
int cli_fail(struct cli *cli, int r, const char *what);

/** cli_usage_error() - print a usage error for @verb and return EXIT_USAGE. */
int cli_usage_error(const struct verb *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** cli_verb_help() - print the help of @verb to stdout; returns EXIT_OK. */
int cli_verb_help(const struct verb *verb, const char *options);

/** cli_parse_size() - parse a SIZE argument of @verb's @option. Returns 0 or EXIT_USAGE. */
int cli_parse_size(const struct verb *verb, const char *option, const char *arg, uint64_t *ret);

/** cli_open_pool() - open the selected pool. Returns 0 or an exit code. */
int cli_open_pool(struct cli *cli, dvm_pool **ret_pool);

/** cli_print_json() - print @obj (pretty) and drop the reference. */
void cli_print_json(json_object *obj);

/** cli_vm_state() - "running", "ready" (preloaded), "halted", or "wipe-queued" for a destroyed VM whose wipe waits for the worker. */
const char *cli_vm_state(const struct dvm_vm_info *vm);

/** cli_vm_json() - a VM as a JSON object. */
json_object *cli_vm_json(const struct dvm_vm_info *vm);

/** cli_print_vm() - print a VM for `info`, as text or JSON. */
void cli_print_vm(const struct cli *cli, const struct dvm_vm_info *vm);

/** cli_print_devices() - print a started VM: its name and device paths, as text or JSON. */
void cli_print_devices(const struct cli *cli, const struct dvm_vm_info *vm);

/** cli_progress() - a progress bar on stderr when it is a terminal (dvm_progress_fn). */
void cli_progress(void *userdata, uint64_t done, uint64_t total);

#endif
