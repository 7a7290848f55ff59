#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Teardown cost of the zero-discard wipe: a disposable whose 4 GiB root has had 1 MiB, then
# 512 MiB written is destroyed; prints the bytes wiped, the wipe's own time (from the
# library's log) and the whole `dvm-vol destroy`, per backend. The pool lives on a disk that
# ignores discards (the vm harness's scratch disk), so the wipe does all the work it must.
# Usage: bench/teardown.sh BUILD     (boots the test VM when this host has no device-mapper)
# Env:   DVM_BENCH_DISK: a disk to use (its contents are destroyed); default: the scratch disk
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
MNT=/tmp/dvm-bench-teardown

die() { printf 'bench/teardown: error: %s\n' "$*" >&2; exit 2; }

scratch_disk() {
	local s
	if [ -n "${DVM_BENCH_DISK:-}" ]; then echo "$DVM_BENCH_DISK"; return; fi
	for s in /sys/block/*/serial; do
		[ "$(cat "$s" 2>/dev/null)" = dvm-scratch ] && { echo "/dev/$(basename "$(dirname "$s")")"; return; }
	done
	die "no scratch disk (serial dvm-scratch): run in the test VM, or set DVM_BENCH_DISK"
}

# now: seconds since the epoch, with microseconds
now() { echo "$EPOCHREALTIME"; }
elapsed() { echo "$(now) - $1" | bc; }

# one_run BACKEND WRITE_MIB: spawn, write, destroy; prints one result line
one_run() {
	local backend=$1 mib=$2 d t0 destroy log wiped wipe_s
	d=$("${V[@]}" spawn dvm | head -n1)
	# random data, so that neither zram nor a file system can make it cheaper
	head -c "$((mib << 20))" /dev/urandom | dd of="/dev/mapper/DVM-bench-$d-root" bs=1M oflag=direct \
		iflag=fullblock status=none conv=fsync
	t0=$(now)
	log=$("${V[@]}" -v destroy "$d" 2>&1)
	destroy=$(elapsed "$t0")
	# "<vm>/root: wiped <size> in <n> range(s) through <device>, <seconds> s"
	wiped=$(sed -n "s|.* $d/root: wiped \([^ ]*\) in .*|\1|p" <<< "$log")
	wipe_s=$(sed -n "s|.* $d/root: wiped .*, \([0-9.]*\) s$|\1|p" <<< "$log")
	printf '%-6s %-10s %-8s %9s %10.3f\n' "$backend" "${mib} MiB" "$wiped" "$wipe_s" "$destroy"
}

bench_backend() {
	local backend=$1 disk=$2 st=$MNT/state
	mkfs.ext4 -F -q -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 "$disk"
	mkdir -p "$MNT"
	mount -o nodiscard "$disk" "$MNT"
	local init=(pool init --backend "$backend")
	[ "$backend" = thin ] && init+=(--data-size 6G)
	V=("$BUILD/dvm-vol" --state-dir "$st" --pool bench)
	if ! "${V[@]}" "${init[@]}" >/dev/null 2>&1; then
		printf '%-6s (backend not available)\n' "$backend"
		umount "$MNT"
		return 0
	fi
	"${V[@]}" template create tmpl --root-size 4G --private-size 64M >/dev/null
	"${V[@]}" dvm create dvm --template tmpl >/dev/null
	one_run "$backend" 1
	one_run "$backend" 512
	for d in $(dmsetup ls | awk '{print $1}' | grep '^DVM-bench' | sort -r); do dmsetup remove "$d"; done
	umount "$MNT"
}

main() {
	[ $# = 1 ] || die "usage: bench/teardown.sh BUILD"
	BUILD=$(cd "$1" && pwd) || die "build directory $1: not found"
	if [ ! -c /dev/mapper/control ] || [ "$(id -u)" != 0 ]; then
		"$TOP/tests/vm/mkinitramfs.sh" >/dev/null
		exec "$TOP/tests/vm/run-in-vm.sh" -t 2400 -d 8G "$HERE/teardown.sh" "$BUILD"
	fi
	local disk
	disk=$(scratch_disk)
	printf 'teardown of a disposable with a 4 GiB root (pool on %s, a disk that ignores discards)\n' "$disk"
	printf '%-6s %-10s %-8s %9s %10s\n' backend written wiped 'wipe (s)' 'destroy (s)'
	bench_backend thin "$disk"
	bench_backend snap "$disk"
}

main "$@"
