// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of ctx.c: how the state directory is chosen (argument, $DVM_STATE_DIR, the
 * default; relative paths refused), log routing by level, ctx_error() and the last error.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dvm.h"
#include "util/ctx.h"

static void clean_env(void)
{
        unsetenv("DVM_STATE_DIR");
}

TestSuite(ctx_new, .init = clean_env, .fini = clean_env, .timeout = 10);
TestSuite(ctx_log, .init = clean_env, .timeout = 10);
TestSuite(ctx_error, .init = clean_env, .timeout = 10);
TestSuite(ctx_background, .init = clean_env, .timeout = 10);

/* ---- the state directory -------------------------------------------------------------- */

struct dir_case {
        const char *arg;  /* dvm_ctx_new()'s state_dir */
        const char *env;  /* $DVM_STATE_DIR, NULL: unset */
        int ret;
        const char *want; /* when ret == 0 */
};

static const struct dir_case dir_cases[] = {
        { NULL, NULL, 0, DVM_DEFAULT_STATE_DIR },
        { "", NULL, 0, DVM_DEFAULT_STATE_DIR },
        { NULL, "", 0, DVM_DEFAULT_STATE_DIR },
        { "", "", 0, DVM_DEFAULT_STATE_DIR },
        { NULL, "/srv/dvm", 0, "/srv/dvm" },
        { "", "/srv/dvm", 0, "/srv/dvm" },
        { "/tmp/state", NULL, 0, "/tmp/state" },
        { "/tmp/state", "/srv/dvm", 0, "/tmp/state" }, /* the argument wins */
        { "/", NULL, 0, "/" },
        { "/a/../b/", NULL, 0, "/a/../b/" },           /* taken as given */
        /* relative paths are refused, from either source */
        { "state", NULL, -EINVAL, NULL },
        { "./state", NULL, -EINVAL, NULL },
        { "../state", NULL, -EINVAL, NULL },
        { "~/state", NULL, -EINVAL, NULL },
        { " /state", NULL, -EINVAL, NULL },
        { NULL, "state", -EINVAL, NULL },
        { "", "var/lib/dvm-vol", -EINVAL, NULL },
        { "state", "/srv/dvm", -EINVAL, NULL },        /* no fallback from a bad argument */
};

Test(ctx_new, state_dir)
{
        for (size_t i = 0; i < sizeof(dir_cases) / sizeof(dir_cases[0]); i++) {
                const struct dir_case *c = &dir_cases[i];
                dvm_ctx *ctx = (dvm_ctx *)0x1;
                int r;

                if (c->env)
                        setenv("DVM_STATE_DIR", c->env, 1);
                else
                        unsetenv("DVM_STATE_DIR");
                r = dvm_ctx_new(c->arg, &ctx);
                cr_expect_eq(r, c->ret, "dvm_ctx_new(\"%s\") with DVM_STATE_DIR=\"%s\": returned %d, want %d",
                             c->arg ? c->arg : "(null)", c->env ? c->env : "(unset)", r, c->ret);
                if (r < 0) {
                        cr_expect_eq(ctx, (dvm_ctx *)0x1, "dvm_ctx_new(\"%s\") failed but set the handle to %p",
                                     c->arg ? c->arg : "(null)", (void *)ctx);
                        continue;
                }
                cr_expect_str_eq(dvm_ctx_state_dir(ctx), c->want,
                                 "dvm_ctx_new(\"%s\") with DVM_STATE_DIR=\"%s\": state dir \"%s\", want \"%s\"",
                                 c->arg ? c->arg : "(null)", c->env ? c->env : "(unset)",
                                 dvm_ctx_state_dir(ctx), c->want);
                cr_expect_str_eq(dvm_ctx_last_error(ctx), "", "a new context has last error \"%s\"",
                                 dvm_ctx_last_error(ctx));
                dvm_ctx_free(ctx);
        }
}

/* The context keeps its own copy: changing the caller's string or the environment later
 * changes nothing. */
