#!/bin/sh
# neighbours.sh -- what ranked neighbour lists of M entries cost in quality
# against whole rows (M=0, exact), for copurchase (max_neighbours=M) and
# recency's basket mode (basket_neighbours=M), both answering with the
# threshold algorithm (plugins/common/ranked.h; issue 14, point 1):
#   eval   the basket protocol (xsell eval --split basket, k=10, seed 42):
#          hit_rate and ndcg for each M
#   agree  top-10 agreement with exact: N one-item and N three-item
#          requests (items drawn by popularity, seeded), sent to a server
#          per M; the share of identical top-10 lists and the mean overlap
#
#   bench/quality/neighbours.sh [eval|agree|all]   (default all)
#
# Env: XSELL (binary, default build/bin/xsell), OUT (default
# bench/out/neighbours), MS (caps, default "0 50 100 200 500"), N (requests
# per kind, default 300), DATASETS (default "groceries retail gen store1m";
# store1m is skipped when bench/out/store1m/events.csv is missing).
set -eu
cd "$(dirname "$0")/../.."
XSELL=${XSELL:-build/bin/xsell}
OUT=${OUT:-bench/out/neighbours}
MS=${MS:-0 20 50 100 200 500}
N=${N:-300}
DATASETS=${DATASETS:-groceries retail gen store1m}
PLUGINS="copurchase recency"
cap_opt() { # plugin -> the option of its basket lists
    case $1 in copurchase) echo max_neighbours ;; *) echo basket_neighbours ;; esac
}
COLS=customer=customer,item=item,timestamp=timestamp,weight=weight,price=price,order=order
mkdir -p "$OUT"

data_args() { # dataset -> data options (empty: skip)
    case $1 in
    groceries) echo "--baskets ../shared/data/groceries.csv" ;;
    retail) echo "--baskets ../shared/data/online_retail_baskets.csv" ;;
    gen) echo "--events bench/out/defaults-gen/events.csv --columns $COLS" ;;
    store1m) if [ -f bench/out/store1m/events.csv ]; then
        echo "--events bench/out/store1m/events.csv --columns $COLS"
    fi ;;
    esac
}

# one item per line, each as often as it was bought (popularity draw)
item_lines() {
    case $1 in
    groceries | retail)
        python3 -c 'import csv,sys
for row in csv.reader(open(sys.argv[1])):
    for it in row:
        if it.strip(): print(it.strip())' "$2" ;;
    *) python3 -c 'import csv,sys
for row in csv.DictReader(open(sys.argv[1])): print(row["item"])' "$2" ;;
    esac
}

run_eval() {
    f=$OUT/eval.jsonl
    : >"$f"
    for d in $DATASETS; do
        args=$(data_args "$d")
        [ -n "$args" ] || { echo "skip $d" >&2; continue; }
        for p in $PLUGINS; do
            for m in $MS; do
                # shellcheck disable=SC2086
                r=$("$XSELL" eval --split basket $args --plugin "$p" \
                    --plugin-opt "$p.$(cap_opt "$p")=$m" --k 10 --seed 42 \
                    --format json)
                echo "{\"dataset\":\"$d\",\"plugin\":\"$p\",\"max_neighbours\":$m,\"eval\":$r}" |
                    tee -a "$f"
            done
        done
    done
}

# the N requests of each kind, one JSON object per line
requests() { # items_file kind(1|3)
    python3 - "$1" "$2" "$N" <<'PY'
import json, random, sys
items = [l.strip() for l in open(sys.argv[1]) if l.strip()]
kind, n = int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(7 + kind)
for _ in range(n):
    print(json.dumps([rng.choice(items) for _ in range(kind)]))
PY
}

ask_all() { # endpoint plugin requests_file -> one top-10 list per line
    while IFS= read -r items; do
        "$XSELL" query --connect "$1" --timeout-ms 20000 recommend \
            "{\"items\": $items, \"k\": 10, \"plugin\": \"$2\"}"
    done <"$3" | python3 -c 'import json,sys
s, d, i = sys.stdin.read(), json.JSONDecoder(), 0
while True:
    while i < len(s) and s[i].isspace(): i += 1
    if i >= len(s): break
    r, i = d.raw_decode(s, i)
    print(json.dumps([x["item"] for x in r.get("items", [])]))'
}

compare() { # exact_file capped_file -> json
    python3 - "$1" "$2" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
n = len(a)
# an empty exact list (an item without neighbours) agrees with an empty one
ov = sum(len(set(x) & set(y)) / len(x) if x else float(not y)
         for x, y in zip(a, b)) / n
same = sum(x == y for x, y in zip(a, b)) / n
print(json.dumps({"requests": n, "identical": same, "overlap": ov}))
PY
}

run_agree() {
    f=$OUT/agree.jsonl
    : >"$f"
    for d in $DATASETS; do
        args=$(data_args "$d")
        [ -n "$args" ] || { echo "skip $d" >&2; continue; }
        file=$(echo "$args" | awk '{print $2}')
        item_lines "$d" "$file" >"$OUT/$d.items"
        requests "$OUT/$d.items" 1 >"$OUT/$d.req1"
        requests "$OUT/$d.items" 3 >"$OUT/$d.req3"
        for m in $MS; do
            pf=$OUT/port.$$
            rm -f "$pf"
            # shellcheck disable=SC2086
            "$XSELL" serve $args --plugins copurchase,recency --threads 1 \
                --bind 'tcp://127.0.0.1:*' --port-file "$pf" \
                --plugin-opt "copurchase.max_neighbours=$m" \
                --plugin-opt "recency.basket_neighbours=$m" \
                >"$OUT/serve.log" 2>&1 &
            spid=$!
            i=0
            while [ ! -s "$pf" ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
            ep=$(cat "$pf")
            for p in $PLUGINS; do
                for kind in 1 3; do
                    ask_all "$ep" "$p" "$OUT/$d.req$kind" \
                        >"$OUT/$d.$p.M$m.top$kind"
                done
            done
            kill "$spid"
            wait "$spid" || true
            rm -f "$pf"
            for p in $PLUGINS; do
                for kind in 1 3; do
                    c=$(compare "$OUT/$d.$p.M0.top$kind" "$OUT/$d.$p.M$m.top$kind")
                    echo "{\"dataset\":\"$d\",\"plugin\":\"$p\",\"max_neighbours\":$m,\"items\":$kind,\"agreement\":$c}" |
                        tee -a "$f"
                done
            done
        done
    done
}

case ${1:-all} in
eval) run_eval ;;
agree) run_agree ;;
all) run_eval && run_agree ;;
*) echo "usage: $0 [eval|agree|all]" >&2; exit 2 ;;
esac
