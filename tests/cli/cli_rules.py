"""cli_rules.py -- `xsell rules` end to end.

  - csv: the header is exactly lhs,rhs,support,confidence,lift,count; names
    holding commas or quotes are quoted and read back intact;
  - json: one document {"transactions": N, "rules": [{lhs, rhs, support,
    confidence, lift, count}]}; table: a header and one line per rule;
  - the set of rules and every value equal the brute force (arules' rules of
    length 2: minimum count ceil(minsupp * N * (1 - DBL_EPSILON)), confidence
    >= minconf - 1e-12), on a hand-made fixture, on the sample store (basket
    and customer scope), and on the same baskets given as events with
    --columns and tabs;
  - arules' rounding at the edges: 0.07 * 100 baskets is a count of 7;
  - --sort orders (lift, confidence, support, count desc; ties and name by
    lhs then rhs).
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_rules")
HEADER = ["lhs", "rhs", "support", "confidence", "lift", "count"]


def rules_csv(args, label):
    rc, out, err = ck.run(["rules"] + args + ["--format", "csv"])
    ck.check(rc == 0, "%s: exit %d: %s" % (label, rc, err))
    ck.check(out.split("\n", 1)[0] == ",".join(HEADER),
             "%s: csv header %r" % (label, out.split("\n", 1)[0]))
    header, rules, order = xscli.parse_rules_csv(out)
    ck.check(len(rules) == len(order), "%s: a rule printed twice" % label)
    return rules, order


def rules_json(args, label):
    doc = ck.json_of(["rules"] + args + ["--format", "json"], label)
    if not ck.check(isinstance(doc, dict) and set(doc) ==
                    {"transactions", "rules"}, "%s: json shape %r"
                    % (label, str(doc)[:200])):
        return None, {}
    rules = {}
    for r in doc["rules"]:
        ck.check(set(r) == set(HEADER), "%s: rule keys %r" % (label, r))
        ck.check(isinstance(r.get("count"), int), "%s: count %r not an "
                 "integer" % (label, r.get("count")))
        rules[(r["lhs"], r["rhs"])] = (r["support"], r["confidence"],
                                       r["lift"], r["count"])
    return doc["transactions"], rules


def check_all(label, bk, args, ms, mc):
    want = bk.rules(ms, mc)
    thr = ["--min-support", repr(ms), "--min-confidence", repr(mc)]
    got, order = rules_csv(args + thr, label + " csv")
    xscli.compare_rules(ck, label + " csv", got, want)
    n, got = rules_json(args + thr, label + " json")
    ck.check(n == bk.n, "%s json: transactions %r, want %d" % (label, n, bk.n))
    xscli.compare_rules(ck, label + " json", got, want)
    rc, out, err = ck.run(["rules"] + args + thr + ["--format", "table"])
    lines = out.splitlines()
    ck.check(rc == 0 and lines and lines[0].split() == HEADER and
             len(lines) == len(want) + 1,
             "%s table: exit %d, %d lines for %d rules, header %r"
             % (label, rc, len(lines), len(want), lines[:1]))
    ck.check(re.search(r"\b%d rules over %d transactions" % (len(want), bk.n),
                       err), "%s table: stderr %r" % (label, err))
    return want


# -- the hand-made fixture ------------------------------------------------------
small = ck.data("cli", "small_baskets.csv")
S = xscli.read_baskets(small)
ck.check(S.n == 12 and S.count["milk"] == 7 and S.count["coffee"] == 2,
         "small fixture read wrong by the brute force")
for ms, mc in ((0.0, 0.0), (0.1, 0.3), (0.25, 0.5), (0.2, 0.6), (0.5, 0.0),
               (1.0, 0.0)):
    check_all("small %g/%g" % (ms, mc), S, ["--baskets", small], ms, mc)
# by hand: support >= 0.25 (count 3) and confidence >= 0.5
got, order = rules_csv(["--baskets", small, "--min-support", "0.25",
                        "--min-confidence", "0.5"], "small by hand")
ck.check(got == {
    ("milk", "bread"): (5 / 12, 5 / 7, 5 * 12 / 49, 5),
    ("bread", "milk"): (5 / 12, 5 / 7, 5 * 12 / 49, 5),
    ("jam", "milk"): (3 / 12, 3 / 4, 3 * 12 / 28, 3),
    ("yogurt", "milk"): (3 / 12, 3 / 5, 3 * 12 / 35, 3),
    ("yogurt", "bread"): (3 / 12, 3 / 5, 3 * 12 / 35, 3),
}, "small by hand: %r" % got)
# default sort: lift desc, ties by lhs then rhs name
ck.check(order == [("jam", "milk"), ("bread", "milk"), ("milk", "bread"),
                   ("yogurt", "bread"), ("yogurt", "milk")],
         "small by hand: order %r" % order)

# every --sort order, checked on a larger rule set
want = S.rules(0.0, 0.0)
keys = {
    "lift": lambda r: (-want[r][2], r[0], r[1]),
    "confidence": lambda r: (-want[r][1], r[0], r[1]),
    "support": lambda r: (-want[r][3], r[0], r[1]),
    "count": lambda r: (-want[r][3], r[0], r[1]),
    "name": lambda r: (r[0], r[1]),
}
for s, key in keys.items():
    got, order = rules_csv(["--baskets", small, "--min-support", "0",
                            "--min-confidence", "0", "--sort", s],
                           "sort " + s)
    ck.check(order == sorted(want, key=key), "--sort %s: order\n  got  %s\n"
             "  want %s" % (s, order, sorted(want, key=key)))

# -- names with commas and quotes ----------------------------------------------------
q = ck.data("cli", "quoted_baskets.csv")
Q = xscli.read_baskets(q)
want = check_all("quoted", Q, ["--baskets", q], 0.0, 0.0)
ck.check(("a,b", 'say "hi"') not in want and ("a,b", "c") in want and
         ('say "hi"', "c") in want, "quoted: brute force %r" % sorted(want))
rc, out, err = ck.run(["rules", "--baskets", q, "--min-support", "0",
                       "--min-confidence", "0", "--format", "csv"])
ck.check('"a,b"' in out and '"say ""hi"""' in out,
         "quoted names not quoted in csv:\n%s" % out)

