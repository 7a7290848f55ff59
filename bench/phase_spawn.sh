# SPDX-License-Identifier: GPL-2.0-or-later
# Phase 1 (and the floor of phase 6): spawn and destroy of a 3-volume disposable (root and
# private thin snapshots, a fresh volatile), each disposable writing 1 MiB into its root
# between the two (untimed), so that every destroy has data to get rid of. Methods, in
# interleaved rounds (the order rotates every round): dvm-vol through the library
# (dvmbench), dvm-vol through the CLI, dmsetup processes, LVM as Qubes calls it, and the
# bare-ioctl floor (dmfloor). The library and the floor are cheap and closest to each other:
# each round has SPAWN_PAIRS of them back to back, library then floor, for a tight ratio.
# Sourced by bench/guest.sh, after bench/lib.sh.
# shellcheck shell=bash

WRITE_SEEK_MIB=32   # inside the template's data: the write breaks sharing (copy on write)

spawn_lib() {
	dvmb spawn b d
	read -r name ms <<< "$REPLY"
	sample spawn lib "" spawn_ms "$ms"
	dvmb info b "$name"
	sample spawn lib "" describe_ms "$REPLY"
	fill "/dev/mapper/DVM-b-$name-root" 1 "$WRITE_SEEK_MIB"
	dvmb destroy b "$name"
	sample spawn lib "" destroy_ms "$REPLY"
}

# A spawn taken from a ready disposable of DVM Template dp (preload 1): the refill is the
# worker's, after the spawn returned; it is timed apart (refill_ms), as is the destroy.
spawn_pre() {
	dvmb spawn b dp
	read -r name ms <<< "$REPLY"
	sample spawn pre "" spawn_ms "$ms"
	fill "/dev/mapper/DVM-b-$name-root" 1 "$WRITE_SEEK_MIB"
	dvmb destroy b "$name"
	sample spawn pre "" destroy_ms "$REPLY"
	dvmb work b -
	read -r _ ms <<< "$REPLY"
	sample spawn pre "" refill_ms "$ms"
}

spawn_cli() {
	local t0 out name
	now; t0=$T
	out=$(dvm --pool b spawn d) || die "dvm-vol spawn failed"
	sample spawn cli "" spawn_ms "$(ms_since "$t0")"
	name=${out%%$'\n'*}
	fill "/dev/mapper/DVM-b-$name-root" 1 "$WRITE_SEEK_MIB"
	now; t0=$T
	run_logged dvm --pool b destroy "$name"
	sample spawn cli "" destroy_ms "$(ms_since "$t0")"
}

# The dmsetup path: what dvm-vol does, one dmsetup process per step (origins inactive: no
# suspend needed), and Qubes' teardown (blkdiscard, then remove, then delete the thin id).
DMS_NEXT=100
spawn_dms() {
	local t0 base=$DMS_NEXT n=dms$DMS_NEXT sectors
	DMS_NEXT=$((DMS_NEXT + 3))
	sectors=$(($(numfmt --from=iec "$ROOT_SIZE") / 512))
	local psectors=$(($(numfmt --from=iec "$PRIVATE_SIZE") / 512))
	now; t0=$T
	run_logged dmsetup message bpool 0 "create_snap $base 1"
	run_logged dmsetup create "$n-root" --table "0 $sectors thin $DMS_POOL_DEV $base"
	run_logged dmsetup message bpool 0 "create_snap $((base + 1)) 2"
	run_logged dmsetup create "$n-private" --table "0 $psectors thin $DMS_POOL_DEV $((base + 1))"
	run_logged dmsetup message bpool 0 "create_thin $((base + 2))"
	run_logged dmsetup create "$n-volatile" --table "0 $((sectors + psectors)) thin $DMS_POOL_DEV $((base + 2))"
	sample spawn dmsetup "" spawn_ms "$(ms_since "$t0")"
	fill "/dev/mapper/$n-root" 1 "$WRITE_SEEK_MIB"
	now; t0=$T
	for v in root:0 private:1 volatile:2; do
		run_logged blkdiscard -p 1G "/dev/mapper/$n-${v%:*}"
		run_logged dmsetup remove "$n-${v%:*}"
		run_logged dmsetup message bpool 0 "delete $((base + ${v#*:}))"
	done
	sample spawn dmsetup "" destroy_ms "$(ms_since "$t0")"
}

