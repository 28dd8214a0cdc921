#!/usr/bin/python3
"""ease.py -- the numpy EASE peer of xsell's `ease` plugin.

Reads a split saved by `xsell eval --save-split DIR` (DIR/train.csv,
DIR/test.csv), fits EASE the way Steck's reference code does

    G = X^T X;  G[diag] += lambda;  P = np.linalg.inv(G);
    B = P / (-np.diag(P));  B[diag] = 0

on the transaction x item matrix X of the train side (a transaction: an
order for --protocol basket, a customer for --protocol customer; each
transaction feeds its first --max-basket distinct items in file order, as
xsell's tables do): binary (--weights binary, the default), or with
--weights event X_ti = the sum of train.csv's `weight` column over item
i's rows in transaction t (the plugin's ease.weights=event), scores the test side exactly as `xsell
eval` does, and prints one JSON object: hit_rate, ndcg, precision, recall,
mrr, map, users, skipped_cold, skipped_no_relevant, items, fit_seconds
(the inverse and B, not reading the files), lambda.

basket protocol: every held-out order with >= 2 distinct items; its hidden
item (test.csv `hidden` = 1) is the one relevant item; the request is the
order's other distinct items that occur in train (none: skipped_cold); a
one-item order is skipped_no_relevant.  Scores = the sum of the request
items' rows of B; request items are never recommended.

customer protocol: every test customer with train events; relevant = its
distinct test items not bought in train (none: skipped_no_relevant);
scores = the sum of its train items' rows of B; train items are excluded.

Metrics as README "Metrics": precision = hits / k, recall = hits / |R|,
ndcg binary with IDCG over min(k, |R|), map = sum of precision@r at hit
ranks / |R|, mrr = 1 / first hit rank, hit_rate = share with a hit.
Ties rank by the item's first appearance in train.csv (xsell: lower id,
ids by first appearance), which only matters for exact ties.

Usage: ease.py SPLIT_DIR --protocol basket|customer [--lambda 100] [--k 10]
                         [--max-basket 1000] [--weights binary|event]
Only Debian's python3-numpy and python3-scipy are needed.
"""
import argparse
import csv
import json
import math
import os
import sys
import time

import numpy as np
import scipy.sparse as sp


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("split_dir")
    ap.add_argument("--protocol", choices=("basket", "customer"),
                    required=True)
    ap.add_argument("--lambda", dest="lam", type=float, default=100.0)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--max-basket", type=int, default=1000)
    ap.add_argument("--weights", choices=("binary", "event"),
                    default="binary")
    a = ap.parse_args()

    train = read_rows(os.path.join(a.split_dir, "train.csv"))
    test = read_rows(os.path.join(a.split_dir, "test.csv"))
    key = "order" if a.protocol == "basket" else "customer"

    # items by first appearance in train; transactions' distinct items,
    # the first max_basket of each
    item_ix = {}
    tx_items = {}
    for r in train:
        it = r["item"]
        if it not in item_ix:
            item_ix[it] = len(item_ix)
        lst = tx_items.setdefault(r[key], {})  # dicts keep insertion order
        w = float(r.get("weight") or 1) if a.weights == "event" else 1.0
        j = item_ix[it]
        if j in lst:
            if a.weights == "event":
                lst[j] += w
        elif len(lst) < a.max_basket:
            lst[j] = w
    n = len(item_ix)
    rows, cols, vals = [], [], []
    for t, lst in enumerate(tx_items.values()):
        rows.extend([t] * len(lst))
        cols.extend(lst)
        vals.extend(lst.values())
    X = sp.csr_matrix((np.array(vals, dtype=np.float64), (rows, cols)),
                      shape=(len(tx_items), n))

    t0 = time.perf_counter()
    G = (X.T @ X).toarray().astype(np.float64)
    G[np.diag_indices(n)] += a.lam
    P = np.linalg.inv(G)
    B = P / (-np.diag(P))
    B[np.diag_indices(n)] = 0.0
    fit_seconds = time.perf_counter() - t0

    k = a.k
    tot = dict(precision=0.0, recall=0.0, ndcg=0.0, map=0.0, mrr=0.0,
               hit_rate=0.0)
    users = skipped_cold = skipped_norel = 0

    def score(given, excluded, relevant):
        s = B[given].sum(axis=0)
        s[excluded] = -np.inf
        # top k by score, ties by lower index (stable sort on -s)
        top = np.argsort(-s, kind="stable")[:k]
        top = [int(j) for j in top if np.isfinite(s[j])]
        hits = [r + 1 for r, j in enumerate(top) if j in relevant]
        nr = len(relevant)
        tot["precision"] += len(hits) / k
        tot["recall"] += len(hits) / nr
        idcg = sum(1 / math.log2(r + 1) for r in range(1, min(k, nr) + 1))
        tot["ndcg"] += sum(1 / math.log2(r + 1) for r in hits) / idcg
        tot["map"] += sum((h + 1) / r for h, r in enumerate(hits)) / nr
        tot["mrr"] += 1 / hits[0] if hits else 0.0
        tot["hit_rate"] += 1.0 if hits else 0.0

    if a.protocol == "basket":
        baskets = {}
        for r in test:  # distinct items in first-seen order, the hidden one
            b = baskets.setdefault(r["order"], {"items": [], "hidden": None})
            if r["item"] not in b["items"]:
                b["items"].append(r["item"])
            if r.get("hidden") == "1":
                b["hidden"] = r["item"]
        for b in baskets.values():
            if len(b["items"]) < 2 or b["hidden"] is None:
                skipped_norel += 1
                continue
            given = sorted({item_ix[i] for i in b["items"]
                            if i != b["hidden"] and i in item_ix})
            if not given:
                skipped_cold += 1
                continue
            # a hidden item never seen in train is a sure miss
            rel = {item_ix[b["hidden"]]} if b["hidden"] in item_ix \
                else {-1}
            users += 1
            score(given, given, rel)
    else:
        owned = {}
        for r in train:
            owned.setdefault(r["customer"], set()).add(item_ix[r["item"]])
        tests = {}
        for r in test:
            tests.setdefault(r["customer"], set()).add(r["item"])
        for c, items in tests.items():
            if c not in owned:
                skipped_cold += 1
                continue
            mine = owned[c]
            # relevant: test items not bought in train (unknown ones too)
            rel = set()
            unknown = 0
            for i in items:
                if i in item_ix:
                    if item_ix[i] not in mine:
                        rel.add(item_ix[i])
                else:
                    unknown += 1
                    rel.add(-1 - unknown)
            if not rel:
                skipped_norel += 1
                continue
            users += 1
            given = sorted(mine)
            score(given, given, rel)

    out = {m: v / users for m, v in tot.items()} if users else tot
    out.update(users=users, skipped_cold=skipped_cold,
               skipped_no_relevant=skipped_norel, items=n,
               fit_seconds=fit_seconds, weights=a.weights,
               **{"lambda": a.lam})
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
