# SPDX-License-Identifier: GPL-2.0-or-later
# Phase 5: the inspector's read throughput against direct reads of the same device, measured
# by bench/inspect.sh (it comes with tools/dvm-inspect and builds its own pool) when it is
# there. Each of its "LABEL   N MB/s" lines becomes a sample, in order; the report divides
# every line by the O_DIRECT line above it. Sourced by bench/guest.sh.
# shellcheck shell=bash

INSPECT_MIB=${DVM_BENCH_INSPECT_MIB:-32}
INSPECT_RUNS=3

phase_inspect() {
	local rc=0 line n=0 re='^(.*[^ ]) +([0-9.]+) MB/s$'
	if [ ! -x "$BENCH_DIR/inspect.sh" ]; then
		log "phase 5: inspector skipped: no bench/inspect.sh"
		return 0
	fi
	if [ "$(left)" -lt 30 ]; then
		log "phase 5: inspector skipped: the time budget is spent"
		return 0
	fi
	log "phase 5: inspector read throughput (bench/inspect.sh, $INSPECT_MIB MiB, median of $INSPECT_RUNS)"
	"$BENCH_DIR/inspect.sh" "$BUILD" "$INSPECT_MIB" "$INSPECT_RUNS" > "$RAW/inspect.txt" 2>> "$RAW/cmd.log" || rc=$?
	if [ "$rc" != 0 ]; then
		log "  warning: bench/inspect.sh failed (status $rc); see $RAW/cmd.log"
		return 0
	fi
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		n=$((n + 1))
		sample inspect "${BASH_REMATCH[1]//,/;}" "$n" mbps "${BASH_REMATCH[2]}"
	done < "$RAW/inspect.txt"
}
