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
thr = ["--baskets", path, "--min-support", repr(MS), "--min-confidence",
       repr(MC)]
for n in (3, 4):
    want = {(",".join(lhs), r): v for (lhs, r), v in
            xscli.brute_itemset_rules(baskets, MS, MC, n).items()}
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
