// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The dvm-inspect tree, asked of the catalog on every call (nothing cached but the open
 * pool handles): which nodes exist, their attributes, the names in a directory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "inspect.h"

/* Reads of images want big requests: st_blksize is what cat and cp size theirs by. */
#define IO_SIZE (1U << 20)

int tree_fail(struct inspect *in, int r, const char *what)
{
        const char *msg = dvm_ctx_last_error(in->ctx);

        if (r != -ENOENT)
                syslog(LOG_WARNING, "%s: %s", what, *msg ? msg : strerror(-r));
        return r;
}

static int pool_known(struct inspect *in, const char *name)
{
        char **names = NULL;
        int n = dvm_pool_list(in->ctx, &names), r = -ENOENT;

        if (n < 0)
                return n;
        for (int i = 0; i < n; i++)
                if (strcmp(names[i], name) == 0)
                        r = 0;
        dvm_strv_free(names);
        return r;
}

int tree_pool(struct inspect *in, const char *name, dvm_pool **ret_pool)
{
        struct pool_slot *slots;
        dvm_pool *pool;
        int r;

        for (size_t i = 0; i < in->n_pools; i++)
                if (strcmp(in->pools[i].name, name) == 0) {
                        *ret_pool = in->pools[i].pool;
                        return 0;
                }
        r = pool_known(in, name);
        if (r < 0)
                return r;
        r = dvm_pool_open(in->ctx, name, &pool);
        if (r < 0)
                return tree_fail(in, r, name);
        slots = realloc(in->pools, (in->n_pools + 1) * sizeof(*slots));
        if (!slots) {
                dvm_pool_close(pool);
                return -ENOMEM;
        }
        in->pools = slots;
        snprintf(slots[in->n_pools].name, sizeof(slots[0].name), "%s", name);
        slots[in->n_pools++].pool = pool;
        *ret_pool = pool;
        return 0;
}

void tree_close(struct inspect *in)
{
        for (size_t i = 0; i < in->n_pools; i++)
                dvm_pool_close(in->pools[i].pool);
        free(in->pools);
        in->pools = NULL;
        in->n_pools = 0;
}

void tree_fill(const struct inspect *in, struct stat *st, bool dir, uint64_t size)
{
        *st = (struct stat){
                .st_mode = dir ? S_IFDIR | 0555 : S_IFREG | 0444,
                .st_nlink = dir ? 2 : 1,
                .st_uid = in->uid,
                .st_gid = in->gid,
                .st_size = (off_t)size,
                .st_blksize = IO_SIZE,
                .st_atim = in->mounted,
                .st_mtim = in->mounted,
                .st_ctim = in->mounted,
        };
}

/* The chain of the node's volume; the VM must exist and have that volume. */
static int volume_chain(struct inspect *in, const struct node *node, dvm_pool **ret_pool,
                        struct dvm_layer_info **ret_chain)
{
        int r = tree_pool(in, node->pool, ret_pool);

        if (r < 0)
                return r;
        r = dvm_volume_layers(*ret_pool, node->vm, node->volume, ret_chain);
        return r < 0 ? tree_fail(in, r, node->vm) : r;
}

static int stat_locked(struct inspect *in, const struct node *node, struct stat *st)
{
        struct dvm_layer_info *chain = NULL;
        struct dvm_vm_info vm;
        dvm_pool *pool;
        int n, r = 0;

        switch (node->kind) {
        case NODE_ROOT:
                tree_fill(in, st, true, 0);
                return 0;
        case NODE_POOL:
                r = tree_pool(in, node->pool, &pool);
                if (r >= 0)
                        tree_fill(in, st, true, 0);
                return r;
        case NODE_VM:
                r = tree_pool(in, node->pool, &pool);
                if (r >= 0 && (r = dvm_vm_get(pool, node->vm, &vm)) >= 0)
                        tree_fill(in, st, true, 0);
                return r < 0 ? tree_fail(in, r, node->vm) : 0;
        default:
                break;
        }
        n = volume_chain(in, node, &pool, &chain);
        if (n < 0)
                return n;
        switch (node->kind) {
        case NODE_VOLUME:
        case NODE_LAYERS:
                tree_fill(in, st, true, 0);
                break;
        case NODE_INFO:
                tree_fill(in, st, false, 0);
                break;
        case NODE_CHANGED:
        case NODE_IMAGE:
        case NODE_DELTA:
                if (n == 0)
                        r = -ENOENT;
                else
                        tree_fill(in, st, false, node->kind == NODE_CHANGED ? 0 : chain[n - 1].size);
                break;
        case NODE_LAYER:
                if (node->layer_index >= (unsigned)n || chain[node->layer_index].id != node->layer_id)
                        r = -ENOENT;
                else
                        tree_fill(in, st, false, chain[node->layer_index].size);
                break;
        default:
                r = -ENOENT;
        }
        free(chain);
        return r;
}

