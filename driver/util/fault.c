// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fault injection (test builds only): steps reached are traced to $DVM_FAULT_TRACE, and the
 * process stops dead at the step $DVM_FAULT names. See fault.h.
 */
#include "util/fault.h"

#ifdef DVM_FAULT_INJECTION
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/macro.h"

/* how often each step was reached in this process, for "<name>:<n>" */
static struct {
        char name[48];
        unsigned count;
} seen[64];

static unsigned reached(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(seen); i++) {
                if (!seen[i].name[0])
                        snprintf(seen[i].name, sizeof(seen[i].name), "%s", name);
                if (strcmp(seen[i].name, name) == 0)
                        return ++seen[i].count;
        }
        return 0;
}

static void trace(const char *name)
{
        const char *path = getenv("DVM_FAULT_TRACE");
        char line[64];
        int fd, n;

        if (!path || !*path)
                return;
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        n = snprintf(line, sizeof(line), "%s\n", name);
        if (write(fd, line, (size_t)n) != n)
                n = 0;
        close(fd);
}

void fault_point(const char *name)
{
        const char *want = getenv("DVM_FAULT");
        unsigned count = reached(name), at = 1;
        size_t len;

        trace(name);
        if (!want || !*want)
                return;
        len = strcspn(want, ":");
        if (len != strlen(name) || strncmp(want, name, len) != 0)
                return;
        if (want[len] == ':')
                at = (unsigned)strtoul(want + len + 1, NULL, 10);
        if (count != at)
                return;
        /* ":stop": held still (SIGSTOP) where it is, for a test to act meanwhile */
        if (strstr(want + len, ":stop"))
                raise(SIGSTOP);
        else
                _exit(FAULT_EXIT_STATUS);
}
#endif
