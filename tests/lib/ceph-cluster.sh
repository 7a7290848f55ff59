#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A single-node Ceph cluster for the rbd suites: one monitor, one OSD, no manager (RBD needs
# none), cephx on, on 127.0.0.1 only, everything (config, keys, data, logs, pid files) under
# DIR. Started before the rbd suites and stopped after, by the daemons' PIDs.
#
# Usage: tests/lib/ceph-cluster.sh start DIR      make DIR's cluster, start it, wait until pool
#                                                 "rbd" takes writes; print the timings
#        tests/lib/ceph-cluster.sh stop DIR       stop its OSD, then its monitor (SIGTERM, then
#                                                 SIGKILL after 20 s), by the PIDs in DIR/run
#        tests/lib/ceph-cluster.sh mem DIR        the RSS of its daemons, in KiB
# Env:   DVM_CEPH_STORE   memstore (default: data in the OSD's RAM) or bluestore (a sparse
#                         file DIR/osd/ceph-0/block)
#        DVM_CEPH_PORT    the monitor's msgr1 port (default 6789; msgr2 is DVM_CEPH_PORT-3489,
#                         3300 by default)
#        DVM_CEPH_TIMEOUT seconds the start may take (default 300: TCG is slow)
# After start, DIR/ceph.conf names the cluster (CEPH_CONF=DIR/ceph.conf for the CLI), and the
# client "dvm" (caps: profile rbd) has its key in DIR/keyring next to client.admin.
set -euo pipefail

STORE=${DVM_CEPH_STORE:-memstore}
PORT1=${DVM_CEPH_PORT:-6789}
PORT2=$((PORT1 - 3489))
TIMEOUT=${DVM_CEPH_TIMEOUT:-300}
POOL=rbd

say() { printf 'ceph-cluster: %s\n' "$*"; }
die() { printf 'ceph-cluster: error: %s\n' "$*" >&2; exit 1; }

# ms since the start
T0=$(date +%s%N)
elapsed_ms() { echo $((($(date +%s%N) - T0) / 1000000)); }

write_conf() {
	local dir=$1 fsid=$2 store_conf
	case $STORE in
	memstore) store_conf="osd objectstore = memstore
	memstore device bytes = 1073741824" ;;
	bluestore) store_conf="osd objectstore = bluestore
	bluestore block size = 4294967296
	bluestore block create = true" ;;
	*) die "DVM_CEPH_STORE=$STORE: not memstore or bluestore" ;;
	esac
	cat > "$dir/ceph.conf" <<-EOF
	[global]
	fsid = $fsid
	mon host = [v2:127.0.0.1:$PORT2,v1:127.0.0.1:$PORT1]
	public network = 127.0.0.0/8
	auth cluster required = cephx
	auth service required = cephx
	auth client required = cephx
	auth allow insecure global id reclaim = false
	keyring = $dir/keyring
	run dir = $dir/run
	crash dir = $dir/crash
	log file = $dir/log/\$name.log
	mon cluster log file = $dir/log/cluster.log
	pid file = $dir/run/\$name.pid
	admin socket = $dir/run/\$name.\$pid.asok
	mon data = $dir/mon/\$cluster-\$id
	osd data = $dir/osd/\$cluster-\$id
	osd pool default size = 1
	osd pool default min size = 1
	osd pool default pg autoscale mode = off
	osd crush chooseleaf type = 0
	mon allow pool size one = true
	mon warn on pool no redundancy = false
	mon data avail warn = 1
	mon data avail crit = 0
	# the erasure-code plugins die of SIGILL on TCG's CPU model at preload; RBD pools are
	# replicated and never load them
	osd erasure code plugins =
	[osd]
	keyring = $dir/osd/\$cluster-\$id/keyring
	$store_conf
	osd memory target = 536870912
	EOF
}

# A cephx secret as ceph-authtool writes it (base64 of: u16 type 1 = AES, u32 seconds and u32
# nanoseconds of creation, here 0, u16 length 16, 16 random bytes), without its process start:
# under TCG each ceph binary costs seconds.
gen_key() {
	{ printf '\001\000\000\000\000\000\000\000\000\000\020\000'; head -c 16 /dev/urandom; } | base64 -w0
}

