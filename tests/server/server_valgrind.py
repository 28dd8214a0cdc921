"""server_valgrind.py -- one short `xsell serve` session under valgrind
memcheck, with the proxy and two workers, then one with a single worker
(serving the ROUTER itself): health, plugins, recommend with explain,
ingest (a new pair and a new item) then a recommend that sees it, a
600-item order (the table outgrows the pools it was built with), rules,
stats, and error requests (not msgpack, a multi-frame message, unknown op,
mistyped field, too many items, refused ingest), then SIGTERM.  valgrind
must exit 0: no memory error, no definite leak (--error-exitcode=9
--leak-check=full --errors-for-leak-kinds=definite).

Skipped (77) without /usr/bin/valgrind, or with --sanitize ON (an ASan
binary cannot run under valgrind).
"""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, Data, ReqClient, Server, Timeout,  # noqa: E402
                      check_error, pack, recommend_problem, socket, unpack)
import zmq  # noqa: E402

VALGRIND = "/usr/bin/valgrind"
ck = Checker("server_valgrind")
if ck.opts.get("sanitize", "OFF").upper() in ("ON", "1", "TRUE", "YES"):
    ck.skip("an ASan/UBSan build does not run under valgrind")
if not os.access(VALGRIND, os.X_OK):
    ck.skip("%s not found" % VALGRIND)
data = Data(ck.events_csv())


def session(ctx, threads):
    srv = Server(ck, threads=threads, label="valgrind%d" % threads,
                 start_timeout=180,
                 wrapper=[VALGRIND, "--error-exitcode=9", "--leak-check=full",
                          "--errors-for-leak-kinds=definite",
                          "--show-leak-kinds=definite", "--num-callers=30",
                          "--trace-children=no"])
    try:
        c = ReqClient(ctx, srv.endpoint, 60000)
        A = data.popular(1)[0]
        B = data.never_together(A)
        r = c.call({"op": "health", "id": "h"})
        ck.check(r.get("ok") is True and r.get("id") == "h", "health: %r" % r)
        r = c.call({"op": "plugins"})
        ck.check(r.get("ok") is True, "plugins: %r" % r)
        r = c.call({"op": "recommend", "items": [A, "NOPE", 12345],
                    "explain": True, "k": 20, "exclude": [B]})
        ck.check(r.get("ok") is True and not recommend_problem(r, True) and
                 sorted(r.get("unknown", [])) == ["12345", "NOPE"],
                 "recommend: %r" % str(r)[:300])
        r = c.call({"op": "ingest", "events": [
            {"customer": "V-C", "item": A, "order": "V-O"},
            {"customer": "V-C", "item": B, "order": "V-O"},
            {"customer": "V-C", "item": "V-NEW", "order": "V-O", "qty": 2,
             "price": 1.5, "ts": 1735900000},
            {"customer": "V-C2", "item": "V-NEW2"}]})
        ck.eq(r, {"ok": True, "accepted": 4}, "ingest")
        r = c.call({"op": "recommend", "items": [A], "explain": True,
                    "k": 1000})
        got = {x["item"]: x.get("count") for x in r.get("items", [])}
        ck.check(got.get(B) == 1.0 and got.get("V-NEW") == 1.0,
                 "recommend after ingest: %r" % str(r)[:300])
        # one big order: the table grows past its built pools (1 MiB+)
        r = c.call({"op": "ingest", "events": [
            {"customer": "V-C3", "item": "V-BIG-%d" % i, "order": "V-O3"}
            for i in range(600)]})
        ck.eq(r, {"ok": True, "accepted": 600}, "ingest of a 600-item order")
        r = c.call({"op": "recommend", "items": ["V-BIG-0"], "k": 1000})
        ck.eq(len(r.get("items", [])), 599, "the 600-item order's pairs")
        r = c.call({"op": "rules", "min_support": 0.001,
                    "min_confidence": 0.1, "limit": 5})
        ck.check(r.get("ok") is True and len(r.get("rules", [])) == 5,
                 "rules: %r" % str(r)[:300])
        r = c.call({"op": "stats"})
        ck.check(r.get("ok") is True and r.get("ingested") == 604,
                 "stats: %r" % str(r)[:300])
        for payload, code in ((b"\xc1", "bad_request"),
                              (pack([1, 2]), "bad_request"),
                              ({"op": "fly", "id": 3}, "unknown_op"),
                              ({"op": "recommend", "k": "ten"},
                               "bad_request"),
                              ({"op": "recommend", "items": [A] * 1001},
                               "too_large"),
                              ({"op": "ingest", "events": [
                                  {"customer": "c", "item": "i"},
                                  {"customer": "c", "item": "j",
                                   "qty": -1}]}, "bad_request"),
                              (b"\x81\xa1x\xdd\xff\xff\xff\xff",
                               "bad_request")):
            r = c.call(payload)
            ck.check(r.get("ok") is False and
                     r.get("error", {}).get("code") == code,
                     "%r: %r" % (payload, r))
        d = socket(ctx, zmq.DEALER, srv.endpoint, 60000)
        d.send_multipart([b"", pack({"op": "health"}), b"x"])
        check_error(ck, unpack(d.recv_multipart()[-1]), "bad_request",
                    "two frames")
        d.close(0)
        c.close()
        rc, took = srv.stop(signal.SIGTERM, 180)
        err = srv.stderr()
        ck.note("%d worker(s): valgrind exit %r after %.1f s" % (threads, rc,
                                                                took))
        if not ck.check(rc == 0, "%d worker(s): exit %r under valgrind (9: "
                        "memory errors or definite leaks)" % (threads, rc)):
            print(err[-20000:], file=sys.stderr)
        ck.check("stopped (SIGTERM)" in err, "stderr lacks 'stopped'")
    finally:
        srv.kill()


