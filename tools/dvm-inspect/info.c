// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The `info` file: a volume and its layer chain as JSON (json-c), with what libblkid finds
 * on each layer, read through a view that exists only while it is probed.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "inspect.h"

static json_object *str_or_null(const char *s)
{
        return s && *s ? json_object_new_string(s) : NULL;
}

static json_object *probe_json(const struct dvm_probe *p)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "usage", str_or_null(p->usage));
        json_object_object_add(o, "type", str_or_null(p->type));
        json_object_object_add(o, "version", str_or_null(p->version));
        json_object_object_add(o, "label", str_or_null(p->label));
        json_object_object_add(o, "uuid", str_or_null(p->uuid));
        json_object_object_add(o, "pttype", str_or_null(p->pttype));
        json_object_object_add(o, "ptuuid", str_or_null(p->ptuuid));
        json_object_object_add(o, "partitions", json_object_new_int((int)p->partitions));
        json_object_object_add(o, "ambivalent", json_object_new_boolean(p->ambivalent));
        return o;
}

/* Probe one layer: "blkid" holds the result, or "blkid_error" says why there is none. */
static void add_probe(struct inspect *in, dvm_pool *pool, const struct node *node, int64_t id, json_object *o)
{
        dvm_layer *layer = NULL;
        struct dvm_probe p;
        int r = dvm_layer_open(pool, node->vm, node->volume, id, &layer);

        if (r >= 0)
                r = dvm_layer_probe(layer, &p);
        if (r >= 0) {
                json_object_object_add(o, "blkid", probe_json(&p));
        } else {
                const char *msg = dvm_ctx_last_error(in->ctx);
                json_object_object_add(o, "blkid", NULL);
                json_object_object_add(o, "blkid_error", json_object_new_string(*msg ? msg : strerror(-r)));
        }
        dvm_layer_close(layer);
}

static json_object *layer_json(struct inspect *in, dvm_pool *pool, const struct node *node, unsigned index,
                               const struct dvm_layer_info *l)
{
        json_object *o = json_object_new_object();
        char name[64], file[80];

        snprintf(file, sizeof(file), "layers/%s", path_layer_name(index, l->id, name, sizeof(name)));
        json_object_object_add(o, "file", json_object_new_string(file));
        json_object_object_add(o, "id", json_object_new_int64(l->id));
        json_object_object_add(o, "origin", l->origin >= 0 ? json_object_new_int64(l->origin) : NULL);
        json_object_object_add(o, "owner", json_object_new_string(l->owner));
        json_object_object_add(o, "state", json_object_new_string(l->running ? "running" : "committed"));
        json_object_object_add(o, "size", json_object_new_int64((int64_t)l->size));
        add_probe(in, pool, node, l->id, o);
        return o;
}

static const struct dvm_volume_info *find_volume(const struct dvm_vm_info *vm, const char *name)
{
        for (unsigned i = 0; i < vm->n_volumes; i++)
                if (strcmp(vm->volumes[i].name, name) == 0)
                        return &vm->volumes[i];
        return NULL;
}

static json_object *volume_json(const struct node *node, const struct dvm_pool_info *pi,
                                const struct dvm_vm_info *vm, const struct dvm_volume_info *v)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "pool", json_object_new_string(node->pool));
        json_object_object_add(o, "backend", json_object_new_string(dvm_backend_name(pi->backend)));
        json_object_object_add(o, "vm", json_object_new_string(vm->name));
        json_object_object_add(o, "kind", json_object_new_string(dvm_vm_kind_name(vm->kind)));
        json_object_object_add(o, "volume", json_object_new_string(v->name));
        json_object_object_add(o, "state", json_object_new_string(vm->running ? "running" : "halted"));
        json_object_object_add(o, "size", json_object_new_int64((int64_t)v->size));
        json_object_object_add(o, "snap_on_start", json_object_new_boolean(v->flags & DVM_VOL_SNAP_ON_START));
        json_object_object_add(o, "save_on_stop", json_object_new_boolean(v->flags & DVM_VOL_SAVE_ON_STOP));
        json_object_object_add(o, "rw", json_object_new_boolean(v->flags & DVM_VOL_RW));
        json_object_object_add(o, "source", str_or_null(v->source));
        json_object_object_add(o, "outdated", json_object_new_boolean(v->outdated));
        json_object_object_add(o, "active", json_object_new_boolean(v->active));
        json_object_object_add(o, "device", str_or_null(v->path));
        json_object_object_add(o, "usage", v->active ? json_object_new_int64((int64_t)v->used) : NULL);
        return o;
}

int info_json(struct inspect *in, dvm_pool *pool, const struct node *node, char **ret_text, size_t *ret_len)
{
        _cleanup_free_ struct dvm_layer_info *chain = NULL;
        const struct dvm_volume_info *v;
        struct dvm_pool_info pi = {};
        struct dvm_vm_info vm;
        json_object *o, *layers;
        const char *text;
        char *out;
        int n, r;

        if ((r = dvm_vm_get(pool, node->vm, &vm)) < 0 || (r = dvm_pool_info(pool, &pi)) < 0)
                return tree_fail(in, r, node->vm);
        v = find_volume(&vm, node->volume);
        if (!v)
                return -ENOENT;
        n = dvm_volume_layers(pool, node->vm, node->volume, &chain);
        if (n < 0)
                return tree_fail(in, n, node->vm);
        o = volume_json(node, &pi, &vm, v);
        layers = json_object_new_array();
        for (int i = 0; i < n; i++)
                json_object_array_add(layers, layer_json(in, pool, node, (unsigned)i, &chain[i]));
        json_object_object_add(o, "layers", layers);
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        out = text ? malloc(strlen(text) + 2) : NULL;
        if (out) {
                *ret_len = (size_t)sprintf(out, "%s\n", text);
                *ret_text = out;
        }
        json_object_put(o);
        return out ? 0 : -ENOMEM;
}
