#!/bin/sh
# Serving benchmark: throughput and latency of `xsell serve` under the
# DEALER load generator, against a bare ZeroMQ ROUTER echo server measured
# with the same generator, requests and window in the same run.
#
#   bench/serve/run.sh [ROUNDS] [BUILD_DIR]     (defaults: 3, build)
#
# Store: the generated 100,000-item store of bench/cooc/run.sh (made here if
# missing).  Requests: recommend, 3 items drawn by popularity, k = 10.
# Servers, all started once and measured round-robin in every round:
#   echo          bench/serve/echo_server (the ceiling)
#   xsell 1T      --threads 1 (direct: no proxy), max_neighbours=100
#   xsell 2T      --threads 2 (proxy + 2 workers), max_neighbours=100
#   xsell 1T exact --threads 1, whole rows (the default)
#   xsell 2T M50  --threads 2, max_neighbours=50
# Then: the 1T server at a fixed 50,000 requests/s, the read throughput
# while ingest runs at 1,000 events/s, and how often the capped lists give
# the exact top 10.  Raw runs: bench/out/serve.jsonl.
set -eu
rounds=${1:-3}
build=${2:-build}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
# benchmarks are not built by default: build what this one runs
cmake --build "$build" --target xsell_cli plugins echo_server loadgen >&2
out=bench/out
mkdir -p "$out"
store=$out/store1m
if [ ! -f "$store/events.csv" ]; then
    "$build/bin/xsell" gen --customers 100000 --items 100000 --orders 285000 \
        --seed 7 --out "$store"
fi
[ -f "$store/items.txt" ] || cut -d, -f2 "$store/events.csv" | tail -n +2 > "$store/items.txt"
tmp=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
start() { # name command...
    name=$1
    shift
    "$@" > "$tmp/$name.log" 2>&1 &
    pids="$pids $!"
}
start echo "$build/bin/echo_server" 'tcp://127.0.0.1:*' "$tmp/echo.port"
start s1 "$build/bin/xsell" serve --events "$store/events.csv" --threads 1 \
    --bind 'tcp://127.0.0.1:*' --port-file "$tmp/s1.port" \
    --plugin-opt copurchase.max_neighbours=100
start s2 "$build/bin/xsell" serve --events "$store/events.csv" --threads 2 \
    --bind 'tcp://127.0.0.1:*' --port-file "$tmp/s2.port" \
    --plugin-opt copurchase.max_neighbours=100
start ex "$build/bin/xsell" serve --events "$store/events.csv" --threads 1 \
    --bind 'tcp://127.0.0.1:*' --port-file "$tmp/ex.port"
start s3 "$build/bin/xsell" serve --events "$store/events.csv" --threads 2 \
    --bind 'tcp://127.0.0.1:*' --port-file "$tmp/s3.port" \
    --plugin-opt copurchase.max_neighbours=50
for f in echo s1 s2 ex s3; do
    i=0
    while [ ! -s "$tmp/$f.port" ]; do
        i=$((i + 1))
        [ $i -gt 600 ] && { echo "server $f did not start" >&2; cat "$tmp/$f.log" >&2; exit 1; }
        sleep 0.1
    done
done
# agreement first: the ingest runs below change the capped server's data
for m in s1 s3; do
    /usr/bin/python3 bench/serve/agreement.py "$(cat "$tmp/$m.port")" \
        "$(cat "$tmp/ex.port")" "$store/items.txt" > "$out/agreement-$m.json"
done
raw=$out/serve.jsonl
: > "$raw"
lg() { # label endpoint-file args...
    label=$1
    ep=$(cat "$tmp/$2.port")
    shift 2
    "$build/bin/loadgen" --connect "$ep" --items "$store/items.txt" \
        --clients 1 --requests 200000 --warmup 20000 "$@" |
        sed "s#^{#{\"server\":\"$label\",#" >> "$raw"
}
for r in $(seq "$rounds"); do
    for w in 16 64; do
        lg echo echo --window "$w"
        lg "xsell 1T" s1 --window "$w"
        lg "xsell 2T" s2 --window "$w"
        lg "xsell 1T exact" ex --window "$w"
        lg "xsell 2T M50" s3 --window "$w"
    done
    lg "echo @50k/s" echo --window 256 --rate 50000
    lg "xsell 1T @50k/s" s1 --window 256 --rate 50000
    lg "xsell 2T @50k/s" s2 --window 256 --rate 50000
    lg "xsell 2T M50 @50k/s" s3 --window 256 --rate 50000
    lg "xsell 1T +ingest" s1 --window 64 --ingest-rate 1000
    lg "xsell 2T +ingest" s2 --window 64 --ingest-rate 1000
done
/usr/bin/python3 - "$raw" "$out/agreement-s1.json" "$out/agreement-s3.json" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
groups = {}
for r in rows:
    groups.setdefault((r["server"], r["window"], r["rate"]), []).append(r)
med = {k: {f: statistics.median(x[f] for x in v) for f in
           ("throughput", "p50_us", "p90_us", "p99_us", "errors", "ingested")}
       for k, v in groups.items()}
print("| server | window | rate | runs | req/s | p50 us | p90 us | p99 us | "
      "errors | ingested | vs echo |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for (srv, w, rate), m in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
    echo = med.get(("echo", w, rate)) or med.get(("echo @50k/s", w, rate))
    ratio = "%.2f" % (m["throughput"] / echo["throughput"]) if echo else "-"
    print("| %s | %d | %s | %d | %.0f | %.0f | %.0f | %.0f | %d | %d | %s |" % (
        srv, w, "%.0f" % rate if rate else "max", len(groups[(srv, w, rate)]),
        m["throughput"], m["p50_us"], m["p90_us"], m["p99_us"], m["errors"],
        m["ingested"], ratio))
for cap, path in (("100", sys.argv[2]), ("50", sys.argv[3])):
    a = json.load(open(path))
    print("\nmax_neighbours=%s against whole rows, %d baskets of 3: top-10 "
          "overlap %.3f, identical top 10 in %.1f%% of requests; one-item "
          "requests identical in %.1f%%" % (cap, a["requests"], a["overlap"],
          100 * a["identical"], 100 * a["single_identical"]))
PY
