#!/bin/sh
# Durability benchmarks (issue 11): what the write-ahead log costs, how
# fast a data dir restarts, and the kill -9 test at length.
#
#   bench/durability/run.sh [ROUNDS] [BUILD_DIR] [KILL_ROUNDS]
#                                            (defaults: 3, build, 100)
#
# 1. ingest: 4 clients, batches of 1 and of 10 events, 10 s per run,
#    against `xsell serve` without a data dir (the peer) and with
#    --fsync no / everysec / always, ROUNDS rounds round-robin; each
#    server on a fresh data dir seeded from examples/data.
# 2. restart: time until the port file appears, and peak RSS, for the
#    CSV load and for the data dir's snapshot of the same data
#    (MovieLens small when ../shared/data has it; the generated
#    1M-order store, made here if missing), ROUNDS rounds each.
# 3. kill -9: tests/server/server_durability.py --rounds KILL_ROUNDS.
# Raw lines: bench/out/durability.jsonl.
set -eu
rounds=${1:-3}
build=${2:-build}
kill_rounds=${3:-100}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
cmake --build "$build" --target xsell_cli plugins >&2
x=$build/bin/xsell
out=bench/out
mkdir -p "$out"
raw=$out/durability.jsonl
: > "$raw"
tmp=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# start LABEL ARGS...: serves in the background, waits for the port file
start() {
    label=$1
    shift
    rm -f "$tmp/port"
    "$x" serve --bind 'tcp://127.0.0.1:*' --port-file "$tmp/port" \
        "$@" 2> "$tmp/$label.err" &
    pid=$!
    while [ ! -s "$tmp/port" ]; do
        kill -0 "$pid" 2>/dev/null || { cat "$tmp/$label.err" >&2; exit 1; }
        sleep 0.02
    done
}
stop() {
    kill -TERM "$pid"
    wait "$pid" || true
    pid=""
}

ex="--events examples/data/events.csv --catalog examples/data/catalog.csv"
echo "== ingest: events/s and ack latency (4 clients, 10 s)" >&2
for r in $(seq 1 "$rounds"); do
    for mode in none no everysec always; do
        for batch in 1 10; do
            rm -rf "$tmp/dd"
            if [ "$mode" = none ]; then
                # shellcheck disable=SC2086
                start "$mode" $ex --threads 2 --plugins copurchase,popular
            else
                # shellcheck disable=SC2086
                start "$mode" $ex --threads 2 --plugins copurchase,popular \
                    --data-dir "$tmp/dd" --fsync "$mode"
            fi
            line=$(/usr/bin/python3 "$here/ingest.py" "$(cat "$tmp/port")" \
                10 4 "$batch")
            stop
            echo "{\"bench\":\"ingest\",\"round\":$r,\"fsync\":\"$mode\",\"batch\":$batch,\"result\":$line}" | tee -a "$raw" >&2
        done
    done
done

# restart NAME ARGS...: ready time and peak RSS of CSV load vs snapshot
ready() {
    label=$1
    shift
    t0=$(date +%s.%N)
    start "$label" "$@"
    t1=$(date +%s.%N)
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    stop
    echo "$(echo "$t1 - $t0" | bc | awk '{printf "%.3f", $1}') $rss"
}
restart() {
    name=$1
    shift
    rm -rf "$tmp/rdd"
    ready seed "$@" --threads 2 --data-dir "$tmp/rdd" > /dev/null
    for r in $(seq 1 "$rounds"); do
        set -- "$@"
        csv=$(ready csv "$@" --threads 2)
        snap=$(ready snap --threads 2 --data-dir "$tmp/rdd")
        echo "{\"bench\":\"restart\",\"store\":\"$name\",\"round\":$r,\"csv_s\":${csv% *},\"csv_rss_kb\":${csv#* },\"snapshot_s\":${snap% *},\"snapshot_rss_kb\":${snap#* }}" | tee -a "$raw" >&2
    done
}
echo "== restart: CSV load vs snapshot" >&2
ml=../shared/data/ml-latest-small-ratings.csv
if [ -f "$ml" ]; then
    restart movielens --events "$ml" \
        --columns customer=userId,item=movieId,weight=rating,timestamp=timestamp
fi
g=$out/gen1m
if [ ! -f "$g/events.csv" ]; then
    "$x" gen --customers 100000 --items 50000 --orders 1000000 --out "$g"
fi
restart gen1m --events "$g/events.csv" --catalog "$g/catalog.csv"

echo "== kill -9: $kill_rounds rounds" >&2
/usr/bin/python3 tests/server/server_durability.py "$x" . --rounds "$kill_rounds" 2>&1 | tail -5 >&2

/usr/bin/python3 - "$raw" <<'PY' >&2
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("\ningest (median of rounds)")
for batch in (1, 10):
    base = None
    for mode in ("none", "no", "everysec", "always"):
        rs = [r["result"] for r in rows if r["bench"] == "ingest"
              and r["fsync"] == mode and r["batch"] == batch]
        if not rs:
            continue
        ev = statistics.median(r["events_per_s"] for r in rs)
        p99 = statistics.median(r["p99_ms"] for r in rs)
        base = base or ev
        print("  batch %2d fsync %-8s %9.0f events/s (%.2fx no log)  ack p99 %.2f ms"
              % (batch, mode, ev, ev / base, p99))
print("restart (median of rounds)")
for store in ("movielens", "gen1m"):
    rs = [r for r in rows if r["bench"] == "restart" and r["store"] == store]
    if not rs:
        continue
    c = statistics.median(r["csv_s"] for r in rs)
    s = statistics.median(r["snapshot_s"] for r in rs)
    cm = statistics.median(r["csv_rss_kb"] for r in rs)
    sm = statistics.median(r["snapshot_rss_kb"] for r in rs)
    print("  %-9s CSV %.2f s, snapshot %.2f s: %.2fx faster; peak RSS %.0f MB vs %.0f MB"
          % (store, c, s, c / s, cm / 1024, sm / 1024))
PY
