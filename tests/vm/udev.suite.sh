#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vm tier: our udev rules under a real systemd-udevd, with events the kernel sends for real.
#  - each volume gets /dev/dvm/<pool>/<vm>/<volume> (VM names with '-' and '.'), gone after destroy;
#  - our devices are not probed (no ID_FS_TYPE, no /dev/disk/by-uuid link) although they hold
#    ext4, while a control dm device with the same ext4 is probed (so the probe can happen);
#  - the Xen vbd rule: `udevadm test` of a vbd remove event (a stand-in device in a private
#    mount namespace: the plain vm tier has no Xen; the xen tier sends real ones) runs
#    `dvm-vol reap`, and running what it printed releases the disks recorded for that domain
#    (rows as block-dvm writes them): the disposable goes with its last disk.
#  - nothing heavy runs on a block event: our block rules run dvm-udev-id, a static program
#    (no ELF NEEDED list, no dynamic loader), instead of 55-dm.rules' `dmsetup udevflags` (the flags it prints are
#    compared over every bit) and completes cookies as `dmsetup udevcomplete` (checked on a
#    cookie of dmsetup's own); no rule runs dvm-vol on one; after destroy no udev cookie is
#    left waiting;
#  - a spawn and a destroy each wait once for the udev events of all their devices (one
#    cookie for the whole change, dm_batch_begin()), not once per device; a snap pool, whose
#    spawn opens a device it just made, gets its nodes in time all the same;
#  - spawn and destroy timed with udevd running and without, alternating, in the same run:
#    "figure: spawn udevd/without = X.XXx ..." (and destroy), with the goal of 1.5x for spawn
#    said met or not: a figure, not a check (a shared, noisy host would fail it at random).
# Usage: tests/vm/udev.suite.sh BUILD   (root, device-mapper; starts and stops its own udevd)
set -euo pipefail

BUILD=$(cd "${1:?usage: udev.suite.sh BUILD}" && pwd)
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DVM=$BUILD/dvm-vol
POOL=u$$
SNAP=s$$
STATE=/tmp/dvmtest-udev-$$
RULES=/run/udev/rules.d
UDEVLIB=/run/dvm-udev-lib-$$
PASSED=0 FAILED=0 UDEVD_PID='' CTL_LOOP=''

say() { printf '%s\n' "$*"; }
fail() { say "FAIL: $*"; FAILED=$((FAILED + 1)); }
pass() { say "ok: $*"; PASSED=$((PASSED + 1)); }
skip() { say "SKIP: $*"; exit 0; }
cli() { "$DVM" --state-dir "$STATE" --pool "$POOL" "$@"; }

