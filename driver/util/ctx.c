// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The library context (dvm_ctx): where the state lives, where log lines and progress go,
 * and the last error message that tools print.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/ctx.h"

int dvm_ctx_new(const char *state_dir, dvm_ctx **ret_ctx)
{
        if (!ret_ctx)
                return -EINVAL;
        if (!state_dir || !*state_dir)
                state_dir = getenv("DVM_STATE_DIR");
        if (!state_dir || !*state_dir)
                state_dir = DVM_DEFAULT_STATE_DIR;
        if (state_dir[0] != '/')
                return -EINVAL;

        dvm_ctx *ctx = calloc(1, sizeof(*ctx));
        if (!ctx)
                return -ENOMEM;
        ctx->state_dir = strdup(state_dir);
        if (!ctx->state_dir) {
                free(ctx);
                return -ENOMEM;
        }
        ctx->log_max = DVM_LOG_WARNING;
        *ret_ctx = ctx;
        return 0;
}

struct ctx_job {
        pthread_t thread;
        void (*fn)(void *arg);
        void *arg;
        struct ctx_job *next;
};

static void *run_job(void *p)
{
        struct ctx_job *j = p;

        j->fn(j->arg);
        return NULL;
}

/* Join the threads of @ctx that are done (all of them with @wait). */
static void join_jobs(dvm_ctx *ctx, bool wait)
{
        struct ctx_job **p = &ctx->jobs;

        while (*p) {
                struct ctx_job *j = *p;
                if (wait ? pthread_join(j->thread, NULL) == 0 : pthread_tryjoin_np(j->thread, NULL) == 0) {
                        *p = j->next;
                        free(j);
                } else {
                        p = &j->next;
                }
        }
}

void ctx_background(dvm_ctx *ctx, void (*fn)(void *arg), void *arg)
{
        struct ctx_job *j = calloc(1, sizeof(*j));

        join_jobs(ctx, false);
        if (j) {
                *j = (struct ctx_job){ .fn = fn, .arg = arg, .next = ctx->jobs };
                if (pthread_create(&j->thread, NULL, run_job, j) == 0) {
                        ctx->jobs = j;
                        return;
                }
                free(j);
        }
        fn(arg);
}

dvm_ctx *dvm_ctx_free(dvm_ctx *ctx)
{
        if (ctx) {
                join_jobs(ctx, true);
                free(ctx->state_dir);
                free(ctx);
        }
        return NULL;
}

void dvm_ctx_set_log(dvm_ctx *ctx, enum dvm_log_level max_level, dvm_log_fn fn, void *userdata)
{
        ctx->log_max = max_level;
        ctx->log_fn = fn;
        ctx->log_data = userdata;
}

void dvm_ctx_set_progress(dvm_ctx *ctx, dvm_progress_fn fn, void *userdata)
{
        ctx->progress_fn = fn;
        ctx->progress_data = userdata;
}

void dvm_ctx_set_lock_timeout(dvm_ctx *ctx, unsigned timeout_ms)
{
        ctx->lock_timeout_ms = timeout_ms;
}

const char *dvm_ctx_last_error(const dvm_ctx *ctx)
{
        return ctx->last_error;
}

const char *dvm_ctx_state_dir(const dvm_ctx *ctx)
{
        return ctx->state_dir;
}

static void vlog(dvm_ctx *ctx, enum dvm_log_level level, const char *fmt, va_list ap) _printf_(3, 0);
static void vlog(dvm_ctx *ctx, enum dvm_log_level level, const char *fmt, va_list ap)
{
        char buf[1024];

        if (!ctx->log_fn || level > ctx->log_max)
                return;
        vsnprintf(buf, sizeof(buf), fmt, ap);
        ctx->log_fn(ctx->log_data, level, buf);
}

void ctx_log(dvm_ctx *ctx, enum dvm_log_level level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vlog(ctx, level, fmt, ap);
        va_end(ap);
}

int ctx_error(dvm_ctx *ctx, int err, const char *fmt, ...)
{
        char buf[sizeof(ctx->last_error)];
        va_list ap;

        if (err >= 0)
                err = -EIO;
        errno = -err;
        /* Built aside, then copied: callers may pass the previous last error as an argument
         * ("<context>: %s"), and vsnprintf into the string it reads is undefined. */
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        memcpy(ctx->last_error, buf, strlen(buf) + 1);
        ctx_log(ctx, DVM_LOG_ERR, "%s", ctx->last_error);
        return err;
}

void ctx_progress(dvm_ctx *ctx, uint64_t done, uint64_t total)
{
        if (ctx->progress_fn)
                ctx->progress_fn(ctx->progress_data, done, total);
}

const char *ctx_printable(const char *s, char *buf, size_t len)
{
        size_t o = 0;

        if (!len)
                return buf;
        for (; s && *s && o + 5 < len; s++) {
                unsigned char c = (unsigned char)*s;
                if (c < 0x20 || c == 0x7f || c == '\\')
                        o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
                else
                        buf[o++] = (char)c;
        }
        buf[o] = 0;
        return buf;
}
