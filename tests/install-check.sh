#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks `make install` (host, no root): installs into a temporary DESTDIR for two PREFIXes and
# checks the tree: every file in place with its mode, the library's soname, symlink and exported
# symbols, a program built against the installed header through pkg-config (shared and static),
# the installed tool running, no @PLACEHOLDER@ left in the generated files, paths that follow
# PREFIX, the bash completion answering, and the Python package: where Debian's /usr/bin/python3
# finds it, its entry point listed by importlib.metadata under qubes.storage as dvm_vol, and the
# installed binding loading the installed library.
# Usage: tests/install-check.sh BUILD
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:?usage: tests/install-check.sh BUILD}
FAILS=0 CHECKS=0
TMP=$(mktemp -d /tmp/dvm-install-check.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

fail() { printf 'install-check: FAIL: %s\n' "$*"; FAILS=$((FAILS + 1)); }
check() { CHECKS=$((CHECKS + 1)); }

# expect_file PATH MODE: a regular file with that octal mode
expect_file() {
	local f=$1 mode=$2 got
	check
	if [ ! -f "$f" ] || [ -L "$f" ]; then fail "$f: missing (or not a regular file)"; return; fi
	got=$(stat -c %a "$f")
	[ "$got" = "$mode" ] || fail "$f: mode $got, expected $mode"
}

# install_into DEST PREFIX: make install into DEST, quietly unless it fails
install_into() {
	local dest=$1 prefix=$2 log
	log=$(make -C "$TOP" --no-print-directory BUILD="$BUILD" DESTDIR="$dest" PREFIX="$prefix" install 2>&1) || {
		printf '%s\n' "$log"
		fail "make install DESTDIR=$dest PREFIX=$prefix failed"
		return 1
	}
}

check_tree() {
	local d=$1 prefix=$2 lib=$1$2/lib sbin=$1$2/sbin f t m
	expect_file "$lib/libdvm.so.0" 755
	expect_file "$lib/libdvm.a" 644
	expect_file "$d$prefix/include/dvm.h" 644
	expect_file "$lib/pkgconfig/libdvm.pc" 644
	for f in "$TOP"/udev/*.rules.in; do
		[ -e "$f" ] || continue
		f=$(basename "$f")
		expect_file "$d/lib/udev/rules.d/${f%.in}" 644
	done
	for f in "$TOP"/systemd/*.in; do
		[ -e "$f" ] || continue
		f=$(basename "$f")
		expect_file "$d/lib/systemd/system/${f%.in}" 644
	done
	expect_file "$d$prefix/share/bash-completion/completions/dvm-vol" 644
	for t in "$TOP"/tools/*/; do
		t=$(basename "$t")
		case $t in
		block-dvm) expect_file "$d/etc/xen/scripts/block-dvm" 755 ;;
		dvm-udev-id) expect_file "$d/lib/udev/dvm-udev-id" 755 ;;
		*) expect_file "$sbin/$t" 755 ;;
		esac
	done
	for m in "$TOP"/docs/man/*.[1-8]; do
		expect_file "$d$prefix/share/man/man${m##*.}/$(basename "$m")" 644
	done
	check
	[ "$(readlink "$lib/libdvm.so")" = libdvm.so.0 ] ||
		fail "$lib/libdvm.so: '$(readlink "$lib/libdvm.so")', expected a symlink to libdvm.so.0"
	check
	f=$(readelf -d "$lib/libdvm.so.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
	[ "$f" = libdvm.so.0 ] || fail "soname of the installed library: '$f'"
	# librbd and librados (C++, ~80 ms of constructors an exec) load when an rbd pool is used,
	# not with the library or a tool: block-dvm runs on every attach
	for t in "$lib/libdvm.so.0" "$sbin/dvm-vol" "$d/etc/xen/scripts/block-dvm"; do
		check
		f=$(readelf -d "$t" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -E '^lib(rbd|rados)' | tr '\n' ' ' || true)
		[ -z "$f" ] || fail "$t needs $f at start (they must load on first use)"
	done
	check
	f=$(nm -D --defined-only "$lib/libdvm.so.0" | awk '$2 == "T" && $3 !~ /^dvm_/ { print $3 }')
	[ -z "$f" ] || fail "the library exports functions outside dvm_*: $f"
	check
	f=$(grep -l '@[A-Z_]*@' "$d"/lib/udev/rules.d/* "$d"/lib/systemd/system/* "$lib"/pkgconfig/* 2>/dev/null || true)
	[ -z "$f" ] || fail "placeholders left in: $f"
	check
	grep -q 'IMPORT{program}="/lib/udev/dvm-udev-id ' "$d/lib/udev/rules.d/57-dvm-vol.rules" ||
		fail "57-dvm-vol.rules does not run /lib/udev/dvm-udev-id"
	check
	f=$(readelf -d "$d/lib/udev/dvm-udev-id" 2>&1 | sed -n -e 's/.*(NEEDED).*\[\(.*\)\]/\1/p' -e 's/.*no dynamic section.*/none/p' | tr '\n' ' ')
	[ "$f" = "none " ] || fail "/lib/udev/dvm-udev-id is not a static program: needs $f"
	if [ -f "$TOP/udev/90-dvm-vol-xen.rules.in" ]; then
		check
		grep -q "RUN+=\"$prefix/sbin/dvm-vol reap " "$d/lib/udev/rules.d/90-dvm-vol-xen.rules" ||
			fail "90-dvm-vol-xen.rules does not run $prefix/sbin/dvm-vol"
	fi
	if [ -f "$TOP/systemd/dvm-vol.service.in" ]; then
		check
		grep -q "^ExecStart=$prefix/sbin/dvm-vol .*recover --all$" "$d/lib/systemd/system/dvm-vol.service" ||
			fail "dvm-vol.service: ExecStart is '$(grep ExecStart "$d/lib/systemd/system/dvm-vol.service")'"
	fi
	check
	"$sbin/dvm-vol" --help | grep -q '^Usage: dvm-vol' || fail "the installed dvm-vol --help does not print its usage"
}

