#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The measuring side of make bench, run as root where device-mapper is (the benchmark VM):
# builds the three stacks on the same kind of storage (loops over sparse files in tmpfs,
# 64 KiB blocks), all at once, then runs the phases in order and leaves raw samples in RAW
# (samples.csv, logs).
# Usage: bench/guest.sh BUILD RAW      env: DVM_BENCH_PHASES (default "spawn teardown churn io
#        inspect qubes rbd scale"), DVM_BENCH_BUDGET (seconds for all phases, default 1770), and the knobs below.
# Each phase stops repeating when its share of the budget is spent (after a minimum of
# repeats); the scale phase runs last and gets what the others leave: its thousand live
# disposables stay, and the phases after it found a crowded guest (LVM's commands scan every
# device node; fio on a dm-snapshot disposable went from 2278 to 123 IOPS and then stalled
# until the run's timeout, 2026-12-07).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$(cd "${1:?usage: bench/guest.sh BUILD RAW}" && pwd)
RAW=${2:?usage: bench/guest.sh BUILD RAW}
BENCH_T0=$SECONDS
BENCH_BUDGET=${DVM_BENCH_BUDGET:-1770}
PHASES=${DVM_BENCH_PHASES:-spawn teardown churn io inspect qubes rbd scale}
SPAWN_ROUNDS=${DVM_BENCH_ROUNDS:-8}
# The worker that dvmbench's spawn taken from a ready disposable starts (later_kick.c): the
# spawn's time holds its start with a real exec, but the refill is timed apart (`work`,
# phase_spawn.sh), so the program dvmbench starts exits at once (before, with no installed
# dvm-vol in the guest, that exec failed). The CLI's worker is the build's dvm-vol itself.
DVMBENCH_WORKER=${DVM_BENCH_WORKER:-/bin/true}
SPAWN_PAIRS=${DVM_BENCH_PAIRS:-3}
TEARDOWN_REPS=${DVM_BENCH_TEARDOWN_REPS:-3}
IO_REPS=${DVM_BENCH_IO_REPS:-2}
SCALE_MAX=${DVM_BENCH_SCALE_MAX:-1000}
LVM_SCALE_SECS=${DVM_BENCH_LVM_SCALE_SECS:-60}

# the disposable of every phase but teardown: Qubes' default sizes are 20G/2G; thin
# volumes cost the same to make at any size
ROOT_SIZE=10G PRIVATE_SIZE=2G POOL_DATA=8G ROOT_DATA_MIB=64 PRIVATE_DATA_MIB=16
VOLATILE_BYTES=$(($(numfmt --from=iec $ROOT_SIZE) + $(numfmt --from=iec $PRIVATE_SIZE)))

WORK=/tmp/dvm-bench
DVM_STATE=$WORK/state
SEED=$WORK/seed

# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"
# shellcheck source=bench/phase_spawn.sh
. "$BENCH_DIR/phase_spawn.sh"
# shellcheck source=bench/phase_teardown.sh
. "$BENCH_DIR/phase_teardown.sh"
# shellcheck source=bench/phase_churn.sh
. "$BENCH_DIR/phase_churn.sh"
# shellcheck source=bench/phase_io.sh
. "$BENCH_DIR/phase_io.sh"
# shellcheck source=bench/phase_scale.sh
. "$BENCH_DIR/phase_scale.sh"
# shellcheck source=bench/phase_inspect.sh
. "$BENCH_DIR/phase_inspect.sh"
# shellcheck source=bench/phase_qubes.sh
. "$BENCH_DIR/phase_qubes.sh"
# shellcheck source=bench/phase_rbd.sh
. "$BENCH_DIR/phase_rbd.sh"

has_phase() { [[ " $PHASES " == *" $1 "* ]]; }

