/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The library context: state directory, log and progress callbacks, and the last error.
 * Every log line of the library goes through ctx_log(); nothing in the library prints.
 */
#ifndef DVM_CTX_H
#define DVM_CTX_H

#include "dvm.h"
#include "util/macro.h"

struct dvm_ctx {
        char *state_dir;
        enum dvm_log_level log_max;
        dvm_log_fn log_fn;
        void *log_data;
        dvm_progress_fn progress_fn;
        unsigned lock_timeout_ms; /* 0: wait for a pool's lock as long as it takes */
        void *progress_data;
        char last_error[1024];
        struct ctx_job *jobs;     /* ctx_background()'s threads not joined yet */
};

/**
 * ctx_background() - run @fn(@arg) on a thread of its own and return at once; the context
 * waits for that thread when it is freed (dvm_ctx_free()), so that a process that frees its
 * context before it exits lets the work finish. @fn must not use @ctx (it may be in use by
 * the caller meanwhile): it gets everything through @arg, which it frees. When no thread
 * can start, @fn(@arg) runs here before the return.
 */
void ctx_background(dvm_ctx *ctx, void (*fn)(void *arg), void *arg);

/** ctx_log() - log a line at @level; "%m" formats @errno as usual. */
void ctx_log(dvm_ctx *ctx, enum dvm_log_level level, const char *fmt, ...) _printf_(3, 4);

/**
 * ctx_error() - record and log an error line. @err is a negative errno; "%m" in @fmt prints
 * its text. Returns @err (so callers can `return ctx_error(ctx, r, ...)`).
 */
int ctx_error(dvm_ctx *ctx, int err, const char *fmt, ...) _printf_(3, 4);

/**
 * ctx_printable() - @s with control characters and '\\' written as \xNN, for echoing user
 * input in one-line messages. Returns @buf.
 */
const char *ctx_printable(const char *s, char *buf, size_t len);

/** ctx_progress() - report @done of @total bytes to the progress callback, if any. */
void ctx_progress(dvm_ctx *ctx, uint64_t done, uint64_t total);

#define ctx_debug(ctx, ...) ctx_log(ctx, DVM_LOG_DEBUG, __VA_ARGS__)
#define ctx_info(ctx, ...) ctx_log(ctx, DVM_LOG_INFO, __VA_ARGS__)
#define ctx_warn(ctx, ...) ctx_log(ctx, DVM_LOG_WARNING, __VA_ARGS__)

#endif
