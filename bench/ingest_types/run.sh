#!/bin/sh
# Ingest of event types: what a view or a cart costs online (issue 15).
#
#   bench/ingest_types/run.sh [BUILD_DIR] [REPEATS]   (defaults: build, 5)
#
# A generated store with views and carts (`xsell gen --customers 3000
# --items 1000 --orders 20000 --views 2 --carts 0.3 --cold 0.2 --seed 1`,
# in bench/out/ingest-types), cut by time at 80%.  A server started from
# the first part (plugins copurchase,recency,popular; --event-weights
# view=0.2,cart=0.5; no data dir) ingests, in batches of 1000, either
#   typed:     the last 20% as in the file (views, carts, purchases), or
#   purchases: the purchases of that last 20% only (the peer: what ingest
#              cost before types, on the same server set-up);
# REPEATS interleaved runs of each, a fresh server per run.  Reported: the
# wall seconds of the ingest requests, microseconds per event, and the
# ratio typed / purchases per event (medians), on a machine shared with
# other jobs.  Raw JSON lines go to bench/out/ingest-types.jsonl.
set -eu
build=${1:-build}
repeats=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
cmake --build "$build" --target xsell_cli plugins >&2
exec /usr/bin/python3 bench/ingest_types/ingest.py "$build/bin/xsell" \
    "$repeats"
