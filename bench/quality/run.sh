#!/bin/sh
# Recommendation quality: `xsell eval` against the SAR reference peer
# (bench/quality/sar_scipy.py) on exactly the same saved split.
#
#   bench/quality/run.sh [BUILD_DIR] [SEEDS]     (defaults: build, "42")
#
# Data: ../shared/data/ml-latest-small-ratings.csv (MovieLens, 610 users,
# 100,836 ratings; exits 77 if absent).  Split: stratified 75/25 per user,
# k = 10.  For each seed the split is saved once (--save-split), the peer
# scores it, and every xsell configuration below evaluates the same split
# (same seed: the split is deterministic).  Prints a markdown table, one row
# per configuration and seed, with the command that produced it; raw JSON
# goes to bench/out/quality.jsonl.
set -eu
build=${1:-build}
seeds=${2:-42}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
# benchmarks are not built by default: build what this one runs
cmake --build "$build" --target xsell_cli plugins >&2
py=/usr/bin/python3
data=../shared/data/ml-latest-small-ratings.csv
[ -f "$data" ] || { echo "run_quality: $data absent; skipped" >&2; exit 77; }
xsell="$build/bin/xsell"
out=bench/out
mkdir -p "$out"
raw="$out/quality.jsonl"
: > "$raw"
# --max-basket 100000: the peer pairs every movie of a user (xsell's default
# bound, 1000, leaves the movies past a user's first 1000 unpaired)
common="--events $data --columns customer=userId,item=movieId,weight=rating --split stratified --ratio 0.75 --k 10 --format json --max-basket 100000"

# label|xsell eval options (after the common ones)
configs='recency (defaults = SAR)|--plugin recency
recency similarity=cosine|--plugin recency --plugin-opt recency.similarity=cosine
recency similarity=lift|--plugin recency --plugin-opt recency.similarity=lift
recency similarity=llr|--plugin recency --plugin-opt recency.similarity=llr
recency weight=one|--plugin recency --plugin-opt recency.weight=one
recency half_life=90|--plugin recency --plugin-opt recency.half_life=90
recency half_life=365|--plugin recency --plugin-opt recency.half_life=365
recency cosine, half_life=365|--plugin recency --plugin-opt recency.similarity=cosine --plugin-opt recency.half_life=365
blend (default plugins)|--plugin blend
blend, recency cosine|--plugin blend --plugin-opt recency.similarity=cosine
blend recency+popular (weight.popular=0.2), cosine|--plugin blend --plugins recency,popular --set weight.popular=0.2 --plugin-opt recency.similarity=cosine
popular|--plugin popular'

for seed in $seeds; do
    split="$out/quality-split-$seed"
    "$xsell" eval $common --seed "$seed" --plugin recency \
        --save-split "$split" > /dev/null
    "$py" bench/quality/sar_scipy.py "$split" --k 10 |
        sed "s/^{/{\"label\": \"SAR peer (sar_scipy.py, jaccard, half-life 30 d)\", \"seed\": $seed, \"cmd\": \"python3 bench\/quality\/sar_scipy.py SPLIT_DIR --k 10\", /" >> "$raw"
    printf '%s\n' "$configs" | while IFS='|' read -r label opts; do
        "$xsell" eval $common --seed "$seed" $opts |
            sed "s/^{/{\"label\": \"$label\", \"seed\": $seed, \"cmd\": \"xsell eval ... --seed $seed $opts\", /" >> "$raw"
    done
done

"$py" - "$raw" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = ["precision", "recall", "ndcg", "map", "hit_rate", "coverage"]
print("| seed | configuration | " + " | ".join(keys) + " | users | vs peer (ndcg, map) |")
print("|---|---|" + "---|" * (len(keys) + 2))
peer = {r["seed"]: r for r in rows if r["label"].startswith("SAR peer")}
for r in rows:
    p = peer[r["seed"]]
    rel = "" if r is p else "%+.1f%%, %+.1f%%" % (
        100 * (r["ndcg"] / p["ndcg"] - 1), 100 * (r["map"] / p["map"] - 1))
    print("| %d | %s | %s | %d | %s |" % (
        r["seed"], r["label"], " | ".join("%.4f" % r[k] for k in keys),
        r["users"], rel))
print()
print("Commands (common options: --events ml-latest-small-ratings.csv "
      "--columns customer=userId,item=movieId,weight=rating --split "
      "stratified --ratio 0.75 --k 10 --format json):")
print()
seen = set()
for r in rows:
    if r["label"] not in seen:
        seen.add(r["label"])
        print("- %s: `%s`" % (r["label"], r["cmd"]))
PY
