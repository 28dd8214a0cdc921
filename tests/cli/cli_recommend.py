"""cli_recommend.py -- `xsell recommend` end to end.

On the shipped sample store (examples/data/events.csv + catalog.csv, basket
scope from the order column, and customer scope) and on small fixtures,
against the brute force of xscli.py:

  - table output: a header, ranks 1..k, the same items and scores as json;
  - json output: one document {"items": [{"item", "score", "plugin"}, ...]},
    with --explain also support, confidence, lift, count and from, each equal
    to the brute-force value of the rule;
  - the ranking is the top k by score, ties by item id (first appearance);
  - --k, --measure, --min-count, --min-support, --scope are honoured;
  - a multi-item basket scores the sum of its rules; basket items never
    come back;
  - item names holding commas and quotes: --items '"a,b",c', and names are
    escaped properly in json.
"""
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_recommend")
ev = ck.source("examples", "data", "events.csv")
cat = ck.source("examples", "data", "catalog.csv")
if not os.path.exists(ev):
    ck.fail("no sample data %s" % ev)
    ck.finish()

B = xscli.read_events(ev, "basket")
C = xscli.read_events(ev, "customer")


def measure(bk, m, a, b, n_ab):
    na, nb, n = bk.count[a], bk.count[b], bk.n
    if m == "lift":
        return n_ab * n / (na * nb)
    if m == "confidence":
        return n_ab / na
    if m == "count":
        return float(n_ab)
    if m == "jaccard":
        return n_ab / (na + nb - n_ab)
    if m == "cosine":
        return n_ab / math.sqrt(na * nb)
    raise ValueError(m)


# copurchase's defaults (README, "How copurchase scores")
DEFAULT_MEASURE, DEFAULT_MIN_COUNT = "cosine", 2


def expected(bk, basket, m=DEFAULT_MEASURE, min_count=DEFAULT_MIN_COUNT):
    """{candidate: (score, best rule (a, n_ac))} by the documented rule:
    score(c) = sum over a in basket with n_ac >= min_count of m(a -> c)."""
    out = {}
    for a in basket:
        for c, n_ac in bk.neighbours(a, min_count).items():
            if c in basket:
                continue
            s = measure(bk, m, a, c, n_ac)
            score, best = out.get(c, (0.0, None))
            if best is None or s > measure(bk, m, best[0], c, best[1]):
                best = (a, n_ac)
            out[c] = (score + s, best)
    return out


def check_ranking(label, bk, got, want, k, rel):
    """got: the json items; want: expected(); the top k by score, ties by
    id, scores within rel (0: the order must match exactly)."""
    ranked = sorted(want, key=lambda c: (-want[c][0], bk.ids[c]))
    ck.check(len(got) == min(k, len(want)), "%s: %d items, want %d"
             % (label, len(got), min(k, len(want))))
    if rel == 0:
        names = [g["item"] for g in got]
        ck.check(names == ranked[:k], "%s: items\n  got  %s\n  want %s"
                 % (label, names, ranked[:k]))
    else:  # sums may round differently: a valid top k, scores close
        for i, g in enumerate(got):
            if not ck.check(g["item"] in want, "%s: unexpected item %s"
                            % (label, g["item"])):
                continue
            ck.close(g["score"], want[g["item"]][0], rel,
                     "%s: score of %s" % (label, g["item"]))
            if i:
                ck.check(g["score"] <= got[i - 1]["score"],
                         "%s: scores not descending at %d" % (label, i))
        if got and len(got) == k:
            last = got[-1]["score"]
            shown = set(g["item"] for g in got)
            for c in want:
                if c not in shown:
                    ck.check(want[c][0] <= last * (1 + rel),
                             "%s: %s (%r) left out for a worse item"
                             % (label, c, want[c][0]))
    for g in got:
        if g["item"] in want and rel == 0:
            ck.check(g["score"] == want[g["item"]][0],
                     "%s: score of %s %r, want %r"
                     % (label, g["item"], g["score"], want[g["item"]][0]))


def check_explain(label, bk, got, want, basket):
    for g in got:
        c = g["item"]
        if c not in want:
            continue
        a, n_ac = want[c][1]
        keys = {"item", "score", "plugin", "support", "confidence", "lift",
                "count", "from"}
        ck.check(keys <= set(g), "%s: %s lacks %s" % (label, c,
                                                      keys - set(g)))
        if len(basket) == 1 or g.get("from") == a:
            ck.check(g.get("from") == a, "%s: %s from %r, want %r"
                     % (label, c, g.get("from"), a))
        else:  # a tie of rule scores: any of the tied items will do
            other = g.get("from")
            n_oc = bk.pairs().get((other, c), 0)
            ck.check(other in basket and
                     measure(bk, "lift", other, c, n_oc) ==
                     measure(bk, "lift", a, c, n_ac),
                     "%s: %s from %r, want %r" % (label, c, other, a))
            a, n_ac = other, n_oc
        ck.close(g.get("count"), n_ac, 0, "%s: %s count" % (label, c))
        ck.close(g.get("support"), n_ac / bk.n, 1e-12,
                 "%s: %s support" % (label, c))
        ck.close(g.get("confidence"), n_ac / bk.count[a], 1e-12,
                 "%s: %s confidence" % (label, c))
        ck.close(g.get("lift"), bk.lift(a, c, n_ac), 1e-12,
                 "%s: %s lift" % (label, c))


