#!/usr/bin/python3
"""Peer for bench_load: the customer x item CSR matrix with numpy/scipy.

    peer.py --events FILE | --baskets FILE

Reads the same CSV as bench_load (events: a header with customer and item
columns, weight when present; baskets: one per line, each line a row),
interns customer and item names in first-appearance order (a dict each),
keeps row and column indices in compact int32 arrays (array.array, not
lists of Python ints), and builds the scipy CSR matrix (weights summed for
repeated pairs).  Prints one JSON line: seconds to load (read + intern) and
to build the matrix, events, and peak resident memory per line (getrusage;
bench/load/run.sh also measures it from outside with /usr/bin/time -v).
"""
import array
import csv
import json
import resource
import sys
import time

import numpy as np
import scipy.sparse as sp


def load_events(path):
    rows, cols, vals = array.array("i"), array.array("i"), array.array("d")
    customers, items = {}, {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        r = csv.reader(f)
        head = next(r)
        ci, ii = head.index("customer"), head.index("item")
        wi = head.index("weight") if "weight" in head else -1
        for rec in r:
            if not rec:
                continue
            rows.append(customers.setdefault(rec[ci], len(customers)))
            cols.append(items.setdefault(rec[ii], len(items)))
            vals.append(float(rec[wi]) if wi >= 0 else 1.0)
    return rows, cols, vals, len(customers), len(items)


def load_baskets(path):
    rows, cols, vals = array.array("i"), array.array("i"), array.array("d")
    items = {}
    t = 0
    with open(path, newline="", encoding="utf-8-sig") as f:
        for rec in csv.reader(f):
            if not rec:
                continue
            for name in rec:
                rows.append(t)
                cols.append(items.setdefault(name.strip(), len(items)))
                vals.append(1.0)
            t += 1
    return rows, cols, vals, t, len(items)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("--baskets", "--events"):
        sys.exit(__doc__)
    t0 = time.perf_counter()
    load = load_events if sys.argv[1] == "--events" else load_baskets
    rows, cols, vals, n_rows, n_cols = load(sys.argv[2])
    t1 = time.perf_counter()
    n = len(rows)
    x = sp.csr_matrix((np.frombuffer(vals, dtype=np.float64),
                       (np.frombuffer(rows, dtype=np.int32),
                        np.frombuffer(cols, dtype=np.int32))),
                      shape=(n_rows, n_cols))
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0
    print(json.dumps({"threads": 1, "events": n, "load_s": round(t1 - t0, 4),
                      "build_s": round(t2 - t1, 4),
                      "total_s": round(t2 - t0, 4),
                      "load_rss_mb": round(rss / 1048576.0, 1),
                      "load_bytes_per_line": round(rss / n, 1),
                      "nnz": int(x.nnz)}))


if __name__ == "__main__":
    main()
