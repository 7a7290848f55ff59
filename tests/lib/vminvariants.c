// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm-tier invariants after a crash, a recovery or a stress run: the kernel's own view
 * (dmsetup, thin_dump of a metadata snapshot, losetup) against the catalog (sqlite3), read
 * in one shell run because every exec costs a third of a second under TCG.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vminvariants.h"

/* The kernel's view and the catalog's, in one shell run (each exec costs ~0.3 s under
 * TCG): sections of lines, "<tag> <text>". */
static char *snapshot(struct vt *vt)
{
        int st;
        char *out = vt_sh(&st,
                "db=%s/%s/catalog.db; p=DVM-%s\n"
                "dmsetup info -c --noheadings -o name,uuid --separator ' ' | while read -r n u; do\n"
                "  case $n in $p-*) echo \"kdev $n $u\";; esac; done\n"
                /* a volatile volume (neither snap_on_start nor save_on_stop) is a crypt device
                 * ("-crypt" UUID) over its layer's "-raw" device */
                "sqlite3 \"$db\" \"SELECT 'cdev $p-' || vm || '-' || name || ' $p-' || vm || '-' || name ||"
                " CASE WHEN flags & 3 = 0 THEN '-crypt' ELSE '-' || run_id END FROM volumes WHERE run_id IS NOT NULL;"
                " SELECT 'cdev $p-' || vm || '-' || name || '-raw $p-' || vm || '-' || name || '-raw-' || run_id"
                " FROM volumes WHERE run_id IS NOT NULL AND flags & 3 = 0;"
                " SELECT 'cid ' || thin_id FROM volumes WHERE thin_id IS NOT NULL;"
                " SELECT 'cid ' || run_id FROM volumes WHERE run_id IS NOT NULL; SELECT 'intent ' || vm || ' ' || error"
                " FROM intents; SELECT 'vm ' || name || ' ' || running FROM vms;"
                " SELECT 'ctxn ' || value FROM meta WHERE key = 'transaction_id'\" || echo 'error sqlite3'\n"
                "set -- $(dmsetup status $p); echo \"ktxn $4\"; echo \"kmode $8\"\n"
                "echo \"kattr $(dmsetup info -c --noheadings -o attr $p)\"\n"
                "set -- $(dmsetup table $p); meta=$4\n"
                "read -r dev < /sys/dev/block/$meta/uevent; while read -r l; do case $l in DEVNAME=*) dev=/dev/${l#DEVNAME=};;"
                " esac; done < /sys/dev/block/$meta/uevent\n"
                "dmsetup message $p 0 reserve_metadata_snap || echo 'error reserve'\n"
                "thin_dump -m \"$dev\" | while read -r l; do case $l in '<device dev_id=\"'*) l=${l#*dev_id=\\\"};"
                " echo \"kid ${l%%%%\\\"*}\";; esac; done\n"
                "dmsetup message $p 0 release_metadata_snap || echo 'error release'\n"
                "losetup -nO BACK-FILE | while read -r f; do case $f in %s/*) echo \"loop $f\";; esac; done\n",
                vt->state, vt->pool, vt->pool, vt->state);
        cr_assert_eq(st, 0, "reading the kernel's and the catalog's state failed: %s", out);
        return out;
}

