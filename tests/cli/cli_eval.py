"""cli_eval.py -- `xsell eval` end to end, every number recomputed here in
plain Python (nothing shared with xsell).

    cli_eval.py XSELL          the fixture tests/data/eval/events.csv
    cli_eval.py XSELL ml       MovieLens (label data; exit 77 when
                               $XS_SHARED_DATA/ml-latest-small-ratings.csv
                               is absent)

Fixture:
  - --save-split writes train.csv + test.csv that partition the input (the
    multiset of rows), in file order, header customer,item,timestamp,weight;
  - stratified: round(0.75 n) of each customer's events in train (one-event
    customers all in train); same seed, same files; another seed, others;
  - leave-last: the held-out events are exactly each customer's latest
    (ties: the later line), computed here;
  - metrics: recency with SAR's settings (affinity = weight x
    2^(-(t_ref - t)/30 days),
    jaccard of customer co-occurrence, A x S, owned items dropped) and
    popular (distinct customers per item) recomputed on the saved train and
    scored with the documented definitions; exact to 1e-9;
  - errors: temporal without a timestamp column (exit 2 naming the column),
    empty test set (exit 1), bad --ratio/--k/--split (exit 2), --baskets.
ml: recency with similarity=jaccard min_count=1 (and --max-basket 100000:
the peer pairs every item of a customer) equals bench/peers/sar.py
on the same saved split; recency's defaults (cosine, pairs seen twice) beat
it on ndcg and map.
"""
import csv
import json
import math
import os
import subprocess
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_eval")
KEYS = ["precision", "recall", "ndcg", "map", "hit_rate", "coverage"]


# recency with SAR's settings (its defaults are cosine, pairs seen twice and
# a half-life of 365 days; jaccard, 1 and 30 days are SAR exactly)
SAR = ["--plugin-opt", "recency.similarity=jaccard",
       "--plugin-opt", "recency.min_count=1",
       "--plugin-opt", "recency.half_life=30"]

def read_rows(path):
    with open(path, newline="") as f:
        r = list(csv.reader(f))
    return r[0], r[1:]


def sar(train_rows, k, half_life_days=30.0):
    """Top-k per customer by SAR (jaccard), owned items dropped; ties by
    first appearance of the item in train."""
    order = {}
    for c, i, t, w in train_rows:
        order.setdefault(i, len(order))
    t_ref = max(int(t) for _, _, t, _ in train_rows)
    aff = defaultdict(lambda: defaultdict(float))
    owners = defaultdict(set)
    for c, i, t, w in train_rows:
        aff[c][i] += float(w) * 2.0 ** (-(t_ref - int(t)) /
                                        (half_life_days * 86400.0))
        owners[i].add(c)
    recs = {}
    for c in aff:
        score = defaultdict(float)
        for i, a in aff[c].items():
            for j in order:
                n_ij = len(owners[i] & owners[j])
                if n_ij:
                    score[j] += a * n_ij / (len(owners[i]) + len(owners[j]) -
                                            n_ij)
        cand = [(-s, order[j], j) for j, s in score.items()
                if j not in aff[c] and s > 0]
        recs[c] = [j for _, _, j in sorted(cand)[:k]]
    return recs


def popular(train_rows, k):
    order, owners, bought = {}, defaultdict(set), defaultdict(set)
    for c, i, _, _ in train_rows:
        order.setdefault(i, len(order))
        owners[i].add(c)
        bought[c].add(i)
    ranked = sorted(order, key=lambda i: (-len(owners[i]), order[i]))
    return {c: [i for i in ranked if i not in bought[c]][:k] for c in bought}


