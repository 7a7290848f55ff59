#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The measuring side of make bench, run as root where device-mapper is (the benchmark VM):
# builds the three stacks on the same kind of storage (loops over sparse files in tmpfs,
# 64 KiB blocks), runs the phases in order and leaves raw samples in RAW (samples.csv, logs).
# Usage: bench/guest.sh BUILD RAW      env: DVM_BENCH_PHASES (default "spawn teardown io scale
#        inspect"), DVM_BENCH_BUDGET (seconds for all phases, default 1020), and the knobs below.
# Each phase stops repeating when its share of the budget is spent (after a minimum of
# repeats); the scale phase gets what the others leave, less the inspector's reserve.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$(cd "${1:?usage: bench/guest.sh BUILD RAW}" && pwd)
RAW=${2:?usage: bench/guest.sh BUILD RAW}
BENCH_T0=$SECONDS
BENCH_BUDGET=${DVM_BENCH_BUDGET:-1020}
PHASES=${DVM_BENCH_PHASES:-spawn teardown io scale inspect}
SPAWN_ROUNDS=${DVM_BENCH_ROUNDS:-8}
TEARDOWN_REPS=${DVM_BENCH_TEARDOWN_REPS:-3}
IO_REPS=${DVM_BENCH_IO_REPS:-2}
SCALE_MAX=${DVM_BENCH_SCALE_MAX:-1000}
LVM_SCALE_SECS=${DVM_BENCH_LVM_SCALE_SECS:-90}

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
# shellcheck source=bench/phase_io.sh
. "$BENCH_DIR/phase_io.sh"
# shellcheck source=bench/phase_scale.sh
. "$BENCH_DIR/phase_scale.sh"
# shellcheck source=bench/phase_inspect.sh
. "$BENCH_DIR/phase_inspect.sh"

has_phase() { [[ " $PHASES " == *" $1 "* ]]; }

setup() {
	local meta
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
	} > "$RAW/meta.txt"
	dd if=/dev/urandom of="$SEED" bs=1M count=64 status=none
	log "setup: dvm-vol pool b, dmsetup pool bpool, LVM VG bvg (data $POOL_DATA, 64 KiB blocks)"
	dvm_pool_make b
	meta=$(stat -c %s "$DVM_STATE/b/metadata.img")
	dms_pool_make bpool "$meta"
	lvm_vg_make bvg "$meta"
	srv_start dvmbench "$BUILD/bench/dvmbench" "$DVM_STATE"
	log "setup done"
}

main() {
	[ "$(id -u)" = 0 ] || die "must run as root"
	[ -c /dev/mapper/control ] || die "no device-mapper here"
	setup
	has_phase spawn && phase_spawn
	has_phase teardown && phase_teardown
	has_phase io && phase_io
	has_phase scale && phase_scale
	has_phase inspect && phase_inspect
	echo "guest_load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$RAW/meta.txt"
	echo "guest_seconds=$((SECONDS - BENCH_T0))" >> "$RAW/meta.txt"
	log "all phases done in $((SECONDS - BENCH_T0)) s"
}

main
