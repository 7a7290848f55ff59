#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# dvm-inspect read throughput against direct reads of the same device, in one run: a
# TemplateVM root filled with random data, read sequentially (1) straight from its device
# with O_DIRECT, (2) from its device through the page cache (caches dropped), (3) as
# `image` through the inspector, with 1 MiB and 128 KiB reads and with cat; then, halted,
# its committed layer as a layer file against O_DIRECT reads of the view device that
# serves that file. Each figure is the median of RUNS runs.
# Usage: bench/inspect.sh BUILD [SIZE_MIB [RUNS]]   (root, device-mapper, fuse: in the VM,
#        tests/vm/run-in-vm.sh bench/inspect.sh BUILD)
set -euo pipefail

BUILD=$(cd "${1:?usage: bench/inspect.sh BUILD [SIZE_MIB [RUNS]]}" && pwd)
SIZE=${2:-256}
RUNS=${3:-3}
POOL=ib$$
STATE=/tmp/dvm-bench-inspect-$POOL
MNT=$STATE.mnt
DAEMON=

die() { printf 'bench/inspect: error: %s\n' "$*" >&2; exit 1; }
vol() { "$BUILD/dvm-vol" --state-dir "$STATE" --pool "$POOL" "$@" >/dev/null; }

cleanup() {
	exec 3<&- 2>/dev/null || true
	if [ -n "$DAEMON" ]; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
		wait "$DAEMON" 2>/dev/null || true
	fi
	local d
	for d in $(dmsetup ls 2>/dev/null | awk '{print $1}' | grep "^DVM-${POOL}[-+]" || true); do
		dmsetup remove --retry "$d" >/dev/null 2>&1 || true
	done
	dmsetup remove --retry "DVM-$POOL" >/dev/null 2>&1 || true
	rm -rf "$STATE" "$MNT"
}

# mb_per_s FILE BS [IFLAG]: one sequential read of FILE, in MB/s (10^6 bytes)
mb_per_s() {
	local file=$1 bs=$2 iflag=${3:-} t0 t1 bytes
	sync
	echo 3 > /proc/sys/vm/drop_caches
	t0=$EPOCHREALTIME
	bytes=$(dd if="$file" of=/dev/null bs="$bs" ${iflag:+iflag=$iflag} status=none && stat -L -c %s "$file")
	t1=$EPOCHREALTIME
	[ "$bytes" -gt 0 ] || bytes=$((SIZE << 20))
	echo "$bytes $t0 $t1" | awk '{ printf "%.1f\n", $1 / ($3 - $2) / 1e6 }'
}

cat_mb_per_s() {
	local file=$1 t0 t1
	echo 3 > /proc/sys/vm/drop_caches
	t0=$EPOCHREALTIME
	cat "$file" > /dev/null
	t1=$EPOCHREALTIME
	echo "$((SIZE << 20)) $t0 $t1" | awk '{ printf "%.1f\n", $1 / ($3 - $2) / 1e6 }'
}

# median CMD...: the median of RUNS runs of CMD, which prints one number
median() {
	for _ in $(seq "$RUNS"); do "$@"; done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

report() { printf '%-58s %8s MB/s\n' "$1" "$2"; }

main() {
	[ "$(id -u)" = 0 ] || die "must run as root (in the test VM: tests/vm/run-in-vm.sh bench/inspect.sh BUILD)"
	[ -x "$BUILD/dvm-inspect" ] || die "$BUILD/dvm-inspect: not built (make BUILD=... all)"
	trap cleanup EXIT
	vol pool init --data-size "$((SIZE * 2 + 512))M"
	vol template create tmpl --root-size "${SIZE}M" --private-size 64M
	vol start tmpl
	local dev=/dev/mapper/DVM-$POOL-tmpl-root
	dd if=/dev/urandom of="$dev" bs=1M count="$SIZE" oflag=direct status=none
	mkdir -p "$MNT"
	"$BUILD/dvm-inspect" --state-dir "$STATE" --foreground "$MNT" 2>"$STATE.log" &
	DAEMON=$!
	for _ in $(seq 200); do
		[ "$(stat -f -c %t "$MNT" 2>/dev/null)" = 65735546 ] && break
		sleep 0.05
	done
	local image=$MNT/$POOL/tmpl/root/image
	[ -r "$image" ] || die "the inspector did not mount (log: $(cat "$STATE.log"))"
	cmp -s "$image" "$dev" || die "$image differs from $dev"

	printf 'dvm-inspect read throughput, %d MiB of random data, median of %d runs, %s CPUs\n' \
		"$SIZE" "$RUNS" "$(nproc)"
	printf -- '-- running TemplateVM root: image is read through the volume device %s\n' "$dev"
	report "device, O_DIRECT, 1 MiB reads" "$(median mb_per_s "$dev" 1M direct)"
	report "device, page cache (dropped first), 1 MiB reads" "$(median mb_per_s "$dev" 1M)"
	report "inspector image, 1 MiB reads" "$(median mb_per_s "$image" 1M)"
	report "inspector image, 128 KiB reads" "$(median mb_per_s "$image" 128K)"
	report "inspector image, cat (st_blksize reads)" "$(median cat_mb_per_s "$image")"

	vol stop tmpl
	local layer
	layer=$(ls "$MNT/$POOL/tmpl/root/layers/")
	exec 3< "$MNT/$POOL/tmpl/root/layers/$layer"
	local view
	view=/dev/mapper/$(dmsetup ls | awk '{print $1}' | grep "^DVM-$POOL+view-" | head -n 1)
	printf -- '-- halted: committed layer %s, read through the view device %s\n' "$layer" "$view"
	report "view device, O_DIRECT, 1 MiB reads" "$(median mb_per_s "$view" 1M direct)"
	report "inspector layers/$layer, 1 MiB reads" "$(median mb_per_s "$MNT/$POOL/tmpl/root/layers/$layer" 1M)"
	report "inspector layers/$layer, 128 KiB reads" "$(median mb_per_s "$MNT/$POOL/tmpl/root/layers/$layer" 128K)"
	exec 3<&-
}

main "$@"
