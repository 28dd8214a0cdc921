#!/usr/bin/python3
"""sar.py -- reference peer for `xsell eval`: SAR (Smart Adaptive
Recommendations) written from its definition with numpy / scipy, on a
split saved by `xsell eval --save-split DIR`, scored as xsell scores
(bench/peers/split.py; nothing shared with xsell's code).

    /usr/bin/python3 bench/peers/sar.py DIR [--protocol customer|basket]
        [--k 10] [--similarity jaccard|cosine|lift] [--half-life-days 30]
        [--min-count 1] [--max-basket 1000]

Similarity, on train only: co-occurrence counts C = X^T X over the binary
transaction x item matrix X (customer protocol: a transaction is a
customer; basket protocol: an order), each transaction feeding its first
--max-basket distinct items in file order (xsell's bound, default 1000);
S[i,j] = C[i,j] / (C[i,i] + C[j,j] - C[i,j]) (jaccard), C / sqrt(Cii Cjj)
(cosine) or C / (Cii Cjj) (SAR's lift); pairs with C < --min-count
count 0 (recency's min_count; 1 is SAR).

customer protocol: affinity A[u,i] = sum over u's train events on i of
w x 2^(-(t_ref - t) / h) (w the weight, 1 without a weight column; h the
half-life; t_ref the latest train event; no decay without timestamps);
scores = A S.  Each test customer with train events is asked; relevant =
its test items not bought in train; train items are excluded.

basket protocol: each held-out basket with a hidden item is asked with its
other items known to train; score(c) = sum over those items a of S[a,c];
the hidden item is the one relevant item; the request's items are excluded.
(No time decay: the request has no customer, every item counts 1.)

Top k: scores > 0 only, ties by the item's first appearance in train.csv.
Prints one JSON object with the keys of `xsell eval --format json`.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import split  # noqa: E402


def main():
    ap = split.arg_parser()
    ap.add_argument("--similarity", default="jaccard",
                    choices=("jaccard", "cosine", "lift"))
    ap.add_argument("--half-life-days", "--half-life", type=float,
                    default=30.0, dest="half_life")
    a = ap.parse_args()
    t0 = time.time()
    s = split.load(a.dir)
    by = "order" if a.protocol == "basket" else "customer"
    X, _ = split.transactions(s, by, a.max_basket)
    S = split.similarity(X, a.similarity, min_count=a.min_count)
    rq = split.requests(s, a.protocol)
    if a.protocol == "basket":
        Q = rq.query()
    else:
        A, users = split.affinity(s, a.half_life)
        Q = rq.query(A, users)
    res = split.evaluate(s, rq, lambda b0, b1: Q[b0:b1] @ S, a.k)
    split.emit(res, plugin="sar.py", protocol=a.protocol,
               similarity=a.similarity, min_count=a.min_count,
               seconds=round(time.time() - t0, 2))


if __name__ == "__main__":
    main()
