// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of catalog.c on a throwaway SQLite file: settings, VM and volume rows and their
 * order, dependents, disposable names, thin id allocation, and transactions across two
 * connections.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/catalog.h"
#include "store/catalog_vm.h"
#include "store/catalog_volume.h"
#include "util/ctx.h"

#define ID_LIMIT (1 << 24)

static char dir[64];
static char db_path[128];
static dvm_ctx *ctx;
static catalog *cat;

#define PREFIX "dvm-test-catalog."

/* Remove directory @d and whatever SQLite left in it (catalog.db, -wal, -shm). */
static void remove_dir(const char *d)
{
        DIR *dh = opendir(d);
        struct dirent *de;

        if (!dh)
                return;
        while ((de = readdir(dh))) {
                char p[512];
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                snprintf(p, sizeof(p), "%s/%s", d, de->d_name);
                unlink(p);
        }
        closedir(dh);
        rmdir(d);
}

/* Directories of earlier runs that died before their .fini: /tmp/PREFIX<pid>.XXXXXX whose
 * process is gone. Live runs (other engineers', parallel workers) are left alone. */
static void sweep_leftovers(void)
{
        DIR *dh = opendir("/tmp");
        struct dirent *de;

        if (!dh)
                return;
        while ((de = readdir(dh))) {
                char p[512];
                long pid;

                if (strncmp(de->d_name, PREFIX, strlen(PREFIX)) != 0 ||
                    sscanf(de->d_name + strlen(PREFIX), "%ld.", &pid) != 1 || pid <= 0)
                        continue;
                if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                        continue;
                snprintf(p, sizeof(p), "/tmp/%s", de->d_name);
                remove_dir(p);
        }
        closedir(dh);
}

