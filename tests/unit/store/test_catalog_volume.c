// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of store/catalog_volume.c on a throwaway SQLite file: volume rows and their
 * order, the UNIQUE layer ids, the forget of a volume with its layers' rows, and thin-id
 * allocation, which never hands out an id a row of any part still needs.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catfix.h"
#include "store/catalog.h"
#include "store/catalog_layer.h"
#include "store/catalog_volume.h"
#include "util/ctx.h"

#define ID_LIMIT (1 << 24)

TestSuite(catalog_volume, .init = catfix_setup, .fini = catfix_teardown, .timeout = 30);

Test(catalog_volume, volume_put_get)
{
        struct cat_volume v = catfix_vol("work-dvm", "root", -1, 17), got;
        int r;

        r = catalog_volume_get(cf.cat, "work-dvm", "root", &got);
        cr_expect_eq(r, -ENOENT, "before put: %d", r);

        v.size = 10ULL << 30;
        v.flags = DVM_VOL_SNAP_ON_START | DVM_VOL_RW;
        snprintf(v.source_vm, sizeof(v.source_vm), "fedora");
        snprintf(v.source_vol, sizeof(v.source_vol), "root");
        v.source_id = 4;
        cr_assert_eq(catalog_volume_put(cf.cat, &v), 0, "put: %s", catfix_err());
        memset(&got, 0x5a, sizeof(got));
        CF_ASSERT_EQ(catalog_volume_get(cf.cat, "work-dvm", "root", &got), 0, "get");
        cr_expect_str_eq(got.vm, "work-dvm", "vm \"%s\"", got.vm);
        cr_expect_str_eq(got.name, "root", "name \"%s\"", got.name);
        cr_expect_eq(got.size, 10ULL << 30, "size %ju", (uintmax_t)got.size);
        cr_expect_eq(got.flags, (unsigned)(DVM_VOL_SNAP_ON_START | DVM_VOL_RW), "flags %u", got.flags);
        cr_expect_eq(got.thin_id, -1, "thin_id %lld (none is -1)", (long long)got.thin_id);
        cr_expect_eq(got.run_id, 17, "run_id %lld", (long long)got.run_id);
        cr_expect_str_eq(got.source_vm, "fedora", "source_vm \"%s\"", got.source_vm);
        cr_expect_str_eq(got.source_vol, "root", "source_vol \"%s\"", got.source_vol);
        cr_expect_eq(got.source_id, 4, "source_id %lld", (long long)got.source_id);

        /* commit the running layer: the same row, thin_id takes run_id */
        v.thin_id = 17;
        v.run_id = -1;
        cr_assert_eq(catalog_volume_put(cf.cat, &v), 0, "commit put: %s", catfix_err());
        CF_ASSERT_EQ(catalog_volume_get(cf.cat, "work-dvm", "root", &got), 0, "get");
        cr_expect(got.thin_id == 17 && got.run_id == -1, "after commit: thin_id %lld run_id %lld",
                  (long long)got.thin_id, (long long)got.run_id);
        cr_expect_eq(catalog_volume_count(cf.cat), 1, "count %d", catalog_volume_count(cf.cat));
}

Test(catalog_volume, volume_list_order)
{
        struct cat_volume vols[4];
        int n;

        catfix_put_vol("disp1", "volatile", -1, 9);
        catfix_put_vol("disp1", "private", -1, 8);
        catfix_put_vol("disp1", "root", -1, 7);
        catfix_put_vol("disp2", "root", -1, 10);

        n = catalog_volume_list(cf.cat, "disp1", vols, 4);
        cr_assert_eq(n, 3, "disp1 lists %d volumes", n);
        cr_expect_str_eq(vols[0].name, "root", "first \"%s\"", vols[0].name);
        cr_expect_str_eq(vols[1].name, "private", "second \"%s\"", vols[1].name);
        cr_expect_str_eq(vols[2].name, "volatile", "third \"%s\"", vols[2].name);
        cr_expect_eq(vols[2].run_id, 9, "volatile run_id %lld", (long long)vols[2].run_id);

        n = catalog_volume_list(cf.cat, "disp1", vols, 2);
        cr_expect_eq(n, 2, "max 2 gave %d", n);
        n = catalog_volume_list(cf.cat, "disp1", vols, 0);
        cr_expect_eq(n, 0, "max 0 gave %d", n);
        n = catalog_volume_list(cf.cat, "nosuch", vols, 4);
        cr_expect_eq(n, 0, "nosuch lists %d volumes", n);
}

