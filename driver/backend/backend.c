// SPDX-License-Identifier: GPL-2.0-or-later
/* The registry of pool backends. */
#include <stddef.h>

#include "backend/backend.h"

static const struct backend_ops *const backends[] = {
        [DVM_BACKEND_THIN] = &backend_thin,
        [DVM_BACKEND_SNAP] = &backend_snap,
        [DVM_BACKEND_RBD] = &backend_rbd,
};

const struct backend_ops *backend_get(enum dvm_backend backend)
{
        if ((size_t)backend >= sizeof(backends) / sizeof(backends[0]))
                return NULL;
        return backends[backend];
}
