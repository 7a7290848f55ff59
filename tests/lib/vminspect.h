/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm-tier helpers for dvm-inspect: mount it over a test pool's state directory (in the
 * foreground, as a child), find paths in its tree, read its text files, count and sweep
 * its view devices, and unmount it, checking that it exited cleanly.
 */
#ifndef DVM_TEST_VMINSPECT_H
#define DVM_TEST_VMINSPECT_H

#include <stddef.h>
#include <sys/types.h>

#include "vmtest.h"

struct vi {
        struct vt *vt;
        char dir[160];     /* mountpoint */
        char log[176];     /* its stderr */
        char bin[512];     /* the dvm-inspect of this build */
        pid_t pid;         /* the daemon (foreground), 0 when not mounted */
};

/** vi_fixture() - the inspector suites' start: a pool of 2 GiB thin data in @vt, @m unmounted. */
void vi_fixture(struct vi *m, struct vt *vt);

/** vi_fixture_cleanup() - vi_sweep(), then vt_cleanup(). */
void vi_fixture_cleanup(struct vi *m, struct vt *vt);

/** vi_bin() - the path of this build's dvm-inspect into @m->bin. */
void vi_bin(struct vi *m, struct vt *vt);

/** vi_mount() - mount dvm-inspect over @vt's state directory; waits until it serves. */
void vi_mount(struct vi *m, struct vt *vt);

/** vi_mount_with() - vi_mount() with one more option (NULL: none), e.g. "--allow-other". */
void vi_mount_with(struct vi *m, struct vt *vt, const char *option);

/** vi_unmount() - unmount and assert that the daemon exited with status 0. */
void vi_unmount(struct vi *m);

/** vi_sweep() - for teardown: unmount lazily, kill a leftover daemon, remove view devices. */
void vi_sweep(struct vi *m);

/** vi_path() - "<mountpoint>/<pool>/<rel>" in a static buffer per call slot. */
const char *vi_path(struct vi *m, const char *rel);

/** vi_read() - the whole content of @path (malloc'd, NUL-terminated), or NULL with errno. */
char *vi_read(const char *path, size_t *ret_len);

/** vi_views() - how many view devices of this pool exist. */
int vi_views(struct vi *m);

/** vi_log() - what the daemon wrote to stderr so far (malloc'd). */
char *vi_log(struct vi *m);

#endif
