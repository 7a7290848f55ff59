// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the names of layer view devices (layer_view.c): fresh names parse back to
 * their layer and process, and no volume device name or foreign name passes for one.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lifecycle/layer_view.h"

Test(layer_view, names_parse_back)
{
        static const int64_t ids[] = { 0, 7, 16777215 };
        struct dvm_pool pool = { .name = "default", .dm_name = "DVM-default" };
        char a[128], b[128];

        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
                int64_t id = -1;
                int pid = 0;
                layer_view_dm_name(&pool, ids[i], a, sizeof(a));
                layer_view_dm_name(&pool, ids[i], b, sizeof(b));
                cr_assert_str_neq(a, b, "two views of layer %lld share the name %s", (long long)ids[i], a);
                int r = layer_view_name_parse(a, "default", &id, &pid);
                cr_assert(r == 0 && id == ids[i] && pid == getpid(), "%s parses as %d: id %lld pid %d", a, r,
                          (long long)id, pid);
                r = layer_view_name_parse(a, "other", &id, &pid);
                cr_assert_eq(r, -EINVAL, "%s passes for a view of pool other", a);
                cr_assert(dvm_volume_dm_name_parse(a, (char[DVM_POOL_NAME_MAX + 1]){ 0 }, (char[DVM_NAME_MAX + 1]){ 0 },
                                                   (char[16]){ 0 }) < 0,
                          "view name %s passes for a volume device", a);
        }
}

Test(layer_view, other_names_are_no_views)
{
        static const char *const names[] = {
                "DVM-default",
                "DVM-default-disp1-root",
                "DVM-default-view-1-2-3",
                "DVM-default+view-",
                "DVM-default+view-1",
                "DVM-default+view-1-2",
                "DVM-default+view--1-2-3",
                "DVM-default+view-1-0-3",
                "DVM-default+view-1-2-3x",
                "DVM-default+view-x-2-3",
                "DVM-defaultx+view-1-2-3",
                "DVM-defaul+view-1-2-3",
                "default+view-1-2-3",
                "",
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                int64_t id = -7;
                int pid = -7;
                int r = layer_view_name_parse(names[i], "default", &id, &pid);
                cr_assert(r == -EINVAL && id == -7 && pid == -7, "\"%s\": %d, id %lld, pid %d", names[i], r,
                          (long long)id, pid);
        }
}
