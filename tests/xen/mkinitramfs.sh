#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the xen tier's boot files under $DVM_TEST_CACHE/xen: `xen` (Debian's hypervisor as the
# ELF that QEMU's multiboot loader takes), `dom0-initrd.img` (busybox, the Xen and dm modules,
# dom0-init.sh with tests/lib/boot-init.sh) and `domu-initrd.img` (busybox, xen-blkfront,
# domu-init.sh). The kernel of dom0 and of the domUs is the vm tier's uncompressed vmlinux of
# Debian's kernel package, so this runs tests/vm/mkinitramfs.sh first. Cached: rebuilt only
# when an input changes.
# Usage: tests/xen/mkinitramfs.sh [--force]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
CACHE=${DVM_TEST_CACHE:-/var/cache/dvm-vol-test}
XENGZ=${DVM_TEST_XEN:-/boot/xen-4.17-amd64.gz}
VMOUT=$CACHE/vm          # the vm tier's kernel tree and vmlinux
KROOT=$VMOUT/kroot
OUT=$CACHE/xen

# dom0 serves the domUs' disks (blkback) from our dm devices over loop-backed pool files, and
# reaches the host over 9p; the rest loads on demand from the full tree in the host share.
DOM0_MODULES=(
	xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-blkback
	virtio_pci virtio_blk 9pnet_virtio 9p overlay loop
	dm-mod dm-bufio dm-bio-prison dm-persistent-data dm-thin-pool dm-snapshot dm-crypt xts
)
DOMU_MODULES=(xen-blkfront)
# Nehalem has neither AES-NI nor the instructions these need under TCG: never load them.
SKIP_MODULES='crc32c-intel|aesni-intel'

say() { printf 'xen mkinitramfs: %s\n' "$*"; }
die() { printf 'xen mkinitramfs: error: %s\n' "$*" >&2; exit 1; }

build_id() {
	cat "$VMOUT/build.id" 2>/dev/null
	stat -L -c '%n %s %Y' "$XENGZ"
	sha256sum "$HERE/mkinitramfs.sh" "$HERE/dom0-init.sh" "$HERE/domu-init.sh" "$TOP/tests/lib/boot-init.sh" \
		"$(command -v busybox)" |
		cut -d' ' -f1
}

up_to_date() {
	[ -s "$OUT/xen" ] && [ -s "$OUT/dom0-initrd.img" ] && [ -s "$OUT/domu-initrd.img" ] &&
		[ "$(cat "$OUT/build.id" 2>/dev/null)" = "$(build_id)" ]
}

# module_paths MODULE...: the .ko files to insmod, dependencies first
module_paths() {
	local m
	for m in "$@"; do
		modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" || die "module $m: not in the kernel package"
	done | awk '$1 == "insmod" { print $2 }' | grep -Ev "/($SKIP_MODULES)\.ko" | awk '!seen[$0]++'
}

# stage DIR INIT MODULE...: busybox, the modules (listed in load order in /etc/modules.boot), /init
stage() {
	local dir=$1 init=$2 ko rel app
	shift 2
	rm -rf "$dir"
	mkdir -p "$dir"/{bin,sbin,etc,proc,sys,dev,tmp,run,newroot}
	install -m 755 "$(command -v busybox)" "$dir/bin/busybox"
	ldd "$dir/bin/busybox" >/dev/null 2>&1 && die "busybox is dynamically linked: install busybox-static"
	for app in $("$dir/bin/busybox" --list); do
		[ -e "$dir/bin/$app" ] || ln -s busybox "$dir/bin/$app"
	done
	: > "$dir/etc/modules.boot"
	for ko in $(module_paths "$@"); do
		rel=${ko#"$KROOT"}
		rel=/${rel#/./}
		install -D -m 644 "$ko" "$dir$rel"
		echo "$rel" >> "$dir/etc/modules.boot"
	done
	install -m 755 "$init" "$dir/init"
	printf '%s\n%s\n' "$KVER" "$KROOT" > "$dir/etc/dvm-kernel"
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$dir/etc/passwd"
	printf 'root:x:0:\n' > "$dir/etc/group"
}

# Uncompressed: faster to unpack under TCG than to decompress.
pack() {
	(cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) > "$2.tmp" ||
		die "$1: cpio failed"
	mv "$2.tmp" "$2"
}

build() {
	local t0=$SECONDS
	[ -r "$XENGZ" ] || die "$XENGZ: no Xen hypervisor: run tests/deps.sh (xen-hypervisor-4.17-amd64)"
	KVER=$(ls "$KROOT/lib/modules")
	# QEMU's multiboot loader takes an ELF, not the gzip Debian ships
	zcat "$XENGZ" > "$OUT/xen.tmp" && mv "$OUT/xen.tmp" "$OUT/xen"
	stage "$OUT/dom0" "$HERE/dom0-init.sh" "${DOM0_MODULES[@]}"
	install -D -m 644 "$TOP/tests/lib/boot-init.sh" "$OUT/dom0/lib/boot-init.sh"
	pack "$OUT/dom0" "$OUT/dom0-initrd.img"
	stage "$OUT/domu" "$HERE/domu-init.sh" "${DOMU_MODULES[@]}"
	pack "$OUT/domu" "$OUT/domu-initrd.img"
	build_id > "$OUT/build.id"
	say "built xen, dom0-initrd.img ($(du -h "$OUT/dom0-initrd.img" | cut -f1)), domu-initrd.img" \
		"($(du -h "$OUT/domu-initrd.img" | cut -f1)), kernel $KVER, in $((SECONDS - t0)) s"
}

main() {
	local force=0
	[ "${1:-}" = --force ] && force=1
	"$TOP/tests/vm/mkinitramfs.sh" >/dev/null || die "tests/vm/mkinitramfs.sh failed"
	if [ ! -d "$KROOT/lib/modules" ] || [ ! -s "$VMOUT/vmlinux" ]; then
		die "$VMOUT: no kernel tree or vmlinux"
	fi
	mkdir -p "$OUT"
	exec 9> "$OUT/.lock"
	flock 9
	if [ "$force" = 0 ] && up_to_date; then
		say "up to date: $OUT"
		return 0
	fi
	build
}

main "$@"
