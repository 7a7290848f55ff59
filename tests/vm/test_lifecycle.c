// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier, every test over both pool backends (thin and snap): pool re-activation after a
 * reboot, template import, 20 isolated disposables, destroy leaving only origins, a
 * TemplateVM updated under a running disposable, spawn/destroy timing. Real device-mapper;
 * witnesses are dmsetup, thin_dump and the pool's files, not the library.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmtest.h"

#define MiB (1ULL << 20)
static struct vt vt;

static void teardown(void) { vt_cleanup(&vt); }

TestSuite(lifecycle, .init = vt_require_dm, .fini = teardown, .timeout = 600);

/* One test body, run once per backend; its pool is made first. */
#define BACKEND_TEST(test)                                                                         \
        VT_BACKEND_PARAMETERS(lifecycle, test)                                                     \
        static void test##_body(void);                                                             \
        ParameterizedTest(const struct vt_backend *backend, lifecycle, test)                       \
        {                                                                                          \
                vt_init_backend(&vt, backend->name, NULL);                                         \
                test##_body();                                                                     \
        }                                                                                          \
        static void test##_body(void)

#define CLI_OK(...) VT_CLI_OK(&vt, __VA_ARGS__)

static void make_templates(void)
{
        vt_make_templates(&vt, "64M", "32M");
}

static char *spawn(const char *name)
{
        return name ? vt_spawn(&vt, "dvm", "--name", name, NULL) : vt_spawn(&vt, "dvm", NULL);
}

