"""split.py -- what every peer in bench/peers shares: reading a split saved
by `xsell eval --save-split DIR`, the requests `xsell eval` makes of it
(customer and basket protocols), top-k with xsell's tie order, and the
metrics of README "Metrics".  Nothing here comes from xsell's code: it is
written from the README and core/offline/eval.c, eval_basket.c.

API (numpy / scipy only):

  ap = arg_parser()
      argparse with dir, --protocol, --k, --min-count, --max-basket.

  sp = load(dir)
      sp.train, sp.test: dict column -> list (customer, item and, when the
      files have them, timestamp (int), weight (float), order, hidden
      (test, basket protocol: 1 on the hidden item's rows));
      sp.items: train item name -> index, by first appearance in
      train.csv (xsell's engine ids: its ties go to the lower id);
      sp.item_names, sp.n_items.
  X, groups = transactions(sp, by, max_basket=1000)
      binary csr transactions x items of the train side, by "order" or
      "customer"; each transaction keeps its first max_basket distinct
      items in file order, as xsell's tables do (0: no bound); groups:
      transaction name -> row.
  A, users = affinity(sp, half_life_days=None)
      csr customers x items: sum over the customer's train events of
      weight x 2^(-(t_ref - t) / half life), t_ref the latest train event
      (no decay when half_life_days is None or there is no timestamp;
      weight 1 without a weight column); users: customer -> row.
  rq = requests(sp, protocol)                  protocol: basket | customer
      rq.given: per request, the sorted distinct train item indices it is
      asked with (basket: the held-out basket's other items known to train;
      customer: the customer's train items), also the excluded items;
      rq.customers: per request the customer (customer protocol) or None;
      rq.relevant: per request a set of item names (items unknown to
      train count: no model can find them); rq.skipped_cold,
      rq.skipped_no_relevant as `xsell eval` reports them.
      rq.query(M=None, rows=None): csr requests x items: basket protocol,
      the binary request items (M None); customer protocol, the rows of
      M (rows: customer -> row of M, e.g. from affinity() or
      transactions(sp, "customer")).
  result = evaluate(sp, rq, score, k, block=2048)
      score(first, last) -> dense array (last - first) x n_items, the
      scores of requests first..last-1; the requests' own items are
      excluded, only scores > 0 and finite count, top k by score, ties
      by the lower item index; returns the dict of README "Metrics"
      (precision, recall, ndcg, map, mrr, hit_rate, coverage, users,
      skipped_cold, skipped_no_relevant, k).
  similarity(X, measure, block=1024, neighbours=0, min_count=1)
      dense items x items similarity of the co-occurrence counts C = X^T X
      (diagonal 0): jaccard C/(Ci+Cj-C), cosine C/sqrt(Ci Cj), lift
      C/(Ci Cj) (SAR's; xsell's lift is this times N: same ranking), count;
      pairs with C < min_count are 0; neighbours > 0 keeps each row's
      best `neighbours` entries (ties: lower index), the rest 0.
"""
import argparse
import csv
import math
import os
import sys

import numpy as np
import scipy.sparse as sp_


class Split:
    pass


