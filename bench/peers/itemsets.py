#!/usr/bin/python3
"""itemsets.py -- the peer of `xsell rules --max-len N`: apriori in numpy.

    itemsets.py BASKETS MIN_SUPPORT MIN_CONFIDENCE MAX_LEN [MAX_BASKET]

Prints the CSV xsell prints with --format csv --sort lift (header
lhs,rhs,support,confidence,lift,count; an lhs of several items is their
names in name order joined by ','; numbers in the shortest of %.15g..%.17g
that reads back; rows by lift descending, then lhs names, then rhs), and a
timing line on stderr.

Independent of xsell: the file is read with the csv module (one basket per
line, items stripped, blank lines skipped, an item once per basket, the
first MAX_BASKET distinct items of a line kept: xsell's --max-basket,
default 1000), pairs are counted at once as the sparse product of the
item x basket matrix with its transpose (scipy), and longer itemsets
level-wise (apriori) over transaction bit sets: level k's candidates join frequent (k-1)-itemsets sharing their first
k-2 items, are pruned unless every (k-1)-subset is frequent, and are counted
by AND-ing the prefix's bit set with each extension item's and counting the
bits (numpy, a row of candidates at once).  arules' thresholds: minimum
count ceil(minsupp * N * (1 - DBL_EPSILON)), at least 1; confidence >=
minconf - 1e-12.  Values: support = n_X / N, confidence = n_X / n_L, lift =
n_X N / (n_L n_r), each as Python's correctly rounded int division (xsell's
doubles give the same bits while the products stay below 2^53).
"""
import csv
import math
import sys
import time

import numpy as np
import scipy.sparse as sp

POP = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint32)


def read(path, max_basket):
    baskets = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.reader(f):
            items = [x.strip() for x in row]
            if not items or all(x == "" for x in items):
                continue
            baskets.append(list(dict.fromkeys(items))[:max_basket])
    return baskets


def fmt(v):
    if v == 0:
        return "0"
    for p in (15, 16, 17):
        s = "%.*g" % (p, v)
        if float(s) == v:
            return s
    return s


def csv_field(s):
    if any(c in s for c in ',"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s


def main():
    path, ms, mc, max_len = (sys.argv[1], float(sys.argv[2]),
                             float(sys.argv[3]), int(sys.argv[4]))
    max_basket = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
    t0 = time.perf_counter()
    baskets = read(path, max_basket)
    n = len(baskets)
    minc = max(1, math.ceil(ms * n * (1 - sys.float_info.epsilon)))
    single = {}
    for b in baskets:
        for x in b:
            single[x] = single.get(x, 0) + 1
    items = sorted(x for x, c in single.items() if c >= minc)
    col = {x: i for i, x in enumerate(items)}
    # bit sets: one row of packed bits per frequent item
    rows, cols = [], []
    for t, b in enumerate(baskets):
        for x in b:
            i = col.get(x)
            if i is not None:
                rows.append(i)
                cols.append(t)
    m = np.zeros((len(items), n), dtype=bool)
    if rows:
        m[np.array(rows), np.array(cols)] = True
    bits1 = np.packbits(m, axis=1) if len(items) else np.zeros((0, 1), np.uint8)
    del m
    count = {(i,): single[items[i]] for i in range(len(items))}
    level = {(i,): bits1[i] for i in range(len(items))}
    # pairs at once: the sparse product M M^T of the item x basket matrix
    if len(items) > 1 and rows:
        sm = sp.csr_matrix((np.ones(len(rows), dtype=np.int64),
                            (np.array(rows), np.array(cols))),
                           shape=(len(items), n))
        pc = sp.triu(sm @ sm.T, k=1).tocoo()
        keep = pc.data >= minc
        nxt = {}
        for a, b, c in zip(pc.row[keep], pc.col[keep], pc.data[keep]):
            x = (int(a), int(b))
            count[x] = int(c)
            if max_len > 2:
                nxt[x] = bits1[a] & bits1[b]
        level = nxt
    else:
        level = {}
    for k in range(3, max_len + 1):
        if not level:
            break
        nxt = {}
        by_prefix = {}
        for x in level:
            by_prefix.setdefault(x[:-1], []).append(x[-1])
        for prefix, ext in by_prefix.items():
            ext.sort()
            for a_i, a in enumerate(ext):
                base = level[prefix + (a,)]
                cands = []
                for b in ext[a_i + 1:]:
                    c = prefix + (a, b)
                    # every (k-1)-subset frequent (those dropping a or b
                    # are the two joined)
                    if all(c[:j] + c[j + 1:] in level for j in range(k - 2)):
                        cands.append(b)
                if not cands:
                    continue
                inter = base[None, :] & bits1[np.array(cands)]
                cnt = POP[inter].sum(axis=1)
                for b, cb, row in zip(cands, cnt, inter):
                    if cb >= minc:
                        x = prefix + (a, b)
                        count[x] = int(cb)
                        if k < max_len:
                            nxt[x] = row
        if k < max_len:
            level = nxt
        else:
            level = {}
        if not nxt:
            break
    t1 = time.perf_counter()
    rules = []
    for x, cx in count.items():
        if len(x) < 2 or cx < minc:
            continue
        for j, r in enumerate(x):
            lhs = x[:j] + x[j + 1:]
            cl = count[lhs]
            conf = cx / cl
            if conf < mc - 1e-12:
                continue
            lift = cx * n / (cl * count[(r,)])
            rules.append((-lift, tuple(items[i] for i in lhs), items[r],
                          cx / n, conf, lift, cx))
    rules.sort()
    out = ["lhs,rhs,support,confidence,lift,count"]
    for _, lhs, r, s, conf, lift, cx in rules:
        out.append("%s,%s,%s,%s,%s,%d" % (csv_field(",".join(lhs)),
                                          csv_field(r), fmt(s), fmt(conf),
                                          fmt(lift), cx))
    sys.stdout.write("\n".join(out) + "\n")
    print("itemsets.py: %d baskets, %d frequent items, %d itemsets, %d rules, "
          "%.3f s counting, %.3f s total" % (n, len(items), len(count),
                                             len(rules), t1 - t0,
                                             time.perf_counter() - t0),
          file=sys.stderr)


if __name__ == "__main__":
    main()