static void setup(void)
{
        int r;

        sweep_leftovers();
        snprintf(dir, sizeof(dir), "/tmp/" PREFIX "%ld.XXXXXX", (long)getpid());
        cr_assert_not_null(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
        snprintf(db_path, sizeof(db_path), "%s/catalog.db", dir);
        r = dvm_ctx_new(dir, &ctx);
        cr_assert_eq(r, 0, "dvm_ctx_new(%s): %d", dir, r);
        r = catalog_open(ctx, db_path, &cat);
        cr_assert_eq(r, 0, "catalog_open(%s): %d (%s)", db_path, r, dvm_ctx_last_error(ctx));
}

static void teardown(void)
{
        cat = catalog_close(cat);
        ctx = dvm_ctx_free(ctx);
        if (dir[0])
                remove_dir(dir);
}

TestSuite(catalog, .init = setup, .fini = teardown, .timeout = 30);

/* ---- helpers -------------------------------------------------------------------------- */

static struct cat_vm vm_of(const char *name, enum dvm_vm_kind kind, const char *template)
{
        struct cat_vm vm = { .kind = kind };

        snprintf(vm.name, sizeof(vm.name), "%s", name);
        snprintf(vm.template, sizeof(vm.template), "%s", template ? template : "");
        return vm;
}

static void put_vm(const char *name, enum dvm_vm_kind kind, const char *template)
{
        struct cat_vm vm = vm_of(name, kind, template);
        int r = catalog_vm_put(cat, &vm);

        cr_assert_eq(r, 0, "catalog_vm_put(%s): %d (%s)", name, r, dvm_ctx_last_error(ctx));
}

static struct cat_volume vol_of(const char *vm, const char *name, int64_t thin_id, int64_t run_id)
{
        struct cat_volume v = { .size = 1 << 20, .flags = DVM_VOL_RW, .thin_id = thin_id, .run_id = run_id,
                                .source_id = -1 };

        snprintf(v.vm, sizeof(v.vm), "%s", vm);
        snprintf(v.name, sizeof(v.name), "%s", name);
        return v;
}

static void put_vol(const char *vm, const char *name, int64_t thin_id, int64_t run_id)
{
        struct cat_volume v = vol_of(vm, name, thin_id, run_id);
        int r = catalog_volume_put(cat, &v);

        cr_assert_eq(r, 0, "catalog_volume_put(%s/%s, %lld, %lld): %d (%s)", vm, name, (long long)thin_id,
                     (long long)run_id, r, dvm_ctx_last_error(ctx));
}

static int64_t alloc_id(void)
{
        int64_t id = -2;
        int r = catalog_thin_id_alloc(cat, &id);

        cr_assert_eq(r, 0, "catalog_thin_id_alloc: %d (%s)", r, dvm_ctx_last_error(ctx));
        return id;
}

/* ---- open ----------------------------------------------------------------------------- */

Test(catalog, open_creates_and_reopens)
{
        struct stat st;
        char *v = NULL;
        int r;

        cr_assert_eq(stat(db_path, &st), 0, "%s was not created: %s", db_path, strerror(errno));
        r = catalog_meta_set(cat, "backend", "thin");
        cr_assert_eq(r, 0, "meta_set: %d", r);
        cat = catalog_close(cat);
        cr_assert_null(cat, "catalog_close() did not return NULL");

        r = catalog_open(ctx, db_path, &cat);
        cr_assert_eq(r, 0, "reopen: %d (%s)", r, dvm_ctx_last_error(ctx));
        r = catalog_meta_get(cat, "backend", &v);
        cr_assert_eq(r, 0, "meta_get after reopen: %d", r);
        cr_expect_str_eq(v, "thin", "after reopen: \"%s\"", v);
        free(v);
}

Test(catalog, open_fails_in_missing_directory)
{
        catalog *other = (catalog *)0x1;
        char path[192];
        int r;

        snprintf(path, sizeof(path), "%s/no/such/dir/catalog.db", dir);
        r = catalog_open(ctx, path, &other);
        cr_expect_eq(r, -ENOENT, "catalog_open(%s) returned %d", path, r);
        cr_expect_eq(other, (catalog *)0x1, "failed open set the handle to %p", (void *)other);
        cr_expect(strstr(dvm_ctx_last_error(ctx), path) != NULL, "the error does not name the path: \"%s\"",
                  dvm_ctx_last_error(ctx));
}

Test(catalog, close_null)
{
        cr_assert_null(catalog_close(NULL), "catalog_close(NULL) did not return NULL");
}

/* ---- settings ------------------------------------------------------------------------- */

Test(catalog, meta_get_set)
{
        char *v = (char *)0x1;
        int r;

        r = catalog_meta_get(cat, "data", &v);
        cr_expect_eq(r, -ENOENT, "missing key: %d", r);
        cr_expect_eq(v, (char *)0x1, "missing key: value set to %p", (void *)v);

        cr_assert_eq(catalog_meta_set(cat, "data", "/dev/sdb"), 0, "set");
        cr_assert_eq(catalog_meta_get(cat, "data", &v), 0, "get");
        cr_expect_str_eq(v, "/dev/sdb", "\"%s\"", v);
        free(v);

        cr_assert_eq(catalog_meta_set(cat, "data", ""), 0, "overwrite");
        cr_assert_eq(catalog_meta_get(cat, "data", &v), 0, "get");
        cr_expect_str_eq(v, "", "overwritten with \"\": \"%s\"", v);
        free(v);

        cr_assert_eq(catalog_meta_set(cat, "path", "/var/lib/dvm-vol/it's \"quoted\""), 0, "quotes");
        cr_assert_eq(catalog_meta_get(cat, "path", &v), 0, "get");
        cr_expect_str_eq(v, "/var/lib/dvm-vol/it's \"quoted\"", "\"%s\"", v);
        free(v);
}

Test(catalog, meta_u64)
{
        static const uint64_t values[] = { 0, 1, 128, 1ULL << 32, INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX };

        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
                uint64_t got = 42;
                int r = catalog_meta_set_u64(cat, "n", values[i]);

                cr_assert_eq(r, 0, "set %ju: %d", (uintmax_t)values[i], r);
                r = catalog_meta_get_u64(cat, "n", &got);
                cr_expect_eq(r, 0, "get %ju: %d (%s)", (uintmax_t)values[i], r, dvm_ctx_last_error(ctx));
                cr_expect_eq(got, values[i], "set %ju, got %ju", (uintmax_t)values[i], (uintmax_t)got);
        }
}

