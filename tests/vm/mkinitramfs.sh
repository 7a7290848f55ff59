#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the vm tier's boot files under $DVM_TEST_CACHE/vm: the uncompressed PVH `vmlinux`
# and a busybox `initrd.img` whose /init (guest-init.sh) loads the dm/9p/loop modules and runs
# the test command in a chroot of the host root. Cached: rebuilt only when an input is newer.
# Usage: tests/vm/mkinitramfs.sh [--force]      (kernel .deb from tests/deps.sh)
# The cache key is the content of the inputs, not their mtimes: a fresh clone reuses the build.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${DVM_TEST_CACHE:-/var/cache/dvm-vol-test}
KDEB=${DVM_TEST_KDEB:-$CACHE/kernel.deb}
OUT=$CACHE/vm
KROOT=$OUT/kroot
STAGE=$OUT/stage

# Modules the guest loads at boot, dependencies first (modprobe --show-depends adds the rest).
# Everything here is =m in Debian's config, even loop, virtio and 9p. Others load on demand
# from the full module tree through the host-root share (see guest-init.sh).
MODULES=(
	virtio_pci virtio_blk 9pnet_virtio 9p overlay
	loop brd zram fuse ext4
	dm-mod dm-bufio dm-bio-prison crc32c_generic dm-persistent-data
	dm-thin-pool dm-snapshot dm-crypt xts dm-zero dm-flakey dm-delay
)
# These need CPU features TCG's default qemu64 model lacks (SSE4.2, AES-NI): never load them.
SKIP_MODULES='crc32c-intel|aesni-intel'

say() { printf 'mkinitramfs: %s\n' "$*"; }
die() { printf 'mkinitramfs: error: %s\n' "$*" >&2; exit 1; }

# deb_id: names the kernel .deb's current version (path, size, mtime) without hashing 70 MB
deb_id() {
	stat -L -c '%n %s %Y' "$(readlink -f "$KDEB")"
}

# build_id: what the outputs are made of; they are rebuilt when it changes
build_id() {
	deb_id
	sha256sum "$HERE/mkinitramfs.sh" "$HERE/guest-init.sh" "$HERE/../lib/boot-init.sh" "$(command -v busybox)" |
		cut -d' ' -f1
}

up_to_date() {
	[ -s "$OUT/vmlinux" ] && [ -s "$OUT/initrd.img" ] &&
		[ "$(cat "$OUT/build.id" 2>/dev/null)" = "$(build_id)" ]
}

# Extracted once per .deb: a VM that is running loads modules from this tree (via 9p).
extract_kernel() {
	if [ "$(cat "$KROOT/.deb.id" 2>/dev/null)" = "$(deb_id)" ] && [ -s "$OUT/vmlinux" ]; then
		KVER=$(ls "$KROOT/lib/modules")
		return 0
	fi
	rm -rf "$KROOT"
	mkdir -p "$KROOT"
	dpkg-deb -x "$KDEB" "$KROOT" || die "$KDEB: dpkg-deb -x failed"
	KVER=$(ls "$KROOT/lib/modules")
	[ -n "$KVER" ] && [ "$(echo "$KVER" | wc -l)" = 1 ] ||
		die "$KDEB: expected one kernel in lib/modules, found '${KVER//$'\n'/ }'"
	# the .deb ships no modules.dep; the guest's modprobe needs it
	depmod -b "$KROOT" "$KVER" || die "$KROOT: depmod $KVER failed"
	extract_vmlinux
	deb_id > "$KROOT/.deb.id"
}

# QEMU boots an uncompressed ELF vmlinux directly through its PVH entry note; that skips the
# firmware and the in-guest xz decompression, about 4 s per boot under TCG.
extract_vmlinux() {
	local vmlinuz=$KROOT/boot/vmlinuz-$KVER off tmp=$OUT/vmlinux.tmp
	for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1); do
		tail -c +$((off + 1)) "$vmlinuz" | xz -dcq --single-stream > "$tmp" 2>/dev/null || true
		if [ "$(head -c 4 "$tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			break
		fi
	done
	[ -s "$tmp" ] && [ "$(head -c 4 "$tmp" | od -An -c | tr -d ' ')" = '177ELF' ] ||
		{ rm -f "$tmp"; die "$vmlinuz: no xz-compressed ELF kernel inside"; }
	readelf -n "$tmp" | grep -q '^ *Xen ' ||
		{ rm -f "$tmp"; die "$vmlinuz: vmlinux has no Xen/PVH entry note (CONFIG_PVH off?)"; }
	mv "$tmp" "$OUT/vmlinux"
}

