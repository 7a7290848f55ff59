// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the catalog's Xen rows (store/catalog_domain.c): the domain a VM was started for, the
 * disposable of a DVM Template found by domain id and UUID (never by a recycled id alone),
 * and the disks handed to domains, which go with their VM.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catfix.h"
#include "store/catalog.h"
#include "store/catalog_domain.h"
#include "store/catalog_vm.h"
#include "util/ctx.h"

TestSuite(catalog_domain, .init = catfix_setup, .fini = catfix_teardown, .timeout = 30);

static void put_vm(const char *name, enum dvm_vm_kind kind, const char *template, bool named)
{
        struct cat_vm vm = { .kind = kind, .running = true, .named = named };
        snprintf(vm.name, sizeof(vm.name), "%s", name);
        snprintf(vm.template, sizeof(vm.template), "%s", template);
        int r = catalog_vm_put(cf.cat, &vm);
        cr_assert_eq(r, 0, "catalog_vm_put(%s): %d (%s)", name, r, catfix_err());
}

static void put_domain(const char *vm, uint32_t domid, const char *uuid)
{
        struct cat_domain d = { .domid = domid };
        snprintf(d.vm, sizeof(d.vm), "%s", vm);
        snprintf(d.uuid, sizeof(d.uuid), "%s", uuid);
        int r = catalog_domain_put(cf.cat, &d);
        cr_assert_eq(r, 0, "catalog_domain_put(%s): %d (%s)", vm, r, catfix_err());
}

static void put_disk(uint32_t domid, uint32_t devid, const char *vdev, const char *vm, const char *vol, bool rw)
{
        struct cat_attachment a = { .domid = domid, .devid = devid, .rw = rw };
        snprintf(a.vdev, sizeof(a.vdev), "%s", vdev);
        snprintf(a.vm, sizeof(a.vm), "%s", vm);
        snprintf(a.volume, sizeof(a.volume), "%s", vol);
        int r = catalog_attachment_put(cf.cat, &a);
        cr_assert_eq(r, 0, "catalog_attachment_put(%u/%u): %d (%s)", domid, devid, r, catfix_err());
}

#define UUID_A "11111111-2222-3333-4444-555555555555"
#define UUID_B "99999999-8888-7777-6666-555555555555"

Test(catalog_domain, domain_rows)
{
        struct cat_domain d = { .vm = "untouched" };
        int r = catalog_domain_get(cf.cat, "disp1", &d);

        cr_assert_eq(r, -ENOENT, "domain of an unknown VM: %d", r);
        cr_assert_str_eq(d.vm, "untouched", "a miss wrote \"%s\"", d.vm);
        put_vm("disp1", DVM_VM_DISPOSABLE, "dvm", false);
        put_domain("disp1", 7, UUID_A);
        r = catalog_domain_get(cf.cat, "disp1", &d);
        cr_assert_eq(r, 0, "catalog_domain_get: %d", r);
        cr_assert(d.domid == 7 && strcmp(d.uuid, UUID_A) == 0 && strcmp(d.vm, "disp1") == 0, "got %s %u %s", d.vm,
                  d.domid, d.uuid);
        put_domain("disp1", 9, UUID_B);
        r = catalog_domain_get(cf.cat, "disp1", &d);
        cr_assert(r == 0 && d.domid == 9 && strcmp(d.uuid, UUID_B) == 0, "replaced: %d %u %s", r, d.domid, d.uuid);
        r = catalog_domain_delete(cf.cat, "disp1");
        cr_assert_eq(r, 0, "catalog_domain_delete: %d", r);
        r = catalog_domain_get(cf.cat, "disp1", &d);
        cr_assert_eq(r, -ENOENT, "after delete: %d", r);
}