Test(catalog, meta_u64_rejects_non_numbers)
{
        static const char *const bad[] = {
                "", "abc", "12x", "x12", "1.5", "0x10", "-1", "-0", "+1", " 5", "5 ", "\t5",
                "18446744073709551616", "99999999999999999999999",
        };
        uint64_t got;
        int r;

        r = catalog_meta_get_u64(cat, "absent", &got);
        cr_expect_eq(r, -ENOENT, "absent key: %d", r);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                got = 42;
                cr_assert_eq(catalog_meta_set(cat, "n", bad[i]), 0, "set \"%s\"", bad[i]);
                r = catalog_meta_get_u64(cat, "n", &got);
                cr_expect_eq(r, -EINVAL, "\"%s\" read as a number: returned %d, value %ju", bad[i], r,
                             (uintmax_t)got);
                cr_expect_eq(got, 42u, "\"%s\": failed but wrote %ju", bad[i], (uintmax_t)got);
                if (r == -EINVAL)
                        cr_expect(strstr(dvm_ctx_last_error(ctx), "setting n") != NULL,
                                  "\"%s\": the error does not name the setting: \"%s\"", bad[i],
                                  dvm_ctx_last_error(ctx));
        }
}

/* ---- VMs ------------------------------------------------------------------------------ */

Test(catalog, vm_put_get)
{
        struct cat_vm vm = vm_of("fedora", DVM_VM_TEMPLATE, NULL), got;
        int r;

        r = catalog_vm_get(cat, "fedora", &got);
        cr_expect_eq(r, -ENOENT, "before put: %d", r);

        cr_assert_eq(catalog_vm_put(cat, &vm), 0, "put");
        memset(&got, 0x5a, sizeof(got));
        cr_assert_eq(catalog_vm_get(cat, "fedora", &got), 0, "get");
        cr_expect_str_eq(got.name, "fedora", "name \"%s\"", got.name);
        cr_expect_eq(got.kind, DVM_VM_TEMPLATE, "kind %d", got.kind);
        cr_expect_str_eq(got.template, "", "template \"%s\"", got.template);
        cr_expect(!got.running && !got.named, "running %d named %d", got.running, got.named);

        /* put replaces the row */
        vm = vm_of("disp7", DVM_VM_DISPOSABLE, "fedora-dvm");
        vm.running = true;
        vm.named = true;
        cr_assert_eq(catalog_vm_put(cat, &vm), 0, "put disp7");
        vm.running = false;
        cr_assert_eq(catalog_vm_put(cat, &vm), 0, "put disp7 again");
        cr_assert_eq(catalog_vm_get(cat, "disp7", &got), 0, "get disp7");
        cr_expect_eq(got.kind, DVM_VM_DISPOSABLE, "kind %d", got.kind);
        cr_expect_str_eq(got.template, "fedora-dvm", "template \"%s\"", got.template);
        cr_expect(!got.running && got.named, "running %d named %d", got.running, got.named);

        /* names are exact: no case folding, no prefix match */
        cr_expect_eq(catalog_vm_get(cat, "Fedora", &got), -ENOENT, "Fedora found");
        cr_expect_eq(catalog_vm_get(cat, "fed", &got), -ENOENT, "fed found");
}

