#!/bin/sh
# How the defaults were chosen (issue 13, "Defaults from measurement"):
# copurchase's measure and evidence threshold, recency's similarity,
# threshold and half-life, and the blend's weights, each measured with
# `xsell eval` on both protocols.
#
#   bench/quality/defaults.sh [BUILD_DIR] [SECTION...]
#
# Sections (all by default): copurchase, threshold, recency, blend.  Every
# run is one `xsell eval ... --seed S --k 10 --format json`; each prints
# one line "DATASET PROTOCOL CONFIG hit_rate ndcg mrr map users" and the
# raw JSON goes to bench/out/defaults.jsonl.  Data: ../shared/data
# (groceries, Online Retail, MovieLens; exits 77 when absent) and a
# generated store (20,000 customers, 5,000 items, 100,000 orders, seed 42),
# made in bench/out/defaults-gen if missing.  About 40 minutes on the
# 2-core VM; the figures are in bench/RESULTS.md, "Defaults".
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
sections=${*:-copurchase threshold recency blend}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
cmake --build "$build" --target xsell_cli plugins >&2
x="$build/bin/xsell"
data=../shared/data
for f in groceries.csv online_retail_baskets.csv ml-latest-small-ratings.csv; do
    [ -f "$data/$f" ] || { echo "defaults: $data/$f absent; skipped" >&2; exit 77; }
done
out=bench/out
gen=$out/defaults-gen
mkdir -p "$out"
[ -f "$gen/events.csv" ] ||
    "$x" gen --customers 20000 --items 5000 --orders 100000 --seed 42 \
        --out "$gen" >&2
raw=$out/defaults.jsonl
: > "$raw"

GROC="--baskets $data/groceries.csv --split basket"
RETAIL="--baskets $data/online_retail_baskets.csv --split basket"
GENC="--columns customer=customer,item=item,timestamp=timestamp,weight=weight,price=price,order=order"
GEN_B="--events $gen/events.csv $GENC --split basket"
GEN_C="--events $gen/events.csv $GENC --split stratified --ratio 0.75"
GEN_BC="$GEN_B --catalog $gen/catalog.csv"
GEN_CC="$GEN_C --catalog $gen/catalog.csv"
ML="--events $data/ml-latest-small-ratings.csv --columns customer=userId,item=movieId,weight=rating --split stratified --ratio 0.75 --max-basket 100000"

# run LABEL SEED DATASET_VAR OPTIONS...
run() {
    label=$1 seed=$2 ds=$3
    shift 3
    eval "src=\$$ds"
    # shellcheck disable=SC2086
    j=$("$x" eval $src --k 10 --seed "$seed" --format json "$@")
    printf '%s\n' "$j" |
        sed "s/^{/{\"dataset\": \"$ds\", \"label\": \"$label\", \"seed\": $seed, /" >> "$raw"
    printf '%s\n' "$j" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print("%-8s %-48s %.4f %.4f %.4f %.4f %d" % (sys.argv[1], sys.argv[2],
      d["hit_rate"], d["ndcg"], d["mrr"], d["map"], d["users"]))' "$ds" "$label"
}

for s in $sections; do
    case $s in
    copurchase) # every measure x threshold, basket protocol
        for ds in GROC RETAIL GEN_B; do
            for m in lift cosine jaccard llr confidence count; do
                for mc in 1 2 3 5 10; do
                    run "copurchase $m min_count=$mc" 42 $ds --plugin copurchase \
                        --plugin-opt copurchase.measure=$m \
                        --plugin-opt copurchase.min_count=$mc
                done
            done
        done ;;
    threshold) # cosine, pairs seen once or twice, more seeds
        for seed in 1 2 3; do
            for ds in GROC RETAIL; do
                for mc in 1 2; do
                    run "copurchase cosine min_count=$mc" $seed $ds \
                        --plugin copurchase --plugin-opt copurchase.measure=cosine \
                        --plugin-opt copurchase.min_count=$mc
                done
            done
        done ;;
    recency) # similarity x threshold x half-life, both protocols
        for ds in ML GEN_C GEN_B GROC RETAIL; do
            for sim in jaccard cosine; do
                for mc in 1 2; do
                    for hl in 30 365; do
                        run "recency $sim min_count=$mc half_life=$hl" 42 $ds \
                            --plugin recency --plugin-opt recency.similarity=$sim \
                            --plugin-opt recency.min_count=$mc \
                            --plugin-opt recency.half_life=$hl
                    done
                done
            done
        done ;;
    blend) # the weights, against each plugin alone (at the new defaults;
        # weight.copurchase.customer 0 is the default)
        for ds in ML GEN_C GEN_B GEN_CC GEN_BC GROC RETAIL; do
            for p in copurchase recency popular; do
                run "$p (defaults)" 42 $ds --plugin $p
            done
            case $ds in GEN_CC | GEN_BC)
                run "upsell (defaults)" 42 $ds --plugin upsell
                for wu in 1 0.1; do
                    run "blend weight.upsell=$wu" 42 $ds --plugin blend \
                        --set weight.upsell=$wu
                done ;;
            esac
            for wc in 1 0.25; do
                run "blend weight.copurchase.customer=$wc" 42 $ds --plugin blend \
                    --set weight.copurchase.customer=$wc
            done
            run "blend (defaults)" 42 $ds --plugin blend
        done ;;
    *) echo "defaults: unknown section $s" >&2; exit 2 ;;
    esac
done
