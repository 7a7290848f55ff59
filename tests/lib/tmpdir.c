// SPDX-License-Identifier: GPL-2.0-or-later
/* Throwaway directories of the unit tests (tmpdir.h). */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpdir.h"

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        if (type == FTW_DP)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

void tmpdir_remove(const char *dir)
{
        nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Leftovers of runs that died: /tmp/<prefix><pid>-XXXXXX whose pid is gone. */
void tmpdir_sweep(const char *prefix)
{
        DIR *d = opendir("/tmp");
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                char path[300];
                long pid;

                if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
                        continue;
                pid = strtol(de->d_name + strlen(prefix), NULL, 10);
                if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                        continue;
                snprintf(path, sizeof(path), "/tmp/%s", de->d_name);
                tmpdir_remove(path);
        }
        closedir(d);
}

int tmpdir_new(const char *prefix, char *ret_dir, size_t size)
{
        tmpdir_sweep(prefix);
        snprintf(ret_dir, size, "/tmp/%s%d-XXXXXX", prefix, (int)getpid());
        return mkdtemp(ret_dir) ? 0 : -errno;
}
