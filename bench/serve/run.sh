#!/bin/sh
# Serving benchmark: the targets of issue 14 in one run.  Every server is
# started once and measured round-robin in every round, next to a bare
# ZeroMQ ROUTER echo server driven by the same load generator with the same
# requests, so each figure is also a ratio to the ceiling of that moment.
#
#   bench/serve/run.sh [ROUNDS] [BUILD_DIR]       (defaults: 3, build)
#   PLUGIN=popular bench/serve/run.sh ...         the transport-bound case:
#                                                 --default-plugin popular
#
# Store: the generated 100,000-item store (xsell gen --customers 100000
# --items 100000 --orders 285000 --seed 7, made here if missing).
# Requests: recommend, 3 items, k = 10, drawn two ways: by popularity (the
# item column of events.csv: what real traffic does) and uniformly (the
# same ids, sort -u).  Servers:
#   echo            bench/serve/echo_server (the ceiling)
#   default         xsell serve as shipped: --threads one per core, the
#                   handoff shape (I/O thread + queue + workers)
#   1T              --threads 1 (the worker serves the socket itself)
#   2T              --threads 2 (only when the machine has more than 2
#                   cores: with 2 it is the default)
#   2T proxy        --threads 2 --shape proxy (the shape before the queue)
# Loads, each round, each draw, each server:
#   tput    2 DEALER clients x 64 in flight (throughput)
#   closed  8 clients x 1 in flight (closed-loop latency: p99)
# then, popularity draws only: the default server at a fixed rate (RATE,
# default 2000 requests/s; latency without queueing) and while ingest runs
# at 1,000 events/s (2 clients x 64).  Medians of the rounds; ratios to
# the echo of the same load and draw, and the 2-worker server to 1T.
# With perf (perf stat -e context-switches,task-clock), one more pass
# measures each server's (echo included) context switches and CPU
# microseconds per request under the tput load.  Raw runs: bench/out/serve.jsonl.
set -eu
rounds=${1:-3}
build=${2:-build}
plugin=${PLUGIN:-}
rate=${RATE:-2000}
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
[ -f "$store/items.txt" ] ||
    cut -d, -f2 "$store/events.csv" | tail -n +2 > "$store/items.txt"
[ -f "$store/items_uniform.txt" ] ||
    sort -u "$store/items.txt" > "$store/items_uniform.txt"
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
    echo $! > "$tmp/$name.pid"
}
serve() { # name options...
    name=$1
    shift
    # shellcheck disable=SC2086
    start "$name" "$build/bin/xsell" serve --events "$store/events.csv" \
        --bind 'tcp://127.0.0.1:*' --port-file "$tmp/$name.port" \
        ${plugin:+--default-plugin "$plugin"} "$@"
}
cores=$(nproc)
start echo "$build/bin/echo_server" 'tcp://127.0.0.1:*' "$tmp/echo.port"
serve default
serve 1T --threads 1
servers="default 1T"
if [ "$cores" -gt 2 ]; then
    serve 2T --threads 2
    servers="$servers 2T"
fi
serve proxy --threads 2 --shape proxy
servers="$servers proxy"
for f in echo $servers; do
    i=0
    while [ ! -s "$tmp/$f.port" ]; do
        i=$((i + 1))
        [ $i -gt 1200 ] && { echo "server $f did not start" >&2; cat "$tmp/$f.log" >&2; exit 1; }
        sleep 0.1
    done
done
label() {
    case $1 in
    default) echo "default (${cores}T handoff)" ;;
    proxy) echo "2T proxy" ;;
    *) echo "$1" ;;
    esac
}
raw=$out/serve.jsonl
: > "$raw"
# requests per run: a blend answering popular items is ~20x slower than
# the echo; size runs to take a few seconds each
if [ -n "$plugin" ]; then n_tput=100000; n_closed=20000; else n_tput=20000; n_closed=8000; fi
lg() { # server draw load extra-loadgen-args...
    srv=$1 draw=$2 load=$3
    shift 3
    case $load in
    tput) set -- --clients 2 --window 64 --requests "$n_tput" --warmup 2000 "$@" ;;
    closed) set -- --clients 8 --window 1 --requests "$n_closed" --warmup 800 "$@" ;;
    perf) set -- --clients 2 --window 64 --requests "$n_tput" --warmup 0 "$@" ;;
    esac
    # a server that dies (or is killed) must not hang the run
    if ! kill -0 "$(cat "$tmp/$srv.pid")" 2>/dev/null; then
        echo "server $srv is gone:" >&2
        tail -n 3 "$tmp/$srv.log" >&2
        exit 1
    fi
    timeout 300 "$build/bin/loadgen" --connect "$(cat "$tmp/$srv.port")" \
        --items "$store/$draw" --basket 3 --k 10 "$@" |
        sed "s#^{#{\"server\":\"$(label "$srv")\",\"draw\":\"$draw\",\"load\":\"$load\",#" >> "$raw"
}
for r in $(seq "$rounds"); do
    echo "round $r of $rounds" >&2
    for draw in items.txt items_uniform.txt; do
        for load in tput closed; do
            for s in echo $servers; do
                lg "$s" "$draw" "$load"
            done
        done
    done
    lg default items.txt "rate" --clients 1 --window 256 --rate "$rate" \
        --requests $((rate * 3)) --warmup $((rate / 2))
    lg 1T items.txt "rate" --clients 1 --window 256 --rate "$rate" \
        --requests $((rate * 3)) --warmup $((rate / 2))
    lg default items.txt "tput+ingest" --clients 2 --window 64 \
        --requests "$n_tput" --warmup 2000 --ingest-rate 1000
