#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Entry of make bench: runs the benchmark phases (bench/guest.sh) where device-mapper is (in one
# boot of the test VM when this host has none), notes how busy the host was before, during and
# after, then writes the results table and the figures into bench/results/.
# Usage: bench/run.sh BUILD
#   env: DVM_BENCH_LIMIT  seconds the whole run may take (default 1830; the phases get what
#                         is left after the build and the boot)
#        DVM_BENCH_*      the knobs of bench/guest.sh     DVM_VM_MEM (default 8G: the scale phase, last, runs
#                         beside what the others left in the guest's tmpfs; 4G ran out at 906 live disposables)
#        DVM_FORCE_VM=1   use the VM even on a host with device-mapper
#        DVM_BENCH_OUT    where the results go (default bench/results; inside the tree)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
OUT=${DVM_BENCH_OUT:-$TOP/bench/results}
RAW=$OUT/tmp   # scratch of the run (git-ignored); the report copies what it keeps
LIMIT=${DVM_BENCH_LIMIT:-1830}
SAMPLER=

say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }

# why_vm: prints why the phases cannot run on this host; fails when they can
why_vm() {
	if [ "${DVM_FORCE_VM:-0}" = 1 ]; then echo "DVM_FORCE_VM=1"
	elif [ ! -c /dev/mapper/control ]; then echo "no /dev/mapper/control on this host"
	elif [ "$(id -u)" != 0 ]; then echo "not root"
	else return 1
	fi
}

load1() { cut -d' ' -f1 /proc/loadavg; }

# the host's 1-minute load every 30 s while the phases run
start_sampler() {
	: > "$RAW/host-load.txt"
	(while sleep 30; do load1 >> "$RAW/host-load.txt"; done) &
	SAMPLER=$!
}

stop_sampler() {
	[ -z "$SAMPLER" ] || kill "$SAMPLER" 2>/dev/null || true
	SAMPLER=
}

measure() {
	local build=$1 reason budget
	# what is left for the phases: minus what make spent already (we started with it, near
	# enough), the boot (~15 s) and the report
	budget=$((LIMIT - SECONDS - 60))
	[ "$budget" -ge 300 ] || die "only $budget s left of DVM_BENCH_LIMIT=$LIMIT for the phases"
	export DVM_BENCH_BUDGET=${DVM_BENCH_BUDGET:-$budget}
	if ! reason=$(why_vm); then
		say "running the phases directly on this host (it has /dev/mapper/control, we are root)"
		"$HERE/guest.sh" "$build" "$RAW"
		return
	fi
	say "running the phases in a QEMU/TCG VM ($reason), budget $DVM_BENCH_BUDGET s"
	case $build/ in "$TOP"/*) ;; *) die "build directory $build: not inside $TOP, so not in the VM" ;; esac
	"$TOP/tests/vm/mkinitramfs.sh"
	"$TOP/tests/vm/run-in-vm.sh" -t $((DVM_BENCH_BUDGET + 300)) -m "${DVM_VM_MEM:-8G}" -c 2 -d 0 -s "$TOP" \
		"$HERE/guest.sh" "$build" "$RAW"
}

main() {
	local build before t0=$SECONDS
	[ $# = 1 ] || die "usage: bench/run.sh BUILD"
	[ -x "$1/bench/dvmbench" ] || die "$1/bench/dvmbench: not built (make bench builds it)"
	build=$(cd "$1" && pwd)
	rm -rf "$RAW"
	mkdir -p "$RAW"
	before=$(cut -d' ' -f1-3 /proc/loadavg)
	start_sampler
	trap stop_sampler EXIT
	measure "$build"
	stop_sampler
	cp "$RAW/meta.txt" "$OUT/meta.txt"
	{
		echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "host_cpus=$(nproc)"
		echo "host_load_before=$before"
		echo "host_load_after=$(cut -d' ' -f1-3 /proc/loadavg)"
		echo "host_load_during=$(tr '\n' ' ' < "$RAW/host-load.txt" | sed 's/ $//')"
		echo "wall_seconds=$((SECONDS - t0))"
		# what was measured: the tree is shared with work in progress
		echo "commit=$(git -C "$TOP" rev-parse --short HEAD)"
		echo "uncommitted=$(git -C "$TOP" status --porcelain --untracked-files=no -- driver include tools | wc -l)"
		echo "wipe=$(git -C "$TOP" log -1 --format='%h' -- driver/lifecycle/wipe.c)$(git -C "$TOP" status --porcelain -- driver/lifecycle/wipe.c | cut -c1-2)"
	} >> "$OUT/meta.txt"
	cp "$RAW/samples.csv" "$OUT/samples.csv"
	"$HERE/report.sh" "$RAW" "$OUT"
	"$HERE/plot.sh" "$RAW" "$OUT"
	say "results: $OUT/results.md, results.csv, samples.csv, *.png ($((SECONDS - t0)) s)"
	sed -n '/^## Targets/,/^Live/p' "$OUT/results.md"
}

main "$@"
