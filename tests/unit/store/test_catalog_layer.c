// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of store/catalog_layer.c on a throwaway SQLite file: the revisions_to_keep
 * setting, revision rows (newest first), imports (one per volume, a layer id once), and the
 * layer ids they hold, which the thin-id allocator must not hand out.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catfix.h"
#include "store/catalog_layer.h"
#include "store/catalog_volume.h"

TestSuite(catalog_layer, .init = catfix_setup, .fini = catfix_teardown, .timeout = 30);

static void add_revision(const char *vm, const char *vol, int64_t id, int64_t time, uint64_t size)
{
        struct cat_revision rev = { .id = id, .time = time, .size = size };
        int r = catalog_revision_add(cf.cat, vm, vol, &rev);

        cr_assert_eq(r, 0, "catalog_revision_add(%s/%s, %lld): %d (%s)", vm, vol, (long long)id, r, catfix_err());
}

Test(catalog_layer, keep_setting)
{
        unsigned keep = 99;
        int r;

        r = catalog_volume_keep_get(cf.cat, "work", "private", &keep);
        cr_assert_eq(r, 0, "keep of a volume without a setting: %d (%s)", r, catfix_err());
        cr_expect_eq(keep, 0u, "keep without a setting: %u, want 0", keep);
        for (unsigned want = 1; want <= 3; want += 2) {
                r = catalog_volume_keep_set(cf.cat, "work", "private", want);
                cr_assert_eq(r, 0, "catalog_volume_keep_set(%u): %d (%s)", want, r, catfix_err());
                r = catalog_volume_keep_get(cf.cat, "work", "private", &keep);
                cr_assert_eq(r, 0, "catalog_volume_keep_get: %d (%s)", r, catfix_err());
                cr_expect_eq(keep, want, "keep %u after setting %u", keep, want);
        }
        r = catalog_volume_keep_get(cf.cat, "work", "root", &keep);
        cr_expect_eq(r == 0 ? keep : 99u, 0u, "another volume's keep: %d, %u", r, keep);
}

Test(catalog_layer, revisions_newest_first)
{
        static const struct cat_revision want[] = { { 12, 300, 3 << 20 }, { 11, 200, 2 << 20 },
                                                    { 10, 200, 1 << 20 }, { 9, 100, 4096 } };
        struct cat_revision *revs = NULL;
        int n, r;

        n = catalog_revision_list(cf.cat, "work", "private", &revs);
        cr_expect_eq(n, 0, "a volume without revisions lists %d", n);
        cr_expect_not_null(revs, "an empty list of %d revisions is NULL (callers free it)", n);
        free(revs);
        revs = NULL;

        add_revision("work", "private", 9, 100, 4096);
        add_revision("work", "private", 10, 200, 1 << 20);
        add_revision("work", "private", 11, 200, 2 << 20); /* same time: the later row first */
        add_revision("work", "private", 12, 300, 3 << 20);
        add_revision("work", "root", 13, 400, 1);
        n = catalog_revision_list(cf.cat, "work", "private", &revs);
        cr_assert_eq(n, 4, "listed %d revisions of work/private, want 4", n);
        for (int i = 0; i < n; i++) {
                cr_expect_eq(revs[i].id, want[i].id, "position %d: layer %lld, want %lld", i, (long long)revs[i].id,
                             (long long)want[i].id);
                cr_expect_eq(revs[i].time, want[i].time, "layer %lld: time %lld, want %lld", (long long)revs[i].id,
                             (long long)revs[i].time, (long long)want[i].time);
                cr_expect_eq(revs[i].size, want[i].size, "layer %lld: size %llu, want %llu", (long long)revs[i].id,
                             (unsigned long long)revs[i].size, (unsigned long long)want[i].size);
        }
        free(revs);

        /* a layer is one revision: adding it again is refused */
        r = catalog_revision_add(cf.cat, "work", "root", &(struct cat_revision){ .id = 9 });
        cr_expect_eq(r, -EEXIST, "a second revision of layer 9: %d", r);
        r = catalog_revision_delete(cf.cat, 10);
        cr_assert_eq(r, 0, "catalog_revision_delete(10): %d (%s)", r, catfix_err());
        n = catalog_revision_list(cf.cat, "work", "private", &revs);
        cr_expect_eq(n, 3, "%d revisions after deleting one, want 3", n);
        for (int i = 0; i < n; i++)
                cr_expect_neq(revs[i].id, 10, "the deleted layer 10 is still listed at %d", i);
        free(revs);
}

