"""server_types.py -- event types through `xsell serve` (issue 15, point 1).

On a generated store with views and carts (`xsell gen --views --carts
--cold`):

  - `serve --event-weights` answers copurchase, recency and popular
    (types=all) as `xsell recommend` does with the same weights (items and
    scores), and the weights change the answers;
  - ingest takes `type: "purchase"` (and no type) as before, and a view
    (server_ingest_types.py tests what other types change); a type that
    is not a string is refused, bad_request naming events[i].type;
  - with --data-dir, the snapshot keeps the types and the other types'
    events: the server restarted from it answers as before the restart.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from xsserver import Checker, ReqClient, Server, check_error  # noqa: E402

import zmq  # noqa: E402

ck = Checker("server_types")
store = os.path.join(ck.tmp, "store")
subprocess.run([ck.xsell, "gen", "--customers", "300", "--items", "120",
                "--orders", "1500", "--views", "2", "--carts", "0.3",
                "--cold", "0.2", "--out", store], check=True,
               stderr=subprocess.DEVNULL)
EVENTS = os.path.join(store, "events.csv")
CATALOG = os.path.join(store, "catalog.csv")
ck.events_csv = lambda: EVENTS
ck.catalog_csv = lambda: CATALOG
WEIGHTS = "view=0.3,cart=0.5"
PLUGINS = ["--plugins", "copurchase,recency,popular",
           "--plugin-opt", "copurchase.cross_llr=3.84",
           "--plugin-opt", "popular.types=all", "--event-weights", WEIGHTS]


def cli(args):
    out = subprocess.run([ck.xsell, "recommend", "--events", EVENTS,
                          "--catalog", CATALOG, "--format", "json"] +
                         PLUGINS[:-2] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    if out.returncode:
        ck.fail("xsell recommend %s: %s" % (args, out.stderr.decode()))
        return []
    return [(x["item"], x["score"]) for x in
            json.loads(out.stdout.decode())["items"]]


def served(c, req):
    r = c.call(dict(req, op="recommend"))
    if not r.get("ok"):
        ck.fail("recommend %r: %r" % (req, r))
        return []
    return [(x["item"], x["score"]) for x in r["items"]]


def same(got, want, what):
    ok = len(got) == len(want) and all(
        a[0] == b[0] and abs(a[1] - b[1]) <= 1e-9 * max(1, abs(b[1]))
        for a, b in zip(got, want))
    ck.check(ok, "%s: served %r, cli %r" % (what, got[:4], want[:4]))


rows = [line.rstrip("\n").split(",") for line in open(EVENTS)][1:]
bought = [r for r in rows if r[6] == "purchase"]
ITEM, CUSTOMER = bought[0][1], bought[5][0]
reqs = [({"items": [ITEM], "plugin": "copurchase", "k": 10},
         ["--items", ITEM, "--plugin", "copurchase"]),
        ({"customer": CUSTOMER, "plugin": "recency", "k": 10},
         ["--customer", CUSTOMER, "--plugin", "recency"]),
        ({"items": [ITEM], "plugin": "popular", "k": 10},
         ["--items", ITEM, "--plugin", "popular"])]

ctx = zmq.Context()
ddir = os.path.join(ck.tmp, "ddir")
try:
    srv = Server(ck, ["--data-dir", ddir] + PLUGINS, label="typed")
    c = ReqClient(ctx, srv.endpoint)
    before = []
    for req, args in reqs:
        got = served(c, req)
        same(got, cli(args + ["--event-weights", WEIGHTS]),
             "weights %s %s" % (WEIGHTS, req["plugin"]))
        before.append(got)
    plain = cli(["--items", ITEM, "--plugin", "copurchase"])
    ck.check(plain != before[0], "view weights change copurchase's answer")

    r = c.call({"op": "save"})
    ck.check(r.get("ok"), "save: %r" % r)
    c.close()
    srv.stop_and_check()

    # restarted from the snapshot: the views are still there
    srv = Server(ck, ["--data-dir", ddir] + PLUGINS, label="reloaded")
    c = ReqClient(ctx, srv.endpoint)
    for (req, _), want in zip(reqs, before):
        same(served(c, req), want, "after restart %s" % req["plugin"])

    # ingest: purchase (named or not) as before, a view too
    r = c.call({"op": "ingest", "events": [
        {"customer": "newc", "item": ITEM, "type": "purchase"},
        {"customer": "newc", "item": bought[1][1]}]})
    ck.check(r.get("ok") and r.get("accepted") == 2, "ingest purchase: %r" % r)
    r = c.call({"op": "ingest", "events": [
        {"customer": "newc", "item": ITEM},
        {"customer": "newc", "item": ITEM, "type": "view"}]})
    ck.check(r.get("ok") and r.get("accepted") == 2, "ingest a view: %r" % r)
    r = c.call({"op": "ingest", "events": [
        {"customer": "newc", "item": ITEM, "type": 3}]})
    check_error(ck, r, "bad_request", "ingest type 3",
                message_has="events[0].type: want a string")
    r = c.call({"op": "stats"})
    ck.check(r.get("ok"), "stats after the refusals: %r" % r)
    c.close()
    srv.stop_and_check()
finally:
    ctx.destroy(linger=0)
ck.finish()
