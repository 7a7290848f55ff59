#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Entry of the vm tier (make check-vm, make demo): runs tests/vm/suites.sh BUILD (or, with
# --demo, tests/demo.sh BUILD) against real device-mapper: directly when this host has dm and
# we are root, otherwise in one boot of the test VM.
# Usage: tests/vm/run.sh [--demo] BUILD    env: DVM_VM_TIMEOUT (whole VM run, default 4800 s: the vm tier took ~2800 s on an idle host before the rbd crash suites of 2026-12-07, ~3500 s with them),
#        DVM_VM_MEM, DVM_VM_CPUS, DVM_FORCE_VM=1 (use the VM even on a dm host)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)

die() { printf 'vm tier: error: %s\n' "$*" >&2; exit 2; }

# why_vm: prints why the suites cannot run on this host; fails when they can
why_vm() {
	if [ "${DVM_FORCE_VM:-0}" = 1 ]; then echo "DVM_FORCE_VM=1"
	elif [ ! -c /dev/mapper/control ]; then echo "no /dev/mapper/control on this host"
	elif [ "$(id -u)" != 0 ]; then echo "not root"
	else return 1
	fi
}

# The guest mounts its own /tmp, /run, /dev: a build dir there, outside the shared project
# tree, would look empty to the suites.
check_visible() {
	local build=$1
	case $build/ in
	"$TOP"/*) return 0 ;;
	/tmp/* | /run/* | /dev/*)
		die "build directory $build: hidden in the VM, which mounts its own /tmp, /run, /dev;" \
			"build inside $TOP" ;;
	esac
}

main() {
	local what=vm-suites cmd build reason
	if [ "${1:-}" = --demo ]; then
		what=demo
		shift
	fi
	[ $# = 1 ] || die "usage: tests/vm/run.sh [--demo] BUILD"
	[ -d "$1" ] || die "build directory $1: not found (run make first)"
	build=$(cd "$1" && pwd)
	cd "$TOP"
	if [ "$what" = demo ]; then
		cmd=(tests/demo.sh "$build")
	else
		cmd=(tests/vm/suites.sh "$build")
	fi
	if ! reason=$(why_vm); then
		printf 'vm tier: running %s directly on this host (it has /dev/mapper/control, we are root)\n' "$what"
		exec "${cmd[@]}"
	fi
	printf 'vm tier: running %s in a QEMU/TCG VM (%s)\n' "$what" "$reason"
	check_visible "$build"
	"$HERE/mkinitramfs.sh"
	exec "$HERE/run-in-vm.sh" -t "${DVM_VM_TIMEOUT:-4800}" -m "${DVM_VM_MEM:-4G}" \
		-c "${DVM_VM_CPUS:-2}" -s "$TOP" "${cmd[@]}"
}

main "$@"