def metrics(train_rows, test_rows, recs, k):
    train = defaultdict(set)
    items = set()
    for c, i, _, _ in train_rows:
        train[c].add(i)
        items.add(i)
    test = defaultdict(set)
    for c, i, _, _ in test_rows:
        test[c].add(i)
    s = dict.fromkeys(KEYS[:-1], 0.0)
    users, shown = 0, set()
    for c in test:
        rel = test[c] - train[c]
        if c not in train or not rel:
            continue
        users += 1
        hits, dcg, ap = 0, 0.0, 0.0
        for r, i in enumerate(recs.get(c, [])[:k], 1):
            shown.add(i)
            if i in rel:
                hits += 1
                dcg += 1 / math.log2(r + 1)
                ap += hits / r
        idcg = sum(1 / math.log2(r + 1) for r in range(1, min(k, len(rel)) + 1))
        s["precision"] += hits / k
        s["recall"] += hits / len(rel)
        s["ndcg"] += dcg / idcg
        s["map"] += ap / len(rel)
        s["hit_rate"] += hits > 0
    out = {m: v / users for m, v in s.items()}
    out["coverage"] = len(shown) / len(items)
    out["users"] = users
    return out


def compare(got, want, what):
    if got is None:
        return
    ck.check(want["users"] > 0 and want["hit_rate"] > 0,
             "%s: degenerate case %r" % (what, want))
    for m in KEYS:
        ck.check(abs(got[m] - want[m]) <= 1e-9,
                 "%s: %s = %r, want %r" % (what, m, got[m], want[m]))
    ck.check(got["users"] == want["users"], "%s: users %r, want %r"
             % (what, got["users"], want["users"]))


def fixture():
    events = ck.data("eval", "events.csv")
    head, rows = read_rows(events)
    ck.check(head == ["customer", "item", "timestamp", "weight"], "fixture")
    base = ["eval", "--events", events, "--format", "json"]

    def split(name, *extra):
        d = os.path.join(ck.tmp, name)
        got = ck.json_of(base + ["--save-split", d] + list(extra))
        th, tr = read_rows(os.path.join(d, "train.csv"))
        eh, te = read_rows(os.path.join(d, "test.csv"))
        ck.check(th == head and eh == head, "%s: headers %r %r"
                 % (name, th, eh))
        # weights come back as %.17g: normalise for comparison
        norm = lambda rs: [(c, i, t, float(w)) for c, i, t, w in rs]
        ck.check(sorted(norm(tr) + norm(te)) == sorted(norm(rows)),
                 "%s: train + test != input" % name)
        ck.check(len(tr) + len(te) == len(rows) and te and tr,
                 "%s: sizes %d + %d" % (name, len(tr), len(te)))
        # file order kept on each side
        pos = {r: n for n, r in enumerate(norm(rows))}
        for side in (tr, te):
            p = [pos[r] for r in norm(side)]
            ck.check(p == sorted(p), "%s: file order" % name)
        return got, tr, te, d

    # stratified: per-customer counts, determinism
    got, tr, te, d42 = split("s42", "--seed", "42", "--plugin", "recency",
                             *SAR,
                             "--k", "3")
    n = defaultdict(int)
    ntr = defaultdict(int)
    for r in rows:
        n[r[0]] += 1
    for r in tr:
        ntr[r[0]] += 1
    for c in n:
        want = n[c] if n[c] < 2 else math.floor(0.75 * n[c] + 0.5)
        ck.check(ntr[c] == want, "stratified: %s has %d train of %d, want %d"
                 % (c, ntr[c], n[c], want))
    compare(got, metrics(tr, te, sar(tr, 3), 3), "stratified recency k=3")
    got2, tr2, te2, _ = split("s42b", "--seed", "42", "--plugin", "recency",
                              *SAR,
                              "--k", "3")
    ck.check(tr2 == tr and te2 == te and got2 == got,
             "same seed: same split and numbers")
    _, tr3, te3, _ = split("s7", "--seed", "7")
    ck.check(tr3 != tr, "another seed: another split")

    # leave-last, computed here; popular and recency scored here
    got, tr, te, _ = split("ll", "--split", "leave-last", "--plugin",
                           "popular", "--k", "2")
    last = {}
    for n_, r in enumerate(rows):
        if r[0] not in last or int(r[2]) >= int(rows[last[r[0]]][2]):
            last[r[0]] = n_
    want_te = [r for n_, r in enumerate(rows)
               if last[r[0]] == n_ and n[r[0]] > 1]
    ck.check([tuple(r[:3]) for r in te] == [tuple(r[:3]) for r in want_te],
             "leave-last: held out %r, want %r" % (te, want_te))
    compare(got, metrics(tr, te, popular(tr, 2), 2), "leave-last popular k=2")
    got = ck.json_of(base + ["--split", "leave-last", "--plugin", "recency",
                             *SAR,
                             "--k", "4"])
    compare(got, metrics(tr, te, sar(tr, 4), 4), "leave-last recency k=4")

    # temporal: one cut, every test event after every train event
    got, tr, te, _ = split("tm", "--split", "temporal", "--ratio", "0.6",
                           "--plugin", "recency", *SAR, "--k", "3")
    ck.check(max(int(r[2]) for r in tr) < min(int(r[2]) for r in te),
             "temporal: test after train")
    if got:
        compare(got, metrics(tr, te, sar(tr, 3), 3), "temporal recency k=3")
        ck.check(got["skipped_cold"] == len({r[0] for r in te} -
                                            {r[0] for r in tr}),
                 "temporal: skipped_cold %r" % got["skipped_cold"])

    # table format names every metric
    ck.expect(["eval", "--events", events, "--plugin", "popular"], 0,
              stdout_has=KEYS + ["users"])

    # errors
    ck.expect(["eval", "--events", ck.data("eval", "no_time.csv"),
               "--columns", "customer=user,item=product", "--split",
               "temporal"], 2, stderr_has="'timestamp'")
    ck.expect(["eval", "--events", ck.data("eval", "no_time.csv"),
               "--columns", "customer=user,item=product,timestamp=when",
               "--split", "temporal"], 1, stderr_has="when")
    ck.expect(["eval", "--events", ck.data("eval", "single.csv")], 1,
              stderr_has="test set is empty")
    for bad in (["--ratio", "1"], ["--ratio", "0"], ["--ratio", "x"],
                ["--k", "0"], ["--k", "1001"], ["--split", "random"],
                ["--seed", "-1"], ["--format", "csv"]):
        ck.expect(["eval", "--events", events] + bad, 2,
                  stderr_has="xsell eval: " + bad[0])
    ck.expect(["eval", "--baskets", events], 2, stderr_has="--events")
    ck.expect(["eval"], 2, stderr_has="--events")
    ck.expect(["eval", "--help"], 0, stdout_has=["--split", "--save-split"])


