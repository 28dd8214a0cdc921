"""server_shutdown.py -- stopping `xsell serve` (docs/protocol.md, Stopping).

  - SIGTERM under load, with one worker (the worker serves the ROUTER
    itself) and with three (the proxy in front): 4 DEALER clients (two with
    the delimiter frame) keep 16 requests each in flight; the server must
    exit 0 within 5 s + 2 s and print "stopped (SIGTERM)"; every reply any
    client got, before or after the signal, is exactly the expected reply
    for its id (a correct reply or none, never a malformed one);
  - requests taken before the signal are answered: a slow ingest and three
    health requests sent before SIGTERM all get their replies;
  - SIGINT on an idle server: exit 0, "stopped (SIGINT)", promptly; the
    same with idle REQ and DEALER clients connected and the signal sent
    twice.
"""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, Data, ReqClient, Server, Timeout,  # noqa: E402
                      pack, shape_problem, socket, strip_id, unpack)
import zmq  # noqa: E402

ck = Checker("server_shutdown")
data = Data(ck.events_csv())
lock = threading.Lock()
DRAIN = 5.0


def fail(msg):
    with lock:
        ck.fail(msg)


def mix():
    pop = data.popular(6)
    m = [{"op": "recommend", "items": [a], "k": 1000, "explain": True}
         for a in pop]
    m += [{"op": "recommend", "items": pop[:3], "k": 10},
          {"op": "recommend", "items": ["NOPE", pop[4]], "exclude": [pop[5]]},
          {"op": "rules", "min_support": 0.0005, "min_confidence": 0.05,
           "limit": 300},
          {"op": "plugins"}]
    return m


def client(cid, endpoint, ctx, reqs, expected, stop_sending, server_gone,
           tally):
    env = [b""] if cid % 2 else []
    s = socket(ctx, zmq.DEALER, endpoint, 2000)
    s.setsockopt(zmq.RCVTIMEO, 100)
    pending = {}
    sent = got = after = bad = 0
    in_flight_at_stop = None
    quiet_since = None
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            if stop_sending.is_set() and in_flight_at_stop is None:
                in_flight_at_stop = len(pending)
            while not stop_sending.is_set() and len(pending) < 16:
                j = (cid * 13 + sent) % len(reqs)
                rid = cid * 1000000 + sent
                try:
                    s.send_multipart(env + [pack(dict(reqs[j], id=rid))])
                except zmq.Again:
                    break
                pending[rid] = j
                sent += 1
            try:
                f = s.recv_multipart()
            except zmq.Again:
                if server_gone.is_set():
                    if quiet_since is None:
                        quiet_since = time.monotonic()
                    elif time.monotonic() - quiet_since > 0.5:
                        break
                continue
            got += 1
            if stop_sending.is_set():
                after += 1
            try:
                if f[:-1] != env:
                    raise ValueError("envelope %r" % f[:-1])
                r = unpack(f[-1])
                p = shape_problem(r)
                if p:
                    raise ValueError(p)
                j = pending.pop(r.get("id"))
            except (ValueError, KeyError) as ex:
                bad += 1
                if bad <= 5:
                    fail("client %d: bad reply (%s): %r"
                         % (cid, ex, f[-1][:300]))
                continue
            if strip_id(r) != expected[j]:
                bad += 1
                if bad <= 5:
                    fail("client %d: %r: got %s, want %s" % (
                        cid, reqs[j], str(r)[:200], str(expected[j])[:200]))
        else:
            fail("client %d: still receiving after 30 s" % cid)
    finally:
        s.close(0)
        with lock:
            tally["sent"] += sent
            tally["got"] += got
            tally["after"] += after
            tally["in_flight"] += in_flight_at_stop or 0
            tally["unanswered"] += len(pending)
            tally["bad"] += bad


