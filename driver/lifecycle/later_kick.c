// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Starting the worker (later.h): `dvm-vol worker --try POOL` in a process of its own,
 * detached from the caller (a CLI, a hotplug hook whose toolstack waits for its output, a
 * library user): double fork, a session of its own, stdio on /dev/null, no other
 * descriptor, and no fault injection inherited from a crash test.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>

#include "lifecycle/later.h"

#ifndef DVM_SBINDIR
#define DVM_SBINDIR "/usr/local/sbin"
#endif

extern char **environ;

static const char *worker_binary(char *buf, size_t len)
{
        const char *bin = getenv("DVM_VOL_BIN");
        ssize_t n;

        if (bin && *bin)
                return bin;
        n = readlink("/proc/self/exe", buf, len - 1);
        if (n > 0) {
                const char *base;
                buf[n] = 0;
                base = strrchr(buf, '/');
                if (base && strcmp(base + 1, "dvm-vol") == 0)
                        return buf;
        }
        return DVM_SBINDIR "/dvm-vol";
}

/* The environment without DVM_FAULT and DVM_FAULT_TRACE (malloc'd array, borrowed strings). */
static char **worker_env(void)
{
        size_t n = 0, k = 0;
        char **env;

        while (environ && environ[n])
                n++;
        env = calloc(n + 1, sizeof(*env));
        if (!env)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], "DVM_FAULT", 9) != 0)
                        env[k++] = environ[i];
        return env;
}

/* In the grandchild, between fork and exec: async-signal-safe calls only. */
static _Noreturn void run_worker(const char *bin, char *const argv[], char *const envp[])
{
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
                _exit(127);
        /* everything else the caller had open stays with the caller */
        syscall(SYS_close_range, 3U, ~0U, 0U);
        execve(bin, argv, envp);
        _exit(127);
}

void later_kick(dvm_pool *pool)
{
        char exe[PATH_MAX], name[sizeof(pool->name)];
        _cleanup_free_ char **env = worker_env();
        const char *bin = worker_binary(exe, sizeof(exe));
        pid_t pid;

        snprintf(name, sizeof(name), "%s", pool->name);
        char *argv[] = { (char *)bin, "--state-dir", (char *)dvm_ctx_state_dir(pool->ctx), "worker", "--try", name, NULL };
        if (!env)
                return;
        pid = fork();
        if (pid < 0) {
                ctx_debug(pool->ctx, "pool %s: cannot start the worker: fork: %m", pool->name);
                return;
        }
        if (pid == 0) {
                pid_t g;
                setsid();
                g = fork();
                if (g == 0)
                        run_worker(bin, argv, env);
                _exit(g < 0);
        }
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        ctx_debug(pool->ctx, "pool %s: started %s worker %s", pool->name, bin, name);
}
