"""cli_rules_itemsets.py -- `xsell rules --max-len N`: itemset rules.

  - the set of rules L -> r (1 <= |L| <= N - 1) and every value (support,
    confidence, lift within 1e-12, count exact) equal a plain brute force
    here (itertools.combinations of each basket's frequent items; arules'
    thresholds: minimum count ceil(minsupp * N * (1 - DBL_EPSILON)),
    confidence >= minconf - 1e-12), csv and json, N = 3 and 4, on the
    hand-made fixture and on seeded random baskets;
  - the lhs format: csv, the names in name order joined by ',' in one
    field; json, an array for N > 2 and a string for N = 2;
  - --max-len 2 prints exactly the bytes of no --max-len (today's rules);
  - --sort orders (key descending, ties by lhs names then rhs); --limit K
    prints the first K of that order; --sort none prints the same set in
    mining order; --sort none --limit K stops after K rules (a dense line
    that would give millions answers at once); table format count line;
  - bad --max-len and --limit: exit 2 naming the option.
"""
import itertools
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_rules_itemsets")
HEADER = "lhs,rhs,support,confidence,lift,count"


def read_lines(path):
    baskets = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                baskets.append(sorted(set(x.strip() for x in line.split(","))))
    return baskets


def run_csv(args, label):
    rc, out, err = ck.run(["rules"] + args + ["--format", "csv"])
    ck.check(rc == 0, "%s: exit %d: %s" % (label, rc, err))
    ck.check(out.split("\n", 1)[0] == HEADER, "%s: header %r"
             % (label, out.split("\n", 1)[0]))
    _, rules, order = xscli.parse_rules_csv(out)
    ck.check(len(rules) == len(order), "%s: a rule printed twice" % label)
    split = lambda k: (tuple(k[0].split(",")), k[1])  # noqa: E731
    for k in order:
        names = k[0].split(",")
        ck.check(names == sorted(names), "%s: lhs %r not in name order"
                 % (label, k[0]))
    return ({split(k): v for k, v in rules.items()}, [split(k) for k in order],
            out)


def run_json(args, label, n_want, array):
    doc = ck.json_of(["rules"] + args + ["--format", "json"], label)
    if doc is None:
        return {}
    ck.check(doc.get("transactions") == n_want, "%s: transactions %r, want %d"
             % (label, doc.get("transactions"), n_want))
    got = {}
    for r in doc.get("rules", []):
        lhs = r["lhs"]
        if array:
            ck.check(isinstance(lhs, list), "%s: lhs %r not an array"
                     % (label, lhs))
            key = (tuple(lhs), r["rhs"])
        else:
            ck.check(isinstance(lhs, str), "%s: lhs %r not a string"
                     % (label, lhs))
            key = ((lhs,), r["rhs"])
        got[key] = (r["support"], r["confidence"], r["lift"], r["count"])
    ck.check(len(got) == len(doc.get("rules", [])), "%s: duplicates" % label)
    return got


def check_all(label, path, ms, mc, max_len):
    baskets = read_lines(path)
    want = xscli.brute_itemset_rules(baskets, ms, mc, max_len)
    args = ["--baskets", path, "--min-support", repr(ms), "--min-confidence",
            repr(mc), "--max-len", str(max_len)]
    got, order, _ = run_csv(args, label + " csv")
    xscli.compare_rules(ck, label + " csv", got, want)
    got = run_json(args, label + " json", len(baskets), max_len > 2)
    xscli.compare_rules(ck, label + " json", got, want)
    return want


# -- the hand-made fixture and random baskets --------------------------------------
small = ck.data("cli", "small_baskets.csv")
n3 = 0
for ms, mc in ((0.0, 0.0), (0.1, 0.3), (0.2, 0.5), (0.25, 0.0), (0.5, 0.5)):
    for max_len in (3, 4):
        w = check_all("small %g/%g/%d" % (ms, mc, max_len), small, ms, mc,
                      max_len)
        n3 += sum(1 for k in w if len(k[0]) >= 2)
ck.check(n3 > 20, "small: only %d rules with 2+ items on the left" % n3)

rng = random.Random(20261128)
names = ["i%02d" % i for i in range(14)] + ["milk", "Bread", "z z"]
lines = []
for _ in range(150):
    k = rng.randint(1, 7)
    lines.append(",".join(rng.choice(names[:rng.randint(3, len(names))])
                          for _ in range(k)))
rnd = ck.write("random.csv", "\n".join(lines) + "\n")
big = 0
for ms, mc, max_len in ((0.01, 0.1, 3), (0.02, 0.0, 4), (0.05, 0.5, 4),
                        (0.0, 0.9, 3), (0.03, 0.2, 5)):
    w = check_all("random %g/%g/%d" % (ms, mc, max_len), rnd, ms, mc, max_len)
    big = max(big, len(w))
ck.check(big > 500, "random: at most %d rules, a weak test" % big)