/* UNIQUE thin ids catch a catalog that would hand one thin device to two volumes; a put
 * must fail then, not delete the other volume's row to make room. */
Test(catalog_volume, volume_id_conflict_fails)
{
        struct cat_volume v = catfix_vol("debian", "root", 1, -1), got;
        int r;

        catfix_put_vol("fedora", "root", 1, -1);
        catfix_put_vol("fedora", "private", 2, 3);

        r = catalog_volume_put(cf.cat, &v);
        cr_expect_eq(r, -EEXIST, "a second volume with thin id 1: returned %d", r);
        v = catfix_vol("debian", "root", -1, 3);
        r = catalog_volume_put(cf.cat, &v);
        cr_expect_eq(r, -EEXIST, "a second volume with run id 3: returned %d", r);

        CF_EXPECT_EQ(catalog_volume_get(cf.cat, "fedora", "root", &got), 0, "fedora/root was deleted");
        CF_EXPECT_EQ(catalog_volume_get(cf.cat, "fedora", "private", &got), 0, "fedora/private was deleted");
        cr_expect_eq(catalog_volume_count(cf.cat), 2, "count %d", catalog_volume_count(cf.cat));
}

Test(catalog_volume, thin_id_advances)
{
        for (int64_t want = 0; want < 5; want++) {
                int64_t id = catfix_alloc_id();
                cr_expect_eq(id, want, "allocation %lld gave %lld", (long long)want, (long long)id);
        }
        /* a freed id is not handed out again at once */
        int64_t id = catfix_alloc_id(), again;
        catfix_put_vol("a", "root", id, -1);
        CF_ASSERT_EQ(catalog_vm_delete(cf.cat, "a"), 0, "delete");
        again = catfix_alloc_id();
        cr_expect_eq(again, id + 1, "id %lld was stored and freed; the next allocation gave %lld",
                     (long long)id, (long long)again);
}

Test(catalog_volume, thin_id_skips_ids_in_use)
{
        catfix_put_vol("a", "root", 0, -1);
        catfix_put_vol("a", "private", 1, 2);
        catfix_put_vol("a", "volatile", -1, 4);
        CF_EXPECT_EQ(catfix_alloc_id(), 3, "first free id");
        CF_EXPECT_EQ(catfix_alloc_id(), 5, "next free id after 4 (a run id)");
}

/* issue 12 defect 1: an outdated disposable's origin is named by its source_id alone (its
 * template committed a new layer since): that id is not free while the snapshot runs. */
Test(catalog_volume, thin_id_skips_origin_of_running_snapshot)
{
        struct cat_volume d = catfix_vol("disp1", "root", -1, 1);
        struct cat_volume stopped = catfix_vol("disp2", "root", -1, -1);

        catfix_put_vol("tmpl", "root", 3, -1);
        d.flags = DVM_VOL_SNAP_ON_START;
        d.source_id = 0; /* tmpl's layer when disp1 started; tmpl has committed 3 since */
        CF_ASSERT_EQ(catalog_volume_put(cf.cat, &d), 0, "put disp1");
        stopped.flags = DVM_VOL_SNAP_ON_START;
        stopped.source_id = 2; /* not running: its old source_id holds nothing */
        CF_ASSERT_EQ(catalog_volume_put(cf.cat, &stopped), 0, "put disp2");
        CF_EXPECT_EQ(catalog_layer_users(cf.cat, 0), 1, "the origin of running disp1 has a user");
        CF_EXPECT_EQ(catfix_alloc_id(), 2, "ids 0 (disp1's origin) and 1 (its run id) are taken; 2 is free");
        CF_EXPECT_EQ(catfix_alloc_id(), 4, "then 4, past tmpl's 3");
}

