#!/bin/sh
# Loading benchmark: the CSV loaders (and the build on top: transactions and
# co-occurrence counts) at each thread count given, against the same
# program linked to the library before the streamed, parallel loader
# ("before": one thread, the whole file in memory) and a numpy/scipy peer
# (bench/load/peer.py: the customer x item CSR matrix), interleaved run by
# run so all see the same machine noise.
#
#   bench/load/run.sh [THREADS...]          (default: 1 2)
#
# Environment: RUNS (default 3), BUILD (default build), STORES (generated
# stores under bench/out, default "store1m store3m": ~1.0M and ~3.5M
# lines), BASE (the commit measured as "before", default: the merge base
# with main), BEFORE_LIB (a built libxsell.so of BASE; default: built under
# bench/out/before-BASE), PEER=0 skips the peer.
# Prints a markdown table of medians and ratios; raw runs go to
# bench/out/load.jsonl.  Memory: load_B/line is the peak resident size at
# the end of the load (getrusage, the counter /usr/bin/time -v reads) over
# the events loaded; peak_MB is /usr/bin/time's for the whole run, CPU s
# its user + system seconds (the work, whatever the cores the machine had
# free: on a shared machine the wall-clock ratios T1/T understate scaling).
set -eu
threads=${*:-1 2}
runs=${RUNS:-3}
build=${BUILD:-build}
stores=${STORES:-store1m store3m}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
cmake --build "$build" --target xsell_cli bench_load >&2
py=/usr/bin/python3
out=bench/out
mkdir -p "$out"
for s in $stores; do
    [ -f "$out/$s/events.csv" ] && continue
    case $s in
    store1m) "$build/bin/xsell" gen --customers 100000 --items 100000 \
                 --orders 285000 --seed 7 --out "$out/$s" >&2 ;;
    store3m) "$build/bin/xsell" gen --customers 1000000 --items 100000 \
                 --orders 1000000 --seed 7 --out "$out/$s" >&2 ;;
    *) echo "run.sh: unknown store $s" >&2; exit 2 ;;
    esac
done
# "before": this very program against the base commit's library
base=${BASE:-$(git merge-base HEAD main)}
before_bin="$out/bench_load_before"
if [ -z "${BEFORE_LIB:-}" ]; then
    src="$out/before-$(echo "$base" | cut -c1-12)"
    if [ ! -f "$src/build/lib/libxsell.so" ]; then
        rm -rf "$src"
        mkdir -p "$src"
        git archive "$base" | tar -x -C "$src"
        cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            -DBUILD_TESTING=OFF >&2
        cmake --build "$src/build" --target xsell -j2 >&2
    fi
    BEFORE_LIB="$src/build/lib/libxsell.so"
    before_inc="$src/include"
else
    before_inc=${BEFORE_INCLUDE:-include}
fi
libdir=$(cd "$(dirname "$BEFORE_LIB")" && pwd)
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -DXS_BENCH_SERIAL_API \
    -I"$before_inc" bench/load/bench_load.c -o "$before_bin" \
    -L"$libdir" -lxsell -Wl,-rpath,"$libdir"
raw="$out/load.jsonl"
: > "$raw"
one() { # label impl command...: appends the JSON line with peak_mb
    label=$1 impl=$2
    shift 2
    tmp="$out/load.time"
    line=$(/usr/bin/time -f "%M %U %S" -o "$tmp" "$@")
    set -- $(tail -n 1 "$tmp")
    echo "$line" | sed "s/^{/{\"data\":\"$label\",\"impl\":\"$impl\",\"peak_kb\":$1,\"cpu_s\":$(awk "BEGIN { printf \"%.2f\", $2 + $3 }"),/" >> "$raw"
}
for i in $(seq "$runs"); do
    for s in $stores; do
        f="$out/$s/events.csv"
        for t in $threads; do
            one "$s" "after" "$build/bin/bench_load" --events "$f" --threads "$t"
            one "$s" "before" "$before_bin" --events "$f" --threads "$t"
        done
        [ "${PEER:-1}" = 0 ] || one "$s" "scipy" "$py" bench/load/peer.py --events "$f"
    done
done
"$py" - "$raw" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
groups = {}
for r in rows:
    groups.setdefault((r["data"], r["impl"], r["threads"]), []).append(r)
med = {k: {f: statistics.median(x[f] for x in v)
           for f in ("load_s", "build_s", "total_s", "load_bytes_per_line",
                     "peak_kb", "events", "cpu_s")} | {"n": len(v)}
       for k, v in groups.items()}
sums = {}
for (d, impl, t), v in groups.items():
    if impl != "scipy":
        sums.setdefault((d, impl), set()).update(x["checksum"] for x in v)
for (d, impl), s in sorted(sums.items()):
    if len(s) != 1:
        print("WARNING: %s %s: checksums differ across runs/threads: %s"
              % (d, impl, sorted(s)))
for d in sorted({k[0] for k in med}):
    a, b = sums.get((d, "after")), sums.get((d, "before"))
    print("%s: after and before load the same dataset: %s"
          % (d, "yes" if a and a == b else "NO"))
print()
print("| data | impl | T | runs | load s | build s | total s | CPU s | load B/line "
      "| peak MB | load after/before | total after/before | load T1/T "
      "| total T1/T | load vs scipy | B/line vs scipy |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for k in sorted(med, key=lambda k: (k[0], k[1] != "after", k[1], k[2])):
    d, impl, t = k
    m = med[k]
    bef = med.get((d, "before", t))
    t1 = med.get((d, impl, 1))
    sp = med.get((d, "scipy", 1))
    def r(x, y):
        return "%.2f" % (x / y) if y else "-"
    print("| %s | %s | %d | %d | %.3f | %.3f | %.3f | %.2f | %.1f | %.0f | %s "
          "| %s | %s | %s | %s | %s |" % (
              d, impl, t, m["n"], m["load_s"], m["build_s"], m["total_s"],
              m["cpu_s"], m["load_bytes_per_line"], m["peak_kb"] / 1024,
              r(m["load_s"], bef["load_s"]) if impl == "after" and bef else "-",
              r(m["total_s"], bef["total_s"]) if impl == "after" and bef else "-",
              r(t1["load_s"], m["load_s"]) if t1 and impl != "scipy" else "-",
              r(t1["total_s"], m["total_s"]) if t1 and impl != "scipy" else "-",
              r(m["load_s"], sp["load_s"]) if sp and impl != "scipy" else "-",
              r(m["load_bytes_per_line"], sp["load_bytes_per_line"])
              if sp and impl != "scipy" else "-"))
PY
