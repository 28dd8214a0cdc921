#!/bin/sh
# Itemset rules: `xsell rules --max-len N` against bench/peers/itemsets.py
# (apriori in numpy/scipy, independent of xsell) on the same baskets, run by
# run interleaved so both see the same machine noise; then the dense case
# (one basket of 20,000 items) for time and memory.
#
#   bench/peers/itemsets.sh [RUNS] [BUILD_DIR]      (defaults: 3, build)
#   XSELL_BEFORE=/path/to/older/xsell  also runs the dense case with that
#                                      binary (under ulimit -v 12 GB)
#
# Data: ../shared/data/groceries.csv and online_retail_baskets.csv (each
# skipped when absent); the dense file is generated (bench/out/itemsets/).
# Checks that both print the same rules (same set, support, confidence and
# lift within 1e-12 relative, counts exact; byte-identical noted) and prints
# markdown tables: medians of RUNS wall seconds and max RSS (/usr/bin/time),
# the ratio xsell / peer.  Raw runs: bench/out/itemsets/runs.tsv.
set -eu
runs=${1:-3}
build=${2:-build}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
cmake --build "$build" --target xsell_cli >&2
py=/usr/bin/python3
xs="$build/bin/xsell"
out=bench/out/itemsets
mkdir -p "$out"
raw="$out/runs.tsv"
: > "$raw"
tf="$out/time.txt"

timed() { # label impl run cmd...: appends "label impl run seconds kb"
    label=$1 impl=$2 run=$3
    shift 3
    /usr/bin/time -o "$tf" -f "%e %M" "$@" || true
    printf '%s\t%s\t%s\t%s\n' "$label" "$impl" "$run" "$(tr ' ' '\t' < "$tf")" \
        >> "$raw"
}

compare() { # label: the peer's rules against xsell's
    "$py" - "$out/$1.xsell.csv" "$out/$1.peer.csv" "$1" <<'PY'
import csv, sys
def read(p):
    rows = list(csv.reader(open(p, encoding="utf-8")))
    return {(r[0], r[1]): (float(r[2]), float(r[3]), float(r[4]), int(r[5]))
            for r in rows[1:]}, len(rows) - 1
a, na = read(sys.argv[1])
b, nb = read(sys.argv[2])
bad = [k for k in set(a) & set(b)
       if a[k][3] != b[k][3] or any(abs(a[k][i] - b[k][i]) >
                                    1e-12 * abs(b[k][i]) for i in range(3))]
same = open(sys.argv[1], "rb").read() == open(sys.argv[2], "rb").read()
ok = set(a) == set(b) and not bad and na == len(a) and nb == len(b)
print("%s: %d rules, %s%s" % (sys.argv[3], len(a), "same rules and values"
      if ok else "DIFFER: %d only xsell, %d only peer, %d values"
      % (len(set(a) - set(b)), len(set(b) - set(a)), len(bad)),
      ", byte-identical" if same else ""))
sys.exit(0 if ok else 1)
PY
}

status=0
peer_case() { # label file support confidence max_len
    label=$1
    for i in $(seq "$runs"); do
        timed "$label" xsell "$i" sh -c "'$xs' rules --baskets '$2' \
            --min-support $3 --min-confidence $4 --max-len $5 \
            > '$out/$label.xsell.csv'"
        timed "$label" peer "$i" sh -c "'$py' bench/peers/itemsets.py '$2' \
            $3 $4 $5 > '$out/$label.peer.csv' 2>/dev/null"
    done
    compare "$label" || status=1
}

shared=../shared/data
for d in groceries online_retail_baskets; do
    f="$shared/$d.csv"
    [ -f "$f" ] || { echo "$f absent: skipped" >&2; continue; }
    short=${d%_baskets}
    case $short in
    groceries) thresholds="0.001:0.5 0.005:0.1" ;;
    *) thresholds="0.01:0.3 0.005:0.3" ;;
    esac
    for t in $thresholds; do
        for n in 2 3 4; do
            peer_case "$short-${t%%:*}-${t##*:}-len$n" "$f" "${t%%:*}" \
                "${t##*:}" "$n"
        done
    done
done

# -- the dense case: one basket of 20,000 items and 99 of 10 ----------------------
dense="$out/dense20k.csv"
[ -f "$dense" ] || "$py" - "$dense" <<'PY'
import random, sys
rng = random.Random(7)
big = ["x%05d" % i for i in range(20000)]
lines = [",".join(big)] + [",".join(rng.sample(big[:200], 10))
                           for _ in range(99)]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
dense_case() { # label impl binary args...
    label=$1 impl=$2 bin=$3
    shift 3
    for i in $(seq "$runs"); do
        timed "$label" "$impl" "$i" sh -c "'$bin' rules --baskets '$dense' \
            --max-basket 100000 $* | wc -l > '$out/$label.$impl.lines'"
    done
}
dense_case "dense 0.05 len2" xsell "$xs" --min-support 0.05 --min-confidence 0
dense_case "dense 0.05 len3" xsell "$xs" --min-support 0.05 --min-confidence 0 \
    --max-len 3
dense_case "dense 0.02 len3" xsell "$xs" --min-support 0.02 --min-confidence 0 \
    --max-len 3
dense_case "dense 0 len2 stream 20M" xsell "$xs" --min-support 0 \
    --min-confidence 0 --sort none --limit 20000000
dense_case "dense 0 len2 best 100" xsell "$xs" --min-support 0 \
    --min-confidence 0 --limit 100
if [ -n "${XSELL_BEFORE:-}" ]; then
    (ulimit -v 12000000; dense_case "dense 0.05 len2" before "$XSELL_BEFORE" \
        --min-support 0.05 --min-confidence 0)
fi

"$py" - "$raw" "$out" <<'PY'
import os, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
med = {}
for label, impl, run, sec, kb in rows:
    med.setdefault((label, impl), []).append((float(sec), int(kb)))
labels = list(dict.fromkeys(r[0] for r in rows))
print("| case | rules | xsell s | peer s | xsell / peer | xsell max RSS MB "
      "| peer max RSS MB |")
print("|---|---|---|---|---|---|---|")
for lab in labels:
    if (lab, "peer") not in med:
        continue
    x, p = med[(lab, "xsell")], med[(lab, "peer")]
    xs, ps = statistics.median(s for s, _ in x), statistics.median(s for s, _ in p)
    n = sum(1 for _ in open(os.path.join(sys.argv[2], lab + ".xsell.csv"))) - 1
    print("| %s | %d | %.3f | %.3f | %.2f | %.1f | %.1f |" % (
        lab, n, xs, ps, xs / ps, statistics.median(k for _, k in x) / 1024,
        statistics.median(k for _, k in p) / 1024))
print()
print("| dense case | impl | lines out | s | max RSS MB |")
print("|---|---|---|---|---|")
for lab in labels:
    for impl in ("xsell", "before"):
        if (lab, impl) not in med or (lab, "peer") in med:
            continue
        v = med[(lab, impl)]
        p = os.path.join(sys.argv[2], "%s.%s.lines" % (lab, impl))
        lines = open(p).read().strip() if os.path.exists(p) else "?"
        print("| %s | %s | %s | %.2f | %.1f |" % (
            lab, impl, lines, statistics.median(s for s, _ in v),
            statistics.median(k for _, k in v) / 1024))
PY
exit $status
