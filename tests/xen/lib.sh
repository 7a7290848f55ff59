# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034 # sets variables for the suite (XL_OUT, DOMID, LINE...)
# Helpers of the xen tier's dom0 suite (sourced by tests/xen/suite.sh): the toolstack, checks
# that print what they saw, domUs created from xl configs and read through their consoles,
# and timings. Runs in dom0 as root, in the chroot of the host root that dom0-init.sh sets up.
# A PV dom0 under TCG pays dearly for every fork and exec: waits and parsing stay in bash.

XB=/usr/lib/xen-4.17/bin
export PATH=$XB:$PATH
CONSOLE_DIR=/var/log/xen/console
SYSLOG=/var/log/dvm-syslog
PASSED=0 FAILED=0 FAILED_NAMES=() SKIPPED_NAMES=()
# a pipe nobody writes to: `read -t` on it sleeps without a sleep process
exec {NAP_FD}<> <(:)

nap() { read -r -t "$1" -u "$NAP_FD" || true; }
# since VAR T0: seconds (one decimal) from microsecond time T0 (${EPOCHREALTIME/./}) into VAR
since() { local d=$(( (${EPOCHREALTIME/./} - $2) / 100000 )); printf -v "$1" '%d.%d' $((d / 10)) $((d % 10)); }
log() { local up _; read -r up _ < /proc/uptime; printf '[%7s] %s\n' "$up" "$*"; }

pass() { PASSED=$((PASSED + 1)); log "PASS $1"; }
fail() { FAILED=$((FAILED + 1)); FAILED_NAMES+=("$1"); log "FAIL $1: $2"; }
# skip CASE WHY: a case that cannot run here; named again in the summary, never a pass
skip() { SKIPPED_NAMES+=("$1"); log "SKIP $1: $2"; }
# check NAME WANT GOT [WHAT]: passes when GOT equals WANT; the message shows both
check() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "${4:-value} is '$3', want '$2'"; fi
}
# check_match NAME REGEX TEXT: passes when TEXT matches REGEX (bash ERE); else shows TEXT
check_match() {
	if [[ $3 =~ $2 ]]; then pass "$1"; else fail "$1" "no /$2/ in: ${3: -700}"; fi
}

# Xen's daemons, as the distribution's init scripts would start them
toolstack_up() {
	mkdir -p /run/xen /run/xenstored /run/lock /var/lib/xenstored /var/lib/xen /var/log/xen "$CONSOLE_DIR" &&
		busybox syslogd -O "$SYSLOG" &&
		xenstored --pid-file=/run/xenstored.pid &&
		xen-init-dom0 > /tmp/xen-init-dom0.log 2>&1 &&
		xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir="$CONSOLE_DIR"
}

