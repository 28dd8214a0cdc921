#!/bin/sh
# `xsell rules` output and sorting (issue 14): whole runs and the sort +
# write share, xsell (and an older build) against bench/peers/itemsets.py
# (apriori in numpy/scipy, independent of xsell), interleaved run by run.
#
#   bench/rules/run.sh [RUNS] [BUILD_DIR]          (defaults: 5, build)
#   XSELL_BEFORE=/path/to/older/xsell  also times that binary, in the
#                                      same rounds
#
# Cases with tens of thousands of rules: groceries and Online Retail
# (../shared/data, each skipped when absent) and a generated store
# (xsell gen, written once to bench/out/rules/store with its baskets).
# See rules_bench.py for what is measured; raw runs go to
# bench/out/rules/runs.tsv.
set -eu
runs=${1:-5}
build=${2:-build}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
cmake --build "$build" --target xsell_cli >&2
out=bench/out/rules
mkdir -p "$out"
if [ ! -f "$out/store/baskets.csv" ]; then
    "$build/bin/xsell" gen --customers 5000 --items 300 --orders 20000 \
        --seed 7 --out "$out/store" >&2
    /usr/bin/python3 - "$out/store" <<'PY'
import csv, sys
orders = {}
with open(sys.argv[1] + "/events.csv", newline="") as f:
    rows = csv.reader(f)
    next(rows)
    for row in rows:
        orders.setdefault(row[5], []).append(row[1])
with open(sys.argv[1] + "/baskets.csv", "w") as f:
    for items in orders.values():
        f.write(",".join(dict.fromkeys(items)) + "\n")
PY
fi
exec /usr/bin/python3 bench/rules/rules_bench.py "$runs" "$build/bin/xsell" \
    "${XSELL_BEFORE:-}" "$out"
