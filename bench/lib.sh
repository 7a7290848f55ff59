# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers of the benchmark phases (sourced by bench/guest.sh and bench/phase_*.sh):
# clocks, the samples file, logging, loop devices, the time budget, and the three stacks
# every phase compares (dvm-vol, dmsetup processes, LVM as Qubes calls it).
# shellcheck shell=bash

# ---- clock, samples, log ------------------------------------------------------------------

# now: microseconds since the epoch in $T (bash's EPOCHREALTIME: no fork)
# shellcheck disable=SC2034  # T is read by the phases
now() { T=${EPOCHREALTIME/./}; }

# ms_since T0: milliseconds (3 decimals) since T0 (microseconds)
ms_since() {
	local t=${EPOCHREALTIME/./}
	printf '%d.%03d' $(((t - $1) / 1000)) $(((t - $1) % 1000))
}

# sample PHASE METHOD X METRIC VALUE: one measurement, one line of samples.csv
sample() { printf '%s,%s,%s,%s,%s\n' "$@" >> "$RAW/samples.csv"; }

log() { printf '[%6ds] %s\n' $((SECONDS - BENCH_T0)) "$*" | tee -a "$RAW/bench.log" >&2; }
die() { log "error: $*"; exit 1; }

# left: seconds left of the benchmark's time budget
left() { echo $((BENCH_BUDGET - (SECONDS - BENCH_T0))); }

# phase_budget PERCENT: the phase that starts now may take PERCENT % of the whole budget;
# phase_over: whether that time is spent (phases then stop after their minimum of reps)
phase_budget() { PHASE_END=$((SECONDS + BENCH_BUDGET * $1 / 100)); }
phase_over() { [ "$SECONDS" -ge "$PHASE_END" ]; }

# run_logged CMD...: run quietly, its output kept in the log; fail loudly
run_logged() {
	"$@" >> "$RAW/cmd.log" 2>&1 || die "failed (status $?): $* (see $RAW/cmd.log)"
}

# ---- storage --------------------------------------------------------------------------------

# loop_attach FILE: attach FILE to a free loop device, print its path
loop_attach() { losetup --find --show "$1"; }

# fill DEV MIB [SEEK_MIB]: write MIB MiB of the seed's random bytes to DEV, synced
fill() {
	local dev=$1 mib=$2 seek=${3:-0} done=0 n
	while [ "$done" -lt "$mib" ]; do
		n=$((mib - done > 64 ? 64 : mib - done))
		dd if="$SEED" of="$dev" bs=1M count="$n" seek=$((seek + done)) oflag=direct conv=fsync,notrunc \
			status=none || die "write of ${n} MiB to $dev failed"
		done=$((done + n))
	done
}

# ---- dvm-vol ---------------------------------------------------------------------------------

dvm() { "$BUILD/dvm-vol" --state-dir "$DVM_STATE" "$@"; }

# ---- drivers: dvmbench and dmfloor run as servers, a command a line -------------------------

declare -gA SRV_W SRV_R SRV_PID

# srv_start NAME CMD...: run CMD with its stdin and stdout on fifos (bash allows one coproc)
srv_start() {
	local name=$1 w r
	shift
	rm -f "$WORK/$name.in" "$WORK/$name.out"
	mkfifo "$WORK/$name.in" "$WORK/$name.out"
	"$@" < "$WORK/$name.in" > "$WORK/$name.out" 2>> "$RAW/$name.err" &
	SRV_PID[$name]=$!
	exec {w}> "$WORK/$name.in" {r}< "$WORK/$name.out"
	SRV_W[$name]=$w SRV_R[$name]=$r
}

# srv NAME CMD...: one command; the answer, without its "ok ", in $REPLY
srv() {
	local name=$1
	shift
	echo "$*" >&"${SRV_W[$name]}"
	read -r -u "${SRV_R[$name]}" REPLY || die "$name died on: $* (see $RAW/$name.err)"
	case $REPLY in
	ok\ *) REPLY=${REPLY#ok } ;;
	*) die "$name: $*: $REPLY" ;;
	esac
}

# srv_stop NAME: ask it to quit, wait until it has
srv_stop() {
	echo quit >&"${SRV_W[$1]}"
	wait "${SRV_PID[$1]}" || true
}

dvmb() { srv dvmbench "$@"; }

# dvm_template POOL TEMPLATE DVM ROOT_SIZE PRIVATE_SIZE ROOT_MIB PRIVATE_MIB: a TemplateVM
# whose root holds ROOT_MIB MiB of data, and a DVM Template on it with PRIVATE_MIB in its private
dvm_template() {
	local p=$1 t=$2 d=$3
	run_logged dvm --pool "$p" template create "$t" --root-size "$4" --private-size "$5"
	if [ "$6" -gt 0 ]; then
		run_logged dvm --pool "$p" start "$t"
		fill "/dev/mapper/DVM-$p-$t-root" "$6"
		run_logged dvm --pool "$p" stop "$t"
	fi
	run_logged dvm --pool "$p" dvm create "$d" --template "$t"
	if [ "$7" -gt 0 ]; then
		run_logged dvm --pool "$p" start "$d"
		fill "/dev/mapper/DVM-$p-$d-private" "$7"
		run_logged dvm --pool "$p" stop "$d"
	fi
}

