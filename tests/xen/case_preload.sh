# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Case F of the xen tier (sourced by suite.sh, uses its DVM, DISKS, SYSLOG and helpers):
#  F  DVM Template dvm keeps one disposable ready (dvm-vol preload): a paused domU with one
#     dvm-spawn disk gets the ready one (the domain's disposable is the one listed ready
#     before) without a change of the thin-pool's metadata, and the worker builds the next;
#     then the figure: the hook's add of that disk with a ready disposable and with none
#     (preload 0), alternately, "figure: hook add, ready taken: X ms median, built: Y ms"
#     against the goal of 50 ms; and beside them the same add through Xen's own block script
#     (a phy: disk of a loop device, which it only checks and hands over), both hooks timed as
#     whole processes (fork to exit, what libxl waits for): what any hook costs in this tier.

# pool_txn: the transaction id of pool xt's thin-pool (moves with every change of its metadata)
pool_txn() { dmsetup status DVM-xt | awk '{ print $4 }'; }

# ready_name: the disposable `dvm-vol list` shows ready (the first), or nothing
ready_name() { "${DVM[@]}" list | awk '$4 == "ready" { print $1; exit }'; }

# pre_run N: fig_run of the spawn disk through the timing wrapper, with a wait for the worker's
# refill after it
pre_run() {
	fig_run "$1" "${DISKS[0]/script=block-dvm,/script=timed-block-dvm,}" || return 1
	"${DVM[@]}" worker || { fail "F.worker.$1" "dvm-vol worker failed"; return 1; }
}

test_f_preload() {
	local i runs=${DVM_XEN_FIG_RUNS:-3} taken=() built=() before disp a b load txn
	local ptaken=() pstock=() loopdev
	log "=== F: a dvm-spawn disk takes a ready disposable"
	"${DVM[@]}" preload dvm --count 1 && "${DVM[@]}" worker || { fail F.preload "preload dvm --count 1"; return 0; }
	before=$(ready_name)
	check F.ready 1 "$([ -n "$before" ] && echo 1)" "a ready disposable after preload and worker"
	domu_cfg preF "" "${DISKS[0]}"
	# taking a ready one changes the catalog alone: the thin-pool's metadata stays as it was
	# (the refill the hook starts would change it: its worker is a no-op here, run below)
	txn=$(pool_txn)
	XL_OUT=$(DVM_VOL_BIN=/bin/true xl create -p /tmp/preF.cfg 2>&1) || { fail F.create "xl create -p: $XL_OUT"; return 0; }
	DOMID=$(xl domid preF)
	disp=$(sqlite3 "$DVM_STATE_DIR/xt/catalog.db" "SELECT vm FROM domains WHERE domid = $DOMID")
	check F.took-the-ready-one "$before" "$disp" "the disposable of the domain"
	check F.kernel-untouched "$txn" "$(pool_txn)" "the thin-pool's transaction id after the hook's add (before: $txn)"
	xl destroy preF > /dev/null 2>&1
	domu_gone "$DOMID" "$GONE_WAIT" || fail F.destroy "domain $DOMID still exists"
	wait_no_devices "-${disp:-none}-" "$GONE_WAIT"
	"${DVM[@]}" worker
	check F.refilled 1 "$([ -n "$(ready_name)" ] && [ "$(ready_name)" != "$before" ] && echo 1)" \
		"a new ready disposable after the hook's spawn (worker)"
	truncate -s 4M /tmp/stock.img
	loopdev=$(losetup -f --show /tmp/stock.img) || { fail F.reference "a loop device for Xen's block script"; return 0; }
	for ((i = 1; i <= runs; i++)); do
		pre_run "p$i" || return 0
		taken+=("$FIG_ADD") ptaken+=("$FIG_PROC")
		log "figure F: run $i, ready one taken: add $FIG_ADD ms (its process $FIG_PROC ms)"
		fig_run "x$i" "vdev=xvda,access=rw,script=timed-block,target=$loopdev" || return 0
		pstock+=("$FIG_PROC")
		log "figure F: run $i, Xen's block script, phy: $loopdev: its process $FIG_PROC ms"
		"${DVM[@]}" preload dvm --count 0 && "${DVM[@]}" worker
		pre_run "b$i" || return 0
		built+=("$FIG_ADD")
		log "figure F: run $i, built: add $FIG_ADD ms"
		"${DVM[@]}" preload dvm --count 1 && "${DVM[@]}" worker
	done
	"${DVM[@]}" preload dvm --count 0 && "${DVM[@]}" worker
	losetup -d "$loopdev"
	read -r load < /proc/loadavg
	a=$(median "${taken[@]}") b=$(median "${built[@]}")
	time_note "figure: hook add, ready taken: $a ms median, built: $b ms ($runs runs each: ${taken[*]} / ${built[*]}; load ${load% * *})"
	time_note "figure: hook add as a whole process (fork to exit), block-dvm taking a ready one:" \
		"$(median "${ptaken[@]}") ms median, Xen's block script handing over a phy: disk: $(median "${pstock[@]}") ms" \
		"($runs runs each: ${ptaken[*]} / ${pstock[*]})"
	if [ "$a" -le 50 ]; then
		time_note "figure: the goal of at most 50 ms for the hook's add of a ready disposable is met"
	else
		time_note "figure: the goal of at most 50 ms for the hook's add of a ready disposable is NOT met"
	fi
}
