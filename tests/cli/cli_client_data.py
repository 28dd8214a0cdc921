"""cli_client_data.py -- client data stays data (issue 12, point 6).

A small store whose customer ids, item ids, categories and titles hold
markup, quotes, ampersands, spreadsheet formulas, newlines, commas and
UTF-8 goes through every output that carries them:

  - `segment --report`: parsed with html.parser: no <script> element (the
    template has none), no raw `<script>alert`, `</script` or event
    handler anywhere, a Content-Security-Policy allowing no script, and the
    loyal customers' ids back exactly from the text once unescaped;
  - `segment` csv and json, `recommend --format json` (with --explain and
    --catalog), `score` csv and jsonl, `rules` csv and json: parsed with
    Python's csv and json, the strings back exactly; the JSON text holds no
    raw < > & (safe inside a <script> element);
  - `--customers` files read back the ids the csv output wrote;
  - the terminal table of `recommend`: no raw control byte (shown as
    \\xNN), one line a row.
"""
import csv
import io
import json
import os
import re
import sys
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_client_data")

PAYLOAD = "<script>alert(1)</script>"
CUSTOMERS = [PAYLOAD, '"quotes"', "</script><script>alert(2)</script>",
             "&amp;", "two\nlines", "<!--", "=HYPERLINK(\"x\")", "a,b",
             "it's", "caf\u00e9 \u20ac \U0001F600", "<img src=x onerror=alert(3)>"]
ITEMS = ["I" + PAYLOAD, 'I"q"', "I</script><script>", "I&amp;",
         "I\nnl", "I<!--", "+1-2", "I,c"]
CATEGORIES = ["<script>alert(4)</script>", '"cat"', "&amp;", "c\nd"]
PLAIN = ["P%02d" % k for k in range(8)]
ALL_ITEMS = ITEMS + PLAIN
TITLES = ["<img src=x onerror=alert(5)>", "</script><script>alert(6)",
          '"t" & <b>', "line\nbreak"]


def csv_text(rows):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for r in rows:
        w.writerow(r)
    return out.getvalue()


def make_store():
    """Every hostile customer buys often and lately (Champions or Loyal);
    dull customers once, long ago.  Orders pair the hostile items."""
    rows = [["customer", "item", "timestamp", "weight", "price", "order"]]
    t0, day, o = 1735689600, 86400, 0
    for ci, c in enumerate(CUSTOMERS):
        for k in range(8):
            o += 1
            ts = t0 + (200 + k * 3 + ci % 3) * day
            for j, it in enumerate([ITEMS[(ci + k % 3) % len(ITEMS)],
                                    ITEMS[(ci + 3) % len(ITEMS)],
                                    PLAIN[(ci + k) % len(PLAIN)]]):
                if j != 1 or k == 0:  # four hostile items each
                    rows.append([c, it, ts, 1, "%.2f" % (5 + j),
                                 "O%05d" % o])
    for d in range(30):
        o += 1
        rows.append(["D%02d" % d, ITEMS[d % len(ITEMS)], t0 + d * day, 1,
                     "1.00", "O%05d" % o])
    cat = [["item", "category", "price", "margin", "in_stock", "title"]]
    for i, it in enumerate(ALL_ITEMS):
        cat.append([it, CATEGORIES[i % len(CATEGORIES)], "%.2f" % (3 + i),
                    "0.2", "1", TITLES[i % len(TITLES)]])
    return (ck.write("events.csv", csv_text(rows)),
            ck.write("catalog.csv", csv_text(cat)))


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def no_markup(text, what):
    """JSON text safe inside <script>: no raw < > & at all."""
    bad = [c for c in "<>&" if c in text]
    ck.check(not bad, "%s: raw %s in the JSON text" % (what, bad))


