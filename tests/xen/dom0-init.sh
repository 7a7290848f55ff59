#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the xen tier's dom0 (busybox ash; tests/xen/mkinitramfs.sh installs it). Loads the
# Xen, dm and 9p modules, mounts xenfs, then runs the host's command in a chroot of a writable
# overlay over the read-only host root (where xenstored, xl and our build live), with the
# project tree at its own path. The command's output goes to the ctl share (out.log), its
# status to ctl/rc; then dom0 powers off, which ends the QEMU run.
#
# 9p shares from tests/xen/run-in-xen.sh: ctl (cmd.sh, share, out.log, rc, timings),
# hostroot (the host's / read-only), share (the project tree, read-write).

# shellcheck shell=dash
export PATH=/sbin:/bin
CTL=/run/dvm-ctl
ROOT=/newroot
O9P=trans=virtio,version=9p2000.L,msize=512000
read -r KVER < /etc/dvm-kernel
KROOT=$(sed -n 2p /etc/dvm-kernel)

log() { echo "dom0-init: $*"; }

halt() {
	sync
	poweroff -f
	sleep 10
}

fail() {
	log "error: $*"
	[ -d "$CTL" ] && echo "dom0-init: $*" >> "$CTL/out.log" 2>/dev/null
	halt
}

mount_kernel_fs() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
	mount -t tmpfs -o mode=1777 shm /dev/shm
	# devtmpfs has none of these; bash and Xen's own scripts use them
	ln -sf /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	mount -t tmpfs -o mode=1777,size=50% tmp /tmp
	mount -t tmpfs -o mode=755 run /run
}

load_modules() {
	local ko
	while read -r ko; do
		insmod "$ko" || log "warning: insmod $ko failed"
	done < /etc/modules.boot
	[ -e /dev/mapper/control ] || { mkdir -p /dev/mapper; mknod /dev/mapper/control c 10 236; }
	mount -t xenfs xenfs /proc/xen || fail "xenfs: mount failed (is this dom0 of a Xen host?)"
	grep -q control_d /proc/xen/capabilities || fail "/proc/xen/capabilities: not the control domain"
}

mount_shares() {
	mkdir -p "$CTL" /host
	mount -t 9p -o "$O9P,cache=none" ctl "$CTL" || fail "9p share ctl: mount failed"
	mount -t 9p -o "$O9P,cache=loose,ro" hostroot /host || fail "9p share hostroot: mount failed"
	[ -x /host/bin/bash ] || fail "host root share: /bin/bash missing"
}

# guest writes (/etc/xen/scripts, /var/lib) land in tmpfs and vanish at poweroff
mount_root() {
	local d share
	mkdir -p /overlay
	mount -t tmpfs -o mode=755,size=25% overlay /overlay
	mkdir -p /overlay/upper /overlay/work
	mount -t overlay -o lowerdir=/host,upperdir=/overlay/upper,workdir=/overlay/work root "$ROOT" ||
		fail "overlay over the host root: mount failed"
	for d in dev proc sys tmp run; do
		mount --rbind "/$d" "$ROOT/$d" || fail "bind /$d into the chroot: mount failed"
	done
	read -r share < "$CTL/share" || fail "$CTL/share: missing (run-in-xen.sh writes it)"
	mkdir -p "$ROOT$share"
	# cache=mmap: writes reach the host at once, and mmap (SQLite WAL) works
	mount -t 9p -o "$O9P,cache=mmap" share "$ROOT$share" || fail "9p share $share: mount failed"
	if [ -d "$ROOT$KROOT/lib/modules/$KVER/kernel" ]; then
		mkdir -p "$ROOT/lib/modules/$KVER"
		mount --bind "$ROOT$KROOT/lib/modules/$KVER" "$ROOT/lib/modules/$KVER"
	fi
}

# Module requests of the kernel go to kmod in the chroot, which sees the whole tree.
modprobe_helper() {
	cat > /sbin/dvm-modprobe <<-EOF
	#!/bin/sh
	chroot $ROOT /sbin/modprobe "\$@" && exit 0
	exec /bin/modprobe "\$@"
	EOF
	chmod 755 /sbin/dvm-modprobe
	echo /sbin/dvm-modprobe > /proc/sys/kernel/modprobe
}

uptime_s() {
	local up rest
	read -r up rest < /proc/uptime
	echo "$up"
}

run_command() {
	local rc
	uptime_s > "$CTL/t-begin"
	cd /
	chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM=dumb LANG=C.UTF-8 DM_DISABLE_UDEV=1 DVM_TEST_XEN=1 \
		/bin/bash "$CTL/cmd.sh" < /dev/null >> "$CTL/out.log" 2>&1
	rc=$?
	uptime_s > "$CTL/t-end"
	echo "$rc" > "$CTL/rc"
	log "command exited with status $rc"
}

main() {
	mount_kernel_fs
	log "dom0 up after $(uptime_s) s of kernel time"
	load_modules
	mount_shares
	mount_root
	modprobe_helper
	hostname dvm-xen-dom0
	ifconfig lo 127.0.0.1 up 2>/dev/null
	run_command
	halt
}

main