# A program against the installed library, found through its pkg-config file.
check_pkgconfig() {
	local d=$1 prefix=$2 pc cflags libs
	pc=(env PKG_CONFIG_SYSROOT_DIR="$d" PKG_CONFIG_PATH="$d$prefix/lib/pkgconfig" pkg-config)
	check
	"${pc[@]}" --validate libdvm || fail "libdvm.pc does not validate"
	check
	[ "$("${pc[@]}" --variable=libdir libdvm)" = "$d$prefix/lib" ] ||
		fail "libdvm.pc: libdir is '$("${pc[@]}" --variable=libdir libdvm)', expected $d$prefix/lib"
	cat > "$TMP/prog.c" <<-'C'
	#include <dvm.h>
	#include <stdio.h>
	int main(void)
	{
	        uint64_t n = 0;
	        char buf[32];
	        if (dvm_parse_size("3G", &n) < 0)
	                return 1;
	        printf("%s\n", dvm_format_size(n, buf, sizeof(buf)));
	        return 0;
	}
	C
	cflags=$("${pc[@]}" --cflags libdvm)
	libs=$("${pc[@]}" --libs libdvm)
	check
	# shellcheck disable=SC2086 # pkg-config output is a list of words
	if cc $cflags -o "$TMP/prog" "$TMP/prog.c" $libs 2>"$TMP/cc.log"; then
		[ "$(LD_LIBRARY_PATH="$d$prefix/lib" "$TMP/prog")" = 3G ] ||
			fail "a program linked to the installed libdvm.so.0 printed '$(LD_LIBRARY_PATH="$d$prefix/lib" "$TMP/prog")'"
	else
		fail "build against the installed library failed: $(cat "$TMP/cc.log")"
	fi
	check
	libs=$("${pc[@]}" --static --libs libdvm)
	# shellcheck disable=SC2086
	if cc $cflags -o "$TMP/prog-static" "$TMP/prog.c" "$d$prefix/lib/libdvm.a" $libs 2>"$TMP/cc.log"; then
		[ "$("$TMP/prog-static")" = 3G ] || fail "a program linked to libdvm.a printed '$("$TMP/prog-static")'"
	else
		fail "static build against the installed libdvm.a failed: $(cat "$TMP/cc.log")"
	fi
}