def rec_json(args, label):
    doc = ck.json_of(["recommend"] + args + ["--format", "json"], label)
    if doc is None:
        return []
    ck.check(isinstance(doc, dict) and list(doc) == ["items"] and
             isinstance(doc["items"], list),
             "%s: json is not {\"items\": [...]}: %r" % (label, doc))
    items = doc.get("items", []) if isinstance(doc, dict) else []
    explain = "--explain" in args
    for g in items:
        ok = (isinstance(g, dict) and isinstance(g.get("item"), str) and
              isinstance(g.get("score"), (int, float)) and
              g.get("plugin") == "copurchase")
        ck.check(ok, "%s: bad entry %r" % (label, g))
        if not explain:
            ck.check(set(g) == {"item", "score", "plugin"},
                     "%s: evidence without --explain: %r" % (label, g))
    return items


data = ["--events", ev]
stock = {}
with open(cat, newline="") as f:
    for row in __import__("csv").DictReader(f):
        stock[row["item"]] = row["in_stock"] == "1"
top = sorted(B.count, key=lambda a: (-B.count[a], B.ids[a]))
X = top[0]

# -- one item, the defaults (cosine, pairs seen twice): json, explain, table ----
want = expected(B, [X])
ck.check(len(want) > 20, "sample: %s has only %d neighbours" % (X, len(want)))
ck.check(len(want) < len(expected(B, [X], min_count=1)),
         "sample: every pair of %s seen twice: the threshold is not shown" % X)
got = rec_json(data + ["--items", X, "--explain"], "defaults {%s}" % X)
check_ranking("defaults {%s}" % X, B, got, want, 10, 1e-12)
check_explain("defaults {%s}" % X, B, got, want, [X])
# with the catalog, the business rules drop out-of-stock items and nothing
# else: the same ranking with those removed
longer = rec_json(data + ["--items", X, "--explain", "--k", "40"], "k=40")
got_cat = rec_json(data + ["--catalog", cat, "--items", X, "--explain"],
                   "with catalog")
ck.check(any(not stock.get(g["item"], True) for g in got),
         "sample: no out-of-stock item in the top 10 of %s" % X)
ck.check(got_cat == [g for g in longer if stock.get(g["item"], True)][:10],
         "with --catalog: not the ranking minus out-of-stock items")

titles = {}
with open(cat, newline="") as f:
    for row in __import__("csv").DictReader(f):
        titles[row["item"]] = row["title"]
for args, with_title in ((data + ["--catalog", cat], True), (data, False)):
    label = "table" + (" with catalog" if with_title else "")
    shown = got_cat if with_title else got
    rc, out, err = ck.expect(["recommend"] + args + ["--items", X], 0)
    lines = out.splitlines()
    ck.check(lines and re.match(r"^\s*rank\s+item\s+%sscore\s+plugin\s*$"
                                % (r"title\s+" if with_title else ""),
                                lines[0]),
             "%s: header %r" % (label, lines[:1]))
    rows = [re.match(r"^\s*(\d+)\s+(\S+)\s+(?:(.*?)\s+)?(\S+)\s+(\S+)$", l)
            for l in lines[1:]]
    ck.check(len(rows) == len(shown) and all(rows),
             "%s: rows do not parse:\n%s" % (label, out))
    if not all(rows):
        continue
    for i, (r, g) in enumerate(zip(rows, shown)):
        title = (r.group(3) or "").strip()
        ck.check(int(r.group(1)) == i + 1 and r.group(2) == g["item"] and
                 r.group(5) == "copurchase" and
                 abs(float(r.group(4)) - g["score"]) <= 1e-5 * g["score"],
                 "%s: row %d %r differs from json %r"
                 % (label, i, r.group(0), g))
        ck.check(title == (titles.get(g["item"], "") if with_title else ""),
                 "%s: row %d title %r, want %r" % (label, i, title,
                                                    titles.get(g["item"])))
rc, out, err = ck.expect(["recommend"] + data + ["--items", X, "--explain"],
                         0, stdout_has=["support=", "confidence=", "lift=",
                                        "count=", "from=" + X])

# -- k ----------------------------------------------------------------------------
for k in (1, 3, 1000):
    got = rec_json(data + ["--items", X, "--k", str(k)], "k=%d" % k)
    check_ranking("defaults {%s} k=%d" % (X, k), B, got, want, k, 1e-12)