Test(catalog_layer, import_round_trip)
{
        int64_t id = -2;
        uint64_t size = 1;
        int r;

        r = catalog_import_get(cf.cat, "work", "private", &id, &size);
        cr_expect_eq(r, -ENOENT, "an import that was never put: %d", r);
        cr_expect(id == -2 && size == 1, "a failed get wrote %lld, %llu", (long long)id, (unsigned long long)size);
        r = catalog_import_put(cf.cat, "work", "private", 42, 5ULL << 30);
        cr_assert_eq(r, 0, "catalog_import_put: %d (%s)", r, catfix_err());
        r = catalog_import_get(cf.cat, "work", "private", &id, &size);
        cr_assert_eq(r, 0, "catalog_import_get: %d (%s)", r, catfix_err());
        cr_expect_eq(id, 42, "import layer %lld, want 42", (long long)id);
        cr_expect_eq(size, 5ULL << 30, "import size %llu, want %llu", (unsigned long long)size, 5ULL << 30);

        r = catalog_import_put(cf.cat, "work", "private", 43, 1);
        cr_expect_eq(r, -EEXIST, "a second import into one volume: %d", r);
        r = catalog_import_put(cf.cat, "work", "root", 42, 1);
        cr_expect_eq(r, -EEXIST, "a second import of layer 42: %d", r);
        r = catalog_import_delete(cf.cat, "work", "private");
        cr_assert_eq(r, 0, "catalog_import_delete: %d (%s)", r, catfix_err());
        r = catalog_import_get(cf.cat, "work", "private", &id, &size);
        cr_expect_eq(r, -ENOENT, "the import after its delete: %d", r);
}

/* held_layers and thin_ids list what revisions and imports hold; the allocator skips it */
Test(catalog_layer, held_layers_are_not_handed_out)
{
        static const int64_t held[] = { 0, 2, 5 }, next[] = { 3, 4, 6 };
        int64_t *ids = NULL;
        int n, r;

        n = catalog_held_layers(cf.cat, &ids);
        cr_expect_eq(n, 0, "a new catalog holds %d layers", n);
        free(ids);
        ids = NULL;
        add_revision("work", "private", 5, 1, 1);
        add_revision("work", "private", 0, 2, 1);
        r = catalog_import_put(cf.cat, "work", "root", 2, 1);
        cr_assert_eq(r, 0, "catalog_import_put: %d (%s)", r, catfix_err());
        catfix_put_vol("work", "private", 1, -1);

        n = catalog_held_layers(cf.cat, &ids);
        cr_assert_eq(n, 3, "held %d layers, want 3 (the volume's own layer is not held)", n);
        for (int i = 0; i < n; i++)
                cr_expect_eq(ids[i], held[i], "held layer %d: %lld, want %lld", i, (long long)ids[i],
                             (long long)held[i]);
        free(ids);
        ids = NULL;
        n = catalog_thin_ids(cf.cat, &ids);
        cr_expect_eq(n, 4, "catalog_thin_ids: %d ids, want 4 (0 1 2 5)", n);
        free(ids);

        for (int64_t id = 0; id <= 5; id++) {
                r = catalog_layer_users(cf.cat, id);
                cr_expect_eq(r, id == 3 || id == 4 ? 0 : 1, "users of layer %lld: %d", (long long)id, r);
        }
        for (size_t i = 0; i < ARRAY_SIZE(next); i++) {
                int64_t got = catfix_alloc_id();
                cr_expect_eq(got, next[i], "allocation %zu: %lld, want %lld (0, 2, 5 are held, 1 is a volume's)", i,
                             (long long)got, (long long)next[i]);
        }
}
