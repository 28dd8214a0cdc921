"""cli_clv.py -- `xsell clv` end to end.

  - the sample store examples/data/events.csv: the --summary object (keys,
    both fits converged), the csv table (header, one row per customer,
    every figure finite, p_alive in [0, 1], clv = expected purchases x
    expected spend), --format json, --out - and the default summary on
    stdout, no temporary file left beside --out;
  - --holdout-until: the holdout's actual figure is the sum of the table's
    holdout column, overall and per calibration frequency 0..6, 7+, and
    the customers per frequency add up;
  - an early --until: customers whose first purchase is later are left out
    and counted;
  - no price: Gamma-Gamma skipped and said so, CLV counts purchases;
  - errors: --holdout-until not after --until, bad --unit, --horizon,
    --discount, --format, no --events (exit 2); too few repeat customers
    (exit 1, the message says so);
  - the scipy peer (bench/peers/clv.py) on the same store, when numpy and
    scipy are there: the same summary, parameters within 0.1%, the
    log-likelihood within 1e-6 relative, p_alive, expected purchases and
    spend and CLV within 1e-6.
With the argument `ml`: the peer on MovieLens (rating days as purchase
days, no prices), $XS_SHARED_DATA/ml-latest-small-ratings.csv.
"""
import csv
import io
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_clv")
HEADER = ("customer,x,t_x,T,monetary,p_alive,expected_purchases,"
          "expected_spend,clv")


def table(text):
    return list(csv.DictReader(io.StringIO(text)))


def peer(events, summary, out_csv, extra=()):
    """Runs the scipy peer; None when numpy/scipy are missing."""
    try:
        import numpy  # noqa: F401
        import scipy  # noqa: F401
    except ImportError:
        return None
    p = subprocess.run(["/usr/bin/python3",
                        ck.source("bench", "peers", "clv.py"), events,
                        "--compare", out_csv, "--summary", summary] +
                       list(extra), capture_output=True, text=True,
                       timeout=600)
    if not ck.check(p.returncode == 0, "peer failed: %s" % p.stderr[-800:]):
        return None
    return json.loads(p.stdout)


def check_peer(label, got, monetary):
    if got is None:
        return
    c = got["compare"]
    ck.check(c.get("missing_in_xsell", 0) == 0, "%s: customers missing" % label)
    ck.check(c["summary_max_abs_diff"] < 1e-9, "%s: summary differs by %g"
             % (label, c["summary_max_abs_diff"]))
    ck.check(c["bgnbd_param_rel"] < 1e-3, "%s: BG/NBD parameters differ by "
             "%g relative" % (label, c["bgnbd_param_rel"]))
    ck.check(c["bgnbd_loglik_rel"] < 1e-6, "%s: BG/NBD loglik differs by %g"
             % (label, c["bgnbd_loglik_rel"]))
    ck.check(c["bgnbd_loglik_at_xsell_params_rel"] < 1e-9, "%s: the "
             "likelihood at xsell's parameters differs by %g"
             % (label, c["bgnbd_loglik_at_xsell_params_rel"]))
    keys = ["p_alive", "expected_purchases", "clv"]
    if monetary:
        keys.append("expected_spend")
        ck.check(c["gg_param_rel"] < 1e-3, "%s: Gamma-Gamma parameters "
                 "differ by %g" % (label, c["gg_param_rel"]))
        ck.check(c["gg_loglik_rel"] < 1e-6, "%s: Gamma-Gamma loglik "
                 "differs by %g" % (label, c["gg_loglik_rel"]))
    for k in keys:
        d = c[k + "_max_rel_diff"]
        ck.check(d < 1e-6, "%s: %s differs by %g relative" % (label, k, d))


if ck.args[:1] == ["ml"]:
    ml = os.path.join(os.environ.get("XS_SHARED_DATA", ""),
                      "ml-latest-small-ratings.csv")
    if not os.path.exists(ml):
        ck.skip("%s not found (set XS_SHARED_DATA)" % ml)
    cols = "customer=userId,item=movieId,timestamp=timestamp"
    for unit in ("week", "day"):
        out = os.path.join(ck.tmp, "ml.csv")
        summ = os.path.join(ck.tmp, "ml.json")
        rc, _, err = ck.run(["clv", "--events", ml, "--columns",
                             cols, "--unit", unit,
                             "--out", out, "--summary", summ], timeout=300)
        if ck.check(rc == 0, "ml %s: exit %d: %s" % (unit, rc, err)):
            s = json.load(open(summ))
            ck.check(s["gamma_gamma"] is None and not s["monetary"],
                     "ml: no prices, no Gamma-Gamma")
            check_peer("ml " + unit, peer(ml, summ, out, [
                "--columns", cols, "--unit", unit]), False)
    ck.finish()

events = ck.source("examples", "data", "events.csv")
catalog = ck.source("examples", "data", "catalog.csv")
out = os.path.join(ck.tmp, "clv.csv")
summ = os.path.join(ck.tmp, "summary.json")
rc, _, err = ck.run(["clv", "--events", events, "--out", out, "--summary",
                     summ])
if not ck.check(rc == 0, "clv: exit %d: %s" % (rc, err)):
    ck.finish()
ck.check("BG/NBD r=" in err and "Gamma-Gamma p=" in err,
         "stderr summary: %s" % err)
ck.check(sorted(os.listdir(ck.tmp)) == ["clv.csv", "summary.json"],
         "files beside --out: %s" % os.listdir(ck.tmp))
s = json.load(open(summ))
ck.check(s["customers"] == 2000 and s["left_out"] == 0, "customers: %r" % s)
for k in ("r", "alpha", "a", "b", "loglik", "iterations", "converged"):
    ck.check(k in s["bgnbd"], "bgnbd lacks %s" % k)
