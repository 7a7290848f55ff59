#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Entry of the xen tier (make check-xen): builds the boot files, boots Xen 4.17 in QEMU/TCG and
# runs tests/xen/suite.sh BUILD in its dom0. Needs what the vm tier needs (root for the boot
# file cache, QEMU) plus Debian's Xen hypervisor and tools (tests/deps.sh installs them).
# Usage: tests/xen/run.sh BUILD      env: DVM_XEN_TIMEOUT (whole run, default 1800 s:
#        22 min at host load 12, 8 min at load 5-9)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)

die() { printf 'xen tier: error: %s\n' "$*" >&2; exit 2; }

main() {
	local build
	[ $# = 1 ] || die "usage: tests/xen/run.sh BUILD"
	if [ ! -x "$1/block-dvm" ] || [ ! -x "$1/dvm-vol" ]; then
		die "build directory $1: no block-dvm or dvm-vol (run make)"
	fi
	build=$(cd "$1" && pwd)
	case $build/ in
	"$TOP"/*) ;;
	*) die "build directory $build: dom0 sees only the project tree and the host root; build inside $TOP" ;;
	esac
	[ -x /usr/lib/xen-4.17/bin/xl ] || die "no xl in /usr/lib/xen-4.17/bin: run tests/deps.sh (xen-utils-4.17)"
	cd "$TOP"
	"$HERE/mkinitramfs.sh"
	printf 'xen tier: booting Xen 4.17 in QEMU/TCG; the suite runs in its dom0\n'
	# the pool's data disk (dom0's /dev/vda) ignores discards: only the wipe clears it
	exec "$HERE/run-in-xen.sh" -t "${DVM_XEN_TIMEOUT:-1800}" -s "$TOP" -d 64M tests/xen/suite.sh "$build" /dev/vda
}

main "$@"