Test(catalog_domain, disposable_of_domain)
{
        char vm[DVM_NAME_MAX + 1] = "untouched";

        put_vm("disp1", DVM_VM_DISPOSABLE, "dvm", false);
        put_vm("disp2", DVM_VM_DISPOSABLE, "other-dvm", false);
        put_vm("work", DVM_VM_DISPOSABLE, "dvm", true);
        put_vm("tmpl", DVM_VM_TEMPLATE, "", false);
        put_domain("disp1", 5, UUID_A);
        put_domain("disp2", 5, UUID_A);
        put_domain("tmpl", 6, UUID_B);

        int r = catalog_domain_disposable(cf.cat, "dvm", 5, UUID_A, vm);
        cr_assert(r == 0 && strcmp(vm, "disp1") == 0, "dvm for 5: %d %s", r, vm);
        r = catalog_domain_disposable(cf.cat, "other-dvm", 5, UUID_A, vm);
        cr_assert(r == 0 && strcmp(vm, "disp2") == 0, "other-dvm for 5: %d %s", r, vm);
        /* a recycled domain id is another domain: its UUID differs */
        snprintf(vm, sizeof(vm), "untouched");
        r = catalog_domain_disposable(cf.cat, "dvm", 5, UUID_B, vm);
        cr_assert(r == -ENOENT && strcmp(vm, "untouched") == 0, "dvm for 5 with another UUID: %d %s", r, vm);
        r = catalog_domain_disposable(cf.cat, "dvm", 6, UUID_B, vm);
        cr_assert_eq(r, -ENOENT, "a template is no disposable: %d %s", r, vm);
        r = catalog_domain_disposable(cf.cat, "dvm", 4, UUID_A, vm);
        cr_assert_eq(r, -ENOENT, "domain 4 has none: %d %s", r, vm);
}

Test(catalog_domain, attachments)
{
        struct cat_attachment *att = NULL, a = { .vdev = "untouched" };

        put_vm("work", DVM_VM_TEMPLATE, "", false);
        put_vm("disp1", DVM_VM_DISPOSABLE, "dvm", false);
        put_disk(5, 51712, "xvda", "disp1", "root", true);
        put_disk(5, 51728, "xvdb", "disp1", "private", true);
        put_disk(3, 51776, "xvde", "work", "root", false);
        put_disk(4, 51776, "xvde", "work", "root", false);

        int r = catalog_attachment_get(cf.cat, 5, 51728, &a);
        cr_assert(r == 0 && strcmp(a.vm, "disp1") == 0 && strcmp(a.volume, "private") == 0 && a.rw &&
                          strcmp(a.vdev, "xvdb") == 0,
                  "5/51728: %d %s/%s %s rw=%d", r, a.vm, a.volume, a.vdev, a.rw);
        r = catalog_attachment_get(cf.cat, 5, 1, &a);
        cr_assert_eq(r, -ENOENT, "5/1: %d", r);

        int n = catalog_attachment_list(cf.cat, "work", &att);
        cr_assert_eq(n, 2, "work has %d disks", n);
        cr_assert(att[0].domid == 3 && att[1].domid == 4 && !att[0].rw, "order or mode: %u %u rw=%d", att[0].domid,
                  att[1].domid, att[0].rw);
        free(att);
        n = catalog_attachment_list(cf.cat, NULL, &att);
        cr_assert_eq(n, 4, "all disks: %d", n);
        free(att);

        r = catalog_attachment_delete(cf.cat, 5, 51712);
        cr_assert_eq(r, 0, "delete 5/51712: %d", r);
        n = catalog_attachment_list(cf.cat, "disp1", &att);
        cr_assert(n == 1 && att[0].devid == 51728, "disp1 after one delete: %d", n);
        free(att);
}

Test(catalog_domain, rows_go_with_their_vm)
{
        struct cat_attachment *att = NULL;
        struct cat_domain d;

        put_vm("disp1", DVM_VM_DISPOSABLE, "dvm", false);
        put_vm("disp2", DVM_VM_DISPOSABLE, "dvm", false);
        put_domain("disp1", 5, UUID_A);
        put_domain("disp2", 6, UUID_B);
        put_disk(5, 51712, "xvda", "disp1", "root", true);
        put_disk(6, 51712, "xvda", "disp2", "root", true);
        int r = catalog_vm_delete(cf.cat, "disp1");
        cr_assert_eq(r, 0, "catalog_vm_delete: %d", r);
        r = catalog_domain_get(cf.cat, "disp1", &d);
        cr_assert_eq(r, -ENOENT, "disp1's domain row survived its VM: %d", r);
        int n = catalog_attachment_list(cf.cat, NULL, &att);
        cr_assert(n == 1 && strcmp(att[0].vm, "disp2") == 0, "disks left: %d (%s)", n, n > 0 ? att[0].vm : "");
        free(att);
        r = catalog_domain_get(cf.cat, "disp2", &d);
        cr_assert(r == 0 && d.domid == 6, "disp2's domain: %d %u", r, d.domid);
}
