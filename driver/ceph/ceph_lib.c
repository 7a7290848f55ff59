// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loads librados and librbd on first use (dlopen) and fills the table of their functions
 * that the ceph/ files call through (ceph_lib.h): a process that never connects to a
 * cluster never runs their constructors.
 */
#include <dlfcn.h>
#include <pthread.h>

#define CEPH_LIB_NO_REDIRECT
#include "ceph/ceph_lib.h"

struct ceph_lib ceph_lib;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool loaded;

static const struct {
        const char *soname, *package;
} libs[] = {
        [0] = { "librados.so.2", "librados2" },
        [1] = { "librbd.so.1", "librbd1" },
};

static int lib_index(const char *lib)
{
        return lib[1] == 'b'; /* "rbd", else "rados" */
}

static int load(dvm_ctx *ctx)
{
        void *handle[2];

        for (int i = 0; i < 2; i++) {
                /* never closed: their functions stay in use until the process ends */
                handle[i] = dlopen(libs[i].soname, RTLD_NOW | RTLD_LOCAL);
                if (!handle[i])
                        return ctx_error(ctx, -ENOPKG, "cannot load %s (Debian package %s), needed for rbd pools: %s",
                                         libs[i].soname, libs[i].package, dlerror());
        }
#define CEPH_LIB_LOOKUP(lib, fn)                                                                \
        *(void **)&ceph_lib.fn = dlsym(handle[lib_index(#lib)], #fn);                          \
        if (!ceph_lib.fn)                                                                       \
                return ctx_error(ctx, -ENOPKG, "%s has no function %s (Debian package %s too old?)", \
                                 libs[lib_index(#lib)].soname, #fn, libs[lib_index(#lib)].package);
        CEPH_LIB_FUNCS(CEPH_LIB_LOOKUP)
#undef CEPH_LIB_LOOKUP
        return 0;
}

int ceph_lib_load(dvm_ctx *ctx)
{
        int r = 0;

        pthread_mutex_lock(&lock);
        if (!loaded) {
                r = load(ctx);
                loaded = r >= 0;
        }
        pthread_mutex_unlock(&lock);
        return r;
}
