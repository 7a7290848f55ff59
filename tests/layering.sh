#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The layering of libdvm (driver/README.md): every C file is in a layer folder (the build
# takes driver/*/*.c only); every #include "..." of driver/<layer>/*.[ch] names its header
# as "<layer>/<file>.h" (or the public "dvm.h") and reaches only its own layer or a lower
# one; no include circle exists, between units (a file.c with its file.h) nor between
# folders. Circles are found by tsort(1). A foreign library's header is included only by
# the files that own the library (OWNER below).
# Usage: tests/layering.sh [DRIVER_DIR]     check the tree (default: driver/ beside tests/)
#        tests/layering.sh --self-test      prove that it fails on a bad include
# Exit: 0 clean, 1 a rule broken (each one named on stderr), 2 usage.
set -u
export LC_ALL=C

TOP=$(cd "$(dirname "$0")/.." && pwd)

# lower number, lower layer; folders of one rank may not include each other
declare -A RANK=([util]=0 [format]=1 [kernel]=1 [ceph]=1 [store]=1 [backend]=2 [lifecycle]=3 [xen]=4 [api]=5)

# the foreign libraries and the files (glob, under driver/) that alone may include them
declare -A OWNER=([libdevmapper.h]=kernel/dm.c [sqlite3.h]='store/catalog*' [blkid/blkid.h]=kernel/probe.c
	[libxl.h]=xen/xen_light.c [libxl_utils.h]=xen/xen_light.c [xenstore.h]=xen/xen_store.c
	[rados/librados.h]='ceph/*' [rbd/librbd.h]='ceph/*')
# our headers that are inside one family of files (they pull in a foreign library)
declare -A PRIVATE=([store/catalog_db.h]='store/catalog*')

check() {
	local dir=$1 bad=0 f rel layer line n inc tl unit tunit
	local units folders
	units=$(mktemp) folders=$(mktemp)
	for f in "$dir"/*.[ch]; do
		[ -e "$f" ] || continue
		echo "layering: ${f#"$dir"/}: outside the layer folders (the build takes driver/*/*.c only)" >&2
		bad=1
	done
	for f in "$dir"/*/*.[ch]; do
		[ -e "$f" ] || continue
		rel=${f#"$dir"/}
		layer=${rel%%/*}
		if [ -z "${RANK[$layer]+x}" ]; then
			echo "layering: $rel: folder $layer/ is no layer (tests/layering.sh, driver/README.md)" >&2
			bad=1
			continue
		fi
		unit=${rel%.*}
		while IFS=: read -r n line; do
			[[ $line =~ \"([^\"]*)\" ]] && inc=${BASH_REMATCH[1]}
			[ "$inc" = dvm.h ] && continue
			if [[ $inc != */* ]]; then
				echo "layering: $rel:$n: #include \"$inc\": write it as \"<layer>/$inc\"" >&2
				bad=1
				continue
			fi
			if [ ! -e "$dir/$inc" ]; then
				echo "layering: $rel:$n: #include \"$inc\": no such header in driver/" >&2
				bad=1
				continue
			fi
			tl=${inc%%/*}
			if [ "$tl" != "$layer" ] && [ -n "${RANK[$tl]+x}" ] && [ "${RANK[$tl]}" -ge "${RANK[$layer]}" ]; then
				echo "layering: $rel:$n: #include \"$inc\": $layer/ may not include $tl/ (not a lower layer)" >&2
				bad=1
			fi
			# shellcheck disable=SC2053 # the owner is a glob
			if [ -n "${PRIVATE[$inc]+x}" ] && [[ $rel != ${PRIVATE[$inc]} ]]; then
				echo "layering: $rel:$n: #include \"$inc\": only ${PRIVATE[$inc]} may use it (inside the catalog)" >&2
				bad=1
			fi
			tunit=${inc%.h}
			[ "$tunit" != "$unit" ] && echo "$unit $tunit" >>"$units"
			[ "$tl" != "$layer" ] && echo "$layer $tl" >>"$folders"
		done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
		while IFS=: read -r n line; do
			[[ $line =~ \<([^\>]*)\> ]] || continue
			inc=${BASH_REMATCH[1]}
			[ -n "${OWNER[$inc]+x}" ] || continue
			# shellcheck disable=SC2053 # the owner is a glob
			if [[ $rel != ${OWNER[$inc]} ]]; then
				echo "layering: $rel:$n: #include <$inc>: only ${OWNER[$inc]} may use that library" >&2
				bad=1
			fi
		done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "$f")
	done
	if ! tsort <"$units" >/dev/null 2>"$units.err"; then
		echo "layering: include circle between files:" >&2
		sed 's/^tsort: /  /' "$units.err" >&2
		bad=1
	fi
	if ! tsort <"$folders" >/dev/null 2>"$folders.err"; then
		echo "layering: include circle between folders:" >&2
		sed 's/^tsort: /  /' "$folders.err" >&2
		bad=1
	fi
	rm -f "$units" "$units.err" "$folders" "$folders.err"
	return $bad
}

# Each case: a copy of driver/ with one bad include that check must refuse, naming it.
self_test() {
	local tmp fails=0 name edit expect
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	cp -r "$TOP/driver" "$tmp/clean"
	if ! check "$tmp/clean" 2>"$tmp/log"; then
		echo "layering self-test: the copy of driver/ fails before any change:" >&2
		cat "$tmp/log" >&2
		return 1
	fi
	while IFS='|' read -r name edit expect; do
		rm -rf "$tmp/d" && cp -r "$TOP/driver" "$tmp/d"
		(cd "$tmp/d" && eval "$edit")
		if check "$tmp/d" 2>"$tmp/log"; then
			echo "layering self-test: $name: passed, should fail" >&2
			fails=$((fails + 1))
		elif ! grep -q -- "$expect" "$tmp/log"; then
			echo "layering self-test: $name: failed without naming '$expect':" >&2
			cat "$tmp/log" >&2
			fails=$((fails + 1))
		else
			echo "layering self-test: $name: refused ($(head -1 "$tmp/log"))"
		fi
	done <<-'CASES'
	upward include|echo '#include "xen/claim.h"' >>util/text.c|util/text.c:.*util/ may not include xen/
	include of a sibling layer|echo '#include "store/catalog.h"' >>kernel/loop.c|kernel/loop.c:.*kernel/ may not include store/
	circle of two files in a layer|echo '#include "lifecycle/vm.h"' >>lifecycle/volume.h|circle between files
	circle through three files|echo '#include "lifecycle/vm.h"' >>lifecycle/recover.c|circle between files
	include without its layer|echo '#include "text.h"' >>util/value.c|write it as
	folder outside the layers|mkdir misc && echo 'int x;' >misc/x.c|folder misc/ is no layer
	file outside the folders|echo 'int x;' >x.c|x.c: outside the layer folders
	catalog internals outside the catalog|echo '#include "store/catalog_db.h"' >>lifecycle/volume.c|lifecycle/volume.c:.*only store/catalog\* may use it
	foreign library outside its owner|echo '#include <sqlite3.h>' >>lifecycle/volume.c|lifecycle/volume.c:.*only store/catalog\* may use
	CASES
	return $((fails > 0))
}

case "${1:-}" in
--self-test) self_test ;;
-h | --help) sed -n '3,11p' "$0" | sed 's/^# \{0,1\}//' ;;
-*)
	echo "layering: unknown option $1" >&2
	exit 2
	;;
*)
	check "${1:-$TOP/driver}" || exit 1
	echo "layering: driver/ clean (no upward include, no include circle)"
	;;
esac
