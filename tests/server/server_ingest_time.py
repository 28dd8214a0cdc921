"""server_ingest_time.py -- issue 13, points 3 and 4, over the wire, on the
example data (whose events ended long before the clock this runs under):

  - an ingested event without `ts` takes the data's latest event time, not
    the server's clock: recency (defaults: cosine, half-life 365 days)
    scores a customer of that one event at most 1 (affinity 1), and the
    same event stamped 300 days after the data 2^(300/365) times more;
  - copurchase asked for a customer only answers from the customer's
    latest purchases (no note); asked with nothing to go on it answers no
    items and a `note` "copurchase: ..."; the blend still answers, with no
    note.
"""
import csv
import os
import sys

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, ReqClient, Server, Timeout,  # noqa: E402
                      recommend_problem)

ck = Checker("server_ingest_time")
DAY = 86400


def ok(reply, what):
    good = ck.check(isinstance(reply, dict) and reply.get("ok") is True,
                    "%s: %s" % (what, str(reply)[:300]))
    if good and "items" in reply:
        p = recommend_problem(reply)
        good = ck.check(p is None, "%s: %s" % (what, p))
    return good


def top(c, customer, what):
    r = c.call({"op": "recommend", "customer": customer, "k": 3,
                "plugin": "recency"})
    if ok(r, what) and ck.check(r["items"], "%s: no items" % what):
        return r["items"][0]["score"]
    return 0.0


def main():
    with open(ck.events_csv()) as f:
        latest = max(int(row["timestamp"]) for row in csv.DictReader(f))
    ctx = zmq.Context()
    srv = None
    try:
        srv = Server(ck, threads=1, label="ingest_time",
                     args=["--plugins", "recency,copurchase,popular"])
        c = ReqClient(ctx, srv.endpoint, 10000)
        ok(c.call({"op": "ingest", "events": [
            {"customer": "T-NOTS", "item": "P000030"}]}), "ingest, no ts")
        s = top(c, "T-NOTS", "recency, no ts")
        ck.check(0 < s <= 1 + 1e-9, "one event without ts scores %r, "
                 "want (0, 1]: it weighs like the newest data" % s)
        ok(c.call({"op": "ingest", "events": [
            {"customer": "T-LATE", "item": "P000030",
             "ts": latest + 300 * DAY}]}), "ingest, 300 days later")
        late = top(c, "T-LATE", "recency, 300 days later")
        want = 2 ** (300 / 365)  # recency's default half-life: 365 days
        ck.check(s > 0 and abs(late / s - want) < 1e-6 * want,
                 "ratio %r, want 2^(300/365) = %r"
                 % (late / s if s else None, want))

        r = c.call({"op": "recommend", "customer": "T-NOTS", "k": 3,
                    "plugin": "copurchase"})
        if ok(r, "copurchase, customer only"):
            ck.check(r["items"] and "note" not in r,
                     "copurchase for a customer with purchases: %r" % r)
        for req, what in (({}, "nothing"), ({"customer": "T-NOBODY"},
                                            "an unknown customer")):
            r = c.call(dict({"op": "recommend", "k": 3,
                             "plugin": "copurchase"}, **req))
            if ok(r, "copurchase, " + what):
                ck.check(r["items"] == [] and
                         r.get("note", "").startswith("copurchase: "),
                         "copurchase given %s: %r" % (what, r))
        r = c.call({"op": "recommend", "k": 3})
        if ok(r, "blend, nothing"):
            ck.check(len(r["items"]) == 3 and "note" not in r,
                     "blend given nothing: %r" % r)
        srv.stop_and_check()
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
