# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Case R of the xen tier (sourced by suite.sh, uses its BUILD, WORK, ROOT_SUM and helpers):
#  R  a TemplateVM whose root is in Ceph RBD: a single-node cluster in dom0
#     (tests/lib/ceph-cluster.sh), an rbd pool xr, the tier's root image imported into it; a
#     domU of dvm-spawn disks of a DVM Template on it boots and sees that root, served by
#     blkback from a local thin volume whose external origin is the kernel's read-only mapping
#     of the template's RBD snapshot; it writes a canary and powers off, and is destroyed. Then:
#     its disposable and devices are gone, no rbd mapping is left, and no object of the Ceph
#     pool holds the canary (while the same scan finds the template's root there), nor the
#     local pool's data. The cluster is stopped by PID at the end, whatever happened.
#     Skipped, and said so in the summary, only when the kernel's rbd driver cannot load.

RBD_DVM=("$BUILD/dvm-vol" --pool xr)
RBD_HOST=xen0
RBD_CEPH=
CANARY_R=DVMCANARY-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

# rbd_scan TOKEN HEX: every object of Ceph pool rbd, in every namespace (data, xattrs, omap),
# read in one python process (a ceph CLI process costs seconds under TCG); prints the number of
# objects, then the copies of TOKEN, then those of the bytes HEX
rbd_scan() {
	CEPH_CONF=$RBD_CEPH/ceph.conf timeout 300 /usr/bin/python3 - "$1" "$2" <<-'EOF'
	import sys, rados
	tokens = [sys.argv[1].encode(), bytes.fromhex(sys.argv[2])]
	c = rados.Rados(conffile='', rados_id='admin')
	c.conf_read_file()
	c.connect(timeout=60)
	io = c.open_ioctx('rbd')
	io.set_namespace(rados.LIBRADOS_ALL_NSPACES)
	objs = [(o.nspace, o.key) for o in io.list_objects()]
	hits = [0, 0]
	for ns, key in objs:
	    io.set_namespace(ns)
	    size, _ = io.stat(key)
	    blobs = [io.read(key, size) if size else b'']
	    blobs += [bytes(v) for _, v in io.get_xattrs(key)]
	    with rados.ReadOpCtx() as op:
	        it, _ = io.get_omap_vals(op, '', '', 100000)
	        io.operate_read_op(op, key)
	        blobs += [k.encode() + (v or b'') for k, v in it]
	    for i, t in enumerate(tokens):
	        hits[i] += sum(b.count(t) for b in blobs)
	print(len(objs), hits[0], hits[1])
	c.shutdown()
	EOF
}

# the rbd mappings the kernel has, by their sysfs names
rbd_mappings() {
	local d out=
	for d in /sys/bus/rbd/devices/*; do [ -e "$d" ] && out+="${d##*/} "; done
	echo "$out"
}

# rbd_mappings_why: for each mapping left, what it maps, its holders and who has it open
rbd_mappings_why() {
	local id out='' holders pids pid
	for id in $(rbd_mappings); do
		holders=$(ls "/sys/block/rbd$id/holders" 2>/dev/null)
		pids=$(find /proc/[0-9]*/fd -lname "/dev/rbd$id" 2>/dev/null | cut -d/ -f3 | sort -u)
		out+="rbd$id $(cat "/sys/bus/rbd/devices/$id/name")@$(cat "/sys/bus/rbd/devices/$id/current_snap")"
		out+=" holders: ${holders:-none}, open by: ${pids:-nobody}"
		for pid in $pids; do out+=" $pid=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)"; done
		out+="; "
	done
	echo "$out"
}

# R.no-mapping: the last user of a snapshot mapping unmaps it, right after its device went
# (waiting out a probe that has it open, up to 5 s); the check waits up to SECONDS for that,
# then says what holds it
rbd_check_no_mapping() {
	local t0=${EPOCHREALTIME/./} t=$1 secs
	while [ -n "$(rbd_mappings)" ] && [ "$t" -gt 0 ]; do nap 1; t=$((t - 1)); done
	since secs "$t0"
	if [ -z "$(rbd_mappings)" ]; then
		[ "$t" = "$1" ] || time_note "R: the last rbd mapping went $secs s after the disposable's devices"
		pass R.no-mapping
	else
		fail R.no-mapping "rbd mappings left $secs s after the devices went: $(rbd_mappings_why)"
	fi
}

