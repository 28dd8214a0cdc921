"""server_ingest_types.py -- events of any type through the `ingest` op
(issue 15, point 1; docs/protocol.md "ingest").

On a generated store with views and carts (`xsell gen --views --carts
--cold`), cut in two by time:

  - a server started from the first part that ingests the rest (views,
    carts and purchases, in file order) answers copurchase (cross rows),
    recency (weighted views) and popular (types=all) as a server started
    from the whole file does (items and scores; items tied at the k-th
    score may come in another order: ids differ);
  - the same after kill -9 and a restart from its data dir (the snapshot
    of the first part plus the write-ahead log's typed records replayed),
    and after `save` and a restart from the snapshot alone;
  - views change answers as documented: customers who buy P and view a new
    item Q make Q a copurchase answer for P when views weigh > 0, and
    change nothing with the default weights (views weigh 0);
  - a type name of its own is interned at run time, up to 64 types in
    all; past that the batch is refused whole, naming events[i].type; bad
    type names and non-string types are refused naming events[i].type;
  - a log written by a build before event types (tests/data/ingest/
    wal-v1.log: two purchase batches) still replays;
  - data loaded without a type column takes views online (the weight
    named at start applies once the type exists), through replay and
    save.
"""
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from xsserver import Checker, ReqClient, Server, check_error  # noqa: E402

import zmq  # noqa: E402

ck = Checker("server_ingest_types")
store = os.path.join(ck.tmp, "store")
subprocess.run([ck.xsell, "gen", "--customers", "300", "--items", "120",
                "--orders", "1500", "--views", "2", "--carts", "0.3",
                "--cold", "0.2", "--out", store], check=True,
               stderr=subprocess.DEVNULL)
FULL = os.path.join(store, "events.csv")
CATALOG = os.path.join(store, "catalog.csv")
lines = open(FULL).read().splitlines()
HEADER, rows = lines[0], [r.split(",") for r in lines[1:]]
assert HEADER == "customer,item,timestamp,weight,price,order,type", HEADER
CUT = len(rows) * 4 // 5
BASE = os.path.join(ck.tmp, "base.csv")
with open(BASE, "w") as f:
    f.write("\n".join([HEADER] + lines[1:1 + CUT]) + "\n")
TAIL = rows[CUT:]
ck.catalog_csv = lambda: CATALOG
WEIGHTS = "view=0.3,cart=0.5"
# recency's t_ref: the whole file's latest purchase, for both servers
# (with the default, the data's latest time at start, scores after an
# ingest of newer events are the same ranking times a constant)
T_REF = max(int(r[2]) for r in rows if r[6] == "purchase")
PLUGINS = ["--plugins", "copurchase,recency,popular",
           "--plugin-opt", "copurchase.cross_llr=3.84",
           "--plugin-opt", "recency.t_ref=%d" % T_REF,
           "--plugin-opt", "popular.types=all", "--event-weights", WEIGHTS]


def event(r):
    e = {"customer": r[0], "item": r[1], "ts": int(r[2]),
         "qty": float(r[3]), "type": r[6]}
    if r[4]:
        e["price"] = float(r[4])
    if r[5]:
        e["order"] = r[5]
    return e


def ingest(c, evs, what):
    for i in range(0, len(evs), 700):
        batch = evs[i:i + 700]
        r = c.call({"op": "ingest", "events": batch})
        if not ck.check(r.get("ok") and r.get("accepted") == len(batch),
                        "%s: ingest %d..: %r" % (what, i, r)):
            return


def served(c, req):
    r = c.call(dict(req, op="recommend"))
    if not r.get("ok"):
        ck.fail("recommend %r: %r" % (req, r))
        return []
    return [(x["item"], x["score"]) for x in r["items"]]


def key(lst):
    """Items by score then id, with the items tied at the last score
    dropped (their order and which of them made the cut follow ids)."""
    if not lst:
        return [], []
    last = round(lst[-1][1], 9)
    scores = [round(s, 9) for _, s in lst]
    head = sorted((-round(s, 9), i) for i, s in lst if round(s, 9) != last)
    return scores, head


def same(got, want, what):
    ok = key(got) == key(want) and len(got) == len(want)
    ck.check(ok, "%s: got %r, want %r" % (what, got[:5], want[:5]))


# requests: items and customers the tail touches (views among them)
tail_views = [r for r in TAIL if r[6] == "view"]
tail_buys = [r for r in TAIL if r[6] == "purchase"]
items = []
for r in tail_buys[:40:8] + tail_views[:40:10]:
    if r[1] not in items:
        items.append(r[1])
