#!/bin/sh
# bench/peers/ease.sh -- xsell's `ease` plugin against the numpy EASE peer
# (bench/peers/ease.py) on the same saved splits: groceries and online
# retail (basket protocol), ml-latest-small (customer protocol).  For each
# dataset: the split saved once by `xsell eval --save-split`, then RUNS
# alternating runs of `xsell eval --plugin ease` and the peer, each on the
# same split and seed; prints a markdown table of the metrics (the first
# run), the medians of the fit times (xsell: prepare()'s fit as the plugin
# logs it; numpy: inv and B) and their ratio.  Then, with SPARSE=1, dense
# against sparse mode (neighbours 50, 100, 200) on online retail and
# MovieLens, and with SWEEP=1 the lambda sweep (10 50 100 200 500) on
# groceries and MovieLens.
#
#   bench/peers/ease.sh [BUILD_DIR]      (default build; RUNS=3 LAMBDA=100)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
xsell=$build/bin/xsell
data=${XSELL_DATA:-$root/../shared/data}
runs=${RUNS:-3}
lambda=${LAMBDA:-100}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3

groceries="--split basket --baskets $data/groceries.csv"
retail="--split basket --baskets $data/online_retail_baskets.csv"
ml="--events $data/ml-latest-small-ratings.csv --columns customer=userId,item=movieId,weight=rating --split stratified --ratio 0.75 --max-basket 100000"

# xsell eval ARGS... -> $tmp/x.json, the fit's ms on stdout
xs_eval() {
    "$xsell" eval "$@" --k 10 --seed 42 --format json >"$tmp/x.json" \
        2>"$tmp/x.err"
    sed -n 's/.*fit: [a-z]*, .* \([0-9.]*\) ms$/\1/p' "$tmp/x.err" | tail -1
}

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# metric KEY FILE
metric() {
    $py -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[2]))[sys.argv[1]])' "$1" "$2"
}

echo "| data | protocol | users | xsell hit_rate | numpy hit_rate | xsell ndcg | numpy ndcg | xsell map | numpy map | xsell fit s | numpy fit s | numpy / xsell |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for set in groceries:basket retail:basket ml:customer; do
    name=${set%%:*} proto=${set#*:}
    eval "args=\$$name"
    maxb=1000
    [ "$name" = ml ] && maxb=100000
    # shellcheck disable=SC2086
    xs_eval $args --plugin ease --plugin-opt "ease.lambda=$lambda" \
        --save-split "$tmp/$name" >/dev/null
    cp "$tmp/x.json" "$tmp/$name.x.json"
    : >"$tmp/$name.xt"
    : >"$tmp/$name.nt"
    i=0
    while [ $i -lt "$runs" ]; do
        # shellcheck disable=SC2086
        xs_eval $args --plugin ease --plugin-opt "ease.lambda=$lambda" |
            awk '{print $1 / 1000}' >>"$tmp/$name.xt"
        $py "$root/bench/peers/ease.py" "$tmp/$name" --protocol "$proto" \
            --lambda "$lambda" --k 10 --max-basket $maxb >"$tmp/$name.n.json"
        metric fit_seconds "$tmp/$name.n.json" >>"$tmp/$name.nt"
        i=$((i + 1))
    done
    xt=$(median <"$tmp/$name.xt")
    nt=$(median <"$tmp/$name.nt")
    x=$tmp/$name.x.json n=$tmp/$name.n.json
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %.3f | %.3f | %.2f |\n' \
        "$name" "$proto" "$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["users"])' "$x")" \
        "$(metric hit_rate "$x")" "$(metric hit_rate "$n")" \
        "$(metric ndcg "$x")" "$(metric ndcg "$n")" \
        "$(metric map "$x")" "$(metric map "$n")" \
        "$xt" "$nt" "$(awk -v a="$nt" -v b="$xt" 'BEGIN {print a / b}')"
done

if [ "${SPARSE:-0}" = 1 ]; then
    echo
    echo "| data | mode | neighbours | hit_rate | ndcg | map | vs dense hit_rate | fit s |"
    echo "|---|---|---|---|---|---|---|---|"
    for name in retail ml; do
        eval "args=\$$name"
        dense=
        for m in dense 50 100 200; do
            if [ $m = dense ]; then
                # shellcheck disable=SC2086
                t=$(xs_eval $args --plugin ease --plugin-opt ease.mode=dense)
            else
                # shellcheck disable=SC2086
                t=$(xs_eval $args --plugin ease --plugin-opt ease.mode=sparse \
                    --plugin-opt ease.neighbours=$m)
            fi
            h=$(metric hit_rate "$tmp/x.json")
            [ -z "$dense" ] && dense=$h
            printf '| %s | %s | %s | %s | %s | %s | %+.1f %% | %.2f |\n' "$name" \
                "$([ $m = dense ] && echo dense || echo sparse)" \
                "$([ $m = dense ] && echo - || echo $m)" "$h" \
                "$(metric ndcg "$tmp/x.json")" "$(metric map "$tmp/x.json")" \
                "$(awk -v a="$h" -v b="$dense" 'BEGIN {print 100 * (a / b - 1)}')" \
                "$(awk -v t="$t" 'BEGIN {print t / 1000}')"
        done
    done
fi

if [ "${SWEEP:-0}" = 1 ]; then
    echo
    echo "| data | lambda | hit_rate | ndcg | map | precision |"
    echo "|---|---|---|---|---|---|"
    for name in groceries retail ml; do
        eval "args=\$$name"
        for l in 10 50 100 200 500; do
            # shellcheck disable=SC2086
            xs_eval $args --plugin ease --plugin-opt ease.lambda=$l >/dev/null
            printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$l" \
                "$(metric hit_rate "$tmp/x.json")" "$(metric ndcg "$tmp/x.json")" \
                "$(metric map "$tmp/x.json")" "$(metric precision "$tmp/x.json")"
        done
    done
fi
