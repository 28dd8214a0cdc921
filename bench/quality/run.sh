#!/bin/sh
# Recommendation quality: every plugin, a few key settings and the default
# blend under `xsell eval`, next to the numpy/scipy peers of bench/peers
# (SAR, item-kNN, EASE) on exactly the same saved splits, in both
# protocols.
#
#   bench/quality/run.sh [BUILD_DIR] [SEEDS]     (defaults: build, "42")
#
# Data (../shared/data; a file that is absent skips its dataset, all absent
# exits 77) and a generated store (bench/out/quality-gen, made by `xsell gen`
# when absent: 20,000 customers, 2,000 items, 100,000 orders):
#   basket protocol (--split basket, 75 % of the baskets train, one item of
#   each held-out basket hidden): groceries.csv, online_retail_baskets.csv,
#   the generated store's orders;
#   customer protocol (--split stratified --ratio 0.75 per customer):
#   ml-latest-small-ratings.csv (--max-basket 100000: every movie of a user
#   is paired) and the generated store.
# k = 10.  For each dataset, protocol and seed the split is saved once
# (--save-split), every peer scores it, and every xsell configuration
# evaluates the same split (same seed: the split is deterministic).
# A configuration naming a plugin that `xsell plugins` does not list, or a
# peer whose script is absent, is skipped; one that fails is reported and
# skipped.  Prints a markdown table (one row per dataset, protocol, seed
# and configuration, with its wall seconds), the agreement of each peer
# with the xsell configuration that computes the same model, and the
# commands; raw JSON lines go to bench/out/quality.jsonl.
set -eu
build=${1:-build}
seeds=${2:-42}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
# benchmarks are not built by default: build what this one runs
cmake --build "$build" --target xsell_cli plugins >&2
py=/usr/bin/python3
xsell="$build/bin/xsell"
shared=../shared/data
out=bench/out
mkdir -p "$out"
raw="$out/quality.jsonl"
: > "$raw"
[ -f $shared/groceries.csv ] || [ -f $shared/online_retail_baskets.csv ] ||
    [ -f $shared/ml-latest-small-ratings.csv ] || {
    echo "run_quality: no data under $shared; skipped" >&2
    exit 77
}
gen="$out/quality-gen"
if [ ! -f "$gen/events.csv" ]; then
    "$xsell" gen --customers 20000 --items 2000 --orders 100000 --seed 42 \
        --out "$gen" >&2
fi

# name|protocol|data file (absent: skipped)|--max-basket of the peers|
# catalog (for @CATALOG@ below; empty: none)|xsell eval options (data and
# split; --k, --seed, --format come after)
datasets="groceries|basket|$shared/groceries.csv|1000||--baskets $shared/groceries.csv --split basket
online-retail|basket|$shared/online_retail_baskets.csv|1000||--baskets $shared/online_retail_baskets.csv --split basket
gen-20k|basket|$gen/events.csv|1000|$gen/catalog.csv|--events $gen/events.csv --split basket
movielens|customer|$shared/ml-latest-small-ratings.csv|100000||--events $shared/ml-latest-small-ratings.csv --columns customer=userId,item=movieId,weight=rating --split stratified --ratio 0.75 --max-basket 100000
gen-20k|customer|$gen/events.csv|1000|$gen/catalog.csv|--events $gen/events.csv --split stratified --ratio 0.75"