VALGRIND_ARGS = [VALGRIND, "--error-exitcode=9", "--leak-check=full",
                 "--errors-for-leak-kinds=definite",
                 "--show-leak-kinds=definite", "--num-callers=30",
                 "--trace-children=no"]


def plugins_session(ctx):
    """Every built-in plugin, the blend with its fan-out pool, the rules,
    the catalog op as each worker's first write, one-event ingests, and
    ingest reaching every plugin's observe()."""
    srv = Server(ck, threads=2, label="valgrind-plugins", start_timeout=180,
                 args=["--plugins", "copurchase,upsell,recency,popular",
                       "--default-plugin", "blend", "--blend-threads", "1",
                       "--plugin-opt", "recency.max_neighbours=20",
                       "--plugin-opt", "popular.per_category=true"],
                 wrapper=VALGRIND_ARGS)
    try:
        c = ReqClient(ctx, srv.endpoint, 60000)
        A = data.popular(1)[0]
        cust = sorted(data.customers)[0]
        reqs = [{"items": [A], "customer": cust, "explain": True},
                {"items": [A]}, {"customer": "NEW-ONE", "k": 5},
                {"items": [A], "category": "dairy", "k": 30},
                {"items": [A], "customer": cust, "exclude_owned": False}]
        for p in (None, "copurchase", "upsell", "recency", "popular"):
            for q in reqs:
                q = dict(q, op="recommend")
                if p:
                    q["plugin"] = p
                r = c.call(q)
                ck.check(r.get("ok") is True and
                         not recommend_problem(r, bool(q.get("explain"))),
                         "%s %r: %r" % (p, q, str(r)[:300]))
        r = c.call({"op": "catalog", "items": [
            {"item": A, "category": "dairy", "price": 3.0, "in_stock": False},
            {"item": "V-CAT", "category": "dairy", "price": 9.0,
             "margin": 0.3, "title": "new"}]})
        ck.eq(r, {"ok": True, "accepted": 2, "added": 1}, "catalog op")
        # the other worker's first write is a catalog too; then one-event
        # ingests on both (requests alternate between the two workers)
        r = c.call({"op": "catalog", "items": [
            {"item": "V-CAT2", "category": "dairy", "price": 1.0}]})
        ck.eq(r, {"ok": True, "accepted": 1, "added": 1}, "catalog op (2)")
        for i in range(2):
            r = c.call({"op": "ingest", "events": [
                {"customer": "V-ONE%d" % i, "item": A, "order": "V-O%d" % i}]})
            ck.eq(r, {"ok": True, "accepted": 1}, "one-event ingest %d" % i)
        r = c.call({"op": "ingest", "events": [
            {"customer": cust, "item": "V-CAT", "order": "V-O9",
             "ts": 1735900000},
            {"customer": cust, "item": A, "order": "V-O9", "ts": 1735900000}]})
        ck.eq(r, {"ok": True, "accepted": 2}, "ingest")
        r = c.call({"op": "catalog", "items": [
            {"item": "V-CAT", "category": "dairy", "price": 8.0}]})
        ck.eq(r, {"ok": True, "accepted": 1, "added": 0},
              "catalog op after ingest")
        for q in reqs:
            r = c.call(dict(q, op="recommend"))
            ck.check(r.get("ok") is True, "after: %r" % str(r)[:300])
        c.close()
        rc, took = srv.stop(signal.SIGTERM, 180)
        ck.note("plugins: valgrind exit %r after %.1f s" % (rc, took))
        if not ck.check(rc == 0, "plugins session: exit %r under valgrind "
                        "(9: memory errors or definite leaks)" % rc):
            print(srv.stderr()[-20000:], file=sys.stderr)
    finally:
        srv.kill()


def main():
    ctx = zmq.Context()
    try:
        for threads in (2, 1):
            session(ctx, threads)
        plugins_session(ctx)
    except (Timeout, ValueError, zmq.ZMQError, RuntimeError) as ex:
        ck.fail("%s: %s" % (type(ex).__name__, ex))
    finally:
        ctx.destroy(0)
    ck.finish()


main()
