#!/bin/sh
# What CURVE costs (issue 12): recommend throughput and latency of the same
# `xsell serve` over plain TCP and over CURVE (--curve-key, --clients; the
# load generator with a write key), measured round-robin in the same run.
#
#   bench/serve/curve.sh [ROUNDS] [BUILD_DIR]     (defaults: 3, build)
#
# Store: examples/data (small rows: the request is cheap, so what CURVE
# adds per message shows most).  Server --threads 2, loopback.  Load:
# bench/serve/loadgen, 2 DEALER clients x 64 in flight, 100,000 requests
# after 10,000 of warm-up, 3 items drawn by popularity, k = 10 (the
# capacity), then 50,000 at a fixed 5,000/s (the latency).  Raw lines:
# bench/out/curve.jsonl.
set -eu
rounds=${1:-3}
build=${2:-build}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
cmake --build "$build" --target xsell_cli plugins loadgen >&2
x=$build/bin/xsell
out=bench/out
mkdir -p "$out"
raw=$out/curve.jsonl
: > "$raw"
tmp=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
cut -d, -f2 examples/data/events.csv | tail -n +2 > "$tmp/items.txt"
"$x" keygen "$tmp/server" >/dev/null
"$x" keygen "$tmp/shop" >/dev/null
mkdir -p "$tmp/clients/write"
cp "$tmp/shop.pub" "$tmp/clients/write/"
ex="--events examples/data/events.csv --catalog examples/data/catalog.csv"
start() {
    name=$1
    shift
    # shellcheck disable=SC2086
    "$x" serve $ex --threads 2 --bind 'tcp://127.0.0.1:*' \
        --port-file "$tmp/$name.port" "$@" 2> "$tmp/$name.err" &
    pids="$pids $!"
    while [ ! -s "$tmp/$name.port" ]; do sleep 0.05; done
}
start plain
start curve --curve-key "$tmp/server.key" --clients "$tmp/clients"
lg="$build/bin/loadgen --items $tmp/items.txt --clients 2 --window 64 --requests 100000 --warmup 10000"
for r in $(seq 1 "$rounds"); do
    # shellcheck disable=SC2086
    p=$($lg --connect "$(cat "$tmp/plain.port")")
    echo "{\"bench\":\"curve\",\"round\":$r,\"transport\":\"plain\",\"result\":$p}" | tee -a "$raw" >&2
    # shellcheck disable=SC2086
    c=$($lg --connect "$(cat "$tmp/curve.port")" \
        --curve-server-key "$tmp/server.pub" --curve-key "$tmp/shop.key")
    echo "{\"bench\":\"curve\",\"round\":$r,\"transport\":\"curve\",\"result\":$c}" | tee -a "$raw" >&2
    # latency at a fixed 5,000 requests/s (well under either's capacity)
    # shellcheck disable=SC2086
    p=$($lg --connect "$(cat "$tmp/plain.port")" --rate 5000 --requests 50000)
    echo "{\"bench\":\"curve\",\"round\":$r,\"transport\":\"plain@5k\",\"result\":$p}" | tee -a "$raw" >&2
    # shellcheck disable=SC2086
    c=$($lg --connect "$(cat "$tmp/curve.port")" --rate 5000 --requests 50000 \
        --curve-server-key "$tmp/server.pub" --curve-key "$tmp/shop.key")
    echo "{\"bench\":\"curve\",\"round\":$r,\"transport\":\"curve@5k\",\"result\":$c}" | tee -a "$raw" >&2
done
/usr/bin/python3 - "$raw" <<'PY' >&2
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = {}
for t in ("plain", "curve", "plain@5k", "curve@5k"):
    rs = [r["result"] for r in rows if r["transport"] == t]
    med[t] = {k: statistics.median(r[k] for r in rs)
              for k in rs[0] if isinstance(rs[0][k], (int, float))}
for t in ("plain", "curve", "plain@5k", "curve@5k"):
    m = med[t]
    print("%-9s throughput %7.0f/s  p50 %7.0f us  p99 %7.0f us  max %7.0f us"
          % (t, m["throughput"], m["p50_us"], m["p99_us"], m["max_us"]))
print("curve/plain throughput %.2f; at 5k/s p50 %.2fx, p99 %.2fx"
      % (med["curve"]["throughput"] / med["plain"]["throughput"],
         med["curve@5k"]["p50_us"] / med["plain@5k"]["p50_us"],
         med["curve@5k"]["p99_us"] / med["plain@5k"]["p99_us"]))
PY