Test(catalog, vm_list_order)
{
        static const struct {
                const char *name;
                enum dvm_vm_kind kind;
        } in[] = {
                { "disp2", DVM_VM_DISPOSABLE },     { "work-dvm", DVM_VM_DVM_TEMPLATE },
                { "fedora", DVM_VM_TEMPLATE },      { "disp10", DVM_VM_DISPOSABLE },
                { "debian", DVM_VM_TEMPLATE },      { "a-dvm", DVM_VM_DVM_TEMPLATE },
                { "disp1", DVM_VM_DISPOSABLE },
        };
        /* templates, then DVM Templates, then disposables; by name (bytewise) in each */
        static const char *const want[] = { "debian", "fedora", "a-dvm", "work-dvm", "disp1", "disp10", "disp2" };
        struct cat_vm *vms = NULL;
        int n;

        n = catalog_vm_list(cat, &vms);
        cr_expect_eq(n, 0, "empty catalog lists %d VMs", n);
        free(vms);
        vms = NULL;

        for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
                put_vm(in[i].name, in[i].kind, NULL);
        n = catalog_vm_list(cat, &vms);
        cr_assert_eq(n, 7, "listed %d VMs", n);
        for (int i = 0; i < n; i++)
                cr_expect_str_eq(vms[i].name, want[i], "position %d: \"%s\", want \"%s\"", i, vms[i].name,
                                 want[i]);
        free(vms);
}

Test(catalog, vm_delete_takes_its_volumes)
{
        struct cat_volume v;
        int r;

        put_vm("fedora", DVM_VM_TEMPLATE, NULL);
        put_vm("debian", DVM_VM_TEMPLATE, NULL);
        put_vol("fedora", "root", 1, -1);
        put_vol("fedora", "private", 2, 5);
        put_vol("fedora", "volatile", -1, 6);
        put_vol("debian", "root", 3, -1);
        cr_assert_eq(catalog_volume_count(cat), 4, "volume count %d", catalog_volume_count(cat));

        r = catalog_vm_delete(cat, "fedora");
        cr_assert_eq(r, 0, "delete: %d", r);
        cr_expect_eq(catalog_vm_get(cat, "fedora", &(struct cat_vm){}), -ENOENT, "fedora still there");
        cr_expect_eq(catalog_volume_get(cat, "fedora", "root", &v), -ENOENT, "fedora/root still there");
        cr_expect_eq(catalog_volume_count(cat), 1, "volume count %d after delete", catalog_volume_count(cat));
        cr_expect_eq(catalog_volume_get(cat, "debian", "root", &v), 0, "debian/root is gone");

        /* deleting what is not there is not an error */
        r = catalog_vm_delete(cat, "fedora");
        cr_expect_eq(r, 0, "second delete: %d", r);
}

Test(catalog, dependents)
{
        char first[DVM_NAME_MAX + 1] = "untouched";
        int n;

        put_vm("fedora", DVM_VM_TEMPLATE, NULL);
        n = catalog_vm_dependents(cat, "fedora", first);
        cr_expect_eq(n, 0, "no dependents: %d", n);
        cr_expect_str_eq(first, "untouched", "no dependents, yet first = \"%s\"", first);

        put_vm("work-dvm", DVM_VM_DVM_TEMPLATE, "fedora");
        put_vm("anon-dvm", DVM_VM_DVM_TEMPLATE, "fedora");
        put_vm("disp1", DVM_VM_DISPOSABLE, "work-dvm");
        put_vm("other-dvm", DVM_VM_DVM_TEMPLATE, "debian");

        n = catalog_vm_dependents(cat, "fedora", first);
        cr_expect_eq(n, 2, "fedora has %d dependents", n);
        cr_expect_str_eq(first, "anon-dvm", "first dependent \"%s\"", first);
        n = catalog_vm_dependents(cat, "work-dvm", NULL);
        cr_expect_eq(n, 1, "work-dvm has %d dependents", n);
        n = catalog_vm_dependents(cat, "disp1", NULL);
        cr_expect_eq(n, 0, "disp1 has %d dependents", n);
        n = catalog_vm_dependents(cat, "nosuch", NULL);
        cr_expect_eq(n, 0, "nosuch has %d dependents", n);
}