Test(ctx_new, copies_the_path)
{
        char dir[] = "/tmp/dvm-ctx-copy";
        dvm_ctx *ctx = NULL;
        int r;

        setenv("DVM_STATE_DIR", "/srv/one", 1);
        r = dvm_ctx_new(NULL, &ctx);
        cr_assert_eq(r, 0, "dvm_ctx_new: %d", r);
        setenv("DVM_STATE_DIR", "/srv/two", 1);
        cr_expect_str_eq(dvm_ctx_state_dir(ctx), "/srv/one", "state dir \"%s\"", dvm_ctx_state_dir(ctx));
        dvm_ctx_free(ctx);

        r = dvm_ctx_new(dir, &ctx);
        cr_assert_eq(r, 0, "dvm_ctx_new: %d", r);
        dir[1] = 'X';
        cr_expect_str_eq(dvm_ctx_state_dir(ctx), "/tmp/dvm-ctx-copy", "state dir \"%s\"", dvm_ctx_state_dir(ctx));
        dvm_ctx_free(ctx);
}

Test(ctx_new, null_handle)
{
        int r = dvm_ctx_new("/tmp", NULL);
        cr_assert_eq(r, -EINVAL, "dvm_ctx_new(..., NULL) returned %d", r);
}

Test(ctx_new, free_null)
{
        cr_assert_null(dvm_ctx_free(NULL), "dvm_ctx_free(NULL) did not return NULL");
}

Test(ctx_new, free_returns_null)
{
        dvm_ctx *ctx = NULL;
        int r = dvm_ctx_new("/tmp", &ctx);

        cr_assert_eq(r, 0, "dvm_ctx_new: %d", r);
        ctx = dvm_ctx_free(ctx);
        cr_assert_null(ctx, "dvm_ctx_free() returned %p", (void *)ctx);
}

/* ---- logging -------------------------------------------------------------------------- */

struct log_rec {
        unsigned n;
        enum dvm_log_level level[8];
        char msg[8][1100];
};

static void record(void *userdata, enum dvm_log_level level, const char *msg)
{
        struct log_rec *rec = userdata;

        if (rec->n < 8) {
                rec->level[rec->n] = level;
                snprintf(rec->msg[rec->n], sizeof(rec->msg[0]), "%s", msg);
        }
        rec->n++;
}

static dvm_ctx *new_ctx(void)
{
        dvm_ctx *ctx = NULL;
        int r = dvm_ctx_new("/tmp", &ctx);

        cr_assert_eq(r, 0, "dvm_ctx_new: %d", r);
        return ctx;
}

static const enum dvm_log_level all_levels[] = { DVM_LOG_ERR, DVM_LOG_WARNING, DVM_LOG_INFO, DVM_LOG_DEBUG };

/* One line at each level, most severe first. */
static void log_each(dvm_ctx *ctx)
{
        ctx_log(ctx, DVM_LOG_ERR, "err %d", 3);
        ctx_warn(ctx, "warning %d", 4);
        ctx_info(ctx, "info %d", 6);
        ctx_debug(ctx, "debug %d", 7);
}

Test(ctx_log, levels)
{
        static const struct {
                enum dvm_log_level max;
                unsigned want;
        } cases[] = {
                { DVM_LOG_ERR, 1 },
                { DVM_LOG_WARNING, 2 },
                { DVM_LOG_INFO, 3 },
                { DVM_LOG_DEBUG, 4 },
        };
        static const char *const text[] = { "err 3", "warning 4", "info 6", "debug 7" };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                dvm_ctx *ctx = new_ctx();
                struct log_rec rec = {};

                dvm_ctx_set_log(ctx, cases[i].max, record, &rec);
                log_each(ctx);
                cr_expect_eq(rec.n, cases[i].want, "max level %d: %u lines, want %u", cases[i].max, rec.n,
                             cases[i].want);
                for (unsigned k = 0; k < rec.n && k < 4; k++) {
                        cr_expect_eq(rec.level[k], all_levels[k], "max level %d: line %u has level %d",
                                     cases[i].max, k, rec.level[k]);
                        cr_expect_str_eq(rec.msg[k], text[k], "max level %d: line %u is \"%s\"", cases[i].max,
                                         k, rec.msg[k]);
                }
                dvm_ctx_free(ctx);
        }
}

/* Without dvm_ctx_set_log() nothing is delivered anywhere, and nothing breaks. */
Test(ctx_log, no_callback)
{
        dvm_ctx *ctx = new_ctx();
        struct log_rec rec = {};

        log_each(ctx);
        dvm_ctx_set_log(ctx, DVM_LOG_DEBUG, record, &rec);
        dvm_ctx_set_log(ctx, DVM_LOG_DEBUG, NULL, &rec);
        log_each(ctx);
        cr_expect_eq(rec.n, 0u, "a cleared callback still got %u lines", rec.n);
        dvm_ctx_free(ctx);
}

