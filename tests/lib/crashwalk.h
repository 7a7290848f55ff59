/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm-tier crash walks, shared by the thin (tests/vm/test_crash.c) and snap
 * (tests/vm/test_crash_snap.c) suites: an operation stopped dead at each of its steps, or
 * killed at random times, then `recover` and the invariants of tests/lib/vminvariants.c.
 */
#ifndef DVM_TEST_CRASHWALK_H
#define DVM_TEST_CRASHWALK_H

#include "vmtest.h"

/* Exit status of a dvm-vol stopped at a fault point (driver/util/fault.h). */
#define CW_FAULT_EXIT 86

/* The pool of the walk, set up by cw_setup(). */
extern struct vt cw_vt;

/**
 * cw_setup() - a fresh pool of @backend ("thin": the default 1G file-backed pool; "snap";
 * "rbd": over the cluster of $DVM_CEPH_CONF, which tests/vm/suites.sh starts for test_rbd*),
 * the fault-injection build of dvm-vol (skips loudly without one), TemplateVM "tmpl" whose
 * root holds pattern 1 in its first 4 MiB and DVM Template "dvm".
 */
void cw_setup(const char *backend);

/** cw_teardown() - sweep the pool of the walk. */
void cw_teardown(void);

/**
 * cw_use_fault_build() - make pool @t run the fault-injection build of dvm-vol:
 * <build>/fault/dvm-vol (make FAULT=1 BUILD=<build>/fault all), or <build>/dvm-vol when the
 * whole build has it. Returns false, changing nothing, when there is none.
 */
bool cw_use_fault_build(struct vt *t);

/** cw_run_faulted() - run dvm-vol @argv with DVM_FAULT=@fault (NULL: none); the caller frees. */
struct vt_run cw_run_faulted(const char *const argv[8], const char *fault);

/**
 * cw_killed_at() - run dvm-vol @words (NULL-ended) of pool @t with DVM_FAULT=@fault; it
 * must stop dead there (exit CW_FAULT_EXIT).
 */
void cw_killed_at(struct vt *t, const char *fault, const char *const words[]);

/** cw_recover() - `recover` must exit 0; @when prefixes the failure. */
void cw_recover(const char *when);

/** cw_victim() - spawn disposable "victim" of "dvm" and write pattern 9 to its volatile and root. */
void cw_victim(void);

/*
 * The walks: each step of spawn, destroy (of "victim"), template import is killed in turn,
 * recovered and checked; the operation happened whole or not at all, and the TemplateVM's
 * root is the same at the end. cw_random_kill(): @rounds kill -9 at random times into a
 * spawn or a destroy, each recovered and checked.
 */
void cw_walk_spawn(void);
void cw_walk_destroy(void);
void cw_walk_import(void);
/*
 * The walk of a commit: each step of `stop dvm` (the DVM Template's private written while it
 * ran) killed, recovered and checked: the commit is whole or not begun, and one layer.
 */
void cw_walk_commit(void);
/*
 * The walk of a destroy left to the worker (no worker starts by itself in it): each step of
 * `destroy victim`, then `worker` drains and the pool is checked again.
 */
void cw_walk_destroy_later(void);
void cw_random_kill(int rounds);
/*
 * cw_walk_near() - the walks that follow kill only the steps whose names start with @prefix
 * and the step just before and just after each (killed before the change, after it, and
 * after what follows it, e.g. its catalog record); NULL (the default): every step. The
 * summary line says how many of how many steps were walked. $DVM_CW_ALL=1 walks every step
 * all the same; $DVM_CW_STEPS set prints each step walked with the seconds since the start.
 */
void cw_walk_near(const char *prefix);
/*
 * The walk of a refill (issue 15): "dvm" keeps one ready disposable and has none; each step
 * of `worker` building it is killed, recovered and checked, then `worker` runs to its end
 * and one whole ready disposable is left with the pool at rest.
 */
void cw_walk_refill(void);

#endif