static void want_disposable_name(const char *want, const char *why)
{
        char name[DVM_NAME_MAX + 1] = "";
        int r = catalog_disposable_name(cat, name);

        cr_expect_eq(r, 0, "%s: returned %d (%s)", why, r, dvm_ctx_last_error(ctx));
        cr_expect_str_eq(name, want, "%s: \"%s\", want \"%s\"", why, name, want);
}

Test(catalog, disposable_names_advance)
{
        want_disposable_name("disp1", "a new pool");
        want_disposable_name("disp2", "the next (disp1 not stored)");
        /* a freed name is not handed out again at once */
        put_vm("disp3", DVM_VM_DISPOSABLE, "work-dvm");
        want_disposable_name("disp4", "with disp3 in use");
        cr_assert_eq(catalog_vm_delete(cat, "disp3"), 0, "delete");
        want_disposable_name("disp5", "disp3 freed");
}

Test(catalog, disposable_names_skip_names_in_use)
{
        static const char *const taken[] = { "disp1", "disp2", "disp4", "disp", "disp0", "disp01", "Disp3" };

        for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
                put_vm(taken[i], DVM_VM_DISPOSABLE, "work-dvm");
        want_disposable_name("disp3", "disp1, disp2 taken (and names that only look alike)");
        want_disposable_name("disp5", "past disp4");
}

Test(catalog, disposable_names_wrap)
{
        cr_assert_eq(catalog_meta_set_u64(cat, "next_disposable", 999998), 0, "set next");
        put_vm("disp1", DVM_VM_DISPOSABLE, "work-dvm");
        want_disposable_name("disp999999", "the last number");
        want_disposable_name("disp2", "after the last, past disp1 in use");
}

/* A damaged setting must still give a name of the form the other tools accept. */
Test(catalog, disposable_names_stay_in_range)
{
        static const uint64_t next[] = { 999999, 1000000, UINT64_MAX };

        for (size_t i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
                char name[DVM_NAME_MAX + 1] = "";
                unsigned long n = 0;
                int r;

                cr_assert_eq(catalog_meta_set_u64(cat, "next_disposable", next[i]), 0, "set next");
                r = catalog_disposable_name(cat, name);
                cr_expect(r == 0 && sscanf(name, "disp%lu", &n) == 1 && n >= 1 && n <= 999999,
                          "next_disposable %ju gave \"%s\" (%d)", (uintmax_t)next[i], name, r);
        }
}

Test(catalog, disposable_names_bad_setting)
{
        char name[DVM_NAME_MAX + 1] = "";
        int r;

        cr_assert_eq(catalog_meta_set(cat, "next_disposable", "many"), 0, "set");
        r = catalog_disposable_name(cat, name);
        cr_expect_eq(r, -EINVAL, "returned %d", r);
}

/* ---- volumes -------------------------------------------------------------------------- */

Test(catalog, volume_put_get)
{
        struct cat_volume v = vol_of("work-dvm", "root", -1, 17), got;
        int r;

        r = catalog_volume_get(cat, "work-dvm", "root", &got);
        cr_expect_eq(r, -ENOENT, "before put: %d", r);

        v.size = 10ULL << 30;
        v.flags = DVM_VOL_SNAP_ON_START | DVM_VOL_RW;
        snprintf(v.source_vm, sizeof(v.source_vm), "fedora");
        snprintf(v.source_vol, sizeof(v.source_vol), "root");
        v.source_id = 4;
        cr_assert_eq(catalog_volume_put(cat, &v), 0, "put: %s", dvm_ctx_last_error(ctx));
        memset(&got, 0x5a, sizeof(got));
        cr_assert_eq(catalog_volume_get(cat, "work-dvm", "root", &got), 0, "get");
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
        cr_assert_eq(catalog_volume_put(cat, &v), 0, "commit put: %s", dvm_ctx_last_error(ctx));
        cr_assert_eq(catalog_volume_get(cat, "work-dvm", "root", &got), 0, "get");
        cr_expect(got.thin_id == 17 && got.run_id == -1, "after commit: thin_id %lld run_id %lld",
                  (long long)got.thin_id, (long long)got.run_id);
        cr_expect_eq(catalog_volume_count(cat), 1, "count %d", catalog_volume_count(cat));
}

