# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Case H of the xen tier (sourced by suite.sh, uses its DVM, DISKS and helpers), issue 12
# defect 7 and 8 against real blkback:
#  H  xl create -p of a domU with the three dvm-spawn disks: for each, hotplug-status is
#     connected only with blkback's /sys/bus/xen-backend/devices/vbd-<domid>-<devid>/
#     physical_device naming the published physical-device (blkback made it after opening the
#     device: the hook's pin lasted until then), and discard-enable is 0. Unpaused, the domU
#     connects (the backend writes sectors) and is offered no discard (no feature-discard).
test_h_handoff() {
	local name=dispH dev be pd attr fd sectors disp
	log "=== H: the hand-off pin and discards, on blkback"
	[ "${#DISKS[@]}" = 3 ] || { fail H.disks "no spawn disk lines from case A"; return 0; }
	POWEROFF=preserve domu_cfg "$name" "" "${DISKS[@]}"
	rm -f "$CONSOLE_DIR/guest-$name.log"
	CREATED_US=${EPOCHREALTIME/./}
	XL_OUT=$(xl create -p "/tmp/$name.cfg" 2>&1) || { fail H.create "xl create -p: $XL_OUT"; return 0; }
	DOMID=$(xl domid "$name")
	disp=$(sqlite3 "$DVM_STATE_DIR/xt/catalog.db" "SELECT vm FROM domains WHERE domid = $DOMID")
	for dev in 51712 51728 51744; do
		be=backend/vbd/$DOMID/$dev
		pd=$(xenstore-read "$be/physical-device" 2>/dev/null)
		attr=/sys/bus/xen-backend/devices/vbd-$DOMID-$dev/physical_device
		check "H.$dev.connected" connected "$(xenstore-read "$be/hotplug-status" 2>/dev/null)" "$be/hotplug-status"
		check "H.$dev.opened-by-blkback" "${pd:-none}" "$(cat "$attr" 2>/dev/null)" "$attr"
		check "H.$dev.discard-enable" 0 "$(xenstore-read "$be/discard-enable" 2>/dev/null)" "$be/discard-enable"
	done
	xl unpause "$name"
	domu_expect H.domu "$name" '^DOMU-DONE' "$BOOT_WAIT"
	for dev in 51712 51728 51744; do
		be=backend/vbd/$DOMID/$dev
		sectors=$(xenstore-read "$be/sectors" 2>/dev/null)
		fd=$(xenstore-read "$be/feature-discard" 2>/dev/null || echo absent)
		check "H.$dev.backend-connected" 1 "$([ -n "$sectors" ] && echo 1)" "$be/sectors (written by blkback's connect)"
		check "H.$dev.no-feature-discard" 1 "$([ "$fd" = absent ] || [ "$fd" = 0 ] && echo 1)" "$be/feature-discard = $fd"
	done
	xl destroy "$name" > /dev/null 2>&1
	domu_gone "$DOMID" "$GONE_WAIT" || fail H.destroy "domain $DOMID still exists after $GONE_WAIT s"
	wait_no_devices "-${disp:-none}-" "$GONE_WAIT"
	check H.devices-gone "" "$(dvm_devices "-${disp:-none}-")" "DVM- devices of ${disp:-}"
}
