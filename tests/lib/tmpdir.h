/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Throwaway directories of the unit tests: /tmp/<prefix><pid>-XXXXXX, made after sweeping
 * those of earlier runs whose process is gone (live runs of other workers are left alone),
 * and removed with everything in them.
 */
#ifndef DVM_TEST_TMPDIR_H
#define DVM_TEST_TMPDIR_H

#include <stddef.h>

/** tmpdir_new() - sweep dead runs' directories of @prefix, make a fresh one. Returns 0 or -errno. */
int tmpdir_new(const char *prefix, char *ret_dir, size_t size);

/** tmpdir_sweep() - remove /tmp/<prefix><pid>... of the processes that are gone. */
void tmpdir_sweep(const char *prefix);

/** tmpdir_remove() - remove @dir and everything below it (links are not followed). */
void tmpdir_remove(const char *dir);

#endif
