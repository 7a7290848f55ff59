# SPDX-License-Identifier: GPL-2.0-or-later
# Phase 7: the rbd backend (issue 16). A single-node Ceph cluster on loopback (the vm tier's,
# tests/lib/ceph-cluster.sh: one monitor, one OSD on memstore, cephx), timed as it starts,
# its daemons' memory taken once the phase is done. On it:
# - spawn and destroy of a disposable over an rbd template through the library (pool rb,
#   its disposables local thin volumes over the template's snapshot mapped once), against
#   what a script does with the rbd CLI (rbd clone x2 + rbd create + rbd map x3, then
#   rbd unmap x3 + rbd rm x3), rounds interleaved, each disposable writing 1 MiB into its
#   root between the two (untimed);
# - spawn at the 100th live disposable of the rbd template against the 10th: probes (spawn,
#   destroy) with 9 live, then with 99 live, then with 9 again (the drift of the minutes).
# Figures ("figure:" lines) go to the log, samples to samples.csv (phase "rbd").
# Sourced by bench/guest.sh, after bench/lib.sh.
# shellcheck shell=bash

RBD_ROUNDS=${DVM_BENCH_RBD_ROUNDS:-8}
RBD_SCALE=${DVM_BENCH_RBD_SCALE:-100}
RBD_PROBES=5
CEPH_DIR=$WORK/ceph

rbdc() { rbd -c "$CEPH_DIR/ceph.conf" --id admin -p rbd "$@"; }

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The CLI's template: two images with data, a snapshot of each, protected (as a clone needs).
rbd_cli_template() {
	local img dev
	for img in ct-root ct-private; do
		run_logged rbdc create --size "$([ $img = ct-root ] && echo "$ROOT_SIZE" || echo "$PRIVATE_SIZE")" "$img"
		dev=$(rbdc device map -o noudev "$img") || die "rbd map $img failed"
		fill "$dev" "$([ $img = ct-root ] && echo "$ROOT_DATA_MIB" || echo "$PRIVATE_DATA_MIB")"
		run_logged rbdc device unmap -o noudev "$dev"
		run_logged rbdc snap create "$img@c"
		run_logged rbdc snap protect "$img@c"
	done
}

RBD_CLI_NEXT=0
rbd_spawn_cli() {
	local n=cd$RBD_CLI_NEXT t0 root v devs=()
	RBD_CLI_NEXT=$((RBD_CLI_NEXT + 1))
	now; t0=$T
	run_logged rbdc clone ct-root@c "$n-root"
	run_logged rbdc clone ct-private@c "$n-private"
	run_logged rbdc create --size "$((VOLATILE_BYTES >> 20))M" "$n-volatile"
	for v in root private volatile; do
		devs+=("$(rbdc device map -o noudev "$n-$v")") || die "rbd map $n-$v failed"
	done
	sample rbd cli "" spawn_ms "$(ms_since "$t0")"
	root=${devs[0]}
	fill "$root" 1 "$WRITE_SEEK_MIB"
	now; t0=$T
	for v in "${devs[@]}"; do run_logged rbdc device unmap -o noudev "$v"; done
	for v in root private volatile; do run_logged rbdc rm --no-progress "$n-$v"; done
	sample rbd cli "" destroy_ms "$(ms_since "$t0")"
}

rbd_spawn_lib() {
	dvmb spawn rb rd
	read -r name ms <<< "$REPLY"
	sample rbd lib "" spawn_ms "$ms"
	fill "/dev/mapper/DVM-rb-$name-root" 1 "$WRITE_SEEK_MIB"
	dvmb destroy rb "$name"
	sample rbd lib "" destroy_ms "$REPLY"
}

# rbd_probe LABEL: RBD_PROBES spawns (each destroyed at once) with the live ones as they are
rbd_probe() {
	local i name ms
	for ((i = 0; i < RBD_PROBES; i++)); do
		dvmb spawn rb rd
		read -r name ms <<< "$REPLY"
		sample rbd "$1" "" spawn_ms "$ms"
		dvmb destroy rb "$name"
	done
}

# rbd_figure METHOD KEY: the median of the samples of phase rbd
rbd_med() { awk -F, -v m="$1" -v k="$2" '$1 == "rbd" && $2 == m && $4 == k { print $5 }' "$RAW/samples.csv" | median; }

