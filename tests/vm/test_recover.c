// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, recovery on real device-mapper (issue 12, defects 1, 2, 4, 5, 6): the origin of an
 * outdated running disposable survives a full recovery (its destroy then wipes it); a
 * leftover layer someone holds is pending, not fatal; a pool is known by its devices, so a
 * pool of the same name from another state directory is refused untouched; a deferred
 * destroy runs inside the dirty mark, and a hotplug hook leaves other VMs' deferred destroys
 * alone; `recover --all` goes on past a pool that does not open; the view device of a killed
 * inspector goes, and the layer it held with it; a pool device that takes discards is made
 * again without them. Witnesses: dmsetup, thin_dump (through
 * vt_thin_ids()), the catalog, a raw scan of the scratch disk.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "canary.h"
#include "vminspect.h"
#include "vminvariants.h"
#include "vmtest.h"
#include "xen/claim.h"

#define MiB (1ULL << 20)
#define EXIT_EXISTS 4
#define EXIT_BUSY 5
#define FAULT_EXIT 86

static struct vt vt;

#define CLI_OK(...) VT_CLI_OK(&vt, __VA_ARGS__)

static void small_templates(void)
{
        CLI_OK("template", "create", "tmpl", "--root-size", "16M", "--private-size", "8M");
        CLI_OK("start", "tmpl");
        vt_pattern(vt_dev(&vt, "tmpl", "root"), 0, 2 * MiB, 1);
        CLI_OK("stop", "tmpl");
        CLI_OK("dvm", "create", "dvm", "--template", "tmpl");
}

static void setup(void)
{
        vt_init(&vt, "1G");
        small_templates();
}

static void teardown(void) { vt_cleanup(&vt); }

TestSuite(recover, .timeout = 900);

static bool has_thin_id(struct vt *v, const char *id)
{
        char *ids = vt_thin_ids(v), want[32];
        bool found;

        snprintf(want, sizeof(want), " %s ", id);
        found = strstr(ids, want) != NULL;
        free(ids);
        return found;
}

static void first_line(char *s)
{
        s[strcspn(s, "\n")] = 0;
}

/* ---- defect 1: the origin of a running, outdated snapshot ---------------------------- */

static struct canary canary;

static void canary_setup(void) { canary_fixture(&vt, &canary, "thin"); }
static void canary_teardown(void) { scratch_cleanup(&vt); }

/* Spawn D, then start and stop its TemplateVM: only D's source_id names its origin now. A
 * full recovery must keep that origin, and D's destroy must then wipe what D wrote. */
Test(recover, keeps_origin_of_outdated_disposable, .init = canary_setup, .fini = canary_teardown)
{
        char *d = vt_spawn(&vt, "dvm", NULL), q[160], *origin;

        canary_write(vt_dev(&vt, d, "root"), 0, 2 * MiB, &canary);
        canary_write(vt_dev(&vt, d, "private"), 0, 2 * MiB, &canary);
        snprintf(q, sizeof(q), "select source_id from volumes where vm='%s' and name='root'", d);
        origin = vt_sql(&vt, "%s", q);
        CLI_OK("start", "tmpl");
        CLI_OK("stop", "tmpl");
        cr_assert(has_thin_id(&vt, origin), "the origin %s of %s went with the template's stop", origin, d);
        CLI_OK("recover");
        cr_expect(has_thin_id(&vt, origin), "recovery deleted layer %s, the origin of running %s", origin, d);
        CLI_OK("destroy", "--wait", d);
        free(vt_check_invariants(&vt, "after the destroy of the outdated disposable"));
        cr_expect_eq(canary_scan(scratch_disk(), &canary, "outdated disposable destroyed after a recovery"), 0,
                     "%s's data survived its destroy", d);
        free(origin);
        free(d);
}

/* The same with an in-RAM disposable: its source view holds the origin open, so the delete
 * failed EBUSY and wedged every change of the pool. */