# The stacks are independent: build them at once, each in a job of its own. Pool b holds the
# templates of every phase (t/d, t4/d4 for teardown, tio/dio for I/O), pool r is the scale
# phase's reference with its 9 live disposables, pool s the snap backend's for I/O, pool z a
# thin pool that zeroes new blocks (--skip-zeroing no) for I/O.
setup_stacks() {
	local meta pids=() p rc=0
	dvm_pool_init b
	meta=$(stat -c %s "$DVM_STATE/b/metadata.img")
	{
		dvm_template b t d "$ROOT_SIZE" "$PRIVATE_SIZE" "$ROOT_DATA_MIB" "$PRIVATE_DATA_MIB"
		# dp: d's twin (same data) whose spawns are taken from a ready disposable
		run_logged dvm --pool b dvm create dp --template t
		run_logged dvm --pool b start dp
		fill "/dev/mapper/DVM-b-dp-private" "$PRIVATE_DATA_MIB"
		run_logged dvm --pool b stop dp
		dvm_template b t4 d4 "$TD_SIZE" "$TD_SIZE" 0 0
		dvm_template b tio dio 1G 64M "$IO_MIB" 0
	} & pids+=($!)
	{
		dvm_pool_make r
		for _ in 1 2 3 4 5 6 7 8 9; do run_logged dvm --pool r spawn d; done
	} & pids+=($!)
	{
		run_logged dvm --pool s pool init s --backend snap --chunk-size 64K
		dvm_template s tio dio 1G 64M "$IO_MIB" 0
		run_logged dvm --pool z pool init z --data-size 2G --block-size 64K --skip-zeroing no
		dvm_template z tio dio 1G 64M 0 0
	} & pids+=($!)
	{
		dms_pool_make bpool "$meta"
		run_logged dmsetup message bpool 0 "create_thin 3"   # teardown's 4 GiB origin, empty
	} & pids+=($!)
	{
		lvm_vg_make bvg "$meta"
		run_logged lvcreate -q --thin -V "$TD_SIZE" -n vm-t4-root bvg/pool
		run_logged lvcreate -q --thin -V "$TD_SIZE" -n vm-d4-private bvg/pool
		run_logged lvchange -q -an bvg/vm-t4-root bvg/vm-d4-private
	} & pids+=($!)
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	[ "$rc" = 0 ] || die "setup failed (see $RAW/bench.log and $RAW/cmd.log)"
	dms_pool_dev bpool
	truncate -s 1G "$WORK/raw.img"
	IO_RAW_DEV=$(loop_attach "$WORK/raw.img")
	fill "$IO_RAW_DEV" "$IO_MIB"
}

setup() {
	mkdir -p "$RAW" "$WORK" "$DVM_STATE"
	: > "$RAW/samples.csv"
	: > "$RAW/cmd.log"
	{
		echo "kernel=$(uname -r)"
		echo "cpus=$(nproc)"
		echo "mem_mib=$(($(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024))"
		echo "guest_load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
		echo "lvm=$(lvm version | sed -n 's/^ *LVM version: *\([^ ]*\).*/\1/p')"
		echo "dmsetup=$(dmsetup --version | sed -n 's/^Library version: *\([^ ]*\).*/\1/p')"
		echo "fio=$(fio --version)"
		echo "phases=$PHASES"
		echo "scale_max=$SCALE_MAX"
		echo "dvmbench_worker=$DVMBENCH_WORKER"
	} > "$RAW/meta.txt"
	# random bytes cost ~1 s per MiB under TCG on a busy host: 4 MiB of them, 16 times over
	dd if=/dev/urandom of="$SEED.4m" bs=1M count=4 status=none
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do cat "$SEED.4m"; done > "$SEED"
	log "setup: dvm-vol pools b, r, s; dmsetup pool bpool; LVM VG bvg (data $POOL_DATA, 64 KiB blocks)"
	setup_stacks
	srv_start dvmbench env DVM_VOL_BIN="$DVMBENCH_WORKER" "$BUILD/bench/dvmbench" "$DVM_STATE"
	log "setup done"
}

main() {
	[ "$(id -u)" = 0 ] || die "must run as root"
	[ -c /dev/mapper/control ] || die "no device-mapper here"
	setup
	has_phase spawn && phase_spawn
	has_phase teardown && phase_teardown
	has_phase churn && phase_churn
	has_phase io && phase_io
	has_phase inspect && phase_inspect
	has_phase qubes && phase_qubes
	has_phase rbd && phase_rbd
	has_phase scale && phase_scale
	echo "guest_load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$RAW/meta.txt"
	echo "guest_seconds=$((SECONDS - BENCH_T0))" >> "$RAW/meta.txt"
	log "all phases done in $((SECONDS - BENCH_T0)) s"
}

main