Test(catalog_volume, thin_id_wraps)
{
        CF_ASSERT_EQ(catalog_meta_set_u64(cf.cat, "next_thin_id", ID_LIMIT - 2), 0, "set next");
        CF_EXPECT_EQ(catfix_alloc_id(), ID_LIMIT - 2, "below the top");
        CF_EXPECT_EQ(catfix_alloc_id(), ID_LIMIT - 1, "the top 24-bit id");
        CF_EXPECT_EQ(catfix_alloc_id(), 0, "after the top");

        /* wrapping also skips ids in use */
        catfix_put_vol("a", "root", ID_LIMIT - 1, 0);
        catfix_put_vol("a", "private", 1, -1);
        CF_ASSERT_EQ(catalog_meta_set_u64(cf.cat, "next_thin_id", ID_LIMIT - 1), 0, "set next");
        CF_EXPECT_EQ(catfix_alloc_id(), 2, "past the top, 0 and 1");
}

/* A damaged allocator setting must not produce an id the kernel cannot take. */
Test(catalog_volume, thin_id_stays_24_bit)
{
        static const uint64_t next[] = { ID_LIMIT, ID_LIMIT + 5ULL, UINT64_MAX };

        for (size_t i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
                int64_t id;

                CF_ASSERT_EQ(catalog_meta_set_u64(cf.cat, "next_thin_id", next[i]), 0, "set next");
                id = catfix_alloc_id();
                cr_expect(id >= 0 && id < ID_LIMIT, "next_thin_id %ju gave id %lld", (uintmax_t)next[i],
                          (long long)id);
        }
}

Test(catalog_volume, thin_id_bad_setting)
{
        int64_t id = -2;
        int r;

        CF_ASSERT_EQ(catalog_meta_set(cf.cat, "next_thin_id", "many"), 0, "set");
        r = catalog_thin_id_alloc(cf.cat, &id);
        cr_expect_eq(r, -EINVAL, "returned %d", r);
        cr_expect_eq(id, -2, "failed but wrote %lld", (long long)id);
}

Test(catalog_volume, thin_ids_sorted)
{
        static const int64_t want[] = { 0, 2, 3, 7, 9, 16777215 };
        int64_t *ids = NULL;
        int n;

        n = catalog_thin_ids(cf.cat, &ids);
        cr_expect_eq(n, 0, "empty catalog: %d ids", n);
        free(ids);
        ids = NULL;

        catfix_put_vol("b", "root", 9, 3);
        catfix_put_vol("a", "root", 16777215, -1);
        catfix_put_vol("a", "private", 2, 0);
        catfix_put_vol("a", "volatile", -1, 7);
        catfix_put_vol("c", "volatile", -1, -1);
        n = catalog_thin_ids(cf.cat, &ids);
        cr_assert_eq(n, 6, "%d ids", n);
        for (int i = 0; i < n; i++)
                cr_expect_eq(ids[i], want[i], "id %d is %lld, want %lld", i, (long long)ids[i], (long long)want[i]);
        free(ids);
}

/* a volume's forget takes its layers' rows with its own, and nobody else's */
Test(catalog_volume, volume_forget_takes_its_layers)
{
        static const char *const tables[] = { "volumes", "volume_settings", "revisions", "imports" };
        int r;

        for (int i = 0; i < 2; i++) {
                const char *vol = i ? "root" : "private";
                catfix_put_vol("work", vol, 10 + i, -1);
                cr_assert_eq(r = catalog_volume_keep_set(cf.cat, "work", vol, 1), 0, "keep: %d (%s)", r, catfix_err());
                r = catalog_revision_add(cf.cat, "work", vol, &(struct cat_revision){ .id = 20 + i, .time = 1, .size = 1 });
                cr_assert_eq(r, 0, "revision: %d (%s)", r, catfix_err());
                cr_assert_eq(r = catalog_import_put(cf.cat, "work", vol, 30 + i, 1), 0, "import: %d (%s)", r,
                             catfix_err());
        }
        r = catalog_volume_forget(cf.cat, "work", "private");
        cr_assert_eq(r, 0, "catalog_volume_forget(work/private): %d (%s)", r, catfix_err());
        for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
                int n = catfix_count(tables[i]);
                cr_expect_eq(n, 1, "%s: %d rows after forgetting work/private, want 1 (work/root's)", tables[i], n);
        }
}
