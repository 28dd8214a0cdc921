"""cli_props.py -- issue 15, point 2, on the command line: item properties
and lifecycle from catalog columns, --filter, --boost, --now and the
config file's request.* lines, on the sample store (examples/data) with a
catalog of extra columns (brand, tags split on '|', available_from,
expires, hidden).

  - every built-in plugin (copurchase, upsell, recency, popular, ease) and
    the blend, asked with a basket and with a customer:
    --filter brand=B1,B2 keeps those brands; with --filter tags=organic
    both must match; a value nobody has: nothing; --boost brand:B3=1000
    puts a B3 item first when the unboosted top 50 holds one;
  - lifecycle judged at --now: an item available_from T is out before T
    and in after, an item expiring at T in before and out after, a hidden
    item never in (popular, whose plain answer they would lead);
  - --config lines request.filter, request.boost, request.now do the same,
    and the command line's --filter/--now win over them;
  - `xsell score --filter ... --boost ... --now`: every row passes;
  - errors: an unknown property (exit 2 naming it, and score writes
    nothing), malformed --filter/--boost/--now (exit 2), a bad date or a
    property column holding ':' in the catalog (exit 1, file:line).
"""
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_props")
EV = ck.source("examples", "data", "events.csv")
CAT0 = ck.source("examples", "data", "catalog.csv")
PLUGINS = ["copurchase", "upsell", "recency", "popular", "ease"]
T = 1767225600  # 2026-01-01T00:00:00Z


def brand_of(item):
    return "B%d" % (int(item[1:]) % 5)


def tags_of(item):
    i = int(item[1:])
    return [t for t, c in (("organic", i % 3 == 0), ("vegan", i % 4 == 0))
            if c]


with open(EV, newline="") as f:
    EVENTS = list(csv.DictReader(f))
COUNTS = {}
for r in EVENTS:
    COUNTS[r["item"]] = COUNTS.get(r["item"], 0) + 1
POP = sorted(COUNTS, key=lambda i: (-COUNTS[i], i))
LATE, ENDS, HIDDEN = POP[0], POP[1], POP[2]


def catalog(name, extra=None):
    with open(CAT0, newline="") as f:
        rows = list(csv.DictReader(f))
    path = os.path.join(ck.tmp, name)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(rows[0].keys()) +
                   ["brand", "tags", "available_from", "expires", "hidden"])
        for r in rows:
            it = r["item"]
            w.writerow(list(r.values()) + [
                brand_of(it), "|".join(tags_of(it)),
                "2026-01-01" if it == LATE else "",
                str(T) if it == ENDS else "",
                "yes" if it == HIDDEN else ""])
        for line in extra or []:
            w.writerow(line)
    return path


CAT = catalog("catalog.csv")
D = ["--events", EV, "--catalog", CAT, "--plugins", ",".join(PLUGINS)]
CUSTOMER = EVENTS[0]["customer"]
BASKET = EVENTS[0]["item"]


def rec(args, what):
    out = ck.json_of(["recommend"] + D + ["--format", "json"] + args,
                     label=what)
    return [x["item"] for x in out["items"]] if out else []


def check_plugins():
    for plugin in PLUGINS + ["blend"]:
        for kind, req in (("basket", ["--items", BASKET]),
                          ("customer", ["--customer", CUSTOMER])):
            what = "%s %s" % (plugin, kind)
            base = req + ["--plugin", plugin, "--now", str(T + 1)]
            plain = rec(base, what)
            ck.check(plain, "%s: no items" % what)
            ck.check(not {ENDS, HIDDEN} & set(plain), "%s: gave %s"
                     % (what, {ENDS, HIDDEN} & set(plain)))
            got = rec(base + ["--filter", "brand=B1,B2"], what + " filter")
            ck.check(all(brand_of(i) in ("B1", "B2") for i in got),
                     "%s: --filter brand=B1,B2 gave %s" % (what, got))
            got = rec(base + ["--filter", "brand=B1,B2", "--filter",
                              "tags=organic"], what + " two filters")
            ck.check(all(brand_of(i) in ("B1", "B2") and
                         "organic" in tags_of(i) for i in got),
                     "%s: two filters gave %s" % (what, got))
            got = rec(base + ["--filter", "brand=nobody"], what + " nobody")
            ck.check(got == [], "%s: brand nobody gave %s" % (what, got))
            deep = rec(base + ["--k", "50"], what + " k=50")
            b3 = [i for i in deep if brand_of(i) == "B3"]
            got = rec(base + ["--boost", "brand:B3=1000"], what + " boost")
            if b3:
                ck.check(got and brand_of(got[0]) == "B3",
                         "%s: --boost brand:B3=1000: first %s, B3 in the "
                         "top 50: %s" % (what, got[:1], b3[:3]))


