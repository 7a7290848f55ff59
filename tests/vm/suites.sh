#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every vm tier suite against real device-mapper, inside the test VM or directly on a host
# with dm (root): the Criterion binaries BUILD/tests/vm/test_*, then the executable shell suites
# tests/vm/*.suite.sh. Prints "vm-tier: N passed, M failed" (one word before the colon, as CI reads it); non-zero exit if anything failed.
# Usage: tests/vm/suites.sh BUILD       env: DVM_SUITE_TIMEOUT (seconds per suite, default 900),
#        DVM_SUITE_JOBS (tests at once in the suites that allow it, default 2),
#        DVM_SUITES (only the suites named, space-separated shell patterns, e.g.
#        "test_busy udev*"; default all)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
SUITE_TIMEOUT=${DVM_SUITE_TIMEOUT:-900}
PASSED=0 FAILED=0 FAILED_NAMES=() SUITE_PID= CEPH_DIR=

die() { printf 'vm tier: error: %s\n' "$*" >&2; exit 2; }

# Without these every suite would fail for the wrong reason, or skip: stop here instead.
check_kernel() {
	[ "$(id -u)" = 0 ] || die "must run as root (the suites change kernel state)"
	[ -c /dev/mapper/control ] || die "/dev/mapper/control: missing (no device-mapper in this kernel)"
	command -v dmsetup >/dev/null || die "dmsetup not found: run tests/deps.sh"
	if ! dmsetup targets | grep -q '^thin-pool '; then
		modprobe dm-thin-pool 2>/dev/null || true
		dmsetup targets | grep -q '^thin-pool ' ||
			die "thin-pool target: not available (modprobe dm-thin-pool failed)"
	fi
}

# Shows what a suite left behind, which would otherwise leak into the next one.
report_leftovers() {
	local name=$1 left
	left=$(dmsetup info -c --noheadings -o name,uuid 2>/dev/null | grep ':DVM-' || true)
	[ -z "$left" ] || printf 'warning: %s left dm devices behind:\n%s\n' "$name" "$left"
}

# timeout(1) puts the suite in its own process group, where the terminal's ^C does not reach
interrupted() {
	[ -n "$SUITE_PID" ] && kill -TERM "$SUITE_PID" 2>/dev/null && wait "$SUITE_PID"
	[ -n "$CEPH_DIR" ] && "$TOP/tests/lib/ceph-cluster.sh" stop "$CEPH_DIR"
	printf 'vm tier: interrupted\n' >&2
	exit 130
}

# run_suite NAME CMD...: one suite under a timeout; counts and names its failure
run_suite() {
	local name=$1 t0=$SECONDS rc=0
	shift
	printf '=== %s\n' "$name"
	timeout -k 10 "$SUITE_TIMEOUT" "$@" &
	SUITE_PID=$!
	wait "$SUITE_PID" || rc=$?
	SUITE_PID=
	if [ "$rc" = 0 ]; then
		PASSED=$((PASSED + 1))
		printf '=== PASS %s (%d s)\n' "$name" $((SECONDS - t0))
	else
		FAILED=$((FAILED + 1))
		FAILED_NAMES+=("$name")
		[ "$rc" = 124 ] && printf 'error: %s: killed after the %s s suite timeout\n' "$name" "$SUITE_TIMEOUT"
		printf '=== FAIL %s (status %d, %d s)\n' "$name" "$rc" $((SECONDS - t0))
	fi
	report_leftovers "$name"
}

# Suites whose tests share no kernel state (a pool each, every check scoped to it, no
# system-wide setting, no scratch disk, no timing bound that a neighbour could break): their
# tests run two at a time. Every other suite runs one test at a time.
PARALLEL_SUITES=" test_cli_verbs test_inspect test_lifecycle "

# selected NAME: whether DVM_SUITES lets suite NAME run
selected() {
	local p
	[ -n "${DVM_SUITES:-}" ] || return 0
	for p in $DVM_SUITES; do
		# shellcheck disable=SC2053 # the pattern is meant to match
		[[ $1 == $p || ${1%.suite.sh} == $p ]] && return 0
	done
	return 1
}