Test(ctx_log, default_level_is_warning)
{
        dvm_ctx *ctx = new_ctx();
        struct log_rec rec = {};

        /* the level given with the callback decides; the default is what ctx_new set */
        dvm_ctx_set_log(ctx, ctx->log_max, record, &rec);
        log_each(ctx);
        cr_expect_eq(rec.n, 2u, "default level passed %u lines, want err and warning", rec.n);
        dvm_ctx_free(ctx);
}

Test(ctx_log, long_line_truncated)
{
        dvm_ctx *ctx = new_ctx();
        struct log_rec rec = {};
        char big[3000];

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        dvm_ctx_set_log(ctx, DVM_LOG_DEBUG, record, &rec);
        ctx_info(ctx, "%s", big);
        cr_assert_eq(rec.n, 1u, "%u lines", rec.n);
        cr_expect_eq(strlen(rec.msg[0]), 1023u, "a long line arrived with %zu bytes", strlen(rec.msg[0]));
        dvm_ctx_free(ctx);
}

Test(ctx_log, percent_m_uses_errno)
{
        dvm_ctx *ctx = new_ctx();
        struct log_rec rec = {};
        char want[256];

        dvm_ctx_set_log(ctx, DVM_LOG_DEBUG, record, &rec);
        errno = EACCES;
        ctx_warn(ctx, "open x: %m");
        snprintf(want, sizeof(want), "open x: %s", strerror(EACCES));
        cr_expect_str_eq(rec.msg[0], want, "\"%s\", want \"%s\"", rec.msg[0], want);
        dvm_ctx_free(ctx);
}

static void count_progress(void *userdata, uint64_t done, uint64_t total)
{
        uint64_t *seen = userdata;
        seen[0]++;
        seen[1] = done;
        seen[2] = total;
}

Test(ctx_log, progress)
{
        dvm_ctx *ctx = new_ctx();
        uint64_t seen[3] = {};

        ctx_progress(ctx, 1, 2); /* no callback: nothing */
        dvm_ctx_set_progress(ctx, count_progress, seen);
        ctx_progress(ctx, 512, 4096);
        cr_expect(seen[0] == 1 && seen[1] == 512 && seen[2] == 4096, "progress calls %ju, last %ju of %ju",
                  (uintmax_t)seen[0], (uintmax_t)seen[1], (uintmax_t)seen[2]);
        dvm_ctx_set_progress(ctx, NULL, NULL);
        ctx_progress(ctx, 4096, 4096);
        cr_expect_eq(seen[0], 1u, "a cleared progress callback was called: %ju calls", (uintmax_t)seen[0]);
        dvm_ctx_free(ctx);
}

/* ---- ctx_error and the last error ----------------------------------------------------- */

struct error_case {
        int err;         /* given to ctx_error() */
        int ret;         /* what it returns */
        int saved_errno; /* errno before the call: %m must ignore it */
};

static const struct error_case error_cases[] = {
        { -ENOENT, -ENOENT, EACCES },
        { -EBUSY, -EBUSY, 0 },
        { -ENOSPC, -ENOSPC, EBUSY },
        { -EINVAL, -EINVAL, ENOENT },
        { -ENODEV, -ENODEV, 0 },
        { 0, -EIO, ENOENT },  /* not an error code: reported as an I/O error */
        { 5, -EIO, ENOENT },
};

Test(ctx_error, formats_m_from_err)
{
        for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
                const struct error_case *c = &error_cases[i];
                dvm_ctx *ctx = new_ctx();
                struct log_rec rec = {};
                char want[256];
                int r;

                dvm_ctx_set_log(ctx, DVM_LOG_DEBUG, record, &rec);
                errno = c->saved_errno;
                r = ctx_error(ctx, c->err, "cannot open %s: %m", "/dev/thing");
                snprintf(want, sizeof(want), "cannot open /dev/thing: %s", strerror(-c->ret));
                cr_expect_eq(r, c->ret, "ctx_error(%d) returned %d, want %d", c->err, r, c->ret);
                cr_expect_str_eq(dvm_ctx_last_error(ctx), want, "ctx_error(%d): last error \"%s\", want \"%s\"",
                                 c->err, dvm_ctx_last_error(ctx), want);
                cr_expect_eq(rec.n, 1u, "ctx_error(%d) logged %u lines", c->err, rec.n);
                cr_expect_eq(rec.level[0], DVM_LOG_ERR, "ctx_error(%d) logged at level %d", c->err, rec.level[0]);
                cr_expect_str_eq(rec.msg[0], want, "ctx_error(%d) logged \"%s\"", c->err, rec.msg[0]);
                dvm_ctx_free(ctx);
        }
}

