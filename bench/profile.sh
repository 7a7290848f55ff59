#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Where the time of a spawn and a destroy goes, for dvm-vol (through dvmbench) and for the
# bare-ioctl floor (dmfloor), on the benchmark's storage: the wall time of the library's own
# steps (uprobes on its functions: a per-phase clock without touching its code), the dm ioctls
# and other system calls of a cycle with their wall time (strace -T; strace slows the process,
# so read the shares, not the totals), then the kernel and user-space split and the hottest
# kernel paths of untraced cycles (perf, cpu-clock samples). Not part of make bench; in the VM:
#   tests/vm/run-in-vm.sh -d 0 bench/profile.sh BUILD [CYCLES [LIVE]] > bench/results/profile.txt
# With LIVE, the library's steps are timed again with LIVE more disposables alive (the scale
# phase's question: what grows with their number). With DVM_PROFILE_PRELOAD=1, the spawns are
# taken from a ready disposable (DVM Template dp, preload 1, the worker refilling after each
# destroy), and only the library's steps and its system calls are profiled.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$(cd "${1:?usage: bench/profile.sh BUILD [CYCLES [LIVE]]}" && pwd)
CYCLES=${2:-20}
LIVE=${3:-0}
SPAWN_DVM=d
[ "${DVM_PROFILE_PRELOAD:-0}" = 0 ] || SPAWN_DVM=dp
BENCH_T0=$SECONDS BENCH_BUDGET=3600
ROOT_SIZE=10G PRIVATE_SIZE=2G POOL_DATA=8G ROOT_DATA_MIB=64 PRIVATE_DATA_MIB=16
WORK=/tmp/dvm-profile RAW=$WORK/raw DVM_STATE=$WORK/state SEED=$WORK/seed
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

