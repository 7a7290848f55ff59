# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
# What the /init of a test guest does before it runs the host's command, shared by the vm
# tier's guest (tests/vm/guest-init.sh) and the xen tier's dom0 (tests/xen/dom0-init.sh); their
# mkinitramfs.sh put it at /lib/boot-init.sh. Busybox ash: POSIX sh plus local. The sourcing
# /init sets CTL (where the ctl share goes), INIT_NAME (its name in messages) and, to keep a
# failure where the host reads the command's output, INIT_FAIL_LOG.
#
# 9p shares from tests/lib/qemu-run.sh: ctl (cmd.sh, share, rc, timings), hostroot (the host's
# / read-only), share (the project tree, read-write, mounted at its own path). The command runs
# in $ROOT, a chroot of a writable overlay over the host root.

export PATH=/sbin:/bin
ROOT=/newroot
O9P=trans=virtio,version=9p2000.L,msize=512000
read -r KVER < /etc/dvm-kernel
KROOT=$(sed -n 2p /etc/dvm-kernel)

log() { echo "$INIT_NAME: $*"; }

halt() {
	sync
	poweroff -f
	sleep 10
}

fail() {
	log "error: $*"
	[ -n "${INIT_FAIL_LOG:-}" ] && [ -d "$CTL" ] && echo "$INIT_NAME: $*" >> "$INIT_FAIL_LOG" 2>/dev/null
	halt
}

uptime_s() {
	local up rest
	read -r up rest < /proc/uptime
	echo "$up"
}

# mount_kernel_fs TMP_SIZE: /proc, /sys, /dev and what bash and Xen's scripts expect in it
# (devtmpfs has no /dev/fd, /dev/stdin...), /run, and a RAM-backed /tmp of TMP_SIZE (no swap)
mount_kernel_fs() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm /dev/mapper
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
	mount -t tmpfs -o mode=1777 shm /dev/shm
	ln -sf /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	mount -t tmpfs -o "mode=1777,size=$1" tmp /tmp
	mount -t tmpfs -o mode=755 run /run
}

# the modules of /etc/modules.boot (mkinitramfs.sh lists them dependencies first)
load_modules() {
	local ko
	while read -r ko; do
		insmod "$ko" || log "warning: insmod $ko failed"
	done < /etc/modules.boot
	# dm creates /dev/mapper/control through devtmpfs; make sure even if that changes
	[ -e /dev/mapper/control ] || mknod /dev/mapper/control c 10 236
}

# Kernel requests for modules (dm targets, crypto) go to the host's kmod inside the chroot,
# which sees the full module tree; before the chroot exists, busybox's tree is all there is.
install_modprobe_helper() {
	# (no -x test on $ROOT/sbin/modprobe: it is an absolute symlink to /bin/kmod)
	cat > /sbin/dvm-modprobe <<-EOF
	#!/bin/sh
	[ -d $ROOT/lib/modules/$KVER/kernel ] && chroot $ROOT /sbin/modprobe "\$@" && exit 0
	exec /bin/modprobe "\$@"
	EOF
	chmod 755 /sbin/dvm-modprobe
	echo /sbin/dvm-modprobe > /proc/sys/kernel/modprobe
}

mount_shares() {
	mkdir -p "$CTL" /host
	mount -t 9p -o "$O9P,cache=none" ctl "$CTL" || fail "9p share ctl: mount failed"
	mount -t 9p -o "$O9P,cache=loose,ro" hostroot /host || fail "9p share hostroot: mount failed"
	[ -x /host/bin/bash ] || fail "host root share: /bin/bash missing"
}

# The host root stays read-only on the host; guest writes (/etc, /var/lib, /root) land in a
# tmpfs upper layer and vanish at poweroff.
mount_root() {
	local d
	mkdir -p /overlay
	mount -t tmpfs -o mode=755,size=25% overlay /overlay
	mkdir -p /overlay/upper /overlay/work
	mount -t overlay -o lowerdir=/host,upperdir=/overlay/upper,workdir=/overlay/work root "$ROOT" ||
		fail "overlay over the host root: mount failed"
	for d in dev proc sys tmp run; do
		mount --rbind "/$d" "$ROOT/$d" || fail "bind /$d into the chroot: mount failed"
	done
}

mount_project() {
	local share
	read -r share < "$CTL/share" || fail "$CTL/share: missing (the host's qemu-run.sh writes it)"
	mkdir -p "$ROOT$share"
	# cache=mmap: writes go straight to the host, and mmap (SQLite WAL) works
	mount -t 9p -o "$O9P,cache=mmap" share "$ROOT$share" || fail "9p share $share: mount failed"
}

# `modprobe X` inside the chroot (and the helper above) use the full tree of the kernel .deb
mount_modules() {
	local tree=$ROOT$KROOT/lib/modules/$KVER
	if [ ! -d "$tree/kernel" ]; then
		log "warning: $KROOT/lib/modules/$KVER not in the host share; only boot modules available"
		return 0
	fi
	mkdir -p "$ROOT/lib/modules/$KVER"
	mount --bind "$tree" "$ROOT/lib/modules/$KVER" || log "warning: bind of $tree failed"
}

# boot_to_chroot TMP_SIZE HOSTNAME [FUNCTION]: all of the above, in order; FUNCTION runs once
# the modules are in, before the chroot's bind mounts copy the mount tree
boot_to_chroot() {
	mount_kernel_fs "$1"
	log "up after $(uptime_s) s of kernel time"
	load_modules
	[ -n "${3:-}" ] && "$3"
	install_modprobe_helper
	mount_shares
	mount_root
	mount_project
	mount_modules
	hostname "$2"
	ifconfig lo 127.0.0.1 up 2>/dev/null
}

# run_in_chroot VAR=VALUE...: ctl/cmd.sh under the host's bash in the chroot, with a clean
# environment plus the given variables; stdio as the caller redirects it. Leaves its status in
# ctl/rc and the uptimes around it in ctl/t-begin and ctl/t-end.
run_in_chroot() {
	local rc
	uptime_s > "$CTL/t-begin"
	cd /
	chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM=dumb LANG=C.UTF-8 DM_DISABLE_UDEV=1 "$@" /bin/bash "$CTL/cmd.sh" < /dev/null
	rc=$?
	uptime_s > "$CTL/t-end"
	return $rc
}
