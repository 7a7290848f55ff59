#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Loop direct I/O on or off under a dm-snapshot, as the snap backend stacks it: the origin
# image on a read-only loop, the COW store on its own loop, "snapshot <o> <c> P 128", on
# ext4 on a virtio disk. Runs in the vm tier guest:
#   QEMU_EXTRA="-drive file=DISK.img,if=virtio,format=raw,cache=none" \
#     tests/vm/run-in-vm.sh bench/snap-loop-dio.sh
# Prints one line per (origin dio, cow dio, fio job) with IOPS and bandwidth.
set -euo pipefail
DISK=${DISK:-/dev/vda} MNT=/tmp/dio-mnt RUNTIME=${RUNTIME:-8}
mkfs.ext4 -q -F "$DISK"
mkdir -p "$MNT" && mount "$DISK" "$MNT"
cd "$MNT"
truncate -s 512M origin.img
dd if=/dev/urandom of=origin.img bs=1M count=256 conv=notrunc status=none
sync
modprobe dm-snapshot
job() { # name rw bs size
	fio --name="$1" --filename=/dev/mapper/dio --rw="$2" --bs="$3" --size="$4" --direct=1 --ioengine=libaio \
	    --iodepth=16 --runtime="$RUNTIME" --time_based --group_reporting --output-format=terse 2>/dev/null |
		awk -F';' -v n="$1" '{ r = $8 + $49; bw = ($7 + $48) / 1024; printf "%-10s %8d IOPS %8.1f MiB/s\n", n, r, bw }'
}
for odio in off on; do
	for cdio in off on; do
		rm -f cow.img; truncate -s 600M cow.img
		echo 3 > /proc/sys/vm/drop_caches
		O=$(losetup -f --show -r --direct-io="$odio" origin.img)
		C=$(losetup -f --show --direct-io="$cdio" cow.img)
		dmsetup create dio --table "0 1048576 snapshot $O $C P 128"
		echo "origin dio $odio, cow dio $cdio (loop flags: $(losetup -nO DIO "$O" | tr -d ' ')/$(losetup -nO DIO "$C" | tr -d ' '))"
		job randread randread 4k 256M
		job randwrite randwrite 4k 256M
		job seqwrite write 1M 256M
		job reread randread 4k 256M
		dmsetup remove dio; losetup -d "$O" "$C"
	done
done
