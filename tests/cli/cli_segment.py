"""cli_segment.py -- `xsell segment` end to end.

  - the hand-made store tests/data/segment/events.csv (figures worked out in
    tests/test_segment.c): the csv table, the json document (customers and
    summary: segments, revenue, Pareto, loyal list, CRR) and the stderr
    summary;
  - --report: parsed with html.parser: balanced tags, exactly 3 <svg> (too
    few customers for the CLV charts; the report says why), no
    <script>, no http(s) reference anywhere;
  - --no-monetary: empty monetary and m, the same segments;
  - errors: no timestamp column (named, also when mapped), no price without
    --no-monetary, --period outside the data or malformed, bad --bins, bad
    --now, missing --out/--events, bad --format; exit codes 1 and 2;
  - the sample store examples/data/events.csv against an independent Python
    model: recency, frequency (distinct orders), monetary, the rank scores,
    the RF grid, per-segment counts and revenue, the Pareto share, the CRR.
"""
import csv
import io
import json
import math
import os
import sys
from collections import OrderedDict
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_segment")
HEADER = "customer,recency_days,frequency,monetary,r,f,m,segment"
DAY = 86400
SEGMENTS = ["Champions", "Loyal", "Potential loyalist", "New", "Promising",
            "Need attention", "About to sleep", "At risk", "Cannot lose them",
            "Hibernating", "Lost"]
# The RF grid, GRID[r - 1][f - 1] (README: "The segment map").
GRID = [
    ["Lost", "Hibernating", "At risk", "At risk", "Cannot lose them"],
    ["Hibernating", "Hibernating", "At risk", "At risk", "Cannot lose them"],
    ["About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"],
    ["Promising", "Potential loyalist", "Potential loyalist", "Loyal",
     "Loyal"],
    ["New", "Potential loyalist", "Potential loyalist", "Champions",
     "Champions"],
]

STORE = ck.data("segment", "events.csv")
WANT = [  # customer, recency, F, M, r, f, m, segment (see test_segment.c)
    ("C01", 0, 6, 600, 5, 5, 5, "Champions"),
    ("C02", 1, 5, 500, 4, 4, 4, "Loyal"),
    ("C03", 2, 1, 20, 4, 1, 1, "Promising"),
    ("C04", 10, 4, 300, 3, 3, 3, "Need attention"),
    ("C05", 20, 3, 150, 3, 3, 3, "Need attention"),
    ("C06", 40, 2, 80, 3, 2, 3, "About to sleep"),
    ("C07", 60, 5, 450, 2, 4, 4, "At risk"),
    ("C08", 90, 1, 30, 2, 1, 1, "Hibernating"),
    ("C09", 120, 2, 60, 1, 2, 2, "Hibernating"),
    ("C10", 200, 1, 10, 1, 1, 1, "Lost"),
    ("C11", 0, 1, 40, 5, 1, 2, "New"),
    ("C12", 150, 7, 700, 1, 5, 5, "Cannot lose them"),
]


def read_out(path):
    with open(path, newline="") as f:
        return f.read()


def segment(args, label, code=0):
    out = os.path.join(ck.tmp, "out")
    rc, stdout, err = ck.run(["segment"] + args + ["--out", out])
    ck.check(rc == code, "%s: exit %d, want %d: %s" % (label, rc, code, err))
    text = read_out(out) if rc == 0 and os.path.exists(out) else ""
    return text, err


# ---- the hand-made store ---------------------------------------------------
ck.expect(["segment", "--help"], 0, stdout_has=["usage: xsell segment",
                                                 "--period", "--report"])
period = ["--period", "2024-05-31..2024-06-30", "--active-days", "60"]
report = os.path.join(ck.tmp, "report.html")
text, err = segment(["--events", STORE, "--report", report] + period, "store")
rows = list(csv.reader(io.StringIO(text)))
ck.check(rows and ",".join(rows[0]) == HEADER, "store: header %r" % rows[:1])
want_rows = [[c, str(r), str(f), str(m), str(rs), str(fs), str(ms), s]
             for c, r, f, m, rs, fs, ms, s in WANT]
