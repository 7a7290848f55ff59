// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier: the dvm-vol verbs that the lifecycle suite does not reach: pool list and info
 * (text and JSON, checked against the kernel's status line), list --json, named
 * disposables (kept when stopped, fresh layers at every start), stop of an unnamed one.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmtest.h"

#define MiB (1ULL << 20)
static struct vt vt;

static void setup(void) { vt_init(&vt, "1G"); }
static void teardown(void) { vt_cleanup(&vt); }

TestSuite(cli_verbs, .init = setup, .fini = teardown, .timeout = 300);

static struct vt_run ok(struct vt_run r, const char *what)
{
        cr_assert_eq(r.status, 0, "%s: exit %d: %s", what, r.status, r.err);
        return r;
}

static json_object *json_of(struct vt_run *r, const char *what)
{
        json_object *o = json_tokener_parse(r->out);
        cr_assert(o, "%s: not JSON:\n%s", what, r->out);
        return o;
}

static int64_t field_int(json_object *o, const char *key)
{
        json_object *v;
        cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key, json_object_to_json_string(o));
        return json_object_get_int64(v);
}

Test(cli_verbs, pool_list_and_info_agree_with_the_kernel)
{
        int st;
        struct vt_run r = ok(vt_cli(&vt, "pool", "list", NULL), "pool list");
        char want[64];
        snprintf(want, sizeof(want), "%s\n", vt.pool);
        cr_assert_str_eq(r.out, want, "pool list: %s", r.out);
        vt_run_free(&r);

        r = ok(vt_cli(&vt, "template", "create", "t", "--root-size", "16M", "--private-size", "8M", NULL), "create");
        vt_run_free(&r);
        r = ok(vt_cli(&vt, "start", "t", NULL), "start");
        vt_run_free(&r);
        vt_pattern(vt_dev(&vt, "t", "root"), 0, 2 * MiB, 3);

        r = ok(vt_cli(&vt, "--json", "pool", "info", NULL), "pool info --json");
        json_object *o = json_of(&r, "pool info");
        char *status = vt_sh(&st, "dmsetup status DVM-%s | awk '{print $6}'", vt.pool);
        unsigned long long used = 0, total = 0;
        cr_assert_eq(sscanf(status, "%llu/%llu", &used, &total), 2, "pool status: %s", status);
        cr_assert_eq(field_int(o, "data_used"), (int64_t)used * 65536, "data_used vs kernel %s", status);
        cr_assert_eq(field_int(o, "data_total"), (int64_t)total * 65536, "data_total vs kernel %s", status);
        cr_assert_eq(field_int(o, "data_total"), (int64_t)(1024 * MiB), "data_total of a 1G pool");
        cr_assert_eq(field_int(o, "block_size"), 65536, "block_size");
        cr_assert_eq(field_int(o, "volumes"), 3, "volumes");
        json_object_put(o);
        free(status);
        vt_run_free(&r);

        r = ok(vt_cli(&vt, "pool", "info", NULL), "pool info");
        cr_assert(strstr(r.out, "(thin, active)") && strstr(r.out, "2M used of 1G"), "pool info:\n%s", r.out);
        vt_run_free(&r);
        r = ok(vt_cli(&vt, "stop", "t", NULL), "stop");
        vt_run_free(&r);
}

Test(cli_verbs, named_disposable_gets_fresh_layers_each_start)
{
        struct vt_run r;
        const char *steps[][8] = {
                { "template", "create", "t", "--root-size", "16M", "--private-size", "8M" },
                { "dvm", "create", "d", "--template", "t" },
                { "spawn", "d", "--name", "work" },
        };
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
                r = ok(vt_cli(&vt, steps[i][0], steps[i][1], steps[i][2], steps[i][3], steps[i][4], steps[i][5],
                              steps[i][6], NULL),
                       steps[i][0]);
                vt_run_free(&r);
        }
        vt_pattern(vt_dev(&vt, "work", "root"), 0, MiB, 77);
        vt_pattern(vt_dev(&vt, "work", "private"), 0, MiB, 78);
        r = ok(vt_cli(&vt, "stop", "work", NULL), "stop work");
        vt_run_free(&r);

        r = ok(vt_cli(&vt, "--json", "list", NULL), "list --json");
        json_object *arr = json_of(&r, "list"), *state = NULL;
        bool found = false;
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                json_object *vm = json_object_array_get_idx(arr, i), *name;
                if (json_object_object_get_ex(vm, "name", &name) && strcmp(json_object_get_string(name), "work") == 0) {
                        found = json_object_object_get_ex(vm, "state", &state);
                        cr_assert_str_eq(json_object_get_string(state), "halted", "a stopped named disposable");
                }
        }
        cr_assert(found, "the named disposable went with its stop:\n%s", r.out);
        json_object_put(arr);
        vt_run_free(&r);
        cr_assert(access(vt_dev(&vt, "work", "root"), F_OK) != 0, "a halted disposable keeps its devices");

        r = ok(vt_cli(&vt, "start", "work", NULL), "start work");
        vt_run_free(&r);
        cr_assert(!vt_has_pattern(vt_dev(&vt, "work", "root"), 0, MiB, 77), "root kept the last run's write");
        cr_assert(!vt_has_pattern(vt_dev(&vt, "work", "private"), 0, MiB, 78), "private kept the last run's write");
        r = ok(vt_cli(&vt, "destroy", "--wait", "work", NULL), "destroy work");
        vt_run_free(&r);
}

Test(cli_verbs, stopping_an_unnamed_disposable_destroys_it)
{
        struct vt_run r = ok(vt_cli(&vt, "template", "create", "t", "--root-size", "16M", "--private-size", "8M", NULL), "t");
        vt_run_free(&r);
        r = ok(vt_cli(&vt, "dvm", "create", "d", "--template", "t", NULL), "d");
        vt_run_free(&r);
        char *before = vt_thin_ids(&vt);
        r = ok(vt_cli(&vt, "spawn", "d", NULL), "spawn");
        char name[80];
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(r.out, "\n"), r.out);
        vt_run_free(&r);
        r = ok(vt_cli(&vt, "stop", name, NULL), "stop");
        vt_run_free(&r);
        r = vt_cli(&vt, "info", name, NULL);
        cr_assert_eq(r.status, 3, "info after stop of an unnamed disposable: exit %d", r.status);
        vt_run_free(&r);
        char *after = vt_thin_ids(&vt);
        cr_assert_str_eq(after, before, "thin ids: %s, before the spawn: %s", after, before);
        free(before);
        free(after);
}
