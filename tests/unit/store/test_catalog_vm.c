// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of store/catalog_vm.c on a throwaway SQLite file: VM rows and their order, the
 * delete of a VM with the rows of every part that name it, dependents, disposable names.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catfix.h"
#include "store/catalog.h"
#include "store/catalog_vm.h"
#include "store/catalog_domain.h"
#include "store/catalog_intent.h"
#include "store/catalog_layer.h"
#include "store/catalog_volume.h"
#include "util/ctx.h"

TestSuite(catalog_vm, .init = catfix_setup, .fini = catfix_teardown, .timeout = 30);

Test(catalog_vm, vm_put_get)
{
        struct cat_vm vm = catfix_vm("fedora", DVM_VM_TEMPLATE, NULL), got;
        int r;

        r = catalog_vm_get(cf.cat, "fedora", &got);
        cr_expect_eq(r, -ENOENT, "before put: %d", r);

        CF_ASSERT_EQ(catalog_vm_put(cf.cat, &vm), 0, "put");
        memset(&got, 0x5a, sizeof(got));
        CF_ASSERT_EQ(catalog_vm_get(cf.cat, "fedora", &got), 0, "get");
        cr_expect_str_eq(got.name, "fedora", "name \"%s\"", got.name);
        cr_expect_eq(got.kind, DVM_VM_TEMPLATE, "kind %d", got.kind);
        cr_expect_str_eq(got.template, "", "template \"%s\"", got.template);
        cr_expect(!got.running && !got.named, "running %d named %d", got.running, got.named);

        /* put replaces the row */
        vm = catfix_vm("disp7", DVM_VM_DISPOSABLE, "fedora-dvm");
        vm.running = true;
        vm.named = true;
        CF_ASSERT_EQ(catalog_vm_put(cf.cat, &vm), 0, "put disp7");
        vm.running = false;
        CF_ASSERT_EQ(catalog_vm_put(cf.cat, &vm), 0, "put disp7 again");
        CF_ASSERT_EQ(catalog_vm_get(cf.cat, "disp7", &got), 0, "get disp7");
        cr_expect_eq(got.kind, DVM_VM_DISPOSABLE, "kind %d", got.kind);
        cr_expect_str_eq(got.template, "fedora-dvm", "template \"%s\"", got.template);
        cr_expect(!got.running && got.named, "running %d named %d", got.running, got.named);

        /* names are exact: no case folding, no prefix match */
        CF_EXPECT_EQ(catalog_vm_get(cf.cat, "Fedora", &got), -ENOENT, "Fedora found");
        CF_EXPECT_EQ(catalog_vm_get(cf.cat, "fed", &got), -ENOENT, "fed found");
}

Test(catalog_vm, vm_list_order)
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

        n = catalog_vm_list(cf.cat, &vms);
        cr_expect_eq(n, 0, "empty catalog lists %d VMs", n);
        free(vms);
        vms = NULL;

        for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
                catfix_put_vm(in[i].name, in[i].kind, NULL);
        n = catalog_vm_list(cf.cat, &vms);
        cr_assert_eq(n, 7, "listed %d VMs", n);
        for (int i = 0; i < n; i++)
                cr_expect_str_eq(vms[i].name, want[i], "position %d: \"%s\", want \"%s\"", i, vms[i].name,
                                 want[i]);
        free(vms);
}

