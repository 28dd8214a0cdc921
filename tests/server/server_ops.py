"""server_ops.py -- every op of docs/protocol.md and every error case,
against `xsell serve` on the example data.

  - recommend: reply shape with and without explain; the explained evidence
    (count, support, confidence, lift, from) equals a brute force over
    examples/data/events.csv; k; plugin named explicitly (copurchase and the
    test plugin testgood) or nil; exclude honoured (unknown and integer ids
    ignored); unknown ids (strings and integers) listed in "unknown" and
    otherwise ignored; customer known, unknown, integer, nil; request items
    never returned;
  - ingest: accepted count; an order pairing two items never seen together,
    brand-new items, an event joining an order of the loaded data, an event
    without an order, integer ids: each seen by the next recommend with the
    right counts, and by stats; every refused batch (missing fields, wrong
    types, out of range values, not maps, 10,001 events) applies nothing
    (stats unchanged, its new items still unknown); 10,000 events accepted;
  - rules: limit, every sort, scope (customer: unavailable), thresholds,
    checked against the brute force; stats: every field, counts that grow
    exactly with the requests made (one worker, so no race); health;
    plugins;
  - "id" echoed on success and on errors (strings, integers, up to 256
    bytes), never a previous request's id;
  - errors: not msgpack, not a map, trailing bytes, missing/mistyped op,
    unknown op, keys not strings, field given twice, mistyped and out of
    range fields, nesting (8 levels fine, 9 and 100 refused), too many items
    or exclusions, unknown plugin, names with NUL bytes, a failing plugin
    (internal); error messages quoting request bytes stay valid UTF-8;
  - transport: REQ, DEALER with and without the empty delimiter, several
    frames in one message (bad_request, server stays up), many requests in
    flight on one DEALER, a message over --max-msg (no reply; a new socket
    is answered).
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, Data, ReqClient, Server, Timeout,  # noqa: E402
                      check_error, pack, recommend_problem, shape_problem,
                      socket, stats_problem, strip_id, unpack)
import zmq  # noqa: E402

ck = Checker("server_ops")
tp_dir = ck.opts.get("test-plugin-dir")
if not tp_dir or not os.path.isdir(tp_dir):
    print("server_ops: --test-plugin-dir DIR (with testgood.so) is required",
          file=sys.stderr)
    sys.exit(1)
data = Data(ck.events_csv())
DBL_EPSILON = sys.float_info.epsilon


# -- helpers ------------------------------------------------------------------

def ok_reply(reply, what, keys=None):
    """reply is ok: true (and, when keys is given, has exactly those keys
    besides ok)."""
    if not ck.check(isinstance(reply, dict) and reply.get("ok") is True,
                    "%s: want ok, got %s" % (what, str(reply)[:400])):
        return False
    p = shape_problem(reply)
    good = ck.check(p is None, "%s: malformed reply: %s" % (what, p))
    if keys is not None:
        good = ck.eq(sorted(set(reply) - {"ok"}), sorted(keys),
                     "%s: reply keys" % what) and good
    return good


def rec(c, items, what, explain=None, **kw):
    req = {"op": "recommend", "items": items}
    if explain is not None:
        req["explain"] = explain
    req.update(kw)
    r = c.call(req)
    if ok_reply(r, what):
        p = recommend_problem(r, explain=bool(explain))
        ck.check(p is None, "%s: %s" % (what, p))
    return r


def names(reply):
    return [x["item"] for x in reply.get("items", [])]


def by_item(reply):
    return {x["item"]: x for x in reply.get("items", [])}


def stats(c, what="stats"):
    s = c.call({"op": "stats"})
    if ok_reply(s, what):
        ck.check(stats_problem(s) is None, "%s: %s" % (what, stats_problem(s)))
    return s


def expect_error(c, payload, code, what, message_has=None, rid=None):
    try:
        r = c.call(payload)
    except Timeout:
        ck.fail("%s: no reply" % what)
        return None
    except ValueError as ex:
        ck.fail("%s: %s" % (what, ex))
        return None
    check_error(ck, r, code, what, message_has, rid)
    return r


def raw_map(*pairs):
    """A msgpack map built by hand (for duplicate keys, odd key types)."""
    out = bytes([0x80 | len(pairs)]) if len(pairs) < 16 else (
        b"\xde" + len(pairs).to_bytes(2, "big"))
    for k, v in pairs:
        out += pack(k) + pack(v)
    return out


def nested(levels, leaf=1):
    """{"op": "health", "x": [[...[leaf]...]]} with the map at level 1, so
    that leaf sits at level `levels` (levels >= 3)."""
    v = leaf
    for _ in range(levels - 2):
        v = [v]
    return {"op": "health", "x": v}


def expected_evidence(a, b, cnt):
    """copurchase's explain of a -> b with pair count cnt in the loaded data
    (before any ingest)."""
    n = data.n
    return {"count": float(cnt), "support": cnt / n,
            "confidence": cnt / data.count[a],
            "lift": cnt * n / (data.count[a] * data.count[b]), "from": a}


def check_evidence(x, want, what):
    for key in ("count", "support", "confidence", "lift"):
        ck.close(x.get(key), want[key], "%s.%s" % (what, key))
    ck.eq(x.get("from"), want["from"], "%s.from" % what)


# -- the ops ------------------------------------------------------------------

def test_health_plugins(c):
    h = c.call({"op": "health"})
    if ok_reply(h, "health", ["status", "uptime_s"]):
        ck.eq(h["status"], "serving", "health.status")
        ck.check(isinstance(h["uptime_s"], float) and h["uptime_s"] >= 0,
                 "health.uptime_s %r" % h["uptime_s"])
    p = c.call({"op": "plugins"})
    if ok_reply(p, "plugins", ["default", "plugins"]):
        ck.eq(p["default"], "copurchase", "plugins.default")
        ck.eq([x.get("name") for x in p["plugins"]],
              ["copurchase", "testgood"], "plugins names, in --plugins order")
        for x in p["plugins"]:
            ck.check(set(x) == {"name", "version", "abi", "description"} and
                     isinstance(x["version"], str) and x["version"] and
                     isinstance(x["abi"], int) and x["abi"] >= 1 and
                     isinstance(x["description"], str) and x["description"],
                     "plugins entry %r" % x)
        tg = [x for x in p["plugins"] if x.get("name") == "testgood"]
        ck.check(tg and tg[0]["version"] == "9.9.9",
                 "testgood's version: %r" % tg)


def test_recommend(c):
    A, B = data.popular(2)
    nA = sorted(data.nbrs[A])
    # explain, everything: exactly A's neighbours with the brute-force
    # evidence, best first
    full = rec(c, [A], "recommend explain k=1000", explain=True, k=1000)
    ck.eq(sorted(names(full)), nA, "recommend [%s] k=1000: the items are "
          "its neighbours" % A)
    ck.eq(set(full) - {"ok"}, {"items"}, "recommend reply keys")
    for x in full.get("items", []):
        b = x["item"]
        if b in data.count:
            want = expected_evidence(A, b, data.pair[(A, b)])
            check_evidence(x, want, "explain %s -> %s" % (A, b))
            ck.close(x["score"], want["lift"], "score of %s = lift" % b)
            ck.eq(x["plugin"], "copurchase", "plugin of %s" % b)
    # default k is 10; without explain, the same ranking without evidence
    r = rec(c, [A], "recommend default k", explain=False)
    ck.eq(len(r.get("items", [])), min(10, len(nA)), "default k = 10")
    top = [(x["item"], x["score"], x["plugin"]) for x in full["items"]]
    ck.eq([(x["item"], x["score"], x["plugin"]) for x in r.get("items", [])],
          top[:10], "recommend without explain = first 10 of the full list")
    r = rec(c, [A], "recommend no explain field")
    ck.check(recommend_problem(r, explain=False) is None,
             "explain absent: no evidence %s" % recommend_problem(r, False))
    for k in (1, 3, 1000):
        r = rec(c, [A], "recommend k=%d" % k, k=k)
        ck.eq(names(r), [t[0] for t in top[:k]], "recommend k=%d" % k)
    # request items are never returned
    r = rec(c, [A, B], "recommend [A, B]", k=1000)
    ck.check(r.get("items") and A not in names(r) and B not in names(r),
             "request items returned: %s" % names(r)[:20])
    r2 = rec(c, [B, A, A, B], "recommend [B, A, A, B]", k=1000)
    ck.eq(strip_id(r2), strip_id(r), "basket order and duplicates do not "
          "matter")
    # plugin named explicitly
    r = rec(c, [A], "plugin copurchase", explain=True, k=1000,
            plugin="copurchase")
    ck.eq(r, full, "plugin: copurchase = the default")
    r = rec(c, [A], "plugin nil", explain=True, k=1000, plugin=None)
    ck.eq(r, full, "plugin: nil = the default")
    # testgood pushes 6 invalid candidates per request (3 unknown ids, NaN,
    # +inf, -inf): dropped, and counted in stats
    def dropped():
        st = c.call({"op": "stats"})
        return st.get("plugins", {}).get("testgood", {}).get("dropped")
    d0 = dropped()
    r = c.call({"op": "recommend", "items": [A], "k": 5, "plugin": "testgood"})
    ck.eq(dropped(), (d0 or 0) + 6, "stats: testgood's dropped candidates")
    if ok_reply(r, "plugin testgood"):
        ck.eq(len(r["items"]), 5, "testgood k=5")
        ck.check(all(x["plugin"] == "testgood" for x in r["items"]),
                 "testgood items come from testgood: %r" % r["items"])
        ck.check(A not in names(r), "testgood returned the request item")
        ck.check(names(r) != [t[0] for t in top[:5]],
                 "testgood answers like copurchase: %s" % names(r))
        sc = [x["score"] for x in r["items"]]
        ck.check(all(math.isfinite(s) for s in sc) and sc == sorted(
            sc, reverse=True), "testgood scores: %r" % sc)
    # exclude: the same ranking without the excluded items
    ex = [top[0][0], top[2][0], "NOPE-EXCLUDED", 12345]
    r = rec(c, [A], "exclude", k=5, exclude=ex)
    want = [t for t in top if t[0] not in ex][:5]
    ck.eq([(x["item"], x["score"], x["plugin"]) for x in r.get("items", [])],
          want, "exclude %s" % ex)
    r = rec(c, [A], "exclude everything", k=1000, exclude=nA)
    ck.eq(names(r), [], "excluding all of A's neighbours")
    r = rec(c, [A], "exclude []", k=1000, exclude=[])
    ck.eq(r, strip_id(rec(c, [A], "k=1000", k=1000)), "exclude []")
    # unknown ids: listed, otherwise ignored (integers read as decimal text)
    r = rec(c, [A, "NOPE-1", 777777, "NOPE-1"], "unknown ids", k=1000)
    ck.eq(r.get("items"), rec(c, [A], "k=1000", k=1000).get("items"),
          "unknown ids are ignored")
    u = r.get("unknown")
    ck.check(isinstance(u, list) and set(u) == {"NOPE-1", "777777"},
             "unknown lists the unknown ids (strings and integers as "
             "decimal text): %r" % (u,))
    r = rec(c, ["NOPE-2"], "only unknown ids")
    ck.eq(r.get("unknown"), ["NOPE-2"], "only unknown: unknown")
    ck.eq(r.get("items"), [], "only unknown: nothing to recommend from")
    r = rec(c, [], "empty basket")
    ck.check("unknown" not in r, "empty basket: 'unknown' present")
    r = rec(c, [A], "known only")
    ck.check("unknown" not in r, "no unknown ids: 'unknown' present: %r" % r)
    # customer: known, unknown, integer, nil (copurchase is not personal);
    # a known customer's purchases are dropped unless exclude_owned is false
    cust = sorted(data.customers)[0]
    base = strip_id(rec(c, [A], "anonymous", k=20))
    for cv in (cust, "NOBODY-HERE", 5, None):
        r = rec(c, [A], "customer %r" % (cv,), k=20, customer=cv,
                exclude_owned=False)
        ck.eq(r, base, "customer %r, exclude_owned false: same answer as "
              "anonymous" % (cv,))
    for cv in ("NOBODY-HERE", 5, None):
        r = rec(c, [A], "customer %r" % (cv,), k=20, customer=cv)
        ck.eq(r, base, "customer %r: same answer as anonymous" % (cv,))
    top20 = {x["item"] for x in base.get("items", [])}
    cust = next((cu for cu in sorted(data.customers)
                 if data.bought[cu] & top20), None)
    ck.check(cust is not None, "sample: nobody owns any of the top 20")
    owned = data.bought.get(cust, set())
    longer = strip_id(rec(c, [A], "anonymous k=1000", k=1000))
    r = rec(c, [A], "customer %r" % cust, k=20, customer=cust)
    ck.eq(r.get("items"), [x for x in longer.get("items", [])
                           if x["item"] not in owned][:20],
          "customer %r: the anonymous ranking without what they bought"
          % cust)


def test_ids(c):
    # echoed on success by every op ...
    reqs = [{"op": "health"}, {"op": "plugins"}, {"op": "stats"},
            {"op": "recommend", "items": [data.popular(1)[0]]},
            {"op": "rules", "limit": 1}, {"op": "ingest", "events": []}]
    for i, rq in enumerate(reqs):
        for rid in ("req-%d" % i, i * 1000 + 7, -3):
            rq = dict(rq, id=rid)
            r = c.call(rq)
            if ok_reply(r, "%s with id %r" % (rq["op"], rid)):
                ck.eq(r.get("id"), rid, "%s: id echoed" % rq["op"])
                ck.check(type(r.get("id")) is type(rid),
                         "%s: id %r came back as %r" % (rq["op"], rid,
                                                        r.get("id")))
    # ... and on errors
    expect_error(c, {"op": "fly", "id": "e1"}, "unknown_op", "unknown op + id",
                 rid="e1")
    expect_error(c, {"op": "recommend", "k": "ten", "id": 99}, "bad_request",
                 "bad k + id", rid=99)
    expect_error(c, {"op": "recommend", "plugin": "nope", "id": "e3"},
                 "unknown_plugin", "unknown plugin + id", rid="e3")
    expect_error(c, {"op": "recommend", "items": ["x"] * 1001, "id": "e4"},
                 "too_large", "too many items + id", rid="e4")
    expect_error(c, {"id": "e5"}, "bad_request", "missing op + id", rid="e5")
    expect_error(c, {"op": "ingest", "events": [{"item": "x"}], "id": "e6"},
                 "bad_request", "bad ingest + id", rid="e6")
    # at most 256 bytes encoded: a str8 of 254 bytes is 256, 255 is 257
    for n, echoed in ((254, True), (255, False), (2000, False)):
        rid = "i" * n
        r = c.call({"op": "health", "id": rid})
        if ok_reply(r, "health with a %d-byte id" % n):
            ck.eq(r.get("id"), rid if echoed else None,
                  "a %d-byte id echoed: %s" % (n, echoed))
    # ids of other types are not echoed (the request is still answered)
    for rid in ([1], {"a": 1}, 1.5, None, True):
        r = c.call({"op": "health", "id": rid})
        if ok_reply(r, "health with id %r" % (rid,)):
            ck.check("id" not in r, "id %r echoed as %r" % (rid, r.get("id")))
    # never a previous request's id: one worker answers these in turn
    for bad, label in ((b"\xc1", "not msgpack"), (b"\x93\x01\x02\x03",
                                                  "not a map"),
                       (b"", "empty"), (b"\xa3abc", "a string")):
        for rid in ("S" * 100, 4242):
            r = c.call({"op": "health", "id": rid})
            ok_reply(r, "health before %s" % label)
            r = c.call(bad)
            check_error(ck, r, "bad_request", "%s after a request with id %r"
                        % (label, rid))
    r = c.call({"op": "health", "id": "T" * 100})
    r = c.call({"op": "health"})
    if ok_reply(r, "health without id"):
        ck.check("id" not in r, "request without id got id %r" % r.get("id"))
    r = c.call({"op": "health", "id": "U" * 100})
    r = c.call(raw_map((1, 2), ("op", "health")))
    check_error(ck, r, "bad_request", "key not a string after an id")


def brute_rules(min_support, min_confidence):
    n = data.n
    min_count = max(1, math.ceil(min_support * n * (1 - DBL_EPSILON)))
    out = {}
    for (a, b), cnt in data.pair.items():
        if cnt < min_count:
            continue
        conf = cnt / data.count[a]
        if conf < min_confidence - 1e-12:
            continue
        out[(a, b)] = {"support": cnt / n, "confidence": conf,
                       "lift": cnt * n / (data.count[a] * data.count[b]),
                       "count": cnt}
    return out


def test_rules(c):
    # defaults: min_support 0.1, min_confidence 0.8, limit 100, lift
    r = c.call({"op": "rules"})
    if ok_reply(r, "rules defaults", ["transactions", "total", "rules"]):
        ck.eq(r["transactions"], data.n, "rules.transactions")
        ck.eq(r["total"], len(brute_rules(0.1, 0.8)), "rules total, defaults")
    ms, mc = 0.001, 0.1
    want = brute_rules(ms, mc)
    ck.check(len(want) > 150, "the example data has few rules: %d" % len(want))
    keyf = {"lift": lambda k: want[k]["lift"],
            "confidence": lambda k: want[k]["confidence"],
            "support": lambda k: want[k]["count"],
            "count": lambda k: want[k]["count"], "name": lambda k: 0}
    for sort in ("lift", "confidence", "support", "count", "name", None):
        for limit in (1, 7, None):
            rq = {"op": "rules", "min_support": ms, "min_confidence": mc,
                  "scope": "basket"}
            if sort:
                rq["sort"] = sort
            if limit:
                rq["limit"] = limit
            what = "rules sort=%s limit=%s" % (sort, limit)
            r = c.call(rq)
            if not ok_reply(r, what, ["transactions", "total", "rules"]):
                continue
            ck.eq(r["total"], len(want), what + ": total")
            ck.eq(r["transactions"], data.n, what + ": transactions")
            rules = r["rules"]
            ck.eq(len(rules), min(limit or 100, len(want)), what + ": count")
            got = []
            for x in rules:
                if not ck.check(set(x) == {"lhs", "rhs", "support",
                                           "confidence", "lift", "count"},
                                "%s: rule keys %s" % (what, sorted(x))):
                    continue
                k = (x["lhs"], x["rhs"])
                got.append(k)
                if not ck.check(k in want, "%s: rule %s not expected"
                                % (what, k)):
                    continue
                for f in ("support", "confidence", "lift"):
                    ck.close(x[f], want[k][f], "%s: %s %s" % (what, k, f))
                ck.eq(x["count"], want[k]["count"], "%s: %s count" % (what, k))
            kf = keyf[sort or "lift"]
            # best first, ties by name; the first `limit` of all the rules
            order = sorted(want, key=lambda k: (-kf(k), k))
            if sort in ("support", "count", "name"):
                ck.eq(got, order[:len(got)], what + ": order")
            elif got:
                ck.check(all(kf(got[i]) >= kf(got[i + 1]) - 1e-12 * kf(got[i])
                             for i in range(len(got) - 1)),
                         what + ": not best first")
                last = kf(got[-1])
                rest = [k for k in want if k not in set(got)]
                ck.check(all(kf(k) <= last * (1 + 1e-12) for k in rest),
                         what + ": a better rule was left out")
    r = c.call({"op": "rules", "min_support": 0, "min_confidence": 0,
                "limit": 10000, "sort": "name"})
    if ok_reply(r, "rules limit=10000"):
        ck.eq(r["total"], len(data.pair), "all rules: one per directed pair")
        ck.eq(len(r["rules"]), min(10000, len(data.pair)), "limit 10000")
    expect_error(c, {"op": "rules", "scope": "customer"}, "unavailable",
                 "rules for the customer scope (no table)")
    for field, v in (("limit", 0), ("limit", 10001), ("limit", -1),
                     ("limit", "x"), ("limit", 1.5), ("sort", "bogus"),
                     ("sort", "lift " * 10), ("sort", 3),
                     ("sort", "lift\x00x"), ("sort", "Lift"),
                     ("scope", "basket\x00"), ("scope", "galaxy"),
                     ("scope", 1), ("min_support", -0.1),
                     ("min_support", 1.5), ("min_support", "x"),
                     ("min_confidence", 2), ("min_confidence", [0.5]),
                     ("min_support", float("nan")),
                     ("min_confidence", float("inf"))):
        expect_error(c, {"op": "rules", field: v}, "bad_request",
                     "rules %s=%r" % (field, v), message_has=field)


def test_stats(c):
    s0 = stats(c, "stats before")
    ck.eq(s0.get("events"), data.events, "stats.events")
    ck.eq(s0.get("customers"), len(data.customers), "stats.customers")
    ck.check(s0.get("items", 0) >= len(data.items), "stats.items %r"
             % s0.get("items"))
    ck.eq(s0.get("ingested"), 0, "stats.ingested before any ingest")
    ck.eq(s0.get("transactions"), {"basket": data.n, "customer": 0},
          "stats.transactions")
    ck.eq(s0.get("pairs"), {"basket": len(data.pair), "customer": 0},
          "stats.pairs (directed)")
    A = data.popular(1)[0]
    for _ in range(3):
        rec(c, [A], "recommend for stats")
    expect_error(c, {"op": "recommend", "k": 0}, "bad_request", "k=0")
    expect_error(c, b"\xc1", "bad_request", "not msgpack (stats)")
    expect_error(c, {"nope": 1}, "bad_request", "no op (stats)")
    c.call({"op": "health"})
    c.call({"op": "health"})
    c.call({"op": "plugins"})
    c.call({"op": "rules", "limit": 1})
    expect_error(c, {"op": "rules", "limit": 0}, "bad_request", "limit=0")
    s1 = stats(c, "stats after")
    if "requests" not in s0 or "requests" not in s1:
        return
    d = {op: (s1["requests"][op]["count"] - s0["requests"][op]["count"],
              s1["requests"][op]["errors"] - s0["requests"][op]["errors"])
         for op in s0["requests"]}
    ck.eq(d, {"recommend": (4, 1), "ingest": (0, 0), "rules": (2, 1),
              "stats": (1, 0), "health": (2, 0), "plugins": (1, 0),
              "catalog": (0, 0), "save": (0, 0), "invalid": (2, 2)},
          "stats.requests grew by what was sent")
    ck.check(s1["uptime_s"] >= s0["uptime_s"], "uptime_s went back")
    ck.check(s1["latency_us"]["max"] >= s1["latency_us"]["p99"] > 0,
             "latency %r" % s1["latency_us"])
    for k in ("customers", "items", "events", "ingested", "transactions",
              "pairs"):
        ck.eq(s1[k], s0[k], "stats.%s unchanged by reads" % k)


def counts(s):
    return {k: s.get(k) for k in ("customers", "items", "events", "ingested",
                                  "transactions", "pairs")}


def test_ingest(c):
    A = data.popular(1)[0]
    cA = data.count[A]
    n = data.n
    Bn = data.never_together(A)
    ck.check(Bn is not None, "no item is never with %s" % A)
    s0 = stats(c, "stats before ingest")
    r = rec(c, [A], "before ingest", k=1000)
    ck.check(Bn not in names(r), "%s recommended with %s before they met"
             % (Bn, A))
    # 1. an order pairing two items never seen together
    r = c.call({"op": "ingest", "events": [
        {"customer": "T-C1", "item": A, "order": "T-O1", "ts": 1735800000,
         "qty": 1, "price": 2.5},
        {"customer": "T-C1", "item": Bn, "order": "T-O1", "ts": 1735800000.5,
         "qty": 2.0, "price": None}]})
    ok_reply(r, "ingest a new pair", ["accepted"])
    ck.eq(r.get("accepted"), 2, "ingest a new pair: accepted")
    n += 1
    cA += 1
    cB = data.count[Bn] + 1
    r = rec(c, [A], "after ingest of a pair", explain=True, k=1000)
    x = by_item(r).get(Bn)
    if ck.check(x, "%s not recommended with %s after their order was "
                "ingested" % (Bn, A)):
        check_evidence(x, {"count": 1.0, "support": 1 / n,
                           "confidence": 1 / cA, "lift": n / (cA * cB),
                           "from": A}, "ingested pair %s -> %s" % (A, Bn))
    r = rec(c, [Bn], "after ingest, the other way", explain=True, k=1000)
    x = by_item(r).get(A)
    if ck.check(x, "%s not recommended with %s" % (A, Bn)):
        ck.eq(x.get("count"), 1.0, "ingested pair %s -> %s: count" % (Bn, A))
    s1 = stats(c, "stats after the pair")
    ck.eq(s1.get("ingested"), 2, "stats.ingested after 2 events")
    ck.eq(s1.get("events"), s0.get("events", 0) + 2, "stats.events + 2")
    ck.eq(s1.get("customers"), s0.get("customers", 0) + 1,
          "stats.customers: T-C1 is new")
    ck.eq(s1.get("items"), s0.get("items"), "stats.items: no new item")
    ck.eq(s1.get("transactions", {}).get("basket"), n,
          "stats.transactions.basket + 1")
    ck.eq(s1.get("pairs", {}).get("basket"), len(data.pair) + 2,
          "stats.pairs.basket: one new pair, both directions")
    # 2. a brand-new item in three orders with A (integer customer and
    # order ids, read as their decimal text)
    new = "T-NEW-1"
    evs = []
    for o in (900001, 900002, 900003):
        evs += [{"customer": 424242, "item": A, "order": o},
                {"customer": 424242, "item": new, "order": o}]
    r = c.call({"op": "ingest", "events": evs})
    ok_reply(r, "ingest a new item", ["accepted"])
    ck.eq(r.get("accepted"), 6, "ingest a new item: accepted")
    n += 3
    cA += 3
    r = rec(c, [A], "after ingest of a new item", explain=True, k=1000)
    x = by_item(r).get(new)
    if ck.check(x, "new item %s not recommended with %s" % (new, A)):
        check_evidence(x, {"count": 3.0, "support": 3 / n,
                           "confidence": 3 / cA, "lift": 3 * n / (cA * 3),
                           "from": A}, "new item %s" % new)
        ck.eq(names(r)[0], new, "the new item, always with %s, has the top "
              "lift" % A)
    r = rec(c, [new], "the new item as the basket", explain=True)
    ck.check("unknown" not in r, "new item still unknown: %r" % r)
    ck.eq([(x["item"], x.get("count")) for x in r.get("items", [])],
          [(A, 3.0)], "recommend [new item]")
    s2 = stats(c, "stats after the new item")
    ck.eq(s2.get("items"), s1.get("items", 0) + 1, "stats.items + 1")
    ck.eq(s2.get("customers"), s1.get("customers", 0) + 1,
          "stats.customers: 424242 is new")
    ck.eq(s2.get("ingested"), 8, "stats.ingested")
    # 3. an event joining an order of the loaded data pairs with all it holds
    order = sorted(o for o, items in data.orders.items() if A in items)[0]
    held = sorted(data.orders[order])
    r = c.call({"op": "ingest", "events": [
        {"customer": "T-C2", "item": "T-NEW-2", "order": order}]})
    ck.eq(r.get("accepted"), 1, "ingest joining order %s" % order)
    r = rec(c, ["T-NEW-2"], "item joined to %s" % order, explain=True,
            k=1000)
    ck.eq(sorted((x["item"], x.get("count")) for x in r.get("items", [])),
          [(h, 1.0) for h in held], "joining %s pairs with its items" % order)
    s3 = stats(c, "stats after joining an order")
    ck.eq(s3.get("transactions", {}).get("basket"), n,
          "joining a known order adds no transaction")
    # 4. no order: customer scope only, no basket pairs
    r = c.call({"op": "ingest", "events": [
        {"customer": "T-C3", "item": "T-NEW-3", "order": None},
        {"customer": "T-C3", "item": "T-NEW-3b"}]})
    ck.eq(r.get("accepted"), 2, "ingest without orders")
    r = rec(c, ["T-NEW-3"], "item without orders")
    ck.check("unknown" not in r and r.get("items") == [],
             "an item ingested without order: %r" % r)
    # 5. an integer item id is its decimal text
    r = c.call({"op": "ingest", "events": [
        {"customer": "T-C4", "item": 777, "order": "T-O5"},
        {"customer": "T-C4", "item": A, "order": "T-O5"}]})
    ck.eq(r.get("accepted"), 2, "ingest an integer item")
    r1 = rec(c, [777], "integer item", k=5)
    r2 = rec(c, ["777"], "its decimal text", k=5)
    ck.eq(r1, r2, "recommend [777] = recommend ['777']")
    ck.eq(names(r1), [A], "recommend [777]")
    # ids of exactly XS_ID_MAX bytes are fine
    r = c.call({"op": "ingest", "events": [
        {"customer": "c" * 1024, "item": "i" * 1024, "order": "o" * 1024}]})
    ck.eq(r.get("accepted"), 1, "ingest of 1024-byte ids: %r" % r)
    r = c.call({"op": "ingest", "events": []})
    ck.eq(strip_id(r), {"ok": True, "accepted": 0}, "ingest of no events")

    # refused batches apply nothing
    before = counts(stats(c, "stats before refused batches"))
    good = {"customer": "T-REF-C", "item": "T-REF-ITEM", "order": "T-REF-O",
            "qty": 1}
    bad_events = [
        ({"item": "x", "order": "o"}, "customer"),
        ({"customer": "c", "order": "o"}, "item"),
        ({"customer": [1], "item": "x"}, "customer"),
        ({"customer": 1.5, "item": "x"}, "customer"),
        ({"customer": None, "item": "x"}, "customer"),
        ({"customer": True, "item": "x"}, "customer"),
        ({"customer": "c", "item": {}}, "item"),
        ({"customer": "c", "item": b"bin"}, "item"),
        ({"customer": "c", "item": "x", "order": [1]}, "order"),
        ({"customer": "c", "item": "x", "order": 1.5}, "order"),
        ({"customer": "c", "item": "x", "ts": "yesterday"}, "ts"),
        ({"customer": "c", "item": "x", "ts": [1]}, "ts"),
        ({"customer": "c", "item": "x", "ts": float("nan")}, "ts"),
        ({"customer": "c", "item": "x", "ts": float("inf")}, "ts"),
        ({"customer": "c", "item": "x", "ts": 1e300}, "ts"),
        ({"customer": "c", "item": "x", "qty": "two"}, "qty"),
        ({"customer": "c", "item": "x", "qty": -1}, "qty"),
        ({"customer": "c", "item": "x", "qty": float("nan")}, "qty"),
        ({"customer": "c", "item": "x", "qty": float("-inf")}, "qty"),
        ({"customer": "c", "item": "x", "qty": None}, "qty"),
        ({"customer": "c", "item": "x", "price": "free"}, "price"),
        ({"customer": "c", "item": "x", "price": -0.01}, "price"),
        ({"customer": "c", "item": "x", "price": float("inf")}, "price"),
        ({"customer": "", "item": "x"}, "customer"),
        ({"customer": "c", "item": ""}, "item"),
        ({"customer": "c", "item": "x", "order": ""}, "order"),
        ({"customer": "c", "item": "x" * 1025}, "item"),
        ({"customer": "c" * 1025, "item": "x"}, "customer"),
        (5, None), ("event", None), ([], None), (None, None),
    ]
    for i, (bad, field) in enumerate(bad_events):
        item = "T-REF-%d" % i
        batch = [dict(good, item=item), dict(good, item=item + "b"), bad]
        r = expect_error(c, {"op": "ingest", "events": batch},
                         "bad_request", "ingest with bad event %r" % (bad,),
                         message_has="events[2]")
        if field and r and isinstance(r.get("error"), dict):
            ck.check(field in r["error"].get("message", ""),
                     "refused event %r: message %r does not name %s"
                     % (bad, r["error"].get("message"), field))
        r = rec(c, [item], "after refused batch %d" % i)
        ck.eq(r.get("unknown"), [item], "refused batch %d applied its good "
              "events" % i)
    for bad in ("x", {}, None, 5, [[1]], [1, 2]):
        expect_error(c, {"op": "ingest", "events": bad}, "bad_request",
                     "ingest events=%r" % (bad,), message_has="events")
    expect_error(c, {"op": "ingest"}, "bad_request", "ingest without events",
                 message_has="events")
    expect_error(c, raw_map(("op", "ingest"), ("events", [good]),
                            ("events", [good])), "bad_request",
                 "ingest with events twice")
    expect_error(c, {"op": "ingest", "events": [
        {"customer": "c", "item": "x", 5: 1}]}, "bad_request",
        "ingest event with a non-string key", message_has="events[0]")
    big = [{"customer": "T-BIG-C", "item": "T-BIG-%d" % i}
           for i in range(10001)]
    expect_error(c, {"op": "ingest", "events": big}, "too_large",
                 "ingest of 10,001 events")
    r = rec(c, ["T-BIG-0"], "after the refused 10,001")
    ck.eq(r.get("unknown"), ["T-BIG-0"], "10,001 events: some applied")
    after = counts(stats(c, "stats after refused batches"))
    ck.eq(after, before, "refused batches changed the data")
    r = c.call({"op": "ingest", "events": big[:10000]})
    ok_reply(r, "ingest of 10,000 events", ["accepted"])
    ck.eq(r.get("accepted"), 10000, "ingest of 10,000 events")
    s = stats(c, "stats after 10,000 events")
    ck.eq(s.get("ingested"), before["ingested"] + 10000, "ingested + 10,000")
    ck.eq(s.get("items"), before["items"] + 10000, "items + 10,000")
    ck.eq(s.get("events"), before["events"] + 10000, "events + 10,000")
    r = rec(c, ["T-BIG-0", "T-BIG-9999", "T-BIG-10000"], "the big batch")
    ck.eq(r.get("unknown"), ["T-BIG-10000"], "after the 10,000 events")


def test_errors(c):
    A = data.popular(1)[0]
    valid = pack({"op": "health"})
    for payload, label in (
            (b"\xc1", "0xc1"), (b"", "empty frame"), (b"\xff\xff", "two ints"),
            (valid + b"\x00", "trailing byte"), (valid + valid, "two maps"),
            (valid[:-3], "truncated"), (b"\x82\xa2op", "truncated map"),
            (b"\xdf\x7f\xff\xff\xff", "huge map"),
            (b"\x81\xa2op\xdb\xff\xff\xff\xf0abc", "huge string"),
            (b"\x81\xa1x\xdd\xff\xff\xff\xff", "huge array"),
            (b"\xc7\x05\x01ab", "truncated ext"),
            (b"GET / HTTP/1.1\r\n\r\n", "http")):
        expect_error(c, payload, "bad_request", "not msgpack: %s" % label)
    for v in ([1, 2, 3], "op", 5, None, True, 1.5, b"bytes", []):
        expect_error(c, pack(v), "bad_request", "not a map: %r" % (v,),
                     message_has="map")
    expect_error(c, {}, "bad_request", "empty map", message_has="op")
    expect_error(c, {"items": [A]}, "bad_request", "missing op",
                 message_has="op")
    for v in (5, None, ["recommend"], b"recommend", {"x": 1}, 1.5, True):
        expect_error(c, {"op": v}, "bad_request", "op = %r" % (v,),
                     message_has="op")
    for v in ("fly", "", "Recommend", "recommend\x00", "recommend " * 30,
              "\u00e9t\u00e9"):
        expect_error(c, {"op": v}, "unknown_op", "op = %r" % v)
    # messages quoting request bytes stay valid UTF-8 (the client decodes
    # them strictly), even when the request's bytes are not or are cut
    expect_error(c, {"op": "\u20ac" * 20}, "unknown_op", "op of 20 euro signs")
    expect_error(c, b"\x81\xa2op\xa3\xff\xfe\xfd", "unknown_op",
                 "op not UTF-8")
    expect_error(c, b"\x83\xa2op\xa9recommend\xa5items\x90\xa6plugin\xa2\xff"
                 b"\xfe", "unknown_plugin", "plugin not UTF-8")
    r = c.call(b"\x82\xa2op\xa6health\xa2id\xa2\xff\xfe")
    if ok_reply(r, "id not UTF-8"):
        ck.eq(r.get("id"), b"\xff\xfe".decode("utf-8", "surrogateescape"),
              "an id that is not UTF-8 comes back as it was sent")
    expect_error(c, raw_map((1, 2), ("op", "health")), "bad_request",
                 "integer key")
    expect_error(c, raw_map(([1], 2), ("op", "health")), "bad_request",
                 "array key")
    for f, v in (("op", "recommend"), ("k", 3), ("items", [A]), ("id", "x"),
                 ("explain", True), ("exclude", [A])):
        m = (raw_map(("op", "recommend"), (f, v), (f, v)) if f == "op" else
             raw_map(("op", "recommend"), (f, v), (f, v), ("items", [A]))
             if f == "items" else
             raw_map(("op", "recommend"), ("items", [A]), (f, v), (f, v)))
        # a duplicated id is still an id: "x" either way
        expect_error(c, m, "bad_request", "field %s given twice" % f,
                     message_has=f, rid="x" if f == "id" else None)
    # unknown fields are ignored, whatever they hold
    r = c.call({"op": "health", "zzz": [1, {"a": [2.5, None]}], "": b"x"})
    ok_reply(r, "unknown fields ignored")
    # nesting: the request map is level 1; 8 levels are fine, 9 are not
    for levels, leaf, ok in ((3, 1, True), (8, 1, True), (8, [], True),
                             (8, {}, True), (9, 1, False), (9, [], False),
                             (100, 1, False)):
        what = "leaf %r at level %d" % (leaf, levels)
        if ok:
            ok_reply(c.call(nested(levels, leaf)), what)
        else:
            expect_error(c, nested(levels, leaf), "bad_request", what,
                         message_has="nested")
    deep_maps = {"op": "health"}
    v = 1
    for _ in range(100):
        v = {"a": v}
    deep_maps["x"] = v
    expect_error(c, deep_maps, "bad_request", "100 nested maps")
    expect_error(c, {"op": "recommend", "items": [[[[[[[[[A]]]]]]]]]},
                 "bad_request", "nested items")
    # recommend fields
    for k in ("ten", 0, -1, -(2 ** 63), 1001, 2 ** 31, 2 ** 63 - 1,
              2 ** 64 - 1, 10.0, True, None, [10]):
        expect_error(c, {"op": "recommend", "items": [A], "k": k},
                     "bad_request", "k = %r" % (k,), message_has="k")
    expect_error(c, {"op": "recommend", "items": [A], "k": "ten"},
                 "bad_request", "k = 'ten'",
                 message_has="k: want an integer, not string")
    for items in ("P000030", [1.5], [[A]], [None], {"a": 1}, 5, [A, True],
                  [A, b"bin"]):
        expect_error(c, {"op": "recommend", "items": items}, "bad_request",
                     "items = %r" % (items,), message_has="items")
    for ex in ("x", [1.5], {"a": 1}, [[A]]):
        expect_error(c, {"op": "recommend", "items": [A], "exclude": ex},
                     "bad_request", "exclude = %r" % (ex,),
                     message_has="exclude")
    for v in ("yes", 1, None, [True]):
        expect_error(c, {"op": "recommend", "items": [A], "explain": v},
                     "bad_request", "explain = %r" % (v,),
                     message_has="explain")
    for v in (5, ["copurchase"], True, b"copurchase"):
        expect_error(c, {"op": "recommend", "items": [A], "plugin": v},
                     "bad_request", "plugin = %r" % (v,), message_has="plugin")
    for v in ("nope", "", "x" * 200, "copurchase\x00", "COPURCHASE"):
        expect_error(c, {"op": "recommend", "items": [A], "plugin": v},
                     "unknown_plugin", "plugin = %r" % v)
    for v in ([1], 1.5, True, {"a": 1}):
        expect_error(c, {"op": "recommend", "items": [A], "customer": v},
                     "bad_request", "customer = %r" % (v,),
                     message_has="customer")
    # sizes: 1,000 entries are fine, 1,001 and 100,000 are too large
    r = c.call({"op": "recommend", "items": [A] + ["U%d" % i
                                                   for i in range(999)]})
    if ok_reply(r, "1,000 items"):
        ck.eq(len(r.get("unknown", [])), 999, "1,000 items: unknown")
    r = c.call({"op": "recommend", "items": [A], "exclude": [A] * 1000})
    ok_reply(r, "1,000 exclusions")
    for n in (1001, 100000):
        expect_error(c, {"op": "recommend", "items": [A] * n}, "too_large",
                     "%d items" % n, message_has="items")
        expect_error(c, {"op": "recommend", "items": [A], "exclude": [A] * n},
                     "too_large", "%d exclusions" % n, message_has="exclude")
    expect_error(c, {"op": "recommend", "items": list(range(100000))},
                 "too_large", "100,000 integer items")
    # still serving, same answers
    ok_reply(c.call({"op": "health"}), "health after the errors")


def test_dealer(ctx, ep, c):
    """DEALER envelopes and multi-frame messages; many in flight."""
    A, B, C = data.popular(3)
    d = socket(ctx, zmq.DEALER, ep, 5000)
    try:
        d.send_multipart([pack({"op": "health", "id": "d1"})])
        f = d.recv_multipart()
        ck.eq(len(f), 1, "DEALER without delimiter: reply frames")
        r = unpack(f[-1])
        ok_reply(r, "DEALER without delimiter")
        ck.eq(r.get("id"), "d1", "DEALER without delimiter: id")
        d.send_multipart([b"", pack({"op": "health", "id": "d2"})])
        f = d.recv_multipart()
        ck.eq(len(f), 2, "DEALER with delimiter: reply frames")
        ck.eq(f[0], b"", "DEALER with delimiter: the delimiter comes back")
        r = unpack(f[-1])
        ok_reply(r, "DEALER with delimiter")
        ck.eq(r.get("id"), "d2", "DEALER with delimiter: id")
        # more than one payload frame: bad_request, same envelope
        p = pack({"op": "health"})
        for frames, env in (([p, p], []), ([b"", p, p], [b""]),
                            ([p, p, p, p, p, p], []), ([b"", b""], [b""]),
                            ([b"", p, b"", p], [b""]), ([p, b""], [])):
            d.send_multipart(frames)
            try:
                f = d.recv_multipart()
            except zmq.Again:
                ck.fail("DEALER frames %r: no reply" % frames)
                continue
            ck.eq(f[:-1], env, "DEALER %d frames: envelope" % len(frames))
            check_error(ck, unpack(f[-1]), "bad_request",
                        "DEALER message of frames %r" % frames)
        # many in flight: every reply carries its id and the right answer
        baskets = [[A], [B], [C], [A, B], [B, C], [A, "NOPE"], []]
        expected = {}
        for i in range(60):
            rq = {"op": "recommend", "items": baskets[i % len(baskets)],
                  "k": 1 + i % 12, "explain": i % 2 == 0}
            expected[i] = strip_id(c.call(rq))
            d.send(pack(dict(rq, id=i)))
        seen = set()
        for _ in range(60):
            try:
                r = unpack(d.recv())
            except zmq.Again:
                ck.fail("DEALER in flight: %d replies missing"
                        % (60 - len(seen)))
                break
            i = r.get("id")
            ck.check(i in expected and i not in seen,
                     "DEALER in flight: reply id %r" % (i,))
            if i in expected:
                seen.add(i)
                ck.eq(strip_id(r), expected[i], "DEALER in flight, id %d" % i)
    finally:
        d.close(0)
    # REQ sending two frames
    q = socket(ctx, zmq.REQ, ep, 5000)
    try:
        q.send_multipart([pack({"op": "health"}), pack({"op": "health"})])
        f = q.recv_multipart()
        ck.eq(len(f), 1, "REQ multi-frame: reply frames")
        check_error(ck, unpack(f[0]), "bad_request", "REQ with two frames")
    except zmq.Again:
        ck.fail("REQ with two frames: no reply")
    finally:
        q.close(0)
    ok_reply(c.call({"op": "health"}), "health after multi-frame messages")


def test_max_msg(ctx):
    """--max-msg 4096: 3 KB is read, 10 KB gets no reply, and the server
    answers a new socket correctly afterwards."""
    srv = Server(ck, threads=1, args=["--max-msg", "4096"], label="maxmsg")
    try:
        A = data.popular(1)[0]
        c = ReqClient(ctx, srv.endpoint, 5000)
        want = strip_id(rec(c, [A], "max-msg server: recommend", k=5))
        ok_reply(c.call({"op": "health", "pad": "x" * 3000}), "3 KB request")
        d = socket(ctx, zmq.DEALER, srv.endpoint, 1500)
        try:
            d.send(pack({"op": "health", "id": "big", "pad": "x" * 10000}))
            try:
                f = d.recv_multipart()
                ck.fail("a 10 KB request over --max-msg 4096 was answered: %r"
                        % f[-1][:200])
            except zmq.Again:
                pass
        finally:
            d.close(0)
        c.close()
        c2 = ReqClient(ctx, srv.endpoint, 5000)
        ok_reply(c2.call({"op": "health"}), "new socket after an oversized "
                 "request")
        ck.eq(strip_id(rec(c2, [A], "recommend after oversized", k=5)), want,
              "recommend after an oversized request")
        c2.close()
    finally:
        srv.stop_and_check()


def test_failing_plugin(ctx):
    srv = Server(ck, threads=1, label="failplugin",
                 args=["--plugins", "copurchase,testgood", "--plugin-dir",
                       tp_dir, "--plugin-opt", "testgood.mode=fail"])
    try:
        c = ReqClient(ctx, srv.endpoint, 5000)
        A = data.popular(1)[0]
        expect_error(c, {"op": "recommend", "items": [A], "plugin": "testgood",
                         "id": 3}, "internal", "a failing plugin", rid=3)
        rec(c, [A], "the default plugin next to a failing one")
        c.close()
    finally:
        srv.stop_and_check()


def main():
    ctx = zmq.Context()
    srv = None
    try:
        srv = Server(ck, threads=1, label="main",
                     args=["--plugins", "copurchase,testgood",
                           "--plugin-dir", tp_dir])
        c = ReqClient(ctx, srv.endpoint, 10000)
        for t in (test_stats, test_health_plugins, test_recommend, test_ids,
                  test_rules, test_errors):
            ck.note(t.__name__)
            t(c)
        ck.note("test_dealer")
        test_dealer(ctx, srv.endpoint, c)
        ck.note("test_ingest")
        test_ingest(c)
        ok_reply(c.call({"op": "health"}), "health at the end")
        c.close()
        srv.stop_and_check()
        ck.note("test_max_msg")
        test_max_msg(ctx)
        ck.note("test_failing_plugin")
        test_failing_plugin(ctx)
    except (Timeout, ValueError, zmq.ZMQError, RuntimeError) as ex:
        ck.fail("%s: %s" % (type(ex).__name__, ex))
        if srv:
            print("server stderr:\n" + srv.stderr()[-3000:], file=sys.stderr)
    finally:
        if srv:
            srv.kill()
        ctx.destroy(0)
    ck.finish()


main()
