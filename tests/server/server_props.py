"""server_props.py -- issue 15, point 2, over the wire: item properties and
lifecycle, on the example data with a catalog of extra columns (brand,
tags split on '|', available_from, expires, hidden).

For every built-in plugin (copurchase, upsell, recency, popular, ease) and
the blend, asked with a basket and with a customer:
  - `filter` {"brand": [..]} returns only those brands, {"brand", "tags"}
    only items matching both (values OR-ed, properties AND-ed); a value no
    item has: no items; an unknown property, bad shapes: bad_request;
  - `boost` {"brand:X": 1000} puts a brand-X item first whenever the same
    request without the boost returns one within its widened depth (the
    top 50 here), and never changes which items pass;
  - items that expired, are not available yet, or are hidden in the
    catalog file are never returned, though they are the most popular
    items of the data;
  - the `catalog` op: `delete` takes an item out of every answer at once,
    `hidden` likewise, `available_from` in the future likewise, and
    `properties` change what a filter keeps; a deleted item put back
    returns;
  - with --data-dir, all of it survives a restart from the log (a catalog2
    record) and from a snapshot (`save`).
"""
import csv
import os
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, ReqClient, Server,  # noqa: E402
                      check_error, recommend_problem)

ck = Checker("server_props")
PLUGINS = ["copurchase", "upsell", "recency", "popular", "ease"]
ASKED = PLUGINS + ["blend"]
NOW = int(time.time())
YEAR = 365 * 86400


def brand_of(i):
    return "B%d" % (i % 5)


def tags_of(i):
    return [t for t, c in (("organic", i % 3 == 0), ("vegan", i % 4 == 0))
            if c]


def write_catalog(path, victims):
    """The sample catalog plus properties; victims: item -> lifecycle."""
    with open(ck.catalog_csv(), newline="") as f:
        rows = list(csv.DictReader(f))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(rows[0].keys()) +
                   ["brand", "tags", "available_from", "expires", "hidden"])
        for r in rows:
            i = int(r["item"][1:])
            life = victims.get(r["item"], "")
            w.writerow(list(r.values()) + [
                brand_of(i), "|".join(tags_of(i)),
                NOW + YEAR if life == "future" else "",
                NOW - YEAR if life == "expired" else
                NOW + YEAR if life == "later" else "",
                "true" if life == "hidden" else ""])
    return rows


def ok(reply, what):
    good = ck.check(isinstance(reply, dict) and reply.get("ok") is True,
                    "%s: %s" % (what, str(reply)[:300]))
    if good and "items" in reply:
        p = recommend_problem(reply)
        good = ck.check(p is None, "%s: %s" % (what, p))
    return good


def items(c, req, what):
    r = c.call(dict({"op": "recommend", "k": 10}, **req))
    return [x["item"] for x in r["items"]] if ok(r, what) else []


def num(item):
    return int(item[1:])


def requests(basket, customer):
    return [("basket", {"items": basket}), ("customer", {"customer": customer})]


def popular_items():
    counts = {}
    with open(ck.events_csv(), newline="") as f:
        for row in csv.DictReader(f):
            counts[row["item"]] = counts.get(row["item"], 0) + 1
    return sorted(counts, key=lambda i: (-counts[i], i))


def main():
    pop = popular_items()
    # the four most popular items get a lifecycle that keeps them out;
    # the fifth has an expiry a year ahead: it stays
    victims = {pop[0]: "expired", pop[1]: "future", pop[2]: "hidden",
               pop[3]: "expired", pop[4]: "later"}
    gone = {i for i, v in victims.items() if v != "later"}
    cat = os.path.join(ck.tmp, "catalog.csv")
    write_catalog(cat, victims)
    with open(ck.events_csv(), newline="") as f:
        rows = list(csv.DictReader(f))
    customer = rows[0]["customer"]
    basket = [rows[0]["item"]]
    ctx = zmq.Context()
    try:
        srv = Server(ck, threads=2, label="props",
                     args=["--plugins", ",".join(PLUGINS), "--catalog", cat])
        c = ReqClient(ctx, srv.endpoint, 20000)
        check_props(c, basket, customer, gone, pop[4])
        check_errors(c)
        check_catalog_op(c, basket, customer)
        srv.stop_and_check()
        check_durable(ctx, cat, basket, customer)
    finally:
        ctx.destroy(0)
    ck.finish()


