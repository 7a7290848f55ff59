#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Boots Xen 4.17 under QEMU/TCG (multiboot `-kernel xen`, -cpu Nehalem) with the vm tier's
# vmlinux as PV dom0 and tests/xen/dom0-init.sh as its /init, runs CMD in dom0 as root in a
# chroot of the host root with the project tree shared read-write at its own path, streams
# CMD's output and exits with its status.
#
# Usage: tests/xen/run-in-xen.sh [-t TIMEOUT] [-s DIR] [-d SIZE] CMD [ARG...]
#   -t TIMEOUT  seconds before QEMU is killed (default 1800)
#   -s DIR      host tree shared read-write (default: the project root)
#   -d SIZE     a scratch disk of SIZE (truncate(1) units) that ignores discards: dom0's /dev/vda
# Exit: CMD's status; 124 timeout; 125 dom0 died without a status (console tail printed).
# Env:  DVM_TEST_CACHE (boot files), DVM_XEN_MEM (QEMU memory, default 2560M), DVM_XEN_DOM0_MEM
#       (default 1024M), QEMU_EXTRA (extra qemu arguments, split on spaces); DVM_* variables pass
#       into dom0. Timings go to stderr as "# xen:" lines.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/qemu-run.sh
source "$HERE/../lib/qemu-run.sh"
CACHE=${DVM_TEST_CACHE:-/var/cache/dvm-vol-test}
OUT=$CACHE/xen
TIMEOUT=1800 SCRATCH_SIZE=
SHARE=$(cd "$HERE/../.." && pwd)
QR_NAME=run-in-xen QR_GUEST=dom0
# A throwaway test machine has no secrets to isolate and no RAM worth scrubbing: no page-table
# isolation of PV guests (XPTI), no L1TF shadowing of them, no scrub of free RAM at boot (under
# TCG it competes with dom0 for the vCPUs); nor Spectre mitigations in dom0's kernel. These Xen
# options took dom0 to its command in 24-28 s instead of 61-66 s (back-to-back boots at host
# load 5-9, dom0 without mitigations in both); the cost of an exec in dom0 stayed the same.
XEN_FAST="xpti=false pv-l1tf=false bootscrub=false"

say() { printf '# xen: %s\n' "$*" >&2; }
die() { printf 'run-in-xen: error: %s\n' "$*" >&2; exit 2; }
usage() { sed -n '8,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

parse_args() {
	while getopts t:s:d:h opt; do
		case $opt in
		t) TIMEOUT=$OPTARG ;;
		d) SCRATCH_SIZE=$OPTARG ;;
		s) SHARE=$(cd "$OPTARG" && pwd) || die "share $OPTARG: no such directory" ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -gt 0 ] || usage
	CMD=("$@")
	[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "timeout '$TIMEOUT': not a number of seconds"
}

check_host() {
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found: run tests/deps.sh"
	if [ ! -s "$OUT/xen" ] || [ ! -s "$OUT/dom0-initrd.img" ] || [ ! -s "$CACHE/vm/vmlinux" ]; then
		die "$OUT: boot files missing: run tests/xen/mkinitramfs.sh"
	fi
	# QEMU splits -initrd on commas: no path may hold one
	case "$CACHE$SHARE" in *,*) die "$CACHE or $SHARE: a path with a comma cannot go to QEMU" ;; esac
}

qemu_args() {
	local mem=${DVM_XEN_DOM0_MEM:-1024M}
	# shellcheck disable=SC2054 # the commas are QEMU's
	QEMU=(qemu-system-x86_64 -machine pc -accel tcg -cpu Nehalem -m "${DVM_XEN_MEM:-2560M}" -smp 2
		-nodefaults -no-user-config -display none -nic none -no-reboot
		-kernel "$OUT/xen"
		-append "dom0_mem=$mem,max:$mem dom0_max_vcpus=2 console=com1 com1=115200,8n1 loglvl=warning guest_loglvl=warning $XEN_FAST"
		-initrd "$CACHE/vm/vmlinux console=hvc0 quiet panic=-1 mitigations=off,$OUT/dom0-initrd.img"
		-chardev "file,id=con,path=$RUN/console.log" -serial chardev:con)
	qr_shares_and_disk "$SCRATCH_SIZE"
}

main() {
	parse_args "$@"
	check_host
	qr_start
	# shellcheck disable=SC2046 # one name a word
	qr_write_cmd DVM_XEN_SHARE $(compgen -e | grep -E '^(DVM_|CRITERION_)' | sort -u)
	qemu_args
	QR_FOLLOW=$RUN/ctl/out.log
	qr_boot
	qr_finish
}

main "$@"