for k in ("p", "q", "v", "customers"):
    ck.check(k in s["gamma_gamma"], "gamma_gamma lacks %s" % k)
ck.check(s["bgnbd"]["converged"] and s["gamma_gamma"]["converged"],
         "not converged: %r" % s)
ck.check(s["unit_days"] == 7 and s["horizon"] == 52, "defaults: %r" % s)
text = open(out).read()
ck.check(text.splitlines()[0] == HEADER, "header: %s" % text[:100])
rows = table(text)
ck.check(len(rows) == 2000, "%d rows" % len(rows))
repeat = 0
for r in rows:
    v = {k: float(r[k]) for k in HEADER.split(",")[1:]}
    if not all(math.isfinite(x) for x in v.values()):
        ck.fail("not finite: %r" % r)
        break
    ck.check(0 <= v["p_alive"] <= 1, "p_alive: %r" % r)
    ck.check(v["x"] > 0 or v["p_alive"] == 1, "x = 0, p_alive < 1: %r" % r)
    ck.check(abs(v["clv"] - v["expected_purchases"] * v["expected_spend"])
             <= 1e-12 * max(1, v["clv"]), "clv: %r" % r)
    repeat += v["x"] > 0
ck.check(repeat == s["repeat_customers"], "repeat customers")
ck.close(sum(float(r["clv"]) for r in rows), s["clv"], 1e-9, "total clv")

# json, stdout, default summary
rc, o, _ = ck.run(["clv", "--events", events, "--out", "-", "--format",
                   "json", "--summary", os.path.join(ck.tmp, "s2.json")])
if ck.check(rc == 0, "json: exit %d" % rc):
    j = json.loads(o)
    ck.check(len(j) == 2000 and j[0]["customer"] == rows[0]["customer"],
             "json rows")
    ck.close(j[5]["clv"], float(rows[5]["clv"]), 1e-15, "json clv")
d = ck.json_of(["clv", "--events", events])
ck.check(d is not None and d.get("bgnbd", {}).get("r") == s["bgnbd"]["r"],
         "default summary on stdout")

# holdout
out_h = os.path.join(ck.tmp, "h.csv")
d = ck.json_of(["clv", "--events", events, "--until", "2025-09-30",
                "--holdout-until", "2025-12-31", "--out", out_h,
                "--summary", "-"])
if d:
    h = d["holdout"]
    hr = table(open(out_h).read())
    ck.check(len(hr) == d["customers"], "holdout rows")
    ck.close(h["actual"], float(sum(int(r["holdout"]) for r in hr)), 0,
             "holdout actual")
    ck.check(len(h["by_frequency"]) == 8 and h["by_frequency"][7]["x"] ==
             "7+", "by_frequency: %r" % h["by_frequency"])
    for b in h["by_frequency"]:
        k = int(b["x"].rstrip("+"))
        sel = [r for r in hr if (int(r["x"]) >= 7 if k == 7
                                 else int(r["x"]) == k)]
        ck.check(b["customers"] == len(sel), "bin %s customers" % b["x"])
        ck.close(b["actual"], float(sum(int(r["holdout"]) for r in sel)), 0,
                 "bin %s actual" % b["x"])
    ck.close(sum(b["predicted"] for b in h["by_frequency"]), h["predicted"],
             1e-12, "predicted by frequency")
    ck.check(0.5 < h["predicted"] / max(h["actual"], 1) < 2,
             "holdout: predicted %g against %g actual" % (h["predicted"],
                                                          h["actual"]))
    ck.check(d["left_out"] > 0 and d["customers"] + d["left_out"] == 2000,
             "left out: %d + %d" % (d["customers"], d["left_out"]))

# no price: the sample without its price column
lines = open(events).read().splitlines()
noprice = ck.write("noprice.csv", "\n".join(
    ",".join(l.split(",")[:4] + l.split(",")[5:]) for l in lines) + "\n")
rc, o, err = ck.run(["clv", "--events", noprice, "--out", "-"])
if ck.check(rc == 0, "no price: exit %d: %s" % (rc, err)):
    ck.check("Gamma-Gamma skipped" in err, "no price: stderr %s" % err)
    for r in table(o)[:50]:
        ck.check(r["expected_spend"] == "" and r["monetary"] == "" and
                 r["clv"] == r["expected_purchases"], "no price row %r" % r)
d = ck.json_of(["clv", "--events", noprice])
ck.check(d and d["gamma_gamma"] is None and "Gamma-Gamma skipped" in
         d.get("note", ""), "no price summary: %r" % d)

# errors
for args, frag in (
        (["--until", "2025-06-01", "--holdout-until", "2025-06-01"],
         "--holdout-until must be after --until"),
        (["--unit", "month"], "--unit"), (["--horizon", "0"], "--horizon"),
        (["--discount", "-1"], "--discount"), (["--format", "xml"], "--format"),
        (["--out", "-", "--summary", "-"], "both be stdout")):
    ck.expect(["clv", "--events", events] + args, 2, stderr_has=frag)
ck.expect(["clv"], 2, stderr_has="--events FILE is required")
few = ck.write("few.csv", "customer,item,timestamp\n" + "".join(
    "c%d,i,%d\n" % (i, 1700000000 + 86400 * d)
    for i in range(10) for d in ((0, 9) if i < 3 else (0,))))
ck.expect(["clv", "--events", few], 1, stderr_has="at least 5")
ck.expect(["clv", "--events", events, "--until", "2000-01-01"], 2,
          stderr_has="before the first event")

check_peer("sample", peer(events, summ, out), True)
ck.finish()