# suite_jobs NAME: how many of suite NAME's tests may run at once
suite_jobs() {
	case $PARALLEL_SUITES in
	*" $1 "*) echo "${DVM_SUITE_JOBS:-2}" ;;
	*) echo 1 ;;
	esac
}

# Criterion binaries; --verbose puts each test's duration in the log
run_criterion() {
	local build=$1 bin name n=0
	for bin in "$build"/tests/vm/test_*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		n=$((n + 1))
		name=$(basename "$bin")
		case $name in test_rbd*) continue ;; esac
		selected "$name" || continue
		run_suite "$name" "$bin" -j"$(suite_jobs "$name")" --short-filename --verbose
	done
	[ "$n" -gt 0 ] || die "no test binaries in $build/tests/vm: build them with 'make tests'"
}

# fail_suites REASON NAME...: count suites that could not run
fail_suites() {
	local reason=$1 name
	shift
	for name in "$@"; do
		printf '=== %s\nerror: %s\n=== FAIL %s\n' "$name" "$reason" "$name"
		FAILED=$((FAILED + 1))
		FAILED_NAMES+=("$name")
	done
}

# The rbd suites, one at a time, in one cluster; its start time and memory go to the log.
run_rbd_suites() {
	local build=$1 bin names=() bins=() i
	for bin in "$build"/tests/vm/test_rbd*; do
		[ -f "$bin" ] && [ -x "$bin" ] && selected "$(basename "$bin")" || continue
		names+=("$(basename "$bin")")
		bins+=("$bin")
	done
	[ ${#bins[@]} -gt 0 ] || return 0
	if ! modprobe rbd; then
		fail_suites "modprobe rbd failed: the kernel's rbd driver is needed" "${names[@]}"
		return 0
	fi
	CEPH_DIR=$(mktemp -d /tmp/dvm-ceph.XXXXXX)
	if ! "$TOP/tests/lib/ceph-cluster.sh" start "$CEPH_DIR"; then
		tail -n 20 "$CEPH_DIR"/log/*.log 2>/dev/null || true
		"$TOP/tests/lib/ceph-cluster.sh" stop "$CEPH_DIR"
		CEPH_DIR=
		fail_suites "the Ceph cluster did not start" "${names[@]}"
		return 0
	fi
	for i in "${!bins[@]}"; do
		DVM_CEPH_CONF=$CEPH_DIR/ceph.conf run_suite "${names[$i]}" "${bins[$i]}" -j1 --short-filename --verbose
	done
	printf 'ceph-cluster: RSS of mon + osd after the rbd suites: %s KiB\n' \
		"$("$TOP/tests/lib/ceph-cluster.sh" mem "$CEPH_DIR")"
	"$TOP/tests/lib/ceph-cluster.sh" stop "$CEPH_DIR"
	rm -rf "$CEPH_DIR"
	CEPH_DIR=
}

run_shell_suites() {
	local build=$1 s
	for s in "$HERE"/*.suite.sh; do
		[ -f "$s" ] && [ -x "$s" ] || continue
		selected "$(basename "$s")" || continue
		run_suite "$(basename "$s")" "$s" "$build"
	done
}

main() {
	local build
	[ $# = 1 ] || die "usage: tests/vm/suites.sh BUILD"
	[ -d "$1" ] || die "build directory $1: not found"
	build=$(cd "$1" && pwd)
	cd "$TOP"
	trap interrupted INT TERM
	check_kernel
	run_criterion "$build"
	run_shell_suites "$build"
	run_rbd_suites "$build"
	[ $((PASSED + FAILED)) -gt 0 ] || die "DVM_SUITES \"$DVM_SUITES\" names no suite"
	[ "$FAILED" = 0 ] || printf 'failed: %s\n' "${FAILED_NAMES[*]}"
	printf 'vm-tier: %d passed, %d failed\n' "$PASSED" "$FAILED"
	[ "$FAILED" = 0 ]
}

main "$@"
