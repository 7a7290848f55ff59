#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the xen tier's dom0 (busybox ash; tests/xen/mkinitramfs.sh installs it). Loads the
# Xen, dm and 9p modules, mounts xenfs, then runs the host's command in a chroot of a writable
# overlay over the read-only host root (where xenstored, xl and our build live), with the
# project tree at its own path (tests/lib/boot-init.sh, at /lib/boot-init.sh here). The
# command's output goes to the ctl share (out.log), its status to ctl/rc; then dom0 powers
# off, which ends the QEMU run.

# shellcheck shell=dash
CTL=/run/dvm-ctl
INIT_NAME=dom0-init
INIT_FAIL_LOG=$CTL/out.log
# shellcheck source=tests/lib/boot-init.sh
. /lib/boot-init.sh

mount_xenfs() {
	mount -t xenfs xenfs /proc/xen || fail "xenfs: mount failed (is this dom0 of a Xen host?)"
	grep -q control_d /proc/xen/capabilities || fail "/proc/xen/capabilities: not the control domain"
}

run_command() {
	local rc
	run_in_chroot DVM_TEST_XEN=1 >> "$CTL/out.log" 2>&1
	rc=$?
	echo "$rc" > "$CTL/rc"
	log "command exited with status $rc"
}

main() {
	boot_to_chroot 50% dvm-xen-dom0 mount_xenfs
	run_command
	halt
}

main
