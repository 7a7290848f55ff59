// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Starting the worker (later.h): `dvm-vol worker --try POOL` in a process of its own,
 * detached from the caller (a CLI, a hotplug hook whose toolstack waits for its output, a
 * library user): a session of its own, stdio on /dev/null, no other descriptor, and no
 * fault injection inherited from a crash test. The caller waits for two clones that copy
 * none of its memory (vfork, posix_spawn) and the worker's exec, not for the worker.
 */
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Stdio on /dev/null, every other descriptor of the caller closed: the worker's own. */
static int worker_files(posix_spawn_file_actions_t *fa)
{
        int r = posix_spawn_file_actions_init(fa);

        if (r)
                return -r;
        if ((r = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDWR, 0)) ||
            (r = posix_spawn_file_actions_adddup2(fa, 0, 1)) || (r = posix_spawn_file_actions_adddup2(fa, 0, 2)) ||
            (r = posix_spawn_file_actions_addclosefrom_np(fa, 3))) {
                posix_spawn_file_actions_destroy(fa);
                return -r;
        }
        return 0;
}

/* The short-lived middle process, a vfork child (it shares our memory and we wait while it
 * runs): a session of its own, the worker spawned into it, gone at once, so that the worker
 * is nobody's child but init's and never a zombie of the caller. posix_spawn() clones
 * without copying the caller's memory either, and runs the child on a stack of its own. */
static pid_t start_detached(const char *bin, char *const argv[], char *const envp[],
                            const posix_spawn_file_actions_t *fa)
{
        pid_t pid = vfork();

        if (pid == 0) {
                pid_t worker;
                setsid();
                _exit(posix_spawn(&worker, bin, fa, NULL, argv, envp) != 0);
        }
        return pid;
}

void later_kick(dvm_pool *pool)
{
        char exe[PATH_MAX], name[sizeof(pool->name)];
        _cleanup_free_ char **env = worker_env();
        const char *bin = worker_binary(exe, sizeof(exe));
        posix_spawn_file_actions_t fa;
        int status = 0;
        pid_t pid;

        snprintf(name, sizeof(name), "%s", pool->name);
        char *argv[] = { (char *)bin, "--state-dir", (char *)dvm_ctx_state_dir(pool->ctx), "worker", "--try", name, NULL };
        if (!env)
                return;
        if (worker_files(&fa) < 0) {
                ctx_debug(pool->ctx, "pool %s: cannot start the worker: out of memory", pool->name);
                return;
        }
        pid = start_detached(bin, argv, env, &fa);
        if (pid < 0)
                ctx_debug(pool->ctx, "pool %s: cannot start the worker: vfork: %m", pool->name);
        while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        posix_spawn_file_actions_destroy(&fa);
        if (pid > 0)
                ctx_debug(pool->ctx, "pool %s: %s worker %s %s", pool->name, WIFEXITED(status) && !WEXITSTATUS(status) ?
                          "started" : "could not start", bin, name);
}
