#!/bin/sh
# Co-occurrence benchmark: xsell (1 and 2 threads) against scipy X^T X on the
# same baskets, interleaved run by run so both see the same machine noise.
#
#   bench/cooc/run.sh [RUNS] [BUILD_DIR]      (defaults: 5, build)
#
# Data: ../shared/data/online_retail_baskets.csv (skipped if absent) and a
# generated store of about 1,000,000 order lines (bench/out/store1m).
# Prints a markdown table of medians and ratios; raw runs go to
# bench/out/cooc.jsonl.
set -eu
runs=${1:-5}
build=${2:-build}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
# benchmarks are not built by default: build what this one runs
cmake --build "$build" --target xsell_cli bench_cooc >&2
py=/usr/bin/python3
out=bench/out
mkdir -p "$out"
if [ ! -f "$out/store1m/events.csv" ]; then
    "$build/bin/xsell" gen --customers 100000 --items 100000 --orders 285000 \
        --seed 7 --out "$out/store1m"
fi
raw="$out/cooc.jsonl"
: > "$raw"
bench_one() { # label kind file
    for i in $(seq "$runs"); do
        for t in 1 2; do
            "$build/bin/bench_cooc" "$2" "$3" --threads "$t" |
                sed "s/^{/{\"data\":\"$1\",/" >> "$raw"
        done
        "$py" bench/cooc/cooc_scipy.py "$2" "$3" |
            sed "s/^{/{\"data\":\"$1\", /" >> "$raw"
    done
}
retail=../shared/data/online_retail_baskets.csv
[ -f "$retail" ] && bench_one online_retail --baskets "$retail"
bench_one store1m --events "$out/store1m/events.csv"
"$py" - "$raw" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def key(r):
    return (r["data"], r["impl"] if r["impl"].startswith("scipy") else
            "xsell %dT" % r["threads"])
groups = {}
for r in rows:
    groups.setdefault(key(r), []).append(r)
med = {k: {f: statistics.median(x[f] for x in v) for f in
           ("load_s", "count_s", "total_s", "peak_rss_mb", "bytes_per_pair")}
       for k, v in groups.items()}
print("| data | impl | runs | load s | count s | total s | peak RSS MB | "
      "bytes/pair | count vs scipy | total vs scipy | peak vs scipy |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for (data, impl), m in sorted(med.items()):
    peer = next(v for (d, i), v in med.items() if d == data and
                i.startswith("scipy"))
    print("| %s | %s | %d | %.3f | %.3f | %.3f | %.1f | %.2f | %.2fx | %.2fx "
          "| %.2f |" % (data, impl, len(groups[(data, impl)]), m["load_s"],
                        m["count_s"], m["total_s"], m["peak_rss_mb"],
                        m["bytes_per_pair"], peer["count_s"] / m["count_s"],
                        peer["total_s"] / m["total_s"],
                        m["peak_rss_mb"] / peer["peak_rss_mb"]))
sums = {r["data"]: set() for r in rows}
for r in rows:
    sums[r["data"]].add(r["checksum"])
for d, s in sums.items():
    print("\n%s: checksum %s" % (d, "identical in every run: " + str(s.pop())
                                  if len(s) == 1 else "DIFFERS: %s" % s))
PY
