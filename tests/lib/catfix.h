/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The unit tests of store/: a real catalog in a fresh directory under /tmp per test, swept
 * with what SQLite left beside it (and left over by runs that died before their .fini), and
 * the row builders the tests share.
 */
#ifndef DVM_TEST_CATFIX_H
#define DVM_TEST_CATFIX_H

#include <stdint.h>

#include "store/catalog.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"

struct catfix {
        char dir[96];
        char path[160];    /* dir/catalog.db */
        dvm_ctx *ctx;
        catalog *cat;
};

/* Expect or assert that @call (a number) gives @want; the message shows both and @what.
 * @call is evaluated once (it may allocate an id). */
#define CF_CHECK_EQ_(kind, call, want, what)                                                                  \
        do {                                                                                                   \
                long long got_ = (long long)(call), want_ = (long long)(want);                                 \
                cr_##kind##_eq(got_, want_, "%s: %s gave %lld, want %lld (%s)", what, #call, got_, want_,      \
                               got_ < 0 ? catfix_err() : "");                                                  \
        } while (0)
#define CF_EXPECT_EQ(call, want, what) CF_CHECK_EQ_(expect, call, want, what)
#define CF_ASSERT_EQ(call, want, what) CF_CHECK_EQ_(assert, call, want, what)

/** The catalog of the running test (Criterion .init/.fini run in the test's process). */
extern struct catfix cf;

/** catfix_setup() - a .init: sweep dead runs' directories, make one, open its catalog. */
void catfix_setup(void);
/** catfix_teardown() - a .fini: close the catalog and remove its directory. */
void catfix_teardown(void);
/** catfix_err() - the context's last error, for assertion messages. */
const char *catfix_err(void);

/** catfix_vm() - a VM row of @kind named @name on @template (NULL: none). */
struct cat_vm catfix_vm(const char *name, enum dvm_vm_kind kind, const char *template);
/** catfix_put_vm() - store catfix_vm(...), asserting it worked. */
void catfix_put_vm(const char *name, enum dvm_vm_kind kind, const char *template);
/** catfix_vol() - a 1 MiB rw volume row @vm/@name with layers @thin_id and @run_id (-1: none). */
struct cat_volume catfix_vol(const char *vm, const char *name, int64_t thin_id, int64_t run_id);
/** catfix_put_vol() - store catfix_vol(...), asserting it worked. */
void catfix_put_vol(const char *vm, const char *name, int64_t thin_id, int64_t run_id);
/** catfix_alloc_id() - catalog_thin_id_alloc(), asserting it worked. Returns the id. */
int64_t catfix_alloc_id(void);
/** catfix_count() - the number of rows of @table (read with SQLite, not the catalog). */
int catfix_count(const char *table);

#endif
