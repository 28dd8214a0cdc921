"""server_limits.py -- what bounds the server's memory per message and per
client (docs/protocol.md, Limits), and every built-in plugin through the
write ops.

  - messages of the wrong shape (two payload frames, six, an empty payload
    after a delimiter, ...) are answered bad_request with the request's
    envelope, by the proxy (two workers) and by the lone worker (one): the
    message names the limit (one frame of at most --max-msg bytes); a
    64-frame message of 64 MB is refused the same way, and (not in a
    sanitizer build, whose allocator keeps freed memory) the server's RSS
    comes back down afterwards;
  - a client that sends 400 `rules` requests (about 0.8 MB of reply each)
    and never reads: the server queues at most XS_SERVER_SNDHWM (16) of its
    replies and parks at most 32 MiB more for a second, so its RSS stays
    under that plus a margin (unbounded, it grew by all 400), and it serves
    another client meanwhile; a client with 300 requests in flight that
    reads gets every reply;
  - every built-in plugin (copurchase, popular, recency, upsell) with two
    workers: `catalog` as each worker's first write, one-event ingests, a
    two-event ingest, `catalog` again, a recommend from each plugin and
    the blend; then SIGTERM and exit 0 (in the ASan build: no leak, no
    undefined behaviour).
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, Data, ReqClient, Server, Timeout,  # noqa: E402
                      check_error, pack, recommend_problem, socket, strip_id,
                      unpack)
import zmq  # noqa: E402

ck = Checker("server_limits")
data = Data(ck.events_csv())
SANITIZE = ck.opts.get("sanitize", "OFF").upper() in ("ON", "1", "TRUE",
                                                      "YES")
MAX_MSG = 1 << 20  # the default --max-msg
SNDHWM = 16        # XS_SERVER_SNDHWM
PARK_MB = 32       # server.c PARK_BYTES


def rss_mb(srv):
    with open("/proc/%d/status" % srv.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def shapes(ctx, srv, what):
    d = socket(ctx, zmq.DEALER, srv.endpoint, 10000)
    try:
        p = pack({"op": "health", "id": "x"})
        limit = "one frame of at most %d bytes" % MAX_MSG
        # (frames, envelope of the reply, what the message says): an empty
        # payload after a delimiter is one frame, just not msgpack
        for frames, env, says in (([p, p], [], limit),
                                  ([b"", p, p], [b""], limit),
                                  ([p] * 6, [], limit),
                                  ([b"", b""], [b""], "not one msgpack"),
                                  ([b"", p, b"", p], [b""], limit),
                                  ([p, b""], [], limit)):
            d.send_multipart(frames)
            try:
                f = d.recv_multipart()
            except zmq.Again:
                ck.fail("%s: %r: no reply" % (what, frames))
                continue
            ck.eq(f[:-1], env, "%s: %r: envelope" % (what, frames))
            check_error(ck, unpack(f[-1]), "bad_request",
                        "%s: %r" % (what, frames), message_has=says)
        # a big one: 64 frames of 1 MB, refused as it is read
        base = rss_mb(srv)
        frame = b"x" * 1000000
        d.send_multipart([b""] + [frame] * 64)
        try:
            f = d.recv_multipart()
            check_error(ck, unpack(f[-1]), "bad_request",
                        "%s: 64 MB in 64 frames" % what,
                        message_has="got 64 frames")
        except zmq.Again:
            ck.fail("%s: 64 MB in 64 frames: no reply" % what)
        after = rss_mb(srv)
        for _ in range(20):  # the memory goes back after the reply
            if after < base + 16:
                break
            time.sleep(0.05)
            after = rss_mb(srv)
        ck.note("%s: 64-frame message of 64 MB refused; RSS %.0f MB before, "
                "%.0f MB after" % (what, base, after))
        if not SANITIZE:
            ck.check(after < base + 16, "%s: RSS %.0f MB after the 64 MB "
                     "message was refused (%.0f MB before)"
                     % (what, after, base))
        d.send_multipart([b"", pack({"op": "health", "id": "after"})])
        r = unpack(d.recv_multipart()[-1])
        ck.eq(r.get("id"), "after", "%s: health after the big message" % what)
    finally:
        d.close(0)


def message_shapes(ctx):
    for threads in (2, 1):
        srv = Server(ck, threads=threads, label="shapes%d" % threads)
        try:
            shapes(ctx, srv, "%d worker(s)" % threads)
        finally:
            srv.stop_and_check()


def non_reading_client(ctx):
    srv = Server(ck, threads=2, label="noread")
    try:
        req = {"op": "rules", "min_support": 0.0001, "min_confidence": 0.0,
               "limit": 10000}
        c = ReqClient(ctx, srv.endpoint, 20000)
        reply = len(c.call_raw(req))
        base = rss_mb(srv)
        d = ctx.socket(zmq.DEALER)
        d.setsockopt(zmq.LINGER, 0)
        d.setsockopt(zmq.RCVHWM, 1)
        d.setsockopt(zmq.RCVBUF, 4096)
        d.setsockopt(zmq.SNDTIMEO, 5000)
        d.connect(srv.endpoint)
        n = 150 if SANITIZE else 400
        blob = pack(req)
        for _ in range(n):
            d.send(blob)
        # the server computes them all; the client reads none
        peak, last, stable = base, base, 0
        deadline = time.monotonic() + (120 if SANITIZE else 40)
        while time.monotonic() < deadline and stable < 10:
            time.sleep(0.2)
            now = rss_mb(srv)
            peak = max(peak, now)
            stable = stable + 1 if abs(now - last) < 1 else 0
            last = now
        r = c.call({"op": "health", "id": "other"})
        ck.eq(r.get("id"), "other", "another client served meanwhile")
        bound = SNDHWM * reply / 1e6 + PARK_MB + 48
        ck.note("a client sending %d requests and reading none: replies of "
                "%d bytes; RSS %.0f MB before, peak %.0f MB (bound %.0f MB "
                "over the start; all %d replies: %.0f MB)"
                % (n, reply, base, peak, bound, n, n * reply / 1e6))
        if not SANITIZE:
            ck.check(peak - base < bound, "RSS grew by %.0f MB for a client "
                     "that never reads (want under %.0f)"
                     % (peak - base, bound))
        d.close(0)
        c.close()
        # a client that reads loses nothing, however many it has in flight
        w = socket(ctx, zmq.DEALER, srv.endpoint, 10000)
        A = data.popular(1)[0]
        for i in range(300):
            w.send(pack({"op": "recommend", "items": [A], "k": 5, "id": i}))
        got = set()
        try:
            for _ in range(300):
                got.add(unpack(w.recv()).get("id"))
        except zmq.Again:
            pass
        ck.eq(len(got), 300, "replies to 300 requests in flight")
        w.close(0)
    finally:
        srv.stop_and_check()


def all_plugins(ctx):
    srv = Server(ck, threads=2, label="plugins",
                 args=["--plugins", "copurchase,popular,recency,upsell",
                       "--default-plugin", "blend"])
    try:
        c = ReqClient(ctx, srv.endpoint, 20000)
        A = data.popular(1)[0]
        cust = sorted(data.customers)[0]
        # requests go to the two workers in turn: each worker's first
        # write is a catalog, then a one-event ingest
        for i in range(2):
            r = c.call({"op": "catalog", "items": [
                {"item": "L-CAT%d" % i, "category": "dairy", "price": 2.5}]})
            ck.eq(strip_id(r), {"ok": True, "accepted": 1, "added": 1},
                  "catalog first (%d)" % i)
        for i in range(2):
            r = c.call({"op": "ingest", "events": [
                {"customer": "L-C%d" % i, "item": A, "order": "L-O%d" % i}]})
            ck.eq(strip_id(r), {"ok": True, "accepted": 1},
                  "one-event ingest (%d)" % i)
        r = c.call({"op": "ingest", "events": [
            {"customer": "L-C9", "item": "L-NEW"}]})
        ck.eq(strip_id(r), {"ok": True, "accepted": 1},
              "one-event ingest of a new item, no order")
        r = c.call({"op": "ingest", "events": [
            {"customer": cust, "item": "L-CAT0", "order": "L-O9",
             "ts": 1735900000},
            {"customer": cust, "item": A, "order": "L-O9",
             "ts": 1735900000}]})
        ck.eq(strip_id(r), {"ok": True, "accepted": 2}, "two-event ingest")
        for i in range(2):
            r = c.call({"op": "catalog", "items": [
                {"item": A, "category": "dairy", "price": 3.5},
                {"item": "L-CAT1", "category": "dairy", "price": 1.0,
                 "in_stock": False}]})
            ck.eq(strip_id(r), {"ok": True, "accepted": 2, "added": 0},
                  "catalog after ingest (%d)" % i)
        for p in (None, "copurchase", "popular", "recency", "upsell"):
            q = {"op": "recommend", "items": [A], "customer": cust,
                 "explain": True}
            if p:
                q["plugin"] = p
            r = c.call(q)
            ck.check(r.get("ok") is True and
                     recommend_problem(r) is None,
                     "%s after the writes: %s" % (p or "blend", str(r)[:300]))
        c.close()
    finally:
        srv.stop_and_check()


def main():
    ctx = zmq.Context()
    try:
        for t in (message_shapes, non_reading_client, all_plugins):
            ck.note(t.__name__)
            t(ctx)
    except (Timeout, ValueError, zmq.ZMQError, RuntimeError, OSError) as ex:
        ck.fail("%s: %s" % (type(ex).__name__, ex))
    finally:
        ctx.destroy(0)
    ck.finish()


main()
