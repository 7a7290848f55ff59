# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Case E of the xen tier (sourced by suite.sh, uses its DVM, SYSLOG and helpers):
#  E  while another process holds pool xt's lock (as a long wipe or import would), xl create of
#     a domU with one dvm-spawn disk: the hook gives up after DVM_HOOK_LOCK_TIMEOUT (5 s here;
#     25 s by default) and fails the disk with a hotplug-error naming the pool, well inside the
#     40 s after which libxl kills a hook without a word; nothing is made; the lock's holder
#     lets go once the hook has failed, and a spawn works again.

# hold_lock_until_add_fails LOCK SKIP: holds LOCK until a block-dvm "add ... failed" line
# appears in syslog after its first SKIP lines (at most 120 s); prints "held" once it holds it
hold_lock_until_add_fails() {
	local t=240
	exec 9> "$1" && flock -x 9 || return 1
	echo held
	while [ $t -gt 0 ]; do
		tail -n +$(($2 + 1)) "$SYSLOG" | grep -q 'block-dvm.*: add backend/vbd/[0-9]*/51712 failed' && return 0
		nap 0.5
		t=$((t - 1))
	done
	return 1
}

test_e_lock() {
	local lock=$DVM_STATE_DIR/xt/lock before after skip holder ready name
	log "=== E: the hook's add while the pool's lock is held elsewhere"
	before=$("${DVM[@]}" list)
	skip=$(wc -l < "$SYSLOG")
	coproc HOLDER { hold_lock_until_add_fails "$lock" "$skip"; }
	holder=$HOLDER_PID
	read -r -t 30 ready <&"${HOLDER[0]}"
	if [ "${ready:-}" != held ]; then
		fail E.holder "the lock holder never took $lock"
		kill "$holder" 2>/dev/null
		return 0
	fi
	domu_cfg dispE "dvmdisks=xvda" "vdev=xvda,access=rw,script=block-dvm,target=dvm-spawn:xt/dvm/root"
	export DVM_HOOK_LOCK_TIMEOUT=5
	domu_create dispE
	unset DVM_HOOK_LOCK_TIMEOUT
	wait "$holder"
	check E.holder-saw-the-failure 0 $? "status of the lock holder (1: no failed add in syslog)"
	time_note "E: xl create refused after $XL_SECS s with the pool locked"
	check E.refused 1 "$([ "$XL_RC" != 0 ] && echo 1)" "xl create failing (status $XL_RC)"
	check_match E.message 'script: pool xt: locked by another process for over 5000 ms' "$XL_OUT"
	check E.inside-libxl-timeout 1 "$([ "${XL_SECS%.*}" -lt 40 ] && echo 1)" "xl create's $XL_SECS s being under 40 s"
	xl domid dispE > /dev/null 2>&1
	check E.no-domain 1 $? "status of xl domid dispE"
	after=$("${DVM[@]}" list)
	check E.nothing-made "$before" "$after" "dvm-vol list after the refused add"
	name=$("${DVM[@]}" spawn dvm | head -n 1)
	check E.spawn-after 1 "$([ -n "$name" ] && echo 1)" "a spawn once the lock is free"
	[ -n "$name" ] && { "${DVM[@]}" destroy "$name" || fail E.destroy "destroy of $name"; }
}