ck.check(rows[1:] == want_rows, "store: rows\n got %r\nwant %r"
         % (rows[1:], want_rows))
for s in ["12 customers as of 2024-06-30", "top 20% (3 customers): 61.2%",
          "S=7 E=7 N=2 -> 71.4%", "loyal customers (Champions + Loyal): 2"]:
    ck.check(s in err, "store: stderr lacks %r:\n%s" % (s, err))

text, err = segment(["--events", STORE, "--format", "json"] + period,
                    "store json")
try:
    doc = json.loads(text)
except ValueError as ex:
    doc = None
    ck.fail("store json: not JSON (%s): %s" % (ex, text[:300]))
if doc:
    got = [(c["customer"], c["recency_days"], c["frequency"], c["monetary"],
            c["r"], c["f"], c["m"], c["segment"]) for c in doc["customers"]]
    ck.check(got == WANT, "store json: customers %r" % got)
    sm = doc["summary"]
    ck.check(sm["customers"] == 12, "json: customers %r" % sm["customers"])
    ck.close(sm["revenue"], 2940, what="json revenue")
    segs = {x["segment"]: x for x in sm["segments"]}
    ck.check([x["segment"] for x in sm["segments"]] == SEGMENTS,
             "json: segment order %r" % list(segs))
    want_rev = {"Champions": 600, "Loyal": 500, "Potential loyalist": 0,
                "New": 40, "Promising": 20, "Need attention": 450,
                "About to sleep": 80, "At risk": 450,
                "Cannot lose them": 700, "Hibernating": 90, "Lost": 10}
    for name, rev in want_rev.items():
        ck.close(segs[name]["revenue"], rev, what="json revenue " + name)
    ck.check(segs["Need attention"]["customers"] == 2, "json: count")
    ck.check(sm["pareto"]["top_customers"] == 3, "json: pareto n")
    ck.close(sm["pareto"]["top_share"], 1800 / 2940, what="json pareto")
    ck.check(sm["loyal"] == ["C01", "C02"], "json: loyal %r" % sm["loyal"])
    crr = sm["crr"]
    ck.check((crr["start"], crr["end"], crr["new"], crr["active_days"]) ==
             (7, 7, 2, 60), "json: crr %r" % crr)
    ck.close(crr["crr"], 500 / 7, what="json crr")
    ck.check(crr["from"] == 1719705600 - 30 * DAY and
             crr["to"] == 1719705600 + DAY - 1, "json: period %r" % crr)


# ---- the report --------------------------------------------------------------
class Html(HTMLParser):
    VOID = {"meta", "br", "img", "input", "link", "hr", "area", "base", "col",
            "embed", "source", "track", "wbr"}
    # SVG elements written self-closed (<rect .../>) arrive as startendtag.

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.svgs, self.tags = [], [], 0, set()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self._attrs(attrs)
        if tag == "svg":
            self.svgs += 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
        self._attrs(attrs)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes %r" % (tag, self.stack[-1:]))
        else:
            self.stack.pop()

    def _attrs(self, attrs):
        for k, v in attrs:
            if v and ("http:" in v or "https:" in v or k in ("src", "href")):
                self.refs.append((k, v))


if os.path.exists(report):
    html = read_out(report)
    p = Html()
    p.feed(html)
    p.close()
    ck.check(not p.errors and not p.stack, "report: unbalanced tags %r %r"
             % (p.errors[:5], p.stack))
    # 12 customers are too few for BG/NBD: no CLV charts, the reason given
    ck.check(p.svgs == 3, "report: %d <svg>, want 3" % p.svgs)
    ck.check("Lifetime value not computed: the BG/NBD fit" in html,
             "report: no reason for the missing lifetime value")
    ck.check("script" not in p.tags, "report: has a <script>")
    ck.check(not p.refs, "report: external references %r" % p.refs[:5])
    ck.check("http://" not in html and "https://" not in html,
             "report: mentions http(s)")
    for s in ["Customers per segment", "Revenue per segment", "Pareto",
              "71.4%", "61.2%", "Cannot lose them", "C01, C02"]:
        ck.check(s in html, "report lacks %r" % s)