Test(recover, keeps_origin_of_outdated_in_ram_disposable, .init = setup, .fini = teardown)
{
        char *d = vt_spawn(&vt, "dvm", "--in-ram", NULL);

        CLI_OK("start", "tmpl");
        CLI_OK("stop", "tmpl");
        CLI_OK("recover");
        CLI_OK("start", "tmpl");
        CLI_OK("stop", "tmpl");
        CLI_OK("destroy", "--wait", d);
        free(vt_check_invariants(&vt, "after the destroy of the outdated in-RAM disposable"));
        free(d);
}

/* A leftover layer someone holds open cannot be deleted yet: recovery says it waits (exit 5),
 * the pool stays usable, and the next recovery once it is free deletes it. */
Test(recover, busy_leftover_layer_is_pending, .init = setup, .fini = teardown)
{
        char holder[64];
        struct vt_run r;
        int st;

        snprintf(holder, sizeof(holder), "holder-%s", vt.pool);
        free(vt_sh(&st, "dmsetup message DVM-%s 0 'create_thin 4242' && "
                        "dmsetup create %s --table '0 8192 thin /dev/mapper/DVM-%s 4242'",
                   vt.pool, holder, vt.pool));
        cr_assert_eq(st, 0, "a leftover thin id 4242 with a device on it");
        r = vt_cli(&vt, "recover", NULL);
        cr_expect_eq(r.status, EXIT_BUSY, "recover with a busy leftover layer: exit %d: %s", r.status, r.err);
        cr_expect(strstr(r.out, "1 pending") != NULL, "recover reports it pending: %s", r.out);
        vt_run_free(&r);
        char *d = vt_spawn(&vt, "dvm", NULL);
        CLI_OK("destroy", "--wait", d);
        free(d);
        cr_expect(has_thin_id(&vt, "4242"), "the busy layer was deleted under its device");
        free(vt_sh(&st, "dmsetup remove %s", holder));
        cr_assert_eq(st, 0, "dmsetup remove %s", holder);
        CLI_OK("recover");
        cr_expect(!has_thin_id(&vt, "4242"), "the leftover layer stayed once it was free");
        free(vt_check_invariants(&vt, "after the busy leftover went"));
}

/* ---- defect 2: a pool is known by its devices, not by its dm name --------------------- */

