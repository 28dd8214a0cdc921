#!/bin/sh
# The cost of checking the text (issue 15, point 3): every block is checked
# to be UTF-8 without NUL bytes before it is parsed, or transcoded from
# Latin-1 with --encoding latin1.  bench_load --load-only ("after": this
# tree; "after-latin1": the same with --latin1) against the same program
# and library of the commit before the check ("before"), interleaved run
# by run so all see the same machine noise.
#
#   bench/load/messy.sh [THREADS...]          (default: 1 2)
#
# Environment: RUNS (default 5), BUILD (default build), STORE (a generated
# store under bench/out, default store1m, made if missing as in run.sh),
# BEFORE_SRC (a source tree of the commit before: its bench_load.c and
# headers) and BEFORE_LIB (its built libxsell.so).  Prints a markdown table
# of medians and the after/before ratios; raw runs go to
# bench/out/messy.jsonl; bench/load/bench_text.c then times the check
# and the transcoding alone on the whole file.  The store is ASCII, so
# "after" measures the check and "after-latin1" the transcoding (a copy
# per block) at its cheapest.
set -eu
threads=${*:-1 2}
runs=${RUNS:-5}
build=${BUILD:-build}
store=${STORE:-store1m}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
: "${BEFORE_SRC:?give BEFORE_SRC, a source tree of the commit before}"
: "${BEFORE_LIB:?give BEFORE_LIB, that tree's built libxsell.so}"
cmake --build "$build" --target xsell_cli bench_load >&2
out=bench/out
mkdir -p "$out"
f="$out/$store/events.csv"
if [ ! -f "$f" ]; then
    case $store in
    store1m) "$build/bin/xsell" gen --customers 100000 --items 100000 \
                 --orders 285000 --seed 7 --out "$out/$store" >&2 ;;
    *) echo "messy.sh: unknown store $store" >&2; exit 2 ;;
    esac
fi
libdir=$(cd "$(dirname "$BEFORE_LIB")" && pwd)
before_bin="$out/bench_load_messy_before"
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$BEFORE_SRC/include" \
    "$BEFORE_SRC/bench/load/bench_load.c" -o "$before_bin" \
    -L"$libdir" -lxsell -Wl,-rpath,"$libdir"
raw="$out/messy.jsonl"
: > "$raw"
one() { # impl command...
    impl=$1
    shift
    "$@" | sed "s/^{/{\"impl\":\"$impl\",/" >> "$raw"
}
for i in $(seq "$runs"); do
    for t in $threads; do
        one after "$build/bin/bench_load" --events "$f" --threads "$t" --load-only
        one before "$before_bin" --events "$f" --threads "$t" --load-only
        one after-latin1 "$build/bin/bench_load" --events "$f" --threads "$t" \
            --load-only --latin1
    done
done
# the check and the transcoding alone, one thread, the whole file
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Icore bench/load/bench_text.c \
    core/data/text.c -o "$out/bench_text"
"$out/bench_text" "$f" "$runs" > "$out/messy_text.jsonl"
/usr/bin/python3 - "$raw" "$out/messy_text.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
g = {}
for r in rows:
    g.setdefault((r["impl"], r["threads"]), []).append(r)
sums = {r["checksum"] for r in rows}
print("same dataset in every run: %s" % ("yes" if len(sums) == 1 else "NO"))
print()
print("| impl | T | runs | load s (median) | min | max | vs before (median of per-round ratios) |")
print("|---|---|---|---|---|---|---|")
for (impl, t) in sorted(g, key=lambda k: (k[1], k[0])):
    v = [x["load_s"] for x in g[(impl, t)]]
    b = [x["load_s"] for x in g.get(("before", t), [])]
    ratio = "-"
    if impl != "before" and len(b) == len(v):
        ratio = "%.3f" % statistics.median(a / c for a, c in zip(v, b))
    print("| %s | %d | %d | %.3f | %.3f | %.3f | %s |"
          % (impl, t, len(v), statistics.median(v), min(v), max(v), ratio))
text = [json.loads(l) for l in open(sys.argv[2])]
check = statistics.median(x["check_s"] for x in text)
latin = statistics.median(x["latin1_s"] for x in text)
load1 = statistics.median(x["load_s"] for x in g.get(("after", 1), [])) \
    if ("after", 1) in g else None
print()
print("text alone (%d runs, %.1f MB, one thread): check %.4f s (%.0f MB/s), "
      "Latin-1 transcoding %.4f s (%.0f MB/s)"
      % (len(text), text[0]["mb"], check, text[0]["mb"] / check, latin,
         text[0]["mb"] / latin))
if load1:
    print("as a share of the one-thread load (%.3f s): check %.1f%%, "
          "transcoding %.1f%%" % (load1, 100 * check / load1,
                                  100 * latin / load1))
PY
