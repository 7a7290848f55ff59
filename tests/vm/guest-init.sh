#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the vm tier guest (busybox ash; mkinitramfs.sh installs it). Mounts the kernel file
# systems and the 9p shares, loads the modules, runs the host's command in a chroot of a
# writable overlay over the read-only host root, leaves its exit status in the ctl share, powers off.
#
# 9p shares from run-in-vm.sh: ctl (cmd.sh, share, rc, timings), hostroot (host / read-only),
# share (the project tree, read-write, mounted at the same absolute path as on the host).
# The command's stdout goes to ttyS1 and its stderr to ttyS2; ttyS0 is the kernel console.

# shellcheck shell=dash  # busybox ash: POSIX sh plus local
export PATH=/sbin:/bin
CTL=/run/dvm-vm
ROOT=/newroot
O9P=trans=virtio,version=9p2000.L,msize=512000
read -r KVER < /etc/dvm-kernel
KROOT=$(sed -n 2p /etc/dvm-kernel)

log() { echo "dvm-init: $*"; }

halt() {
	sync
	poweroff -f
	sleep 10
}

fail() {
	log "error: $*"
	halt
}

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
	# RAM-backed and swap-free (the guest has no swap): sized for sparse pool files
	mount -t tmpfs -o mode=1777,size=75% tmp /tmp
	mount -t tmpfs -o mode=755 run /run
}

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
	mkdir -p "$CTL"
	mount -t 9p -o "$O9P,cache=none" ctl "$CTL" || fail "9p share ctl: mount failed"
	mount -t 9p -o "$O9P,cache=loose,ro" hostroot /host || fail "9p share hostroot: mount failed"
	[ -x /host/bin/bash ] || fail "host root share: /bin/bash missing"
}

# The host root stays read-only on the host; guest writes (/etc/lvm, /var/lib, /root) land in
# a tmpfs upper layer and vanish at poweroff.
mount_root() {
	mkdir -p /overlay
	mount -t tmpfs -o mode=755,size=25% overlay /overlay
	mkdir -p /overlay/upper /overlay/work
	mount -t overlay -o lowerdir=/host,upperdir=/overlay/upper,workdir=/overlay/work \
		root "$ROOT" || fail "overlay over the host root: mount failed"
	for d in dev proc sys tmp run; do
		mount --rbind "/$d" "$ROOT/$d" || fail "bind /$d into the chroot: mount failed"
	done
}

mount_project() {
	local share
	read -r share < "$CTL/share" || fail "$CTL/share: missing (run-in-vm.sh writes it)"
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

uptime_s() {
	local up rest
	read -r up rest < /proc/uptime
	echo "$up"
}

run_command() {
	local rc
	stty -F /dev/ttyS1 raw -echo && stty -F /dev/ttyS2 raw -echo || fail "ttyS1/ttyS2: stty failed"
	uptime_s > "$CTL/t-begin"
	cd /
	chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM=dumb LANG=C.UTF-8 DM_DISABLE_UDEV=1 DVM_TEST_VM=1 \
		/bin/bash "$CTL/cmd.sh" < /dev/null > /dev/ttyS1 2> /dev/ttyS2
	rc=$?
	uptime_s > "$CTL/t-end"
	# drain: stty waits until the ports have sent everything
	stty -F /dev/ttyS1 raw; stty -F /dev/ttyS2 raw
	echo "$rc" > "$CTL/rc"
	log "command exited with status $rc"
}

main() {
	mount_kernel_fs
	load_modules
	install_modprobe_helper
	mount_shares
	mount_root
	mount_project
	mount_modules
	hostname dvm-test
	ifconfig lo 127.0.0.1 up 2>/dev/null
	run_command
	halt
}

main