static int cmp_line(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of @snap tagged @tag, without the tag, sorted, one per line; malloc'd. */
static char *lines(const char *snap, const char *tag)
{
        char *copy = strdup(snap), *save = NULL, *v[512], *out;
        size_t n = 0, tl = strlen(tag), len = 1;

        for (char *l = strtok_r(copy, "\n", &save); l && n < 512; l = strtok_r(NULL, "\n", &save))
                if (strncmp(l, tag, tl) == 0 && l[tl] == ' ')
                        v[n++] = l + tl + 1;
        qsort(v, n, sizeof(v[0]), cmp_line);
        for (size_t i = 0; i < n; i++)
                len += strlen(v[i]) + 1;
        out = calloc(1, len);
        for (size_t i = 0; i < n; i++) {
                if (i && strcmp(v[i], v[i - 1]) == 0)
                        continue;
                strcat(out, v[i]);
                strcat(out, "\n");
        }
        free(copy);
        return out;
}

static bool numeric_less(const char *a, const char *b)
{
        return strtoll(a, NULL, 10) < strtoll(b, NULL, 10);
}

/* "1\n10\n2\n" sorted as numbers, for comparing id lists */
static void sort_numbers(char *list)
{
        char *v[512], *save = NULL, *copy = strdup(list);
        size_t n = 0;

        for (char *l = strtok_r(copy, "\n", &save); l && n < 512; l = strtok_r(NULL, "\n", &save))
                v[n++] = l;
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && numeric_less(v[j], v[j - 1]); j--) {
                        char *t = v[j];
                        v[j] = v[j - 1];
                        v[j - 1] = t;
                }
        list[0] = 0;
        for (size_t i = 0; i < n; i++) {
                strcat(list, v[i]);
                strcat(list, "\n");
        }
        free(copy);
}

/*
 * The invariants, from the kernel's view against the catalog's:
 *  - our devices are exactly the running layers' (name and layer id in the dm UUID);
 *  - the thin ids in the pool metadata (thin_dump) are exactly the catalog's;
 *  - only the pool's two loops are attached to its files;
 *  - no intent is left; the pool is not suspended, not failed, and its transaction id is
 *    the one the catalog records.
 * Returns the snapshot, for the caller's own questions (malloc'd).
 */
char *vt_check_invariants(struct vt *vt, const char *when)
{
        char *snap = snapshot(vt);
        char *kdev = lines(snap, "kdev"), *cdev = lines(snap, "cdev"), *kid = lines(snap, "kid"),
             *cid = lines(snap, "cid"), *loops = lines(snap, "loop"), *intents = lines(snap, "intent"),
             *errors = lines(snap, "error"), *ktxn = lines(snap, "ktxn"), *ctxn = lines(snap, "ctxn"),
             *kmode = lines(snap, "kmode"), *kattr = lines(snap, "kattr");

        sort_numbers(kid);
        sort_numbers(cid);
        cr_assert_str_empty(errors, "%s: reading the state: %s", when, errors);
        cr_assert_str_eq(kdev, cdev, "%s: our devices differ from the running layers:\nkernel:\n%scatalog:\n%s", when,
                         kdev, cdev);
        cr_assert_str_eq(kid, cid, "%s: thin ids in the pool:\n%sin the catalog:\n%s", when, kid, cid);
        size_t nloops = 0;
        for (const char *p = loops; *p; p++)
                nloops += *p == '\n';
        cr_assert_eq(nloops, 2, "%s: loops over the pool's files:\n%s", when, loops);
        cr_assert_str_empty(intents, "%s: intents left after recover:\n%s", when, intents);
        cr_assert_str_eq(ktxn, ctxn, "%s: pool transaction id %s, catalog's %s", when, ktxn, ctxn);
        cr_assert_str_eq(kmode, "rw\n", "%s: pool mode %s", when, kmode);
        cr_assert(!strchr(kattr, 's'), "%s: pool device attributes %s (suspended)", when, kattr);
        free(kdev); free(cdev); free(kid); free(cid); free(loops); free(intents); free(errors);
        free(ktxn); free(ctxn); free(kmode); free(kattr);
        return snap;
}

/* Whether VM @name is in the catalog, from a snapshot. */
bool vt_has_vm(const char *snap, const char *name)
{
        char *vms = lines(snap, "vm"), want[80];
        bool yes;

        snprintf(want, sizeof(want), "\n%s ", name);
        yes = strncmp(vms, want + 1, strlen(want + 1)) == 0 || strstr(vms, want);
        free(vms);
        return yes;
}

