#!/bin/sh
# Dictionary hash benchmark: uthash's Jenkins against util/hash.h, the same
# table compiled twice, interleaved within each run (bench_dict.c).
#
#   bench/dict/run.sh [RUNS] [BUILD_DIR] [EVENTS]
#       (defaults: 5, build, bench/out/store1m/events.csv)
#
# Interns then looks up every customer and item reference of the events
# file; prints ns per hash, per intern and per lookup (medians) and the
# jen/xs ratios; raw runs go to bench/out/dict.jsonl.
set -eu
runs=${1:-5}
build=${2:-build}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
cmake --build "$build" --target xsell_cli bench_dict >&2
out=bench/out
mkdir -p "$out"
events=${3:-$out/store1m/events.csv}
if [ ! -f "$events" ]; then
    "$build/bin/xsell" gen --customers 100000 --items 100000 --orders 285000 \
        --seed 7 --out "$out/store1m"
    events=$out/store1m/events.csv
fi
"$build/bin/bench_dict" "$events" --runs "$runs" > "$out/dict.jsonl"
grep '^#' "$out/dict.jsonl"
