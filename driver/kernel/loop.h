/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loop devices over backing files, through /dev/loop-control and LOOP_CONFIGURE.
 */
#ifndef DVM_LOOP_H
#define DVM_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "util/ctx.h"

enum loop_flags {
        LOOP_READ_ONLY = 1 << 0,
        LOOP_DIRECT_IO = 1 << 1,
        /* detach when the last user (the dm table) closes it */
        LOOP_AUTOCLEAR = 1 << 2,
};

struct loop_dev {
        int fd;             /* open on the loop device; keeps an autoclear loop alive */
        uint32_t major, minor;
        char path[300];     /* /dev/loopN, or the block device itself */
};

/**
 * loop_attach() - a loop device over @file: an existing one with that backing file is
 * reused, otherwise a free one is configured. Returns 0 and @ret_loop (fd open, close it
 * with loop_release() once a dm table holds the device), or -errno.
 */
int loop_attach(dvm_ctx *ctx, const char *file, unsigned flags, struct loop_dev *ret_loop);

/** loop_release() - close our fd (an autoclear loop goes away with its last user). */
void loop_release(struct loop_dev *loop);

/**
 * loop_find() - the loop device whose backing file is @file. Returns 0 and fills
 * @ret_loop (fd = -1), -ENOENT when there is none, or -errno.
 */
int loop_find(dvm_ctx *ctx, const char *file, struct loop_dev *ret_loop);

/** loop_detach() - detach loop @path (LOOP_CLR_FD). Returns 0 or -errno. */
int loop_detach(dvm_ctx *ctx, const char *path);

#endif
