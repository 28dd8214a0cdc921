#!/bin/sh
# Plugin and blend latency on the generated 100,000-item store.
#
#   bench/plugins/run.sh [ROUNDS] [BUILD_DIR]     (defaults: 5, build)
#
# 1. Engine level (bench_plugins, no network): each request = a known
#    customer + a 3-item basket drawn by popularity (and the same baskets
#    anonymously), k = 10, through copurchase, upsell, recency, popular and
#    the blend; median over ROUNDS of the mean, p50 and p99.  Configurations:
#      serving  copurchase and recency from their 100 best neighbours
#               (max_neighbours=100), blend in the caller;
#      fanout   the same with one blend helper thread (--blend-threads 1);
#      exact    every plugin at its defaults (whole rows).
# 2. Server level: `xsell serve --threads 2` with the serving options, the
#    load generator paced at 1,000 requests/s (latency, not queueing), each
#    plugin and the blend asked in turn, ROUNDS rounds; median p50/p99.
# Raw lines: bench/out/plugins.jsonl.
set -eu
rounds=${1:-5}
build=${2:-build}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
# benchmarks are not built by default: build what this one runs
cmake --build "$build" --target xsell_cli plugins bench_plugins loadgen >&2
out=bench/out
mkdir -p "$out"
store=$out/store1m
if [ ! -f "$store/events.csv" ]; then
    "$build/bin/xsell" gen --customers 100000 --items 100000 --orders 285000 \
        --seed 7 --out "$store"
fi
[ -f "$store/items.txt" ] || cut -d, -f2 "$store/events.csv" | tail -n +2 > "$store/items.txt"
[ -f "$store/customers.txt" ] || cut -d, -f1 "$store/events.csv" | tail -n +2 > "$store/customers.txt"
raw=$out/plugins.jsonl
: > "$raw"
caps="--plugin-opt copurchase.max_neighbours=100 --plugin-opt recency.max_neighbours=100"
bp() { # label args...
    label=$1
    shift
    echo "== engine: $label" >&2
    "$build/bin/bench_plugins" --events "$store/events.csv" \
        --catalog "$store/catalog.csv" --requests 3000 --rounds "$rounds" "$@" |
        sed "s/^{/{\"config\":\"$label\",/" >> "$raw"
}
# shellcheck disable=SC2086
bp serving $caps
# shellcheck disable=SC2086
bp fanout $caps --blend-threads 1
bp exact

tmp=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
for bt in 0 1; do
    # shellcheck disable=SC2086
    "$build/bin/xsell" serve --events "$store/events.csv" \
        --catalog "$store/catalog.csv" --threads 2 --blend-threads $bt $caps \
        --bind 'tcp://127.0.0.1:*' --port-file "$tmp/port" 2>"$tmp/log" &
    server=$!
    i=0
    while [ ! -s "$tmp/port" ]; do
        i=$((i + 1))
        [ $i -gt 600 ] && { echo "server did not start" >&2; cat "$tmp/log" >&2; exit 1; }
        sleep 0.1
    done
    ep=$(cat "$tmp/port")
    r=0
    while [ $r -lt "$rounds" ]; do
        for p in copurchase upsell recency popular blend; do
            echo "== server (blend threads $bt): $p, round $r" >&2
            "$build/bin/loadgen" --connect "$ep" --items "$store/items.txt" \
                --customers "$store/customers.txt" --plugin "$p" \
                --clients 2 --window 8 --rate 1000 --requests 5000 \
                --warmup 500 --seed $((r + 1)) |
                sed "s/^{/{\"config\":\"server\",\"blend_threads\":$bt,\"plugin\":\"$p\",\"round\":$r,/" >> "$raw"
        done
        r=$((r + 1))
    done
    kill "$server"
    wait "$server" || true
    server=""
    rm -f "$tmp/port"
done
/usr/bin/python3 - "$raw" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("engine level (us, median of rounds):")
for r in rows:
    if "workload" in r and "plugin" in r:
        print("  %-8s %-16s %-10s mean %8.1f  p50 %8.1f  p99 %8.1f" % (
            r["config"], r["workload"], r["plugin"], r["mean_us"],
            r["p50_us"], r["p99_us"]))
    elif "blend_over_slowest" in r:
        print("  %-8s %-16s blend/slowest %.2f  blend/sum %.2f" % (
            r["config"], r["workload"], r["blend_over_slowest"],
            r["blend_over_sum"]))
print("server level, paced 1,000/s (us, median over rounds):")
srv = [r for r in rows if r.get("config") == "server"]
for bt in (0, 1):
    med = {}
    for p in ("copurchase", "upsell", "recency", "popular", "blend"):
        xs = [r for r in srv if r["blend_threads"] == bt and r["plugin"] == p]
        if not xs:
            continue
        lat = {k: statistics.median(x[k + "_us"] for x in xs)
               for k in ("p50", "p99")}
        med[p] = lat
        print("  threads %d %-10s p50 %8.1f  p99 %8.1f  errors %d" % (
            bt, p, lat["p50"], lat["p99"], sum(x["errors"] for x in xs)))
    single = [med[p]["p50"] for p in med if p not in ("blend", "popular")]
    if single and "blend" in med:
        print("  threads %d blend p50 / slowest plugin p50: %.2f" % (
            bt, med["blend"]["p50"] / max(single)))
EOF
