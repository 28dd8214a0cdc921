#!/bin/sh
# The soak (issue 11): 90% recommend / 10% ingest against `xsell serve` for
# a while, a report line per minute: throughput, p99 and max latency, RSS,
# and RSS growth per ingested event against what the event adds to the
# engine's data (the stats op's memory.data_bytes).  Targets: throughput of
# the last minute within 20% of the first, max latency under 50 ms, RSS
# growth per event within 2x of the data it adds.
#
#   bench/soak/run.sh [MINUTES] [BUILD_DIR] [-- soak.py options]
#                                  (defaults: 10, build)
#
# Store: `xsell gen --customers 20000 --items 5000 --orders 100000` (made
# in bench/out/soak_store when missing), with its catalog: the default
# plugins (copurchase, upsell, recency, popular).  Server: --threads 2.
# Client: bench/soak/soak.py, 4 processes x 8 requests in flight
# (/usr/bin/python3 with python3-zmq and python3-msgpack).  Lines are
# appended to bench/out/soak.jsonl.  Also here: big_order.py, one ingest of
# 10,000 distinct items in one order.
set -eu
minutes=${1:-10}
build=${2:-build}
[ $# -ge 2 ] && shift 2 || shift $#
[ "${1:-}" = "--" ] && shift
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
cmake --build "$build" --target xsell_cli plugins >&2
out=bench/out
mkdir -p "$out"
store=$out/soak_store
if [ ! -f "$store/events.csv" ]; then
    "$build/bin/xsell" gen --customers 20000 --items 5000 --orders 100000 \
        --out "$store"
fi
tmp=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
"$build/bin/xsell" serve --events "$store/events.csv" \
    --catalog "$store/catalog.csv" --threads 2 \
    --bind 'tcp://127.0.0.1:*' --port-file "$tmp/port" > "$tmp/serve.log" 2>&1 &
pid=$!
i=0
while [ ! -s "$tmp/port" ]; do
    i=$((i + 1))
    if [ $i -gt 600 ] || ! kill -0 "$pid" 2>/dev/null; then
        cat "$tmp/serve.log" >&2
        echo "soak: the server did not start" >&2
        exit 1
    fi
    sleep 0.1
done
echo "soak: $(git rev-parse --short HEAD 2>/dev/null || echo '?') $build, $minutes minutes" >&2
/usr/bin/python3 "$here/soak.py" "$(cat "$tmp/port")" "$pid" \
    "$store/events.csv" --minutes "$minutes" --out "$out/soak.jsonl" "$@"
