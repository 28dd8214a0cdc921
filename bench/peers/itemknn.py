#!/usr/bin/python3
"""itemknn.py -- item-kNN peer for `xsell eval`: cosine similarity of
items over the binary transaction x item matrix of a split saved by
`xsell eval --save-split DIR`, scored as xsell scores
(bench/peers/split.py; nothing shared with xsell's code).

    /usr/bin/python3 bench/peers/itemknn.py DIR [--protocol customer|basket]
        [--k 10] [--neighbours 0] [--similarity cosine] [--min-count 1]
        [--max-basket 1000]

X: the binary transaction x item matrix of train (customer protocol: a
row per customer; basket protocol: a row per order), each transaction
feeding its first --max-basket distinct items in file order (xsell's
bound, default 1000).  S[i,j] = C[i,j] / sqrt(C[i,i] C[j,j]) with
C = X^T X (--similarity jaccard also works), pairs with C < --min-count
counting 0 (copurchase's min_count); --neighbours K keeps each
item's K most similar items (ties: the earlier in train.csv), 0 all.

score(c) = sum over the request's items a of S[a,c]: basket protocol, the
held-out basket's other items known to train (the hidden item relevant);
customer protocol, the customer's distinct train items (binary: every
item counts 1, no decay, no weight; relevant = test items not bought in
train).  The request's items are excluded; scores > 0 only; top k, ties
by the item's first appearance in train.csv.  In the basket protocol this
is `xsell eval --plugin copurchase --plugin-opt copurchase.measure=cosine
--plugin-opt copurchase.min_count=N [--plugin-opt
copurchase.max_neighbours=K]` exactly.  Prints one JSON object with the keys
of `xsell eval --format json`.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import split  # noqa: E402


def main():
    ap = split.arg_parser()
    ap.add_argument("--neighbours", type=int, default=0,
                    help="neighbours kept per item (0: all)")
    ap.add_argument("--similarity", default="cosine",
                    choices=("cosine", "jaccard"))
    a = ap.parse_args()
    t0 = time.time()
    s = split.load(a.dir)
    by = "order" if a.protocol == "basket" else "customer"
    X, groups = split.transactions(s, by, a.max_basket)
    S = split.similarity(X, a.similarity, neighbours=a.neighbours,
                         min_count=a.min_count)
    rq = split.requests(s, a.protocol)
    if a.protocol == "basket":
        Q = rq.query()
    else:  # the customer's items, binary (all of them, not the bound)
        B, users = split.transactions(s, "customer", 0)
        Q = rq.query(B, users)
    res = split.evaluate(s, rq, lambda b0, b1: Q[b0:b1] @ S, a.k)
    split.emit(res, plugin="itemknn.py", protocol=a.protocol,
               similarity=a.similarity, neighbours=a.neighbours,
               min_count=a.min_count,
               seconds=round(time.time() - t0, 2))


if __name__ == "__main__":
    main()
