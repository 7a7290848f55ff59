# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Case P of the xen tier (sourced by suite.sh, uses its DVM, DISKS, SYSLOG and helpers): where
# the hook's add of a dvm-spawn disk that takes a ready disposable spends its time. Runs only
# when selected (DVM_XEN_CASES="P") with DVM_XEN_PROFILE=DIR, a directory of the shared tree:
#  - DVM_XEN_PROFILE_RUNS adds (default 3) with DVM_HOOK_DEBUG (the hook's phases in syslog,
#    "+ms [CLOCK_MONOTONIC s] what"), beside a kernel trace on the same clock: the exec, fork
#    and exit of every process, and blkback's functions (its watch on physical-device, the
#    open of the device, its sysfs attributes): DIR/hook-debug.txt, DIR/hook-ftrace.txt.
# No strace: under it every system call of the hook took 30-100 ms in this PV dom0 under TCG
# and libxl killed the hook after 40 s.
# Checks only that each add was served; the figures are for bench/results/fence/hook-profile.txt.

TRACE=/sys/kernel/tracing
# blkback's path from the physical-device watch to the sysfs attribute the hook waits for
# (xen_vbd_create and xenvbd_sysfs_addif are inlined in Debian's 6.1: blkdev_get_by_dev called
# from backend_changed is the open)
BLKBACK_FUNCS=(backend_changed xen_update_blkif_status frontend_changed blkdev_get_by_dev)

trace_on() {
	local f
	[ -d "$TRACE/events" ] || mount -t tracefs tracefs "$TRACE" || return 1
	echo 0 > "$TRACE/tracing_on"
	echo nop > "$TRACE/current_tracer"
	echo mono > "$TRACE/trace_clock" || return 1
	echo 4096 > "$TRACE/buffer_size_kb"
	: > "$TRACE/set_ftrace_filter"
	for f in "${BLKBACK_FUNCS[@]}"; do
		echo "$f" >> "$TRACE/set_ftrace_filter" 2>/dev/null || log "P: no function $f to trace"
	done
	for f in sched_process_exec sched_process_exit sched_process_fork; do
		echo 1 > "$TRACE/events/sched/$f/enable" || return 1
	done
	echo function > "$TRACE/current_tracer" || return 1
	: > "$TRACE/trace"
	echo 1 > "$TRACE/tracing_on"
}

trace_off() {
	local f
	echo 0 > "$TRACE/tracing_on"
	cp "$TRACE/trace" "$1"
	echo nop > "$TRACE/current_tracer"
	for f in sched_process_exec sched_process_exit sched_process_fork; do
		echo 0 > "$TRACE/events/sched/$f/enable"
	done
	: > "$TRACE/set_ftrace_filter"
	echo local > "$TRACE/trace_clock"
}

# p_run NAME: pre_run (case F) and the hook's time, or a failure
p_run() {
	pre_run "$1" || return 1
	log "P: $1: add $FIG_ADD ms"
}

test_p_profile() {
	local out=${DVM_XEN_PROFILE:-} runs=${DVM_XEN_PROFILE_RUNS:-3} i skip
	log "=== P: profile of the hook's add of a dvm-spawn disk taking a ready disposable"
	if [ -z "$out" ] || ! mkdir -p "$out"; then
		skip P "DVM_XEN_PROFILE=DIR (a directory in the shared tree) is not set or cannot be made"
		return 0
	fi
	"${DVM[@]}" preload dvm --count 1 && "${DVM[@]}" worker || { fail P.preload "preload dvm --count 1"; return 0; }
	skip=$(wc -l < "$SYSLOG")
	trace_on || { fail P.trace "tracefs: cannot set up the kernel trace"; return 0; }
	export DVM_HOOK_DEBUG=1
	for ((i = 1; i <= runs; i++)); do
		p_run "d$i" || break
	done
	trace_off /tmp/hook-ftrace.txt
	tail -n +$((skip + 1)) "$SYSLOG" | grep block-dvm > /tmp/hook-debug.txt
	unset DVM_HOOK_DEBUG
	"${DVM[@]}" preload dvm --count 0 && "${DVM[@]}" worker
	cp /tmp/hook-debug.txt /tmp/hook-ftrace.txt "$out/" || { fail P.output "copying the profile to $out"; return 0; }
	pass P.profile
	log "P: profile in $out (hook-debug.txt, hook-ftrace.txt)"
}
