#!/usr/bin/python3
"""Peer for bench_cooc: co-occurrence counting with scipy sparse X^T X.

    cooc_scipy.py (--baskets FILE | --events FILE)

Reads the same file as bench_cooc (baskets: one per line, comma separated;
events: CSV with header and an `order` and `item` column), builds the binary
transaction x item matrix X in CSR (int32, duplicates within a transaction
counted once), and computes C = X^T X with scipy.  Prints one JSON line with
the same fields as bench_cooc.  The checksum is the sum of the off-diagonal
counts of C, i.e. the sum of all pair counts in both directions.
"""
import csv
import json
import resource
import sys
import time

import numpy as np
import scipy
import scipy.sparse as sp


def load(kind, path):
    ids = {}
    rows, cols = [], []
    if kind == "--baskets":
        with open(path, newline="", encoding="utf-8-sig") as f:
            t = 0
            for line in f:
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                for name in next(csv.reader([line])):
                    rows.append(t)
                    cols.append(ids.setdefault(name.strip(), len(ids)))
                t += 1
    else:
        orders = {}
        with open(path, newline="", encoding="utf-8-sig") as f:
            r = csv.DictReader(f)
            for rec in r:
                rows.append(orders.setdefault(rec["order"], len(orders)))
                cols.append(ids.setdefault(rec["item"], len(ids)))
        t = len(orders)
    data = np.ones(len(rows), dtype=np.int32)
    x = sp.csr_matrix((data, (np.array(rows, dtype=np.int32),
                              np.array(cols, dtype=np.int32))),
                      shape=(t, len(ids)), dtype=np.int32)
    x.sum_duplicates()
    x.data[:] = 1  # a repeated item counts once per transaction
    return x


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("--baskets", "--events"):
        sys.exit(__doc__)
    t0 = time.perf_counter()
    x = load(sys.argv[1], sys.argv[2])
    t1 = time.perf_counter()
    c = (x.T @ x).tocsr()
    t2 = time.perf_counter()
    diag = c.diagonal()
    off_nnz = c.nnz - int(np.count_nonzero(diag))
    checksum = int(c.data.sum(dtype=np.int64) - diag.sum(dtype=np.int64))
    nbytes = c.data.nbytes + c.indices.nbytes + c.indptr.nbytes
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({
        "impl": "scipy " + scipy.__version__, "threads": 1,
        "transactions": x.shape[0], "items": int(np.count_nonzero(diag)),
        "load_s": round(t1 - t0, 4), "count_s": round(t2 - t1, 4),
        "total_s": round(t2 - t0, 4), "peak_rss_mb": round(peak, 1),
        "pairs": off_nnz, "table_mb": round(nbytes / 1048576.0, 2),
        "bytes_per_pair": round(nbytes / off_nnz, 2) if off_nnz else 0,
        "checksum": checksum}))


if __name__ == "__main__":
    main()
