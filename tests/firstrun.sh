#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's first command on a machine that has none of the project's packages, simulated:
# in a fresh clone, with pkg-config and dpkg-query answering "not installed" until the
# dependency step's apt-get install has run, `make demo` must install, build with the flags of
# what it installed, and pass. (Before the fix the first make read pkg-config before the
# install and linked libdvm.so.0 without libxenstore.)
# Usage: tests/firstrun.sh [REV]    (root; REV: the commit to clone, default HEAD)
#        env: DVM_FIRSTRUN_KEEP=1 keeps the clone
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
REV=${1:-HEAD}

die() { printf 'firstrun: error: %s\n' "$*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "must run as root (make demo installs packages and boots the test VM)"
REAL_PKGCONFIG=$(command -v pkg-config) || die "pkg-config: not found (run tests/deps.sh)"
REAL_DPKGQUERY=$(command -v dpkg-query) || die "dpkg-query: not found (not a Debian system?)"
REAL_APTGET=$(command -v apt-get) || die "apt-get: not found (not a Debian system?)"

# Not under /tmp: the test VM mounts its own /tmp and would not see the clone's build tree.
WORK=$(mktemp -d /var/tmp/dvm-firstrun.XXXXXX)
cleanup() {
	[ "${DVM_FIRSTRUN_KEEP:-0}" = 1 ] && { echo "firstrun: kept $WORK"; return; }
	rm -rf "$WORK"
}
trap cleanup EXIT

git clone -q --no-hardlinks "$TOP" "$WORK/src"
git -C "$WORK/src" checkout -q "$REV"

# The shims: until the marker exists (apt-get install has run), nothing is installed.
SHIMS=$WORK/shims MARKER=$WORK/installed
mkdir -p "$SHIMS"
cat >"$SHIMS/pkg-config" <<EOF
#!/bin/sh
[ -e "$MARKER" ] && exec "$REAL_PKGCONFIG" "\$@"
for a; do last=\$a; done
echo "Package \$last was not found in the pkg-config search path." >&2
exit 1
EOF
cat >"$SHIMS/dpkg-query" <<EOF
#!/bin/sh
[ -e "$MARKER" ] && exec "$REAL_DPKGQUERY" "\$@"
for a; do last=\$a; done
echo "dpkg-query: no packages found matching \$last" >&2
exit 1
EOF
cat >"$SHIMS/apt-get" <<EOF
#!/bin/sh
"$REAL_APTGET" "\$@" || exit \$?
case " \$* " in *" install "*) touch "$MARKER" ;; esac
EOF
chmod +x "$SHIMS"/*

# The shims answer as on a new machine: pkg-config knows nothing before the install.
PATH=$SHIMS:$PATH pkg-config --exists xenstore 2>/dev/null && die "the pkg-config shim answers before the install"

t0=$SECONDS
rc=0
(cd "$WORK/src" && PATH=$SHIMS:$PATH make demo) >"$WORK/make-demo.log" 2>&1 || rc=$?
[ -e "$MARKER" ] || { tail -n 30 "$WORK/make-demo.log"; die "make demo never ran apt-get install: the first run was not simulated"; }
if [ "$rc" != 0 ]; then
	tail -n 40 "$WORK/make-demo.log"
	printf 'firstrun: FAILED: make demo as the first command exited %d after %d s (rev %s)\n' "$rc" $((SECONDS - t0)) "$REV"
	exit 1
fi
grep -q 'demo: OK' "$WORK/make-demo.log" || { tail -n 30 "$WORK/make-demo.log"; die "make demo exited 0 without the demo's OK line"; }
printf 'firstrun: make demo as the first command passed in %d s (rev %s)\n' $((SECONDS - t0)) "$REV"
