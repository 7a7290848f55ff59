// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The readahead of our own mount: its backing device found in /proc/self/mountinfo, its
 * read_ahead_kb written in sysfs. Best effort: a failure is logged, nothing else.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "inspect.h"

/* "major:minor" of the mount at @mountpoint, from /proc/self/mountinfo: a stat() of the
 * mount would wait for the very daemon that asks. */
static bool mount_dev(const char *mountpoint, char *buf, size_t len)
{
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        FILE *f = fopen("/proc/self/mountinfo", "re");
        bool found = false;

        if (!f)
                return false;
        /* "<id> <parent> <major:minor> <root> <mount point> ... - <fs type> ..."; the
         * last match is ours (mounted over whatever was there) */
        while (getline(&line, &cap, f) > 0) {
                char dev[32], point[4096], type[64];
                const char *sep = strstr(line, " - ");
                if (!sep || sscanf(line, "%*s %*s %31s %*s %4095s", dev, point) != 2 ||
                    sscanf(sep + 3, "%63s", type) != 1)
                        continue;
                if (strcmp(point, mountpoint) == 0 && strcmp(type, "fuse.dvm-inspect") == 0) {
                        snprintf(buf, len, "%s", dev);
                        found = true;
                }
        }
        fclose(f);
        return found;
}

void readahead_raise(const char *mountpoint, unsigned kib)
{
        char dev[32], path[96], value[16];
        int fd, n;

        if (!mount_dev(mountpoint, dev, sizeof(dev))) {
                syslog(LOG_WARNING, "cannot raise the readahead of %s: not in /proc/self/mountinfo", mountpoint);
                return;
        }
        snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
        n = snprintf(value, sizeof(value), "%u", kib);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, value, (size_t)n) != n)
                syslog(LOG_WARNING, "cannot raise the readahead of %s (%s): %m", mountpoint, path);
        if (fd >= 0)
                close(fd);
}