def check_props(c, basket, customer, gone, stays):
    seen_stays = False
    for plugin in ASKED:
        for kind, req in requests(basket, customer):
            base = dict(req, plugin=plugin)
            what = "%s %s" % (plugin, kind)
            plain = items(c, base, what)
            ck.check(plain, "%s: no items at all" % what)
            ck.check(not gone & set(plain), "%s: returned %s (expired, not "
                     "yet available or hidden)" % (what, gone & set(plain)))
            seen_stays |= stays in items(c, dict(base, k=50), what)
            got = items(c, dict(base, filter={"brand": ["B1", "B2"]}),
                        what + " brand B1|B2")
            ck.check(all(brand_of(num(i)) in ("B1", "B2") for i in got),
                     "%s: filter brand B1,B2 gave %s" % (what, got))
            got = items(c, dict(base, filter={"brand": ["B1", "B2"],
                                              "tags": "organic"}),
                        what + " brand and tags")
            ck.check(all(brand_of(num(i)) in ("B1", "B2") and
                         "organic" in tags_of(num(i)) for i in got),
                     "%s: filter brand B1,B2 + organic gave %s" % (what, got))
            got = items(c, dict(base, filter={"brand": "nobody"}),
                        what + " unknown value")
            ck.check(got == [], "%s: a brand nobody has gave %s" % (what, got))
            deep = items(c, dict(base, k=50), what + " k=50")
            b3 = [i for i in deep if brand_of(num(i)) == "B3"]
            got = items(c, dict(base, boost={"brand:B3": 1000.0}),
                        what + " boost")
            if b3 and plugin != "blend":
                ck.check(got and brand_of(num(got[0])) == "B3",
                         "%s: boost brand:B3 x1000, first %s (B3 within "
                         "the top 50: %s)" % (what, got[:1], b3[:3]))
            if b3 and plugin == "blend":  # normalised: B3 leads its lists
                ck.check(got and brand_of(num(got[0])) == "B3",
                         "%s: boost brand:B3 x1000, first %s" % (what, got))
            got = items(c, dict(base, boost={"brand:B3": 1000.0},
                                filter={"tags": "vegan"}),
                        what + " boost + filter")
            ck.check(all("vegan" in tags_of(num(i)) for i in got),
                     "%s: boost with a vegan filter gave %s" % (what, got))
            ck.check(not gone & set(got), "%s: boost brought back %s"
                     % (what, gone & set(got)))
    ck.check(seen_stays, "the item expiring a year ahead never came back")


def check_errors(c):
    base = {"op": "recommend", "items": ["P000030"], "plugin": "popular"}
    check_error(ck, c.call(dict(base, filter={"brnd": ["B1"]})),
                "bad_request", "unknown property", message_has="brnd")
    check_error(ck, c.call(dict(base, boost={"brnd:B1": 2})),
                "bad_request", "unknown boost property", message_has="brnd")
    check_error(ck, c.call(dict(base, filter=["brand"])), "bad_request",
                "filter not a map", message_has="filter")
    check_error(ck, c.call(dict(base, filter={"brand": 3})), "bad_request",
                "filter value not a string", message_has="filter.brand")
    check_error(ck, c.call(dict(base, filter={"brand": []})), "bad_request",
                "filter with no value", message_has="filter.brand")
    check_error(ck, c.call(dict(base, boost={"brand:B1": 0})), "bad_request",
                "boost 0", message_has="boost")
    check_error(ck, c.call(dict(base, boost={"brand:B1": "x"})),
                "bad_request", "boost not a number", message_has="boost")
    check_error(ck, c.call(dict(base, boost={"brand": 2})), "bad_request",
                "boost key without ':'", message_has="property:value")
    check_error(ck, c.call(dict(base, boost={"b%d:x" % i: 2
                                             for i in range(300)})),
                "too_large", "300 boosts", message_has="boost")
    check_error(ck, c.call({"op": "catalog", "items": [
        {"item": "P000001", "category": "wine", "price": 1,
         "properties": {"a:b": "x"}}]}), "bad_request",
        "property name with ':'", message_has="':'")
    check_error(ck, c.call({"op": "catalog", "items": [
        {"item": "P000001", "category": "wine", "price": 1,
         "expires": "not a date"}]}), "bad_request", "bad expires",
        message_has="items[0].expires")
    check_error(ck, c.call({"op": "catalog", "items": [
        {"item": "P000001", "category": "wine", "price": 1,
         "available_from": NOW + 10, "expires": NOW}]}), "bad_request",
        "expires before available_from", message_has="available_from")
    check_error(ck, c.call({"op": "catalog", "items": [
        {"item": "P000001", "delete": "yes"}]}), "bad_request",
        "delete not a boolean", message_has="delete")


