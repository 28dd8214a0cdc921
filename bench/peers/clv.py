#!/usr/bin/python3
"""clv.py -- an independent reference for `xsell clv`: the customer summary,
BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma (Fader & Hardie 2013)
written separately with numpy and scipy (gammaln, betaln, hyp2f1,
scipy.optimize.minimize), as the papers and Python's `lifetimes` write them.

usage: clv.py EVENTS [--columns customer=C,timestamp=T,price=P,weight=W]
              [--catalog FILE] [--until UNIX_SECONDS] [--unit day|week]
              [--horizon N] [--discount R]
              [--compare XSELL_CSV --summary XSELL_SUMMARY_JSON]

Prints one JSON object: the peer's own fit (parameters, log-likelihood,
seconds of each stage) and, with --compare, how xsell agrees:
  - the summary per customer (x, t_x, T, monetary): the largest difference;
  - the parameters: the largest relative difference of the peer's own fit;
  - the log-likelihood: the peer's likelihood at xsell's parameters against
    xsell's figure, and both fits' optima, relative;
  - per customer p_alive, expected purchases, expected spend and CLV, the
    peer's formulas evaluated at xsell's parameters (so the formulas are
    compared, not the two optimizers' last digits): the largest absolute
    and relative differences.  The expectation here is FHL eq. 10 as
    printed, with scipy's hyp2f1 on the untransformed parameters; where
    scipy's 2F1 returns inf or nan (hundreds of purchases), the customer is
    counted in "peer_hyp2f1_failed" and left out of that comparison.

Timestamps must be unix seconds.  Purchase days are UTC days (ts // 86400).
"""
import argparse
import csv
import json
import math
import sys
import time

import numpy as np
from scipy import optimize, special

DAY = 86400


def read_events(path, cols, catalog):
    c_cust = cols.get("customer", "customer")
    c_ts = cols.get("timestamp", "timestamp")
    c_price = cols.get("price", "price")
    c_w = cols.get("weight", "weight")
    prices = {}
    if catalog:
        with open(catalog, newline="") as f:
            for row in csv.DictReader(f):
                if row.get("price", "") != "":
                    prices[row["item"]] = float(row["price"])
    ids, cust, ts, spend = {}, [], [], []
    monetary = False
    with open(path, newline="") as f:
        r = csv.reader(f)
        head = next(r)
        ic, it = head.index(c_cust), head.index(c_ts)
        ip = head.index(c_price) if c_price in head else -1
        iw = head.index(c_w) if c_w in head else -1
        ii = head.index(cols.get("item", "item"))
        monetary = ip >= 0 or bool(catalog)
        for row in r:
            if not row:
                continue
            k = ids.setdefault(row[ic], len(ids))
            cust.append(k)
            ts.append(int(row[it]))
            if monetary:
                p = row[ip] if ip >= 0 else ""
                p = float(p) if p != "" else prices[row[ii]]
                w = float(row[iw]) if iw >= 0 and row[iw] != "" else 1.0
                spend.append(p * w)
    names = [None] * len(ids)
    for k, v in ids.items():
        names[v] = k
    return (names, np.array(cust, dtype=np.int64), np.array(ts, np.int64),
            np.array(spend) if monetary else None)


def summarise(cust, ts, spend, until, unit):
    """x, t_x, T (units), monetary (mean spend of the repeat days) per
    customer id, for customers whose first purchase day <= until's."""
    day = ts // DAY
    uday = until // DAY
    keep = day <= uday
    c, d = cust[keep], day[keep]
    s = spend[keep] if spend is not None else np.zeros(c.size)
    # one row per (customer, day), spend summed
    order = np.lexsort((d, c))
    c, d, s = c[order], d[order], s[order]
    new = np.ones(c.size, bool)
    new[1:] = (c[1:] != c[:-1]) | (d[1:] != d[:-1])
    grp = np.cumsum(new) - 1
    cd, dd = c[new], d[new]
    sd = np.bincount(grp, weights=s)
    first_of_c = np.ones(cd.size, bool)
    first_of_c[1:] = cd[1:] != cd[:-1]
    cid = cd[first_of_c]
    idx = np.cumsum(first_of_c) - 1
    ndays = np.bincount(idx)
    first = dd[first_of_c]
    last = np.zeros(cid.size, np.int64)
    last[idx] = dd  # the last write per customer wins: days ascending
    rep = np.bincount(idx, weights=np.where(first_of_c, 0.0, sd))
    x = ndays - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(x > 0, rep / np.maximum(x, 1), 0.0)
    return cid, x.astype(float), (last - first) / unit, (uday - first) / unit, m