else:
    ck.fail("report: %s not written" % report)

# --no-monetary: same segments, empty monetary and m; report still 3 charts.
text, err = segment(["--events", STORE, "--no-monetary", "--report", report],
                    "no-monetary")
rows = list(csv.reader(io.StringIO(text)))[1:]
ck.check([(r[0], r[3], r[6], r[7]) for r in rows] ==
         [(w[0], "", "", w[7]) for w in WANT], "no-monetary rows %r" % rows)
if os.path.exists(report):
    p = Html()
    p.feed(read_out(report))
    ck.check(p.svgs == 3, "no-monetary report: %d <svg>" % p.svgs)

# --bins 3: scores in 1..3.
text, err = segment(["--events", STORE, "--bins", "3"], "bins 3")
rows = list(csv.reader(io.StringIO(text)))[1:]
ck.check(rows and all(1 <= int(r[k]) <= 3 for r in rows for k in (4, 5, 6)),
         "bins 3: scores %r" % rows)

# ---- errors --------------------------------------------------------------------
no_ts = ck.write("no_ts.csv", "customer,item,price\nX,A,1\n")
no_price = ck.write("no_price.csv", "customer,item,timestamp\nX,A,2024-01-01\n")
mapped = ck.write("mapped.csv", "user,sku,day,price\nX,A,2024-01-01,2\n")
out = os.path.join(ck.tmp, "err.out")
E = [
    (["--events", no_ts, "--out", out], 1, "no 'timestamp' column"),
    (["--events", mapped, "--columns", "customer=user,item=sku,timestamp=date",
      "--out", out], 1, "'date'"),
    (["--events", no_price, "--out", out], 1, "no 'price' column"),
    (["--events", no_price, "--out", out], 1, "--no-monetary"),
    (["--events", STORE, "--out", out, "--period", "2024-06-01..2024-07-10"],
     2, "outside the data"),
    (["--events", STORE, "--out", out, "--period", "2020-01-01..2024-06-01"],
     2, "outside the data"),
    (["--events", STORE, "--out", out, "--period", "2024-06-10"], 2,
     "--period"),
    (["--events", STORE, "--out", out, "--period", "2024-06-10..2024-06-01"],
     2, "ends before"),
    (["--events", STORE, "--out", out, "--bins", "0"], 2, "--bins"),
    (["--events", STORE, "--out", out, "--bins", "11"], 2, "--bins"),
    (["--events", STORE, "--out", out, "--bins", "five"], 2, "--bins"),
    (["--events", STORE, "--out", out, "--now", "yesterday"], 2, "--now"),
    (["--events", STORE, "--out", out, "--now", "2020-01-01"], 2,
     "before the first event"),
    (["--events", STORE, "--out", out, "--format", "table"], 2, "--format"),
    (["--events", STORE], 2, "--out"),
    (["--out", out], 2, "--events"),
    (["--events", STORE, "--out", out, "--bogus"], 2, "bad option"),
    (["--events", os.path.join(ck.tmp, "missing.csv"), "--out", out], 1,
     "missing.csv"),
]
for args, code, msg in E:
    ck.expect(["segment"] + args, code, stderr_has=["xsell segment: ", msg])
# With a mapped timestamp the same file works; a date --now is its day's end.
text, err = segment(["--events", mapped, "--columns",
                     "customer=user,item=sku,timestamp=day",
                     "--now", "2024-01-03"], "mapped")
ck.check(text.splitlines()[1:] == ["X,2,1,2,1,1,1,Lost"],
         "mapped: %r" % text)


# ---- the sample store against a Python model ----------------------------------
def model(path):
    cust = OrderedDict()
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            c = cust.setdefault(r["customer"], {"last": None, "orders": set(),
                                                "money": 0.0, "first": None,
                                                "ts": []})
            t = int(r["timestamp"])
            c["last"] = t if c["last"] is None else max(c["last"], t)
            c["first"] = t if c["first"] is None else min(c["first"], t)
            c["orders"].add(r["order"])
            c["money"] += float(r["price"]) * float(r["weight"])
            c["ts"].append(t)
    return cust