# protocols (basket, customer or both)|datasets (* or names)|label|run:
# "xsell OPTIONS" (xsell eval options after the dataset's; @CATALOG@ is
# the dataset's catalog, and a dataset without one skips the row) or "peer
# SCRIPT OPTIONS" (bench/peers/SCRIPT SPLIT_DIR --protocol P --k 10
# --max-basket M OPTIONS)|for a peer, the xsell labels computing the same
# model, comma separated (agreement table).
# The catalog is given only where a row says so: its business rules (out
# of stock items are never recommended: 98 of the generated 2,000) are
# something the peers do not model.
configs='both|*|copurchase (defaults)|xsell --plugin copurchase|
basket|*|copurchase measure=cosine min_count=1|xsell --plugin copurchase --plugin-opt copurchase.measure=cosine --plugin-opt copurchase.min_count=1|
basket|*|copurchase measure=cosine min_count=1 max_neighbours=50|xsell --plugin copurchase --plugin-opt copurchase.measure=cosine --plugin-opt copurchase.min_count=1 --plugin-opt copurchase.max_neighbours=50|
basket|groceries gen-20k|copurchase measure=cosine min_count=3|xsell --plugin copurchase --plugin-opt copurchase.measure=cosine --plugin-opt copurchase.min_count=3|
basket|groceries gen-20k|copurchase measure=jaccard min_count=1|xsell --plugin copurchase --plugin-opt copurchase.measure=jaccard --plugin-opt copurchase.min_count=1|
basket|groceries gen-20k|copurchase measure=llr min_count=1|xsell --plugin copurchase --plugin-opt copurchase.measure=llr --plugin-opt copurchase.min_count=1|
basket|groceries gen-20k|copurchase measure=lift min_count=1|xsell --plugin copurchase --plugin-opt copurchase.measure=lift --plugin-opt copurchase.min_count=1|
basket|groceries gen-20k|copurchase measure=lift min_count=3|xsell --plugin copurchase --plugin-opt copurchase.measure=lift --plugin-opt copurchase.min_count=3|
both|*|recency (defaults)|xsell --plugin recency|
both|groceries online-retail gen-20k movielens|recency similarity=jaccard min_count=1 half_life=30 (SAR)|xsell --plugin recency --plugin-opt recency.similarity=jaccard --plugin-opt recency.min_count=1 --plugin-opt recency.half_life=30|
both|groceries gen-20k movielens|recency similarity=cosine min_count=1 half_life=30|xsell --plugin recency --plugin-opt recency.similarity=cosine --plugin-opt recency.min_count=1 --plugin-opt recency.half_life=30|
customer|gen-20k|recency scope=customer similarity=jaccard min_count=1 half_life=30 (SAR)|xsell --plugin recency --plugin-opt recency.scope=customer --plugin-opt recency.similarity=jaccard --plugin-opt recency.min_count=1 --plugin-opt recency.half_life=30|
customer|gen-20k|recency scope=customer similarity=cosine min_count=1 half_life=30|xsell --plugin recency --plugin-opt recency.scope=customer --plugin-opt recency.similarity=cosine --plugin-opt recency.min_count=1 --plugin-opt recency.half_life=30|
customer|movielens|recency cosine min_count=1 weight=one no decay|xsell --plugin recency --plugin-opt recency.similarity=cosine --plugin-opt recency.min_count=1 --plugin-opt recency.weight=one --plugin-opt recency.half_life=100000000|
both|*|popular (defaults)|xsell --plugin popular|
both|gen-20k|upsell (defaults)|xsell --catalog @CATALOG@ --plugin upsell|
both|*|ease (defaults)|xsell --plugin ease|
customer|gen-20k|ease scope=customer|xsell --plugin ease --plugin-opt ease.scope=customer|
both|*|blend (defaults)|xsell --plugin blend|
both|gen-20k|blend (defaults) with the catalog|xsell --catalog @CATALOG@ --plugin blend|
both|*|SAR peer (sar.py, jaccard)|peer sar.py --similarity jaccard|recency similarity=jaccard min_count=1 half_life=30 (SAR),recency scope=customer similarity=jaccard min_count=1 half_life=30 (SAR)
both|groceries gen-20k movielens|SAR peer (sar.py, cosine)|peer sar.py --similarity cosine|recency similarity=cosine min_count=1 half_life=30,recency scope=customer similarity=cosine min_count=1 half_life=30
both|*|item-kNN peer (itemknn.py, cosine)|peer itemknn.py|copurchase measure=cosine min_count=1,recency cosine min_count=1 weight=one no decay
basket|*|item-kNN peer (itemknn.py, cosine, 50 neighbours)|peer itemknn.py --neighbours 50|copurchase measure=cosine min_count=1 max_neighbours=50
both|*|EASE peer (ease.py)|peer ease.py|ease (defaults),ease scope=customer'

avail=$("$xsell" plugins --format json 2>/dev/null |
    "$py" -c 'import json, sys
print(" ".join(p["name"] for p in json.load(sys.stdin)["plugins"]))' ||
    true)

# has_plugins OPTIONS: every plugin OPTIONS names (--plugin, --plugins) is
# listed by `xsell plugins` (blend is the engine's)
has_plugins() {
    prev=
    for w in "$@"; do
        case $prev in
        --plugin | --plugins)
            for p in $(printf '%s\n' "$w" | tr ',' ' '); do
                [ "$p" = blend ] && continue
                case " $avail " in *" $p "*) ;; *) return 1 ;; esac
            done
            ;;
        esac
        prev=$w
    done
    return 0
}

now() { date +%s.%N; }

# row JSON DATASET PROTOCOL SEED LABEL SECONDS CMD SAME_AS: one raw line
row() {
    printf '%s\n' "$1" | "$py" -c 'import json, sys
r = json.loads(sys.stdin.read())
d, p, seed, label, sec, cmd, same = sys.argv[1:]
out = dict(dataset=d, proto=p, seed=int(seed), label=label,
           wall_s=round(float(sec), 2), cmd=cmd,
           same_as=[s for s in same.split(",") if s])
out.update(r)
print(json.dumps(out))' "$2" "$3" "$4" "$5" "$6" "$7" "$8" >> "$raw"
}

