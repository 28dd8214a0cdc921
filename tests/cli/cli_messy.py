"""cli_messy.py -- messy input through the xsell command (issue 15, point
3), each case by name:

  - events_as_baskets: an events file given as --baskets is refused with a
    hint to use --events (it used to load, prices and times as "items");
  - latin1_refused / latin1_transcoded: a Latin-1 byte is an error naming
    file:line; with --encoding latin1 the names come out as valid UTF-8 JSON;
  - nul_refused: a NUL byte is an error naming file:line (it used to cut
    an id short);
  - on_bad_line: error (default, file:line), skip (a count, the first line
    named), warn (the first lines named), a bad value (exit 2);
  - returns: negative quantities are an error by default, dropped or
    subtracted on request;
  - date_format: exported dates load with --date-format;
  - customers_header: score --customers skips a 'customer' header line;
  - every_command: the options reach rules, recommend, score, segment and
    eval (and serve lists them);
  - uci_fixture: the UCI Online Retail fixture with the documented options
    gives the same rules, segments and scores as its cleaned copy.
"""
import json
import os

from xscli import Checker

ck = Checker("cli_messy")

UCI_COLUMNS = ("customer=CustomerID,item=StockCode,order=InvoiceNo,"
               "weight=Quantity,timestamp=InvoiceDate,price=UnitPrice")
UCI_OPTIONS = ["--columns", UCI_COLUMNS, "--encoding", "latin1",
               "--date-format", "%m/%d/%Y %H:%M", "--returns", "subtract",
               "--on-bad-line", "skip"]

EVENTS = ("customer,item,timestamp,price,order\n"
          "c1,a,1742762763,5.72,o1\nc1,b,1742762763,3.10,o1\n"
          "c2,a,1742762800,5.72,o2\nc2,b,1742762800,1.00,o2\n"
          "c3,a,1742762900,5.72,o3\nc3,c,1742762900,2.00,o3\n")
BAD = ("customer,item,timestamp\n"
       "c1,a,1\nc1,b,1\n"
       ",b,2\n"            # 4: empty customer
       "c2,a,3\n"
       "c2,\"x\"y,3\n"     # 6: text after a quoted field
       "c2,b,3\n"
       "c3,a,4,9\n"        # 8: a field too many
       "c3,b,4\n")


def events_as_baskets():
    ev = ck.write("events.csv", EVENTS)
    for cmd in (["recommend", "--items", "a"], ["rules"]):
        ck.expect(cmd + ["--baskets", ev], 1,
                  stderr_has=["events.csv:1: the first line is a header",
                              "--events"],
                  label="events_as_baskets: " + cmd[0])
    # the same file as --events is fine
    ck.expect(["recommend", "--events", ev, "--items", "a", "--format",
               "json"], 0, label="events_as_baskets: --events")