BACKEND_TEST(reactivate_after_reboot)
{
        int st;
        make_templates();
        char *before = vt_layers(&vt);

        /* a reboot: every device of the pool gone, its loops detached (asserted there) */
        vt_reboot(&vt);

        struct vt_run r = vt_cli(&vt, "pool", "activate", NULL);
        cr_assert_eq(r.status, 0, "pool activate: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        char *after = vt_layers(&vt);
        cr_assert_str_eq(after, before, "%s: layers changed across re-activation: %s -> %s", vt.backend, before, after);
        char *devs = vt_sh(&st, "dmsetup ls | grep -c '^DVM-%s-' || true", vt.pool);
        cr_assert_str_eq(devs, "0\n", "activation started volumes: %s", devs);
        free(devs);

        /* the origins are intact: a disposable sees both templates' data */
        char *d = spawn(NULL);
        cr_assert(vt_has_pattern(vt_dev(&vt, d, "root"), 0, 8 * MiB, 1), "template root lost across reboot");
        cr_assert(vt_has_pattern(vt_dev(&vt, d, "private"), 0, 4 * MiB, 2), "DVM private lost across reboot");
        free(d);
        free(before);
        free(after);
}

BACKEND_TEST(import_reads_back_and_stays_sparse)
{
        int st;
        char img[256];
        snprintf(img, sizeof(img), "%s.img", vt.state);
        /* 48 MiB: data at 0-4 MiB and 20-21 MiB, an explicit run of zeros, holes elsewhere */
        free(vt_sh(&st, "rm -f %s; truncate -s 48M %s", img, img));
        vt_pattern(img, 0, 4 * MiB, 7);
        vt_pattern(img, 20 * MiB, MiB, 8);
        free(vt_sh(&st, "dd if=/dev/zero of=%s bs=1M seek=30 count=8 conv=notrunc status=none", img));
        uint64_t h = vt_hash(img, 0, 0);

        struct vt_run r = vt_cli(&vt, "template", "import", "imp", "--root", img, NULL);
        cr_assert_eq(r.status, 0, "import: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        CLI_OK("start", "imp");
        uint64_t got = vt_hash(vt_dev(&vt, "imp", "root"), 0, 48 * MiB);
        cr_assert_eq(got, h, "imported root differs from the image: %llx vs %llx", (unsigned long long)got,
                     (unsigned long long)h);
        /* only the 5 MiB of data were provisioned (the running layer shares them) */
        uint64_t used = vt_data_used(&vt);
        cr_assert_eq(used, 5 * MiB, "%s: pool data used after import: %llu", vt.backend, (unsigned long long)used);
        CLI_OK("stop", "imp");
        unlink(img);
}

BACKEND_TEST(twenty_disposables_are_isolated)
{
        enum { N = 20 };
        char *names[N];
        make_templates();
        CLI_OK("start", "tmpl");
        uint64_t tmpl_root = vt_hash(vt_dev(&vt, "tmpl", "root"), 0, 0);
        uint64_t tmpl_priv = vt_hash(vt_dev(&vt, "tmpl", "private"), 0, 0);
        CLI_OK("stop", "tmpl");
        CLI_OK("start", "dvm");
        uint64_t dvm_priv = vt_hash(vt_dev(&vt, "dvm", "private"), 0, 0);
        CLI_OK("stop", "dvm");

        for (int i = 0; i < N; i++) {
                names[i] = spawn(NULL);
                /* over template data, and into blocks nobody wrote */
                vt_pattern(vt_dev(&vt, names[i], "root"), 2 * MiB, MiB, 100 + i);
                vt_pattern(vt_dev(&vt, names[i], "root"), 40 * MiB, 128 << 10, 200 + i);
                vt_pattern(vt_dev(&vt, names[i], "private"), MiB, MiB, 300 + i);
                vt_pattern(vt_dev(&vt, names[i], "volatile"), 0, MiB, 400 + i);
        }
        for (int i = 0; i < N; i++) {
                const char *root = vt_dev(&vt, names[i], "root"), *priv = vt_dev(&vt, names[i], "private");
                cr_assert(vt_has_pattern(root, 2 * MiB, MiB, 100 + i), "%s root lost its own write", names[i]);
                cr_assert(vt_has_pattern(root, 40 * MiB, 128 << 10, 200 + i), "%s root lost its write", names[i]);
                cr_assert(vt_has_pattern(root, 0, 2 * MiB, 1), "%s root: template data changed", names[i]);
                cr_assert(vt_has_pattern(root, 3 * MiB, 5 * MiB, 1), "%s root: template data changed", names[i]);
                cr_assert(vt_has_pattern(priv, MiB, MiB, 300 + i), "%s private lost its write", names[i]);
                cr_assert(vt_has_pattern(priv, 0, MiB, 2), "%s private: DVM data changed", names[i]);
                cr_assert(vt_has_pattern(vt_dev(&vt, names[i], "volatile"), 0, MiB, 400 + i), "%s volatile", names[i]);
        }
        /* the templates are byte for byte what they were */
        CLI_OK("start", "tmpl");
        cr_assert_eq(vt_hash(vt_dev(&vt, "tmpl", "root"), 0, 0), tmpl_root, "TemplateVM root changed");
        cr_assert_eq(vt_hash(vt_dev(&vt, "tmpl", "private"), 0, 0), tmpl_priv, "TemplateVM private changed");
        CLI_OK("stop", "tmpl");
        CLI_OK("start", "dvm");
        cr_assert_eq(vt_hash(vt_dev(&vt, "dvm", "private"), 0, 0), dvm_priv, "DVM Template private changed");
        CLI_OK("stop", "dvm");
        for (int i = 0; i < N; i++)
                free(names[i]);
}

BACKEND_TEST(destroy_leaves_only_origins)
{
        int st;
        make_templates();
        char *origins = vt_layers(&vt);
        char *a = spawn(NULL), *b = spawn("named1");
        vt_pattern(vt_dev(&vt, a, "root"), 0, MiB, 9);
        char *during = vt_layers(&vt);
        cr_assert_str_neq(during, origins, "%s: spawn created no layers: %s", vt.backend, during);

        struct vt_run r = vt_cli(&vt, "destroy", "--wait", a, b, NULL);
        cr_assert_eq(r.status, 0, "destroy: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        char *devs = vt_sh(&st, "dmsetup info -c --noheadings -o name,uuid | grep -e '^DVM-%s-%s-' -e '^DVM-%s-named1-' "
                                "|| true", vt.pool, a, vt.pool);
        cr_assert_str_empty(devs, "devices left after destroy: %s", devs);
        char *after = vt_layers(&vt);
        cr_assert_str_eq(after, origins, "%s: layers after destroy: %s; origins: %s", vt.backend, after, origins);
        /* the thin pool keeps its data and metadata loops; no layer keeps one */
        char *loops = vt_sh(&st, "losetup -nO BACK-FILE | grep -E '^%s/.*/[0-9]+\\.(img|cow)$' || true", vt.state);
        cr_assert_str_empty(loops, "%s: loops left on layer files after destroy: %s", vt.backend, loops);
        free(loops);
        r = vt_cli(&vt, "info", a, NULL);
        cr_assert_eq(r.status, 3, "info of a destroyed disposable: exit %d", r.status);
        vt_run_free(&r);
        free(devs); free(after); free(during); free(origins); free(a); free(b);
}

/* How many ids a vt_layers() text holds. */
static int count_ids(const char *s)
{
        int n = 0;
        for (const char *p = s; *p; p++)
                n += p[0] != ' ' && (p[1] == ' ' || p[1] == 0);
        return n;
}

BACKEND_TEST(template_update_under_running_disposable)
{
        make_templates();
        char *origins = vt_layers(&vt);
        char *old = spawn(NULL);
        CLI_OK("start", "tmpl");
        vt_pattern(vt_dev(&vt, "tmpl", "root"), 0, MiB, 55);
        CLI_OK("stop", "tmpl");

        cr_assert(vt_has_pattern(vt_dev(&vt, old, "root"), 0, MiB, 1), "the running disposable saw the update");
        struct vt_run r = vt_cli(&vt, "--json", "info", old, NULL);
        cr_assert_eq(r.status, 0, "info: %s", r.err);
        json_object *o = json_tokener_parse(r.out), *v = NULL;
        cr_assert(o && json_object_object_get_ex(o, "outdated", &v) && json_object_get_boolean(v),
                  "info --json does not say outdated:\n%s", r.out);
        json_object_put(o);
        vt_run_free(&r);
        r = vt_cli(&vt, "info", old, NULL);
        cr_assert(strstr(r.out, "state:     running (outdated)"), "info does not say outdated:\n%s", r.out);
        vt_run_free(&r);

        char *fresh = spawn(NULL);
        cr_assert(vt_has_pattern(vt_dev(&vt, fresh, "root"), 0, MiB, 55), "a later spawn misses the update");
        cr_assert(vt_has_pattern(vt_dev(&vt, fresh, "root"), MiB, 7 * MiB, 1),
                  "%s: the committed update lost the template data around it", vt.backend);
        r = vt_cli(&vt, "info", fresh, NULL);
        cr_assert(!strstr(r.out, "outdated"), "a fresh disposable is called outdated:\n%s", r.out);
        vt_run_free(&r);

        /* the revision the old disposable runs on stays while it runs, and goes with it */
        char *during = vt_layers(&vt);
        r = vt_cli(&vt, "destroy", "--wait", old, fresh, NULL);
        cr_assert_eq(r.status, 0, "destroy: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        char *after = vt_layers(&vt);
        cr_assert_eq(count_ids(after), count_ids(origins), "%s: layers before the update %s, after it and the "
                     "destroy %s (while running: %s)", vt.backend, origins, after, during);
        cr_assert_str_neq(after, origins, "%s: the update made no new layer: %s", vt.backend, after);
        free(origins);
        free(during);
        free(after);
        free(old);
        free(fresh);
}

/* Spawn and destroy time per disposable (64 MiB root, 32 MiB private), for the report. */
BACKEND_TEST(spawn_destroy_timing)
{
        enum { N = 5 };
        char *names[N];
        double t0, spawn_s, destroy_s = 0;

        make_templates();
        t0 = vt_now();
        for (int i = 0; i < N; i++)
                names[i] = spawn(NULL);
        spawn_s = (vt_now() - t0) / N;
        for (int i = 0; i < N; i++) {
                double t = vt_now();
                CLI_OK("destroy", "--wait", names[i]);
                destroy_s += vt_now() - t;
                free(names[i]);
        }
        destroy_s /= N;
        fprintf(stderr, "timing: %s backend: spawn %.1f ms, destroy %.1f ms per disposable (mean of %d, dvm-vol "
                        "process included)\n", vt.backend, spawn_s * 1e3, destroy_s * 1e3, N);
        cr_assert(spawn_s < 10 && destroy_s < 10, "%s: spawn %.2f s, destroy %.2f s per disposable", vt.backend,
                  spawn_s, destroy_s);
}
