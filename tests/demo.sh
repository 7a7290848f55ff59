#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job end to end (make demo): a default pool, a TemplateVM imported from a generated
# ext4 image, a DVM Template, three disposables, a file that one disposable writes and only it
# sees, everything destroyed, and the pool's usage back where it started.
# Usage: tests/demo.sh BUILD     (root, device-mapper; tests/vm/run.sh runs it in the VM)
set -euo pipefail

BUILD=$(cd "${1:?usage: tests/demo.sh BUILD}" && pwd)
export DVM_STATE_DIR=${DVM_STATE_DIR:-$(mktemp -d /tmp/dvm-demo.XXXXXX)}
WORK=$(mktemp -d /tmp/dvm-demo-work.XXXXXX)
DISPS=()

dvm() { "$BUILD/dvm-vol" "$@"; }
say() { printf '\n== %s\n' "$*"; }
ms_since() { echo $(( (${EPOCHREALTIME/./} - $1) / 1000 )); }
fail() { printf 'demo: FAILED: %s\n' "$*" >&2; exit 1; }
data_used() { dvm --json pool info | sed -n 's/^ *"data_used":\([0-9]*\).*/\1/p'; }
# fs_cat DEV PATH: a file's content read from the ext4 on DEV, without mounting it
fs_cat() { debugfs -R "cat $2" "$1" 2>/dev/null; }

cleanup() {
	local rc=$?
	if [ -d "$DVM_STATE_DIR/default" ]; then
		for d in "${DISPS[@]}"; do dvm destroy "$d" 2>/dev/null || true; done
		dvm destroy demo-dvm 2>/dev/null || true
		dvm destroy debian-12 2>/dev/null || true
		dmsetup remove DVM-default 2>/dev/null || true
	fi
	rm -rf "$WORK" "$DVM_STATE_DIR"
	exit $rc
}
trap cleanup EXIT

say "1. the default pool (file-backed, under $DVM_STATE_DIR)"
dvm pool init --data-size 4G
dvm pool info
before=$(data_used)

say "2. a TemplateVM imported from a generated ext4 image"
mkdir -p "$WORK/root/etc"
echo "debian-12 template, $(date -u +%F)" > "$WORK/root/etc/issue.dvm"
mke2fs -q -t ext4 -L tmpl-root -d "$WORK/root" "$WORK/root.img" 256M
dvm template import debian-12 --root "$WORK/root.img"
dvm info debian-12

say "3. a DVM Template on it"
dvm dvm create demo-dvm --template debian-12
with_template=$(data_used)

say "4. three disposables"
for i in 1 2 3; do
	t0=${EPOCHREALTIME/./}
	out=$(dvm spawn demo-dvm)
	ms=$(ms_since "$t0")
	name=${out%%$'\n'*}
	DISPS+=("$name")
	printf '%s spawned in %s ms:\n%s\n' "$name" "$ms" "$out"
done
dvm list

say "5. ${DISPS[0]} writes a file into its root filesystem"
secret="written by ${DISPS[0]} at $EPOCHREALTIME"
echo "$secret" > "$WORK/secret.txt"
root0=/dev/mapper/DVM-default-${DISPS[0]}-root
debugfs -w -R "write $WORK/secret.txt /secret.txt" "$root0" >/dev/null 2>&1
[ "$(fs_cat "$root0" /secret.txt)" = "$secret" ] || fail "${DISPS[0]} does not see its own file"
echo "${DISPS[0]} sees /secret.txt: \"$(fs_cat "$root0" /secret.txt)\""
for d in "${DISPS[@]:1}"; do
	dev=/dev/mapper/DVM-default-$d-root
	[ -z "$(fs_cat "$dev" /secret.txt)" ] || fail "$d sees the file of ${DISPS[0]}"
	[ "$(fs_cat "$dev" /etc/issue.dvm)" = "$(cat "$WORK/root/etc/issue.dvm")" ] || fail "$d lost the template's file"
	echo "$d: no /secret.txt; template's /etc/issue.dvm intact"
done
dvm start debian-12 >/dev/null
[ -z "$(fs_cat /dev/mapper/DVM-default-debian-12-root /secret.txt)" ] || fail "the TemplateVM sees the file"
echo "debian-12 (TemplateVM): no /secret.txt"
dvm stop debian-12

say "6. all disposables destroyed"
for d in "${DISPS[@]}"; do
	t0=${EPOCHREALTIME/./}
	dvm destroy "$d"
	printf '%s destroyed in %s ms (its wipe left to the worker)\n' "$d" "$(ms_since "$t0")"
done
DISPS=()
t0=${EPOCHREALTIME/./}
dvm worker
printf 'the worker finished the wipes %s ms later\n' "$(ms_since "$t0")"
left=$(dmsetup ls | grep -c '^DVM-default-disp' || true)
[ "$left" = 0 ] || fail "$left disposable devices left"
after=$(data_used)
[ "$after" = "$with_template" ] || fail "pool data usage $after bytes, was $with_template before the disposables"
echo "pool data usage back at $after bytes (before the disposables: $with_template; empty pool: $before)"
dvm pool info

say "demo: OK"
