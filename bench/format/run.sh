#!/bin/sh
# Number formatting benchmark: xs_format_double (util/dtoa.c, Schubfach,
# one pass) against the method it replaced (%.15g/%.16g/%.17g each with a
# strtod, copied into bench_format.c) and a bare %.17g, interleaved within
# each run (bench_format.c).
#
#   bench/format/run.sh [RUNS] [BUILD_DIR] [N]     (defaults: 7, build, 1000000)
#
# Prints the medians of RUNS runs in ns per number and the ratios; raw runs
# go to bench/out/format.jsonl.
set -eu
runs=${1:-7}
build=${2:-build}
n=${3:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
cmake --build "$build" --target bench_format >&2
mkdir -p bench/out
"$build/bin/bench_format" --runs "$runs" --n "$n" > bench/out/format.jsonl
grep '^#' bench/out/format.jsonl