custs = []
for r in tail_views[::50][:4] + tail_buys[::60][:3]:
    if r[0] not in custs:
        custs.append(r[0])
reqs = ([{"items": [i], "plugin": "copurchase", "k": 10} for i in items] +
        [{"items": items[:3], "plugin": "copurchase", "k": 10}] +
        [{"customer": c, "plugin": "recency", "k": 10} for c in custs] +
        [{"items": [items[0]], "plugin": "popular", "k": 10}])


def compare(c, want, what):
    for req, w in zip(reqs, want):
        same(served(c, req), w, "%s: %s %s" % (what, req["plugin"],
                                               req.get("items") or
                                               req.get("customer")))


ctx = zmq.Context()
try:
    # the reference: the whole file loaded
    ck.events_csv = lambda: FULL
    ref = Server(ck, PLUGINS, label="whole")
    c = ReqClient(ctx, ref.endpoint)
    want = [served(c, q) for q in reqs]
    c.close()
    ref.stop_and_check()
    ck.check(sum(1 for w in want if w) >= len(reqs) - 1,
             "the reference answers: %r" % [len(w) for w in want])

    # the first part, then the rest ingested
    ck.events_csv = lambda: BASE
    ddir = os.path.join(ck.tmp, "ddir")
    srv = Server(ck, ["--data-dir", ddir] + PLUGINS, label="ingested")
    c = ReqClient(ctx, srv.endpoint)
    before = [served(c, q) for q in reqs]
    ck.check(before != want, "the tail changes some answer")
    ingest(c, [event(r) for r in TAIL], "tail")
    compare(c, want, "after ingest")
    c.close()
    srv.kill()  # kill -9: the snapshot of the first part and the log

    srv = Server(ck, ["--data-dir", ddir] + PLUGINS, label="replayed")
    c = ReqClient(ctx, srv.endpoint)
    compare(c, want, "after replay")
    r = c.call({"op": "save"})
    ck.check(r.get("ok"), "save: %r" % r)
    c.close()
    srv.stop_and_check()
    srv = Server(ck, ["--data-dir", ddir] + PLUGINS, label="saved")
    c = ReqClient(ctx, srv.endpoint)
    compare(c, want, "after save and restart")
    c.close()
    srv.stop_and_check()

    # views change copurchase's answer when they weigh, not by default
    P = tail_buys[0][1]
    bump = []
    for k in range(40):
        bump.append({"customer": "vq%d" % k, "item": P})
        bump.append({"customer": "vq%d" % k, "item": "NEWQ", "type": "view"})
    for weights, moved in ((WEIGHTS, True), ("view=0", False)):
        args = PLUGINS[:-1] + [weights]
        srv = Server(ck, args, label="views-" + weights)
        c = ReqClient(ctx, srv.endpoint)
        req = {"items": [P], "plugin": "copurchase", "k": 10}
        pre = served(c, req)
        ingest(c, [e for e in bump if e.get("type") != "view"], "buys")
        mid = served(c, req)
        ingest(c, [e for e in bump if e.get("type") == "view"], "views")
        post = served(c, req)
        has = any(i == "NEWQ" for i, _ in post)
        ck.check(has == moved, "%s: NEWQ in the answer for %s: %r (%r)"
                 % (weights, P, has, post[:5]))
        if not moved:
            ck.check(post == mid, "view=0: views change nothing: %r -> %r"
                     % (mid[:3], post[:3]))
        ck.check(pre != post or not moved, "the answer moved")
        r = c.call({"op": "recommend", "items": [P], "plugin": "popular",
                    "k": 200})
        ck.check(r.get("ok"), "popular after views: %r" % r)

        # type names: bad ones refused, new ones interned up to 64
        if moved:
            for bad in ("a b", "", "x" * 33, "a,b", 'a"b'):
                r = c.call({"op": "ingest", "events": [
                    {"customer": "vq0", "item": P},
                    {"customer": "vq0", "item": P, "type": bad}]})
                check_error(ck, r, "bad_request", "type %r" % bad,
                            message_has="events[1].type: not a type name")
            r = c.call({"op": "ingest", "events": [
                {"customer": "vq0", "item": P, "type": ["view"]}]})
            check_error(ck, r, "bad_request", "type as a list",
                        message_has="events[0].type: want a string")
            # the data has purchase, view, cart: 61 more make 64
            many = [{"customer": "vq1", "item": P, "type": "t%02d" % k}
                    for k in range(61)]
            r = c.call({"op": "ingest", "events": many})
            ck.check(r.get("ok") and r.get("accepted") == 61,
                     "61 new types: %r" % r)
            r = c.call({"op": "ingest", "events": [
                {"customer": "vq2", "item": P, "type": "t00"},
                {"customer": "vq2", "item": P, "type": "one-more"}]})
            check_error(ck, r, "bad_request", "a 65th type",
                        message_has="events[1].type: 'one-more' would be "
                        "event type 65, more than 64")
            r = c.call({"op": "ingest", "events": [
                {"customer": "vq2", "item": P, "type": "t60"}]})
            ck.check(r.get("ok"), "a known type after the refusal: %r" % r)
        c.close()
        srv.stop_and_check()

    # a log of the format before types replays (purchases)
    fx = os.path.join(ck.src, "tests", "data", "ingest")
    ck.events_csv = lambda: os.path.join(ck.src, "examples", "data",
                                         "events.csv")
    ck.catalog_csv = lambda: os.path.join(ck.src, "examples", "data",
                                          "catalog.csv")
    plain = ["--plugins", "copurchase,recency"]
    old = os.path.join(ck.tmp, "old")
    srv = Server(ck, ["--data-dir", old] + plain, label="old-seed")
    srv.kill()
    shutil.copyfile(os.path.join(fx, "wal-v1.log"),
                    os.path.join(old, "wal.log"))
    srv = Server(ck, ["--data-dir", old] + plain, label="old-log")
    c = ReqClient(ctx, srv.endpoint)
    got = [served(c, {"items": ["P000030"], "plugin": "copurchase",
                      "k": 10}),
           served(c, {"customer": "OLDC1", "plugin": "recency", "k": 10})]
    c.close()
    srv.stop_and_check()
    # the same events loaded from a file
    merged = os.path.join(ck.tmp, "merged.csv")
    with open(ck.events_csv()) as f, open(merged, "w") as g:
        g.write(f.read())
        g.write(open(os.path.join(fx, "wal-v1-events.csv")).read())
    ck.events_csv = lambda: merged
    srv = Server(ck, plain, label="old-ref")
    c = ReqClient(ctx, srv.endpoint)
    want = [served(c, {"items": ["P000030"], "plugin": "copurchase",
                       "k": 10}),
            served(c, {"customer": "OLDC1", "plugin": "recency", "k": 10})]
    c.close()
    srv.stop_and_check()
    ck.check(len(got[1]) > 0, "OLDC1 has a history from the old log")
    for g, w, what in zip(got, want, ("copurchase", "recency")):
        same(g, w, "old log replayed: " + what)

    # data without a type column: the first view gives it types and cross
    # tables (a weight named before the type existed applies), kept by
    # the log and by the snapshot
    ck.events_csv = lambda: os.path.join(ck.src, "examples", "data",
                                         "events.csv")
    untyped = ["--plugins", "copurchase,popular", "--plugin-opt",
               "popular.types=all", "--event-weights", "view=0.5"]
    udir = os.path.join(ck.tmp, "untyped")
    srv = Server(ck, ["--data-dir", udir] + untyped, label="untyped")
    c = ReqClient(ctx, srv.endpoint)
    req = {"items": ["P000030"], "plugin": "copurchase", "k": 5}
    pre = served(c, req)
    evs = []
    for k in range(30):
        evs += [{"customer": "U%d" % k, "item": "P000030"},
                {"customer": "U%d" % k, "item": "NEWV", "type": "view"}]
    ingest(c, evs, "untyped")
    post = served(c, req)
    ck.check(not any(i == "NEWV" for i, _ in pre) and
             any(i == "NEWV" for i, _ in post),
             "untyped data: a weighted view moves copurchase: %r -> %r"
             % (pre[:3], post[:3]))
    pop = served(c, {"items": ["P000030"], "plugin": "popular", "k": 300})
    c.close()
    srv.kill()
    srv = Server(ck, ["--data-dir", udir] + untyped, label="untyped-log")
    c = ReqClient(ctx, srv.endpoint)
    same(served(c, req), post, "untyped data, after replay")
    r = c.call({"op": "save"})
    ck.check(r.get("ok"), "save: %r" % r)
    c.close()
    srv.stop_and_check()
    srv = Server(ck, ["--data-dir", udir] + untyped, label="untyped-saved")
    c = ReqClient(ctx, srv.endpoint)
    same(served(c, req), post, "untyped data, after save")
    same(served(c, {"items": ["P000030"], "plugin": "popular", "k": 300}),
         pop, "untyped data, popular after save")
    c.close()
    srv.stop_and_check()
finally:
    ctx.destroy(linger=0)
ck.finish()