t_all=$(now)
for seed in $seeds; do
    printf '%s\n' "$datasets" | while IFS='|' read -r name proto file mb cat data; do
        [ -f "$file" ] || {
            echo "run_quality: $file absent; $name skipped" >&2
            continue
        }
        split="$out/quality-split-$name-$proto-$seed"
        rm -rf "$split"
        "$xsell" eval $data --seed "$seed" --k 10 --format json \
            --plugin popular --save-split "$split" > /dev/null
        printf '%s\n' "$configs" | while IFS='|' read -r protos sets label run same; do
            case $protos in both | "$proto") ;; *) continue ;; esac
            case " $sets " in *" * "* | *" $name "*) ;; *) continue ;; esac
            case $run in
            *@CATALOG@*)
                [ -n "$cat" ] || continue
                run=$(printf '%s\n' "$run" | sed "s|@CATALOG@|$cat|g")
                ;;
            esac
            set -- $run
            kind=$1
            shift
            if [ "$kind" = peer ]; then
                script=bench/peers/$1
                shift
                [ -f "$script" ] || continue
                cmd="python3 $script SPLIT_DIR --protocol $proto --k 10 --max-basket $mb${*:+ $*}"
                t0=$(now)
                if res=$("$py" "$script" "$split" --protocol "$proto" --k 10 \
                    --max-basket "$mb" "$@"); then :; else
                    echo "run_quality: $name $proto: $label failed" >&2
                    continue
                fi
            else
                has_plugins "$@" || continue
                cmd="xsell eval DATA --seed $seed --k 10 --format json $*"
                t0=$(now)
                if res=$("$xsell" eval $data --seed "$seed" --k 10 \
                    --format json "$@"); then :; else
                    echo "run_quality: $name $proto: $label failed" >&2
                    continue
                fi
            fi
            t1=$(now)
            row "$res" "$name" "$proto" "$seed" "$label" \
                "$(echo "$t0 $t1" | awk '{print $2 - $1}')" "$cmd" "$same"
            echo "run_quality: $name $proto seed $seed: $label" >&2
        done
    done
done
t_end=$(now)

"$py" - "$raw" "$(echo "$t_all $t_end" | awk '{print $2 - $1}')" \
    "$datasets" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
total, datasets = float(sys.argv[2]), sys.argv[3]
keys = ["hit_rate", "ndcg", "map", "mrr", "precision", "recall", "coverage"]
print("| dataset | protocol | seed | configuration | " + " | ".join(keys)
      + " | users | wall s |")
print("|---|---|---|---|" + "---|" * (len(keys) + 2))
def fmt(r, k):  # a peer may leave a metric out (ease.py: coverage)
    return "%.4f" % r[k] if k in r else "-"
for r in rows:
    print("| %s | %s | %d | %s | %s | %d | %.1f |" % (
        r["dataset"], r["proto"], r["seed"], r["label"],
        " | ".join(fmt(r, k) for k in keys), r["users"], r["wall_s"]))
print()
print("Total wall time: %.0f s." % total)
print()
print("Agreement: each peer against the xsell configuration computing the "
      "same model (largest |difference| over the metrics above; "
      "users must be equal):")
print()
print("| dataset | protocol | seed | peer | xsell configuration | max abs diff"
      " | ndcg peer | ndcg xsell | hit_rate peer | hit_rate xsell | users |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
at = {(r["dataset"], r["proto"], r["seed"], r["label"]): r for r in rows}
for p in rows:
    for lab in p.get("same_as", []):
        x = at.get((p["dataset"], p["proto"], p["seed"], lab))
        if not x:
            continue
        d = max(abs(p[k] - x[k]) for k in keys if k in p and k in x)
        print("| %s | %s | %d | %s | %s | %.2g | %.4f | %.4f | %.4f | %.4f | "
              "%s |" % (p["dataset"], p["proto"], p["seed"], p["label"], lab,
                        d, p["ndcg"], x["ndcg"], p["hit_rate"], x["hit_rate"],
                        "%d" % p["users"] if p["users"] == x["users"] else
                        "%d vs %d" % (p["users"], x["users"])))
print()
print("Data (DATA in the commands):")
print()
for line in datasets.splitlines():
    name, proto, _, mb, _, opts = line.split("|")
    print("- %s, %s protocol: `%s` (peers: --max-basket %s)"
          % (name, proto, opts, mb))
print()
print("Commands:")
print()
seen = set()
for r in rows:
    if r["label"] not in seen:
        seen.add(r["label"])
        print("- %s: `%s`" % (r["label"], r["cmd"].replace(
            " SPLIT_DIR --protocol " + r["proto"], " SPLIT_DIR --protocol P")
            .replace(" --max-basket 100000", " --max-basket M")
            .replace(" --max-basket 1000", " --max-basket M")))
PY