# ---- BG/NBD ------------------------------------------------------------
def bg_ll(params, x, tx, T):
    r, al, a, b = params
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(al)
    a2 = (special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b)
          - special.gammaln(a + b + x))
    a3 = -(r + x) * np.log(al + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.log(a) - np.log(b + x - 1) - (r + x) * np.log(al + tx)
    return a1 + a2 + np.where(x > 0, np.logaddexp(a3, np.where(x > 0, a4,
                                                               -np.inf)), a3)


def bg_fit(x, tx, T):
    trip = np.stack([x, tx, T], axis=1)
    u, w = np.unique(trip, axis=0, return_counts=True)
    ux, utx, uT = u[:, 0], u[:, 1], u[:, 2]
    n = x.size

    def f(th):
        v = -np.dot(w, bg_ll(np.exp(th), ux, utx, uT)) / n
        return v if np.isfinite(v) else 1e300

    res = optimize.minimize(f, np.zeros(4), method="Nelder-Mead",
                            options={"maxiter": 10000, "xatol": 1e-10,
                                     "fatol": 1e-14})
    res = optimize.minimize(f, res.x, method="BFGS",
                            options={"gtol": 1e-10, "maxiter": 1000})
    return np.exp(res.x), -res.fun * n


def p_alive(params, x, tx, T):
    r, al, a, b = params
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        odds = a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x)
    return np.where(x > 0, 1 / (1 + odds), 1.0)


def expected(params, t, x, tx, T):
    """FHL eq. 10 as printed."""
    r, al, a, b = params
    z = t / (al + T + t)
    with np.errstate(all="ignore"):
        h = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        num = 1 - ((al + T) / (al + T + t)) ** (r + x) * h
        den = 1 + np.where(x > 0, a / (b + x - 1) *
                           ((al + T) / (al + tx)) ** (r + x), 0.0)
        return (a + b + x - 1) / (a - 1) * num / den


# ---- Gamma-Gamma ---------------------------------------------------------
def gg_ll(params, x, m):
    p, q, v = params
    return (special.gammaln(p * x + q) - special.gammaln(p * x)
            - special.gammaln(q) + q * np.log(v) + (p * x - 1) * np.log(m)
            + p * x * np.log(x) - (p * x + q) * np.log(v + x * m))


def gg_fit(x, m):
    k = (x > 0) & (m > 0)
    xs, ms = x[k], m[k]

    def f(th):
        v = -np.mean(gg_ll(np.exp(th), xs, ms))
        return v if np.isfinite(v) else 1e300

    # start: p = 1, q = 2, v = the mean spend (so E[M] starts at the mean)
    start = np.array([0.0, math.log(2.0), math.log(ms.mean())])
    res = optimize.minimize(f, start, method="Nelder-Mead",
                            options={"maxiter": 10000, "xatol": 1e-10,
                                     "fatol": 1e-14})
    res = optimize.minimize(f, res.x, method="BFGS",
                            options={"gtol": 1e-10, "maxiter": 1000})
    return np.exp(res.x), -res.fun * xs.size, int(k.sum())


def gg_spend(params, x, m):
    p, q, v = params
    return p * (v + x * m) / (p * x + q - 1)