int tree_stat(struct inspect *in, const struct node *node, struct stat *ret_st)
{
        int r;

        pthread_mutex_lock(&in->lock);
        r = stat_locked(in, node, ret_st);
        pthread_mutex_unlock(&in->lock);
        return r;
}

/* A strv from @n names produced by @name(i). */
static int strv_make(size_t n, const char *(*name)(const void *, size_t, char *, size_t), const void *data,
                     char ***ret)
{
        char **v = calloc(n + 1, sizeof(char *)), buf[64];

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(v[i] = strdup(name(data, i, buf, sizeof(buf))))) {
                        dvm_strv_free(v);
                        return -ENOMEM;
                }
        *ret = v;
        return (int)n;
}

static const char *vm_name(const void *data, size_t i, char *buf _unused_, size_t len _unused_)
{
        return ((const struct dvm_vm_info *)data)[i].name;
}

static const char *volume_name(const void *data, size_t i, char *buf _unused_, size_t len _unused_)
{
        return ((const struct dvm_vm_info *)data)->volumes[i].name;
}

static const char *layer_name(const void *data, size_t i, char *buf, size_t len)
{
        return path_layer_name((unsigned)i, ((const struct dvm_layer_info *)data)[i].id, buf, len);
}

/* A volume without layers has no content to show: only info and layers/ (empty). */
static const char *entry_name(const void *data, size_t i, char *buf _unused_, size_t len _unused_)
{
        size_t with_content = *(const size_t *)data;
        size_t k = 0;

        for (size_t e = 0; e < ARRAY_SIZE(volume_entries); e++) {
                enum node_kind kind = volume_entries[e].kind;
                if (!with_content && kind != NODE_INFO && kind != NODE_LAYERS)
                        continue;
                if (k++ == i)
                        return volume_entries[e].name;
        }
        return "";
}

static int list_locked(struct inspect *in, const struct node *node, char ***ret)
{
        _cleanup_free_ struct dvm_vm_info *vms = NULL;
        _cleanup_free_ struct dvm_layer_info *chain = NULL;
        struct dvm_vm_info vm;
        dvm_pool *pool;
        size_t with_content;
        int n, r;

        switch (node->kind) {
        case NODE_ROOT:
                return dvm_pool_list(in->ctx, ret);
        case NODE_POOL:
                if ((r = tree_pool(in, node->pool, &pool)) < 0)
                        return r;
                n = dvm_vm_list(pool, &vms);
                return n < 0 ? tree_fail(in, n, node->pool) : strv_make((size_t)n, vm_name, vms, ret);
        case NODE_VM:
                if ((r = tree_pool(in, node->pool, &pool)) < 0)
                        return r;
                r = dvm_vm_get(pool, node->vm, &vm);
                return r < 0 ? tree_fail(in, r, node->vm) : strv_make(vm.n_volumes, volume_name, &vm, ret);
        case NODE_VOLUME:
                n = volume_chain(in, node, &pool, &chain);
                if (n < 0)
                        return n;
                with_content = n > 0;
                return strv_make(with_content ? ARRAY_SIZE(volume_entries) : 2, entry_name, &with_content, ret);
        case NODE_LAYERS:
                n = volume_chain(in, node, &pool, &chain);
                return n < 0 ? n : strv_make((size_t)n, layer_name, chain, ret);
        default:
                return -ENOTDIR;
        }
}

int tree_list(struct inspect *in, const struct node *node, char ***ret_names)
{
        int r;

        pthread_mutex_lock(&in->lock);
        r = list_locked(in, node, ret_names);
        pthread_mutex_unlock(&in->lock);
        return r;
}