def movielens():
    path = os.path.join(os.environ.get("XS_SHARED_DATA", ""),
                        "ml-latest-small-ratings.csv")
    if not os.path.isfile(path):
        ck.skip("%s not found (set XS_SHARED_DATA)" % path)
    d = os.path.join(ck.tmp, "ml")
    # the peer pairs every item of a customer: lift the bound (--max-basket,
    # default 1000, which some MovieLens customers pass)
    base = ["eval", "--events", path, "--columns",
            "customer=userId,item=movieId,weight=rating", "--seed", "42",
            "--k", "10", "--format", "json", "--max-basket", "100000"]
    sar_x = ck.json_of(base + ["--plugin", "recency", *SAR, "--save-split", d])
    cos = ck.json_of(base + ["--plugin", "recency"])  # the defaults
    p = subprocess.run(["/usr/bin/python3",
                        ck.source("bench", "peers", "sar.py"), d,
                        "--protocol", "customer", "--max-basket", "0",
                        "--k", "10"], capture_output=True, text=True,
                       timeout=600)
    ck.check(p.returncode == 0, "sar.py: %s" % p.stderr)
    peer = json.loads(p.stdout) if p.returncode == 0 else None
    if sar_x and peer:
        for m in KEYS:
            ck.check(abs(sar_x[m] - peer[m]) <= 1e-9, "recency = SAR peer: "
                     "%s %r vs %r" % (m, sar_x[m], peer[m]))
        ck.check(sar_x["users"] == peer["users"] == 610, "users")
    if cos and peer:
        for m in ("ndcg", "map"):
            ck.check(cos[m] > peer[m], "the defaults beat SAR on %s: %r vs %r"
                     % (m, cos[m], peer[m]))


if ck.args and ck.args[0] == "ml":
    movielens()
else:
    fixture()
ck.finish()
