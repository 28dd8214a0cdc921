"""cli_rules_groceries.py -- `xsell rules --max-len N` on the groceries
baskets (label "data"; exit 77, reported as skipped, when
$XS_SHARED_DATA/groceries.csv is absent).

Checked, at arules' classic thresholds (support 0.001, confidence 0.5):
  - --max-len 3 and 4: the same set of rules as a plain brute force here
    (each basket's distinct items, those below the minimum count dropped,
    every combination of 1..N counted; arules' thresholds), support,
    confidence and lift within 1e-12 relative, counts exact; the lhs in
    name order; csv and, for N = 3, json;
  - --max-len 10 (arules' default maxlen): 5,668 rules, the count arules'
    apriori(Groceries, parameter = list(supp = 0.001, conf = 0.5)) reports.
"""
import itertools
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_rules_groceries")
shared = os.environ.get("XS_SHARED_DATA", "")
path = os.path.join(shared, "groceries.csv")
if not shared or not os.path.isfile(path):
    ck.skip("%s not found (set XS_SHARED_DATA)" % path)
MS, MC = 0.001, 0.5

baskets = []
with open(path, encoding="utf-8") as f:
    for line in f:
        line = line.rstrip("\r\n")
        if line.strip():
            baskets.append(sorted(set(x.strip() for x in line.split(","))))
N = len(baskets)
ck.check(N == 9835, "brute force: %d baskets, want 9835" % N)
minc = max(1, math.ceil(MS * N * (1 - sys.float_info.epsilon)))
single = {}
for b in baskets:
    for x in b:
        single[x] = single.get(x, 0) + 1


def brute(max_len):
    count = {}
    for b in baskets:
        f = [x for x in b if single[x] >= minc]
        for k in range(1, max_len + 1):
            for c in itertools.combinations(f, k):
                count[c] = count.get(c, 0) + 1
    rules = {}
    for x, cx in count.items():
        if len(x) < 2 or cx < minc:
            continue
        for r in x:
            lhs = tuple(i for i in x if i != r)
            conf = cx / count[lhs]
            if conf >= MC - 1e-12:
                rules[(",".join(lhs), r)] = (cx / N, conf,
                                             cx * N / (count[lhs] * single[r]),
                                             cx)
    return rules


thr = ["--baskets", path, "--min-support", repr(MS), "--min-confidence",
       repr(MC)]
for n in (3, 4):
    want = brute(n)
    rc, out, err = ck.run(["rules"] + thr + ["--max-len", str(n)])
    ck.check(rc == 0, "max-len %d: exit %d: %s" % (n, rc, err))
    header, got, order = xscli.parse_rules_csv(out)
    ck.check(len(order) == len(got), "max-len %d: a rule printed twice" % n)
    xscli.compare_rules(ck, "groceries max-len %d csv" % n, got, want)
    print("groceries max-len %d: %d rules (%d with 2+ items on the left)"
          % (n, len(want), sum(1 for k in want if "," in k[0])))
    if n == 3:
        doc = ck.json_of(["rules"] + thr + ["--max-len", "3", "--format",
                                            "json"], "max-len 3 json")
        if doc is not None:
            got = {(",".join(r["lhs"]), r["rhs"]): (r["support"],
                                                    r["confidence"],
                                                    r["lift"], r["count"])
                   for r in doc["rules"]}
            ck.check(all(r["lhs"] == sorted(r["lhs"]) for r in doc["rules"]),
                     "json: an lhs not in name order")
            xscli.compare_rules(ck, "groceries max-len 3 json", got, want)

rc, out, err = ck.run(["rules"] + thr + ["--max-len", "10", "--sort", "none"])
rows = out.count("\n") - 1
ck.check(rc == 0 and rows == 5668, "max-len 10: exit %d, %d rules, want "
         "arules' 5668" % (rc, rows))
ck.finish()