Test(ctx_error, last_error_is_the_latest)
{
        dvm_ctx *ctx = new_ctx();

        ctx_error(ctx, -ENOENT, "first");
        ctx_error(ctx, -EBUSY, "second %d", 2);
        cr_expect_str_eq(dvm_ctx_last_error(ctx), "second 2", "last error \"%s\"", dvm_ctx_last_error(ctx));
        /* a log line is not an error */
        ctx_warn(ctx, "just a warning");
        cr_expect_str_eq(dvm_ctx_last_error(ctx), "second 2", "after a warning: \"%s\"", dvm_ctx_last_error(ctx));
        dvm_ctx_free(ctx);
}

/* The error is recorded even when no callback is set or its level filters errors out. */
Test(ctx_error, recorded_without_log)
{
        dvm_ctx *ctx = new_ctx();
        int r = ctx_error(ctx, -EEXIST, "pool %s exists", "default");

        cr_expect_eq(r, -EEXIST, "returned %d", r);
        cr_expect_str_eq(dvm_ctx_last_error(ctx), "pool default exists", "last error \"%s\"",
                         dvm_ctx_last_error(ctx));
        dvm_ctx_free(ctx);
}

Test(ctx_error, long_message_truncated)
{
        dvm_ctx *ctx = new_ctx();
        char big[2000];

        memset(big, 'y', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        ctx_error(ctx, -EIO, "%s", big);
        cr_expect_eq(strlen(dvm_ctx_last_error(ctx)), 1023u, "last error has %zu bytes",
                     strlen(dvm_ctx_last_error(ctx)));
        dvm_ctx_free(ctx);
}

/* Wrapping the previous message ("<context>: <last error>") is a natural thing to write;
 * the new message must not be built in the buffer it reads from. */
Test(ctx_error, wraps_last_error)
{
        dvm_ctx *ctx = new_ctx();

        ctx_error(ctx, -ENOENT, "no such volume");
        ctx_error(ctx, -ENOENT, "spawn disp1: %s", dvm_ctx_last_error(ctx));
        cr_expect_str_eq(dvm_ctx_last_error(ctx), "spawn disp1: no such volume", "last error \"%s\"",
                         dvm_ctx_last_error(ctx));
        dvm_ctx_free(ctx);
}

/* A job that waits for the byte its caller writes after ctx_background() returned. */
struct bg_job {
        int pipe_r;
        int done;
};

static void bg_run(void *arg)
{
        struct bg_job *j = arg;
        char c;

        if (read(j->pipe_r, &c, 1) == 1)
                j->done = c;
}

/* ctx_background() returns before its job is done (the job waits for the caller), and
 * dvm_ctx_free() waits for every job; many jobs, some done before the next starts. */
Test(ctx_background, returns_at_once_and_free_waits)
{
        struct bg_job jobs[8];
        int fds[8][2];
        dvm_ctx *ctx = NULL;

        cr_assert_eq(dvm_ctx_new("/tmp", &ctx), 0);
        for (int i = 0; i < 8; i++) {
                cr_assert_eq(pipe(fds[i]), 0);
                jobs[i] = (struct bg_job){ .pipe_r = fds[i][0] };
                ctx_background(ctx, bg_run, &jobs[i]);
                /* the job blocks until this write: a synchronous call would never get here */
                cr_assert_eq(write(fds[i][1], "x", 1), 1);
        }
        dvm_ctx_free(ctx);
        for (int i = 0; i < 8; i++) {
                cr_expect_eq(jobs[i].done, 'x', "job %d had not run when dvm_ctx_free() returned", i);
                close(fds[i][0]);
                close(fds[i][1]);
        }
}
