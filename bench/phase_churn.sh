# SPDX-License-Identifier: GPL-2.0-or-later
# Phase 3b: disposables through their whole life at one spawn a second, the teardown and the
# refill left to the worker as in production (issue 15's background throughput). While the
# phase lasts (CHURN_SECS), each second: a spawn from DVM Template dp (preload CHURN_READY:
# a ready one when the worker has refilled one, else one built), 1 MiB written into its
# root, and the destroy of the one before with its wipe left to the worker
# (DVM_DESTROY_LATER), which every destroy and spawn start (`dvm-vol worker --try`, the
# built binary). A cycle that overruns its second delays the next: the rate shows it. Then
# the worker's drain of what is still queued is timed. Sustained rate: disposables spawned
# and wiped x 60 / (loop + drain seconds). Sourced by bench/guest.sh.
# shellcheck shell=bash

CHURN_SECS=${DVM_BENCH_CHURN_SECS:-60}
CHURN_READY=2

phase_churn() {
	local n=0 late=0 prev="" name ms t0 tick wait_us loop_ms drain_ms
	log "phase 3b: one spawn a second from dp (preload $CHURN_READY) for $CHURN_SECS s, destroys left to the worker"
	dvmb preload b dp "$CHURN_READY"
	dvmb work b -
	dvmb kick b "$BUILD/dvm-vol"
	now; t0=$T
	while [ $(((T - t0) / 1000000)) -lt "$CHURN_SECS" ]; do
		tick=$((t0 + n * 1000000))
		wait_us=$((tick - T))
		if [ "$wait_us" -gt 0 ]; then
			sleep "$((wait_us / 1000000)).$(printf '%06d' $((wait_us % 1000000)))"
		elif [ "$n" -gt 0 ]; then
			late=$((late + 1))
		fi
		dvmb spawn b dp
		read -r name ms <<< "$REPLY"
		sample churn lib "" spawn_ms "$ms"
		fill "/dev/mapper/DVM-b-$name-root" 1
		if [ -n "$prev" ]; then
			dvmb destroy-later b "$prev"
			sample churn lib "" destroy_ms "$REPLY"
		fi
		prev=$name
		n=$((n + 1))
		now
	done
	dvmb destroy-later b "$prev"
	loop_ms=$(ms_since "$t0")
	now; t0=$T
	dvmb work b -
	drain_ms=$(ms_since "$t0")
	dvmb kick b -
	dvmb preload b dp 0
	dvmb work b -
	sample churn lib "" spawned "$n"
	sample churn lib "" late "$late"
	sample churn lib "" loop_ms "$loop_ms"
	sample churn lib "" drain_ms "$drain_ms"
	sample churn lib "" per_min "$(awk -v n="$n" -v l="$loop_ms" -v d="$drain_ms" 'BEGIN { printf "%.1f", n * 60000 / (l + d) }')"
	log "  $n disposables in ${loop_ms} ms ($late cycles late), queue drained in ${drain_ms} ms"
}
