"""cli_errors.py -- runtime errors of the xsell command.

  - exit 1 for runtime errors: a missing or unreadable file, a bad data line
    (stderr holds `file:LINE: reason` with the right line, counting blank
    lines, CRLF ends and quoted fields spanning lines), an unknown or broken
    plugin (a clear message naming it and where xsell looked);
  - an unknown item in --items: a message naming it on stderr, the other
    items answered as if it were absent (none left: no items, and the
    plugin's `note` saying why), exit 0;
  - nothing ever dies on a signal (checked by every run).
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_errors")
small = ck.data("cli", "small_baskets.csv")
tp_dir = ck.getenv("XS_TEST_PLUGIN_DIR")
plugin_dir = ck.getenv("XS_PLUGIN_DIR")


def expect_line_error(label, args, path, line, reason=None):
    """Exit 1 and 'path:line: reason' on stderr."""
    rc, out, err = ck.expect(args, 1, label=label)
    m = re.search(r"%s:(\d+): (.*)" % re.escape(path), err)
    if ck.check(m, "%s: stderr has no '%s:LINE: reason': %s"
                % (label, path, err)):
        ck.check(int(m.group(1)) == line, "%s: reported line %s, want %d: %s"
                 % (label, m.group(1), line, err.strip()))
        if reason:
            ck.check(reason in m.group(2), "%s: reason %r lacks %r"
                     % (label, m.group(2), reason))
    ck.check(out == "", "%s: stdout not empty on error: %s" % (label, out))


def rec(path, *extra):
    return ["recommend", "--baskets", path, "--items", "a"] + list(extra)


# -- missing and unreadable files --------------------------------------------
missing = os.path.join(ck.tmp, "no-such-file.csv")
for args in (rec(missing), ["rules", "--baskets", missing],
             ["recommend", "--events", missing, "--items", "a"],
             ["rules", "--events", missing]):
    rc, out, err = ck.expect(args, 1, stderr_has=missing)
    ck.check(out == "", "%s: stdout not empty" % " ".join(args))
ck.expect(["recommend", "--baskets", small, "--catalog", missing, "--items",
           "milk"], 1, stderr_has=missing)
ck.expect(rec(ck.tmp), 1, stderr_has=ck.tmp)  # a directory
if os.geteuid() != 0:  # root reads anything
    unreadable = ck.write("unreadable.csv", "a,b\n")
    os.chmod(unreadable, 0)
    ck.expect(rec(unreadable), 1, stderr_has=unreadable)

# -- bad data lines: file:LINE: reason ----------------------------------------
p = ck.write("b1.csv", "a,b\n\nc,,d\ne\n")
expect_line_error("baskets: empty field after a blank line", rec(p), p, 3,
                  "empty")
p = ck.write("b2.csv", "a,b\r\nb,c\r\n\r\nc,d,\r\n")
expect_line_error("baskets: CRLF, trailing comma", rec(p), p, 4)
p = ck.write("b3.csv", "\"multi\nline\",a\nb,c\nd,e\"f\n")
expect_line_error("baskets: stray quote after a two-line field", rec(p), p,
                  4, "quote")
p = ck.write("b4.csv", "a,b\nc,\"open\n\nd\n")
expect_line_error("baskets: unterminated quote", rec(p), p, 2,
                  "unterminated")
p = ck.write("b5.csv", "a,b\n\"x\" y,c\n")
expect_line_error("baskets: text after a quoted field", rec(p), p, 2)
p = ck.write("b6.csv", "\xef\xbb\xbf,a\n".encode("latin-1"), mode="wb")
expect_line_error("baskets: BOM, then an empty first field", rec(p), p, 1)
p = ck.write("b7.csv", "")
rc, out, err = ck.expect(rec(p), 1, stderr_has=p)
p = ck.write("b8.csv", "\n\n  \n")
rc, out, err = ck.expect(rec(p), 1, stderr_has=p)
p = ck.write("b9.csv", "a,b\rc\n")
expect_line_error("baskets: bare CR", rec(p), p, 1)
# the same errors through `rules`
p = ck.write("b10.csv", "a,b\n\n\nc,,d\n")
expect_line_error("rules: empty field", ["rules", "--baskets", p], p, 4)

H = "customer,item,timestamp,weight,price,order\n"
ev = lambda p, *x: ["recommend", "--events", p, "--items", "i1"] + list(x)
p = ck.write("e1.csv", H + "c1,i1,100,1,2.5,o1\nc1,i2,100,1,2.5,o1\n"
             "c2,i1,200,1,2.5\n")
expect_line_error("events: a field short", ev(p), p, 4, "fields")
p = ck.write("e2.csv", H + "c1,i1,100,1,2.5,o1\n\nc1,i2,yesterday,1,2.5,o1\n")
expect_line_error("events: bad timestamp after a blank line", ev(p), p, 4,
                  "timestamp")
p = ck.write("e3.csv", H + "c1,i1,100,-1,2.5,o1\n")
expect_line_error("events: negative weight", ev(p), p, 2, "weight")
p = ck.write("e4.csv", H + "c1,i1,100,1,2.5,o1\nc1,i2,100,1,cheap,o1\n")
expect_line_error("events: bad price", ev(p), p, 3, "price")
p = ck.write("e5.csv", H + "c1,i1,100,1,2.5,o1\n,i2,100,1,2.5,o1\n")
expect_line_error("events: empty customer", ev(p), p, 3, "customer")
p = ck.write("e6.csv", H + "c1,\"i1\nstill i1\",100,1,2.5,o1\n"
             "c1,i2,100,1,2.5,\n")
expect_line_error("events: empty order after a two-line field", ev(p), p, 4,
                  "order")
p = ck.write("e7.csv", "\r\ncustomer,product\r\nc1,i1\r\n")
expect_line_error("events: missing item column", ev(p), p, 2, "item")
ck.expect(ev(p, "--columns", "item=product"), 0)  # mapped, it loads
p = ck.write("e8.csv", "customer\titem\torder\nc1\ti1\to1\nc1\ti2\n")
expect_line_error("events: tab separated, a field short", ev(p), p, 3)
p = ck.write("e9.csv", H)
rc, out, err = ck.expect(ev(p), 1, stderr_has=p)
# a mapped column that is missing
p = ck.write("e10.csv", "userId,movieId\nu1,m1\n")
expect_line_error("events: --columns names a missing column",
                  ev(p, "--columns", "customer=userId,item=movieId,"
                     "timestamp=ts"), p, 1, "ts")
ck.expect(ev(p, "--columns", "customer=userId,item=nope=x"), 1)

good = ck.write("good.csv", H + "c1,i1,100,1,2.5,o1\nc1,i2,100,1,2.5,o1\n")
C = "item,category,price,margin,in_stock,title\n"
p = ck.write("c1.csv", C + "i1,food,1.5,0.1,1,One\ni2,food,free,0.1,1,Two\n")
expect_line_error("catalog: bad price", ev(good, "--catalog", p), p, 3,
                  "price")
p = ck.write("c2.csv", C + "i1,food,1.5,0.1,1,One\n\ni2,food,1,0.1,perhaps,T\n")
expect_line_error("catalog: bad in_stock", ev(good, "--catalog", p), p, 4)
p = ck.write("c3.csv", C + "i1,food,1.5,0.1,1,One\ni2,food,,0.1,1,Two\n")
expect_line_error("catalog: missing price", ev(good, "--catalog", p), p, 3,
                  "price")
p = ck.write("c4.csv", C + "i1,food,-2,0.1,1,One\ni2,food,1,0.1,1,Two\n")
expect_line_error("catalog: negative price", ev(good, "--catalog", p), p, 2,
                  "price")
# a repeated item: the last line wins, and a warning counts the repeats
p = ck.write("c5.csv", C + "i1,food,1.5,0.1,1,One\ni1,food,3,0.1,0,One\n"
             "i1,drink,4,0.1,1,One\ni2,food,1,0.1,1,Two\n")
rc, out, err = ck.expect(["recommend", "--events", good, "--catalog", p,
                          "--plugin", "popular", "--customer", "nobody",
                          "--format", "json", "--category", "drink"], 0,
                         stderr_has=["2 repeated items"])
ck.check('"i1"' in out and '"i2"' not in out,
         "repeated item: the last line (drink, in stock) did not win: %s"
         % out)

# -- plugins --------------------------------------------------------------------
rc, out, err = ck.expect(rec(small, "--plugin", "nosuch"), 1,
                         stderr_has=["nosuch", plugin_dir])
ck.check("looked in" in err, "unknown plugin: message does not say where it "
         "looked: %s" % err)
rc, out, err = ck.expect(rec(small, "--plugin", "nosuch", "--plugin-dir",
                             ck.tmp), 1, stderr_has=["nosuch", ck.tmp])
ck.expect(rec(small, "--plugin", "Not-A-Name"), 2, stderr_has="Not-A-Name")
for f in ["bad_abi.so", "not_elf.so", "no_entry.so", "null_entry.so",
          "unresolved.so", "no_destroy.so"]:
    path = os.path.join(tp_dir, f)
    ck.expect(["recommend", "--baskets", small, "--items", "milk", "--plugin",
               path], 1, stderr_has=path)
path = os.path.join(tp_dir, "create_fails.so")
ck.expect(["recommend", "--baskets", small, "--items", "milk", "--plugin",
           "create_fails", "--plugin-dir", tp_dir], 1,
          stderr_has=[path, "the frobnicator is missing"])
# copurchase refusing an option: a message naming the option
rc, out, err = ck.run(["recommend", "--baskets", small, "--items", "milk",
                       "--plugin-opt", "copurchase.foo=1"])
ck.check(rc in (1, 2) and "foo" in err,
         "--plugin-opt copurchase.foo=1: exit %d, stderr %s" % (rc, err))
rc, out, err = ck.run(["recommend", "--baskets", small, "--items", "milk",
                       "--plugin-opt", "copurchase.min_support=7"])
ck.check(rc in (1, 2) and "min_support" in err,
         "--plugin-opt copurchase.min_support=7: exit %d, stderr %s"
         % (rc, err))
# options for a plugin that is not loaded are a mistake: refused
ck.expect(["recommend", "--baskets", small, "--items", "milk",
           "--plugin-opt", "other.foo=1"], 2, stderr_has="not loaded")
# a scope the data cannot give
ck.expect(["recommend", "--baskets", small, "--items", "milk", "--scope",
           "customer"], 2, stderr_has="customer")
ck.expect(["recommend", "--events", good, "--items", "i1", "--scope",
           "customer"], 0)
no_orders = ck.write("no_orders.csv", "customer,item\nc1,i1\nc1,i2\n")
ck.expect(["rules", "--events", no_orders, "--scope", "basket"], 2,
          stderr_has="order")
ck.expect(["rules", "--events", no_orders], 0)  # customer scope, by default

# -- unknown items: named on stderr, ignored, exit 0 ----------------------------
want = ck.json_of(["recommend", "--baskets", small, "--items", "milk",
                   "--format", "json"])
rc, out, err = ck.expect(["recommend", "--baskets", small, "--items",
                          "no such thing", "--format", "json"], 0,
                         stderr_has="no such thing")
try:
    # nothing left to go on: no items, and copurchase says why (issue 13)
    got = __import__("json").loads(out)
    ck.check(got.get("items") == [] and set(got) == {"items", "note"} and
             got["note"].startswith("copurchase: no items"),
             "unknown item: stdout %r, want no items and copurchase's note"
             % out)
except ValueError:
    ck.fail("unknown item: stdout is not JSON: %r" % out)
rc, out, err = ck.expect(["recommend", "--baskets", small, "--items",
                          "no such thing"], 0, stderr_has="no such thing")
ck.check("rank" in out, "unknown item, table: no header: %r" % out)
rc, out, err = ck.expect(["recommend", "--baskets", small, "--items",
                          "ghost,milk,\"ghost two\"", "--format", "json"], 0,
                         stderr_has=["ghost", "ghost two"])
try:
    got = __import__("json").loads(out)
    ck.check(got == want, "known + unknown items: %r, want as for milk alone "
             "%r" % (got, want))
except ValueError:
    ck.fail("known + unknown items: stdout is not JSON: %r" % out)
# an item of the catalog only (no purchases): known, nothing to say
cat = ck.write("cat.csv", "item,category,price\nmilk,dairy,1\nlonely,x,2\n")
rc, out, err = ck.expect(["recommend", "--baskets", small, "--catalog", cat,
                          "--items", "lonely", "--format", "json"], 0)
ck.check(out.strip() == '{"items":[]}', "catalog-only item: %r" % out)

ck.finish()