# wait_for TEST...: up to 15 s for the test to hold (udevadm settle does nothing in a chroot)
wait_for() {
	local i
	for ((i = 0; i < 150; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

start_udevd() {
	local sbin
	[ -x /lib/systemd/systemd-udevd ] || skip "no systemd-udevd (Debian package udev)"
	[ ! -e /run/udev/control ] || skip "a udevd is running already; this suite needs its own"
	mkdir -p "$RULES"
	sbin=$(dirname "$DVM")
	# dvm-udev-id where make install puts it, on the root file system: not in the build tree,
	# a 9p share without page cache that every exec would read across (209 ms an exec in the
	# VM against 34 ms from its tmpfs)
	mkdir -p "$UDEVLIB"
	cp "$sbin/dvm-udev-id" "$UDEVLIB/"
	for r in "$TOP"/udev/*.rules.in; do
		sed -e "s|@SBINDIR@|$sbin|g" -e "s|@UDEVLIBDIR@|$UDEVLIB|g" "$r" > "$RULES/$(basename "${r%.in}")"
	done
	udevd_on || { cat /tmp/udevd-$$.log; skip "systemd-udevd did not start"; }
}

# udevd_on: systemd-udevd with the rules in place; from then on libdevmapper syncs with udev
# through cookies
udevd_on() {
	/lib/systemd/systemd-udevd --resolve-names=never >> /tmp/udevd-$$.log 2>&1 &
	UDEVD_PID=$!
	wait_for test -S /run/udev/control || return 1
	unset DM_DISABLE_UDEV
}

# udevd_off: no udevd, and libdevmapper makes its nodes itself, as the rest of the vm tier runs
udevd_off() {
	kill "$UDEVD_PID" && wait "$UDEVD_PID" 2>/dev/null
	UDEVD_PID=
	rm -rf /run/udev/control /run/udev/data /run/udev/queue
	export DM_DISABLE_UDEV=1
}

cleanup() {
	set +e
	for d in $(dmsetup ls 2>/dev/null | awk '{print $1}' | grep -E "^DVM-($POOL|$SNAP)-"); do dmsetup remove --retry "$d"; done
	dmsetup remove --retry "DVM-$POOL" 2>/dev/null
	dmsetup remove --retry "ctl$$" 2>/dev/null
	[ -n "$CTL_LOOP" ] && losetup -d "$CTL_LOOP"
	# the snap pool's loops over its files
	losetup -a 2>/dev/null | grep -F "$STATE/" | cut -d: -f1 | xargs -r -n 1 losetup -d
	if [ -n "$UDEVD_PID" ]; then
		kill "$UDEVD_PID"
		wait "$UDEVD_PID" 2>/dev/null
	fi
	# the next suites run without udev, as the rest of the vm tier does
	rm -rf /run/udev "$UDEVLIB" "$STATE" "$STATE.img" /tmp/udevd-$$.log
}

# dev_props DEV: the udev properties of a block device
dev_props() { udevadm info --query=property --name="$1" 2>/dev/null; }

setup_pool() {
	cli pool init --data-size 1G > /dev/null
	cli template create tmpl --root-size 64M --private-size 32M
	cli start tmpl > /dev/null
	mkfs.ext4 -q -F "/dev/mapper/DVM-$POOL-tmpl-root"
	cli stop tmpl
	cli dvm create my-dvm.t --template tmpl
}

test_links() {
	local vol link dev props failed=$FAILED
	cli spawn my-dvm.t --name my-disp.1 > /dev/null
	for vol in root private volatile; do
		link=/dev/dvm/$POOL/my-disp.1/$vol
		if ! wait_for test -L "$link"; then
			fail "$link: no link after spawn; /dev/dvm holds: $(find /dev/dvm 2>/dev/null | tr '\n' ' ')"
			continue
		fi
		dev=$(readlink -f "$link")
		# libdevmapper makes the /dev/mapper node (our cookies disable 55-dm.rules' link)
		[ -b "/dev/mapper/DVM-$POOL-my-disp.1-$vol" ] && [ ! -L "/dev/mapper/DVM-$POOL-my-disp.1-$vol" ] ||
			fail "/dev/mapper/DVM-$POOL-my-disp.1-$vol: not a block node of libdevmapper's: $(ls -l "/dev/mapper/DVM-$POOL-my-disp.1-$vol" 2>&1)"
		[ "$(stat -L -c %t:%T "$dev")" = "$(stat -L -c %t:%T "/dev/mapper/DVM-$POOL-my-disp.1-$vol")" ] ||
			fail "$link -> $dev, not the device of DVM-$POOL-my-disp.1-$vol"
		props=$(dev_props "$dev")
		for p in DVM_POOL=$POOL DVM_VM=my-disp.1 DVM_VOLUME=$vol DM_UDEV_DISABLE_OTHER_RULES_FLAG=1 \
			DM_UDEV_DISABLE_DISK_RULES_FLAG=1 DM_NOSCAN=1 DM_UDEV_PRIMARY_SOURCE_FLAG=1 DM_UDEV_RULES_VSN=2; do
			grep -qx "$p" <<< "$props" || fail "$dev ($vol): property $p missing; has: $(tr '\n' ' ' <<< "$props")"
		done
	done
	[ "$FAILED" != "$failed" ] ||
		pass "spawn: /dev/dvm/$POOL/my-disp.1/{root,private,volatile} point at the volumes, marked for the other rules"
}

# Our root holds ext4 (from the template) and must not be probed; a control device with the
# same content must be, or the check proves nothing.
test_no_probe() {
	local dev props uuid
	dev=$(readlink -f "/dev/mapper/DVM-$POOL-my-disp.1-root")
	uuid=$(blkid -p -o value -s UUID "$dev")
	[ -n "$uuid" ] || { fail "the disposable's root holds no ext4 (blkid found no UUID)"; return; }
	props=$(dev_props "$dev")
	if grep -q '^ID_FS_' <<< "$props" || [ -e "/dev/disk/by-uuid/$uuid" ]; then
		fail "our device was probed: $(grep '^ID_FS_' <<< "$props" | tr '\n' ' ') by-uuid: $(ls -l "/dev/disk/by-uuid/$uuid" 2>&1)"
	else
		pass "our device holding ext4 $uuid was not probed by blkid"
	fi
	truncate -s 64M "$STATE.img"
	dd if="$dev" of="$STATE.img" bs=1M count=64 conv=notrunc status=none
	CTL_LOOP=$(losetup -f --show "$STATE.img")
	dmsetup create "ctl$$" --table "0 131072 linear $CTL_LOOP 0"
	if wait_for test -e "/dev/disk/by-uuid/$uuid"; then
		pass "control: a foreign dm device with the same ext4 is probed (/dev/disk/by-uuid/$uuid)"
	else
		fail "control: a foreign dm device with ext4 $uuid was not probed either: $(dev_props "/dev/mapper/ctl$$" | tr '\n' ' ')"
	fi
	dmsetup remove "ctl$$"
	losetup -d "$CTL_LOOP"
	CTL_LOOP=
}

test_destroy_removes_links() {
	cli destroy --wait my-disp.1
	if wait_for test ! -e "/dev/dvm/$POOL/my-disp.1/root" -a ! -e "/dev/dvm/$POOL/my-disp.1/volatile"; then
		pass "destroy: the links are gone"
	else
		fail "destroy: links left: $(find "/dev/dvm/$POOL" 2>/dev/null | tr '\n' ' ')"
	fi
	# every cookie of spawn and destroy was completed (a left one is a semaphore still listed)
	local cookies
	cookies=$(dmsetup udevcookies | tail -n +2)
	if [ -z "$cookies" ]; then pass "no udev cookie left after spawn and destroy"; else fail "udev cookies left: $cookies"; fi
}

# waited_once VERB LOG: `dvm-vol -vv VERB` logged exactly one udev wait, covering 4 or more
# device changes; a failure otherwise
waited_once() {
	local w
	w=$(grep -o 'udev: waited once for the events of [0-9]* device change(s)' <<< "$2" || true)
	[ "$(wc -l <<< "$w")" = 1 ] && [[ $w =~ of\ ([0-9]+)\  && ${BASH_REMATCH[1]} -ge 4 ]] ||
		fail "$1 waited for udev ${w:+$(wc -l <<< "$w") time(s)} (${w//$'\n'/; }), want once for its 4 devices"
}

# A change of a pool waits once for all its device events: one cookie, one pass of udevd's
# queue, instead of one full pass per device after each ioctl.
test_one_wait() {
	local out failed=$FAILED name
	out=$(cli -vv spawn my-dvm.t --name my-disp.2 2>&1) || { fail "spawn -vv: $out"; return; }
	waited_once spawn "$out"
	wait_for test -L "/dev/dvm/$POOL/my-disp.2/volatile" || fail "spawn: no /dev/dvm link of the volatile volume"
	for name in root private volatile volatile-raw; do
		[ -b "/dev/mapper/DVM-$POOL-my-disp.2-$name" ] || fail "spawn returned before /dev/mapper/DVM-$POOL-my-disp.2-$name"
	done
	out=$(cli -vv destroy --wait my-disp.2 2>&1) || { fail "destroy --wait -vv: $out"; return; }
	waited_once destroy "$out"
	[ -z "$(dmsetup udevcookies | tail -n +2)" ] || fail "udev cookies left: $(dmsetup udevcookies | tail -n +2)"
	[ "$FAILED" != "$failed" ] || pass "spawn and destroy each wait once for the udev events of their 4 devices"
}

# A snap pool's spawn opens the crypt device over a COW store it has just made, inside the
# change: that open must wait for the node (dm_open()), or it finds none under udevd.
test_snap_spawn() {
	local clis=("$DVM" --state-dir "$STATE" --pool "$SNAP") d vol failed=$FAILED out
	out=$("${clis[@]}" pool init --backend snap 2>&1) || { fail "snap pool init: $out"; return; }
	"${clis[@]}" template create stmpl --root-size 16M --private-size 16M
	"${clis[@]}" dvm create sdvm --template stmpl
	d=$("${clis[@]}" spawn sdvm 2>&1 | head -n 1)
	for vol in root private volatile; do
		wait_for test -L "/dev/dvm/$SNAP/$d/$vol" || fail "snap spawn ($d): no link /dev/dvm/$SNAP/$d/$vol"
	done
	out=$("${clis[@]}" destroy --wait "$d" 2>&1) || fail "snap destroy $d: $out"
	[ "$FAILED" != "$failed" ] || pass "snap pool under udevd: spawn (which opens a device it made) and destroy"
}

# The rule, evaluated by udevadm for a stand-in of /sys/bus/xen-backend/devices/vbd-7-<devid>
# (a tmpfs over /sys/bus in a private mount namespace; SYSTEMD_DEVICE_VERIFY_SYSFS=0 is
# systemd's switch for testing with such stand-ins); prints the RUN commands.
# shellcheck disable=SC2016 # the inner script expands its own $0 and $d
vbd_rule_runs() {
	local devid=$1
	unshare -m bash -c '
		set -e
		mount -t tmpfs none /sys/bus
		d=/sys/bus/xen-backend/devices/vbd-7-$0
		mkdir -p "$d"
		ln -s ../../../bus/xen-backend "$d/subsystem"
		printf "XENBUS_TYPE=vbd\nXENBUS_PATH=backend/vbd/7/%s\nXENBUS_BASE_PATH=backend\n" "$0" > "$d/uevent"
		SYSTEMD_DEVICE_VERIFY_SYSFS=0 udevadm test --action=remove "$d" 2>&1' "$devid" | sed -n "s/^run: '\\(.*\\)'\$/\\1/p"
}

test_vbd_rule() {
	local db=$STATE/$POOL/catalog.db devid cmd out disp
	# an unnamed disposable, destroyed with its last disk (a named one would only stop)
	disp=$(cli spawn my-dvm.t | head -n 1)
	# what block-dvm records when domain 7 gets the disposable's three disks
	sqlite3 "$db" "INSERT INTO domains VALUES('$disp', 7, '00000000-0000-0000-0000-000000000007');
		INSERT INTO attachments VALUES(7, 51712, 'xvda', '$disp', 'root', 1);
		INSERT INTO attachments VALUES(7, 51728, 'xvdb', '$disp', 'private', 1);
		INSERT INTO attachments VALUES(7, 51744, 'xvdc', '$disp', 'volatile', 1);"
	for devid in 51712 51728 51744; do
		cmd=$(vbd_rule_runs "$devid")
		if [ "$cmd" != "$(dirname "$DVM")/dvm-vol reap --xenbus-path backend/vbd/7/$devid" ]; then
			fail "udevadm test of a vbd-7-$devid remove runs '$cmd'"
			return
		fi
		# as udev would run it, with this suite's state directory
		out=$(DVM_STATE_DIR=$STATE $cmd 2>&1) || { fail "'$cmd': $out"; return; }
		[ "$out" = "1 disk(s) released" ] || fail "'$cmd' printed: $out"
	done
	if cli info "$disp" > /dev/null 2>&1; then
		fail "disposable $disp of domain 7 is still there after its last vbd went"
	elif [ -n "$(dmsetup ls | grep "^DVM-$POOL-$disp-" || true)" ]; then
		fail "devices of the reaped disposable are left: $(dmsetup ls | grep "^DVM-$POOL-$disp-")"
	else
		pass "the vbd remove rule runs dvm-vol reap; after the last of three disks, $disp is gone"
	fi
	out=$(DVM_STATE_DIR=$STATE "$DVM" reap --xenbus-path backend/vbd/7/51712 2>&1)
	[ "$out" = "0 disk(s) released" ] || fail "reap of a disk released already: $out"
	out=$(DVM_STATE_DIR=$STATE "$DVM" reap --xenbus-path backend/vbd/0/1 2>&1) && fail "reap of dom0's disk: $out"
	pass "reap of a released disk does nothing; dom0 is refused"
}

# The rules as installed: the block rules run one program, dvm-udev-id, a static program of libc;
# dvm-vol (libxenlight and 26 more libraries) runs only on a Xen backend's remove.
test_nothing_heavy() {
	local progs needed l bad='' b c want got
	progs=$(cat "$RULES/54-dvm-vol-cookie.rules" "$RULES/57-dvm-vol.rules" |
		grep -o -E '(IMPORT\{program\}|PROGRAM|RUN\+?)=+"[^" ]*' | sed 's/.*"//' | sort -u)
	[ "$progs" = "$UDEVLIB/dvm-udev-id" ] ||
		fail "our block rules run '$(tr '\n' ' ' <<< "$progs")', want only $UDEVLIB/dvm-udev-id"
	cmp -s "$UDEVLIB/dvm-udev-id" "$(dirname "$DVM")/dvm-udev-id" ||
		fail "$UDEVLIB/dvm-udev-id is not the build's dvm-udev-id"
	# static: no library, no dynamic loader at each event
	needed=$(readelf -d "$UDEVLIB/dvm-udev-id" 2>&1 | sed -n -e 's/.*(NEEDED).*\[\(.*\)\]/\1/p' -e 's/.*no dynamic section.*/none/p' | tr '\n' ' ')
	[ "$needed" = "none " ] || fail "dvm-udev-id needs '$needed', want a static program (no dynamic section)"
	while read -r l; do
		[[ $l == *dvm-vol* && $l != SUBSYSTEM==\"xen-backend\"* ]] && bad+="$l; "
	done < <(cat "$RULES"/*dvm-vol*.rules | sed -e :a -e '/\\$/N; s/\\\n//; ta' | grep -v '^#')
	[ -z "$bad" ] || fail "a rule runs dvm-vol outside Xen backend events: $bad"
	# flags alone (no semaphore, as libdevmapper's cookies without a waiter): bit 0 would
	# otherwise make dvm-udev-id complete a semaphore that does not exist
	for ((b = 0; b < 16; b++)); do
		c=$((1 << (16 + b)))
		want=$(dmsetup udevflags "$c" | sed "s/='1'\$/=1/")
		got=$("$(dirname "$DVM")/dvm-udev-id" --cookie "$c" "DVM-$POOL-x" | grep -v '^DVM_')
		[ "$got" = "$want" ] || fail "cookie flag bit $b: dvm-udev-id prints '$got', dmsetup udevflags '$want'"
	done
	# --complete does what dmsetup udevcomplete does: one off the cookie's semaphore (a fresh
	# cookie holds 1; a task on it adds one, each completion takes one, the waiter the last)
	local semid val
	c=$(($(dmsetup udevcreatecookie))) # printed in hex; the kernel's uevent has it in decimal
	semid=$(ipcs -s | awk -v k="$(printf '0x%08x' "$c")" '$1 == k { print $2 }')
	val=$(ipcs -s -i "$semid" | awk '$1 == "0" { print $2 }')
	"$(dirname "$DVM")/dvm-udev-id" --complete "$c" || fail "dvm-udev-id --complete $c failed"
	val+=" $(ipcs -s -i "$semid" | awk '$1 == "0" { print $2 }')"
	[ "$val" = "1 0" ] || fail "cookie $c's semaphore went '$val' with dvm-udev-id --complete, want '1 0'"
	"$(dirname "$DVM")/dvm-udev-id" --complete "$c" 2> /dev/null &&
		fail "dvm-udev-id --complete of a cookie at 0 succeeded"
	ipcrm -s "$semid"
	# --cookie completes at once a cookie that leaves the nodes to libdevmapper (flag bit 0,
	# as libdvm's tasks set it), and leaves any other to the RUN after the links
	local flags out
	for flags in 1 64; do
		# dmsetup prints the semaphore's key (0x0D4D magic over the cookie number); an event
		# carries the flags over the number
		c=$(($(dmsetup udevcreatecookie)))
		semid=$(ipcs -s | awk -v k="$(printf '0x%08x' "$c")" '$1 == k { print $2 }')
		out=$("$(dirname "$DVM")/dvm-udev-id" --cookie $(((flags << 16) | (c & 0xffff))) "DVM-$POOL-x-y-root") ||
			fail "dvm-udev-id --cookie with flags $flags failed"
		val=$(ipcs -s -i "$semid" | awk '$1 == "0" { print $2 }')
		if [ "$flags" = 1 ]; then
			[ "$val" = 0 ] && grep -qx DVM_COOKIE_DONE=1 <<< "$out" ||
				fail "a cookie with DM_UDEV_DISABLE_DM_RULES_FLAG: semaphore $val after --cookie (want 0), printed: ${out//$'\n'/ }"
		else
			[ "$val" = 1 ] && ! grep -q DVM_COOKIE_DONE <<< "$out" ||
				fail "a cookie without DM_UDEV_DISABLE_DM_RULES_FLAG: semaphore $val after --cookie (want 1), printed: ${out//$'\n'/ }"
		fi
		ipcrm -s "$semid"
	done
	[ "$FAILED" != "${1:-0}" ] ||
		pass "the block rules run only dvm-udev-id (static, NEEDED: $needed), which reads and completes cookies as dmsetup does; dvm-vol runs only on xen-backend events"
}

# median of the numbers given
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# spawn and destroy of one disposable, in ms, into T_SPAWN and T_DESTROY
time_one() {
	local t0 name
	t0=$(now_ms)
	name=$(cli spawn my-dvm.t | head -n 1)
	T_SPAWN=$(($(now_ms) - t0))
	t0=$(now_ms)
	cli destroy --wait "$name"
	T_DESTROY=$(($(now_ms) - t0))
}

# figure NAME GOAL "UDEV_MS..." "WITHOUT_MS...": prints the ratio of the medians; with a GOAL
# (e.g. 1.5) also whether it is met
figure() {
	local a b r n m
	read -r -a n <<< "$3"
	read -r -a m <<< "$4"
	a=$(median "${n[@]}") b=$(median "${m[@]}")
	r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 99 }')
	say "figure: $1 udevd/without = ${r}x (${#n[@]} runs, median $a ms vs $b ms; load $(cut -d' ' -f1-3 /proc/loadavg))"
	[ -z "$2" ] && return 0
	if awk -v r="$r" -v l="$2" 'BEGIN { exit !(r <= l) }'; then
		say "figure: $1: the goal of at most ${2}x is met"
	else
		say "figure: $1: the goal of at most ${2}x is NOT met (udevd ${3// /,} ms, without ${4// /,} ms)"
	fi
}

# Alternating, so that a change of load hits both sides alike; one untimed warm-up each.
test_timing() {
	local i runs=${DVM_UDEV_RUNS:-5} su=() du=() sn=() dn=()
	time_one
	for ((i = 0; i < runs; i++)); do
		time_one
		su+=("$T_SPAWN") du+=("$T_DESTROY")
		udevd_off
		[ "$i" = 0 ] && time_one
		time_one
		sn+=("$T_SPAWN") dn+=("$T_DESTROY")
		udevd_on || { fail "systemd-udevd did not start again: $(tail -n 3 /tmp/udevd-$$.log)"; return; }
	done
	figure spawn 1.5 "${su[*]}" "${sn[*]}"
	figure destroy "" "${du[*]}" "${dn[*]}"
}

main() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -c /dev/mapper/control ] || skip "no device-mapper"
	trap cleanup EXIT
	start_udevd
	setup_pool
	test_links
	test_no_probe
	test_destroy_removes_links
	test_one_wait
	test_snap_spawn
	test_vbd_rule
	test_nothing_heavy "$FAILED"
	test_timing
	say "udev suite: $PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ]
}

main "$@"