# -- measures, thresholds -----------------------------------------------------------
for m in ("lift", "confidence", "count", "jaccard", "cosine"):
    w = expected(B, [X], m)
    got = rec_json(data + ["--items", X, "--measure", m, "--k", "25"],
                   "%s {%s}" % (m, X))
    check_ranking("%s {%s}" % (m, X), B, got, w, 25,
                  1e-12 if m == "cosine" else 0)
# lift with every pair counted: the association rules' ranking
w = expected(B, [X], "lift", 1)
got = rec_json(data + ["--items", X, "--measure", "lift", "--min-count", "1",
                       "--k", "1000"], "lift, min-count 1")
check_ranking("lift, min-count 1", B, got, w, 1000, 0)
for mc in (1, 3, 5):
    w = expected(B, [X], min_count=mc)
    got = rec_json(data + ["--items", X, "--min-count", str(mc), "--k", "1000",
                           "--explain"], "min-count %d" % mc)
    check_ranking("min-count %d" % mc, B, got, w, 1000, 1e-12)
    ck.check(all(g.get("count", 0) >= mc for g in got),
             "min-count %d: a rule under the threshold" % mc)
for ms in (0.0005, 0.001, 0.002):
    # the larger of min_count (default 2) and ceil(S N) wins
    mc = max(DEFAULT_MIN_COUNT, B.min_count(ms))
    w = expected(B, [X], "lift", mc)
    got = rec_json(data + ["--items", X, "--measure", "lift", "--min-support",
                           repr(ms), "--k", "1000"], "min-support %g" % ms)
    check_ranking("min-support %g (count %d)" % (ms, mc), B, got, w, 1000, 0)

# -- several items ---------------------------------------------------------------------
nb = sorted(want, key=lambda c: (-want[c][0], B.ids[c]))
for basket in ([X, nb[0]], [X, nb[0], nb[1]], [top[1], top[2], top[3]]):
    label = "defaults {%s}" % ",".join(basket)
    w = expected(B, basket)
    got = rec_json(data + ["--items", ",".join(basket), "--explain", "--k",
                           "15"], label)
    check_ranking(label, B, got, w, 15, 1e-12)
    check_explain(label, B, got, w, basket)
    ck.check(not set(g["item"] for g in got) & set(basket),
             "%s: a basket item came back" % label)

# -- customer scope ----------------------------------------------------------------------
Xc = sorted(C.count, key=lambda a: (-C.count[a], C.ids[a]))[0]
w = expected(C, [Xc])
got = rec_json(data + ["--scope", "customer", "--items", Xc, "--explain",
                       "--k", "12"], "customer scope")
check_ranking("customer scope {%s}" % Xc, C, got, w, 12, 1e-12)
check_explain("customer scope {%s}" % Xc, C, got, w, [Xc])
got = rec_json(data + ["--plugin-opt", "copurchase.scope=customer", "--items",
                       Xc, "--k", "12"], "copurchase.scope=customer")
check_ranking("copurchase.scope=customer {%s}" % Xc, C, got, w, 12, 1e-12)

# -- names with commas, quotes, escapes (tiny files: every pair counted) ---------------
q = ck.data("cli", "quoted_baskets.csv")
Q = xscli.read_baskets(q)
for items, basket in (('"a,b"', ["a,b"]),
                      ('"a,b",c', ["a,b", "c"]),
                      ('c,"say ""hi"""', ["c", 'say "hi"']),
                      ('"a,b","a,b"', ["a,b"])):
    label = "quoted --items %s" % items
    w = expected(Q, basket, min_count=1)
    got = rec_json(["--baskets", q, "--items", items, "--explain",
                    "--min-count", "1"], label)
    check_ranking(label, Q, got, w, 10, 1e-12)
    check_explain(label, Q, got, w, basket)
    rc, out, err = ck.expect(["recommend", "--baskets", q, "--items", items],
                             0, label=label)
    ck.check("unknown item" not in err, "%s: %s" % (label, err))

odd = ck.write("odd.csv", '"tab\there","back\\\\slash",caf\u00e9,"new\nline"\n'
               'caf\u00e9,"tab\there"\n"ctl\x01x",caf\u00e9\n')
O = xscli.read_baskets(odd)
got = rec_json(["--baskets", odd, "--items", "caf\u00e9", "--k", "10",
                "--explain", "--min-count", "1"], "odd names")
check_ranking("odd names", O, got, expected(O, ["caf\u00e9"], min_count=1),
              10, 1e-12)
ck.check(set(g["item"] for g in got) ==
         {"tab\there", "back\\\\slash", "new\nline", "ctl\x01x"},
         "odd names: %r" % [g["item"] for g in got])

ck.finish()
