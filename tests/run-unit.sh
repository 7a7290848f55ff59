#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the unit tier: each Criterion binary given, plainly, under ASan/UBSan when it was built
# with them (make check-san), or under valgrind memcheck with VALGRIND=1 (make check-valgrind).
# Prints "unit-tier: N passed, M failed" (N, M count binaries); non-zero exit on any failure.
# Usage: [VALGRIND=1] tests/run-unit.sh BINARY...
#
# Criterion runs every test in a worker process (it re-executes the binary) and judges a test by
# the messages the worker sends, not by how the worker exits. So a leak that valgrind or
# LeakSanitizer reports when a worker exits, after its test passed, does not fail the test, and
# valgrind's --error-exitcode never reaches us. Hence: valgrind runs with --trace-children=yes
# (to get into the workers) and writes one log per process; the sanitizers write one log per
# process through log_path; any valgrind log with errors, or any sanitizer log, fails the binary.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VALGRIND=${VALGRIND:-0}
PASSED=0 FAILED=0 FAILED_NAMES=()
LOGS=

die() { printf 'unit tier: error: %s\n' "$*" >&2; exit 2; }

valgrind_cmd() {
	local log=$1
	# the tools the tests run as witnesses (thin_dump & co, sqlite3, sh) are not ours to check
	VG=(valgrind --trace-children=yes --trace-children-skip='*/thin_*,*/pdata_tools,*/sqlite3,*/sh,*/dash,*/bash'
		--leak-check=full --error-exitcode=99
		--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
		--vgdb=no --log-file="$log/vg.%p")
	[ -f "$HERE/valgrind.supp" ] && VG+=(--suppressions="$HERE/valgrind.supp")
	return 0
}

# check_logs DIR: prints the memory-error logs the binary's processes left; fails if any
check_logs() {
	local dir=$1 f bad=0
	for f in "$dir"/vg.*; do
		[ -e "$f" ] || continue
		grep -q 'ERROR SUMMARY: [1-9]' "$f" || continue
		bad=1
		printf -- '--- valgrind: %s\n' "$f"
		cat "$f"
	done
	for f in "$dir"/san.*; do
		[ -s "$f" ] || continue
		bad=1
		printf -- '--- sanitizer: %s\n' "$f"
		cat "$f"
	done
	[ "$bad" = 0 ]
}

# run_one BIN: one Criterion binary; counts it as passed or failed
run_one() {
	local bin=$1 name rc=0 dir t0=$SECONDS
	name=$(basename "$bin")
	dir=$LOGS/$name
	mkdir -p "$dir"
	printf '=== %s\n' "$name"
	if [ ! -x "$bin" ]; then
		printf 'error: %s: not an executable file (not built?)\n' "$bin"
		rc=127
	elif [ "$VALGRIND" = 1 ]; then
		valgrind_cmd "$dir"
		"${VG[@]}" "$bin" --short-filename || rc=$?
	else
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$dir/san" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$dir/san" \
			"$bin" --short-filename || rc=$?
	fi
	if ! check_logs "$dir" && [ "$rc" = 0 ]; then
		printf 'error: %s: memory errors or leaks reported (logs above)\n' "$name"
		rc=99
	fi
	if [ "$rc" = 0 ]; then
		PASSED=$((PASSED + 1))
		printf '=== PASS %s (%d s)\n' "$name" $((SECONDS - t0))
	else
		FAILED=$((FAILED + 1))
		FAILED_NAMES+=("$name")
		printf '=== FAIL %s (status %d, %d s)\n' "$name" "$rc" $((SECONDS - t0))
	fi
}

main() {
	local bin
	[ $# -gt 0 ] || die "no test binaries given (are there tests/unit/*/test_*.c?)"
	if [ "$VALGRIND" = 1 ]; then
		command -v valgrind >/dev/null || die "VALGRIND=1 but valgrind is not installed: run tests/deps.sh"
	fi
	[ "$VALGRIND" = 1 ] && printf 'unit tier: under valgrind memcheck, workers traced\n'
	LOGS=$(mktemp -d "${TMPDIR:-/tmp}/dvm-unit.XXXXXX")
	trap 'rm -rf "$LOGS"' EXIT
	for bin in "$@"; do
		run_one "$bin"
	done
	[ "$FAILED" = 0 ] || printf 'failed: %s\n' "${FAILED_NAMES[*]}"
	printf 'unit-tier: %d passed, %d failed\n' "$PASSED" "$FAILED"
	[ "$FAILED" = 0 ]
}

main "$@"