# -- max-len 2 is today's output ---------------------------------------------------------
for fmt in ("csv", "json", "table"):
    base = ["rules", "--baskets", rnd, "--min-support", "0.02",
            "--min-confidence", "0.1", "--format", fmt]
    r1 = ck.run(base)
    r2 = ck.run(base + ["--max-len", "2"])
    ck.check(r1[0] == 0 and r1 == r2, "--max-len 2 differs from the default "
             "(%s)" % fmt)

# -- --sort, --limit, --sort none -------------------------------------------------------
thr = ["--baskets", rnd, "--min-support", "0.01", "--min-confidence", "0.1",
       "--max-len", "3"]
want = xscli.brute_itemset_rules(read_lines(rnd), 0.01, 0.1, 3)
keys = {
    "lift": lambda r: (-want[r][2], r[0], r[1]),
    "confidence": lambda r: (-want[r][1], r[0], r[1]),
    "support": lambda r: (-want[r][3], r[0], r[1]),
    "count": lambda r: (-want[r][3], r[0], r[1]),
    "name": lambda r: (r[0], r[1]),
}
for s, key in keys.items():
    full = sorted(want, key=key)
    got, order, _ = run_csv(thr + ["--sort", s], "sort " + s)
    ck.check(order == full, "--sort %s: order differs (first %s, want %s)"
             % (s, order[:3], full[:3]))
    for k in (1, 7, 100, len(full) + 5):
        got, order, _ = run_csv(thr + ["--sort", s, "--limit", str(k)],
                                "sort %s limit %d" % (s, k))
        ck.check(order == full[:k], "--sort %s --limit %d: not the first %d"
                 % (s, k, k))
got, order, _ = run_csv(thr + ["--sort", "none"], "sort none")
xscli.compare_rules(ck, "sort none", got, want)
got, order, _ = run_csv(thr + ["--sort", "none", "--limit", "9"],
                        "sort none limit")
ck.check(len(order) == 9 and all(k in want for k in order),
         "--sort none --limit 9: %d rules %s" % (len(order), order[:3]))
rc, out, err = ck.run(["rules"] + thr + ["--format", "table", "--limit", "5"])
ck.check(rc == 0 and len(out.splitlines()) == 6 and
         "5 rules over 150 transactions" in err,
         "table --limit 5: exit %d, %d lines, stderr %r"
         % (rc, len(out.splitlines()), err))

# a dense line: 300 items together give 13 million rules of length <= 3;
# streaming with a limit answers at once
dense = ck.write("dense.csv", ",".join("d%03d" % i for i in range(300)) +
                 "\nd000,d001\n")
rc, out, err = ck.run(["rules", "--baskets", dense, "--min-support", "0",
                       "--min-confidence", "0", "--max-len", "3",
                       "--sort", "none", "--limit", "5"], timeout=20)
ck.check(rc == 0 and len(out.splitlines()) == 6,
         "dense --sort none --limit 5: exit %d, %d lines: %s"
         % (rc, len(out.splitlines()), err))
# sorting all of them is refused with a way out named
rc, out, err = ck.run(["rules", "--baskets", dense, "--min-support", "0",
                       "--min-confidence", "0", "--max-len", "3"], timeout=120)
ck.check(rc == 1 and "--limit" in err and "--sort none" in err and
         out == "", "dense, sorted, no limit: exit %d, stderr %r, %d bytes out"
         % (rc, err, len(out)))
# ... and with --limit it is kept to the best K
got, order, _ = run_csv(["--baskets", dense, "--min-support", "0",
                         "--min-confidence", "0", "--max-len", "3",
                         "--limit", "3", "--sort", "count"], "dense limit")
ck.check(order == [(("d000",), "d001"), (("d001",), "d000"),
                   (("d000",), "d002")] and
         got[(("d000",), "d001")][3] == 2,
         "dense --sort count --limit 3: %s" % order)

# -- names with commas: json keeps them apart ------------------------------------------
q = ck.data("cli", "quoted_baskets.csv")
Q = [sorted(set(t)) for t in xscli.read_baskets(q).t]
want = xscli.brute_itemset_rules(Q, 0, 0, 3)
got = run_json(["--baskets", q, "--min-support", "0", "--min-confidence", "0",
                "--max-len", "3"], "quoted json", len(Q), True)
xscli.compare_rules(ck, "quoted json", got, want)

# -- bad values --------------------------------------------------------------------------
for bad in ("1", "0", "-2", "11", "abc", "2.5", "", "3x"):
    ck.expect(["rules", "--baskets", small, "--max-len", bad], 2,
              stderr_has=["--max-len"])
for bad in ("0", "-1", "x", "1.5"):
    ck.expect(["rules", "--baskets", small, "--limit", bad], 2,
              stderr_has=["--limit"])
ck.expect(["rules", "--baskets", small, "--sort", "random"], 2,
          stderr_has=["--sort", "none"])

ck.finish()