# udev_up RULES_DIR BUILD: systemd-udevd with our rules (@SBINDIR@ = BUILD, dvm-udev-id copied to
# /run/dvm-udev-lib), or UDEV_ERR
# says why not; from then on libdevmapper syncs with udev through cookies, as on a host where
# udev runs
udev_up() {
	local r t=20
	UDEV_ERR=
	[ -x /lib/systemd/systemd-udevd ] || { UDEV_ERR="no systemd-udevd (Debian package udev)"; return 1; }
	mkdir -p /run/udev/rules.d /run/dvm-udev-lib
	# dvm-udev-id where make install puts it, on dom0's root: not in the build tree, a 9p share
	# without page cache that each exec (one per event) would read across
	cp "$2/dvm-udev-id" /run/dvm-udev-lib/ || { UDEV_ERR="copying $2/dvm-udev-id failed"; return 1; }
	for r in "$1"/*.rules.in; do
		sed -e "s|@SBINDIR@|$2|g" -e "s|@UDEVLIBDIR@|/run/dvm-udev-lib|g" "$r" > "/run/udev/rules.d/$(basename "${r%.in}")" ||
			{ UDEV_ERR="installing $r failed"; return 1; }
	done
	unset DM_DISABLE_UDEV
	/lib/systemd/systemd-udevd --resolve-names=never > /tmp/udevd.log 2>&1 &
	UDEVD_PID=$!
	until [ -S /run/udev/control ]; do
		[ "$t" -le 0 ] && { UDEV_ERR="systemd-udevd did not start: $(tail -n 3 /tmp/udevd.log)"; return 1; }
		nap 0.5
		t=$((t - 1))
	done
}

# udev_down: no udevd, and libdevmapper makes its nodes itself again
udev_down() {
	[ -n "${UDEVD_PID:-}" ] && kill "$UDEVD_PID" && wait "$UDEVD_PID"
	UDEVD_PID=
	rm -rf /run/udev
	export DM_DISABLE_UDEV=1
}

# domu_cfg NAME EXTRA DISK...: an xl config for a PV domU of our kernel and initrd; env POWEROFF:
# what becomes of it when it powers off (default destroy)
domu_cfg() {
	local name=$1 extra=$2 d disks=
	shift 2
	for d in "$@"; do disks+="${disks:+, }'$d'"; done
	cat > "/tmp/$name.cfg" <<-EOF
	name = "$name"
	type = "pv"
	kernel = "$DOMU_KERNEL"
	ramdisk = "$DOMU_INITRD"
	extra = "console=hvc0 $extra"
	memory = 128
	vcpus = 1
	disk = [ $disks ]
	on_poweroff = "${POWEROFF:-destroy}"
	on_crash = "destroy"
	EOF
}

# console_lines NAME: the domU's console log into CONSOLE (an array of lines, CRs dropped)
console_lines() {
	CONSOLE=()
	[ -r "$CONSOLE_DIR/guest-$1.log" ] && mapfile -t CONSOLE < "$CONSOLE_DIR/guest-$1.log"
	CONSOLE=("${CONSOLE[@]//$'\r'/}")
}

# domu_create NAME: xl create; sets XL_RC, XL_OUT, XL_SECS (how long xl create took), DOMID
domu_create() {
	rm -f "$CONSOLE_DIR/guest-$1.log"
	CREATED_US=${EPOCHREALTIME/./}
	FIRST_LINE_SECS=
	XL_RC=0
	XL_OUT=$(xl create "/tmp/$1.cfg" 2>&1) || XL_RC=$?
	since XL_SECS "$CREATED_US"
	DOMID=
	[ "$XL_RC" = 0 ] && DOMID=$(xl domid "$1" 2>/dev/null)
	return 0
}

# domu_wait NAME REGEX SECONDS: wait for a console line matching REGEX; sets LINE and, the
# first time a console line shows up, FIRST_LINE_SECS (seconds after xl create began)
domu_wait() {
	local t=$(($3 * 2)) l
	while [ $t -gt 0 ]; do
		console_lines "$1"
		[ -z "$FIRST_LINE_SECS" ] && [ ${#CONSOLE[@]} -gt 0 ] && since FIRST_LINE_SECS "$CREATED_US"
		for l in "${CONSOLE[@]}"; do
			[[ $l =~ $2 ]] && { LINE=$l; return 0; }
		done
		nap 0.5
		t=$((t - 1))
	done
	return 1
}

# domu_expect TEST NAME REGEX SECONDS: domu_wait, or TEST fails saying how long it waited and
# what the console showed last
domu_expect() {
	domu_wait "$2" "$3" "$4" && return 0
	fail "$1" "no console line /$3/ from $2 within $4 s; its last: '${CONSOLE[*]: -1}'"
	return 1
}

# domu_field NAME TAG DEV N: word N after DEV in the domU's line "DOMU-TAG DEV ..."
domu_field() {
	local l w
	console_lines "$1"
	for l in "${CONSOLE[@]}"; do
		if [[ $l == "DOMU-$2 $3 "* ]]; then
			read -r -a w <<< "$l"
			echo "${w[$(($4 + 1))]:-}"
			return 0
		fi
	done
}

# domu_gone DOMID SECONDS: wait until the domain is gone from xenstore
domu_gone() {
	local t=$2
	while xenstore-exists "/local/domain/$1" 2>/dev/null; do
		[ "$t" -le 0 ] && return 1
		nap 1
		t=$((t - 1))
	done
}

# hook_ms ACTION BACKEND: the hook's own time for its first call (libxl's), from syslog
hook_ms() {
	local l ms=
	mapfile -t SYSLOG_LINES < "$SYSLOG"
	for l in "${SYSLOG_LINES[@]}"; do
		[[ $l =~ block-dvm.*:\ $1\ $2\ done\ in\ ([0-9]+)\ ms ]] && { ms=${BASH_REMATCH[1]}; break; }
	done
	echo "$ms"
}

# Hook wrappers that time a hook as libxl waits for it, its whole process from fork to exit:
# /etc/xen/scripts/timed-HOOK runs /etc/xen/scripts/HOOK and appends "HOOK ACTION XENBUS_PATH MS"
# to HOOK_TIMES. timed_hooks_install HOOK...; proc_ms ACTION XENBUS_PATH: the last such time.
HOOK_TIMES=/tmp/hook-times
timed_hooks_install() {
	local h
	for h in "$@"; do
		cat > "/etc/xen/scripts/timed-$h" <<-EOF || return 1
		#!/bin/bash
		t0=\${EPOCHREALTIME/./}
		/etc/xen/scripts/$h "\$@"
		rc=\$?
		echo "$h \$1 \$XENBUS_PATH \$(( (\${EPOCHREALTIME/./} - t0) / 1000 ))" >> $HOOK_TIMES
		exit \$rc
		EOF
		chmod 755 "/etc/xen/scripts/timed-$h" || return 1
	done
}

proc_ms() {
	local hook action path ms out=
	[ -r "$HOOK_TIMES" ] || return 0
	while read -r hook action path ms; do
		[ "$action" = "$1" ] && [ "$path" = "$2" ] && out=$ms
	done < "$HOOK_TIMES"
	echo "$out"
}

# canary_copies DEV TOKEN...: runs of DEV between zero bytes that hold any TOKEN (a 4 KiB
# block of one token, or several such blocks side by side, count once); 0 means none. What
# dom0 cached of DEV is dropped first, so the scan reads the disk. One grep, no pipe: under
# TCG a pipeline of dd, tr and grep took a minute and a half for 64 MiB.
canary_copies() {
	local dev=$1 t pat=()
	shift
	for t in "$@"; do pat+=(-e "$t"); done
	blockdev --flushbufs "$dev" || { echo "blockdev --flushbufs $dev failed"; return 1; }
	LC_ALL=C grep -a -z -c -F "${pat[@]}" "$dev"
}

# dm devices of our UUID prefix whose name has WORD
dvm_devices() {
	local l out=
	while read -r l; do
		[[ $l == *:DVM-* && $l == *"$1"* ]] && out+="$l "
	done < <(dmsetup info -c --noheadings -o name,uuid 2>/dev/null)
	echo "$out"
}

# wait_no_devices WORD SECONDS: until no DVM- device has WORD in its name
wait_no_devices() {
	local t=$2
	while [ -n "$(dvm_devices "$1")" ] && [ "$t" -gt 0 ]; do nap 1; t=$((t - 1)); done
}

summary() {
	[ "$FAILED" = 0 ] || log "failed: ${FAILED_NAMES[*]}"
	[ ${#SKIPPED_NAMES[@]} = 0 ] || log "SKIPPED (not run, see SKIP above): ${SKIPPED_NAMES[*]}"
	local skipped=
	[ ${#SKIPPED_NAMES[@]} = 0 ] || skipped=", ${#SKIPPED_NAMES[@]} skipped"
	printf 'xen-tier: %d passed, %d failed%s\n' "$PASSED" "$FAILED" "$skipped"
	[ "$FAILED" = 0 ]
}
