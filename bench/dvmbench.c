// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dvmbench: times dvm_spawn(), dvm_vm_destroy() and the preload calls in one long-lived process, through the
 * public API of libdvm only. The benchmark scripts drive it as a coprocess, one command per
 * line on stdin and one answer per line on stdout, so that its calls interleave with the
 * LVM and dmsetup runs they are compared with and never pay process start-up.
 *
 *   spawn POOL DVM          -> "ok NAME MS"   (dvm_spawn with its info, as the CLI calls it)
 *   destroy POOL NAME       -> "ok MS"        (dvm_vm_destroy: wipe, remove, delete)
 *   destroy-later POOL NAME -> "ok MS"        (dvm_vm_destroy_ex, DVM_DESTROY_LATER: as the caller waits)
 *   info POOL NAME          -> "ok MS"        (dvm_vm_get alone: the part of spawn that describes)
 *   preload POOL DVM N      -> "ok MS"        (dvm_preload_set: keep N of DVM ready)
 *   work POOL -             -> "ok STEPS MS"  (dvm_pool_work: the worker, waits for one that runs)
 *   kick POOL BIN|-         -> "ok BIN"       (the worker a destroy or spawn starts: dvm-vol binary BIN
 *                                              ($DVM_VOL_BIN); "-": none, the caller drains with work)
 *   quit
 * A failure answers "err ERRNO MESSAGE". Usage: dvmbench STATE_DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dvm.h"

#define MAX_POOLS 16

struct open_pool {
        char name[DVM_POOL_NAME_MAX + 1];
        dvm_pool *pool;
};

static dvm_ctx *ctx;
static struct open_pool pools[MAX_POOLS];

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void answer_err(int r)
{
        const char *msg = dvm_ctx_last_error(ctx);
        printf("err %d %s\n", -r, *msg ? msg : strerror(-r));
}

/* The pool handle for @name, opened at its first use and kept open. */
static int pool_get(const char *name, dvm_pool **ret)
{
        for (int i = 0; i < MAX_POOLS; i++) {
                if (pools[i].pool && strcmp(pools[i].name, name) == 0) {
                        *ret = pools[i].pool;
                        return 0;
                }
                if (!pools[i].pool) {
                        int r = dvm_pool_open(ctx, name, &pools[i].pool);
                        if (r < 0)
                                return r;
                        snprintf(pools[i].name, sizeof(pools[i].name), "%s", name);
                        *ret = pools[i].pool;
                        return 0;
                }
        }
        fprintf(stderr, "dvmbench: pool %s: %d pools are open already (MAX_POOLS)\n", name, MAX_POOLS);
        return -EMFILE;
}

static int cmd_spawn(dvm_pool *pool, const char *dvm)
{
        struct dvm_vm_info info;
        double t0 = now_ms();
        int r = dvm_spawn(pool, dvm, NULL, &info);
        double t1 = now_ms();

        if (r < 0)
                return r;
        printf("ok %s %.3f\n", info.name, t1 - t0);
        return 0;
}

static int cmd_destroy(dvm_pool *pool, const char *name)
{
        double t0 = now_ms();
        int r = dvm_vm_destroy(pool, name);
        double t1 = now_ms();

        if (r < 0)
                return r;
        printf("ok %.3f\n", t1 - t0);
        return 0;
}

static int cmd_destroy_later(dvm_pool *pool, const char *name)
{
        double t0 = now_ms();
        int r = dvm_vm_destroy_ex(pool, name, DVM_DESTROY_LATER);
        double t1 = now_ms();

        if (r < 0)
                return r;
        printf("ok %.3f\n", t1 - t0);
        return 0;
}

static int cmd_info(dvm_pool *pool, const char *name)
{
        struct dvm_vm_info info;
        double t0 = now_ms();
        int r = dvm_vm_get(pool, name, &info);
        double t1 = now_ms();

        if (r < 0)
                return r;
        printf("ok %.3f\n", t1 - t0);
        return 0;
}

static int cmd_preload(dvm_pool *pool, const char *dvm, const char *count)
{
        double t0 = now_ms();
        int r = dvm_preload_set(pool, dvm, (unsigned)atoi(count ? count : "0"));
        double t1 = now_ms();

        if (r < 0)
                return r;
        printf("ok %.3f\n", t1 - t0);
        return 0;
}

static int cmd_work(dvm_pool *pool)
{
        double t0 = now_ms();
        int r = dvm_pool_work(pool, 0);
        double t1 = now_ms();

        if (r < 0)
                return r;
        printf("ok %d %.3f\n", r, t1 - t0);
        return 0;
}

/* The library starts `$DVM_VOL_BIN worker --try` after a destroy left to the worker or a
 * take of a ready disposable; without it, none that exists is started here. */
static int cmd_kick(const char *bin)
{
        if (strcmp(bin, "-") == 0 ? setenv("DVM_VOL_BIN", "/nonexistent/dvm-vol", 1) < 0
                                  : setenv("DVM_VOL_BIN", bin, 1) < 0)
                return -errno;
        printf("ok %s\n", getenv("DVM_VOL_BIN"));
        return 0;
}

/* One command line; returns 1 to stop. */
static int dispatch(char *line)
{
        char *verb = strtok(line, " \t\n"), *pool_name = strtok(NULL, " \t\n"), *arg = strtok(NULL, " \t\n"),
             *arg2 = strtok(NULL, " \t\n");
        dvm_pool *pool;
        int r;

        if (!verb || strcmp(verb, "quit") == 0)
                return 1;
        if (!pool_name || !arg) {
                printf("err %d usage: spawn POOL DVM | destroy[-later] POOL NAME | info POOL NAME | preload POOL DVM N | work POOL - | "
                       "kick POOL BIN|- | quit\n", EINVAL);
                return 0;
        }
        r = pool_get(pool_name, &pool);
        if (r >= 0) {
                if (strcmp(verb, "spawn") == 0)
                        r = cmd_spawn(pool, arg);
                else if (strcmp(verb, "destroy") == 0)
                        r = cmd_destroy(pool, arg);
                else if (strcmp(verb, "destroy-later") == 0)
                        r = cmd_destroy_later(pool, arg);
                else if (strcmp(verb, "info") == 0)
                        r = cmd_info(pool, arg);
                else if (strcmp(verb, "preload") == 0)
                        r = cmd_preload(pool, arg, arg2);
                else if (strcmp(verb, "work") == 0)
                        r = cmd_work(pool);
                else if (strcmp(verb, "kick") == 0)
                        r = cmd_kick(arg);
                else
                        r = -EINVAL;
        }
        if (r < 0)
                answer_err(r);
        return 0;
}

int main(int argc, char **argv)
{
        char line[512];
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: dvmbench STATE_DIR   (commands on stdin, see the source)\n");
                return 2;
        }
        r = dvm_ctx_new(argv[1], &ctx);
        if (r < 0) {
                fprintf(stderr, "dvmbench: cannot create a context: %s\n", strerror(-r));
                return 1;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        while (fgets(line, sizeof(line), stdin))
                if (dispatch(line))
                        break;
        for (int i = 0; i < MAX_POOLS; i++)
                dvm_pool_close(pools[i].pool);
        dvm_ctx_free(ctx);
        return 0;
}
