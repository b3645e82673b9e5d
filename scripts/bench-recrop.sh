#!/usr/bin/env bash
# bench-recrop.sh: the re-crop benchmark of issue 4, beside libvips, in one
# process on both sides (issue 18).
#
# canvasd: BenchmarkRecropCold (decode the 3840x2600 page render from memory,
# crop ~2 MP, encode PNG at BestSpeed) and BenchmarkRecropWarm (source cached:
# crop + encode) from ./imaging, 10 iterations per round.
# libvips: scripts/vips-recrop.c, one long-running process calling the libvips
# C API (what pyvips wraps; python3-pyvips is not packaged for Debian 12):
# the same PNG bytes from memory, operation cache off, crop of the same region,
# pngsave_buffer compression=1 (zlib level 1, as BestSpeed), 10 iterations per
# round, cold (default access and access=sequential) and warm (page decoded
# into memory once).
# Also, separately: the `vips` CLI's start-up cost (`vips --version`, and a
# 1x1 crop of the same page) and a whole `vips crop` process, as a server
# shelling out to vips would pay.
#
# Rounds alternate (canvasd, libvips, CLI, canvasd, libvips, CLI, ...) so both
# sides see the same machine load; the load average is printed per round, and
# medians and ranges over the rounds at the end.
#
# Usage: scripts/bench-recrop.sh [ROUNDS]   (default 5)
# Needs: go, a C compiler, libvips-dev (headers + pkg-config), libvips-tools.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
ITERS=10
PAGE=imaging/testdata/heavy-page.png
# The region of heavyPageCrop in imaging/pagegen_test.go: left top width height.
CROP=(800 600 1700 1200)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [[ ! -f $PAGE ]]; then
	# Not committed (too big): render it with the same generator.
	IMAGING_HEAVY_PAGE_OUT="$tmp/page.png" go test ./imaging -run '^TestHeavyPage$' -count=1 >/dev/null
	PAGE="$tmp/page.png"
fi
command -v vips >/dev/null || { echo "vips not found: apt-get install -y libvips-tools" >&2; exit 1; }
pkg-config --exists vips || { echo "libvips headers not found: apt-get install -y libvips-dev" >&2; exit 1; }

cc -O2 -o "$tmp/vips-recrop" scripts/vips-recrop.c $(pkg-config --cflags --libs vips)
go test -c -o "$tmp/imaging.test" ./imaging

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(go version | cut -d' ' -f3), $(vips --version)"
echo "page: $PAGE ($(stat -c %s "$PAGE") bytes), crop ${CROP[*]} (left top width height), $ITERS iterations per round, $ROUNDS rounds"

TIMEFORMAT='%3R %3U %3S'
timeit() { # label cmd...: one process, wall and CPU ms
	local t
	t=$( { time "${@:2}" >/dev/null 2>&1; } 2>&1 )
	echo "$1 $t" | awk '{printf "%s wall_ms %.1f cpu_ms %.1f\n", $1, $2*1000, ($3+$4)*1000}'
}
vips crop "$PAGE" "$tmp/out.png[compression=1]" "${CROP[@]}" # warm the page cache
for r in $(seq "$ROUNDS"); do
	echo "round $r load $(cut -d' ' -f1 /proc/loadavg)"
	(cd imaging && "$tmp/imaging.test" -test.run '^$' -test.bench '^BenchmarkRecrop(Cold|Warm)$' -test.benchtime ${ITERS}x -test.count 1) |
		awk '/^BenchmarkRecrop/ {n=$1; sub(/-[0-9]+$/, "", n); sub(/BenchmarkRecrop/, "go-", n);
			for (i=1;i<NF;i++) { if ($(i+1)=="ns/op") w=$i/1e6; if ($(i+1)=="cpu-ms/op") c=$i; if ($(i+1)=="out-bytes") o=$i }
			printf "%s wall_ms %.1f cpu_ms %.1f out_bytes %d\n", tolower(n), w, c, o}'
	"$tmp/vips-recrop" "$PAGE" "${CROP[@]}" "$ITERS" | awk '$2=="median_ms" {printf "vips-%s wall_ms %s cpu_ms %s out_bytes %s range %s-%s\n", $1, $3, $9, $11, $5, $7}'
	for _ in 1 2 3; do
		timeit cli-version vips --version
		timeit cli-crop-1x1 vips crop "$PAGE" "$tmp/one.png[compression=1]" 0 0 1 1
		timeit cli-crop vips crop "$PAGE" "$tmp/out.png[compression=1]" "${CROP[@]}"
	done
done | tee "$tmp/rounds.txt"

echo
echo "median (min-max) over rounds; wall = per-round mean of $ITERS (Go) or median of $ITERS (libvips in-process), or one process (CLI)"
awk '$1!="round" && $1!="libvips" {w[$1]=w[$1]" "$3; c[$1]=c[$1]" "$5; if ($6=="out_bytes") o[$1]=$7; if (!($1 in seen)) {seen[$1]=1; order[++k]=$1}}
	$1=="round" {l=l" "$4}
	function med(s,   a,n,i,j,t) { n=split(s,a," "); for(i=1;i<=n;i++) for(j=i+1;j<=n;j++) if (a[j]+0<a[i]+0) {t=a[i];a[i]=a[j];a[j]=t}; lo=a[1]; hi=a[n]; return a[int((n+1)/2)] }
	END {
		printf "%-16s %22s %22s %12s\n", "", "wall ms", "CPU ms", "out bytes"
		for (i=1;i<=k;i++) { n=order[i]; m=med(w[n]); wl=lo; wh=hi; mc=med(c[n]); W[n]=m; C[n]=mc
			printf "%-16s %8.1f (%5.1f-%5.1f) %8.1f (%5.1f-%5.1f) %12s\n", n, m, wl, wh, mc, lo, hi, o[n] }
		med(l); printf "load average (1 min) at round start: %s .. %s\n", lo, hi
		printf "\nin-process vs in-process (median wall):  cold/vips-cold = %.2fx  cold/vips-cold-seq = %.2fx  warm/vips-warm = %.2fx\n", W["go-cold"]/W["vips-cold"], W["go-cold"]/W["vips-cold-seq"], W["go-warm"]/W["vips-warm"]
		printf "in-process vs in-process (median CPU):   cold/vips-cold = %.2fx  cold/vips-cold-seq = %.2fx  warm/vips-warm = %.2fx\n", C["go-cold"]/C["vips-cold"], C["go-cold"]/C["vips-cold-seq"], C["go-warm"]/C["vips-warm"]
		printf "vips CLI start-up (vips --version) %.1f ms wall; whole vips crop process %.1f ms: in-process vs CLI process cold/cli-crop = %.2fx\n", W["cli-version"], W["cli-crop"], W["go-cold"]/W["cli-crop"]
	}' "$tmp/rounds.txt"