def check_catalog_op(c, basket, customer):
    # delete the top item of every plugin's answer: gone at once everywhere
    tops = set()
    for plugin in ASKED:
        for kind, req in requests(basket, customer):
            got = items(c, dict(req, plugin=plugin), plugin + " " + kind)
            if got:
                tops.add(got[0])
    r = c.call({"op": "catalog", "items": [{"item": i, "delete": True}
                                           for i in sorted(tops)]})
    ok(r, "catalog delete")
    for plugin in ASKED:
        for kind, req in requests(basket, customer):
            got = items(c, dict(req, plugin=plugin, k=50),
                        "after delete: %s %s" % (plugin, kind))
            ck.check(not tops & set(got), "after delete: %s %s returned %s"
                     % (plugin, kind, tops & set(got)))
    # hide and date the new top of popular
    got = items(c, {"plugin": "popular"}, "popular after delete")
    hide, later = got[0], got[1]
    r = c.call({"op": "catalog", "items": [
        {"item": hide, "category": "x", "price": 1, "hidden": True},
        {"item": later, "category": "x", "price": 1,
         "available_from": NOW + YEAR},
        # properties set online: a brand nobody had
        {"item": got[2], "category": "x", "price": 1,
         "properties": {"brand": "ONLINE", "tags": ["a", "b"]}}]})
    ok(r, "catalog hide, date, properties")
    for plugin in ASKED:
        got2 = items(c, {"plugin": plugin, "customer": customer, "k": 50},
                     "after hide: " + plugin)
        ck.check(hide not in got2 and later not in got2,
                 "after hide/date: %s returned %s" % (plugin, got2[:5]))
    got3 = items(c, {"plugin": "popular", "filter": {"brand": "ONLINE"}},
                 "online brand")
    ck.check(got3 == [got[2]], "filter brand ONLINE: %s, want %s"
             % (got3, got[2]))
    got3 = items(c, {"plugin": "popular", "filter": {"tags": ["b"]}},
                 "online tag")
    ck.check(got3 == [got[2]], "filter tags b: %s, want %s" % (got3, got[2]))
    # a deleted item put back returns
    back = sorted(tops)[0]
    ok(c.call({"op": "catalog", "items": [
        {"item": back, "category": "x", "price": 1}]}), "put back")
    got4 = items(c, {"plugin": "popular", "k": 100}, "after put back")
    ck.check(back in got4, "deleted %s put back: not returned" % back)


def check_durable(ctx, cat, basket, customer):
    ddir = os.path.join(ck.tmp, "data")
    args = ["--plugins", "popular,copurchase", "--catalog", cat,
            "--data-dir", ddir]
    srv = Server(ck, threads=1, label="durable1", args=args)
    c = ReqClient(ctx, srv.endpoint, 20000)
    top = items(c, {"plugin": "popular"}, "durable: popular")
    ok(c.call({"op": "catalog", "items": [
        {"item": top[0], "delete": True},
        {"item": top[1], "category": "x", "price": 2, "hidden": True},
        {"item": top[2], "category": "x", "price": 2,
         "expires": NOW - 10},
        {"item": top[3], "category": "x", "price": 2,
         "properties": {"brand": "LOGGED"}}]}), "durable: catalog")

    def check(label):
        s = Server(ck, threads=1, label=label, args=args)
        cc = ReqClient(ctx, s.endpoint, 20000)
        got = items(cc, {"plugin": "popular", "k": 50}, label)
        ck.check(not set(top[:3]) & set(got), "%s: %s came back"
                 % (label, set(top[:3]) & set(got)))
        got = items(cc, {"plugin": "popular", "filter": {"brand": "LOGGED"}},
                    label + " filter")
        ck.check(got == [top[3]], "%s: brand LOGGED gives %s, want %s"
                 % (label, got, top[3:4]))
        return s, cc

    srv.stop_and_check()
    srv, c = check("durable: from the log")
    ok(c.call({"op": "save"}), "durable: save")
    srv.stop_and_check()
    srv, c = check("durable: from the snapshot")
    srv.stop_and_check()


if __name__ == "__main__":
    main()
