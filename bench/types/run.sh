#!/bin/sh
# Event types: what views and carts do for cold items (issue 15).
#
#   bench/types/run.sh [BUILD_DIR] [SEEDS] [REPEATS]
#                      (defaults: build, "1 2 3", 5)
#
# For each seed, a generated store with views and carts
# (`xsell gen --customers 3000 --items 1000 --orders 20000 --views 2
# --carts 0.3 --cold 0.2 --seed S`, in bench/out/types-S) and its cold
# items (bench/types/cold.py: items with at least 5 views per purchase
# and at most the median purchases), then `xsell eval` at k = 10 with the
# event weights none (purchases only), view=0.1,cart=0.3,
# view=0.2,cart=0.5 and view=0.5,cart=0.5, each on all items and on the
# cold items only (--target-items):
#   basket protocol (--split basket): copurchase, the blend;
#   customer protocol: --split temporal and --split stratified, recency
#   and the blend.
# Quality figures are deterministic (same seed, same split); the medians
# are over the seeds, the ratios against "none" in the same seed.  Cost:
# REPEATS interleaved runs of the basket evaluation of copurchase with
# no weights and with view=0.2,cart=0.5 (wall seconds, median and ratio),
# on a machine shared with other jobs.  Raw JSON lines go to
# bench/out/types.jsonl; a markdown summary to stdout.
set -eu
build=${1:-build}
seeds=${2:-"1 2 3"}
repeats=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
cmake --build "$build" --target xsell_cli plugins >&2
exec /usr/bin/python3 bench/types/cold.py "$build/bin/xsell" "$seeds" \
    "$repeats"
