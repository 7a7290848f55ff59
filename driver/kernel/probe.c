// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device probing through libblkid (the only file that includes it): the superblocks chain
 * for a file system or other signature, the partitions chain for a partition table.
 */
#include <blkid/blkid.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "kernel/probe.h"

static void blkid_probe_freep(blkid_probe *pr)
{
        if (*pr)
                blkid_free_probe(*pr);
}

static void copy_value(blkid_probe pr, const char *name, char *buf, size_t len)
{
        const char *data = NULL;

        if (blkid_probe_lookup_value(pr, name, &data, NULL) == 0 && data)
                snprintf(buf, len, "%s", data);
}

int probe_device(dvm_ctx *ctx, const char *path, struct dvm_probe *ret_probe)
{
        __attribute__((cleanup(blkid_probe_freep))) blkid_probe pr = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct dvm_probe p = {};
        blkid_partlist parts;
        int r;

        if (fd < 0)
                return ctx_error(ctx, -errno, "cannot open %s to probe it: %m", path);
        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return ctx_error(ctx, -EIO, "%s: libblkid cannot use it for probing", path);
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE |
                                                      BLKID_SUBLKS_USAGE | BLKID_SUBLKS_VERSION);
        blkid_probe_enable_partitions(pr, 1);
        r = blkid_do_safeprobe(pr);
        if (r == -2) {
                p.ambivalent = true;
        } else if (r == 0) {
                copy_value(pr, "USAGE", p.usage, sizeof(p.usage));
                copy_value(pr, "TYPE", p.type, sizeof(p.type));
                copy_value(pr, "VERSION", p.version, sizeof(p.version));
                copy_value(pr, "LABEL", p.label, sizeof(p.label));
                copy_value(pr, "UUID", p.uuid, sizeof(p.uuid));
                copy_value(pr, "PTTYPE", p.pttype, sizeof(p.pttype));
                copy_value(pr, "PTUUID", p.ptuuid, sizeof(p.ptuuid));
                parts = p.pttype[0] ? blkid_probe_get_partitions(pr) : NULL;
                if (parts) {
                        int n = blkid_partlist_numof_partitions(parts);
                        p.partitions = n > 0 ? (unsigned)n : 0;
                }
        }
        /* libblkid read through the page cache: drop what it read, so that the next probe
         * sees what a running VM wrote meanwhile and no volume data stays behind in memory */
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        if (r == -1)
                return ctx_error(ctx, -EIO, "%s: libblkid could not read it", path);
        *ret_probe = p;
        return 0;
}
