#!/bin/sh
# The code one `recommend` request runs through in the server: the source
# files of libxsell and the plugins it executes (with how many functions of
# each), and its instruction count, from callgrind with instrumentation
# switched on just before the request and off after it.
#
#   bench/serve/request_path.sh [BUILD_DIR]        (default: build)
#
# The request: a customer and two items of the example store, k = 10, the
# default blend, one worker (--threads 1, no proxy hop); the server is
# warmed by a health request first.  Needs valgrind and python3-zmq.
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cmake --build "$build" --target xsell_cli plugins >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/cg.out" \
    "$build/bin/xsell" serve --events "$src/examples/data/events.csv" \
    --catalog "$src/examples/data/catalog.csv" --bind 'tcp://127.0.0.1:*' \
    --port-file "$tmp/port" --threads 1 2>"$tmp/serve.log" &
pid=$!
for _ in $(seq 1 600); do [ -s "$tmp/port" ] && break; sleep 0.2; done
ep=$(cat "$tmp/port")
ask() { # REQUEST_JSON
    /usr/bin/python3 - "$ep" "$1" <<'PY'
import json, sys, zmq, msgpack
c = zmq.Context()
s = c.socket(zmq.DEALER)
s.connect(sys.argv[1])
s.RCVTIMEO = 120000
s.send_multipart([b"", msgpack.packb(json.loads(sys.argv[2]))])
r = msgpack.unpackb(s.recv_multipart()[-1])
assert r["ok"], r
PY
}
ask '{"op": "health"}'
callgrind_control -i on "$pid" >/dev/null
ask '{"op": "recommend", "items": ["P000030", "P000251"], "customer": "C001462", "k": 10}'
callgrind_control -i off "$pid" >/dev/null
kill "$pid"
wait "$pid" || true
callgrind_annotate --threshold=100 "$tmp/cg.out" 2>/dev/null > "$tmp/ann.txt"
grep "PROGRAM TOTALS" "$tmp/ann.txt" | sed 's/^ */instructions: /'
# callgrind names a file absolute or relative to the build: keep from the
# module folder on
sed "s|$src/||g" "$tmp/ann.txt" |
    grep -oE "(^|[ ])(core|plugins|include)/[A-Za-z_0-9/.-]+\.[ch]:[A-Za-z_0-9.]+" |
    sed 's/^ //' | sort -u | cut -d: -f1 | sort | uniq -c |
    awk '{printf "%4d  %s\n", $1, $2; n++} END {printf "%d files\n", n}'
