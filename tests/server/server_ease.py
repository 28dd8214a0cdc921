"""server_ease.py -- the ease plugin over the wire, on the example data:

  - it answers basket and customer requests, with `from` evidence naming
    a request item;
  - the stats op reports its figures under plugins.ease (the stats() hook):
    stale_events counts ingested events not yet in the model, and once
    refit_every events have come the plugin refits (fits + 1,
    fitted_events grows, stale_events back to 0), and the answers move.
"""
import os
import sys

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, ReqClient, Server, Timeout,  # noqa: E402
                      recommend_problem, stats_problem)

ck = Checker("server_ease")


def ok(reply, what):
    good = ck.check(isinstance(reply, dict) and reply.get("ok") is True,
                    "%s: %s" % (what, str(reply)[:300]))
    if good and isinstance(reply.get("items"), list):
        p = recommend_problem(reply)
        good = ck.check(p is None, "%s: %s" % (what, p))
    return good


def ease_stats(c, what):
    s = c.call({"op": "stats"})
    if not ok(s, what):
        return {}
    p = stats_problem(s)
    ck.check(p is None, "%s: %s" % (what, p))
    e = s.get("plugins", {}).get("ease")
    ck.check(isinstance(e, dict), "%s: no plugins.ease in %r"
             % (what, s.get("plugins")))
    return e or {}


def main():
    ctx = zmq.Context()
    srv = None
    try:
        srv = Server(ck, threads=2, label="ease",
                     args=["--plugins", "ease", "--default-plugin", "ease",
                           "--plugin-opt", "ease.refit_every=3"])
        c = ReqClient(ctx, srv.endpoint, 20000)
        e0 = ease_stats(c, "stats at start")
        ck.check(e0.get("mode") == "dense" and e0.get("fits") == 1 and
                 e0.get("stale_events") == 0 and
                 e0.get("fitted_events") == 0 and e0.get("items", 0) > 0 and
                 e0.get("refit_every") == 3 and e0.get("lambda") == 100 and
                 isinstance(e0.get("fit_ms"), (int, float)) and
                 e0.get("last_fit_seconds", -1) >= 0,
                 "stats at start: %r" % e0)

        basket = {"op": "recommend", "items": ["P000030"], "k": 5,
                  "explain": True}
        r0 = c.call(basket)
        if ok(r0, "basket") and ck.check(r0["items"], "basket: no items"):
            ck.check(all(x.get("plugin") == "ease" and
                         x.get("from") == "P000030" for x in r0["items"]),
                     "basket: %r" % r0["items"][:2])
        r = c.call({"op": "recommend", "customer": "C001462", "k": 5})
        ok(r, "customer")
        ck.check(r.get("items"), "customer: no items: %r" % r)

        # two events: stale, answers unchanged
        ev = [{"customer": "T-EASE", "item": "P000030", "order": "T-O1"},
              {"customer": "T-EASE", "item": "P000031", "order": "T-O1"}]
        ok(c.call({"op": "ingest", "events": ev}), "ingest 2")
        e1 = ease_stats(c, "stats after 2 events")
        ck.check(e1.get("stale_events") == 2 and e1.get("fits") == 1,
                 "after 2 events: %r" % e1)
        r1 = c.call(basket)
        ck.check(ok(r1, "basket, stale") and r1["items"] == r0["items"],
                 "stale answers changed")
        # the third: a refit
        ok(c.call({"op": "ingest", "events": [
            {"customer": "T-EASE", "item": "P000032", "order": "T-O1"}]}),
           "ingest 1")
        e2 = ease_stats(c, "stats after 3 events")
        ck.check(e2.get("stale_events") == 0 and e2.get("fits") == 2 and
                 e2.get("fitted_events") == 3, "after 3 events: %r" % e2)
        r2 = c.call(basket)
        ck.check(ok(r2, "basket, refitted") and r2["items"] != r0["items"],
                 "refitted answers did not change")
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