def sigterm_under_load(ctx, threads):
    srv = Server(ck, threads=threads, label="load%d" % threads)
    try:
        reqs = mix()
        c = ReqClient(ctx, srv.endpoint, 10000)
        expected = [strip_id(c.call(q)) for q in reqs]
        for q, r in zip(reqs, expected):
            ck.check(r.get("ok") is True, "expected reply of %r: %r" % (q, r))
        c.close()
        stop_sending, server_gone = threading.Event(), threading.Event()
        tally = dict(sent=0, got=0, after=0, in_flight=0, unanswered=0,
                     bad=0)
        ts = [threading.Thread(target=client, args=(i, srv.endpoint, ctx,
                                                    reqs, expected,
                                                    stop_sending, server_gone,
                                                    tally))
              for i in range(4)]
        for t in ts:
            t.start()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.7:  # load for a while
            time.sleep(0.05)
        stop_sending.set()
        rc, took = srv.stop(signal.SIGTERM, DRAIN + 5)
        server_gone.set()
        for t in ts:
            t.join(40)
            if t.is_alive():
                fail("a client thread is stuck")
        err = srv.stderr()
        ck.note("SIGTERM under load, %d worker(s): exit %r after %.2f s; "
                "%s" % (threads, rc, took, tally))
        if not ck.eq(rc, 0, "%d worker(s): exit code after SIGTERM under "
                     "load" % threads):
            print(err[-5000:], file=sys.stderr)
        ck.check(took < DRAIN + 2, "%d worker(s): took %.1f s to stop"
                 % (threads, took))
        ck.check("stopped (SIGTERM)" in err, "stderr lacks 'stopped "
                 "(SIGTERM)':\n%s" % err[-2000:])
        ck.eq(tally["bad"], 0, "bad replies")
        ck.check(tally["got"] > 100, "too little load: %s" % tally)
        ck.check(tally["in_flight"] > 0, "nothing in flight at SIGTERM: %s"
                 % tally)
    finally:
        srv.kill()


def taken_requests_answered(ctx, threads):
    srv = Server(ck, threads=threads, label="taken%d" % threads)
    try:
        d = socket(ctx, zmq.DEALER, srv.endpoint, 8000)
        evs = [{"customer": "S-C", "item": "S-I%d" % i, "order": "S-O"}
               for i in range(1000)]
        t0 = time.monotonic()
        d.send(pack({"op": "ingest", "events": evs, "id": "slow"}))
        for i in range(3):
            d.send(pack({"op": "health", "id": i}))
        time.sleep(0.05)
        srv.proc.send_signal(signal.SIGTERM)
        got = {}
        for _ in range(4):
            try:
                r = unpack(d.recv())
            except zmq.Again:
                break
            got[r.get("id")] = r
        d.close(0)
        rc, took = srv.stop(signal.SIGTERM, DRAIN + 5)
        ck.note("requests taken before SIGTERM, %d worker(s): %d replies, "
                "exit %r after %.2f s" % (threads, len(got), rc,
                                          time.monotonic() - t0))
        ck.eq(strip_id(got.get("slow", {})), {"ok": True, "accepted": 1000},
              "%d worker(s): the slow ingest taken before SIGTERM" % threads)
        ck.eq(sorted(k for k in got if k != "slow"), [0, 1, 2],
              "%d worker(s): health requests sent before SIGTERM" % threads)
        if not ck.eq(rc, 0, "%d worker(s): exit code" % threads):
            print(srv.stderr()[-5000:], file=sys.stderr)
    finally:
        srv.kill()


def idle_signals(ctx):
    srv = Server(ck, threads=2, label="idle")
    try:
        time.sleep(0.2)
        srv.stop_and_check(signal.SIGINT, 3)
        ck.check("stopped (SIGINT)" in srv.stderr(), "stderr lacks 'stopped "
                 "(SIGINT)': %s" % srv.stderr())
    finally:
        srv.kill()
    for threads in (1, 3):
        srv = Server(ck, threads=threads, label="idle-clients%d" % threads)
        try:
            q = ReqClient(ctx, srv.endpoint, 5000)
            ck.eq(strip_id(q.call({"op": "health"})).get("status"), "serving",
                  "health")
            d = socket(ctx, zmq.DEALER, srv.endpoint, 5000)
            d.send_multipart([b"", pack({"op": "health"})])
            d.recv_multipart()
            t0 = time.monotonic()
            srv.proc.send_signal(signal.SIGINT)  # twice: no harm
            srv.proc.send_signal(signal.SIGTERM)
            rc, took = srv.stop(signal.SIGTERM, 5)
            ck.eq(rc, 0, "%d worker(s): exit code after SIGINT + SIGTERM"
                  % threads)
            ck.check(took < 3, "idle stop took %.1f s" % took)
            ck.check("stopped (SIG" in srv.stderr(), "stderr lacks "
                     "'stopped': %s" % srv.stderr())
            q.close()
            d.close(0)
        finally:
            srv.kill()


def main():
    ctx = zmq.Context()
    try:
        for threads in (3, 1):
            sigterm_under_load(ctx, threads)
            taken_requests_answered(ctx, threads)
        idle_signals(ctx)
    except (Timeout, ValueError, zmq.ZMQError, RuntimeError, KeyError) as ex:
        ck.fail("%s: %s" % (type(ex).__name__, ex))
    finally:
        ctx.destroy(0)
    ck.finish()


main()
