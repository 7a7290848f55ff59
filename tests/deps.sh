#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs (apt) everything building and testing dvm-vol needs, and fetches the guest kernel
# .deb for the vm tier into $DVM_TEST_CACHE. Idempotent: when all is present it only checks.
# Usage: tests/deps.sh            (root; Debian 12)
set -euo pipefail

CACHE=${DVM_TEST_CACHE:-/var/cache/dvm-vol-test}
KERNEL_META=linux-image-amd64   # its dependency names the current kernel ABI package
PKGS=(
	build-essential gcc clang libclang-rt-14-dev pkg-config
	libdevmapper-dev libsqlite3-dev libjson-c-dev libcriterion-dev libblkid-dev libfuse3-dev
	fuse3 valgrind qemu-system-x86 thin-provisioning-tools e2fsprogs cpio zstd xz-utils kmod udev
	file util-linux lvm2 dmsetup sqlite3 gnuplot-nox fio bc
	libxen-dev xen-hypervisor-4.17-amd64 xen-utils-4.17
	ceph-mon ceph-osd ceph-common librbd-dev librados-dev uuid-runtime
)
export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0

say() { printf 'deps: %s\n' "$*"; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

apt_update() {
	[ "$APT_UPDATED" = 1 ] && return 0
	say "apt-get update"
	apt-get update -qq || die "apt-get update failed: check the apt sources and the network"
	APT_UPDATED=1
}

# busybox-static is preferred (the initramfs needs no libraries then); busybox also works.
have_busybox() {
	installed busybox-static || installed busybox
}

install_packages() {
	local missing=() p
	for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done
	have_busybox || missing+=(busybox-static)
	if [ ${#missing[@]} -eq 0 ]; then
		say "all ${#PKGS[@]} packages present"
		return 0
	fi
	apt_update
	say "apt-get install ${missing[*]}"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install of ${missing[*]} failed"
}

# The kernel ABI package linux-image-amd64 currently depends on, e.g. linux-image-6.1.0-56-amd64.
kernel_pkg() {
	apt-cache depends "$KERNEL_META" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

resolve_kernel_pkg() {
	local pkg
	pkg=$(kernel_pkg)
	if [ -z "$pkg" ]; then
		apt_update
		pkg=$(kernel_pkg)
	fi
	[ -n "$pkg" ] || die "$KERNEL_META: apt-cache depends names no linux-image package"
	echo "$pkg"
}

# apt-get download as root warns that it runs unsandboxed unless _apt can write the target
# directory; download into a private temporary directory it owns instead.
download_deb() {
	local pkg=$1 tmp
	tmp=$(mktemp -d "$CACHE/.download.XXXXXX")
	chown _apt "$tmp" 2>/dev/null || true
	if ! (cd "$tmp" && apt-get download -qq "$pkg"); then
		rm -rf "$tmp"
		return 1
	fi
	mv "$tmp"/*.deb "$CACHE/"
	rm -rf "$tmp"
}

fetch_kernel() {
	local pkg deb
	mkdir -p "$CACHE"
	pkg=$(resolve_kernel_pkg)
	deb=$(find "$CACHE" -maxdepth 1 -name "${pkg}_*_amd64.deb" | sort -V | tail -n 1)
	if [ -n "$deb" ]; then
		say "guest kernel $pkg cached ($deb)"
	else
		say "apt-get download $pkg into $CACHE"
		# stale lists name a version the archive no longer has: refresh once and retry
		download_deb "$pkg" || { apt_update; download_deb "$pkg"; } ||
			die "$pkg: apt-get download into $CACHE failed"
		deb=$(find "$CACHE" -maxdepth 1 -name "${pkg}_*_amd64.deb" | sort -V | tail -n 1)
		[ -n "$deb" ] || die "$pkg: downloaded, but no ${pkg}_*_amd64.deb in $CACHE"
	fi
	# the vm tier boots whatever kernel.deb points at
	if [ "$(readlink "$CACHE/kernel.deb" 2>/dev/null)" != "$(basename "$deb")" ]; then
		ln -sfn "$(basename "$deb")" "$CACHE/kernel.deb"
		say "guest kernel set: $CACHE/kernel.deb -> $(basename "$deb")"
	fi
}

main() {
	[ "$(id -u)" = 0 ] || die "must run as root (it installs packages with apt)"
	command -v apt-get >/dev/null || die "apt-get not found: a Debian 12 host is required"
	install_packages
	fetch_kernel
}

main "$@"