Test(catalog, volume_list_order)
{
        struct cat_volume vols[4];
        int n;

        put_vol("disp1", "volatile", -1, 9);
        put_vol("disp1", "private", -1, 8);
        put_vol("disp1", "root", -1, 7);
        put_vol("disp2", "root", -1, 10);

        n = catalog_volume_list(cat, "disp1", vols, 4);
        cr_assert_eq(n, 3, "disp1 lists %d volumes", n);
        cr_expect_str_eq(vols[0].name, "root", "first \"%s\"", vols[0].name);
        cr_expect_str_eq(vols[1].name, "private", "second \"%s\"", vols[1].name);
        cr_expect_str_eq(vols[2].name, "volatile", "third \"%s\"", vols[2].name);
        cr_expect_eq(vols[2].run_id, 9, "volatile run_id %lld", (long long)vols[2].run_id);

        n = catalog_volume_list(cat, "disp1", vols, 2);
        cr_expect_eq(n, 2, "max 2 gave %d", n);
        n = catalog_volume_list(cat, "disp1", vols, 0);
        cr_expect_eq(n, 0, "max 0 gave %d", n);
        n = catalog_volume_list(cat, "nosuch", vols, 4);
        cr_expect_eq(n, 0, "nosuch lists %d volumes", n);
}

/* UNIQUE thin ids catch a catalog that would hand one thin device to two volumes; a put
 * must fail then, not delete the other volume's row to make room. */
Test(catalog, volume_id_conflict_fails)
{
        struct cat_volume v = vol_of("debian", "root", 1, -1), got;
        int r;

        put_vol("fedora", "root", 1, -1);
        put_vol("fedora", "private", 2, 3);

        r = catalog_volume_put(cat, &v);
        cr_expect_eq(r, -EEXIST, "a second volume with thin id 1: returned %d", r);
        v = vol_of("debian", "root", -1, 3);
        r = catalog_volume_put(cat, &v);
        cr_expect_eq(r, -EEXIST, "a second volume with run id 3: returned %d", r);

        cr_expect_eq(catalog_volume_get(cat, "fedora", "root", &got), 0, "fedora/root was deleted");
        cr_expect_eq(catalog_volume_get(cat, "fedora", "private", &got), 0, "fedora/private was deleted");
        cr_expect_eq(catalog_volume_count(cat), 2, "count %d", catalog_volume_count(cat));
}

/* ---- thin ids ------------------------------------------------------------------------- */

Test(catalog, thin_id_advances)
{
        for (int64_t want = 0; want < 5; want++) {
                int64_t id = alloc_id();
                cr_expect_eq(id, want, "allocation %lld gave %lld", (long long)want, (long long)id);
        }
        /* a freed id is not handed out again at once */
        int64_t id = alloc_id(), again;
        put_vol("a", "root", id, -1);
        cr_assert_eq(catalog_vm_delete(cat, "a"), 0, "delete");
        again = alloc_id();
        cr_expect_eq(again, id + 1, "id %lld was stored and freed; the next allocation gave %lld",
                     (long long)id, (long long)again);
}

Test(catalog, thin_id_skips_ids_in_use)
{
        put_vol("a", "root", 0, -1);
        put_vol("a", "private", 1, 2);
        put_vol("a", "volatile", -1, 4);
        cr_expect_eq(alloc_id(), 3, "first free id");
        cr_expect_eq(alloc_id(), 5, "next free id after 4 (a run id)");
}

/* issue 12 defect 1: an outdated disposable's origin is named by its source_id alone (its
 * template committed a new layer since): that id is not free while the snapshot runs. */
