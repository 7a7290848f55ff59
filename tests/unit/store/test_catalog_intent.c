// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of store/catalog_intent.c on a throwaway SQLite file: an intent's row round
 * trip (op, time, the error of the last attempt), one intent per VM, oldest first.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catfix.h"
#include "store/catalog_intent.h"

TestSuite(catalog_intent, .init = catfix_setup, .fini = catfix_teardown, .timeout = 30);

static void put_intent(const char *vm, enum cat_intent_op op, int64_t since, const char *error)
{
        struct cat_intent in = { .op = op, .since = since };
        int r;

        snprintf(in.vm, sizeof(in.vm), "%s", vm);
        snprintf(in.error, sizeof(in.error), "%s", error);
        r = catalog_intent_put(cf.cat, &in);
        cr_assert_eq(r, 0, "catalog_intent_put(%s): %d (%s)", vm, r, catfix_err());
}

static const struct cat_intent want[] = {
        { "disp3", CAT_INTENT_WIPE, 100, "" },
        { "disp1", CAT_INTENT_DESTROY, 200, "" },
        { "work", CAT_INTENT_STOP, 200, "thin-pool is out of data space: it's \"full\"" },
};

Test(catalog_intent, round_trip_oldest_first)
{
        struct cat_intent *list = NULL;
        int n;

        n = catalog_intent_list(cf.cat, &list);
        cr_expect_eq(n, 0, "a new catalog lists %d intents", n);
        free(list);
        list = NULL;
        /* out of order: the list sorts by time, then by VM */
        put_intent("work", CAT_INTENT_STOP, 200, want[2].error);
        put_intent("disp1", CAT_INTENT_DESTROY, 200, "");
        put_intent("disp3", CAT_INTENT_WIPE, 100, "");
        n = catalog_intent_list(cf.cat, &list);
        cr_assert_eq(n, 3, "listed %d intents, want 3", n);
        for (int i = 0; i < n; i++) {
                cr_expect_str_eq(list[i].vm, want[i].vm, "position %d: VM \"%s\", want \"%s\"", i, list[i].vm,
                                 want[i].vm);
                cr_expect_eq(list[i].op, want[i].op, "%s: op %d, want %d", list[i].vm, list[i].op, want[i].op);
                cr_expect_eq(list[i].since, want[i].since, "%s: since %lld, want %lld", list[i].vm,
                             (long long)list[i].since, (long long)want[i].since);
                cr_expect_str_eq(list[i].error, want[i].error, "%s: error \"%s\", want \"%s\"", list[i].vm,
                                 list[i].error, want[i].error);
        }
        free(list);
}

/* one intent per VM: a later attempt replaces the row (and records why it failed) */
Test(catalog_intent, put_replaces_and_delete_drops)
{
        struct cat_intent *list = NULL;
        int n, r;

        put_intent("disp1", CAT_INTENT_STOP, 10, "");
        put_intent("disp1", CAT_INTENT_DESTROY, 10, "device busy");
        put_intent("disp2", CAT_INTENT_STOP, 11, "");
        n = catalog_intent_list(cf.cat, &list);
        cr_assert_eq(n, 2, "listed %d intents after replacing one, want 2", n);
        cr_expect_eq(list[0].op, CAT_INTENT_DESTROY, "disp1's op after the replace: %d", list[0].op);
        cr_expect_str_eq(list[0].error, "device busy", "disp1's error: \"%s\"", list[0].error);
        free(list);
        list = NULL;

        r = catalog_intent_delete(cf.cat, "disp1");
        cr_assert_eq(r, 0, "catalog_intent_delete(disp1): %d (%s)", r, catfix_err());
        r = catalog_intent_delete(cf.cat, "nosuch");
        cr_expect_eq(r, 0, "deleting an absent intent: %d (%s)", r, catfix_err());
        n = catalog_intent_list(cf.cat, &list);
        cr_assert_eq(n, 1, "listed %d intents after the delete, want 1", n);
        cr_expect_str_eq(list[0].vm, "disp2", "the intent left: \"%s\"", list[0].vm);
        free(list);
}