phase_rbd() {
	local t0 start_ms i rounds live=() name ms
	if ! command -v ceph-mon > /dev/null || ! command -v rbd > /dev/null; then
		log "phase 7: rbd skipped: no ceph-mon/rbd (Debian's ceph-mon, ceph-osd, ceph-common)"
		return 0
	fi
	if [ "$(left)" -lt 120 ]; then
		log "phase 7: rbd skipped: the time budget is spent"
		return 0
	fi
	modprobe rbd || die "modprobe rbd failed: the kernel's rbd driver is needed"
	now; t0=$T
	"$BENCH_DIR/../tests/lib/ceph-cluster.sh" start "$CEPH_DIR" >> "$RAW/cmd.log" 2>&1 ||
		die "the Ceph cluster did not start (see $RAW/cmd.log)"
	start_ms=$(printf %.0f "$(ms_since "$t0")")
	log "phase 7: rbd: Ceph cluster (1 monitor, 1 OSD on memstore, cephx) up in $start_ms ms"
	run_logged dvm pool init rb --backend rbd --data-size "$POOL_DATA" --rbd-conf "$CEPH_DIR/ceph.conf" \
		--rbd-client dvm --rbd-pool rbd --host bench
	dvm_template rb rt rd "$ROOT_SIZE" "$PRIVATE_SIZE" "$ROOT_DATA_MIB" "$PRIVATE_DATA_MIB"
	rbd_cli_template
	log "  spawn/destroy over an rbd template: library vs rbd CLI, $RBD_ROUNDS rounds"
	for ((i = 0; i < RBD_ROUNDS; i++)); do
		if ((i % 2)); then rbd_spawn_cli; rbd_spawn_lib; else rbd_spawn_lib; rbd_spawn_cli; fi
		# at least three rounds; then the scale probe needs a few minutes under TCG
		if ((i >= 2)) && [ "$(left)" -lt 400 ]; then
			log "  rounds stopped after $((i + 1)): the time budget"
			break
		fi
	done
	rounds=$((i < RBD_ROUNDS ? i + 1 : RBD_ROUNDS))
	log "  scale: probes at the 10th live disposable, the ${RBD_SCALE}th, the 10th again"
	for ((i = 1; i < 10; i++)); do dvmb spawn rb rd; live+=("${REPLY%% *}"); done
	rbd_probe at10
	for ((i = 10; i < RBD_SCALE; i++)); do dvmb spawn rb rd; live+=("${REPLY%% *}"); done
	rbd_probe at100
	for ((i = 9; i < ${#live[@]}; i++)); do dvmb destroy rb "${live[$i]}"; done
	live=("${live[@]:0:9}")
	rbd_probe at10
	for name in "${live[@]}"; do dvmb destroy rb "$name"; done
	local ls ld cs cd a10 a100
	ls=$(rbd_med lib spawn_ms) ld=$(rbd_med lib destroy_ms) cs=$(rbd_med cli spawn_ms) cd=$(rbd_med cli destroy_ms)
	a10=$(rbd_med at10 spawn_ms) a100=$(rbd_med at100 spawn_ms)
	log "  figure: rbd spawn, rbd CLI / library = $(awk -v a="$cs" -v b="$ls" 'BEGIN { printf "%.1fx (%.1f / %.1f ms)", a / b, a, b }'), medians of $rounds rounds; goal 10x"
	log "  figure: rbd destroy, rbd CLI / library = $(awk -v a="$cd" -v b="$ld" 'BEGIN { printf "%.1fx (%.1f / %.1f ms)", a / b, a, b }'), medians of $rounds rounds; goal 10x"
	log "  figure: rbd spawn at the ${RBD_SCALE}th live / the 10th = $(awk -v a="$a100" -v b="$a10" 'BEGIN { printf "%.2fx (%.1f / %.1f ms)", a / b, a, b }'), medians of $RBD_PROBES and $((2 * RBD_PROBES)); goal 1.1x"
	log "  figure: Ceph cluster start $start_ms ms; RSS of its monitor + OSD after the phase $("$BENCH_DIR/../tests/lib/ceph-cluster.sh" mem "$CEPH_DIR") KiB"
	"$BENCH_DIR/../tests/lib/ceph-cluster.sh" stop "$CEPH_DIR" >> "$RAW/cmd.log" 2>&1 || log "  warning: the Ceph cluster did not stop cleanly"
}
