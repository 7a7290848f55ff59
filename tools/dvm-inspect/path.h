/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shape of the dvm-inspect tree: which node a path names (/<pool>/<vm>/<volume>/...),
 * and the names of its fixed entries and layer files. No FUSE, no kernel: names only.
 */
#ifndef DVM_INSPECT_PATH_H
#define DVM_INSPECT_PATH_H

#include <stddef.h>
#include <stdint.h>

#include "dvm.h"

enum node_kind {
        NODE_ROOT,      /* /                            the pools */
        NODE_POOL,      /* /<pool>                      its VMs */
        NODE_VM,        /* /<pool>/<vm>                 its volumes */
        NODE_VOLUME,    /* /<pool>/<vm>/<volume>        the entries below */
        NODE_INFO,      /*   info     JSON description */
        NODE_IMAGE,     /*   image    the current content */
        NODE_LAYERS,    /*   layers/  one file per layer */
        NODE_DELTA,     /*   delta    owned blocks, holes elsewhere */
        NODE_CHANGED,   /*   changed  "offset length" lines */
        NODE_LAYER,     /*   layers/<index>-<id> */
};

struct node {
        enum node_kind kind;
        char pool[DVM_POOL_NAME_MAX + 1];
        char vm[DVM_NAME_MAX + 1];
        char volume[16];
        unsigned layer_index;
        int64_t layer_id;
};

/** The entries of a volume directory, in listing order. */
struct volume_entry {
        const char *name;
        enum node_kind kind;
};
extern const struct volume_entry volume_entries[5];

/**
 * path_parse() - the node @path names, by its shape alone (whether it exists is the
 * catalog's to say). Names must be valid pool, VM and volume names.
 * Returns 0 and fills @ret_node, or -ENOENT when no node can have that path.
 */
int path_parse(const char *path, struct node *ret_node);

/** path_layer_name() - "<index>-<id>", the file name of a layer. Returns @buf. */
char *path_layer_name(unsigned index, int64_t id, char *buf, size_t len);

/** path_is_file() - whether nodes of @kind are regular files. */
int path_is_file(enum node_kind kind);

#endif