# copy_exe SRC DST: an executable plus the shared libraries it needs (none if static)
copy_exe() {
	local src=$1 dst=$2 lib
	install -D -m 755 "$src" "$STAGE$dst"
	{ ldd "$src" 2>/dev/null || true; } | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
		[ -e "$STAGE$lib" ] || install -D -m 644 "$(readlink -f "$lib")" "$STAGE$lib"
	done
}

stage_busybox() {
	local bb app
	bb=$(command -v busybox) || die "busybox not found: run tests/deps.sh"
	mkdir -p "$STAGE"/{bin,sbin,etc,proc,sys,dev,tmp,run,host,newroot,lib64}
	copy_exe "$bb" /bin/busybox
	for app in $("$STAGE/bin/busybox" --list); do
		[ -e "$STAGE/bin/$app" ] || ln -s busybox "$STAGE/bin/$app"
	done
}

module_paths() {
	local m
	for m in "${MODULES[@]}"; do
		modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" ||
			die "module $m: not in $KDEB"
	done | awk '$1 == "insmod" { print $2 }' | grep -Ev "/($SKIP_MODULES)\.ko" | awk '!seen[$0]++'
}

stage_modules() {
	local mdir=/lib/modules/$KVER ko rel
	mkdir -p "$STAGE$mdir"
	: > "$STAGE/etc/modules.boot"
	for ko in $(module_paths); do
		rel=${ko#"$KROOT"}
		install -D -m 644 "$ko" "$STAGE$rel"
		echo "$rel" >> "$STAGE/etc/modules.boot"
	done
	cp "$KROOT$mdir"/modules.{order,builtin,builtin.modinfo} "$STAGE$mdir/"
	depmod -b "$STAGE" "$KVER" || die "$STAGE: depmod $KVER failed"
}

stage_init() {
	install -m 755 "$HERE/guest-init.sh" "$STAGE/init"
	install -D -m 644 "$HERE/../lib/boot-init.sh" "$STAGE/lib/boot-init.sh"
	# where the guest finds the full module tree inside the host-root share
	printf '%s\n%s\n' "$KVER" "$KROOT" > "$STAGE/etc/dvm-kernel"
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$STAGE/etc/passwd"
	printf 'root:x:0:\n' > "$STAGE/etc/group"
}

# Uncompressed: the kernel unpacks a plain cpio faster under TCG than it decompresses one.
pack() {
	(cd "$STAGE" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) \
		> "$OUT/initrd.img.tmp" || die "$STAGE: cpio failed"
	mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
}

build() {
	local t0=$SECONDS
	[ -e "$KDEB" ] || die "$KDEB: no guest kernel .deb: run tests/deps.sh"
	say "building $OUT from $(basename "$(readlink -f "$KDEB")")"
	extract_kernel
	rm -rf "$STAGE"
	stage_busybox
	stage_modules
	stage_init
	pack
	build_id > "$OUT/build.id"
	say "built vmlinux + initrd.img ($(du -h "$OUT/initrd.img" | cut -f1)," \
		"$(wc -l < "$STAGE/etc/modules.boot") modules, kernel $KVER) in $((SECONDS - t0)) s"
}

main() {
	local force=0
	[ "${1:-}" = --force ] && force=1
	mkdir -p "$OUT"
	# one builder at a time; a concurrent caller waits and then finds it up to date
	exec 9> "$OUT/.lock"
	flock 9
	if [ "$force" = 0 ] && up_to_date; then
		say "up to date: $OUT/{vmlinux,initrd.img}"
		return 0
	fi
	build
}

main "$@"
