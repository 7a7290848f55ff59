/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dvm-inspect internals shared by its files: the state of a mount, the exit codes
 * (documented in dvm-inspect(8)), the tree (stat, list), open files and `info`.
 */
#ifndef DVM_INSPECT_H
#define DVM_INSPECT_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "dvm.h"
#include "extents.h"
#include "path.h"
#include "util/macro.h"

enum exit_code {
        EXIT_OK = 0,
        EXIT_FAIL = 1,        /* the mount or the file system failed */
        EXIT_USAGE = 2,       /* bad syntax or argument; the mountpoint is not a directory */
        EXIT_NOT_FOUND = 3,   /* no such mountpoint */
        EXIT_UNSUPPORTED = 7, /* not root, or no FUSE in this kernel */
};

struct options {
        const char *state_dir;
        const char *mountpoint;
        bool allow_other;     /* let every user read the volumes */
        bool allow_non_root;
        bool foreground;
        bool debug;           /* libfuse's request trace */
        int verbose;
};

struct pool_slot {
        char name[DVM_POOL_NAME_MAX + 1];
        dvm_pool *pool;
};

struct handle;

/* One mount. The library is not thread-safe: every call into it but dvm_layer_read()
 * runs under @lock; reads of open layers run in parallel. */
struct inspect {
        const struct options *opt;
        dvm_ctx *ctx;
        pthread_mutex_t lock;
        struct pool_slot *pools;
        size_t n_pools;
        struct handle *handles;   /* open files, closed at unmount if the kernel did not */
        struct timespec mounted;
        uid_t uid;
        gid_t gid;
};

/* tree.c */
/** tree_stat() - attributes of @node, fresh from the catalog. Returns 0 or -errno (-ENOENT). */
int tree_stat(struct inspect *in, const struct node *node, struct stat *ret_st);
/** tree_list() - names in directory @node. Returns the count and a strv (dvm_strv_free()), or -errno. */
int tree_list(struct inspect *in, const struct node *node, char ***ret_names);
/** tree_pool() - the open pool @name (opened on first use). Call under @in->lock. Returns 0 or -errno. */
int tree_pool(struct inspect *in, const char *name, dvm_pool **ret_pool);
/** tree_fail() - log the library's message for a failure other than a plain -ENOENT. Returns @r. */
int tree_fail(struct inspect *in, int r, const char *what);
/** tree_fill() - attributes of a directory, or of a file of @size bytes. */
void tree_fill(const struct inspect *in, struct stat *ret_st, bool dir, uint64_t size);
/** tree_close() - close the open pools. */
void tree_close(struct inspect *in);

/* handle.c */
/** handle_open() - open file @node for reading. Returns 0 and the handle, or -errno. */
int handle_open(struct inspect *in, const struct node *node, struct handle **ret_handle);
/** handle_read() - up to @len bytes at @off into @buf (4 KiB-aligned). Returns the count or -errno. */
ssize_t handle_read(struct handle *h, void *buf, size_t len, uint64_t off);
/** handle_seek() - SEEK_DATA / SEEK_HOLE from @off. Returns the offset or -errno (-ENXIO). */
int64_t handle_seek(struct handle *h, uint64_t off, int whence);
/** handle_immutable() - whether the open file's content can never change (a committed layer). */
bool handle_immutable(const struct handle *h);
/** handle_size() - the size of the open file (generated text: its length). */
uint64_t handle_size(const struct handle *h);
/** handle_close() - close one handle. */
void handle_close(struct inspect *in, struct handle *h);
/** handle_close_all() - close every handle still open (unmount). */
void handle_close_all(struct inspect *in);

/* info.c */
/**
 * info_json() - the `info` file of @vm/@volume in @pool: the volume, its layer chain and
 * what libblkid finds on each layer. Call under @in->lock. Returns 0 and a malloc'd text
 * in @ret_text (length in @ret_len), or -errno.
 */
int info_json(struct inspect *in, dvm_pool *pool, const struct node *node, char **ret_text, size_t *ret_len);

/* readahead.c */
/**
 * readahead_raise() - set the readahead of the dvm-inspect mount at @mountpoint (a
 * canonical path) to @kib KiB. Call once the kernel has the INIT reply. Logs a failure.
 */
void readahead_raise(const char *mountpoint, unsigned kib);

/* fs.c */
/** fs_run() - mount, serve until unmounted or signalled, unmount. Returns an exit code. */
int fs_run(struct inspect *in);

#endif
