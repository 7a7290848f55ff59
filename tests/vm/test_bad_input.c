// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm tier: every bad input gets one line on stderr naming the object and the cause, its
 * documented exit code, and changes nothing: the kernel's devices and thin ids and the
 * catalog are compared before and after each case.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmtest.h"

static struct vt vt;

#define CLI_OK(...) VT_CLI_OK(&vt, __VA_ARGS__)

static void setup(void)
{
        vt_init(&vt, "1G");
        CLI_OK("template", "create", "tmpl", "--root-size", "32M", "--private-size", "16M");
        CLI_OK("dvm", "create", "dvm", "--template", "tmpl");
        CLI_OK("spawn", "dvm", "--name", "d1");
}

static void teardown(void) { vt_cleanup(&vt); }

/* pool_not_initialised needs no pool: the fixture is the tests' own first step */
TestSuite(bad_input, .fini = teardown, .timeout = 600);

struct bad_case {
        const char *argv[10];
        int status;
        const char *says; /* a piece of the one line on stderr */
};

#define LONG_NAME "a1234567890123456789012345678901234567890123456789012345678901234" /* 65 bytes */

static const struct bad_case cases[] = {
        { { "template", "create", "", "--root-size", "8M", "--private-size", "8M" }, 2, "name is empty" },
        { { "template", "create", "a/b", "--root-size", "8M", "--private-size", "8M" }, 2, "contains '/'" },
        { { "template", "create", "..", "--root-size", "8M", "--private-size", "8M" }, 2, "start with a letter" },
        { { "template", "create", LONG_NAME, "--root-size", "8M", "--private-size", "8M" }, 2, "longer than 64 bytes" },
        { { "template", "create", "a\x01z", "--root-size", "8M", "--private-size", "8M" }, 2, "control character" },
        { { "template", "create", "a\nz", "--root-size", "8M", "--private-size", "8M" }, 2, "control character" },
        { { "template", "create", "x", "--root-size", "0", "--private-size", "8M" }, 2, "invalid size \"0\"" },
        { { "template", "create", "x", "--root-size", "1000", "--private-size", "8M" }, 2, "invalid size \"1000\"" },
        { { "template", "create", "x", "--root-size", "8M", "--private-size", "16777216T" }, 2, "too large" },
        { { "template", "create", "x", "--root-size", "99999999999999999999", "--private-size", "8M" }, 2, "too large" },
        { { "template", "create", "x", "--root-size", "-8M", "--private-size", "8M" }, 2, "invalid size" },
        { { "template", "create", "tmpl", "--root-size", "8M", "--private-size", "8M" }, 4, "tmpl exists already" },
        { { "template", "import", "x", "--root", "/nonexistent.img" }, 3, "/nonexistent.img" },
        { { "dvm", "create", "x", "--template", "nosuch" }, 3, "TemplateVM nosuch does not exist" },
        { { "dvm", "create", "x", "--template", "dvm" }, 2, "dvm is a DVM Template, not a TemplateVM" },
        { { "dvm", "create", "tmpl", "--template", "tmpl" }, 4, "tmpl exists already" },
        { { "spawn", "nosuch" }, 3, "DVM Template nosuch does not exist" },
        { { "spawn", "tmpl" }, 2, "tmpl is a TemplateVM, not a DVM Template" },
        { { "spawn", "dvm", "--name", "d1" }, 4, "d1 exists already" },
        { { "spawn", "dvm", "--name", "bad/name" }, 2, "contains '/'" },
        /* issue 12 defect 9: --in-ram used to be dropped silently, the lines printed, exit 0 */
        { { "spawn", "dvm", "--xl-disks", "--in-ram" }, 2, "--xl-disks and --in-ram" },
        { { "start", "d1" }, 4, "d1 is running already" },
        { { "stop", "tmpl" }, 4, "tmpl is not running" },
        { { "start", "nosuch" }, 3, "nosuch does not exist" },
        { { "destroy", "tmpl" }, 5, "cannot destroy TemplateVM tmpl: 1 VM(s) depend on it (dvm)" },
        { { "destroy", "dvm" }, 5, "cannot destroy DVM Template dvm: 1 VM(s) depend on it (d1)" },
        { { "destroy", "nosuch" }, 3, "nosuch does not exist" },
        { { "info", "nosuch" }, 3, "nosuch does not exist" },
        { { "frobnicate" }, 2, "unknown verb \"frobnicate\"" },
        { { "spawn" }, 2, "missing argument" },
        { { "pool", "init", "--block-size", "96K" }, 2, "96K" },
};

/* Run one case; Returns false if it changed the state (the caller takes a new baseline). */
static bool check_case(const struct bad_case *c, const char *before)
{
        struct vt_run r = vt_cliv(&vt, c->argv);
        const char *label = c->argv[0];

        cr_expect_eq(r.status, c->status, "%s %s \"%s\": exit %d, want %d; stderr: %s", label,
                     c->argv[1] ? c->argv[1] : "", c->argv[2] ? c->argv[2] : "", r.status, c->status, r.err);
        cr_expect(strstr(r.err, c->says), "%s %s: stderr does not say \"%s\": %s", label, c->argv[1] ? c->argv[1] : "",
                  c->says, r.err);
        char *nl = strchr(r.err, '\n');
        /* one line; a usage error may add the verb's one-line synopsis */
        cr_expect(nl && (!nl[1] || (strncmp(nl + 1, "Usage:", 6) == 0 && !strchr(nl + 1, '\n')[1])),
                  "%s: stderr is not one line: %s", label, r.err);
        cr_expect_str_empty(r.out, "%s: printed on stdout: %s", label, r.out);
        vt_run_free(&r);

        char *after = vt_state(&vt);
        bool same = strcmp(after, before) == 0;
        cr_expect_str_eq(after, before, "%s changed the kernel state or the catalog:\n%s\nwas:\n%s", label, after,
                         before);
        free(after);
        return same;
}

Test(bad_input, each_refused_without_change)
{
        setup();
        char *before = vt_state(&vt);

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                if (check_case(&cases[i], before))
                        continue;
                free(before);
                before = vt_state(&vt);
        }
        free(before);
}

Test(bad_input, template_gone)
{
        setup();
        /* A catalog whose TemplateVM went out of band (its rows deleted by hand). */
        free(vt_sql(&vt, "DELETE FROM volumes WHERE vm='tmpl'; DELETE FROM vms WHERE name='tmpl'"));
        char *before = vt_state(&vt);
        static const struct bad_case c = { { "spawn", "dvm" }, 3, "cannot spawn from DVM Template dvm: its TemplateVM tmpl is gone" };
        check_case(&c, before);
        free(before);
}

Test(bad_input, pool_not_initialised)
{
        struct vt other;
        vt_init(&other, NULL);
        struct vt_run r = vt_cli(&other, "spawn", "dvm", NULL);
        cr_assert_eq(r.status, 3, "spawn in an uninitialised pool: exit %d: %s", r.status, r.err);
        cr_assert(strstr(r.err, "is not initialised"), "stderr: %s", r.err);
        vt_run_free(&r);
        r = vt_cli(&other, "list", NULL);
        cr_assert_eq(r.status, 3, "list in an uninitialised pool: exit %d: %s", r.status, r.err);
        vt_run_free(&r);
        cr_assert(access(other.state, F_OK) != 0, "an uninitialised pool's state dir was created");
}