# -- arules' rounding at the edge ---------------------------------------------------------
# x in 10 of 100 baskets, y in 7 of them: {x, y} has support 0.07 and
# 0.07 * 100 = 7.000000000000001 in doubles; conf(x -> y) = 0.7 exactly
lines = ["f%d" % i for i in range(100)]
for i in range(10):
    lines[i] += ",x" + (",y" if i < 7 else "")
lines[50] += ",z"
lines[51] += ",z,w"  # conf(z -> w) = 1/2, conf(w -> z) = 1
edge = ck.write("edge.csv", "\n".join(lines) + "\n")
E = xscli.read_baskets(edge)
for ms, mc, want_xy in ((0.07, 0.7, True), (0.0700001, 0.7, False),
                        (0.07, 0.7000001, False), (0.08, 0.0, False),
                        (0.06, 0.69, True)):
    got = check_all("edge %r/%r" % (ms, mc), E, ["--baskets", edge], ms, mc)
    ck.check((("x", "y") in got) == want_xy,
             "edge %r/%r: brute force has x -> y: %s" % (ms, mc, not want_xy))
# confidence just under the typed threshold, within 1e-12: arules keeps it
for mc, keep in (("0.5000000000001", True), ("0.500000000002", False)):
    got, order = rules_csv(["--baskets", edge, "--min-support", "0.01",
                            "--min-confidence", mc], "conf edge " + mc)
    ck.check((("z", "w") in got) == keep, "--min-confidence %s: z -> w "
             "(confidence 0.5) %s" % (mc, "dropped" if keep else "kept"))
    ck.check(("w", "z") in got, "--min-confidence %s: w -> z missing" % mc)

# -- the sample store, as events -------------------------------------------------------
ev = ck.source("examples", "data", "events.csv")
B = xscli.read_events(ev, "basket")
C = xscli.read_events(ev, "customer")
w = check_all("sample basket", B, ["--events", ev], 0.001, 0.1)
ck.check(len(w) > 50, "sample basket: only %d rules, a weak test" % len(w))
check_all("sample basket, catalog", B, ["--events", ev, "--catalog",
          ck.source("examples", "data", "catalog.csv")], 0.002, 0.05)
w = check_all("sample customer", C, ["--events", ev, "--scope", "customer"],
              0.01, 0.2)
ck.check(len(w) > 10, "sample customer: only %d rules" % len(w))

# -- the same baskets as events, renamed columns, tab separated ---------------------
rows = ["userId\tmovieId\torderNo\tstamp"]
for i, t in enumerate(S.t):
    for item in sorted(t):
        rows.append("u%d\t%s\tord%d\t%d" % (i % 3, item, i, 1000 + i))
tsv = ck.write("renamed.tsv", "\n".join(rows) + "\n")
check_all("renamed tsv", S, ["--events", tsv, "--columns",
                             "customer=userId,item=movieId,order=orderNo,"
                             "timestamp=stamp"], 0.1, 0.3)

ck.finish()