def latin1():
    path = ck.write("latin1.csv", b"customer,item\nc1,caf\xe9\nc1,tea\n"
                    b"c2,caf\xe9\nc2,tea\nc3,tea\n", mode="wb")
    ck.expect(["rules", "--events", path], 1,
              stderr_has="latin1.csv:2: not UTF-8 (byte 0xE9",
              label="latin1_refused")
    rc, out, err = ck.run(["rules", "--events", path, "--encoding", "latin1",
                           "--min-support", "0.1", "--min-confidence", "0",
                           "--format", "json"])
    ck.check(rc == 0, "latin1_transcoded: exit %d: %s" % (rc, err))
    # the bytes are valid UTF-8 JSON holding the transcoded name
    rc, raw, _ = 0, None, None
    import subprocess
    p = subprocess.run([ck.xsell, "recommend", "--events", path,
                        "--encoding", "latin1", "--items", "tea",
                        "--format", "json"], env=ck.env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ck.check(p.returncode == 0, "latin1_transcoded: recommend exit %d: %s"
             % (p.returncode, p.stderr))
    try:
        doc = json.loads(p.stdout.decode("utf-8"))  # strict: valid UTF-8
        names = [x["item"] for x in doc["items"]]
        ck.check("caf\u00e9" in names, "latin1_transcoded: %r" % names)
    except (UnicodeDecodeError, ValueError, KeyError) as ex:
        ck.fail("latin1_transcoded: not UTF-8 JSON (%s): %r"
                % (ex, p.stdout[:200]))
    ck.expect(["rules", "--events", path, "--encoding", "ebcdic"], 2,
              stderr_has="--encoding", label="latin1: bad --encoding")


def nul():
    path = ck.write("nul.csv", b"customer,item\nc1,ab\x00cd\nc2,tea\n",
                    mode="wb")
    ck.expect(["rules", "--events", path], 1,
              stderr_has="nul.csv:2: NUL byte", label="nul_refused")
    ck.expect(["rules", "--events", path, "--encoding", "latin1"], 1,
              stderr_has="nul.csv:2: NUL byte", label="nul_refused latin1")
    bk = ck.write("nul_baskets.csv", b"a,b\nc\x00d,e\n", mode="wb")
    ck.expect(["rules", "--baskets", bk], 1,
              stderr_has="nul_baskets.csv:2: NUL byte",
              label="nul_refused baskets")


def on_bad_line():
    path = ck.write("bad.csv", BAD)
    ck.expect(["rules", "--events", path], 1,
              stderr_has="bad.csv:4: empty customer",
              label="on_bad_line error")
    ck.expect(["rules", "--events", path, "--on-bad-line", "error"], 1,
              stderr_has="bad.csv:4: empty customer",
              label="on_bad_line error (explicit)")
    rc, out, err = ck.expect(
        ["rules", "--events", path, "--on-bad-line", "skip",
         "--min-support", "0.1", "--min-confidence", "0"], 0,
        stderr_has=["bad.csv: 3 bad lines skipped",
                    "the first: ", "bad.csv:4: empty customer"],
        label="on_bad_line skip")
    ck.check("bad.csv:6" not in err, "on_bad_line skip names more than "
             "the first: %r" % err)
    ck.expect(["rules", "--events", path, "--on-bad-line", "warn"], 0,
              stderr_has=["skipped " + path + ":4: empty customer",
                          "skipped " + path + ":6: unexpected text",
                          "skipped " + path + ":8: expected 3 fields",
                          "bad.csv: 3 bad lines skipped"],
              label="on_bad_line warn")
    ck.expect(["rules", "--events", path, "--on-bad-line", "ignore"], 2,
              stderr_has="--on-bad-line", label="on_bad_line bad value")
    # skipped lines are not data: the same rules as without them
    clean = ck.write("clean.csv", "customer,item,timestamp\nc1,a,1\nc1,b,1\n"
                     "c2,a,3\nc2,b,3\nc3,b,4\n")
    args = ["rules", "--min-support", "0.1", "--min-confidence", "0"]
    _, a, _ = ck.run(args + ["--events", path, "--on-bad-line", "skip"])
    _, b, _ = ck.run(args + ["--events", clean])
    ck.check(a == b and a, "on_bad_line skip: rules differ from the clean "
             "file's:\n%s\n%s" % (a, b))


def returns():
    path = ck.write("returns.csv", "customer,item,order,weight\n"
                    "c1,a,o1,2\nc1,b,o1,1\nc2,a,o2,1\nc2,b,o2,1\n"
                    "c1,b,r1,-1\n")
    ck.expect(["rules", "--events", path], 1,
              stderr_has="returns.csv:6: bad weight '-1'",
              label="returns error")
    ck.expect(["rules", "--events", path, "--returns", "drop"], 0,
              stderr_has="returns.csv: 1 return dropped",
              label="returns drop")
    rc, out, err = ck.expect(
        ["rules", "--events", path, "--returns", "subtract",
         "--min-support", "0.1", "--min-confidence", "0"], 0,
        stderr_has="1 return subtracted (1 purchase removed",
        label="returns subtract")
    # c1's b is gone: no pair a,b in o1 any more, only in o2
    ck.check("a,b,0.5," in out, "returns subtract: rules %r" % out)
    ck.expect(["rules", "--events", path, "--returns", "keep"], 2,
              stderr_has="--returns", label="returns bad value")


def date_format():
    path = ck.write("dates.csv", "customer,item,timestamp,order\n"
                    "c1,a,12/1/2010 8:26,o1\nc1,b,12/1/2010 8:26,o1\n"
                    "c2,a,12/9/2010 14:05,o2\n")
    ck.expect(["segment", "--events", path, "--out", "-"], 1,
              stderr_has="dates.csv:2: bad timestamp '12/1/2010 8:26'",
              label="date_format missing")
    rc, out, err = ck.expect(["segment", "--events", path, "--out", "-",
                              "--date-format", "%m/%d/%Y %H:%M",
                              "--no-monetary", "--format", "json"], 0,
                             label="date_format")
    # c1 last bought 8 days before the latest event (c2's)
    ck.check('"recency_days":8' in out.replace(" ", ""),
             "date_format: segment %r" % out[:300])
    ck.expect(["segment", "--events", path, "--out", "-", "--date-format",
               "%Y-%m-%d"], 1, stderr_has="dates.csv:2: bad timestamp",
              label="date_format wrong format")


def customers_header():
    ev = ck.data("score", "events.csv")
    out = os.path.join(ck.tmp, "top.csv")
    ck.expect(["score", "--events", ev, "--out", out], 0)
    ids = [line.split(",")[0] for line in open(out).read().splitlines()]
    ck.check(ids[0] == "customer", "customers_header: %r" % ids[:2])
    plain = [i for i in ids if '"' not in i]
    lst = ck.write("customers.txt", "\n".join(plain) + "\n")
    rc, _, err = ck.expect(["score", "--events", ev, "--out", out,
                            "--customers", lst], 0,
                           stderr_has=" 0 unknown", label="customers_header")
    ck.check("unknown customer 'customer'" not in err,
             "customers_header: the header counted as a customer: %r" % err)


def every_command():
    path = ck.write("bad_ev.csv", "customer,item,timestamp,weight,order\n"
                    "c1,a,1,1,o1\nc1,b,1,1,o1\nc2,a,2,1,o2\nc2,b,2,1,o2\n"
                    "c3,a,3,1,o3\n,b,3,1,o3\nc3,b,3,1,o3\n")
    out = os.path.join(ck.tmp, "every.csv")
    # eval needs more customers: its fixture with the same bad line 7
    lines = open(ck.data("eval", "events.csv")).read().splitlines()
    lines.insert(6, ",bread,1704600952,1")
    ev_path = ck.write("bad_eval.csv", "\n".join(lines) + "\n")
    runs = {
        "rules": ["rules", "--events", path],
        "recommend": ["recommend", "--events", path, "--items", "a"],
        "score": ["score", "--events", path, "--out", out],
        "segment": ["segment", "--events", path, "--out", out,
                    "--no-monetary"],
        "eval": ["eval", "--events", ev_path],
    }
    for name, args in runs.items():
        ck.expect(args, 1, stderr_has=".csv:7: empty customer",
                  label="every_command %s (default)" % name)
        ck.expect(args + ["--on-bad-line", "skip"], 0,
                  stderr_has=".csv: 1 bad line skipped",
                  label="every_command %s --on-bad-line skip" % name)
    for cmd in ("rules", "recommend", "score", "segment", "eval", "serve"):
        ck.expect([cmd, "--help"], 0,
                  stdout_has=["--on-bad-line", "--returns", "--encoding",
                              "--date-format"],
                  label="every_command %s --help" % cmd)


def uci_fixture():
    raw = ck.data("messy", "uci_online_retail.csv")
    clean = ck.data("messy", "uci_online_retail_clean.csv")
    # as exported it stops at its first imperfect line
    ck.expect(["rules", "--events", raw, "--columns", UCI_COLUMNS], 1,
              stderr_has="uci_online_retail.csv:27: not UTF-8",
              label="uci_fixture as exported")
    rc, _, err = ck.expect(["rules", "--events", raw] + UCI_OPTIONS, 0,
                           stderr_has=["1 bad line skipped",
                                       "uci_online_retail.csv:16: empty "
                                       "customer",
                                       "3 returns subtracted"],
                           label="uci_fixture documented options")
    for cmd in (["rules", "--min-support", "0.05", "--min-confidence", "0",
                 "--out", "-"],
                ["segment", "--out", "-", "--format", "json"],
                ["score", "--out", "-", "--k", "5", "--quiet"],
                ["recommend", "--customer", "17850", "--format", "json"]):
        _, a, ea = ck.run(cmd + ["--events", raw] + UCI_OPTIONS)
        _, b, eb = ck.run(cmd + ["--events", clean, "--columns",
                                 UCI_COLUMNS])
        ck.check(a == b and a, "uci_fixture %s: raw and clean differ\n"
                 "raw: %s%s\nclean: %s%s" % (cmd[0], a[:400], ea[:300],
                                              b[:400], eb[:300]))


def main():
    events_as_baskets()
    latin1()
    nul()
    on_bad_line()
    returns()
    date_format()
    customers_header()
    every_command()
    uci_fixture()
    ck.finish()


main()
