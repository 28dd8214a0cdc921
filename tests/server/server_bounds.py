"""server_bounds.py -- the bound on pair work over the wire (--max-basket,
issue 11), and the stats op's memory figures.

  - --max-basket 5: an ingest taking an order past 5 distinct items is
    refused whole with too_large naming the order and the bound (counted as
    an ingest error); nothing is applied (events, pairs, items unchanged);
    an order of 5 distinct items (repeats included) is accepted, one more
    item in it refused; a customer's items past 5 are accepted (customer
    scope: kept in the history, not paired);
  - the default bound: one ingest of 10,000 distinct items in one order is
    refused with too_large naming 1000, at once, and the server carries on;
  - --max-basket out of range or not a number: exit 2 naming the option;
  - stats.memory: table_bytes per scope within data_bytes, bytes_per_event
    = data_bytes / events, bytes_per_pair = table bytes / pairs.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from xsserver import (Checker, ReqClient, Server, check_error,  # noqa: E402
                      stats_problem)

import zmq  # noqa: E402

ck = Checker("server_bounds")
ctx = zmq.Context()


def order(name, items, customer="CB1", ts=1800000000):
    return {"op": "ingest",
            "events": [{"customer": customer, "item": it, "order": name,
                        "ts": ts} for it in items]}


def figures(c):
    s = c.call({"op": "stats"})
    ck.check(stats_problem(s) is None, "stats: %s" % stats_problem(s))
    return s


srv = Server(ck, ["--max-basket", "5"], label="bounded")
c = ReqClient(ctx, srv.endpoint, 20000)
try:
    s0 = figures(c)
    r = c.call(order("OB1", ["P000030", "P000251", "NEW1", "NEW2", "NEW3",
                             "NEW4"]))
    check_error(ck, r, "too_large", "6 items in one order",
                message_has="bound of 5")
    check_error(ck, r, "too_large", "6 items in one order", message_has="OB1")
    s1 = figures(c)
    for k in ("events", "ingested", "items", "pairs", "transactions"):
        ck.eq(s1[k], s0[k], "refused order: %s unchanged" % k)
    # a request is counted after its reply is sent: wait for it
    deadline = time.monotonic() + 5
    while s1["requests"]["ingest"] != {"count": 1, "errors": 1} and \
            time.monotonic() < deadline:
        time.sleep(0.01)
        s1 = figures(c)
    ck.eq(s1["requests"]["ingest"], {"count": 1, "errors": 1},
          "the refusal counted")
    # 5 distinct (one repeated): accepted; the order is then full
    r = c.call(order("OB2", ["P000030", "P000251", "P000030", "NEW1", "NEW2",
                             "NEW3"]))
    ck.eq(r, {"ok": True, "accepted": 6}, "5 distinct items")
    s2 = figures(c)
    # P000030 and P000251 share an order of the example data already
    ck.eq(s2["pairs"]["basket"], s1["pairs"]["basket"] + 5 * 4 - 2,
          "the new order's new directed pairs")
    ck.check(s2["transactions"]["basket"] == s1["transactions"]["basket"] + 1,
             "one new order: %r -> %r" % (s1["transactions"],
                                          s2["transactions"]))
    check_error(ck, c.call(order("OB2", ["NEW4"])), "too_large",
                "a 6th item for a full order", message_has="6 distinct")
    r = c.call(order("OB2", ["NEW1", "P000030"]))
    ck.eq(r, {"ok": True, "accepted": 2}, "items the full order holds")
    # customer scope: never refused
    r = c.call({"op": "ingest", "events": [
        {"customer": "CB9", "item": "NEWC%d" % i, "ts": 1800000000 + i}
        for i in range(20)]})
    ck.eq(r, {"ok": True, "accepted": 20}, "20 items for one customer")
    r = c.call({"op": "recommend", "customer": "CB9", "k": 3})
    ck.check(r.get("ok") is True, "recommend after: %r" % (r,))
    s3 = figures(c)
    m = s3["memory"]
    ck.check(m["data_bytes"] >= sum(m["table_bytes"].values()) > 0,
             "memory: %r" % (m,))
finally:
    c.close()
srv.stop_and_check()

# the default bound: the 10,000-item order
srv = Server(ck, label="default")
c = ReqClient(ctx, srv.endpoint, 20000)
try:
    s0 = figures(c)
    t0 = time.monotonic()
    r = c.call(order("HUGE", ["H%05d" % i for i in range(10000)]))
    took = time.monotonic() - t0
    check_error(ck, r, "too_large", "10,000 items in one order",
                message_has="bound of 1000")
    ck.note("10,000-item order refused in %.3f s" % took)
    s1 = figures(c)
    for k in ("events", "items", "pairs"):
        ck.eq(s1[k], s0[k], "huge order: %s unchanged" % k)
    r = c.call(order("NOT-HUGE", ["H%05d" % i for i in range(1000)]))
    ck.eq(r, {"ok": True, "accepted": 1000}, "1,000 items in one order")
finally:
    c.close()
srv.stop_and_check()

for bad in ("0", "-3", "abc", "100000001", ""):
    p = subprocess.run([ck.xsell, "serve", "--events", ck.events_csv(),
                        "--max-basket", bad], capture_output=True, text=True,
                       timeout=60)
    ck.check(p.returncode == 2 and "--max-basket" in p.stderr,
             "--max-basket %r: exit %d, %r" % (bad, p.returncode, p.stderr))
ck.finish()