done
perf_raw=$out/serve-perf.txt
: > "$perf_raw"
if command -v perf > /dev/null 2>&1 &&
    perf stat -e context-switches true > /dev/null 2>&1; then
    for draw in items.txt items_uniform.txt; do
        for s in echo $servers; do
            perf stat -x, -e context-switches,task-clock -p "$(cat "$tmp/$s.pid")" \
                -o "$tmp/perf.txt" &
            ppid=$!
            sleep 0.2
            lg "$s" "$draw" perf
            kill -INT "$ppid"
            wait "$ppid" || true
            n=$(tail -n 1 "$raw" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
            echo "$(label "$s"),$draw,$n,$(grep -E 'context-switches|task-clock' "$tmp/perf.txt" | cut -d, -f1 | tr '\n' ',')" >> "$perf_raw"
        done
    done
fi
/usr/bin/python3 - "$raw" "$perf_raw" "$cores" "${plugin:-blend}" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cores, plugin = sys.argv[3], sys.argv[4]
groups = {}
for r in rows:
    if r["load"] != "perf":
        groups.setdefault((r["server"], r["draw"], r["load"]), []).append(r)
med = {k: {f: statistics.median(x[f] for x in v) for f in
           ("throughput", "p50_us", "p90_us", "p99_us", "errors", "ingested")}
       for k, v in groups.items()}
print("plugin: %s; %s cores; medians of %d rounds\n" % (
    plugin, cores, max(len(v) for v in groups.values())))
print("| draw | load | server | req/s | vs echo | p50 us | p99 us | errors |")
print("|---|---|---|---|---|---|---|---|")
order = {"tput": 0, "closed": 1, "rate": 2, "tput+ingest": 3}
for (srv, draw, load), m in sorted(med.items(), key=lambda kv: (
        kv[0][1], order[kv[0][2]], not kv[0][0].startswith("echo"), kv[0][0])):
    echo = med.get(("echo", draw, load))
    ratio = "%.3f" % (m["throughput"] / echo["throughput"]) \
        if echo and load in ("tput", "closed") else "-"
    extra = " (ingested %d)" % m["ingested"] if load == "tput+ingest" else ""
    print("| %s | %s | %s | %.0f | %s | %.0f | %.0f | %d%s |" % (
        "popularity" if draw == "items.txt" else "uniform", load, srv,
        m["throughput"], ratio, m["p50_us"], m["p99_us"], m["errors"], extra))
print()
for draw in ("items.txt", "items_uniform.txt"):
    one = med.get(("1T", draw, "tput"))
    for srv in sorted({k[0] for k in med}):
        two = med.get((srv, draw, "tput"))
        if one and two and srv not in ("1T", "echo") and "2T" in srv:
            print("%s draw, tput: %s / 1T = %.2f" % (
                "popularity" if draw == "items.txt" else "uniform", srv,
                two["throughput"] / one["throughput"]))
perf = [l.strip().split(",") for l in open(sys.argv[2]) if l.strip()]
if perf:
    print("\n| server | draw | requests | context switches / request | "
          "server CPU us / request |")
    print("|---|---|---|---|---|")
    for p in perf:
        srv, draw, n, cs, ms = p[0], p[1], int(p[2]), float(p[3]), float(p[4])
        print("| %s | %s | %d | %.2f | %.1f |" % (
            srv, "popularity" if draw == "items.txt" else "uniform", n,
            cs / n, ms * 1000 / n))
PY
