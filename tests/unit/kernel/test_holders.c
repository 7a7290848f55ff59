// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of holders.c on the host (no root, no block devices needed): a child process
 * holding a character device open is named with its pid and command; nobody else is
 * invented; the text is cut to the buffer while the count stays whole.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/holders.h"

/* /dev/full: a device almost nobody keeps open */
#define DEV_FULL makedev(1, 7)

static pid_t hold(const char *comm)
{
        int ready[2];
        char c;
        pid_t pid;

        cr_assert_eq(pipe(ready), 0, "pipe: %m");
        pid = fork();
        cr_assert(pid >= 0, "fork: %m");
        if (pid == 0) {
                int fd = open("/dev/full", O_RDONLY);
                prctl(PR_SET_NAME, comm);
                if (write(ready[1], fd >= 0 ? "y" : "n", 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        close(ready[1]);
        cr_assert_eq(read(ready[0], &c, 1), 1, "child did not report");
        cr_assert_eq(c, 'y', "child could not open /dev/full");
        close(ready[0]);
        return pid;
}

static void release(pid_t pid)
{
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

Test(holders, names_the_process)
{
        char buf[65536], want[64];
        pid_t pid = hold("dvmholder");
        int n = holders_describe(DEV_FULL, S_IFCHR, buf, sizeof(buf));

        snprintf(want, sizeof(want), "process %d (dvmholder)", pid);
        release(pid);
        cr_assert(n >= 1, "holders of /dev/full with a child holding it: %d (%s)", n, buf);
        cr_assert(strstr(buf, want), "holders of /dev/full: \"%s\", expected to find \"%s\"", buf, want);
}

Test(holders, two_holders_are_both_named)
{
        char buf[65536], want_a[64], want_b[64];
        pid_t a = hold("dvmholdA"), b = hold("dvmholdB");
        int n = holders_describe(DEV_FULL, S_IFCHR, buf, sizeof(buf));

        snprintf(want_a, sizeof(want_a), "process %d (dvmholdA)", a);
        snprintf(want_b, sizeof(want_b), "process %d (dvmholdB)", b);
        release(a);
        release(b);
        cr_assert(n >= 2, "holders: %d (%s)", n, buf);
        cr_assert(strstr(buf, want_a) && strstr(buf, want_b) && strstr(buf, ", "),
                  "holders: \"%s\", expected \"%s\" and \"%s\"", buf, want_a, want_b);
}

Test(holders, nobody_after_release)
{
        char buf[4096], want[64];
        pid_t pid = hold("dvmholder");

        snprintf(want, sizeof(want), "process %d ", pid);
        release(pid);
        holders_describe(DEV_FULL, S_IFCHR, buf, sizeof(buf));
        cr_assert(!strstr(buf, want), "a dead process is still named: %s", buf);
}

Test(holders, truncates_but_counts)
{
        char small[12];
        pid_t a = hold("dvmholdA"), b = hold("dvmholdB");
        int n = holders_describe(DEV_FULL, S_IFCHR, small, sizeof(small));

        release(a);
        release(b);
        cr_assert(n >= 2, "count with a short buffer: %d", n);
        cr_assert_eq(strlen(small), sizeof(small) - 1, "text not cut to the buffer: \"%s\"", small);
}

Test(holders, zero_length_buffer)
{
        int n = holders_describe(DEV_FULL, S_IFCHR, NULL, 0);
        cr_assert(n >= 0, "count with no buffer: %d", n);
}
