#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the xen tier's PV domUs (busybox ash). Reports on its console, one DOMU- line per
# fact, what the disks the hook served hold; dom0 (tests/xen/suite.sh) reads the console log.
# Kernel command line (xl's extra=):
#   dvmdisks=xvda,xvdb    disks present at boot: size, sha256 (not of those in dvmnosum=, e.g. a
#                         volatile volume, noise under its ephemeral key), runs between zero
#                         bytes holding seek=TEXT
#   canary=TEXT           with dvmwrite=1: written (4 KiB blocks of it) to every boot disk
#   dvmhold=xvde,xvdf     disks dom0 attaches later: waited for, reported, then waited out
#   dvmmark=xvdf:TEXT     written at the start of a held disk before it goes
# Lines: DOMU-START, DOMU-SUM dev size sha256, DOMU-CANARY dev count, DOMU-WROTE dev ok|bad,
#        DOMU-HELD dev size sha256, DOMU-MARKED dev, DOMU-GONE devs, DOMU-DONE (then poweroff);
#        the sha256 is "-" for the disks of dvmnosum=

# shellcheck shell=dash
export PATH=/sbin:/bin

arg() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" /proc/cmdline; }
say() { echo "DOMU-$*"; }

wait_for() { # wait_for SECONDS DEV...: until every /dev/DEV exists
	local t=$(($1 * 10)) d missing
	shift
	while [ "$t" -gt 0 ]; do
		missing=
		for d in "$@"; do [ -b "/dev/$d" ] || missing=1; done
		[ -z "$missing" ] && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

wait_gone() { # wait_gone SECONDS DEV...: until no /dev/DEV exists
	local t=$(($1 * 10)) d left
	shift
	while [ "$t" -gt 0 ]; do
		left=
		for d in "$@"; do [ -e "/sys/block/$d" ] && left=1; done
		[ -z "$left" ] && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

report() { # report TAG DEV
	local dev=/dev/$2 sum=-
	case ",$NOSUM," in *",$2,"*) ;; *) sum=$(sha256sum < "$dev" | cut -d' ' -f1) ;; esac
	say "$1 $2 $(blockdev --getsize64 "$dev") $sum"
}

# 4 KiB blocks of the canary at the start (a block the template also has), at 1 MiB, in the
# middle and at the end; read back past the page cache
write_canary() {
	local dev=/dev/$1 blocks off bad=0
	blocks=$(($(blockdev --getsize64 "$dev") / 4096))
	for off in 0 256 $((blocks / 2)) $((blocks - 1)); do
		dd if=/tmp/canary.blk of="$dev" bs=4096 seek="$off" count=1 conv=notrunc oflag=direct 2>/dev/null || bad=1
	done
	sync
	echo 3 > /proc/sys/vm/drop_caches
	for off in 0 256 $((blocks / 2)) $((blocks - 1)); do
		dd if="$dev" bs=4096 skip="$off" count=1 iflag=direct 2>/dev/null | cmp -s - /tmp/canary.blk || bad=1
	done
	if [ "$bad" = 0 ]; then say "WROTE $1 ok"; else say "WROTE $1 bad"; fi
}

main() {
	local disks hold canary seek mark d ko
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	say "START uptime=$(cut -d' ' -f1 /proc/uptime)"
	while read -r ko; do insmod "$ko"; done < /etc/modules.boot
	disks=$(arg dvmdisks | tr , ' ')
	hold=$(arg dvmhold | tr , ' ')
	canary=$(arg canary)
	seek=$(arg seek)
	NOSUM=$(arg dvmnosum)
	mark=$(arg dvmmark)
	if [ -n "$canary" ]; then
		# shellcheck disable=SC2034 # i counts
		for i in $(seq 1 120); do printf '%s' "$canary"; done | head -c 4096 > /tmp/canary.blk
	fi
	# shellcheck disable=SC2086 # word lists
	wait_for 60 $disks || say "MISSING boot disks of $disks"
	for d in $disks; do
		report SUM "$d"
		# records between zero bytes: whatever else the disk holds, a token is never cut
		[ -n "$seek" ] && say "CANARY $d $(grep -z -c -F "$seek" "/dev/$d")"
	done
	if [ -n "$canary" ] && grep -q 'dvmwrite=1' /proc/cmdline; then
		for d in $disks; do write_canary "$d"; done
	fi
	if [ -n "$hold" ]; then
		say "WAITING for $hold"
		# shellcheck disable=SC2086
		if wait_for 300 $hold; then
			for d in $hold; do report HELD "$d"; done
			if [ -n "$mark" ]; then
				{ printf '%s' "${mark#*:}"; head -c 4096 /dev/zero; } | head -c 4096 > /tmp/mark.blk
				dd if=/tmp/mark.blk of="/dev/${mark%%:*}" bs=4096 count=1 conv=notrunc oflag=direct 2>/dev/null &&
					sync && say "MARKED ${mark%%:*}"
			fi
			# shellcheck disable=SC2086
			if wait_gone 300 $hold; then say "GONE $hold"; else say "STILL-THERE $hold"; fi
		else
			say "MISSING held disks of $hold"
		fi
	fi
	say "DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
	sync
	poweroff -f
}

main
