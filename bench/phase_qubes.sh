# SPDX-License-Identifier: GPL-2.0-or-later
# Phase 6: the Qubes pool driver (bench/qubes_driver.py, Debian's python3, its own pool in a
# state directory of its own) against the library's spawn/destroy, rounds interleaved; its
# "figure:" lines go to the log, its samples to qubes.txt. Sourced by bench/guest.sh.
# shellcheck shell=bash

QUBES_ROUNDS=${DVM_BENCH_QUBES_ROUNDS:-8}

phase_qubes() {
	local rc=0 state
	if [ ! -x /usr/bin/python3 ]; then
		log "phase 6: qubes driver skipped: no /usr/bin/python3"
		return 0
	fi
	if [ "$(left)" -lt 30 ]; then
		log "phase 6: qubes driver skipped: the time budget is spent"
		return 0
	fi
	state=$(mktemp -d /tmp/dvm-bench-qubes.XXXXXX)
	log "phase 6: qubes driver: 3 Volume.start()/stop() against spawn/destroy, $QUBES_ROUNDS rounds"
	/usr/bin/python3 "$BENCH_DIR/qubes_driver.py" "$BUILD" "$state" "$QUBES_ROUNDS" > "$RAW/qubes.txt" 2>> "$RAW/cmd.log" || rc=$?
	[ "$rc" = 0 ] || log "  warning: bench/qubes_driver.py failed (status $rc); see $RAW/cmd.log"
	grep -E '^(figure|SKIP):' "$RAW/qubes.txt" | while IFS= read -r l; do log "  $l"; done
}