Test(recover, pool_of_same_name_from_another_state_dir, .init = setup, .fini = teardown)
{
        struct vt other = vt, tmp = vt;
        char *before, *after, *dump;
        struct vt_run r;
        int st;

        snprintf(other.state, sizeof(other.state), "%.100s-other", vt.state);
        /* another state directory with a pool of the same name, whose device is down (it was
         * made while ours was down, or ours came up first after a reboot) */
        r = vt_cli(&other, "pool", "init", "--data-size", "256M", NULL);
        cr_expect_neq(r.status, 0, "pool init of a second %s while DVM-%s is up succeeded", vt.pool, vt.pool);
        cr_expect_eq(r.status, EXIT_EXISTS, "pool init over another pool's device: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        free(vt_sh(&st, "dmsetup info DVM-%s >/dev/null", vt.pool));
        cr_assert_eq(st, 0, "the failed pool init removed DVM-%s, another state directory's pool", vt.pool);

        /* make "other" by hand: init it under a free name, then rename its catalog's pool */
        snprintf(tmp.pool, sizeof(tmp.pool), "%.28sx", vt.pool);
        snprintf(tmp.state, sizeof(tmp.state), "%s", other.state);
        r = vt_cli(&tmp, "pool", "init", "--data-size", "256M", NULL);
        cr_assert_eq(r.status, 0, "pool init %s: %s", tmp.pool, r.err);
        vt_run_free(&r);
        free(vt_sh(&st, "dmsetup remove DVM-%s && mv %s/%s %s/%s && "
                        "sqlite3 %s/%s/catalog.db \"update meta set value = replace(value, '/%s/', '/%s/') "
                        "where key in ('data', 'metadata')\"",
                   tmp.pool, other.state, tmp.pool, other.state, vt.pool, other.state, vt.pool, tmp.pool, vt.pool));
        cr_assert_eq(st, 0, "a second pool %s in %s", vt.pool, other.state);

        char *d = vt_spawn(&vt, "dvm", NULL);
        before = vt_thin_ids(&vt);
        r = vt_cli(&other, "recover", NULL);
        cr_expect_eq(r.status, EXIT_EXISTS, "recover of the other %s: exit %d (want 4): %s", vt.pool, r.status, r.err);
        cr_expect(strstr(r.err, "another pool's") != NULL, "the message says whose device it is: %s", r.err);
        vt_run_free(&r);
        after = vt_thin_ids(&vt);
        cr_expect_str_eq(after, before, "the other state directory's recovery changed our thin ids");
        dump = vt_sql(&other, "select count(*) from volumes");
        cr_expect_str_eq(dump, "0", "the other catalog gained rows: %s", dump);
        free(dump);
        CLI_OK("destroy", "--wait", d);
        free(vt_check_invariants(&vt, "after the other state directory's attempts"));
        free(d);
        free(before);
        free(after);
        free(vt_sh(&st, "rm -rf %s", other.state));
}

/* ---- a pool activated with discards (by an older dvm-vol) ------------------------------ */

/* The open of a pool whose device takes discards (a table without ignore_discard, as an older
 * dvm-vol loaded it) makes it again without them when nothing holds it: a discard would free a
 * VM's blocks unwiped. (dm-thin refuses that feature's change in a reload: the device is made
 * anew here, on the same data and metadata devices, held open meanwhile.) */
Test(recover, pool_with_discards_made_again_without, .init = setup, .fini = teardown)
{
        char *table, *d;
        struct vt_run r;
        int st;

        free(vt_sh(&st,
                   "set -e; t=$(dmsetup table DVM-%1$s); u=$(dmsetup info -c --noheadings -o uuid DVM-%1$s); "
                   "dev() { (. /sys/dev/block/$1/uevent; echo /dev/$DEVNAME); }; set -- $t; "
                   "exec 8<\"$(dev $4)\" 9<\"$(dev $5)\"; "
                   "new=$(echo \"$t\" | awk '{ s = \"\"; k = 0; for (i = 9; i <= 8 + $8; i++) "
                   "if ($i != \"ignore_discard\") { s = s \" \" $i; k++ }; print $1, $2, $3, $4, $5, $6, $7, k s }'); "
                   "dmsetup remove DVM-%1$s; dmsetup create DVM-%1$s --uuid \"$u\" --table \"$new\"",
                   vt.pool));
        cr_assert_eq(st, 0, "making DVM-%s again with discards", vt.pool);
        table = vt_sh(&st, "dmsetup table DVM-%s", vt.pool);
        cr_assert(strstr(table, "ignore_discard") == NULL, "the pool still ignores discards: %s", table);
        free(table);

        r = vt_cli(&vt, "--verbose", "list", NULL);
        cr_expect_eq(r.status, 0, "list on a pool that takes discards: exit %d: %s", r.status, r.err);
        cr_expect(strstr(r.err, "made again without discards") != NULL, "the log says so: %s", r.err);
        vt_run_free(&r);
        table = vt_sh(&st, "dmsetup table DVM-%s", vt.pool);
        cr_expect(strstr(table, "ignore_discard") != NULL, "the pool's table after its open: %s", table);
        free(table);
        d = vt_spawn(&vt, "dvm", NULL);
        CLI_OK("destroy", "--wait", d);
        free(d);
        free(vt_check_invariants(&vt, "after the pool was made again"));
}

/* ---- defect 4: deferred destroys run inside the dirty mark ----------------------------- */

static char fault_bin[sizeof(vt.dvm_vol)];

static void fault_setup(void)
{
        char cand[2][sizeof(fault_bin)];
        int st, dir;

        setup();
        /* the fault-injection build: <build>/fault/dvm-vol, or <build>/dvm-vol when it is one */
        dir = (int)(strrchr(vt.dvm_vol, '/') - vt.dvm_vol);
        snprintf(cand[0], sizeof(cand[0]), "%.*s/fault/dvm-vol", dir < 400 ? dir : 400, vt.dvm_vol);
        snprintf(cand[1], sizeof(cand[1]), "%.400s", vt.dvm_vol);
        for (int i = 0; i < 2; i++) {
                free(vt_sh(&st, "grep -q DVM_FAULT_TRACE %s", cand[i]));
                if (st == 0) {
                        snprintf(fault_bin, sizeof(fault_bin), "%s", cand[i]);
                        return;
                }
        }
        cr_skip_test("SKIP: no fault-injection build of dvm-vol: make FAULT=1 BUILD=<build>/fault all");
}

/* D's destroy is deferred (its root is held open), then released. */
static char *deferred_destroy(void)
{
        char *d = vt_spawn(&vt, "dvm", NULL);
        int fd = open(vt_dev(&vt, d, "root"), O_RDONLY | O_CLOEXEC);
        struct vt_run r;

        cr_assert(fd >= 0, "open %s: %m", vt_dev(&vt, d, "root"));
        r = vt_cli(&vt, "destroy", "--wait", d, NULL);
        cr_assert_eq(r.status, EXIT_BUSY, "destroy of a held %s: exit %d: %s", d, r.status, r.err);
        vt_run_free(&r);
        close(fd);
        return d;
}

Test(recover, crash_in_deferred_destroy_leaves_pool_dirty, .init = fault_setup, .fini = teardown)
{
        char *d = deferred_destroy(), *kernel, *recorded, *mark;
        struct vt_run r;
        int st;

        /* an unrelated verb carries out the deferred destroy first, and dies inside it */
        snprintf(vt.dvm_vol, sizeof(vt.dvm_vol), "%s", fault_bin);
        setenv("DVM_FAULT", "dm.remove:1", 1);
        r = vt_cli(&vt, "start", "tmpl", NULL);
        unsetenv("DVM_FAULT");
        cr_assert_eq(r.status, FAULT_EXIT, "start tmpl did not stop in the deferred destroy: exit %d: %s", r.status,
                     r.err);
        vt_run_free(&r);
        kernel = vt_sh(&st, "dmsetup status DVM-%s | awk '{print $4}'", vt.pool);
        first_line(kernel);
        recorded = vt_sql(&vt, "select value from meta where key='transaction_id'");
        mark = vt_sql(&vt, "select value from meta where key='dirty'");
        cr_expect(strcmp(kernel, recorded) != 0 || strcmp(mark, "1") == 0,
                  "a crash inside a deferred destroy left the pool clean-looking (transaction id %s in the "
                  "kernel and the catalog, dirty mark \"%s\")", kernel, mark);
        free(kernel);
        free(recorded);
        free(mark);
        /* the next verb recovers in full and finishes the destroy */
        CLI_OK("start", "tmpl");
        CLI_OK("stop", "tmpl");
        char *state = vt_check_invariants(&vt, "after the crashed deferred destroy");
        cr_expect(!vt_has_vm(state, d), "%s is still there", d);
        free(state);
        free(d);
}

/* block-dvm's add (claim_add) must not run another VM's deferred destroy and its wipe:
 * libxl kills the hook after 40 s. recover does it. */
Test(recover, hook_leaves_deferred_destroys, .init = setup, .fini = teardown)
{
        char *d = deferred_destroy(), *n;
        struct xen_target t = { .kind = XEN_TARGET_SPAWN };
        struct claim_disk disk = { .domid = 7, .devid = 51712, .rw = true };
        struct claim_result res;
        dvm_ctx *ctx = NULL;
        dvm_pool *pool = NULL;
        char q[160];
        int r;

        snprintf(t.pool, sizeof(t.pool), "%s", vt.pool);
        snprintf(t.vm, sizeof(t.vm), "dvm");
        snprintf(t.volume, sizeof(t.volume), "root");
        snprintf(disk.vdev, sizeof(disk.vdev), "xvda");
        snprintf(disk.dom_uuid, sizeof(disk.dom_uuid), "aaaaaaaa-0000-0000-0000-000000000007");
        cr_assert_eq(dvm_ctx_new(vt.state, &ctx), 0, "dvm_ctx_new");
        r = dvm_pool_open(ctx, vt.pool, &pool);
        cr_assert_eq(r, 0, "dvm_pool_open: %d (%s)", r, dvm_ctx_last_error(ctx));
        r = claim_add(pool, &t, &disk, &res);
        cr_assert_eq(r, 0, "claim_add: %d (%s)", r, dvm_ctx_last_error(ctx));
        snprintf(q, sizeof(q), "select count(*) from intents where vm='%s'", d);
        n = vt_sql(&vt, "%s", q);
        cr_expect_str_eq(n, "1", "the hook carried out %s's deferred destroy", d);
        free(n);
        r = claim_remove(pool, disk.domid, disk.devid, NULL);
        cr_expect_eq(r, 0, "claim_remove: %d (%s)", r, dvm_ctx_last_error(ctx));
        n = vt_sql(&vt, "%s", q);
        cr_expect_str_eq(n, "1", "the hook's remove carried out %s's deferred destroy", d);
        free(n);
        dvm_pool_close(pool);
        dvm_ctx_free(ctx);
        CLI_OK("recover");
        char *state = vt_check_invariants(&vt, "after recover finished the deferred destroy");
        cr_expect(!vt_has_vm(state, d), "recover left %s", d);
        free(state);
        free(d);
}

/* ---- defect 5: recover --all past pools that do not open ------------------------------- */

Test(recover, all_goes_on_past_a_bad_pool, .init = setup, .fini = teardown)
{
        int st;

        free(vt_sh(&st, "mkdir %s/abad %s/zbad && : > %s/abad/catalog.db && : > %s/zbad/catalog.db && "
                        "dmsetup message DVM-%s 0 'create_thin 777'",
                   vt.state, vt.state, vt.state, vt.state, vt.pool));
        cr_assert_eq(st, 0, "two bad pools and a leftover layer in the good one");
        char *out = vt_sh(&st, "%s --state-dir %s recover --all 2>&1", vt.dvm_vol, vt.state);
        cr_expect_eq(st, 3, "recover --all with two bad pools: exit %d (want 3): %s", st, out);
        cr_expect(strstr(out, "pool abad") && strstr(out, "pool zbad"), "both bad pools reported: %s", out);
        cr_expect(strstr(out, "1 layers deleted") != NULL, "the good pool was recovered: %s", out);
        free(out);
        cr_expect(!has_thin_id(&vt, "777"), "the good pool's leftover layer stayed");
}

/* ---- defect 6: the view of a killed inspector ------------------------------------------ */

static void view_teardown(void)
{
        free(vt_sh(NULL, "for d in $(dmsetup ls 2>/dev/null | awk '{print $1}' | grep '^DVM-%s+view-'); do "
                         "dmsetup remove --retry $d; done", vt.pool));
        vt_cleanup(&vt);
}

Test(recover, view_of_killed_inspector_goes, .fini = view_teardown)
{
        struct vi m;
        char *old;
        int fd, st;

        vi_fixture(&m, &vt);
        CLI_OK("template", "create", "tmpl", "--root-size", "16M", "--private-size", "8M");
        CLI_OK("start", "tmpl");
        vt_pattern(vt_dev(&vt, "tmpl", "root"), 0, 2 * MiB, 1);
        CLI_OK("stop", "tmpl");
        old = vt_sql(&vt, "select thin_id from volumes where vm='tmpl' and name='root'");
        vi_mount(&m, &vt);
        fd = open(vi_path(&m, "tmpl/root/image"), O_RDONLY | O_CLOEXEC);
        cr_assert(fd >= 0, "open the committed root of tmpl through the inspector: %m");
        cr_assert_eq(vi_views(&m), 1, "the inspector holds one view");
        kill(m.pid, SIGKILL);
        waitpid(m.pid, &st, 0);
        m.pid = 0;
        close(fd);
        umount2(m.dir, MNT_DETACH);
        rmdir(m.dir);
        cr_assert_eq(vi_views(&m), 1, "the killed inspector's view is there");
        /* the template commits a new root: its old layer's last user goes while viewed */
        CLI_OK("start", "tmpl");
        CLI_OK("stop", "tmpl");
        CLI_OK("recover");
        cr_expect_eq(vi_views(&m), 0, "recover left the killed inspector's view");
        cr_expect(!has_thin_id(&vt, old), "layer %s, held by the view, stayed in the pool", old);
        free(vt_check_invariants(&vt, "after the killed inspector's view went"));
        free(old);
}
