#!/usr/bin/python3
"""sar_scipy.py -- reference peer for `xsell eval`: SAR (Smart Adaptive
Recommendations) written from its definition with scipy sparse matrices,
scored with the same metric definitions as xsell (nothing shared with
xsell's code).

    /usr/bin/python3 bench/quality/sar_scipy.py DIR [--k 10] [--half-life 30]

DIR holds train.csv and test.csv as written by `xsell eval --save-split DIR`
(header customer,item[,timestamp][,weight]).

Model, on train only:
  affinity   A[u,i] = sum over u's events on i of w x 2^(-(t_ref - t) / h),
             w the weight (1 without a weight column), h the half-life
             (days), t_ref the latest train event (no decay without
             timestamps);
  similarity C = B^T B over the binary user-item matrix B (co-occurrence
             counts), S[i,j] = C[i,j] / (C[i,i] + C[j,j] - C[i,j]) (jaccard);
  scores     A S, items the user has in train removed, only scores > 0,
             top k by score (ties: the item seen first in train.csv).

Metrics, over users with train events and at least one relevant item
(relevant = distinct test items the user has not in train):
  precision = hits / k; recall = hits / |R|; ndcg = DCG / IDCG with
  DCG = sum over hit ranks r of 1/log2(r+1), IDCG over ranks 1..min(k,|R|);
  map = mean of (sum over hit ranks r of hits_so_far / r) / |R|;
  hit_rate = share of users with a hit; coverage = distinct recommended
  items / items in train.  Printed as one JSON object.
"""
import argparse
import csv
import json
import math
import os
import sys

import numpy as np
import scipy.sparse as sp


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    head, rows = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(head)}
    for need in ("customer", "item"):
        if need not in col:
            sys.exit("%s: no '%s' column" % (path, need))
    cu = [r[col["customer"]] for r in rows]
    it = [r[col["item"]] for r in rows]
    ts = ([int(r[col["timestamp"]]) for r in rows] if "timestamp" in col
          else None)
    w = ([float(r[col["weight"]]) for r in rows] if "weight" in col
         else [1.0] * len(rows))
    return cu, it, ts, w


def index(names):
    ids = {}
    for n in names:
        if n not in ids:
            ids[n] = len(ids)
    return ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--half-life", type=float, default=30.0,
                    help="days (default 30)")
    ap.add_argument("--block", type=int, default=1024)
    a = ap.parse_args()
    k = a.k
    cu, it, ts, w = read(os.path.join(a.dir, "train.csv"))
    tcu, tit, _, _ = read(os.path.join(a.dir, "test.csv"))
    users, items = index(cu), index(it)
    nu, ni = len(users), len(items)
    ui = np.array([users[c] for c in cu], dtype=np.int64)
    ii = np.array([items[i] for i in it], dtype=np.int64)
    wt = np.array(w, dtype=np.float64)
    if ts is not None:
        t = np.array(ts, dtype=np.float64)
        wt = wt * np.exp2(-(t.max() - t) / (a.half_life * 86400.0))
    A = sp.csr_matrix((wt, (ui, ii)), shape=(nu, ni))  # sums duplicates
    B = sp.csr_matrix((np.ones(len(ui)), (ui, ii)), shape=(nu, ni))
    B.data[:] = 1.0
    B = B.tocsc()
    occ = np.asarray(B.sum(axis=0)).ravel()  # C[i,i]
    scores = np.zeros((nu, ni))
    Bt = B.T.tocsr()
    for j0 in range(0, ni, a.block):
        j1 = min(ni, j0 + a.block)
        C = (Bt @ B[:, j0:j1]).toarray()  # ni x block co-occurrence
        den = occ[:, None] + occ[None, j0:j1] - C
        S = np.divide(C, den, out=np.zeros_like(C), where=C > 0)
        scores[:, j0:j1] = A @ S

    # relevant items per user (names; items new to train count too)
    train_sets = {}
    for c, i in zip(cu, it):
        train_sets.setdefault(c, set()).add(i)
    rel = {}
    for c, i in zip(tcu, tit):
        rel.setdefault(c, set()).add(i)
    item_names = list(items)
    sums = dict(precision=0.0, recall=0.0, ndcg=0.0, map=0.0, hit_rate=0.0)
    seen = set()
    n_users = skipped_cold = skipped_norel = 0
    for c in sorted(rel):
        if c not in users:
            skipped_cold += 1
            continue
        R = rel[c] - train_sets[c]
        if not R:
            skipped_norel += 1
            continue
        row = scores[users[c]].copy()
        for i in train_sets[c]:
            row[items[i]] = -np.inf
        order = np.argsort(-row, kind="stable")[:k]
        recs = [item_names[j] for j in order if row[j] > 0]
        hits, dcg, sum_prec = 0, 0.0, 0.0
        for r, name in enumerate(recs, 1):
            seen.add(name)
            if name in R:
                hits += 1
                dcg += 1.0 / math.log2(r + 1)
                sum_prec += hits / r
        idcg = sum(1.0 / math.log2(r + 1) for r in range(1, min(k, len(R)) + 1))
        n_users += 1
        sums["precision"] += hits / k
        sums["recall"] += hits / len(R)
        sums["ndcg"] += dcg / idcg
        sums["map"] += sum_prec / len(R)
        sums["hit_rate"] += 1.0 if hits else 0.0
    out = {m: (v / n_users if n_users else 0.0) for m, v in sums.items()}
    out["coverage"] = len(seen) / ni if ni else 0.0
    out["users"] = n_users
    out["skipped_cold"] = skipped_cold
    out["skipped_no_relevant"] = skipped_norel
    out["k"] = k
    out["plugin"] = "sar_scipy"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
