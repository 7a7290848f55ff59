// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * block-dvm: the block hotplug script libxl runs for disks with script=block-dvm, as
 * "block-dvm add|remove" with XENBUS_PATH set. Parses, calls dvm_xen_hotplug(), logs to
 * syslog with its own duration, and exits 0 or 1 (libxl fails the disk on non-zero).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "dvm.h"

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * libxl kills a hotplug script after 40 s and reports only that it timed out. Waiting for a
 * pool's lock (another VM's wipe, a long import) must end earlier, with an error in
 * hotplug-error that names the pool. DVM_HOOK_LOCK_TIMEOUT (seconds, 1 to 35) overrides it.
 */
#define LOCK_TIMEOUT_S 25

static unsigned lock_timeout_ms(void)
{
        const char *env = getenv("DVM_HOOK_LOCK_TIMEOUT");
        char *end;
        unsigned long s;

        if (!env || !*env)
                return LOCK_TIMEOUT_S * 1000;
        s = strtoul(env, &end, 10);
        if (*end || s < 1 || s > 35) {
                syslog(LOG_WARNING, "DVM_HOOK_LOCK_TIMEOUT \"%s\" is not 1 to 35 seconds; using %d",
                       env, LOCK_TIMEOUT_S);
                return LOCK_TIMEOUT_S * 1000;
        }
        return (unsigned)s * 1000;
}

/* When main() began: DVM_HOOK_DEBUG lines carry the time since, to profile an add or remove,
 * and CLOCK_MONOTONIC in seconds, to set them beside a kernel trace (trace_clock mono). */
static double start_ms;

static void log_debug(const char *msg)
{
        double t = now_ms();
        syslog(LOG_DEBUG, "+%.1f ms [%.6f] %s", t - start_ms, t / 1e3, msg);
}

static void log_syslog(void *userdata, enum dvm_log_level level, const char *msg)
{
        (void)userdata;
        /* the error is logged once, with the duration, by main(); the others name their disk */
        if (level == DVM_LOG_DEBUG)
                log_debug(msg);
        else if (level > DVM_LOG_ERR)
                syslog((int)level, "%s", msg);
}

int main(int argc, char **argv)
{
        const char *be = getenv("XENBUS_PATH");
        double t0 = now_ms();
        bool debug = getenv("DVM_HOOK_DEBUG");
        enum dvm_hotplug_action action;
        dvm_ctx *ctx = NULL;
        int r;

        start_ms = t0;
        openlog("block-dvm", LOG_PID, LOG_DAEMON);
        if (debug)
                log_debug("main");
        if (argc != 2 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "remove") != 0) || !be) {
                fprintf(stderr, "Usage: XENBUS_PATH=backend/vbd/<domid>/<devid> block-dvm add|remove\n"
                                "The block hotplug script of dvm-vol; libxl runs it for disks with script=block-dvm.\n");
                syslog(LOG_ERR, "called as \"%s %s\" with XENBUS_PATH %s: not by libxl", argv[0],
                       argc > 1 ? argv[1] : "", be ? be : "unset");
                return 2;
        }
        action = strcmp(argv[1], "add") == 0 ? DVM_HOTPLUG_ADD : DVM_HOTPLUG_REMOVE;
        r = dvm_ctx_new(NULL, &ctx);
        if (r < 0) {
                syslog(LOG_ERR, "%s %s: invalid DVM_STATE_DIR \"%s\": it must be an absolute path", argv[1], be,
                       getenv("DVM_STATE_DIR"));
                fprintf(stderr, "block-dvm: invalid DVM_STATE_DIR: it must be an absolute path\n");
                return 1;
        }
        dvm_ctx_set_log(ctx, debug ? DVM_LOG_DEBUG : DVM_LOG_INFO, log_syslog, NULL);
        dvm_ctx_set_lock_timeout(ctx, lock_timeout_ms());
        r = dvm_xen_hotplug(ctx, action, be);
        if (r < 0) {
                syslog(LOG_ERR, "%s %s failed after %.0f ms: %s", argv[1], be, now_ms() - t0, dvm_ctx_last_error(ctx));
                /* libxl passes our stderr on to its caller (xl prints it) */
                fprintf(stderr, "block-dvm: %s %s: %s\n", argv[1], be, dvm_ctx_last_error(ctx));
        } else {
                syslog(LOG_INFO, "%s %s done in %.0f ms", argv[1], be, now_ms() - t0);
        }
        /* what the toolstack waits for after the line above: the start of a worker (its exec) */
        dvm_ctx_free(ctx);
        if (debug)
                log_debug("exit: background work joined");
        closelog();
        return r < 0 ? 1 : 0;
}
