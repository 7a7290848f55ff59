/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The steps of a dvm-vol operation as the fault-injection build names them
 * (driver/util/fault.h): learned from one traced run, to stop a later run dead at one of them.
 */
#ifndef DVM_TEST_FAULTSTEPS_H
#define DVM_TEST_FAULTSTEPS_H

#include "vmtest.h"

#define FS_STEP_MAX 80

/**
 * fs_learn() - run dvm-vol @words (NULL-ended) of pool @t once whole with $DVM_FAULT_TRACE and
 * return the steps it passed, in order, as "<name>:<n>" (the n-th time it passed <name>,
 * the form $DVM_FAULT takes), at most @max of them. The pool must run its fault-injection
 * build (cw_use_fault_build()); the run must succeed (asserted).
 */
int fs_learn(struct vt *t, const char *const words[], char (*steps)[FS_STEP_MAX], int max);

/** fs_find() - the index of step @name (as "<name>:<n>") in @steps from @from on, or -1. */
int fs_find(char (*steps)[FS_STEP_MAX], int n, int from, const char *name);

#endif