class Report(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.starts = []
        self.attrs = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.starts.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_report(events):
    html_path = os.path.join(ck.tmp, "report.html")
    out = os.path.join(ck.tmp, "seg.json")
    rc, _, err = ck.run(["segment", "--events", events, "--out", out,
                         "--format", "json", "--report", html_path])
    if not ck.check(rc == 0, "segment --report: exit %d: %s" % (rc, err)):
        return
    doc = json.loads(read(out))
    no_markup(read(out), "segment json")
    ids = [c["customer"] for c in doc["customers"]]
    ck.check(sorted(ids) == sorted(CUSTOMERS + ["D%02d" % d
                                                for d in range(30)]),
             "segment json: ids %r" % ids)
    loyal = doc["summary"]["loyal"]
    ck.check(set(CUSTOMERS) <= set(loyal),
             "segment json: hostile customers not all loyal: %r" % loyal)

    html = read(html_path)
    p = Report()
    p.feed(html)
    p.close()
    ck.check("script" not in p.starts, "report: a <script> element (the "
             "template has none): %d" % p.starts.count("script"))
    for raw in ("<script", "</script", "<img", "<!--"):
        ck.check(raw not in html.lower(), "report: raw %r in the file" % raw)
    ck.check(not [k for k, _ in p.attrs if k.startswith("on")],
             "report: an event handler attribute")
    ck.check(re.search(r'http-equiv="Content-Security-Policy" content="'
                       r"default-src 'none';", html) is not None,
             "report: no Content-Security-Policy allowing nothing")
    ck.check("&lt;script&gt;alert(1)&lt;/script&gt;" in html,
             "report: the payload not there escaped")
    text = "".join(p.text)
    for c in CUSTOMERS:  # the loyal list is in the text, unescaped once
        ck.check(c in text, "report: customer %r not in the text" % c)


def test_segment_csv(events):
    out = os.path.join(ck.tmp, "seg.csv")
    rc, _, err = ck.run(["segment", "--events", events, "--out", out])
    if not ck.check(rc == 0, "segment csv: exit %d: %s" % (rc, err)):
        return
    rows = list(csv.reader(io.StringIO(read(out), newline="")))
    got = [r[0] for r in rows[1:]]
    ck.check(set(CUSTOMERS) <= set(got), "segment csv: ids %r" % got)
    return got


def test_recommend(events, catalog):
    for it in ITEMS:
        quoted = csv_text([[it]]).rstrip("\n")
        rc, out, err = ck.run(["recommend", "--events", events, "--catalog",
                               catalog, "--items", quoted, "--format", "json",
                               "--explain", "--k", "20"])
        if not ck.check(rc == 0, "recommend %r: exit %d: %s"
                        % (it, rc, err)):
            continue
        no_markup(out, "recommend json")
        try:
            got = [x["item"] for x in json.loads(out)["items"]]
        except ValueError as ex:
            ck.fail("recommend %r: not JSON (%s): %r" % (it, ex, out))
            continue
        ck.check(got and set(got) <= set(ALL_ITEMS) and it not in got,
                 "recommend %r: items %r" % (it, got))
    # the table shows titles; it must not fail on them
    rc, out, err = ck.run(["recommend", "--events", events, "--catalog",
                           catalog, "--customer", CUSTOMERS[0],
                           "--plugin", "blend", "--k", "20"])
    if ck.check(rc == 0, "recommend --customer payload: exit %d: %s"
                % (rc, err)):
        # the table: control bytes shown as \xNN, one line a row
        ck.check(not [ch for ch in out if ord(ch) < 0x20 and ch != "\n"],
                 "recommend table: a raw control byte: %r" % out)
        lines = out.splitlines()[1:]
        ck.check(lines and all(re.match(r"\s*\d+  ", ln) for ln in lines),
                 "recommend table: a row broken by the data: %r" % out)
        ck.check("\\x0a" in out, "recommend table: no \\x0a: %r" % out)
    rc, out, err = ck.run(["recommend", "--events", events, "--customer",
                           CUSTOMERS[0], "--plugin", "blend", "--format",
                           "json"])
    if ck.check(rc == 0, "recommend --customer json: exit %d" % rc):
        got = [x["item"] for x in json.loads(out)["items"]]
        ck.check(got and set(got) <= set(ALL_ITEMS) and set(got) & set(ITEMS),
                 "customer recs %r" % got)


def test_score(events, ids):
    # --customers is one id a line: an id holding a newline cannot be listed
    listed = [c for c in CUSTOMERS if "\n" not in c]
    cust = ck.write("customers.csv", csv_text([[c] for c in listed]))
    for fmt in ("csv", "jsonl"):
        out = os.path.join(ck.tmp, "score." + fmt)
        rc, _, err = ck.run(["score", "--events", events, "--out", out,
                             "--format", fmt, "--quiet", "--k", "3",
                             "--plugin", "blend", "--customers", cust])
        if not ck.check(rc == 0, "score %s: exit %d: %s" % (fmt, rc, err)):
            continue
        text = read(out)
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
            custs = [r[0] for r in rows]
            items = [r[2] for r in rows]
        else:
            no_markup(text, "score jsonl")
            docs = [json.loads(line) for line in text.splitlines()]
            custs = [d["customer"] for d in docs]
            items = [x["item"] for d in docs for x in d["items"]]
        ck.check(set(custs) == set(listed),
                 "score %s: customers %r" % (fmt, sorted(set(custs))))
        ck.check(set(items) <= set(ALL_ITEMS) and set(items) & set(ITEMS),
                 "score %s: items %r" % (fmt, sorted(set(items))))
    # the ids the segment csv wrote read back as --customers
    if ids:
        back = ck.write("back.csv", csv_text([[c] for c in ids
                                              if "\n" not in c]))
        out = os.path.join(ck.tmp, "back.jsonl")
        rc, _, err = ck.run(["score", "--events", events, "--out", out,
                             "--format", "jsonl", "--k", "1", "--customers",
                             back])
        if ck.check(rc == 0, "score back: exit %d: %s" % (rc, err)):
            ck.check(" 0 unknown" in err,
                     "score back: ids lost on the way: %s" % err)


def test_rules(events):
    for fmt in ("json", "csv"):
        rc, out, err = ck.run(["rules", "--events", events, "--format", fmt,
                               "--min-support", "0.001",
                               "--min-confidence", "0.01"])
        if not ck.check(rc == 0, "rules %s: exit %d: %s" % (fmt, rc, err)):
            continue
        if fmt == "json":
            no_markup(out, "rules json")
            doc = json.loads(out)
            rules = doc["rules"] if isinstance(doc, dict) else doc
            names = {r[k] for r in rules for k in ("lhs", "rhs")
                     if k in r}
        else:
            rows = list(csv.reader(io.StringIO(out, newline="")))
            h = rows[0]
            names = {r[h.index(k)] for r in rows[1:] for k in ("lhs", "rhs")
                     if k in h}
        ck.check(names <= set(ALL_ITEMS) and names & set(ITEMS),
                 "rules %s: names %r" % (fmt, sorted(names)))


def main():
    events, catalog = make_store()
    test_report(events)
    ids = test_segment_csv(events)
    test_recommend(events, catalog)
    test_score(events, ids)
    test_rules(events)
    ck.finish()


main()