Test(catalog, thin_id_skips_origin_of_running_snapshot)
{
        struct cat_volume d = vol_of("disp1", "root", -1, 1);
        struct cat_volume stopped = vol_of("disp2", "root", -1, -1);

        put_vol("tmpl", "root", 3, -1);
        d.flags = DVM_VOL_SNAP_ON_START;
        d.source_id = 0; /* tmpl's layer when disp1 started; tmpl has committed 3 since */
        cr_assert_eq(catalog_volume_put(cat, &d), 0, "put disp1");
        stopped.flags = DVM_VOL_SNAP_ON_START;
        stopped.source_id = 2; /* not running: its old source_id holds nothing */
        cr_assert_eq(catalog_volume_put(cat, &stopped), 0, "put disp2");
        cr_expect_eq(catalog_layer_users(cat, 0), 1, "the origin of running disp1 has a user");
        cr_expect_eq(alloc_id(), 2, "ids 0 (disp1's origin) and 1 (its run id) are taken; 2 is free");
        cr_expect_eq(alloc_id(), 4, "then 4, past tmpl's 3");
}

Test(catalog, thin_id_wraps)
{
        cr_assert_eq(catalog_meta_set_u64(cat, "next_thin_id", ID_LIMIT - 2), 0, "set next");
        cr_expect_eq(alloc_id(), ID_LIMIT - 2, "below the top");
        cr_expect_eq(alloc_id(), ID_LIMIT - 1, "the top 24-bit id");
        cr_expect_eq(alloc_id(), 0, "after the top");

        /* wrapping also skips ids in use */
        put_vol("a", "root", ID_LIMIT - 1, 0);
        put_vol("a", "private", 1, -1);
        cr_assert_eq(catalog_meta_set_u64(cat, "next_thin_id", ID_LIMIT - 1), 0, "set next");
        cr_expect_eq(alloc_id(), 2, "past the top, 0 and 1");
}

/* A damaged allocator setting must not produce an id the kernel cannot take. */
Test(catalog, thin_id_stays_24_bit)
{
        static const uint64_t next[] = { ID_LIMIT, ID_LIMIT + 5ULL, UINT64_MAX };

        for (size_t i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
                int64_t id;

                cr_assert_eq(catalog_meta_set_u64(cat, "next_thin_id", next[i]), 0, "set next");
                id = alloc_id();
                cr_expect(id >= 0 && id < ID_LIMIT, "next_thin_id %ju gave id %lld", (uintmax_t)next[i],
                          (long long)id);
        }
}

Test(catalog, thin_id_bad_setting)
{
        int64_t id = -2;
        int r;

        cr_assert_eq(catalog_meta_set(cat, "next_thin_id", "many"), 0, "set");
        r = catalog_thin_id_alloc(cat, &id);
        cr_expect_eq(r, -EINVAL, "returned %d", r);
        cr_expect_eq(id, -2, "failed but wrote %lld", (long long)id);
}

Test(catalog, thin_ids_sorted)
{
        static const int64_t want[] = { 0, 2, 3, 7, 9, 16777215 };
        int64_t *ids = NULL;
        int n;

        n = catalog_thin_ids(cat, &ids);
        cr_expect_eq(n, 0, "empty catalog: %d ids", n);
        free(ids);
        ids = NULL;

        put_vol("b", "root", 9, 3);
        put_vol("a", "root", 16777215, -1);
        put_vol("a", "private", 2, 0);
        put_vol("a", "volatile", -1, 7);
        put_vol("c", "volatile", -1, -1);
        n = catalog_thin_ids(cat, &ids);
        cr_assert_eq(n, 6, "%d ids", n);
        for (int i = 0; i < n; i++)
                cr_expect_eq(ids[i], want[i], "id %d is %lld, want %lld", i, (long long)ids[i], (long long)want[i]);
        free(ids);
}

/* ---- transactions --------------------------------------------------------------------- */