# Qubes starts (and stops) a VM's volumes concurrently (Storage.start gathers the volumes'
# coroutines); LVM's VG lock serialises the metadata updates, not the processes.
LVM_NEXT=1
lvm_spawn_qubesd() {
	local n=$1 pids=() p rc=0
	qubes_clone bvg/vm-t-root "vm-$n-root-snap" >> "$RAW/cmd.log" 2>&1 & pids+=($!)
	qubes_clone bvg/vm-d-private "vm-$n-private-snap" >> "$RAW/cmd.log" 2>&1 & pids+=($!)
	qubes_create bvg/pool "vm-$n-volatile" "$VOLATILE_BYTES" >> "$RAW/cmd.log" 2>&1 & pids+=($!)
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}
lvm_destroy_qubesd() {
	local n=$1 pids=() p rc=0 lv
	for lv in "vm-$n-root-snap" "vm-$n-private-snap" "vm-$n-volatile"; do
		qubes_remove "bvg/$lv" >> "$RAW/cmd.log" 2>&1 & pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}
spawn_lvm() {
	local t0 n=disp$LVM_NEXT
	LVM_NEXT=$((LVM_NEXT + 1))
	now; t0=$T
	lvm_spawn_qubesd "$n" || die "LVM spawn of $n failed (see $RAW/cmd.log)"
	sample spawn lvm "" spawn_ms "$(ms_since "$t0")"
	fill "/dev/bvg/vm-$n-root-snap" 1 "$WRITE_SEEK_MIB"
	now; t0=$T
	lvm_destroy_qubesd "$n" || die "LVM destroy of $n failed (see $RAW/cmd.log)"
	sample spawn lvm "" destroy_ms "$(ms_since "$t0")"
}

spawn_pairs() {
	local i
	for ((i = 0; i < SPAWN_PAIRS; i++)); do
		spawn_lib
		spawn_floor
	done
}

spawn_floor() {
	local name ms msg dev
	srv dmfloor spawn
	read -r name ms msg dev <<< "$REPLY"
	sample spawn floor "" spawn_ms "$ms"
	sample spawn floor "" spawn_msg_ms "$msg"
	sample spawn floor "" spawn_dev_ms "$dev"
	fill "/dev/mapper/$name-root" 1 "$WRITE_SEEK_MIB"
	srv dmfloor destroy
	sample spawn floor "" destroy_ms "$REPLY"
}

phase_spawn() {
	local methods=(pairs pre cli dmsetup lvm) round i m
	phase_budget 16
	log "phase 1+6: spawn/destroy, up to $SPAWN_ROUNDS interleaved rounds of: $SPAWN_PAIRS x (lib, floor), pre, cli, dmsetup, lvm"
	dvmb preload b dp 1
	dvmb work b -
	srv_start dmfloor "$BUILD/bench/dmfloor" bpool 1 2 "$(($(numfmt --from=iec "$ROOT_SIZE") / 512))" \
		"$(($(numfmt --from=iec "$PRIVATE_SIZE") / 512))" 50000
	# one warm-up cycle each, unrecorded: first calls fault in code and caches
	for m in lib floor pre cli dmsetup lvm; do "spawn_${m/dmsetup/dms}"; done
	sed -i '/^spawn,/d' "$RAW/samples.csv"
	for ((round = 0; round < SPAWN_ROUNDS; round++)); do
		if [ "$round" -ge 3 ] && phase_over; then
			log "  phase time spent: $round rounds"
			break
		fi
		for ((i = 0; i < ${#methods[@]}; i++)); do
			m=${methods[(round + i) % ${#methods[@]}]}
			"spawn_${m/dmsetup/dms}"
		done
		log "  round $((round + 1))/$SPAWN_ROUNDS done"
	done
	srv_stop dmfloor
}
