#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The figures of a run, with gnuplot (pngcairo), from OUT/results.csv and the raw samples:
# spawn-destroy.png (phase 1 and the floor), scale.png (phase 2), teardown.png (phase 3),
# io.png (phase 4). A phase without data gets no figure.
# Usage: bench/plot.sh RAW OUT      (after bench/report.sh RAW OUT)
set -euo pipefail

RAW=${1:?usage: bench/plot.sh RAW OUT}
OUT=${2:?usage: bench/plot.sh RAW OUT}
SUM=$OUT/results.csv
SAMPLES=$RAW/samples.csv
DAT=$(mktemp -d)
trap 'rm -rf "$DAT"' EXIT

TERM_PNG="set terminal pngcairo size 1000,600 font 'DejaVu Sans,11' noenhanced"
# one color per stack, in every figure
COLORS="set linetype 1 lc rgb '#1b7837' lw 2 pt 7
set linetype 2 lc rgb '#5aae61' lw 2 pt 5
set linetype 3 lc rgb '#9970ab' lw 2 pt 9
set linetype 4 lc rgb '#e08214' lw 2 pt 11
set linetype 5 lc rgb '#b2182b' lw 2 pt 13
set linetype 6 lc rgb '#4393c3' lw 2 pt 3"

val() {
	awk -F, -v p="$1" -v m="$2" -v x="$3" -v k="$4" -v c="${5:-6}" \
		'$1 == p && $2 == m && $3 == x && $4 == k { print $c; exit }' "$SUM"
}

