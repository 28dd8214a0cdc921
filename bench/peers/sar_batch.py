"""sar_batch.py -- the SAR reference peer for batch scoring: top-k for every
customer of an events file, written as CSV customer,rank,item,score.

    /usr/bin/python3 bench/peers/sar_batch.py EVENTS.csv OUT.csv [--k 10]
        [--customer COL] [--item COL] [--weight COL] [--timestamp COL]
        [--half-life DAYS] [--block N]

SAR as bench/peers/sar_scipy.py computes it (affinity = weight x
2^(-(t_ref - t)/half_life), t_ref the latest event; jaccard similarity of
the binary customer-item co-occurrence; scores = A S; seen items removed),
over the whole file: S is built block by block of items (dense blocks, kept
sparse), scores computed for blocks of customers.  Prints one JSON line:
customers, seconds (load, model, scoring), peak RSS.
"""
import argparse
import csv
import json
import resource
import sys
import time

import numpy as np
import scipy.sparse as sp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("events")
    ap.add_argument("out")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--customer", default="customer")
    ap.add_argument("--item", default="item")
    ap.add_argument("--weight", default="weight")
    ap.add_argument("--timestamp", default="timestamp")
    ap.add_argument("--half-life", type=float, default=30.0)
    ap.add_argument("--block", type=int, default=1024)
    a = ap.parse_args()
    t0 = time.monotonic()
    users, items, ui, ii, wt, ts = {}, {}, [], [], [], []
    with open(a.events, newline="") as f:
        r = csv.reader(f)
        head = next(r)
        col = {n: i for i, n in enumerate(head)}
        cc, ic = col[a.customer], col[a.item]
        wc, tc = col.get(a.weight), col.get(a.timestamp)
        for row in r:
            ui.append(users.setdefault(row[cc], len(users)))
            ii.append(items.setdefault(row[ic], len(items)))
            wt.append(float(row[wc]) if wc is not None else 1.0)
            ts.append(float(row[tc]) if tc is not None else 0.0)
    nu, ni = len(users), len(items)
    ui = np.array(ui, dtype=np.int64)
    ii = np.array(ii, dtype=np.int64)
    t = np.array(ts)
    w = np.array(wt) * np.exp2(-(t.max() - t) / (a.half_life * 86400.0))
    t1 = time.monotonic()
    A = sp.csr_matrix((w, (ui, ii)), shape=(nu, ni))
    B = sp.csr_matrix((np.ones(len(ui)), (ui, ii)), shape=(nu, ni))
    B.data[:] = 1.0
    Bc = B.tocsc()
    Bt = B.T.tocsr()
    occ = np.asarray(B.sum(axis=0)).ravel()
    blocks = []
    for j0 in range(0, ni, a.block):
        j1 = min(ni, j0 + a.block)
        C = (Bt @ Bc[:, j0:j1]).toarray()
        den = occ[:, None] + occ[None, j0:j1] - C
        S = np.divide(C, den, out=np.zeros_like(C), where=C > 0)
        blocks.append(sp.csr_matrix(S))
    S = sp.hstack(blocks).tocsr()
    del blocks
    t2 = time.monotonic()
    names_u = list(users)
    names_i = np.array(list(items), dtype=object)
    k = a.k
    with open(a.out, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["customer", "rank", "item", "score"])
        for u0 in range(0, nu, a.block):
            u1 = min(nu, u0 + a.block)
            sc = (A[u0:u1] @ S).toarray()
            seen = B[u0:u1]
            sc[seen.nonzero()] = -np.inf
            top = np.argpartition(-sc, min(k, ni - 1), axis=1)[:, :k]
            for r_ in range(u1 - u0):
                cand = top[r_]
                cand = cand[np.lexsort((cand, -sc[r_, cand]))]
                rank = 0
                for j in cand:
                    if sc[r_, j] > 0:
                        rank += 1
                        wr.writerow([names_u[u0 + r_], rank, names_i[j],
                                     repr(float(sc[r_, j]))])
    t3 = time.monotonic()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"peer": "sar_batch", "customers": nu, "items": ni,
                      "load_s": round(t1 - t0, 3), "model_s": round(t2 - t1, 3),
                      "scoring_s": round(t3 - t2, 3),
                      "wall_s": round(t3 - t0, 3), "peak_rss_mb": round(rss, 1)}))


if __name__ == "__main__":
    sys.exit(main())