# syscall_table TRACE: per command of the traced server (its "ok" answers delimit them),
# each system call (dm ioctls by name) with its count and summed wall time, and the time
# outside system calls; averaged over the commands of each kind
syscall_table() {
	awk '
		function kind(line,   k, m) {
			if (line ~ /ioctl\([0-9]+, DM_/) {
				k = line; sub(/.*ioctl\([0-9]+, /, "", k); sub(/,.*/, "", k)
				# a pool message by its verb: create_snap, delete, reserve_metadata_snap...
				if (match(line, /message="[a-z_]+/)) k = k " " substr(line, RSTART + 9, RLENGTH - 9)
				return k
			}
			if (line ~ /ioctl\([0-9]+, BLK/) { k = line; sub(/.*ioctl\([0-9]+, /, "", k); sub(/[,)].*/, "", k); return k }
			k = line; sub(/^[0-9]+ +[0-9:.]+ /, "", k); sub(/\(.*/, "", k); return k
		}
		function ts(s,   t) { split(s, t, ":"); return t[1] * 3600 + t[2] * 60 + t[3] }
		function end(line,   d) { d = line; sub(/.*</, "", d); sub(/>.*/, "", d); return d }
		# a read of stdin starts when the driver waits: the command starts when it returns
		/ read\(0, "spawn/ { cmd = "spawn"; start = ts($2) + end($0); next }
		/ read\(0, "destroy/ { cmd = "destroy"; start = ts($2) + end($0); next }
		/ write\(1, "ok / { if (cmd != "") { runs[cmd]++; wall[cmd] += ts($2) - start }; cmd = ""; next }
		cmd != "" && /<[0-9.]+>$/ {
			d = $NF; gsub(/[<>]/, "", d)
			k = kind($0)
			cnt[cmd, k]++; sum[cmd, k] += d; insys[cmd] += d; keys[k] = 1
		}
		END {
			for (c in runs) {
				printf "\n%s: %d traced commands, %.1f ms each (traced), of which in system calls %.1f ms\n", c, runs[c],
					1000 * wall[c] / runs[c], 1000 * insys[c] / runs[c]
				printf "  %-28s %8s %10s\n", "system call", "count", "ms"
				for (k in keys) if (cnt[c, k]) printf "  %-28s %8.1f %10.1f\n", k, cnt[c, k] / runs[c], 1000 * sum[c, k] / runs[c] | "sort -k3 -rn"
				close("sort -k3 -rn")
				printf "  %-28s %8s %10.1f\n", "(outside system calls)", "", 1000 * (wall[c] - insys[c]) / runs[c]
			}
		}' "$1"
}

# trace_server NAME SPAWN_CMD DESTROY_CMD CMD...: CYCLES spawn/1 MiB write/destroy cycles of a
# driver under strace, then its table
trace_server() {
	local name=$1 spawn=$2 destroy=$3 i dev
	shift 3
	srv_start "$name" strace -f -tt -T -v -s 64 -o "$WORK/$name.trace" "$@"
	for ((i = 0; i < CYCLES; i++)); do
		srv "$name" "$spawn"
		read -r dev _ <<< "$REPLY"
		case $name in
		dvmbench)
			fill "/dev/mapper/DVM-b-$dev-root" 1 32
			srv "$name" "$destroy $dev"
			[ "$SPAWN_DVM" = d ] || srv "$name" work b -
			;;
		*) fill "/dev/mapper/$dev-root" 1 32; srv "$name" "$destroy" ;;
		esac
	done
	srv_stop "$name"
	echo
	echo "== $name under strace -T, mean per command over $CYCLES cycles"
	syscall_table "$WORK/$name.trace"
}

perf_dvm() {
	local i name ms
	echo
	echo "== dvmbench under perf record (cpu-clock, 499 Hz), $CYCLES cycles"
	srv_start perfdvm perf record -F 499 -g -o "$WORK/perf.data" "$BUILD/bench/dvmbench" "$DVM_STATE"
	for ((i = 0; i < CYCLES; i++)); do
		srv perfdvm spawn b d
		read -r name _ <<< "$REPLY"
		fill "/dev/mapper/DVM-b-$name-root" 1 32
		srv perfdvm destroy b "$name"
	done
	srv_stop perfdvm
	echo "-- samples by object"
	perf report -i "$WORK/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | head -n 8 || true
	echo "-- kernel paths, share of all samples with the path on the stack"
	perf report -i "$WORK/perf.data" --children --sort sym --stdio -g none 2>/dev/null > "$WORK/children.txt" || true
	grep -E ' (dm_task_run|dm_message|pool_message|dm_pool_commit_metadata|dm_pool_reserve_metadata_snap|dm_pool_release_metadata_snap|table_load|dev_create|dev_remove|do_resume|crypt_ctr|crypt_dtr|thin_ctr|__x64_sys_pread64|__x64_sys_pwrite64|__x64_sys_fsync|__x64_sys_fdatasync|blkdev_ioctl|sqlite3_step|exit_to_user_mode_prepare)$' \
		"$WORK/children.txt" || true
}

# The library's steps, timed by entry and return uprobes (inclusive times; a step that runs
# inside another is counted in both)
PROBES=(dvm_spawn_ex dvm_vm_destroy dvm_vm_get preload_take_now preload_take recover_if_needed later_kick
	catalog_ready_list catalog_ready_delete preload_still_ready preload_outdated catalog_intent_list thin_state_txn_get
	catalog_meta_get vm_describe_volume pool_lock catalog_begin catalog_commit catalog_disposable_name
	catalog_thin_id_alloc catalog_vm_put catalog_volume_put catalog_volume_list catalog_vm_delete lifecycle_start
	lifecycle_stop lifecycle_reap thin_layer_snap thin_layer_new thin_layer_delete volume_activate thin_activate
	ephemeral_create volume_deactivate wipe_volumes thin_layer_owned wipe_devs blkdev_flush dm_message
	dm_create dm_remove dm_info dm_status)

probe_table() {
	awk '
		{
			t = ""; e = ""
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^[0-9]+\.[0-9]+:$/) { t = substr($i, 1, length($i) - 1) }
				else if ($i ~ /^probe_[a-z_]+:[a-z_0-9]+:?$/) { e = $i; sub(/^[^:]*:/, "", e); sub(/:$/, "", e) }
			}
			if (t == "" || e == "") next
			if (e ~ /__return$/) {
				f = e; sub(/__return$/, "", f)
				if (depth[f] == 0) next
				d = t - start[f, depth[f]--]
				if (f == "dvm_spawn_ex") { runs["spawn"]++; wall["spawn"] += d; cmd = "" }
				else if (f == "dvm_vm_destroy") { runs["destroy"]++; wall["destroy"] += d; cmd = "" }
				else if (cmd != "") { n[cmd, f]++; sum[cmd, f] += d; seen[f] = 1 }
			} else {
				start[e, ++depth[e]] = t
				if (e == "dvm_spawn_ex") cmd = "spawn"
				if (e == "dvm_vm_destroy") cmd = "destroy"
			}
		}
		END {
			for (c in runs) {
				printf "\n%s (dvm_%s): %d calls, %.1f ms each (probed)\n", c, c == "spawn" ? "spawn_ex" : "vm_destroy", runs[c],
					1000 * wall[c] / runs[c]
				printf "  %-26s %8s %10s\n", "step (inclusive)", "calls", "ms"
				for (f in seen) if (n[c, f]) printf "  %-26s %8.1f %10.1f\n", f, n[c, f] / runs[c], 1000 * sum[c, f] / runs[c] | "sort -k3 -rn"
				close("sort -k3 -rn")
			}
		}' "$1"
}

probes_add() {
	local f
	cp "$BUILD/bench/dvmbench" "$WORK/dvmbench"
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	for f in "${PROBES[@]}"; do
		perf probe -q -x "$WORK/dvmbench" -a "$f" -a "${f}%return" 2>> "$RAW/cmd.log" || echo "(no probe on $f)"
	done
}

# probe_dvm WHAT: CYCLES probed cycles; WHAT says how many others are alive
probe_dvm() {
	local bin=$WORK/dvmbench i name
	srv_start probed perf record -q -e 'probe_dvmbench:*' -o "$WORK/probes.data" "$bin" "$DVM_STATE"
	for ((i = 0; i < CYCLES; i++)); do
		srv probed spawn b "$SPAWN_DVM"
		read -r name _ <<< "$REPLY"
		fill "/dev/mapper/DVM-b-$name-root" 1 32
		srv probed destroy b "$name"
		[ "$SPAWN_DVM" = d ] || srv probed work b -
	done
	srv_stop probed
	echo
	echo "== dvmbench with uprobes on the library's steps, $1; mean per command over $CYCLES cycles"
	perf script -i "$WORK/probes.data" -F time,event 2>/dev/null > "$WORK/probes.txt" || true
	probe_table "$WORK/probes.txt"
}

# live_fill: LIVE more disposables in pool b, left running
live_fill() {
	local i
	srv_start filler "$BUILD/bench/dvmbench" "$DVM_STATE"
	for ((i = 0; i < LIVE; i++)); do srv filler spawn b d; done
	srv_stop filler
}

# CYCLES interleaved, untraced cycles of both drivers: the reference for the shares below
untraced() {
	local i name ms
	srv_start plain "$BUILD/bench/dvmbench" "$DVM_STATE"
	srv_start floor "$BUILD/bench/dmfloor" bpool 1 2 "$(($(numfmt --from=iec "$ROOT_SIZE") / 512))" \
		"$(($(numfmt --from=iec "$PRIVATE_SIZE") / 512))" 50000
	for ((i = 0; i < CYCLES; i++)); do
		srv plain spawn b d
		read -r name ms <<< "$REPLY"
		sample p dvm "" spawn "$ms"
		fill "/dev/mapper/DVM-b-$name-root" 1 32
		srv plain destroy b "$name"
		sample p dvm "" destroy "$REPLY"
		srv floor spawn
		read -r name ms _ <<< "$REPLY"
		sample p floor "" spawn "$ms"
		fill "/dev/mapper/$name-root" 1 32
		srv floor destroy
		sample p floor "" destroy "$REPLY"
	done
	srv_stop plain
	srv_stop floor
	echo
	echo "== untraced, interleaved, $CYCLES cycles: median ms"
	sort -t, -k2,2 -k4,4 -k5,5g "$RAW/samples.csv" | awk -F, '
		{ k = $2 " " $4; v[k, ++n[k]] = $5 }
		END { for (k in n) printf "  %-16s %8.1f\n", k, v[k, int((n[k] + 1) / 2)] }' | sort
}

# preload_setup: DVM Template dp on t, one of it kept ready
preload_setup() {
	dvm --pool b dvm create dp --template t >> "$RAW/cmd.log" 2>&1
	srv_start setup "$BUILD/bench/dvmbench" "$DVM_STATE"
	srv setup preload b dp 1
	srv setup work b -
	srv_stop setup
}

main() {
	local meta
	[ "$(id -u)" = 0 ] || die "must run as root"
	rm -rf "$WORK"
	mkdir -p "$RAW" "$DVM_STATE"
	: > "$RAW/samples.csv"
	dd if=/dev/urandom of="$SEED" bs=1M count=64 status=none
	dvm_pool_make b
	meta=$(stat -c %s "$DVM_STATE/b/metadata.img")
	dms_pool_make bpool "$meta"
	echo "profile of spawn + destroy (1 MiB written into root between them), $(nproc) vCPUs, kernel $(uname -r)"
	if [ "$SPAWN_DVM" = dp ]; then
		preload_setup
		trace_server dvmbench "spawn b dp" "destroy b" "$BUILD/bench/dvmbench" "$DVM_STATE"
		probes_add
		probe_dvm "spawns taken from a ready disposable"
		perf probe -q -d 'probe_dvmbench:*' 2>/dev/null || true
		return
	fi
	untraced
	trace_server dvmbench "spawn b d" "destroy b" "$BUILD/bench/dvmbench" "$DVM_STATE"
	trace_server dmfloor spawn destroy "$BUILD/bench/dmfloor" bpool 1 2 \
		"$(($(numfmt --from=iec "$ROOT_SIZE") / 512))" "$(($(numfmt --from=iec "$PRIVATE_SIZE") / 512))" 50000
	perf_dvm
	probes_add
	probe_dvm "no other disposable alive"
	if [ "$LIVE" -gt 0 ]; then
		live_fill
		probe_dvm "$LIVE other disposables alive"
	fi
	perf probe -q -d 'probe_dvmbench:*' 2>/dev/null || true
}

main "$@"