rbd_cluster_stop() {
	local name pid left=
	[ -n "$RBD_CEPH" ] || return 0
	"$TOP/tests/lib/ceph-cluster.sh" stop "$RBD_CEPH"
	for name in mon.a osd.0; do
		pid=$(cat "$RBD_CEPH/run/$name.pid" 2>/dev/null) || continue
		kill -0 "$pid" 2>/dev/null && left+="$name ($pid) "
	done
	check R.cluster-stopped "" "$left" "Ceph daemons still running"
	RBD_CEPH=
	trap - EXIT
}

# R.root-origin: the disposable's root is a thin volume of xr's local pool whose external
# origin is a read-only mapping of a snapshot of one of our images, and blkback serves it
rbd_check_origin() {
	local disp=$1 table w maj min dev snap name ro pd
	table=$(dmsetup table "DVM-xr-$disp-root" 2>&1)
	read -r -a w <<< "$table"
	if [ "${w[2]:-}" != thin ] || [ -z "${w[5]:-}" ]; then
		fail R.root-origin "DVM-xr-$disp-root is not a thin volume with an external origin: $table"
		return 0
	fi
	IFS=: read -r maj min <<< "${w[5]}"
	dev=$(readlink "/sys/dev/block/$maj:$min")
	dev=${dev##*/}
	name=$(cat "/sys/bus/rbd/devices/${dev#rbd}/name" 2>/dev/null)
	snap=$(cat "/sys/bus/rbd/devices/${dev#rbd}/current_snap" 2>/dev/null)
	ro=$(cat "/sys/block/$dev/ro" 2>/dev/null)
	check_match R.root-origin "^rbd[0-9]+ dvm\.$RBD_HOST\.xr\.[^ ]+ [^-][^ ]* 1$" "$dev ${name:--} ${snap:--} ${ro:--}"
	pd=$(xenstore-read "backend/vbd/$DOMID/51712/physical-device")
	check R.blkback-device "$(printf '%x:%x' "$(dmsetup info -c --noheadings -o major "DVM-xr-$disp-root")" \
		"$(dmsetup info -c --noheadings -o minor "DVM-xr-$disp-root")")" "$pd" "physical-device of xvda"
}

# runs of xr's local pool data (a sparse file in dom0's tmpfs, under its loop device) holding
# the canary
rbd_local_copies() { LC_ALL=C grep -a -z -c -F "$CANARY_R" "$DVM_STATE_DIR/xr/data.img"; }

rbd_case() {
	local t0 secs disp scan probe out d
	t0=${EPOCHREALTIME/./}
	RBD_CEPH=$(mktemp -d /tmp/dvm-ceph.XXXXXX)
	trap rbd_cluster_stop EXIT
	if ! out=$("$TOP/tests/lib/ceph-cluster.sh" start "$RBD_CEPH" 2>&1); then
		fail R.cluster "the Ceph cluster did not start: ${out: -500}; $(tail -n 5 "$RBD_CEPH"/log/*.log 2>/dev/null)"
		return 0
	fi
	since secs "$t0"
	time_note "R: Ceph cluster start $secs s (${out##*ceph-cluster: }); dom0 MiB total/free: $(free -m | awk '/^Mem:/ { print $2 "/" $4 }')"
	t0=${EPOCHREALTIME/./}
	out=$("${RBD_DVM[@]}" pool init xr --backend rbd --data-size 64M --rbd-conf "$RBD_CEPH/ceph.conf" \
		--rbd-client dvm --rbd-pool rbd --host "$RBD_HOST" 2>&1) || { fail R.pool-init "$out"; return 0; }
	out=$("${RBD_DVM[@]}" template import rt --root "$WORK/root.img" --private "$WORK/private.img" 2>&1) ||
		{ fail R.import "$out"; return 0; }
	out=$("${RBD_DVM[@]}" dvm create rd --template rt 2>&1) || { fail R.dvm-create "$out"; return 0; }
	since secs "$t0"
	time_note "R: pool init, template import and dvm create on rbd $secs s"
	check R.no-mapping-after-create "" "$(rbd_mappings_why)" "rbd mappings after template import and dvm create"
	mapfile -t RDISKS < <("${RBD_DVM[@]}" spawn rd --xl-disks)
	check R.xl-disks.root "vdev=xvda,access=rw,script=block-dvm,target=dvm-spawn:xr/rd/root" "${RDISKS[0]:-}" "line 1"
	POWEROFF=preserve domu_cfg dispR "dvmdisks=xvda,xvdb,xvdc dvmnosum=xvdb,xvdc canary=$CANARY_R dvmwrite=1" "${RDISKS[@]}"
	domu_create dispR
	check R.create 0 "$XL_RC" "xl create status ($XL_OUT)"
	[ "$XL_RC" = 0 ] || return 0
	if ! domu_expect R.domu dispR '^DOMU-DONE' "$BOOT_WAIT"; then
		xl destroy dispR 2>/dev/null
		return 0
	fi
	since secs "$CREATED_US"
	time_note "R: xl create $XL_SECS s, the domU done $secs s after; hook add ms (xvda xvdb xvdc): $(hook_times "$DOMID" add)"
	disp=$(sqlite3 "$DVM_STATE_DIR/xr/catalog.db" "SELECT vm FROM domains WHERE domid = $DOMID")
	check R.xvda.content "$ROOT_SUM" "$(domu_field dispR SUM xvda 2)" "sha256 of root in the domU"
	for d in xvda xvdb xvdc; do
		check "R.$d.write" ok "$(domu_field dispR WROTE "$d" 1)" "write of $d"
	done
	rbd_check_origin "${disp:-none}"
	check R.canary-local-while-running 1 "$([ "$(rbd_local_copies)" -gt 0 ] && echo 1)" \
		"the scan finding the canary in xr's local data while the disposable exists"
	xl destroy dispR > /dev/null 2>&1
	domu_gone "$DOMID" "$GONE_WAIT" || fail R.destroyed "domain $DOMID still exists after xl destroy and $GONE_WAIT s"
	"${RBD_DVM[@]}" worker || fail R.worker "dvm-vol worker"
	wait_no_devices "-${disp:-none}-" "$GONE_WAIT"
	check R.devices-gone "" "$(dvm_devices "-${disp:-none}-")" "DVM- devices of ${disp:-?}"
	"${RBD_DVM[@]}" info "${disp:-none}" > /dev/null 2>&1
	check R.disposable-gone 3 $? "exit of dvm-vol info ${disp:-}"
	[ -n "$(rbd_mappings)" ] && log "R: rbd mappings when the devices went: $(rbd_mappings_why)"
	rbd_check_no_mapping 10
	check R.no-canary-local 0 "$(rbd_local_copies)" "runs of xr's local data holding the canary"
	# 64 random bytes of the template's root: the scan must find them, or it proves nothing
	probe=$(od -An -tx1 -j $((1 << 20)) -N 64 "$WORK/root.img" | tr -d ' \n')
	t0=${EPOCHREALTIME/./}
	out=$(rbd_scan "$CANARY_R" "$probe" 2>&1)
	since secs "$t0"
	read -r -a scan <<< "$out"
	log "R: cluster scan ($secs s): ${scan[0]:-?} objects, ${scan[1]:-?} copies of the canary, ${scan[2]:-?} of the root probe"
	check R.scan-sees-template 1 "$([[ ${scan[2]:-} =~ ^[1-9] ]] && echo 1)" "the scan finding the template's root in the cluster ($out)"
	check R.no-canary-in-cluster 0 "${scan[1]:-}" "copies of the canary in the objects of Ceph pool rbd ($out)"
}

test_r_rbd() {
	local t0=${EPOCHREALTIME/./} secs out
	log "=== R: a domU whose root comes from a TemplateVM in Ceph RBD"
	if ! out=$(modprobe rbd 2>&1); then
		skip R "modprobe rbd failed, the kernel's rbd driver is needed: $out"
		return 0
	fi
	rbd_case
	out=$("$TOP/tests/lib/ceph-cluster.sh" mem "$RBD_CEPH" 2>/dev/null)
	rbd_cluster_stop
	since secs "$t0"
	time_note "R: case took $secs s (Ceph daemons' RSS at the end ${out:-?} KiB)"
}
