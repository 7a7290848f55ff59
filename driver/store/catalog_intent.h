/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The catalog's intents (table intents): what an interrupted stop or destroy was doing. */
#ifndef DVM_CATALOG_INTENT_H
#define DVM_CATALOG_INTENT_H

#include "store/catalog.h"

/** What an interrupted stop or destroy was doing to a VM: recovery finishes it. A destroy
 * left to the worker (CAT_INTENT_WIPE) has its VM cut off from every domain already; its
 * wipe and removal wait for `dvm-vol worker` (or recovery), not for the next change. */
enum cat_intent_op { CAT_INTENT_STOP = 1, CAT_INTENT_DESTROY = 2, CAT_INTENT_WIPE = 3 };

/** An operation recorded before it changed the kernel, dropped when it is done. */
struct cat_intent {
        char vm[DVM_NAME_MAX + 1];
        enum cat_intent_op op;
        int64_t since;                     /* seconds since the epoch */
        char error[256];                   /* why the last attempt did not finish; "" */
};

/** catalog_intent_put() - record (or replace) the intent on @in->vm. Returns 0 or -errno. */
int catalog_intent_put(catalog *cat, const struct cat_intent *in);
/** catalog_intent_delete() - drop the intent on VM @vm, if any. Returns 0 or -errno. */
int catalog_intent_delete(catalog *cat, const char *vm);
/** catalog_intent_list() - every intent, oldest first. Returns the count and a malloc'd array, or -errno. */
int catalog_intent_list(catalog *cat, struct cat_intent **ret);

#endif