# The Python package under Debian's interpreter (not the python3 on PATH: that may be another).
check_python() {
	local d=$1 prefix=$2 py=/usr/bin/python3 site want got f
	[ -x "$py" ] || { fail "$py: missing (Debian's python3)"; return; }
	if [ "$prefix" = /usr ]; then
		site=/usr/lib/python3/dist-packages
	else
		site=$prefix/lib/python$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')/dist-packages
	fi
	for f in "$TOP"/driver/python/dvm_vol/*.py; do
		expect_file "$d$site/dvm_vol/$(basename "$f")" 644
	done
	check
	if [ "$prefix" = /usr ] || [ "$prefix" = /usr/local ]; then
		# the directory is on Debian's default path: no PYTHONPATH needed once installed
		"$py" -c 'import sys; sys.exit(0 if sys.argv[1] in sys.path else 1)' "$site" ||
			fail "$site is not on the sys.path of $py"
	fi
	check
	got=$(cd / && PYTHONPATH=$d$site "$py" -c '
import importlib.metadata as m
print(" ".join(f"{e.name}={e.value}" for e in m.entry_points(group="qubes.storage")))')
	want="dvm_vol=dvm_vol.qubes_pool:DvmVolPool"
	[ "$got" = "$want" ] || fail "entry points of group qubes.storage: '$got', expected '$want'"
	check
	# the entry point loads the installed driver (the tests' stand-in of qubes.storage under it)
	got=$(cd / && PYTHONPATH=$d$site:$TOP/tests/python/stand_in "$py" -c '
import importlib.metadata as m
(ep,) = m.entry_points(group="qubes.storage", name="dvm_vol")
cls = ep.load()
print(cls.__module__, cls.__name__, cls.driver, __import__(cls.__module__).__file__)' 2>&1)
	want="dvm_vol.qubes_pool DvmVolPool dvm_vol $d$site/dvm_vol/__init__.py"
	[ "$got" = "$want" ] || fail "loading the entry point dvm_vol: '$got', expected '$want'"
	check
	got=$(cd / && PYTHONPATH=$d$site "$py" -c 'from dvm_vol import _config; print(_config.LIBDVM)')
	[ "$got" = "$prefix/lib/libdvm.so.0" ] || fail "dvm_vol/_config.py: LIBDVM '$got', expected $prefix/lib/libdvm.so.0"
	check
	got=$(cd / && DVM_LIBDVM=$d$prefix/lib/libdvm.so.0 PYTHONPATH=$d$site "$py" -c '
from dvm_vol import _libdvm; print(_libdvm.parse_size("3G"))' 2>&1)
	[ "$got" = 3221225472 ] || fail "the installed binding over the installed library: '$got'"
	check
	grep -q "^dvm_vol/_libdvm.py,sha256=" "$d$site"/dvm_vol-*.dist-info/RECORD ||
		fail "the dist-info RECORD does not list dvm_vol/_libdvm.py"
}

# The completion function, called as bash would for "dvm-vol <words>".
check_completion() {
	local file=$1 want got line words
	while IFS='|' read -r line want; do
		read -r -a words <<< "$line"
		check
		got=$(bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dvm_vol;
			echo "${COMPREPLY[*]}"' _ "$file" dvm-vol "${words[@]}")
		[ "$got" = "$want" ] || fail "completion of 'dvm-vol $line': '$got', expected '$want'"
	done <<-'EOF'
	po|pool
	pool a|activate
	pool init --ba|--backend
	pool init --sk|--skip-zeroing
	pool init --skip-zeroing y|yes
	spawn x --na|--name
	rec|recover
	EOF
}

main() {
	local prefix d
	[ -x "$BUILD/dvm-vol" ] || { echo "install-check: $BUILD/dvm-vol: not built" >&2; exit 2; }
	for prefix in /usr /usr/local /opt/dvm; do
		d=$TMP/root${prefix//\//_}
		install_into "$d" "$prefix" || continue
		check_tree "$d" "$prefix"
		check_pkgconfig "$d" "$prefix"
		check_python "$d" "$prefix"
	done
	check_completion "$TMP/root_usr/usr/share/bash-completion/completions/dvm-vol"
	printf 'install-check: %d checks, %d failed\n' "$CHECKS" "$FAILS"
	[ "$FAILS" = 0 ]
}

main "$@"