# pid_of DIR NAME: the PID in NAME's pid file, if that process is alive
pid_of() {
	local pid
	pid=$(cat "$1/run/$2.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# A mon command in one short python process (the ceph CLI costs seconds each under TCG):
# osd new with its key, the pool, its application. Prints the OSD id.
create_osd_and_pool() {
	local dir=$1 uuid=$2 secret=$3
	CEPH_CONF=$dir/ceph.conf timeout "$TIMEOUT" /usr/bin/python3 - "$uuid" "$secret" "$POOL" <<-'EOF'
	import json, sys, rados
	uuid, secret, pool = sys.argv[1:4]
	c = rados.Rados(conffile='', rados_id='admin')
	c.conf_read_file()
	c.connect(timeout=60)
	def mon(cmd, inbuf=b''):
	    r, out, err = c.mon_command(json.dumps(cmd), inbuf)
	    if r != 0:
	        sys.exit('%s: %s (%d)' % (cmd['prefix'], err, r))
	    return out
	out = mon({'prefix': 'osd new', 'uuid': uuid, 'format': 'json'},
	          json.dumps({'cephx_secret': secret}).encode())
	print(json.loads(out)['osdid'])
	mon({'prefix': 'osd pool create', 'pool': pool, 'pg_num': 8, 'pgp_num': 8})
	mon({'prefix': 'osd pool application enable', 'pool': pool, 'app': 'rbd'})
	c.shutdown()
	EOF
}

start() {
	local dir=$1 fsid uuid secret id t_mon t_osd
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ ! -e "$dir/ceph.conf" ] || die "$dir: already holds a cluster (stop it and remove $dir first)"
	command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null ||
		die "ceph-mon/ceph-osd not found: run tests/deps.sh"
	mkdir -p "$dir"/{run,log,crash,mon/ceph-a,osd/ceph-0}
	fsid=$(uuidgen)
	write_conf "$dir" "$fsid"
	export CEPH_CONF=$dir/ceph.conf
	# every key in this keyring (mon., client.admin, client.dvm) goes into the monitor's
	# auth database at mkfs, with its caps
	cat > "$dir/keyring" <<-EOF
	[mon.]
		key = $(gen_key)
		caps mon = "allow *"
	[client.admin]
		key = $(gen_key)
		caps mon = "allow *"
		caps osd = "allow *"
		caps mgr = "allow *"
	[client.dvm]
		key = $(gen_key)
		caps mon = "profile rbd"
		caps osd = "profile rbd"
	EOF
	chmod 600 "$dir/keyring"
	monmaptool --create --addv a "[v2:127.0.0.1:$PORT2,v1:127.0.0.1:$PORT1]" --fsid "$fsid" "$dir/monmap" \
		> "$dir/log/monmap.out" 2>&1 || die "monmaptool: $(tail -n 2 "$dir/log/monmap.out")"
	ceph-mon --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" ||
		die "ceph-mon --mkfs failed (log: $dir/log)"
	ceph-mon -i a 2>> "$dir/log/daemons.err" || die "ceph-mon -i a did not start (log: $dir/log/mon.a.log)"
	t_mon=$(elapsed_ms)

	uuid=$(uuidgen)
	secret=$(gen_key)
	id=$(create_osd_and_pool "$dir" "$uuid" "$secret") || die "osd new / pool create failed (log: $dir/log)"
	[ "$id" = 0 ] || die "osd new gave id '$id', not 0"
	printf '[osd.0]\n\tkey = %s\n' "$secret" > "$dir/osd/ceph-0/keyring"
	ceph-osd -i 0 --mkfs --osd-uuid "$uuid" --no-mon-config > "$dir/log/osd-mkfs.out" 2>&1 ||
		die "ceph-osd --mkfs failed: $(tail -n 3 "$dir/log/osd-mkfs.out")"
	ceph-osd -i 0 2>> "$dir/log/daemons.err" || die "ceph-osd -i 0 did not start (log: $dir/log/osd.0.log)"
	t_osd=$(elapsed_ms)

	# the first write to the pool waits until its placement groups are active
	timeout "$TIMEOUT" rados -p "$POOL" put dvm-probe /dev/null ||
		die "pool $POOL: took no write within $TIMEOUT s (log: $dir/log)"
	say "up in $(elapsed_ms) ms ($STORE; monitor after $t_mon ms, OSD started after $t_osd ms)," \
		"mon $(pid_of "$dir" mon.a) osd $(pid_of "$dir" osd.0), RSS $(mem "$dir") KiB"
}

# mem DIR: the RSS of mon + osd in KiB
mem() {
	local dir=$1 name pid kb total=0
	for name in mon.a osd.0; do
		pid=$(pid_of "$dir" "$name") || continue
		kb=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
		total=$((total + ${kb:-0}))
	done
	echo "$total"
}

# stop_one DIR NAME: SIGTERM, up to 20 s, then SIGKILL
stop_one() {
	local dir=$1 name=$2 pid i
	pid=$(pid_of "$dir" "$name") || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	say "$name ($pid) still up 20 s after SIGTERM: SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
}

stop() {
	local dir=$1
	[ -d "$dir" ] || return 0
	stop_one "$dir" osd.0
	stop_one "$dir" mon.a
}

main() {
	[ $# = 2 ] || die "usage: ceph-cluster.sh start|stop|mem DIR"
	case $1 in
	start) start "$2" ;;
	stop) stop "$2" ;;
	mem) mem "$2" ;;
	*) die "$1: not start, stop or mem" ;;
	esac
}

main "$@"
