"""groceries_rules.py -- xsell on real baskets against an independent brute
force (label "data"; exit 77, reported as skipped, when the data is absent).

    groceries_rules.py XSELL groceries       $XS_SHARED_DATA/groceries.csv
    groceries_rules.py XSELL online_retail   $XS_SHARED_DATA/online_retail_baskets.csv

The brute force is deliberately plain: read the lines, split on commas,
dedupe the items of each basket, count items and pairs, and apply arules'
thresholds (minimum count ceil(minsupp * N * (1 - DBL_EPSILON)), confidence
>= minconf - 1e-12).  It shares nothing with xscli.py's CSV reading.

Checked:
  - `xsell rules --format csv`: the same SET of rules, support, confidence
    and lift within 1e-12 relative, counts exact; json: the same, and
    "transactions" = N;
  - `xsell recommend --items A --measure lift --min-count 1 --explain
    --format json --k 20`: the top 20 by lift of A -> item (ties by first appearance), each with support,
    confidence, lift and count of that rule;
  - groceries only: the published figures -- 9,835 baskets; whole milk
    2,513, other vegetables 1,903, root vegetables 1,072, herbs 160 -- as
    seen through xsell's own output (count / confidence = the lhs count,
    count / support = N).
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

DATASETS = {
    # name: (file, min support, min confidence)
    "groceries": ("groceries.csv", 0.001, 0.1),
    "online_retail": ("online_retail_baskets.csv", 0.01, 0.3),
}
MAX_BASKET = 1000  # xsell's default --max-basket
GROCERIES_FIGURES = {"whole milk": 2513, "other vegetables": 1903,
                     "root vegetables": 1072, "herbs": 160}

ck = xscli.Checker("groceries_rules")
if len(ck.args) != 1 or ck.args[0] not in DATASETS:
    ck.fail("usage: groceries_rules.py XSELL (%s)" % "|".join(DATASETS))
    ck.finish()
name = ck.args[0]
ck.name = name + "_rules"
fname, MINSUPP, MINCONF = DATASETS[name]
shared = os.environ.get("XS_SHARED_DATA", "")
path = os.path.join(shared, fname)
if not shared or not os.path.isfile(path):
    ck.skip("%s not found (set XS_SHARED_DATA)" % path)

# -- the brute force --------------------------------------------------------------
baskets, first_seen = [], {}
with open(path, encoding="utf-8") as f:
    for line in f:
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        items = []
        for x in line.split(","):
            x = x.strip()
            if x not in first_seen:
                first_seen[x] = len(first_seen)
            items.append(x)
        # xsell's bound (--max-basket, default 1000): a basket pairs its
        # first 1000 distinct items, in line order
        baskets.append(sorted(list(dict.fromkeys(items))[:MAX_BASKET]))
N = len(baskets)
count = {}
for b in baskets:
    for x in b:
        count[x] = count.get(x, 0) + 1
min_count = max(1, math.ceil(MINSUPP * N * (1 - sys.float_info.epsilon)))


def pair_counts(keep):
    """Pair counts over the items with count >= keep (no pair can be more
    frequent than its items), both directions."""
    p = {}
    for b in baskets:
        s = [x for x in b if count[x] >= keep]
        for i, a in enumerate(s):
            for c in s[i + 1:]:
                p[(a, c)] = p.get((a, c), 0) + 1
    return p


pairs = pair_counts(min_count)
want = {}
for (a, b), c in pairs.items():
    if c < min_count:
        continue
    for lhs, rhs in ((a, b), (b, a)):
        conf = c / count[lhs]
        if conf >= MINCONF - 1e-12:
            want[(lhs, rhs)] = (c / N, conf, c * N / (count[lhs] * count[rhs]),
                                c)
ck.check(len(want) > 100, "only %d rules: thresholds too high for a real test"
         % len(want))

# -- xsell rules --------------------------------------------------------------------
thr = ["--min-support", repr(MINSUPP), "--min-confidence", repr(MINCONF)]
rc, out, err = ck.run(["rules", "--baskets", path] + thr + ["--format", "csv"])
ck.check(rc == 0, "rules csv: exit %d: %s" % (rc, err))
header, got, order = xscli.parse_rules_csv(out)
ck.check(header == ["lhs", "rhs", "support", "confidence", "lift", "count"],
         "rules csv: header %r" % header)
ck.check(len(order) == len(got), "rules csv: a rule printed twice")
xscli.compare_rules(ck, name + " rules csv", got, want)
print("%s: %d baskets, %d items, %d rules (min count %d)"
      % (name, N, len(count), len(want), min_count))

doc = ck.json_of(["rules", "--baskets", path] + thr + ["--format", "json"],
                 name + " rules json")
if doc is not None:
    ck.check(doc.get("transactions") == N, "rules json: transactions %r, "
             "want %d" % (doc.get("transactions"), N))
    got = {(r["lhs"], r["rhs"]): (r["support"], r["confidence"], r["lift"],
                                  r["count"]) for r in doc.get("rules", [])}
    ck.check(len(got) == len(doc.get("rules", [])), "rules json: duplicates")
    xscli.compare_rules(ck, name + " rules json", got, want)

# -- xsell recommend --explain --------------------------------------------------------
all_pairs = None


def neighbours(a):
    global all_pairs
    if all_pairs is None:
        all_pairs = pair_counts(1) if name == "groceries" else None
    if all_pairs is not None:
        src = all_pairs
    else:  # big data: count a's row only
        src = {}
        for b in baskets:
            if a in b:
                for c in b:
                    if c != a:
                        src[(a, c)] = src.get((a, c), 0) + 1
    row = {}
    for (x, y), c in src.items():
        if x == a:
            row[y] = c
        elif y == a:
            row[x] = c
    return row


def check_recommend(a, k=20):
    label = "%s recommend {%s}" % (name, a)
    row = neighbours(a)
    lift = {c: n * N / (count[a] * count[c]) for c, n in row.items()}
    ranked = sorted(row, key=lambda c: (-lift[c], first_seen[c]))[:k]
    # the association rules' ranking: lift, every pair counted (copurchase's
    # defaults are cosine and pairs seen twice)
    doc = ck.json_of(["recommend", "--baskets", path, "--items", a,
                      "--measure", "lift", "--min-count", "1",
                      "--explain", "--format", "json", "--k", str(k)], label)
    if doc is None:
        return []
    items = doc.get("items", [])
    ck.check([g.get("item") for g in items] == ranked,
             "%s: items\n  got  %s\n  want %s"
             % (label, [g.get("item") for g in items], ranked))
    for g in items:
        c = g.get("item")
        if c not in row:
            continue
        n = row[c]
        ck.check(g.get("plugin") == "copurchase" and g.get("from") == a,
                 "%s: %s plugin/from %r" % (label, c, g))
        ck.close(g.get("score"), lift[c], 1e-12, "%s: %s score" % (label, c))
        ck.close(g.get("support"), n / N, 1e-12, "%s: %s support" % (label, c))
        ck.close(g.get("confidence"), n / count[a], 1e-12,
                 "%s: %s confidence" % (label, c))
        ck.close(g.get("lift"), lift[c], 1e-12, "%s: %s lift" % (label, c))
        ck.close(g.get("count"), n, 0, "%s: %s count" % (label, c))
    return items


if name == "groceries":
    # the published figures, first in the brute force (is it the right
    # file?), then through xsell's own numbers
    ck.check(N == 9835, "brute force: %d baskets, want 9835" % N)
    for item, n in GROCERIES_FIGURES.items():
        ck.check(count.get(item) == n, "brute force: %s %r, want %d"
                 % (item, count.get(item), n))
    for item, n in GROCERIES_FIGURES.items():
        items = check_recommend(item)
        ck.check(items, "recommend {%s}: nothing" % item)
        for g in items:
            lhs = g.get("count", 0) / g.get("confidence", 1)
            total = g.get("count", 0) / g.get("support", 1)
            ck.check(round(lhs) == n and abs(lhs - n) < 1e-6,
                     "xsell: count of %s = count/confidence = %r, want %d"
                     % (item, lhs, n))
            ck.check(round(total) == 9835 and abs(total - 9835) < 1e-6,
                     "xsell: baskets = count/support = %r, want 9835" % total)
else:
    top = sorted(count, key=lambda x: (-count[x], first_seen[x]))
    for a in top[:2]:
        check_recommend(a)

ck.finish()