Test(catalog_vm, vm_delete_takes_its_volumes)
{
        struct cat_volume v;
        int r;

        catfix_put_vm("fedora", DVM_VM_TEMPLATE, NULL);
        catfix_put_vm("debian", DVM_VM_TEMPLATE, NULL);
        catfix_put_vol("fedora", "root", 1, -1);
        catfix_put_vol("fedora", "private", 2, 5);
        catfix_put_vol("fedora", "volatile", -1, 6);
        catfix_put_vol("debian", "root", 3, -1);
        cr_assert_eq(catalog_volume_count(cf.cat), 4, "volume count %d", catalog_volume_count(cf.cat));

        r = catalog_vm_delete(cf.cat, "fedora");
        cr_assert_eq(r, 0, "delete: %d", r);
        CF_EXPECT_EQ(catalog_vm_get(cf.cat, "fedora", &(struct cat_vm){}), -ENOENT, "fedora still there");
        CF_EXPECT_EQ(catalog_volume_get(cf.cat, "fedora", "root", &v), -ENOENT, "fedora/root still there");
        cr_expect_eq(catalog_volume_count(cf.cat), 1, "volume count %d after delete", catalog_volume_count(cf.cat));
        CF_EXPECT_EQ(catalog_volume_get(cf.cat, "debian", "root", &v), 0, "debian/root is gone");

        /* deleting what is not there is not an error */
        r = catalog_vm_delete(cf.cat, "fedora");
        cr_expect_eq(r, 0, "second delete: %d", r);
}

Test(catalog_vm, dependents)
{
        char first[DVM_NAME_MAX + 1] = "untouched";
        int n;

        catfix_put_vm("fedora", DVM_VM_TEMPLATE, NULL);
        n = catalog_vm_dependents(cf.cat, "fedora", first);
        cr_expect_eq(n, 0, "no dependents: %d", n);
        cr_expect_str_eq(first, "untouched", "no dependents, yet first = \"%s\"", first);

        catfix_put_vm("work-dvm", DVM_VM_DVM_TEMPLATE, "fedora");
        catfix_put_vm("anon-dvm", DVM_VM_DVM_TEMPLATE, "fedora");
        catfix_put_vm("disp1", DVM_VM_DISPOSABLE, "work-dvm");
        catfix_put_vm("other-dvm", DVM_VM_DVM_TEMPLATE, "debian");

        n = catalog_vm_dependents(cf.cat, "fedora", first);
        cr_expect_eq(n, 2, "fedora has %d dependents", n);
        cr_expect_str_eq(first, "anon-dvm", "first dependent \"%s\"", first);
        n = catalog_vm_dependents(cf.cat, "work-dvm", NULL);
        cr_expect_eq(n, 1, "work-dvm has %d dependents", n);
        n = catalog_vm_dependents(cf.cat, "disp1", NULL);
        cr_expect_eq(n, 0, "disp1 has %d dependents", n);
        n = catalog_vm_dependents(cf.cat, "nosuch", NULL);
        cr_expect_eq(n, 0, "nosuch has %d dependents", n);
}

static void want_disposable_name(const char *want, const char *why)
{
        char name[DVM_NAME_MAX + 1] = "";
        int r = catalog_disposable_name(cf.cat, name);

        cr_expect_eq(r, 0, "%s: returned %d (%s)", why, r, catfix_err());
        cr_expect_str_eq(name, want, "%s: \"%s\", want \"%s\"", why, name, want);
}

Test(catalog_vm, disposable_names_advance)
{
        want_disposable_name("disp1", "a new pool");
        want_disposable_name("disp2", "the next (disp1 not stored)");
        /* a freed name is not handed out again at once */
        catfix_put_vm("disp3", DVM_VM_DISPOSABLE, "work-dvm");
        want_disposable_name("disp4", "with disp3 in use");
        CF_ASSERT_EQ(catalog_vm_delete(cf.cat, "disp3"), 0, "delete");
        want_disposable_name("disp5", "disp3 freed");
}

Test(catalog_vm, disposable_names_skip_names_in_use)
{
        static const char *const taken[] = { "disp1", "disp2", "disp4", "disp", "disp0", "disp01", "Disp3" };

        for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
                catfix_put_vm(taken[i], DVM_VM_DISPOSABLE, "work-dvm");
        want_disposable_name("disp3", "disp1, disp2 taken (and names that only look alike)");
        want_disposable_name("disp5", "past disp4");
}

Test(catalog_vm, disposable_names_wrap)
{
        CF_ASSERT_EQ(catalog_meta_set_u64(cf.cat, "next_disposable", 999998), 0, "set next");
        catfix_put_vm("disp1", DVM_VM_DISPOSABLE, "work-dvm");
        want_disposable_name("disp999999", "the last number");
        want_disposable_name("disp2", "after the last, past disp1 in use");
}

