// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm-tier invariants after a crash, a recovery or a stress run: the kernel's own view
 * (dmsetup, thin_dump of a metadata snapshot, losetup; on a snap pool the files in its
 * directory) against the catalog (sqlite3), read in one shell run because every exec costs
 * a third of a second under TCG.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vminvariants.h"

/* Shell lines of both views ($p: the pool's dm name, $db: its catalog): "kdev NAME UUID" for
 * each of our devices; then the start of one sqlite3 call (its statements go on after it):
 * "cdev NAME UUID" for each device a running volume needs. A volatile volume (neither
 * snap_on_start nor save_on_stop) is a crypt device ("-crypt" UUID) over its layer's "-raw"
 * device. */
#define KERNEL_DEVICES                                                                                 \
        "dmsetup info -c --noheadings -o name,uuid --separator ' ' | while read -r n u; do\n"          \
        "  case $n in $p-*) echo \"kdev $n $u\";; esac; done\n"
#define CATALOG_VOLUME_DEVICES                                                                         \
        "sqlite3 \"$db\" \"SELECT 'cdev $p-' || vm || '-' || name || ' $p-' || vm || '-' || name ||"      \
        " CASE WHEN flags & 3 = 0 THEN '-crypt' ELSE '-' || run_id END FROM volumes WHERE run_id IS NOT NULL;" \
        " SELECT 'cdev $p-' || vm || '-' || name || '-raw $p-' || vm || '-' || name || '-raw-' || run_id" \
        " FROM volumes WHERE run_id IS NOT NULL AND flags & 3 = 0;"

/* The kernel's view and the catalog's, in one shell run (each exec costs ~0.3 s under
 * TCG): sections of lines, "<tag> <text>". The catalog's committed layers (thin ids) are
 * those @local (SQL on volumes) says are in the local pool; @more (shell) adds lines. */
