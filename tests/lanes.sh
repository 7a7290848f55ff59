#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The VM tiers of make check: the vm tier and the xen tier. When the vm tier runs in a VM (this
# host has no device-mapper), in two lanes at once, each its own VM and kernel:
#   lane vm:       the vm tier without the rbd suites
#   lane rbd+xen:  the vm tier's rbd suites (one Ceph cluster), then the xen tier
# A TCG guest keeps about one host core busy, so on the 2-core CI host the two lanes take ~60%
# of one after the other (they are of about one length). On a host with dm, the vm tier runs on
# the host's own kernel, where two lanes would see each other's devices: one after the other.
# Each lane's output goes to BUILD/lane-*.log and is printed whole when the lane ends; every
# 5 minutes the suites that ended meanwhile are listed.
# Usage: tests/lanes.sh BUILD    env: DVM_LANES=1 (one after the other), and what
#        tests/vm/run.sh and tests/xen/run.sh read
# Exit: 0 when both tiers passed, else the status of the first lane that failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BEAT=${DVM_LANES_BEAT:-300}
LANE_PIDS=()

die() { printf 'lanes: error: %s\n' "$*" >&2; exit 2; }

# in_vm: whether the vm tier would boot a VM here (tests/vm/run.sh decides the same way)
in_vm() {
	[ "${DVM_FORCE_VM:-0}" = 1 ] || [ ! -c /dev/mapper/control ] || [ "$(id -u)" != 0 ]
}

lane_vm() { DVM_SUITES_SKIP="test_rbd* ${DVM_SUITES_SKIP:-}" "$HERE/vm/run.sh" "$1"; }

# vm_then_xen BUILD: the vm tier, then the xen tier (whatever the first gave); the first failure's status
vm_then_xen() {
	local rc=0 xrc=0
	"$HERE/vm/run.sh" "$1" || rc=$?
	"$HERE/xen/run.sh" "$1" || xrc=$?
	[ "$rc" != 0 ] || rc=$xrc
	return "$rc"
}

lane_rbd_xen() { DVM_SUITES="test_rbd*" vm_then_xen "$1"; }

# beat LOG...: the suites that ended since the last beat, one line each
declare -A SEEN=()
beat() {
	local log n lines
	for log in "$@"; do
		n=$(wc -l <"$log")
		lines=$(sed -n "$((${SEEN[$log]:-0} + 1)),${n}p" "$log" | grep -E '^=== (PASS|FAIL) |^xen-tier: |^vm-tier: ' || true)
		SEEN[$log]=$n
		[ -z "$lines" ] || printf '%s\n' "$lines" | sed "s|^|lanes: $(basename "$log" .log): |"
	done
}

interrupted() {
	local pid
	for pid in "${LANE_PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
	wait
	printf 'lanes: interrupted\n' >&2
	exit 130
}

main() {
	local build t0=$SECONDS rc=0 lrc pid name sleeper
	[ $# = 1 ] || die "usage: tests/lanes.sh BUILD"
	[ -d "$1" ] || die "build directory $1: not found (run make first)"
	build=$(cd "$1" && pwd)
	if [ "${DVM_LANES:-2}" = 1 ] || ! in_vm; then
		vm_then_xen "$build"
		return
	fi
	# the boot files once, before the lanes (each run.sh finds them up to date then)
	"$HERE/vm/mkinitramfs.sh"
	"$HERE/xen/mkinitramfs.sh"
	trap interrupted INT TERM
	# each lane a process group of its own, which interrupted() stops whole
	set -m
	declare -A names=() logs=()
	for name in vm rbd+xen; do
		logs[$name]=$build/lane-${name/+/-}.log
		case $name in
		vm) lane_vm "$build" >"${logs[$name]}" 2>&1 & ;;
		*) lane_rbd_xen "$build" >"${logs[$name]}" 2>&1 & ;;
		esac
		names[$!]=$name
		LANE_PIDS+=("$!")
		printf 'lanes: lane %s started (output in %s)\n' "$name" "${logs[$name]}"
	done
	while [ ${#names[@]} -gt 0 ]; do
		sleep "$BEAT" &
		sleeper=$!
		lrc=0
		pid=
		wait -n -p pid "${!names[@]}" "$sleeper" || lrc=$?
		if [ "$pid" = "$sleeper" ]; then
			beat "${logs[@]}"
			continue
		fi
		kill "$sleeper" 2>/dev/null || true
		wait "$sleeper" 2>/dev/null || true
		name=${names[$pid]}
		unset "names[$pid]"
		printf '=== lane %s: ended with status %d after %d s; its output:\n' "$name" "$lrc" $((SECONDS - t0))
		cat "${logs[$name]}"
		SEEN[${logs[$name]}]=$(wc -l <"${logs[$name]}")
		printf '=== lane %s: end of its output\n' "$name"
		[ "$lrc" = 0 ] || [ "$rc" != 0 ] || rc=$lrc
	done
	printf 'lanes: both lanes ended in %d s (status %d)\n' $((SECONDS - t0)) "$rc"
	return "$rc"
}

main "$@"
