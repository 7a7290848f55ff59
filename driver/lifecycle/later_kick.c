// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Starting the worker (later.h): `dvm-vol worker --try POOL` in a process of its own,
 * detached from the caller (a CLI, a hotplug hook whose toolstack waits for its output, a
 * library user): a session of its own, stdio on /dev/null, no other descriptor, and no
 * fault injection inherited from a crash test. The caller does not wait: a thread of the
 * context (ctx_background()) runs the two clones that copy none of its memory (vfork,
 * posix_spawn) and waits for the worker's exec; dvm_ctx_free() waits for that thread.
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

/* What the starting thread needs, copied on the caller's thread (the caller may change its
 * environment meanwhile): argv and the environment without DVM_FAULT and DVM_FAULT_TRACE. */
struct kick {
        char *argv[7];
        char **env;
};

static void kick_free(struct kick *k)
{
        for (size_t i = 0; i < ARRAY_SIZE(k->argv); i++)
                free(k->argv[i]);
        for (size_t i = 0; k->env && k->env[i]; i++)
                free(k->env[i]);
        free(k->env);
        free(k);
}

static struct kick *kick_new(const char *bin, const char *state_dir, const char *pool)
{
        const char *words[] = { bin, "--state-dir", state_dir, "worker", "--try", pool };
        struct kick *k = calloc(1, sizeof(*k));
        size_t n = 0, e = 0;

        if (!k)
                return NULL;
        while (environ && environ[n])
                n++;
        k->env = calloc(n + 1, sizeof(*k->env));
        for (size_t i = 0; i < ARRAY_SIZE(words); i++)
                if (!(k->argv[i] = strdup(words[i])))
                        goto fail;
        if (!k->env)
                goto fail;
        for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], "DVM_FAULT", 9) != 0 && !(k->env[e++] = strdup(environ[i])))
                        goto fail;
        return k;
fail:
        kick_free(k);
        return NULL;
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

/* On a thread of its own (ctx_background()): start the worker, wait for the middle process. */
static void kick_run(void *arg)
{
        struct kick *k = arg;
        posix_spawn_file_actions_t fa;
        pid_t pid;

        if (worker_files(&fa) == 0) {
                pid = start_detached(k->argv[0], k->argv, k->env, &fa);
                while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                posix_spawn_file_actions_destroy(&fa);
        }
        kick_free(k);
}

void later_kick(dvm_pool *pool)
{
        char exe[PATH_MAX];
        struct kick *k = kick_new(worker_binary(exe, sizeof(exe)), dvm_ctx_state_dir(pool->ctx), pool->name);

        if (!k) {
                ctx_debug(pool->ctx, "pool %s: cannot start the worker: out of memory", pool->name);
                return;
        }
        ctx_debug(pool->ctx, "pool %s: starting worker %s", pool->name, k->argv[0]);
        ctx_background(pool->ctx, kick_run, k);
}