def clv(params, spend, horizon, discount, x, tx, T):
    if discount == 0:
        return expected(params, horizon, x, tx, T) * spend
    prev, total = np.zeros(x.size), np.zeros(x.size)
    for i in range(1, horizon + 1):
        e = expected(params, float(i), x, tx, T)
        total += (e - prev) / (1 + discount) ** i
        prev = e
    return total * spend


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-300)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("events")
    ap.add_argument("--columns", default="")
    ap.add_argument("--catalog")
    ap.add_argument("--until", type=int)
    ap.add_argument("--unit", default="week", choices=["day", "week"])
    ap.add_argument("--horizon", type=int)
    ap.add_argument("--discount", type=float, default=0.0)
    ap.add_argument("--compare")
    ap.add_argument("--summary")
    a = ap.parse_args()
    cols = dict(kv.split("=", 1) for kv in a.columns.split(",") if kv)
    unit = 1 if a.unit == "day" else 7
    horizon = a.horizon or 364 // unit
    out, t0 = {}, time.perf_counter()
    names, cust, ts, spend = read_events(a.events, cols, a.catalog)
    until = a.until if a.until is not None else int(ts.max())
    out["read_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    cid, x, tx, T, m = summarise(cust, ts, spend, until, unit)
    out["customers"] = int(cid.size)
    t2 = time.perf_counter()
    bg, ll = bg_fit(x, tx, T)
    t3 = time.perf_counter()
    out["bgnbd"] = dict(zip(("r", "alpha", "a", "b"), map(float, bg)),
                        loglik=float(ll))
    gg = None
    if spend is not None:
        gg, gll, gn = gg_fit(x, m)
        out["gamma_gamma"] = dict(zip(("p", "q", "v"), map(float, gg)),
                                  loglik=float(gll), customers=gn)
    t4 = time.perf_counter()
    pa = p_alive(bg, x, tx, T)
    ex = expected(bg, float(horizon), x, tx, T)
    sp = gg_spend(gg, x, m) if gg is not None else np.ones(x.size)
    cv = clv(bg, sp, horizon, a.discount, x, tx, T)
    t5 = time.perf_counter()
    out["seconds"] = {"read": round(out.pop("read_s"), 3),
                      "summary": round(t2 - t1, 3), "fit_bgnbd": round(t3 - t2, 3),
                      "fit_gg": round(t4 - t3, 3), "score": round(t5 - t4, 3),
                      "total": round(t5 - t0, 3)}
    if a.compare:
        s = json.load(open(a.summary))
        xb = s["bgnbd"]
        xp = np.array([xb["r"], xb["alpha"], xb["a"], xb["b"]])
        cmp = {"bgnbd_param_rel": float(rel(bg, xp).max()),
               "bgnbd_loglik_rel": float(rel(ll, xb["loglik"])),
               "bgnbd_loglik_at_xsell_params_rel": float(rel(
                   np.sum(bg_ll(xp, x, tx, T)), xb["loglik"]))}
        xg = s.get("gamma_gamma")
        gp = None
        if gg is not None and xg:
            gp = np.array([xg["p"], xg["q"], xg["v"]])
            cmp["gg_param_rel"] = float(rel(gg, gp).max())
            cmp["gg_loglik_rel"] = float(rel(gll, xg["loglik"]))
        rows = {}
        with open(a.compare, newline="") as f:
            for row in csv.DictReader(f):
                rows[row["customer"]] = row
        cmp["customers_xsell"] = len(rows)
        order = [rows.get(names[c]) for c in cid]
        if any(r is None for r in order):
            cmp["missing_in_xsell"] = sum(r is None for r in order)
            order = [r or {} for r in order]

        def col(k):
            return np.array([float(r.get(k) or "nan") for r in order])
        cmp["summary_max_abs_diff"] = float(max(
            np.nanmax(np.abs(col("x") - x)), np.nanmax(np.abs(col("t_x") - tx)),
            np.nanmax(np.abs(col("T") - T))))
        if spend is not None:
            cmp["monetary_max_rel_diff"] = float(np.nanmax(
                rel(col("monetary"), m)[m > 0]) if (m > 0).any() else 0)
        pa2 = p_alive(xp, x, tx, T)
        ex2 = expected(xp, float(horizon), x, tx, T)
        ok = np.isfinite(ex2)
        cmp["peer_hyp2f1_failed"] = int((~ok).sum())
        sp2 = gg_spend(gp, x, m) if gp is not None else np.ones(x.size)
        cv2 = clv(xp, sp2, horizon, a.discount, x, tx, T)
        for k, mine, theirs, mask in (
                ("p_alive", pa2, col("p_alive"), np.ones(x.size, bool)),
                ("expected_purchases", ex2, col("expected_purchases"), ok),
                ("expected_spend", sp2, col("expected_spend"),
                 np.ones(x.size, bool) if gp is not None else None),
                ("clv", cv2, col("clv"), ok & np.isfinite(cv2))):
            if mask is None or not mask.any():
                continue
            d = np.abs(mine - theirs)[mask]
            cmp[k + "_max_abs_diff"] = float(np.nanmax(d))
            cmp[k + "_max_rel_diff"] = float(np.nanmax(
                d / np.maximum(np.abs(mine[mask]), 1e-300)))
        out["compare"] = cmp
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
