// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Paths of the dvm-inspect tree to nodes: up to five components, each checked against the
 * name rules of its level, so that nothing malformed ever reaches the catalog.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "path.h"

const struct volume_entry volume_entries[5] = {
        { "info", NODE_INFO },   { "image", NODE_IMAGE },     { "layers", NODE_LAYERS },
        { "delta", NODE_DELTA }, { "changed", NODE_CHANGED },
};

static const char *const volume_names[] = { "root", "private", "volatile" };

/* Copy the next component of *p into @buf (of @len bytes); false if empty or too long. */
static bool next_component(const char **p, char *buf, size_t len)
{
        const char *s = *p, *end;
        size_t n;

        while (*s == '/')
                s++;
        end = strchrnul(s, '/');
        n = (size_t)(end - s);
        if (n == 0 || n >= len)
                return false;
        memcpy(buf, s, n);
        buf[n] = 0;
        *p = end;
        return true;
}

static bool at_end(const char *p)
{
        while (*p == '/')
                p++;
        return *p == 0;
}

/* A decimal number without sign, blanks or leading zeros, at most @max. */
static bool parse_number(const char *s, size_t n, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0;

        if (n == 0 || (n > 1 && s[0] == '0'))
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9' || v > (max - (uint64_t)(s[i] - '0')) / 10)
                        return false;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        *ret = v;
        return true;
}

static int parse_layer(const char *name, struct node *node)
{
        const char *dash = strchr(name, '-');
        uint64_t index, id;

        if (!dash || !parse_number(name, (size_t)(dash - name), 64, &index) ||
            !parse_number(dash + 1, strlen(dash + 1), INT64_MAX, &id))
                return -ENOENT;
        node->layer_index = (unsigned)index;
        node->layer_id = (int64_t)id;
        node->kind = NODE_LAYER;
        return 0;
}

static bool valid_volume(const char *name)
{
        for (size_t i = 0; i < sizeof(volume_names) / sizeof(volume_names[0]); i++)
                if (strcmp(name, volume_names[i]) == 0)
                        return true;
        return false;
}

int path_parse(const char *path, struct node *ret_node)
{
        struct node node = { .kind = NODE_ROOT, .layer_id = -1 };
        char entry[32], layer[64];
        const char *p = path;

        if (!p || *p != '/')
                return -ENOENT;
        if (at_end(p))
                goto done;
        if (!next_component(&p, node.pool, sizeof(node.pool)) || dvm_pool_name_check(node.pool, NULL) < 0)
                return -ENOENT;
        node.kind = NODE_POOL;
        if (at_end(p))
                goto done;
        if (!next_component(&p, node.vm, sizeof(node.vm)) || dvm_name_check(node.vm, NULL) < 0)
                return -ENOENT;
        node.kind = NODE_VM;
        if (at_end(p))
                goto done;
        if (!next_component(&p, node.volume, sizeof(node.volume)) || !valid_volume(node.volume))
                return -ENOENT;
        node.kind = NODE_VOLUME;
        if (at_end(p))
                goto done;
        if (!next_component(&p, entry, sizeof(entry)))
                return -ENOENT;
        node.kind = NODE_ROOT;
        for (size_t i = 0; i < sizeof(volume_entries) / sizeof(volume_entries[0]); i++)
                if (strcmp(entry, volume_entries[i].name) == 0)
                        node.kind = volume_entries[i].kind;
        if (node.kind == NODE_ROOT)
                return -ENOENT;
        if (at_end(p))
                goto done;
        if (node.kind != NODE_LAYERS || !next_component(&p, layer, sizeof(layer)) || !at_end(p) ||
            parse_layer(layer, &node) < 0)
                return -ENOENT;
done:
        /* "file/" names no file */
        if (path_is_file(node.kind) && path[strlen(path) - 1] == '/')
                return -ENOENT;
        *ret_node = node;
        return 0;
}

char *path_layer_name(unsigned index, int64_t id, char *buf, size_t len)
{
        snprintf(buf, len, "%u-%" PRId64, index, id);
        return buf;
}

int path_is_file(enum node_kind kind)
{
        return kind != NODE_ROOT && kind != NODE_POOL && kind != NODE_VM && kind != NODE_VOLUME &&
               kind != NODE_LAYERS;
}
