// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, crash safety of a snap pool: the walks of tests/lib/crashwalk.c over a pool of
 * image files under loops and dm-snapshot (checked against dmsetup, the pool's directory and
 * losetup), and the crashes that once wedged such a pool (issue 12 defect 3): a destroy
 * killed after it unlinked a layer's files, a template stop killed after its commit, an
 * import killed with its plaintext image written.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crashwalk.h"
#include "vminvariants.h"

#define MiB (1ULL << 20)
#define vt cw_vt

static void setup(void) { cw_setup("snap"); }

TestSuite(crash_snap, .init = setup, .fini = cw_teardown, .timeout = 1800);

Test(crash_snap, spawn) { cw_walk_spawn(); }

Test(crash_snap, destroy) { cw_walk_destroy(); }

Test(crash_snap, import) { cw_walk_import(); }

Test(crash_snap, random_kill) { cw_random_kill(10); }

/* A destroy killed after it unlinked a layer's files, at the first and at the last of them:
 * recovery (it used to re-activate a layer whose files were gone and abort on ENOENT)
 * finishes the destroy and leaves no device, file or loop; the pool takes new work. */
Test(crash_snap, destroy_killed_after_unlink)
{
        static const char *const faults[] = { "snap.unlink:1", "snap.unlink:3" };
        static const char *const argv[8] = { "destroy", "--wait", "victim" };

        for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
                char when[96];
                snprintf(when, sizeof(when), "destroy killed at %s", faults[i]);
                cw_victim();
                cw_killed_at(&cw_vt, faults[i], argv);
                cw_recover(when);
                char *snap = vt_check_invariants(&vt, when);
                cr_assert(!vt_has_vm(snap, "victim"), "%s: the destroy was not finished", when);
                free(snap);
        }
        cw_victim();
        cr_assert(vt_has_pattern(vt_dev(&vt, "victim", "root"), 0, 4 * MiB, 1), "the next disposable lacks the "
                  "template data");
        VT_CLI_OK(&vt, "destroy", "--wait", "victim");
        free(vt_check_invariants(&vt, "after the last destroy"));
}

/* A TemplateVM's stop killed right after its catalog commit: the new revision is the
 * template's layer; the COW store it was made from and the old revision are leftovers that
 * recovery removes. The data written before the stop is kept. */
Test(crash_snap, template_stop_killed_after_commit)
{
        static const char *const argv[8] = { "stop", "tmpl" };

        VT_CLI_OK(&vt, "start", "tmpl");
        vt_pattern(vt_dev(&vt, "tmpl", "root"), 16 * MiB, MiB, 5);
        cw_killed_at(&cw_vt, "lifecycle.reap:1", argv);
        cw_recover("stop tmpl killed after its commit");
        free(vt_check_invariants(&vt, "stop tmpl killed after its commit"));
        VT_CLI_OK(&vt, "start", "tmpl");
        cr_assert(vt_has_pattern(vt_dev(&vt, "tmpl", "root"), 16 * MiB, MiB, 5), "the committed stop lost the data");
        cr_assert(vt_has_pattern(vt_dev(&vt, "tmpl", "root"), 0, 4 * MiB, 1), "the template lost its older data");
        VT_CLI_OK(&vt, "stop", "tmpl");
        free(vt_check_invariants(&vt, "after the next stop"));
}

/* An import killed while it copies: its <id>.img (plaintext of the image) is collected by
 * recovery, and no TemplateVM is left. */
Test(crash_snap, killed_import_leaves_no_image)
{
        char image[300];
        int st;

        snprintf(image, sizeof(image), "%s-import.img", vt.state);
        free(vt_sh(&st, "rm -f %s; truncate -s 16M %s", image, image));
        vt_pattern(image, 0, 2 * MiB, 21);
        const char *const argv[8] = { "template", "import", "imp", "--root", image };
        /* the loop of the root's new image: the file exists, the catalog row is not committed */
        cw_killed_at(&cw_vt, "loop.attach:1", argv);
        char *files = vt_sh(&st, "ls %s/%s", vt.state, vt.pool);
        cr_assert(strstr(files, ".img"), "the killed import left no image to collect:\n%s", files);
        free(files);
        cw_recover("import killed while it copied");
        char *snap = vt_check_invariants(&vt, "import killed while it copied");
        cr_assert(!vt_has_vm(snap, "imp"), "the killed import left a TemplateVM");
        free(snap);
        unlink(image);
}

/* What an older version's stop cut short after its commit left (the store already
 * unlinked, the catalog still naming the running layer), after a reboot: recovery drops the
 * layer it cannot bring back instead of aborting on ENOENT, and the TemplateVM stops on the
 * origin it had. */
Test(crash_snap, layer_whose_store_is_gone_is_dropped)
{
        char *id;
        int st;

        VT_CLI_OK(&vt, "start", "tmpl");
        id = vt_sql(&vt, "SELECT run_id FROM volumes WHERE vm = 'tmpl' AND name = 'root'");
        cr_assert(id[0] >= '0' && id[0] <= '9', "no running layer for tmpl/root: \"%s\"", id);
        vt_reboot(&vt);
        free(vt_sh(&st, "cd %s/%s && mv %s.cow %s.img", vt.state, vt.pool, id, id));
        cr_assert_eq(st, 0, "cannot make the store of layer %s go", id);
        cw_recover("a running layer without its store");
        char *snap = vt_check_invariants(&vt, "a running layer without its store");
        free(snap);
        VT_CLI_OK(&vt, "start", "tmpl");
        cr_assert(vt_has_pattern(vt_dev(&vt, "tmpl", "root"), 0, 4 * MiB, 1), "tmpl lost the data of its origin");
        VT_CLI_OK(&vt, "stop", "tmpl");
        free(id);
}
