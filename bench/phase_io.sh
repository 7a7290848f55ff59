# SPDX-License-Identifier: GPL-2.0-or-later
# Phase 4: I/O through the stack, with fio from the host root. Three targets over the same
# kind of storage (tmpfs files on loops): the raw backing device, the root of a disposable on
# a dvm-vol thin pool (a thin snapshot, 64 KiB blocks) and on a dvm-vol snap pool (a
# dm-snapshot, 64 KiB chunks). Each rep, in rotating order: sequential read of the
# template's data, then two passes of 4 KiB random writes over a region of it (the first
# pass breaks the sharing with the template, the second writes blocks the volume owns).
# Two more thin targets write where no template data is, into a disposable's volatile (every
# block of the first pass is provisioned then): on pool b, whose free blocks read zero so it
# skips the kernel's block zeroing, and on pool z, made with --skip-zeroing no.
# bench/guest.sh sets up the templates (tio/dio in pools b, s and z) and the raw loop.
# Sourced by bench/guest.sh.
# shellcheck shell=bash

IO_MIB=64    # template data read sequentially
RW_MIB=16    # region of each random-write pass (every 4 KiB block once, in random order)

# fio_terse FIELD ARGS...: one fio job (direct, libaio), the given field of its terse line
# (v3: 7 read KiB/s, 49 write IOPS)
fio_terse() {
	local field=$1 line
	shift
	# --runtime caps a job on a host too busy to finish it (its rate is still right)
	line=$(fio --name=bench --direct=1 --ioengine=libaio --randrepeat=0 --runtime=15 --output-format=terse \
		--terse-version=3 "$@" 2>> "$RAW/cmd.log" | tail -n 1)
	[ -n "$line" ] || die "fio $* produced no result (see $RAW/cmd.log)"
	cut -d';' -f"$field" <<< "$line"
}

io_run() {
	local target=$1 dev=$2 kib iops pass
	kib=$(fio_terse 7 --filename="$dev" --rw=read --bs=1M --iodepth=4 --size="${IO_MIB}M")
	sample io "$target" seqread mbps "$((kib / 1024))"
	for pass in 1 2; do
		iops=$(fio_terse 49 --filename="$dev" --rw=randwrite --bs=4k --iodepth=16 --size="${RW_MIB}M")
		sample io "$target" "randwrite$pass" iops "$iops"
	done
}

io_raw() {
	io_run raw "$IO_RAW_DEV"
}

# io_disposable TARGET POOL: a fresh disposable's root, measured, then destroyed
io_disposable() {
	local target=$1 pool=$2 name
	dvmb spawn "$pool" dio
	read -r name _ <<< "$REPLY"
	io_run "$target" "/dev/mapper/DVM-$pool-$name-root"
	dvmb destroy "$pool" "$name"
}
io_thin() { io_disposable thin b; }

# io_fresh TARGET POOL ZEROING: the two random-write passes into a fresh disposable's
# volatile, on its thin layer (the -raw device under its crypt device, whose cipher would
# hide what the pool does), once the pool's `pool info` says "zeroing: ZEROING" (a pool that
# lost its zero invariant would otherwise be measured under the wrong name)
io_fresh() {
	local target=$1 pool=$2 zeroing=$3 name iops pass info
	info=$(dvm --pool "$pool" pool info)
	grep -q "^zeroing: *$zeroing" <<< "$info" || die "pool $pool: pool info does not say \"zeroing: $zeroing\": $info"
	dvmb spawn "$pool" dio
	read -r name _ <<< "$REPLY"
	for pass in 1 2; do
		iops=$(fio_terse 49 --filename="/dev/mapper/DVM-$pool-$name-volatile-raw" --rw=randwrite --bs=4k --iodepth=16 \
			--size="${RW_MIB}M")
		sample io "$target" "randwrite$pass" iops "$iops"
	done
	dvmb destroy "$pool" "$name"
}
io_fresh_skip() { io_fresh thin-fresh-skip-zeroing b skipped; }
io_fresh_zero() { io_fresh thin-fresh-zeroing z on; }
io_dmsnap() { io_disposable dm-snapshot s; }

phase_io() {
	local rep i m methods=(raw thin dmsnap fresh_skip fresh_zero)
	phase_budget 9
	log "phase 4: fio, seq read ${IO_MIB} MiB, 4 KiB random write ${RW_MIB} MiB x2, up to $IO_REPS reps"
	for ((rep = 0; rep < IO_REPS; rep++)); do
		if [ "$rep" -ge 1 ] && phase_over; then
			log "  phase time spent: $rep reps"
			break
		fi
		for ((i = 0; i < ${#methods[@]}; i++)); do
			m=${methods[(rep + i) % ${#methods[@]}]}
			if [ "$rep" -ge 1 ] && [ "$(left)" -lt 20 ]; then
				log "  time budget spent"
				break 2
			fi
			"io_$m"
		done
		log "  rep $((rep + 1))/$IO_REPS done"
	done
}
