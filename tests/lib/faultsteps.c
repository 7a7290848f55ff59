// SPDX-License-Identifier: GPL-2.0-or-later
/* The steps of a dvm-vol operation, from its fault trace (faultsteps.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faultsteps.h"

#define KINDS_MAX 128

int fs_learn(struct vt *t, const char *const words[], char (*steps)[FS_STEP_MAX], int max)
{
        char trace[300], line[64], names[KINDS_MAX][64];
        unsigned count[KINDS_MAX] = {};
        int n = 0, kinds = 0;

        snprintf(trace, sizeof(trace), "%s.trace", t->state);
        unlink(trace);
        setenv("DVM_FAULT_TRACE", trace, 1);
        struct vt_run r = vt_cliv(t, words);
        unsetenv("DVM_FAULT_TRACE");
        cr_assert_eq(r.status, 0, "%s (tracing its steps): exit %d: %s", words[0], r.status, r.err);
        vt_run_free(&r);
        FILE *f = fopen(trace, "r");
        cr_assert(f, "no step trace from %s: is this a fault-injection build?", words[0]);
        while (n < max && fgets(line, sizeof(line), f)) {
                int k;
                line[strcspn(line, "\n")] = 0;
                for (k = 0; k < kinds && strcmp(names[k], line) != 0; k++)
                        ;
                if (k == kinds && kinds < KINDS_MAX)
                        snprintf(names[kinds++], sizeof(names[0]), "%s", line);
                if (k < kinds)
                        snprintf(steps[n++], FS_STEP_MAX, "%.63s:%u", line, ++count[k]);
        }
        fclose(f);
        unlink(trace);
        return n;
}

int fs_find(char (*steps)[FS_STEP_MAX], int n, int from, const char *name)
{
        size_t len = strlen(name);

        for (int i = from < 0 ? 0 : from; i < n; i++)
                if (strncmp(steps[i], name, len) == 0 && steps[i][len] == ':')
                        return i;
        return -1;
}
