// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Open files of the dvm-inspect tree: `image` and layer files read their layer straight
 * from its device, `delta` reads the owned ranges and zeros elsewhere, `info` and
 * `changed` are generated once at open. Reads take no lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect.h"

struct handle {
        struct handle *prev, *next;
        enum node_kind kind;
        dvm_layer *layer;             /* image, layer, delta */
        struct dvm_extent *extents;   /* delta */
        size_t n_extents;
        char *text;                   /* info, changed */
        size_t text_len;
        uint64_t size;
};

static void handle_free(struct handle *h)
{
        dvm_layer_close(h->layer);
        free(h->extents);
        free(h->text);
        free(h);
}

/* The layer @node shows: the top of the chain, or the layer file's, checked against the
 * chain so that "<index>-<id>" names that layer at that place only. */
static int open_layer(struct inspect *in, dvm_pool *pool, const struct node *node, dvm_layer **ret)
{
        _cleanup_free_ struct dvm_layer_info *chain = NULL;
        int n, r;

        if (node->kind == NODE_LAYER) {
                n = dvm_volume_layers(pool, node->vm, node->volume, &chain);
                if (n < 0)
                        return tree_fail(in, n, node->vm);
                if (node->layer_index >= (unsigned)n || chain[node->layer_index].id != node->layer_id)
                        return -ENOENT;
        }
        r = dvm_layer_open(pool, node->vm, node->volume, node->kind == NODE_LAYER ? node->layer_id : -1, ret);
        return r < 0 ? tree_fail(in, r, node->vm) : 0;
}

static int changed(struct inspect *in, struct handle *h, const struct node *node)
{
        int n = dvm_layer_changed(h->layer, &h->extents);

        if (n < 0)
                return tree_fail(in, n, node->vm);
        h->n_extents = (size_t)n;
        return 0;
}

static int open_locked(struct inspect *in, const struct node *node, struct handle *h)
{
        dvm_pool *pool;
        int r = tree_pool(in, node->pool, &pool);

        if (r < 0)
                return r;
        switch (node->kind) {
        case NODE_INFO:
                return info_json(in, pool, node, &h->text, &h->text_len);
        case NODE_CHANGED:
                if ((r = open_layer(in, pool, node, &h->layer)) < 0 || (r = changed(in, h, node)) < 0)
                        return r;
                /* the text is all this file needs: let the layer go at once */
                h->layer = dvm_layer_close(h->layer);
                return extents_text(h->extents, h->n_extents, &h->text, &h->text_len);
        case NODE_DELTA:
                if ((r = open_layer(in, pool, node, &h->layer)) < 0)
                        return r;
                return changed(in, h, node);
        case NODE_IMAGE:
        case NODE_LAYER:
                return open_layer(in, pool, node, &h->layer);
        default:
                return -EISDIR;
        }
}

int handle_open(struct inspect *in, const struct node *node, struct handle **ret_handle)
{
        struct handle *h = calloc(1, sizeof(*h));
        int r;

        if (!h)
                return -ENOMEM;
        h->kind = node->kind;
        pthread_mutex_lock(&in->lock);
        r = open_locked(in, node, h);
        if (r >= 0) {
                h->size = h->layer ? dvm_layer_get_info(h->layer)->size : h->text_len;
                h->next = in->handles;
                if (in->handles)
                        in->handles->prev = h;
                in->handles = h;
        } else {
                handle_free(h);
        }
        pthread_mutex_unlock(&in->lock);
        if (r >= 0)
                *ret_handle = h;
        return r;
}

static ssize_t read_delta(struct handle *h, char *buf, size_t len, uint64_t off)
{
        size_t i = extents_first_after(h->extents, h->n_extents, off);

        memset(buf, 0, len);
        for (; i < h->n_extents && h->extents[i].offset < off + len; i++) {
                uint64_t start = MAX(h->extents[i].offset, off);
                uint64_t end = MIN(h->extents[i].offset + h->extents[i].length, off + len);
                ssize_t n = dvm_layer_read(h->layer, buf + (start - off), end - start, start);
                if (n < 0)
                        return n;
        }
        return (ssize_t)len;
}

ssize_t handle_read(struct handle *h, void *buf, size_t len, uint64_t off)
{
        if (off >= h->size)
                return 0;
        len = (size_t)MIN((uint64_t)len, h->size - off);
        if (h->text) {
                memcpy(buf, h->text + off, len);
                return (ssize_t)len;
        }
        if (h->kind == NODE_DELTA)
                return read_delta(h, buf, len, off);
        return dvm_layer_read(h->layer, buf, len, off);
}

int64_t handle_seek(struct handle *h, uint64_t off, int whence)
{
        if (whence != SEEK_DATA && whence != SEEK_HOLE)
                return -EINVAL;
        if (h->kind == NODE_DELTA)
                return extents_seek(h->extents, h->n_extents, h->size, off, whence == SEEK_DATA);
        /* every other file is data from end to end */
        if (off >= h->size)
                return -ENXIO;
        return whence == SEEK_DATA ? (int64_t)off : (int64_t)h->size;
}

bool handle_immutable(const struct handle *h)
{
        return h->layer && !dvm_layer_get_info(h->layer)->running;
}

uint64_t handle_size(const struct handle *h)
{
        return h->size;
}

void handle_close(struct inspect *in, struct handle *h)
{
        pthread_mutex_lock(&in->lock);
        if (h->prev)
                h->prev->next = h->next;
        else
                in->handles = h->next;
        if (h->next)
                h->next->prev = h->prev;
        handle_free(h);
        pthread_mutex_unlock(&in->lock);
}

void handle_close_all(struct inspect *in)
{
        while (in->handles)
                handle_close(in, in->handles);
}