static char *snapshot(struct vt *vt, const char *local, const char *more)
{
        int st;
        char *out = vt_sh(&st,
                "db=%s/%s/catalog.db; p=DVM-%s\n"
                KERNEL_DEVICES
                CATALOG_VOLUME_DEVICES
                " SELECT 'cid ' || thin_id FROM volumes WHERE thin_id IS NOT NULL%s;"
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
                "losetup -nO BACK-FILE | while read -r f; do case $f in %s/*) echo \"loop $f\";; esac; done\n%s",
                vt->state, vt->pool, vt->pool, local, vt->state, more);
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

/* The snap pool's view: our devices, the layer files in the pool directory and the loops
 * over them, against what the catalog's rows need; one shell run. */
static char *snap_snapshot(struct vt *vt)
{
        int st;
        char *out = vt_sh(&st,
                "dir=%s/%s; db=$dir/catalog.db; p=DVM-%s\n"
                KERNEL_DEVICES
                /* volumes as on thin; a disposable's COW store (snap_on_start, not save_on_stop)
                 * is seen through a crypt device "<pool>-cow-<id>" under its snapshot */
                CATALOG_VOLUME_DEVICES
                " SELECT 'cdev $p-cow-' || run_id || ' $p-cow-' || run_id FROM volumes"
                " WHERE run_id IS NOT NULL AND flags & 3 = 1;"
                /* committed layers are images; a running snapshot is its COW store over its
                 * origin's image; a new running layer (volatile) is an image */
                " SELECT 'cfile ' || thin_id || '.img' FROM volumes WHERE thin_id IS NOT NULL;"
                " SELECT 'cfile ' || source_id || '.img' FROM volumes WHERE run_id IS NOT NULL AND flags & 1;"
                " SELECT 'cfile ' || run_id || CASE WHEN flags & 3 = 0 THEN '.img' ELSE '.cow' END"
                " FROM volumes WHERE run_id IS NOT NULL;"
                " SELECT 'cloop ' || CASE WHEN flags & 1 THEN source_id ELSE thin_id END || '.img'"
                " FROM volumes WHERE run_id IS NOT NULL AND flags & 3 != 0;"
                " SELECT 'cloop ' || run_id || CASE WHEN flags & 3 = 0 THEN '.img' ELSE '.cow' END"
                " FROM volumes WHERE run_id IS NOT NULL;"
                " SELECT 'intent ' || vm || ' ' || error FROM intents; SELECT 'vm ' || name || ' ' || running FROM vms;"
                " SELECT 'dirty ' || value FROM meta WHERE key = 'dirty'\" || echo 'error sqlite3'\n"
                "for f in $(ls \"$dir\"); do case $f in *.img|*.cow|*.new) echo \"kfile $f\";; esac; done\n"
                "losetup -nO BACK-FILE | while read -r f; do case $f in $dir/*) echo \"kloop ${f#$dir/}\";; esac; done\n",
                vt->state, vt->pool, vt->pool);
        cr_assert_eq(st, 0, "reading the kernel's and the catalog's state failed: %s", out);
        return out;
}

static size_t count_lines(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/* The number of lines of @snap tagged @tag, duplicates included. */
static size_t count_tagged(const char *snap, const char *tag)
{
        size_t n = 0, tl = strlen(tag);
        for (const char *l = snap; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                n += strncmp(l, tag, tl) == 0 && l[tl] == ' ';
        return n;
}

/*
 * The snap pool's invariants:
 *  - our devices are exactly the running layers' (and the crypt devices over disposables'
 *    COW stores);
 *  - the layer files in the pool directory are exactly the ones the catalog's layers need
 *    (no leftover image, COW store or unfinished commit);
 *  - the loops over the pool's files are exactly one per file a running layer uses (an
 *    origin's shared by its users): none leaked, none over a deleted file;
 *  - no intent is left and the pool is not marked dirty.
 */
static char *check_snap(struct vt *vt, const char *when)
{
        char *snap = snap_snapshot(vt);
        char *kdev = lines(snap, "kdev"), *cdev = lines(snap, "cdev"), *kfile = lines(snap, "kfile"),
             *cfile = lines(snap, "cfile"), *kloop = lines(snap, "kloop"), *cloop = lines(snap, "cloop"),
             *intents = lines(snap, "intent"), *errors = lines(snap, "error"), *dirty = lines(snap, "dirty");

        cr_assert_str_empty(errors, "%s: reading the state: %s", when, errors);
        cr_assert_str_eq(kdev, cdev, "%s: our devices differ from the running layers:\nkernel:\n%scatalog:\n%s", when,
                         kdev, cdev);
        cr_assert_str_eq(kfile, cfile, "%s: layer files in the pool directory:\n%sthe catalog's layers need:\n%s",
                         when, kfile, cfile);
        cr_assert_str_eq(kloop, cloop, "%s: loops over the pool's files:\n%sthe running layers use:\n%s", when, kloop,
                         cloop);
        cr_assert_eq(count_tagged(snap, "kloop"), count_lines(cloop), "%s: %zu loops over the %zu files the running "
                     "layers use (one leaked):\n%s", when, count_tagged(snap, "kloop"), count_lines(cloop), kloop);
        cr_assert_str_empty(intents, "%s: intents left after recover:\n%s", when, intents);
        cr_assert(!dirty[0] || strcmp(dirty, "0\n") == 0, "%s: the pool is still marked dirty (%s)", when, dirty);
        free(kdev); free(cdev); free(kfile); free(cfile); free(kloop); free(cloop); free(intents); free(errors);
        free(dirty);
        return snap;
}

/* An rbd pool's layers in the cluster: the catalog records each as "rbd.layer.<id>" =
 * "image@snapshot" (driver/backend/rbd_layers.h). */
#define RBD_LOCAL " AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'rbd.layer.' || thin_id)"

/* The cluster's view of an rbd pool and the catalog's, in shell after snapshot()'s ($db):
 * this pool's images ("dvm.<host>.<pool>.<id>"), their snapshots and locks as `rbd ls -l`
 * shows them to client.admin, the kernel's mappings of them (sysfs) and whether a device
 * holds each; the images and snapshots the catalog records, the snapshots running volumes
 * stand on. */
#define RBD_CLUSTER                                                                                    \
        "q() { sqlite3 \"$db\" \"SELECT value FROM meta WHERE key = '$1'\"; }\n"                        \
        "conf=$(q rbd.conf) host=$(q rbd.host) cpool=$(q rbd.pool); pre=dvm.$host.%s.\n"                \
        "ls=$(rbd -c \"$conf\" --id admin -p \"$cpool\" ls -l --format json) || echo 'error rbd ls -l'\n"   \
        "printf '%%s\\n' \"$ls\" | sed 's/},{/}\\n{/g' | while read -r l; do\n"                            \
        "  i=${l#*\\\"image\\\":\\\"}; i=${i%%%%\\\"*}; case $i in $pre*) ;; *) continue;; esac\n"         \
        "  case $l in *'\"snapshot\":\"'*) s=${l#*\\\"snapshot\\\":\\\"}; echo \"ksnap $i@${s%%%%\\\"*}\";;\n"  \
        "  *) echo \"kimg $i\"; case $l in *lock_type*) echo \"klock $i\";; esac;; esac; done\n"          \
        "for d in /sys/bus/rbd/devices/*; do [ -e \"$d/name\" ] || continue; i=$(cat \"$d/name\")\n"        \
        "  case $i in $pre*) ;; *) continue;; esac; echo \"kmap $i@$(cat \"$d/current_snap\")\"\n"          \
        "  [ -n \"$(ls \"/sys/block/rbd${d##*/}/holders\")\" ] || echo \"kunheld $i\"; done\n"             \
        "sqlite3 \"$db\" \"SELECT value FROM meta WHERE key LIKE 'rbd.layer.%%'\" | while read -r v; do\n"    \
        "  case $v in $pre*) echo \"csnap $v\"; echo \"cimg ${v%%@*}\";; esac; done\n"                       \
        "sqlite3 \"$db\" \"SELECT m.value FROM volumes v JOIN meta m ON m.key = 'rbd.layer.' ||\"\\\n"     \
        "\" CASE WHEN v.flags & 1 THEN v.source_id ELSE v.thin_id END\"\\\n"                                \
        "\" WHERE v.run_id IS NOT NULL AND v.flags & 3 != 0\" | while read -r v; do\n"                       \
        "  case $v in $pre*) echo \"cmap $v\";; esac; done\n"

/*
 * The rbd pool's invariants: the local pool's as on thin (its committed layers in the
 * cluster are no thin ids), and in the cluster:
 *  - this pool's images and their snapshots are exactly the ones the catalog records (no
 *    image or snapshot leaked by an import or a commit cut short, none lost);
 *  - none of them is locked (no lock of a killed process left);
 *  - the kernel's mappings of them are exactly one per snapshot a running volume stands
 *    on, each held by a device.
 */
static char *check_rbd(struct vt *vt, const char *when, char *snap)
{
        char *kimg = lines(snap, "kimg"), *cimg = lines(snap, "cimg"), *ksnap = lines(snap, "ksnap"),
             *csnap = lines(snap, "csnap"), *klock = lines(snap, "klock"), *kmap = lines(snap, "kmap"),
             *cmap = lines(snap, "cmap"), *unheld = lines(snap, "kunheld");

        (void)vt;
        cr_assert_str_eq(kimg, cimg, "%s: this pool's images in the cluster:\n%sthe catalog's:\n%s", when, kimg, cimg);
        cr_assert_str_eq(ksnap, csnap, "%s: their snapshots in the cluster:\n%sthe catalog's layers:\n%s", when, ksnap,
                         csnap);
        cr_assert_str_empty(klock, "%s: images left locked:\n%s", when, klock);
        cr_assert_str_eq(kmap, cmap, "%s: the kernel's rbd mappings:\n%sthe running volumes stand on:\n%s", when, kmap,
                         cmap);
        cr_assert_eq(count_tagged(snap, "kmap"), count_lines(kmap), "%s: a snapshot mapped twice:\n%s", when, kmap);
        cr_assert_str_empty(unheld, "%s: mappings no device holds:\n%s", when, unheld);
        free(kimg); free(cimg); free(ksnap); free(csnap); free(klock); free(kmap); free(cmap); free(unheld);
        return snap;
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
        if (strcmp(vt->backend, "snap") == 0)
                return check_snap(vt, when);
        bool rbd = strcmp(vt->backend, "rbd") == 0;
        char more[4096] = "";
        if (rbd)
                snprintf(more, sizeof(more), RBD_CLUSTER, vt->pool);
        char *snap = snapshot(vt, rbd ? RBD_LOCAL : "", more);
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
        return rbd ? check_rbd(vt, when, snap) : snap;
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