# dvm_pool_init POOL: a file-backed thin pool on the benchmark's tmpfs, 64 KiB blocks
dvm_pool_init() {
	run_logged dvm --pool "$1" pool init "$1" --data-size "$POOL_DATA" --block-size 64K
}

# dvm_pool_make POOL: such a pool with TemplateVM t (root 10G with 64 MiB written, private
# 2G) and DVM Template d (16 MiB written into its private)
dvm_pool_make() {
	dvm_pool_init "$1"
	dvm_template "$1" t d "$ROOT_SIZE" "$PRIVATE_SIZE" "$ROOT_DATA_MIB" "$PRIVATE_DATA_MIB"
}

# ---- dmsetup ---------------------------------------------------------------------------------

# dms_pool_dev NAME: the pool's major:minor in DMS_POOL_DEV (tables refer to it by number)
dms_pool_dev() { DMS_POOL_DEV=$(dmsetup info -c --noheadings -o major,minor --separator : "$1"); }

# dms_pool_make NAME META_BYTES: a thin-pool like dvm-vol's (same data size, metadata size,
# block size, low water mark) on loops over tmpfs files, with origins 1 (root) and 2
# (private) holding the same data as dvm-vol's; inactive, as a halted template's are
dms_pool_make() {
	local name=$1 meta_bytes=$2 data meta sectors dev
	truncate -s "$POOL_DATA" "$WORK/$name-data.img"
	truncate -s "$meta_bytes" "$WORK/$name-meta.img"
	data=$(loop_attach "$WORK/$name-data.img")
	meta=$(loop_attach "$WORK/$name-meta.img")
	sectors=$(($(blockdev --getsz "$data") / 128 * 128))
	run_logged dmsetup create "$name" --table "0 $sectors thin-pool $meta $data 128 $((sectors / 128 / 10))"
	dms_pool_dev "$name"
	for dev in 1:root:$ROOT_SIZE:$ROOT_DATA_MIB 2:private:$PRIVATE_SIZE:$PRIVATE_DATA_MIB; do
		IFS=: read -r id _ size mib <<< "$dev"
		run_logged dmsetup message "$name" 0 "create_thin $id"
		run_logged dmsetup create "$name-o$id" --table "0 $(($(numfmt --from=iec "$size") / 512)) thin $DMS_POOL_DEV $id"
		fill "/dev/mapper/$name-o$id" "$mib"
		run_logged dmsetup remove "$name-o$id"
	done
}

# ---- LVM (Qubes' lvm_thin driver: qubes/storage/lvm.py) --------------------------------------

export LVM_SYSTEM_DIR=$BENCH_DIR/lvm
export LC_ALL=C
# our driver fifos are open in this shell; LVM closes such inherited fds, and would say so
export LVM_SUPPRESS_FD_WARNINGS=1

# lvm_vg_make VG META_BYTES: a PV on a loop over a tmpfs file, a thin pool "pool" of the same
# data and metadata size and block size, origins vm-t-root and vm-d-private with the same data
lvm_vg_make() {
	local vg=$1 meta_bytes=$2 pv
	mkdir -p /run/lock/lvm /run/lvm/backup /run/lvm/archive
	truncate -s "$(($(numfmt --from=iec "$POOL_DATA") + 2 * meta_bytes + (64 << 20)))" "$WORK/$vg-pv.img"
	pv=$(loop_attach "$WORK/$vg-pv.img")
	run_logged pvcreate -q "$pv"
	run_logged vgcreate -q "$vg" "$pv"
	run_logged lvcreate -q --type thin-pool -L "$POOL_DATA" --chunksize 64k --poolmetadatasize "${meta_bytes}b" \
		-n pool "$vg"
	run_logged lvcreate -q --thin -V "$ROOT_SIZE" -n vm-t-root "$vg/pool"
	fill "/dev/$vg/vm-t-root" "$ROOT_DATA_MIB"
	run_logged lvcreate -q --thin -V "$PRIVATE_SIZE" -n vm-d-private "$vg/pool"
	fill "/dev/$vg/vm-d-private" "$PRIVATE_DATA_MIB"
	# a halted template's volumes are not active in dvm-vol either
	run_logged lvchange -q -an "$vg/vm-t-root" "$vg/vm-d-private"
}

# Qubes' commands, exactly (qubes/storage/lvm.py _get_lvm_cmdline, qubes_lvm_coro)
# Qubes adds --type=thin to the clone: LVM 2.03.16 (Debian 12) refuses the pair ("Command does
# not accept option: --snapshot"), and a snapshot of a thin LV is a thin snapshot without it.
qubes_clone() { lvcreate --setactivationskip=n --activate=y --snapshot --name="$2" -- "$1"; }
qubes_create() { lvcreate --thin --setactivationskip=n --activate=y --name="$2" --virtualsize="$3"B -- "$1"; }
qubes_remove() { blkdiscard -p 1G "/dev/$1" && lvremove --force -- "$1"; }
