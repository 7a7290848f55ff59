#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs each libFuzzer target of BUILD (make fuzz-build: BUILD/tests/fuzz/fuzz_*) for SECONDS,
# from the seeds BUILD/tests/fuzz/seeds writes and a work corpus kept in BUILD/fuzz-corpus/
# (grows from run to run; not in git). Crashes, leaks, timeouts and failed checks leave
# their input in BUILD/fuzz-artifacts/<target>/ and fail the run. Prints one line of
# figures per target (the final stats of libFuzzer) and "fuzz: N passed, M failed".
# Usage: tests/fuzz/run.sh BUILD SECONDS [TARGET...]
#   FUZZ_PARALLEL=1   run the targets at once instead of one after the other
set -euo pipefail

die() { printf 'fuzz: error: %s\n' "$*" >&2; exit 2; }

[ $# -ge 2 ] || die "usage: $0 BUILD SECONDS [TARGET...]"
B=$1 SECONDS_EACH=$2
shift 2
[[ $SECONDS_EACH =~ ^[1-9][0-9]*$ ]] || die "SECONDS must be a positive number, not '$SECONDS_EACH'"
BIN=$B/tests/fuzz
[ -x "$BIN/seeds" ] || die "$BIN/seeds not found: run make fuzz-build first"
if [ $# -gt 0 ]; then
	TARGETS=("$@")
else
	TARGETS=()
	for f in "$BIN"/fuzz_*; do
		[ -x "$f" ] && [ "${f%.o}" = "$f" ] && [ "${f%.d}" = "$f" ] && TARGETS+=("$(basename "$f")")
	done
fi
[ ${#TARGETS[@]} -gt 0 ] || die "no fuzz targets in $BIN"

rm -rf "$B/fuzz-seeds"
"$BIN/seeds" "$B/fuzz-seeds" || die "writing the seeds failed"

# the largest input each target may grow to: a few records over a handful of blocks for the
# file targets, a line of xenstore for the parameters
max_len() {
	case $1 in
	fuzz_xen_params) echo 512 ;;
	fuzz_cow) echo 16384 ;;
	*) echo 65536 ;;
	esac
}

run_one() {
	local t=$1 corpus=$B/fuzz-corpus/$1 art=$B/fuzz-artifacts/$1/ log=$B/fuzz-logs/$1.log
	mkdir -p "$corpus" "$art" "$(dirname "$log")"
	"$BIN/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$art" \
		"$corpus" "$B/fuzz-seeds/$t" >"$log" 2>&1
}

# "fuzz_cow: 123456 runs, cov 456, ft 789, corpus 67, 0 crashes (log ...)"
summary() {
	local t=$1 rc=$2 log=$B/fuzz-logs/$1.log runs cov ft corp crashes
	runs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	crashes=$(find "$B/fuzz-artifacts/$t" -type f -newer "$B/fuzz-seeds" | wc -l)
	printf '%s: %s runs, cov %s, ft %s, corpus %s, %s crashes, exit %s (log %s)\n' "$t" \
		"${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" "$rc" "$log"
	if [ "$rc" != 0 ] || [ "$crashes" != 0 ]; then
		grep -m 5 -E 'ERROR|SUMMARY|fuzz_[a-z_]+: .*:[0-9]+:|Test unit written' "$log" >&2 || true
		return 1
	fi
}

PASSED=0 FAILED=0
declare -A RC
if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
	declare -A PIDS
	for t in "${TARGETS[@]}"; do run_one "$t" & PIDS[$t]=$!; done
	for t in "${TARGETS[@]}"; do
		RC[$t]=0
		wait "${PIDS[$t]}" || RC[$t]=$?
	done
else
	for t in "${TARGETS[@]}"; do
		RC[$t]=0
		run_one "$t" || RC[$t]=$?
	done
fi
for t in "${TARGETS[@]}"; do
	if summary "$t" "${RC[$t]}"; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); fi
done
printf 'fuzz: %d passed, %d failed (%s s each)\n' "$PASSED" "$FAILED" "$SECONDS_EACH"
[ "$FAILED" = 0 ]
