#!/bin/sh
# The same plugin and blend requests through two builds of xsell (before
# and after a change that should not change the cost), alternating build by
# build round by round so both see the same machine noise.
#
#   bench/plugins/compare_builds.sh OLD_BUILD NEW_BUILD [ROUNDS] [REQUESTS]
#                                                  (defaults: 7, 3000)
#
# Each round runs OLD's then NEW's bench_plugins (one round each, the
# generated 100,000-item store of bench/plugins/run.sh) in two
# configurations: serving (copurchase and recency max_neighbours=100) and
# exact (every plugin at its defaults).  Prints, per configuration,
# workload and plugin, the median over rounds of the mean latency of each
# build and NEW / OLD.  Raw lines: bench/out/compare_builds.jsonl.
set -eu
old=$1
new=$2
rounds=${3:-7}
requests=${4:-3000}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
for b in "$old" "$new"; do
    [ -x "$b/bin/bench_plugins" ] ||
        { echo "compare_builds.sh: no $b/bin/bench_plugins" >&2; exit 1; }
done
out=bench/out
store=$out/store1m
if [ ! -f "$store/events.csv" ]; then
    "$new/bin/xsell" gen --customers 100000 --items 100000 --orders 285000 \
        --seed 7 --out "$store"
fi
raw=$out/compare_builds.jsonl
: > "$raw"
caps="--plugin-opt copurchase.max_neighbours=100 --plugin-opt recency.max_neighbours=100"
for r in $(seq "$rounds"); do
    for config in serving exact; do
        opts=""
        [ "$config" = serving ] && opts=$caps
        for side in old new; do
            b=$old
            [ "$side" = new ] && b=$new
            echo "== round $r $config $side" >&2
            # shellcheck disable=SC2086
            "$b/bin/bench_plugins" --events "$store/events.csv" \
                --catalog "$store/catalog.csv" --requests "$requests" \
                --rounds 1 $opts 2>/dev/null |
                sed "s/^{/{\"build\":\"$side\",\"config\":\"$config\",\"round\":$r,/" >> "$raw"
        done
    done
done
/usr/bin/python3 - "$raw" <<'PY'
import collections, json, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    d = json.loads(line)
    if "plugin" not in d:
        continue  # the blend's ratios
    runs[(d["config"], d["workload"], d["plugin"], d["build"])].append(d["mean_us"])
print("| configuration | workload | plugin | old µs | new µs | new / old |")
print("|---|---|---|---:|---:|---:|")
seen = []
for (config, workload, plugin, build) in runs:
    if (config, workload, plugin) not in seen:
        seen.append((config, workload, plugin))
for config, workload, plugin in seen:
    o = statistics.median(runs[(config, workload, plugin, "old")])
    n = statistics.median(runs[(config, workload, plugin, "new")])
    print("| %s | %s | %s | %.1f | %.1f | %.2f |"
          % (config, workload, plugin, o, n, n / o))
PY
