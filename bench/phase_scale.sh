# SPDX-License-Identifier: GPL-2.0-or-later
# Phase 2: spawn latency as the pool fills up with live disposables of one DVM Template.
# LVM first (as Qubes spawns: the three lvcreate concurrently), until its time box runs
# out; then dvm-vol up to SCALE_MAX live disposables, every spawn timed. At each checkpoint
# (the 10th, 100th, 500th, 1000th live one) rounds of spawn+destroy of one more disposable
# alternate with the same on a reference pool that holds 9, so that the ratio to "the 10th"
# comes from the same minutes of a shared host. Runs last: nothing is torn down after it.
# Sourced by bench/guest.sh.
# shellcheck shell=bash

SCALE_POINTS=(10 100 500 1000)
SCALE_ROUNDS=5
SCALE_MARGIN=40   # seconds kept back for the last checkpoint's rounds

# scale_left: seconds this phase may still use (it runs last: all that is left)
scale_left() { left; }

scale_lvm() {
	local n=0 t0 start=$SECONDS box=$LVM_SCALE_SECS
	[ "$box" -lt "$(($(scale_left) / 6))" ] || box=$(($(scale_left) / 6))
	log "  LVM: Qubes spawns into VG bvg for ${box} s (or $SCALE_MAX disposables)"
	while [ $((SECONDS - start)) -lt "$box" ] && [ "$n" -lt "$SCALE_MAX" ]; do
		n=$((n + 1))
		now; t0=$T
		lvm_spawn_qubesd "sc$n" || die "LVM spawn sc$n failed (see $RAW/cmd.log)"
		sample scale lvm "$n" spawn_ms "$(ms_since "$t0")"
	done
	log "  LVM: $n live disposables ($((3 * n)) thin LVs) after $((SECONDS - start)) s"
}

# scale_cycle METHOD POOL X: spawn one more, destroy it; both timed
scale_cycle() {
	local name ms
	dvmb spawn "$2" d
	read -r name ms <<< "$REPLY"
	sample scale "$1" "$3" spawn_ms "$ms"
	dvmb destroy "$2" "$name"
	sample scale "$1" "$3" destroy_ms "$REPLY"
}

scale_checkpoint() {
	local c=$1 r
	for ((r = 0; r < SCALE_ROUNDS; r++)); do
		scale_cycle ref r "$c"
		scale_cycle at b "$c"
	done
	log "  dvm-vol: checkpoint at the ${c}th live disposable done"
}

scale_dvm() {
	local live=0 c name ms t0=$SECONDS
	# pool r, the reference, has had its 9 live disposables since the setup
	for c in "${SCALE_POINTS[@]}"; do
		[ "$c" -le "$SCALE_MAX" ] || break
		while [ "$live" -lt $((c - 1)) ]; do
			if [ "$(scale_left)" -lt "$SCALE_MARGIN" ]; then
				log "  dvm-vol: time budget spent at $live live disposables; last checkpoint there"
				sample scale budget "" reached "$live"
				scale_checkpoint $((live + 1))
				return 0
			fi
			dvmb spawn b d
			read -r name ms <<< "$REPLY"
			live=$((live + 1))
			sample scale fill "$live" spawn_ms "$ms"
		done
		scale_checkpoint "$c"
	done
	sample scale budget "" reached "$live"
	log "  dvm-vol: $live live disposables (+1 per checkpoint) in $((SECONDS - t0)) s"
}

phase_scale() {
	log "phase 2: scale, up to $SCALE_MAX live disposables (checkpoints ${SCALE_POINTS[*]})"
	scale_lvm
	scale_dvm
}
