#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the vm tier guest (busybox ash; mkinitramfs.sh installs it). Mounts the kernel file
# systems and the 9p shares, loads the modules, runs the host's command in a chroot of a
# writable overlay over the read-only host root (tests/lib/boot-init.sh, at /lib/boot-init.sh
# here), leaves its exit status in the ctl share, powers off.
# The command's stdout goes to ttyS1 and its stderr to ttyS2; ttyS0 is the kernel console.

# shellcheck shell=dash  # busybox ash: POSIX sh plus local
CTL=/run/dvm-vm
INIT_NAME=dvm-init
# shellcheck source=tests/lib/boot-init.sh
. /lib/boot-init.sh

run_command() {
	local rc
	stty -F /dev/ttyS1 raw -echo && stty -F /dev/ttyS2 raw -echo || fail "ttyS1/ttyS2: stty failed"
	run_in_chroot DVM_TEST_VM=1 > /dev/ttyS1 2> /dev/ttyS2
	rc=$?
	# drain: stty waits until the ports have sent everything
	stty -F /dev/ttyS1 raw; stty -F /dev/ttyS2 raw
	echo "$rc" > "$CTL/rc"
	log "command exited with status $rc"
}

main() {
	# RAM-backed and swap-free (the guest has no swap): sized for sparse pool files
	boot_to_chroot 75% dvm-test
	run_command
	halt
}

main
