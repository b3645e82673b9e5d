#!/usr/bin/env bash
# bench-recrop.sh: the re-crop benchmark of issue 4, beside libvips.
#
# Runs BenchmarkRecropCold (decode the 3840x2600 page render, crop ~2 MP,
# encode PNG at BestSpeed) and BenchmarkRecropWarm (source cached: crop +
# encode) from ./imaging, then times `vips crop` of the same region of the
# same PNG to a PNG at compression 1 (zlib level 1, as BestSpeed), and
# prints ms/op for each with the ratios the issue sets as targets:
# cold <= 1.2x libvips, warm <= 0.25x libvips.
#
# Usage: scripts/bench-recrop.sh [RUNS]   (RUNS: vips runs and -count, default 10)
# Needs: go, vips (Debian libvips-tools); uses hyperfine when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
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

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(go version | cut -d' ' -f3), $(vips --version)"
echo "page: $PAGE ($(stat -c %s "$PAGE") bytes), crop ${CROP[*]} (left top width height)"

# Go: best-of-RUNS ms/op for each benchmark (one iteration batch per -count).
go test ./imaging -run '^$' -bench '^BenchmarkRecrop(Cold|Warm)$' -benchtime 10x -count "$RUNS" >"$tmp/go.txt"
go_ms() { awk -v b="$1" '$1 ~ "^"b"(-[0-9]+)?$" {print $3/1e6}' "$tmp/go.txt" | sort -g | head -1; }
go_med() { awk -v b="$1" '$1 ~ "^"b"(-[0-9]+)?$" {print $3/1e6}' "$tmp/go.txt" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cold_best=$(go_ms BenchmarkRecropCold); cold_med=$(go_med BenchmarkRecropCold)
warm_best=$(go_ms BenchmarkRecropWarm); warm_med=$(go_med BenchmarkRecropWarm)

# libvips: whole process per run (load, crop, pngsave compression=1), which is
# what a server shelling out to vips would pay. Bash's `time` gives wall and
# CPU (user+sys) time of each run.
vips_cmd=(vips crop "$PAGE" "$tmp/out.png[compression=1]" "${CROP[@]}")
"${vips_cmd[@]}" # warm the page cache
: >"$tmp/vips.txt"
TIMEFORMAT='%3R %3U %3S'
for _ in $(seq "$RUNS"); do
	{ time "${vips_cmd[@]}"; } 2>>"$tmp/vips.txt"
done
vips_times=$(awk '{print $1*1000}' "$tmp/vips.txt")
vips_cpu=$(awk '{print ($2+$3)*1000}' "$tmp/vips.txt" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$tmp/hf.json" "${vips_cmd[*]}" >/dev/null
	vips_times=$(python3 -c 'import json,sys; print("\n".join(str(t*1000) for t in json.load(open(sys.argv[1]))["results"][0]["times"]))' "$tmp/hf.json")
fi
vips_best=$(echo "$vips_times" | sort -g | head -1)
vips_med=$(echo "$vips_times" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
go_out=$(awk '$1 ~ /^BenchmarkRecropCold/ {for (i=1;i<=NF;i++) if ($(i+1)=="out-bytes") {print $i; exit}}' "$tmp/go.txt")
vips_out=$(stat -c %s "$tmp/out.png")

go_cpu() { awk -v b="$1" '$1 ~ "^"b"(-[0-9]+)?$" {for (i=1;i<NF;i++) if ($(i+1)=="cpu-ms/op") print $i}' "$tmp/go.txt" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cold_cpu=$(go_cpu BenchmarkRecropCold); warm_cpu=$(go_cpu BenchmarkRecropWarm)

printf '\n%-36s %9s %10s %13s %12s\n' "" "best ms" "median ms" "median cpu ms" "output bytes"
printf '%-36s %9.1f %10.1f %13.1f %12s\n' "canvasd cold (decode+crop+encode)" "$cold_best" "$cold_med" "$cold_cpu" "$go_out"
printf '%-36s %9.1f %10.1f %13.1f %12s\n' "canvasd warm (cached: crop+encode)" "$warm_best" "$warm_med" "$warm_cpu" "$go_out"
printf '%-36s %9.1f %10.1f %13.1f %12s\n' "vips crop, pngsave compression=1" "$vips_best" "$vips_med" "$vips_cpu" "$vips_out"
awk -v c="$cold_med" -v w="$warm_med" -v v="$vips_med" 'BEGIN {
	printf "\ncold/vips = %.2fx (target <= 1.20x)   warm/vips = %.2fx (target <= 0.25x)   [median wall times]\n", c/v, w/v }'
awk -v c="$cold_cpu" -v w="$warm_cpu" -v v="$vips_cpu" 'BEGIN {
	printf "cold/vips = %.2fx                      warm/vips = %.2fx                      [median CPU times]\n", c/v, w/v }'
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) (figures are only comparable on an otherwise idle machine)"
