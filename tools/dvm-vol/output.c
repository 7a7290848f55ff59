// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dvm-vol output: JSON through json-c (the only file that builds JSON), text tables, and
 * the progress bar on a terminal.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

void cli_print_json(json_object *obj)
{
        puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(obj);
}

const char *cli_vm_state(const struct dvm_vm_info *vm)
{
        if (vm->wipe_queued)
                return "wipe-queued";
        return vm->ready ? "ready" : vm->running ? "running" : "halted";
}

static json_object *volume_json(const struct dvm_volume_info *v)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(v->name));
        json_object_object_add(o, "size", json_object_new_uint64(v->size));
        json_object_object_add(o, "snap_on_start", json_object_new_boolean(v->flags & DVM_VOL_SNAP_ON_START));
        json_object_object_add(o, "save_on_stop", json_object_new_boolean(v->flags & DVM_VOL_SAVE_ON_STOP));
        json_object_object_add(o, "rw", json_object_new_boolean(v->flags & DVM_VOL_RW));
        json_object_object_add(o, "thin_id", v->backend_id >= 0 ? json_object_new_int64(v->backend_id) : NULL);
        json_object_object_add(o, "source", v->source[0] ? json_object_new_string(v->source) : NULL);
        json_object_object_add(o, "outdated", json_object_new_boolean(v->outdated));
        json_object_object_add(o, "active", json_object_new_boolean(v->active));
        json_object_object_add(o, "used", json_object_new_uint64(v->used));
        json_object_object_add(o, "cow_used", json_object_new_uint64(v->cow_used));
        json_object_object_add(o, "cow_size", json_object_new_uint64(v->cow_size));
        json_object_object_add(o, "invalid", json_object_new_boolean(v->invalid));
        json_object_object_add(o, "path", v->path[0] ? json_object_new_string(v->path) : NULL);
        return o;
}

json_object *cli_vm_json(const struct dvm_vm_info *vm)
{
        json_object *o = json_object_new_object(), *vols = json_object_new_array();

        json_object_object_add(o, "name", json_object_new_string(vm->name));
        json_object_object_add(o, "kind", json_object_new_string(dvm_vm_kind_name(vm->kind)));
        json_object_object_add(o, "template", vm->template[0] ? json_object_new_string(vm->template) : NULL);
        json_object_object_add(o, "state", json_object_new_string(cli_vm_state(vm)));
        json_object_object_add(o, "ready", json_object_new_boolean(vm->ready));
        json_object_object_add(o, "wipe_queued", json_object_new_boolean(vm->wipe_queued));
        json_object_object_add(o, "named", json_object_new_boolean(vm->named));
        json_object_object_add(o, "outdated", json_object_new_boolean(vm->outdated));
        for (unsigned i = 0; i < vm->n_volumes; i++)
                json_object_array_add(vols, volume_json(&vm->volumes[i]));
        json_object_object_add(o, "volumes", vols);
        return o;
}

void cli_print_vm(const struct cli *cli, const struct dvm_vm_info *vm)
{
        char size[32], used[32];

        if (cli->json) {
                cli_print_json(cli_vm_json(vm));
                return;
        }
        printf("name:      %s\nkind:      %s\n", vm->name, dvm_vm_kind_name(vm->kind));
        if (vm->template[0])
                printf("template:  %s\n", vm->template);
        printf("state:     %s%s\n",
               vm->ready ? "ready (preloaded: built, not handed out; a spawn of its DVM Template takes it)"
               : cli_vm_state(vm), vm->outdated ? " (outdated)" : "");
        printf("volumes:\n");
        for (unsigned i = 0; i < vm->n_volumes; i++) {
                const struct dvm_volume_info *v = &vm->volumes[i];
                printf("  %-8s %7s  id %-6lld %s%s%s%s\n", v->name, dvm_format_size(v->size, size, sizeof(size)),
                       (long long)v->backend_id,
                       v->flags & DVM_VOL_SNAP_ON_START ? "snap_on_start " : "",
                       v->flags & DVM_VOL_SAVE_ON_STOP ? "save_on_stop " : "",
                       v->flags & (DVM_VOL_SNAP_ON_START | DVM_VOL_SAVE_ON_STOP) ? "" : "volatile ",
                       v->outdated ? "outdated" : "");
                if (v->source[0])
                        printf("           <- %s\n", v->source);
                if (v->active)
                        printf("           %s (%s used)\n", v->path, dvm_format_size(v->used, used, sizeof(used)));
                if (v->cow_size)
                        printf("           COW %s of %s (%.1f%%)%s\n", dvm_format_size(v->cow_used, used, sizeof(used)),
                               dvm_format_size(v->cow_size, size, sizeof(size)),
                               100.0 * (double)v->cow_used / (double)v->cow_size,
                               v->invalid ? "  INVALID: the kernel gave up on this snapshot (COW full or an I/O "
                                            "error); its I/O fails: destroy it" : "");
        }
}

void cli_print_devices(const struct cli *cli, const struct dvm_vm_info *vm)
{
        if (cli->json) {
                json_object *o = json_object_new_object(), *d = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(vm->name));
                for (unsigned i = 0; i < vm->n_volumes; i++)
                        json_object_object_add(d, vm->volumes[i].name, json_object_new_string(vm->volumes[i].path));
                json_object_object_add(o, "devices", d);
                cli_print_json(o);
                return;
        }
        printf("%s\n", vm->name);
        for (unsigned i = 0; i < vm->n_volumes; i++)
                printf("%s\n", vm->volumes[i].path);
}

void cli_progress(void *userdata, uint64_t done, uint64_t total)
{
        static struct timespec last;
        struct timespec now;
        (void)userdata;

        if (!total || !isatty(STDERR_FILENO))
                return;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (done < total && (now.tv_sec - last.tv_sec) * 1000000000L + (now.tv_nsec - last.tv_nsec) < 100000000L)
                return;
        last = now;
        unsigned pct = (unsigned)(done * 100 / total), width = 40, fill = pct * width / 100;
        fprintf(stderr, "\r[%.*s%*s] %3u%%", (int)fill, "########################################",
                (int)(width - fill), "", pct);
        if (done >= total)
                fputc('\n', stderr);
}
