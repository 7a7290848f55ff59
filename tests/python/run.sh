#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The host tier of the Python package (driver/python/dvm_vol): the binding's struct layouts
# against the C compiler, its error mapping, the Qubes pool driver's option parsing, under
# Debian's /usr/bin/python3 (the interpreter qubesd runs), against BUILD's libdvm.so.0.
# Prints "python-tier: N run, M failed"; non-zero exit on any failure.
# Usage: tests/python/run.sh BUILD
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$(cd "${1:?usage: tests/python/run.sh BUILD}" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "python tier: $PY missing (Debian's python3)" >&2; exit 2; }
[ -f "$BUILD/libdvm.so.0" ] || { echo "python tier: $BUILD/libdvm.so.0: not built" >&2; exit 2; }
cd "$HERE"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
DVM_BUILD=$BUILD DVM_LIBDVM=$BUILD/libdvm.so.0 "$PY" -m unittest discover -s "$HERE" -p 'test_*.py' -v 2>&1 | tee "$log" || rc=$?
run=$(sed -n 's/^Ran \([0-9]*\) tests\?.*/\1/p' "$log")
failed=$(sed -n 's/^FAILED (\(.*\))/\1/p' "$log" | tr -cd '0-9,=a-z' | awk -F, '{ n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^(failures|errors)=/) { split($i, a, "="); n += a[2] } print n }')
printf 'python-tier: %s run, %s failed\n' "${run:-0}" "${failed:-0}"
exit "$rc"
