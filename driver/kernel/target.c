// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The registry of dm targets (one table) and the feature probe that checks the kernel
 * provides each at a version we accept before we build tables with it.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/dm.h"
#include "kernel/target.h"

static const struct target_desc targets[] = {
        /* 1.19: the metadata snapshot and discard passdown behaviour we rely on (4.x+) */
        { "thin-pool", "dm-thin-pool", { 1, 19, 0 } },
        { "thin", "dm-thin-pool", { 1, 19, 0 } },
        { "snapshot", "dm-snapshot", { 1, 16, 0 } },
        { "snapshot-origin", "dm-snapshot", { 1, 9, 0 } },
        { "linear", "dm-mod", { 1, 4, 0 } },
        { "crypt", "dm-crypt", { 1, 19, 0 } },
};

const struct target_desc *target_find(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(targets); i++)
                if (strcmp(targets[i].name, name) == 0)
                        return &targets[i];
        return NULL;
}

static int version_cmp(const uint32_t a[3], const uint32_t b[3])
{
        for (int i = 0; i < 3; i++)
                if (a[i] != b[i])
                        return a[i] < b[i] ? -1 : 1;
        return 0;
}

int target_require(dvm_ctx *ctx, const char *name)
{
        const struct target_desc *t = target_find(name);
        uint32_t v[3];
        int r;

        if (!t)
                return ctx_error(ctx, -EINVAL, "unknown dm target %s", name);
        r = dm_available(ctx);
        if (r < 0)
                return r;
        r = dm_target_version(ctx, name, v);
        if (r == -ENOENT)
                return ctx_error(ctx, -EOPNOTSUPP,
                                 "the kernel has no dm target \"%s\": load module %s", name, t->module);
        if (r < 0)
                return ctx_error(ctx, r, "cannot query dm target %s: %m", name);
        if (version_cmp(v, t->min_version) < 0)
                return ctx_error(ctx, -EOPNOTSUPP, "dm target %s is version %u.%u.%u; need %u.%u.%u or later",
                                 name, v[0], v[1], v[2], t->min_version[0], t->min_version[1],
                                 t->min_version[2]);
        return 0;
}

char *target_devnum(uint32_t major, uint32_t minor, char *buf, size_t len)
{
        snprintf(buf, len, "%u:%u", major, minor);
        return buf;
}