def check_lifecycle():
    pop = ["--plugin", "popular", "--k", "20", "--customer", "nobody"]
    before = rec(pop + ["--now", str(T - 1)], "popular before T")
    after = rec(pop + ["--now", str(T + 1)], "popular after T")
    ck.check(LATE not in before and LATE in after,
             "available_from T: before %s, after %s"
             % (LATE in before, LATE in after))
    ck.check(ENDS in before and ENDS not in after,
             "expires T: before %s, after %s" % (ENDS in before,
                                                 ENDS in after))
    ck.check(HIDDEN not in before and HIDDEN not in after,
             "hidden item returned")
    ck.check(before[:1] == [ENDS], "before T the item expiring at T leads "
             "popular: %s" % before[:3])


def check_config():
    conf = ck.write("rules.conf", "# request rules\n"
                    "request.filter = brand=B1\n"
                    "request.boost = tags:vegan=5\n"
                    "request.now = %d\n" % (T - 1))
    anon = ["--plugin", "popular", "--customer", "nobody"]
    got = rec(anon + ["--config", conf], "config")
    ck.check(got and all(brand_of(i) == "B1" for i in got),
             "config filter brand=B1 gave %s" % got)
    plain = rec(anon + ["--filter", "brand=B1", "--boost",
                 "tags:vegan=5", "--now", str(T - 1)], "same on argv")
    ck.check(got == plain, "config %s != command line %s" % (got, plain))
    got = rec(anon + ["--config", conf, "--filter", "brand=B2"],
              "config + --filter")
    ck.check(got and all(brand_of(i) == "B2" for i in got),
             "--filter brand=B2 over the config's B1 gave %s" % got)
    bad = ck.write("bad.conf", "request.colour = red\n")
    ck.expect(["recommend"] + D + ["--items", BASKET, "--config", bad], 2,
              stderr_has="bad.conf:1")


def check_score():
    out = os.path.join(ck.tmp, "score.csv")
    ck.expect(["score"] + D + ["--out", out, "--quiet", "--k", "5",
                               "--filter", "tags=organic,vegan",
                               "--boost", "brand:B4=3", "--now", str(T + 1)],
              0)
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    ck.check(rows, "score: no rows")
    ck.check(all(set(tags_of(r["item"])) & {"organic", "vegan"}
                 for r in rows), "score --filter: a row outside the filter")
    ck.check(not {ENDS, HIDDEN} & {r["item"] for r in rows},
             "score: an expired or hidden item")
    out2 = os.path.join(ck.tmp, "score2.csv")
    ck.expect(["score"] + D + ["--out", out2, "--quiet",
                               "--filter", "colour=red"], 2,
              stderr_has="colour")
    ck.check(not os.path.exists(out2) or os.path.getsize(out2) == 0,
             "score with an unknown property wrote rows")


def check_errors():
    r = ["recommend"] + D + ["--items", BASKET]
    ck.expect(r + ["--filter", "colour=red"], 2,
              stderr_has="unknown property 'colour'")
    ck.expect(r + ["--filter", "brand"], 2, stderr_has="--filter")
    ck.expect(r + ["--filter", "brand="], 2, stderr_has="no value")
    ck.expect(r + ["--boost", "brand=2"], 2, stderr_has="--boost")
    ck.expect(r + ["--boost", "brand:B1=0"], 2, stderr_has="--boost")
    ck.expect(r + ["--boost", "brand:B1=x"], 2, stderr_has="--boost")
    ck.expect(r + ["--now", "yesterday"], 2, stderr_has="--now")
    bad = catalog("bad_date.csv", [["P999001", "wine", "1", "", "1", "",
                                    "B1", "", "soon", "", ""]])
    ck.expect(["recommend", "--events", EV, "--catalog", bad, "--items",
               BASKET], 1, stderr_has=["bad_date.csv:302", "available_from"])
    colon = ck.write("colon.csv", "item,category,price,a:b\nP1,x,1,y\n")
    ck.expect(["recommend", "--events", EV, "--catalog", colon, "--items",
               BASKET], 1, stderr_has=["colon.csv:1", "':'"])
    many = ck.write("many.csv", "item,category,price,tags\nP1,x,1,%s\n"
                    % "|".join("t%d" % i for i in range(65)))
    ck.expect(["recommend", "--events", EV, "--catalog", many, "--items",
               BASKET], 1, stderr_has=["many.csv:2", "64"])


check_plugins()
check_lifecycle()
check_config()
check_score()
check_errors()
ck.finish()
