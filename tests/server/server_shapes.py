"""server_shapes.py -- the ways requests reach the workers (--shape,
--io-threads, --spin-us), many clients at once, and the stats they leave.

1. Options: --shape other than handoff|proxy, --io-threads outside 1..64
   and --spin-us outside 0..10000 are usage errors (exit 2, the option
   named on stderr).
2. For each of: handoff with 3 workers (the default shape), proxy with 3,
   handoff with --io-threads 2 --spin-us 50, and one worker (direct):
   64 clients at once (half DEALER with 8 in flight, half REQ with the
   delimiter), 60 requests each over a mix of recommend, health, plugins
   and bad requests; every reply carries its request's id, is exactly the
   reply the request got alone (ids swapped), arrives once and on its own
   client; then `stats` counts every one of those requests (each counted
   before its reply left), and SIGTERM exits 0.
"""
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, Data, ReqClient, Server, Timeout,  # noqa: E402
                      pack, socket, unpack)
import zmq  # noqa: E402

ck = Checker("server_shapes")
data = Data(ck.events_csv())
lock = threading.Lock()
CLIENTS = 64
PER_CLIENT = 60
WINDOW = 8


def fail(msg):
    with lock:
        ck.fail(msg)


def usage_errors():
    for opt, val in (("--shape", "ring"), ("--shape", ""),
                     ("--io-threads", "0"), ("--io-threads", "65"),
                     ("--spin-us", "-1"), ("--spin-us", "x")):
        p = subprocess.run([ck.xsell, "serve", "--events", ck.events_csv(),
                            opt, val], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        err = p.stderr.decode("utf-8", "replace")
        ck.eq(p.returncode, 2, "%s %r: exit code" % (opt, val))
        ck.check(opt in err, "%s %r: stderr names it: %r" % (opt, val, err))


def mix():
    pop = data.popular(8)
    m = [{"op": "recommend", "items": pop[i:i + 1 + i % 3], "k": 5 + i}
         for i in range(6)]
    m += [{"op": "recommend", "items": ["NO-SUCH"]},
          {"op": "health"}, {"op": "plugins"},
          {"op": "no-such-op"}, {"op": "recommend", "k": "ten"}]
    return m


def same(r, want):
    """r is want but for the id (and health's uptime)."""
    def norm(x):
        return {k: v for k, v in x.items() if k not in ("id", "uptime_s")}
    return norm(r) == norm(want)


def dealer_client(cid, endpoint, ctx, reqs, expected, tally):
    s = socket(ctx, zmq.DEALER, endpoint, 10000)
    pending = {}
    sent = got = bad = 0
    try:
        while got < PER_CLIENT:
            while sent < PER_CLIENT and len(pending) < WINDOW:
                j = (cid + sent) % len(reqs)
                rid = "c%d-%d" % (cid, sent)
                s.send(pack(dict(reqs[j], id=rid)))
                pending[rid] = j
                sent += 1
            try:
                f = s.recv_multipart()
            except zmq.Again:
                fail("client %d: no reply in 10 s (%d pending)"
                     % (cid, len(pending)))
                return
            got += 1
            r = unpack(f[-1])
            j = pending.pop(r.get("id"), None)
            if len(f) != 1 or j is None or \
                    not same(r, expected[j]):
                bad += 1
                if bad <= 3:
                    fail("client %d: reply %r (request %r)"
                         % (cid, r, reqs[j] if j is not None else "?"))
    finally:
        s.close(0)
        with lock:
            tally["got"] += got
            tally["bad"] += bad


def req_client(cid, endpoint, ctx, reqs, expected, tally):
    c = ReqClient(ctx, endpoint, 10000)
    got = bad = 0
    try:
        for n in range(PER_CLIENT):
            j = (cid + n) % len(reqs)
            rid = "c%d-%d" % (cid, n)
            try:
                r = c.call(dict(reqs[j], id=rid))
            except Timeout:
                fail("client %d: no reply in 10 s" % cid)
                return
            got += 1
            if r.get("id") != rid or not same(r, expected[j]):
                bad += 1
                if bad <= 3:
                    fail("client %d: reply %r to %r" % (cid, r, reqs[j]))
    finally:
        c.close()
        with lock:
            tally["got"] += got
            tally["bad"] += bad


def total_requests(st):
    return sum(v.get("count", 0) for v in st["requests"].values()) \
        if isinstance(st.get("requests"), dict) else None


def many_clients(ctx, label, threads, args):
    srv = Server(ck, args=args, threads=threads, label=label)
    try:
        c = ReqClient(ctx, srv.endpoint, 10000)
        reqs = mix()
        expected = [c.call(dict(q, id="x")) for q in reqs]
        before = c.call({"op": "stats"})
        tally = {"got": 0, "bad": 0}
        ts = [threading.Thread(target=dealer_client if i % 2 else req_client,
                               args=(i, srv.endpoint, ctx, reqs, expected,
                                     tally))
              for i in range(CLIENTS)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
            if t.is_alive():
                fail("%s: a client is stuck" % label)
        ck.note("%s: %d clients, %d replies, %d wrong"
                % (label, CLIENTS, tally["got"], tally["bad"]))
        ck.eq(tally["got"], CLIENTS * PER_CLIENT, "%s: replies" % label)
        ck.eq(tally["bad"], 0, "%s: wrong replies" % label)
        after = c.call({"op": "stats"})
        n0, n1 = total_requests(before), total_requests(after)
        if n0 is None or n1 is None:
            ck.fail("%s: stats without per-op counts: %r" % (label, after))
        else:  # the two stats requests themselves: the first one counted
            ck.eq(n1 - n0, CLIENTS * PER_CLIENT + 1,
                  "%s: requests counted by stats" % label)
        c.close()
        srv.stop_and_check()
    finally:
        srv.kill()


def main():
    ctx = zmq.Context()
    try:
        usage_errors()
        many_clients(ctx, "handoff3", 3, [])
        many_clients(ctx, "proxy3", 3, ["--shape", "proxy"])
        many_clients(ctx, "handoff-io2-spin", 2,
                     ["--io-threads", "2", "--spin-us", "50"])
        many_clients(ctx, "direct", 1, ["--shape", "handoff"])
    except (Timeout, ValueError, zmq.ZMQError, RuntimeError, KeyError,
            OSError, subprocess.SubprocessError) as ex:
        ck.fail("%s: %s" % (type(ex).__name__, ex))
    finally:
        ctx.destroy(0)
    ck.finish()


main()