def scores(values, bins=5):
    n = len(values)
    srt = sorted(values)
    out, lo = [], {}
    for i, v in enumerate(srt):
        lo.setdefault(v, i)
    for v in values:
        out.append(1 + lo[v] * bins // n)
    return out


sample = ck.source("examples", "data", "events.csv")
cust = model(sample)
now = max(c["last"] for c in cust.values())
names = list(cust)
rec = [(now - cust[c]["last"]) // DAY for c in names]
freq = [len(cust[c]["orders"]) for c in names]
mon = [cust[c]["money"] for c in names]
r_s, f_s, m_s = scores([-x for x in rec]), scores(freq), scores(mon)
seg = [GRID[r - 1][f - 1] for r, f in zip(r_s, f_s)]

A, B = "2025-06-01", "2025-09-30"
a_ts, b_ts = 1748736000, 1759276799  # 2025-06-01 00:00, 2025-09-30 23:59:59
W = 90 * DAY
text, err = segment(["--events", sample, "--format", "json", "--period",
                     "%s..%s" % (A, B), "--active-days", "90"], "sample")
doc = json.loads(text) if text else None
if ck.check(doc is not None, "sample: no json document"):
    got = doc["customers"]
    ck.check([c["customer"] for c in got] == names,
             "sample: customers not in first-appearance order")
    bad = 0
    for i, c in enumerate(got[:len(names)]):
        if (c["recency_days"], c["frequency"], c["r"], c["f"], c["m"],
                c["segment"]) != (rec[i], freq[i], r_s[i], f_s[i], m_s[i],
                                  seg[i]) or \
                abs(c["monetary"] - mon[i]) > 1e-9 * max(1, mon[i]):
            bad += 1
            if bad <= 5:
                ck.fail("sample: %s: got %r, want %r" % (
                    c["customer"], c, (rec[i], freq[i], mon[i], r_s[i],
                                       f_s[i], m_s[i], seg[i])))
    sm = doc["summary"]
    ck.check(sum(x["customers"] for x in sm["segments"]) == len(names)
             == sm["customers"], "sample: segment counts do not add up")
    rev = {s: 0.0 for s in SEGMENTS}
    for s, m in zip(seg, mon):
        rev[s] += m
    for x in sm["segments"]:
        ck.close(x["revenue"], rev[x["segment"]], rel=1e-9,
                 what="sample revenue " + x["segment"])
        ck.check(x["customers"] == seg.count(x["segment"]),
                 "sample: count of " + x["segment"])
    total = sum(mon)
    ck.close(sm["revenue"], total, rel=1e-9, what="sample revenue")
    k = math.ceil(0.2 * len(names))
    top = sorted(range(len(names)), key=lambda i: (-mon[i], i))[:k]
    ck.check(sm["pareto"]["top_customers"] == k, "sample: pareto k")
    ck.close(sm["pareto"]["top_share"], sum(mon[i] for i in top) / total,
             rel=1e-9, what="sample pareto")
    ck.check(sm["loyal"] == [n for n, s in zip(names, seg)
                             if s in ("Champions", "Loyal")], "sample: loyal")
    S = sum(1 for c in cust.values()
            if any(a_ts - W <= t < a_ts for t in c["ts"]))
    E_ = sum(1 for c in cust.values()
             if any(b_ts - W < t <= b_ts for t in c["ts"]))
    N = sum(1 for c in cust.values() if a_ts <= c["first"] <= b_ts)
    crr = sm["crr"]
    ck.check((crr["start"], crr["end"], crr["new"]) == (S, E_, N),
             "sample: crr %r, want S=%d E=%d N=%d" % (crr, S, E_, N))
    ck.close(crr["crr"], (E_ - N) / S * 100, rel=1e-12, what="sample crr")

ck.finish()
