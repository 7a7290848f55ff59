#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Boots the vm tier guest (QEMU/TCG, PVH vmlinux from mkinitramfs.sh), runs CMD there as root in
# a chroot of the host root with the project tree shared read-write at the same path, streams
# its stdout/stderr live and exits with its status.
#
# Usage: tests/vm/run-in-vm.sh [-m MEM] [-c CPUS] [-t TIMEOUT] [-s DIR] [-d SIZE] CMD [ARG...]
#   -m MEM      guest memory (default 4G)        -c CPUS   vCPUs (default 2)
#   -t TIMEOUT  seconds before the VM is killed (default 1800)
#   -s DIR      host tree shared read-write (default: the project root)
#   -d SIZE     scratch disk: a fresh sparse image per run, a virtio disk with serial
#               dvm-scratch that ignores discards (default $DVM_VM_SCRATCH or 1G; 0: none)
# Exit: CMD's status; 124 timeout; 125 the guest died without a status (console tail printed).
# Env:  DVM_TEST_CACHE (boot files), QEMU_EXTRA (extra qemu arguments, split on spaces),
#       DVM_VM_ENV (names of extra variables to pass; DVM_*, VALGRIND, CRITERION_*, *SAN_OPTIONS
#       always pass), DVM_VM_APPEND (extra kernel command line, e.g. loglevel=7).
#       Timings go to stderr as "# vm:" lines.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/qemu-run.sh
source "$HERE/../lib/qemu-run.sh"
CACHE=${DVM_TEST_CACHE:-/var/cache/dvm-vol-test}
OUT=$CACHE/vm
MEM=4G CPUS=2 TIMEOUT=1800 SCRATCH=${DVM_VM_SCRATCH:-1G}
SHARE=$(cd "$HERE/../.." && pwd)
QR_NAME=run-in-vm QR_GUEST=guest

say() { printf '# vm: %s\n' "$*" >&2; }
die() { printf 'run-in-vm: error: %s\n' "$*" >&2; exit 2; }
usage() { sed -n '6,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

parse_args() {
	while getopts m:c:t:s:d:h opt; do
		case $opt in
		m) MEM=$OPTARG ;;
		c) CPUS=$OPTARG ;;
		t) TIMEOUT=$OPTARG ;;
		s) SHARE=$(cd "$OPTARG" && pwd) || die "share $OPTARG: no such directory" ;;
		d) SCRATCH=$OPTARG ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -gt 0 ] || usage
	CMD=("$@")
}

check_host() {
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found: run tests/deps.sh"
	[ -s "$OUT/vmlinux" ] && [ -s "$OUT/initrd.img" ] ||
		die "$OUT: no vmlinux/initrd.img: run tests/vm/mkinitramfs.sh"
	[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "timeout '$TIMEOUT': not a number of seconds"
}

forwarded_vars() {
	compgen -e | grep -E '^(DVM_|CRITERION_|(A|UB|L|M|T)SAN_OPTIONS$|VALGRIND$)' || true
	printf '%s\n' ${DVM_VM_ENV:-}
}

qemu_args() {
	# shellcheck disable=SC2054 # the commas are QEMU's
	QEMU=(qemu-system-x86_64 -machine q35 -accel tcg -m "$MEM" -smp "$CPUS"
		-nodefaults -no-user-config -display none -nic none -no-reboot
		-kernel "$OUT/vmlinux" -initrd "$OUT/initrd.img"
		-append "console=ttyS0 quiet panic=-1 ${DVM_VM_APPEND:-}"
		-chardev "file,id=con,path=$RUN/console.log" -serial chardev:con
		-add-fd fd=3,set=1 -chardev file,id=out,path=/dev/fdset/1,append=on -serial chardev:out
		-add-fd fd=4,set=2 -chardev file,id=err,path=/dev/fdset/2,append=on -serial chardev:err)
	# the amnesia proofs need storage that keeps what a discard asked it to drop
	qr_shares_and_disk "$SCRATCH"
}

main() {
	parse_args "$@"
	check_host
	qr_start
	# shellcheck disable=SC2046 # one name a word
	qr_write_cmd DVM_VM_SHARE $(forwarded_vars | sort -u)
	qemu_args
	qr_boot
	qr_finish
}

main "$@"