spawn_plot() {
	local m label
	for m in floor:"bare ioctls" lib:"dvm-vol library" cli:"dvm-vol CLI" dmsetup:"dmsetup processes" \
		lvm:"LVM (Qubes)"; do
		label=${m#*:} m=${m%%:*}
		[ -n "$(val spawn "$m" "" spawn_ms)" ] || continue
		printf '"%s" %s %s %s %s\n' "$label" "$(val spawn "$m" "" spawn_ms)" "$(val spawn "$m" "" spawn_ms 7)" \
			"$(val spawn "$m" "" destroy_ms)" "$(val spawn "$m" "" destroy_ms 7)"
	done > "$DAT/spawn.dat"
	[ -s "$DAT/spawn.dat" ] || return 0
	gnuplot <<-EOF
	$TERM_PNG
	$COLORS
	set output '$OUT/spawn-destroy.png'
	set title 'Spawn and destroy of a 3-volume disposable (median, bar to p90; 1 MiB written before destroy)'
	set ylabel 'milliseconds (log scale)'
	set logscale y
	set yrange [10:*]
	set grid ytics
	set style data histogram
	set style histogram errorbars gap 2 lw 1.5
	set style fill solid 0.85 border -1
	set boxwidth 0.9
	set key top left
	plot '$DAT/spawn.dat' using 2:2:3:xtic(1) title 'spawn' lt 1, \
	     '' using 4:4:5 title 'destroy' lt 4
	EOF
}

scale_plot() {
	awk -F, '$1 == "scale" && $2 == "fill" && $4 == "spawn_ms" { print $3, $5 }' "$SAMPLES" > "$DAT/fill.dat"
	# the fill's running median over 21 spawns, to see the trend through the noise
	sort -n "$DAT/fill.dat" | awk '{ x[NR] = $1; y[NR] = $2 }
		END {
			for (i = 11; i <= NR - 10; i++) {
				n = 0
				for (j = i - 10; j <= i + 10; j++) { w[++n] = y[j]; for (k = n; k > 1 && w[k - 1] > w[k]; k--) { t = w[k]; w[k] = w[k - 1]; w[k - 1] = t } }
				print x[i], w[11]
			}
		}' > "$DAT/fillmed.dat"
	awk -F, '$1 == "scale" && $2 == "lvm" && $4 == "spawn_ms" { print $3, $5 }' "$SAMPLES" > "$DAT/lvm.dat"
	awk -F, '$1 == "scale" && $2 == "at" && $4 == "spawn_ms" { print $3, $6, $7 }' "$SUM" | sort -n > "$DAT/at.dat"
	awk -F, '$1 == "scale" && $2 == "ref" && $4 == "spawn_ms" { print $3, $6 }' "$SUM" | sort -n > "$DAT/ref.dat"
	[ -s "$DAT/fill.dat" ] || [ -s "$DAT/at.dat" ] || return 0
	gnuplot <<-EOF
	$TERM_PNG
	$COLORS
	set output '$OUT/scale.png'
	set title 'Spawn latency against the number of live disposables of one DVM Template'
	set xlabel 'live disposables, this one included (log scale)'
	set ylabel 'spawn, milliseconds (log scale)'
	set logscale xy
	set xrange [0.8:1300]
	set grid xtics ytics mxtics
	set key top right box opaque
	plot '$DAT/lvm.dat' using 1:2 with points lt 5 pt 7 ps 0.6 title 'LVM (Qubes), each spawn', \
	     '$DAT/fill.dat' using 1:2 with points lt 2 pt 7 ps 0.3 title 'dvm-vol, each spawn while filling', \
	     '$DAT/fillmed.dat' using 1:2 with lines lt 2 lw 2.5 title '  running median of 21', \
	     '$DAT/at.dat' using 1:2:2:3 with yerrorbars lt 1 pt 7 ps 1.5 title 'dvm-vol at N: median, bar to p90', \
	     '$DAT/at.dat' using 1:2 with lines lt 1 notitle, \
	     '$DAT/ref.dat' using 1:2 with points lt 6 pt 5 ps 1.3 title 'reference pool at its 10th, same minutes'
	EOF
}

teardown_plot() {
	local i=0 mib
	for mib in 0 1 64 512; do
		[ -n "$(val teardown lib "$mib" destroy_ms)" ] || continue
		printf '%d "%s MiB" %s %s %s %s\n' "$i" "$mib" "$(val teardown lib "$mib" destroy_ms)" \
			"$(val teardown dmsetup "$mib" destroy_ms)" "$(val teardown lvm "$mib" destroy_ms)" \
			"$(val teardown discard-root "$mib" destroy_ms)"
		i=$((i + 1))
	done > "$DAT/teardown.dat"
	[ -s "$DAT/teardown.dat" ] || return 0
	gnuplot <<-EOF
	$TERM_PNG
	$COLORS
	set output '$OUT/teardown.png'
	set title 'Teardown against bytes written into a 4 GiB root (medians)'
	set xlabel 'written into root before teardown'
	set ylabel 'milliseconds (log scale)'
	set logscale y
	set xrange [-0.3:3.3]
	set grid ytics
	set key below
	plot '$DAT/teardown.dat' using 1:3:xtic(2) with linespoints lt 1 title 'dvm-vol destroy of the disposable (3 volumes; zero-discard wipe of what each owns)', \
	     '' using 1:5 with linespoints lt 5 title 'LVM, Qubes stop of the same disposable (blkdiscard -p 1G + lvremove, 3 volumes)', \
	     '' using 1:4 with linespoints lt 3 title 'dmsetup: blkdiscard of one whole 4 GiB thin snapshot, remove, delete', \
	     '' using 1:6 with linespoints lt 4 dt 2 title '  of which the blkdiscard'
	EOF
}

io_plot() {
	local t
	for t in raw thin dm-snapshot; do
		[ -n "$(val io "$t" seqread mbps)" ] || continue
		printf '"%s" %s %s %s\n' "$t" "$(val io "$t" seqread mbps)" "$(val io "$t" randwrite1 iops)" \
			"$(val io "$t" randwrite2 iops)"
	done > "$DAT/io.dat"
	[ -s "$DAT/io.dat" ] || return 0
	gnuplot <<-EOF
	$TERM_PNG
	$COLORS
	set output '$OUT/io.png'
	set multiplot layout 1,2 title 'Guest I/O through the stack (fio, direct I/O, medians)'
	set style data histogram
	set style histogram clustered gap 1
	set style fill solid 0.85 border -1
	set grid ytics
	set yrange [0:*]
	set title 'sequential read, 1 MiB, qd 4'
	set ylabel 'MB/s'
	unset key
	plot '$DAT/io.dat' using 2:xtic(1) lt 6
	set title '4 KiB random write, qd 16'
	set ylabel 'IOPS'
	set key top right
	plot '$DAT/io.dat' using 3:xtic(1) title '1st pass (copy on write)' lt 4, \
	     '' using 4 title '2nd pass' lt 1
	unset multiplot
	EOF
}

spawn_plot
scale_plot
teardown_plot
io_plot
