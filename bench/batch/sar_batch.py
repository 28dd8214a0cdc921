"""sar_batch.py -- the SAR reference peer for batch scoring: top-k for every
customer of an events file, written as CSV customer,rank,item,score.

    /usr/bin/python3 bench/batch/sar_batch.py EVENTS.csv OUT.csv [--k 10]
        [--customer COL] [--item COL] [--weight COL] [--timestamp COL]
        [--half-life DAYS] [--block N]

SAR as bench/quality/sar_scipy.py computes it (affinity = weight x
2^(-(t_ref - t)/half_life), t_ref the latest event; jaccard similarity of
the binary customer-item co-occurrence; scores = A S; seen items removed),
over the whole file, sparse throughout: S is built block by block of item
rows (co-occurrence counts turned into jaccard on their non-zeros), scores
computed for blocks of customers and cut to the top k row by row.  Equal
scores are ordered by the item's first appearance in the file.  Prints one
JSON line:
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
    Bt = B.T.tocsr()
    occ = np.asarray(B.sum(axis=0)).ravel()
    blocks = []
    for j0 in range(0, ni, a.block):
        # co-occurrence counts of items j0..j1 with every item, kept sparse
        C = (Bt[j0:min(ni, j0 + a.block)] @ B).tocoo()
        C.data /= occ[C.row + j0] + occ[C.col] - C.data
        blocks.append(C.tocsr())
        del C
    S = sp.vstack(blocks).tocsr()
    del blocks, Bt
    t2 = time.monotonic()
    names_u = list(users)
    names_i = np.array(list(items), dtype=object)
    k = a.k
    with open(a.out, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["customer", "rank", "item", "score"])
        for u0 in range(0, nu, a.block):
            u1 = min(nu, u0 + a.block)
            sc = (A[u0:u1] @ S).tocsr()
            sc = (sc - sc.multiply(B[u0:u1])).tocsr()  # seen items removed
            sc.eliminate_zeros()
            ip, ix, dv = sc.indptr, sc.indices, sc.data
            for r_ in range(u1 - u0):
                lo, hi = ip[r_], ip[r_ + 1]
                if hi == lo:
                    continue
                d, j = dv[lo:hi], ix[lo:hi]
                if hi - lo > k:
                    part = np.argpartition(-d, k - 1)[:k]
                    # the k-th score may be tied outside the partition: take
                    # every candidate at least as large, then order
                    part = np.nonzero(d >= d[part].min())[0]
                    d, j = d[part], j[part]
                order = np.lexsort((j, -d))[:k]
                rank = 0
                for o in order:
                    if d[o] > 0:
                        rank += 1
                        wr.writerow([names_u[u0 + r_], rank, names_i[j[o]],
                                     repr(float(d[o]))])
    t3 = time.monotonic()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"peer": "sar_batch", "customers": nu, "items": ni,
                      "load_s": round(t1 - t0, 3), "model_s": round(t2 - t1, 3),
                      "scoring_s": round(t3 - t2, 3),
                      "wall_s": round(t3 - t0, 3), "peak_rss_mb": round(rss, 1)}))


if __name__ == "__main__":
    sys.exit(main())