def arg_parser(description=None):
    """The options every co-occurrence peer takes: the split directory,
    --protocol, --k, --min-count and --max-basket (xsell's bound)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("dir")
    ap.add_argument("--protocol", default="customer",
                    choices=("customer", "basket"))
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--min-count", type=int, default=1,
                    help="pairs seen in fewer transactions count 0")
    ap.add_argument("--max-basket", type=int, default=1000,
                    help="transaction bound as xsell's (0: none)")
    return ap


def _read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        sys.exit("%s: empty" % path)
    head, rows = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(head)}
    for need in ("customer", "item"):
        if need not in col:
            sys.exit("%s: no '%s' column" % (path, need))
    out = {}
    conv = {"timestamp": int, "weight": float, "hidden": int}
    for name, i in col.items():
        f = conv.get(name, str)
        out[name] = [f(r[i]) for r in rows]
    out["n"] = len(rows)
    return out


def load(d):
    s = Split()
    s.train = _read(os.path.join(d, "train.csv"))
    s.test = _read(os.path.join(d, "test.csv"))
    s.items = {}
    for it in s.train["item"]:
        if it not in s.items:
            s.items[it] = len(s.items)
    s.item_names = list(s.items)
    s.n_items = len(s.items)
    return s


def transactions(s, by, max_basket=1000):
    if by not in s.train:
        sys.exit("the split has no '%s' column (basket protocol: save it "
                 "with --split basket)" % by)
    groups, rows, cols, seen = {}, [], [], set()
    count = {}
    for g, it in zip(s.train[by], s.train["item"]):
        r = groups.setdefault(g, len(groups))
        j = s.items[it]
        if (r, j) in seen:
            continue
        if max_basket and count.get(r, 0) >= max_basket:
            continue
        seen.add((r, j))
        count[r] = count.get(r, 0) + 1
        rows.append(r)
        cols.append(j)
    X = sp_.csr_matrix((np.ones(len(rows)), (rows, cols)),
                       shape=(len(groups), s.n_items))
    return X, groups


def affinity(s, half_life_days=None):
    t = s.train
    users = {}
    ui = np.array([users.setdefault(c, len(users)) for c in t["customer"]],
                  dtype=np.int64)
    ii = np.array([s.items[i] for i in t["item"]], dtype=np.int64)
    w = np.array(t["weight"] if "weight" in t else [1.0] * t["n"],
                 dtype=np.float64)
    if half_life_days is not None and "timestamp" in t and t["n"]:
        ts = np.array(t["timestamp"], dtype=np.float64)
        w = w * np.exp2(-(ts.max() - ts) / (half_life_days * 86400.0))
    A = sp_.csr_matrix((w, (ui, ii)), shape=(len(users), s.n_items))
    return A, users  # csr sums duplicates


class Requests:
    def query(self, M=None, rows=None):
        if self.protocol == "basket":
            ind = [j for g in self.given for j in g]
            ptr = np.cumsum([0] + [len(g) for g in self.given])
            return sp_.csr_matrix((np.ones(len(ind)), ind, ptr),
                                  shape=(len(self.given), self.n_items))
        idx = np.array([rows[c] for c in self.customers], dtype=np.int64)
        return sp_.csr_matrix(M)[idx]


def requests(s, protocol):
    rq = Requests()
    rq.protocol, rq.n_items = protocol, s.n_items
    rq.given, rq.customers, rq.relevant = [], [], []
    rq.skipped_cold = rq.skipped_no_relevant = 0
    t = s.test
    if protocol == "basket":
        if "order" not in t or "hidden" not in t:
            sys.exit("basket protocol: test.csv needs order and hidden "
                     "columns (xsell eval --split basket --save-split)")
        baskets = {}  # order -> [hidden item, other items]; file order
        for o, it, h in zip(t["order"], t["item"], t["hidden"]):
            b = baskets.setdefault(o, [None, []])
            if h:
                b[0] = it
            else:
                b[1].append(it)
        for o, (hid, others) in baskets.items():
            if hid is None:
                rq.skipped_no_relevant += 1  # one distinct item
                continue
            g = sorted({s.items[i] for i in others if i in s.items})
            if not g:
                rq.skipped_cold += 1
                continue
            rq.given.append(np.array(g, dtype=np.int64))
            rq.customers.append(None)
            rq.relevant.append({hid})
    elif protocol == "customer":
        owned = {}
        for c, it in zip(s.train["customer"], s.train["item"]):
            owned.setdefault(c, set()).add(s.items[it])
        test = {}
        for c, it in zip(t["customer"], t["item"]):
            test.setdefault(c, set()).add(it)
        for c, its in test.items():
            if c not in owned:
                rq.skipped_cold += 1
                continue
            R = {i for i in its if s.items.get(i) not in owned[c]}
            if not R:
                rq.skipped_no_relevant += 1
                continue
            rq.given.append(np.array(sorted(owned[c]), dtype=np.int64))
            rq.customers.append(c)
            rq.relevant.append(R)
    else:
        sys.exit("protocol must be basket or customer, not %r" % protocol)
    return rq


def top_k(row, k):
    """Indices of the k best entries > 0 of row (excluded ones set to
    -inf beforehand), best first, ties by the lower index."""
    ok = np.flatnonzero(row > 0)
    if len(ok) > k:
        kth = np.partition(row[ok], len(ok) - k)[len(ok) - k]
        ok = ok[row[ok] >= kth]
    order = np.lexsort((ok, -row[ok]))  # score desc, then index asc
    return ok[order][:k]


def user_metrics(recs, R, k):
    hits, dcg, sum_prec, rr = 0, 0.0, 0.0, 0.0
    for r, name in enumerate(recs[:k], 1):
        if name in R:
            if not hits:
                rr = 1.0 / r
            hits += 1
            dcg += 1.0 / math.log2(r + 1)
            sum_prec += hits / r
    idcg = sum(1.0 / math.log2(r + 1) for r in range(1, min(k, len(R)) + 1))
    return dict(precision=hits / k, recall=hits / len(R), ndcg=dcg / idcg,
                map=sum_prec / len(R), mrr=rr, hit_rate=1.0 if hits else 0.0)


def evaluate(s, rq, score, k, block=2048):
    keys = ("precision", "recall", "ndcg", "map", "mrr", "hit_rate")
    sums = dict.fromkeys(keys, 0.0)
    seen = set()
    n = len(rq.given)
    for b0 in range(0, n, block):
        b1 = min(n, b0 + block)
        S = np.array(score(b0, b1), dtype=np.float64)
        for r in range(b0, b1):
            row = S[r - b0]
            row[~np.isfinite(row)] = 0.0
            row[rq.given[r]] = -np.inf
            recs = top_k(row, k)
            seen.update(recs.tolist())
            m = user_metrics([s.item_names[j] for j in recs],
                             rq.relevant[r], k)
            for key in keys:
                sums[key] += m[key]
    out = {key: (v / n if n else 0.0) for key, v in sums.items()}
    out["coverage"] = len(seen) / s.n_items if s.n_items else 0.0
    out["users"] = n
    out["skipped_cold"] = rq.skipped_cold
    out["skipped_no_relevant"] = rq.skipped_no_relevant
    out["k"] = k
    return out


def similarity(X, measure, block=1024, neighbours=0, min_count=1):
    X = sp_.csc_matrix(X)
    ni = X.shape[1]
    occ = np.asarray(X.sum(axis=0)).ravel()
    Xt = X.T.tocsr()
    S = np.zeros((ni, ni))
    for j0 in range(0, ni, block):
        j1 = min(ni, j0 + block)
        C = (Xt @ X[:, j0:j1]).toarray()  # ni x block co-occurrence
        C[np.arange(j0, j1), np.arange(j1 - j0)] = 0.0  # no self pairs
        C[C < min_count] = 0.0
        a, b = occ[:, None], occ[None, j0:j1]
        if measure == "jaccard":
            den = a + b - C
        elif measure == "cosine":
            den = np.sqrt(a * b)
        elif measure == "lift":
            den = a * b
        elif measure == "count":
            den = np.ones_like(C)
        else:
            sys.exit("unknown similarity %r" % measure)
        S[:, j0:j1] = np.divide(C, den, out=np.zeros_like(C), where=C > 0)
    if neighbours:  # rows capped to their best `neighbours`
        for i in range(ni):
            row = S[i]
            nz = np.flatnonzero(row > 0)
            if len(nz) > neighbours:
                keep = nz[np.lexsort((nz, -row[nz]))[:neighbours]]
                capped = np.zeros(ni)
                capped[keep] = row[keep]
                S[i] = capped
    return S


def emit(result, **extra):
    import json
    result = dict(result)
    result.update(extra)
    print(json.dumps(result))