/* A damaged setting must still give a name of the form the other tools accept. */
Test(catalog_vm, disposable_names_stay_in_range)
{
        static const uint64_t next[] = { 999999, 1000000, UINT64_MAX };

        for (size_t i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
                char name[DVM_NAME_MAX + 1] = "";
                unsigned long n = 0;
                int r;

                CF_ASSERT_EQ(catalog_meta_set_u64(cf.cat, "next_disposable", next[i]), 0, "set next");
                r = catalog_disposable_name(cf.cat, name);
                cr_expect(r == 0 && sscanf(name, "disp%lu", &n) == 1 && n >= 1 && n <= 999999,
                          "next_disposable %ju gave \"%s\" (%d)", (uintmax_t)next[i], name, r);
        }
}

Test(catalog_vm, disposable_names_bad_setting)
{
        char name[DVM_NAME_MAX + 1] = "";
        int r;

        CF_ASSERT_EQ(catalog_meta_set(cf.cat, "next_disposable", "many"), 0, "set");
        r = catalog_disposable_name(cf.cat, name);
        cr_expect_eq(r, -EINVAL, "returned %d", r);
}

/* A VM's delete takes the rows of every part that names the VM, and leaves its intent (the
 * intent's owner drops it when its work is done) and every other VM's rows. */
Test(catalog_vm, vm_delete_takes_every_part)
{
        static const char *const tables[] = { "vms", "volumes", "domains", "attachments", "volume_settings",
                                              "revisions", "imports" };
        struct cat_domain d = { .vm = "disp1", .domid = 5, .uuid = "u" };
        struct cat_attachment a = { .domid = 5, .devid = 51712, .vdev = "xvda", .vm = "disp1", .volume = "root" };
        struct cat_intent in = { .vm = "disp1", .op = CAT_INTENT_DESTROY, .since = 1 };
        struct cat_revision rev = { .id = 9, .time = 1, .size = 4096 };
        int r;

        for (int i = 0; i < 2; i++) {
                const char *vm = i ? "disp2" : "disp1";
                catfix_put_vm(vm, DVM_VM_DISPOSABLE, NULL);
                catfix_put_vol(vm, "root", -1, 1 + i);
                snprintf(d.vm, sizeof(d.vm), "%s", vm);
                snprintf(a.vm, sizeof(a.vm), "%s", vm);
                d.domid = a.domid = 5 + (uint32_t)i;
                rev.id = 9 + i;
                cr_assert_eq(r = catalog_domain_put(cf.cat, &d), 0, "domain of %s: %d (%s)", vm, r, catfix_err());
                cr_assert_eq(r = catalog_attachment_put(cf.cat, &a), 0, "disk of %s: %d (%s)", vm, r, catfix_err());
                cr_assert_eq(r = catalog_volume_keep_set(cf.cat, vm, "root", 2), 0, "keep: %d (%s)", r, catfix_err());
                cr_assert_eq(r = catalog_revision_add(cf.cat, vm, "root", &rev), 0, "revision: %d (%s)", r,
                             catfix_err());
                cr_assert_eq(r = catalog_import_put(cf.cat, vm, "root", 20 + i, 4096), 0, "import: %d (%s)", r,
                             catfix_err());
        }
        cr_assert_eq(r = catalog_intent_put(cf.cat, &in), 0, "intent: %d (%s)", r, catfix_err());

        r = catalog_vm_delete(cf.cat, "disp1");
        cr_assert_eq(r, 0, "catalog_vm_delete(disp1): %d (%s)", r, catfix_err());
        for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
                int n = catfix_count(tables[i]);
                cr_expect_eq(n, 1, "%s: %d rows after deleting disp1, want 1 (disp2's)", tables[i], n);
        }
        r = catfix_count("intents");
        cr_expect_eq(r, 1, "intents: %d rows after deleting disp1, want 1 (its intent stays)", r);
}