Test(catalog, rollback_undoes)
{
        struct cat_vm got;
        int r;

        cr_assert_eq(catalog_begin(cat), 0, "begin: %s", dvm_ctx_last_error(ctx));
        put_vm("fedora", DVM_VM_TEMPLATE, NULL);
        put_vol("fedora", "root", 0, -1);
        cr_assert_eq(alloc_id(), 1, "allocation inside the transaction");
        catalog_rollback(cat);

        cr_expect_eq(catalog_vm_get(cat, "fedora", &got), -ENOENT, "the VM survived the rollback");
        cr_expect_eq(catalog_volume_count(cat), 0, "%d volumes survived", catalog_volume_count(cat));
        cr_expect_eq(alloc_id(), 0, "the allocator did not roll back");

        /* rollback without a transaction does nothing */
        catalog_rollback(cat);
        cr_assert_eq(catalog_begin(cat), 0, "begin");
        put_vm("fedora", DVM_VM_TEMPLATE, NULL);
        cr_assert_eq(catalog_commit(cat), 0, "commit: %s", dvm_ctx_last_error(ctx));
        catalog_rollback(cat);
        r = catalog_vm_get(cat, "fedora", &got);
        cr_expect_eq(r, 0, "a committed VM is gone after a stray rollback: %d", r);
}

Test(catalog, nested_begin_fails)
{
        int r;

        cr_assert_eq(catalog_begin(cat), 0, "begin");
        r = catalog_begin(cat);
        cr_expect_lt(r, 0, "a second begin returned %d", r);
        catalog_rollback(cat);
        r = catalog_commit(cat);
        cr_expect_lt(r, 0, "commit without a transaction returned %d", r);
}

struct second {
        catalog *cat;
        dvm_ctx *ctx;
        int begin_r;
        struct timespec done;
};

static void *second_begin(void *arg)
{
        struct second *s = arg;

        s->begin_r = catalog_begin(s->cat);
        clock_gettime(CLOCK_MONOTONIC, &s->done);
        return NULL;
}

static double since(const struct timespec *a, const struct timespec *b)
{
        return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/*
 * Two processes on one pool: the writer's BEGIN IMMEDIATE makes the other's begin wait (the
 * busy timeout) until it commits, and a reader never sees uncommitted rows.
 */
Test(catalog, two_connections)
{
        struct second s = {};
        struct cat_vm got;
        struct timespec committed;
        pthread_t t;
        int r;

        r = dvm_ctx_new(dir, &s.ctx);
        cr_assert_eq(r, 0, "second ctx: %d", r);
        r = catalog_open(s.ctx, db_path, &s.cat);
        cr_assert_eq(r, 0, "second open: %d (%s)", r, dvm_ctx_last_error(s.ctx));

        cr_assert_eq(catalog_begin(cat), 0, "first begin: %s", dvm_ctx_last_error(ctx));
        put_vm("fedora", DVM_VM_TEMPLATE, NULL);
        r = catalog_vm_get(s.cat, "fedora", &got);
        cr_expect_eq(r, -ENOENT, "the second connection sees an uncommitted row: %d", r);

        cr_assert_eq(pthread_create(&t, NULL, second_begin, &s), 0, "pthread_create");
        usleep(300 * 1000);
        clock_gettime(CLOCK_MONOTONIC, &committed);
        cr_assert_eq(catalog_commit(cat), 0, "first commit: %s", dvm_ctx_last_error(ctx));
        pthread_join(t, NULL);

        cr_expect_eq(s.begin_r, 0, "the second begin returned %d (%s)", s.begin_r, dvm_ctx_last_error(s.ctx));
        cr_expect_geq(since(&committed, &s.done), 0.0,
                      "the second begin returned %.3f s before the first committed", -since(&committed, &s.done));
        r = catalog_vm_get(s.cat, "fedora", &got);
        cr_expect_eq(r, 0, "the second connection does not see the committed row: %d", r);
        if (s.begin_r == 0)
                cr_expect_eq(catalog_commit(s.cat), 0, "second commit: %s", dvm_ctx_last_error(s.ctx));
        catalog_close(s.cat);
        dvm_ctx_free(s.ctx);
}
