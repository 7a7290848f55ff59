/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fault injection for the crash tests: in a build with DVM_FAULT_INJECTION (make FAULT=1),
 * FAULT_POINT(name) marks a step of an operation (after each change of kernel state and
 * each catalog commit). $DVM_FAULT_TRACE names a file that gets one line per step reached;
 * $DVM_FAULT="<name>:<n>" stops the process dead (_exit, no cleanup) at the n-th time step
 * <name> is reached ("<name>:<n>:stop": stops it with SIGSTOP instead, until a SIGCONT).
 * In other builds the points compile to nothing.
 */
#ifndef DVM_FAULT_H
#define DVM_FAULT_H

/* Exit status of a process stopped at a fault point. */
#define FAULT_EXIT_STATUS 86

#ifdef DVM_FAULT_INJECTION
/** fault_point() - record step @name; stop dead if it is the one asked for. */
void fault_point(const char *name);
#define FAULT_POINT(name) fault_point(name)
#else
#define FAULT_POINT(name) \
        do {              \
        } while (0)
#endif

#endif
