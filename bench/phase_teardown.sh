# SPDX-License-Identifier: GPL-2.0-or-later
# Phase 3: teardown against bytes written. A disposable with 4 GiB root and private (and the
# 8 GiB volatile that follows) writes 0, 1 MiB, 64 MiB or 512 MiB into its root, then goes:
# dvm-vol's destroy (zero-discard wipe of what it owns, then removal) against Qubes' stop
# through LVM (blkdiscard of each whole volume, lvremove, the three volumes concurrently);
# and, through dmsetup, a 4 GiB thin snapshot with the same bytes written discarded whole
# (blkdiscard), then removed and deleted: the cost of discarding the whole volume. Every size
# once, then more repeats of the small sizes (those of the destroy target) while the phase's
# time lasts. Sourced by bench/guest.sh.
# shellcheck shell=bash

# bench/guest.sh sets up the templates: t4/d4 in pool b, 4 GiB thin 3 in bpool, LVs
# vm-t4-root and vm-d4-private in bvg
TEARDOWN_MIB=(0 1 64 512)
TD_SIZE=4G
TD_SECTORS=$(($(numfmt --from=iec "$TD_SIZE") / 512))

teardown_lib() {
	local mib=$1 name
	dvmb spawn b d4
	read -r name _ <<< "$REPLY"
	[ "$mib" = 0 ] || fill "/dev/mapper/DVM-b-$name-root" "$mib"
	dvmb destroy b "$name"
	sample teardown lib "$mib" destroy_ms "$REPLY"
}

# the same, the wipe left to the worker: destroy as the caller waits for it, then the
# worker's drain (the worker the destroy started, or this one) until the wipe is done
teardown_later() {
	local mib=$1 name
	dvmb spawn b d4
	read -r name _ <<< "$REPLY"
	[ "$mib" = 0 ] || fill "/dev/mapper/DVM-b-$name-root" "$mib"
	dvmb destroy-later b "$name"
	sample teardown later "$mib" destroy_ms "$REPLY"
	dvmb work b -
	read -r _ REPLY <<< "$REPLY"
	sample teardown later "$mib" worker_ms "$REPLY"
}

TD_NEXT=30000
teardown_dms() {
	local mib=$1 id=$TD_NEXT t0
	TD_NEXT=$((TD_NEXT + 1))
	run_logged dmsetup message bpool 0 "create_snap $id 3"
	run_logged dmsetup create "td$id" --table "0 $TD_SECTORS thin $DMS_POOL_DEV $id"
	[ "$mib" = 0 ] || fill "/dev/mapper/td$id" "$mib"
	now; t0=$T
	run_logged blkdiscard -p 1G "/dev/mapper/td$id"
	sample teardown discard-root "$mib" destroy_ms "$(ms_since "$t0")"
	run_logged dmsetup remove "td$id"
	run_logged dmsetup message bpool 0 "delete $id"
	sample teardown dmsetup "$mib" destroy_ms "$(ms_since "$t0")"
}

TD_LVM_NEXT=1
teardown_lvm() {
	local mib=$1 n=td$TD_LVM_NEXT t0
	TD_LVM_NEXT=$((TD_LVM_NEXT + 1))
	run_logged qubes_clone bvg/vm-t4-root "vm-$n-root-snap"
	run_logged qubes_clone bvg/vm-d4-private "vm-$n-private-snap"
	run_logged qubes_create bvg/pool "vm-$n-volatile" "$((2 * $(numfmt --from=iec "$TD_SIZE")))"
	[ "$mib" = 0 ] || fill "/dev/bvg/vm-$n-root-snap" "$mib"
	now; t0=$T
	lvm_destroy_qubesd "$n" || die "LVM teardown of $n failed (see $RAW/cmd.log)"
	sample teardown lvm "$mib" destroy_ms "$(ms_since "$t0")"
}

phase_teardown() {
	local rep mib i m methods=(lib later dms lvm) sizes
	phase_budget 12
	log "phase 3: teardown of 4 GiB volumes vs bytes written (${TEARDOWN_MIB[*]} MiB), up to $TEARDOWN_REPS reps"
	for ((rep = 0; rep < TEARDOWN_REPS; rep++)); do
		if [ "$rep" -ge 1 ] && phase_over; then
			log "  phase time spent: $rep reps"
			break
		fi
		sizes=("${TEARDOWN_MIB[@]}")
		[ "$rep" = 0 ] || sizes=(0 1)
		for mib in "${sizes[@]}"; do
			for ((i = 0; i < ${#methods[@]}; i++)); do
				m=${methods[(rep + i) % ${#methods[@]}]}
				"teardown_$m" "$mib"
			done
		done
		log "  rep $((rep + 1))/$TEARDOWN_REPS done (${sizes[*]} MiB)"
	done
}
