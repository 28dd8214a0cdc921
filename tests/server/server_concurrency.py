"""server_concurrency.py -- many clients at once, and ingest under reads.

1. Parallel reads: the expected reply of each of ~60 requests (baskets of
   one to three items of real orders, unknown items, exclusions, explain or
   not, various k, and a rules request) is taken first, one at a time.  Then
   8 threads, each with its own DEALER socket and 4 requests in flight, send
   10,000 requests each over the mix; every reply must carry its id and be
   exactly the expected reply.

2. Ingest while 4 clients read: the readers loop on recommend [A] with
   explain while the main thread ingests 40 batches, each of 3 new orders
   holding A and a new item X.  Every reader reply must be ok and a
   consistent state "after b batches" for some b: X absent (b = 0) or with
   count 3b; every other item with its loaded pair count; support,
   confidence and lift of every item computed with the same number of
   transactions T0 + 3b and support of A cA + 3b (never a half-applied
   batch).  Per reader, b never decreases; the last read, made after the last
   batch was acknowledged, sees b = 40.

Options: --threads N (client threads, default 8), --requests N (per thread,
default 10000), --batches N (default 40).
"""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, Data, ReqClient, Server, Timeout,  # noqa: E402
                      pack, recommend_problem, shape_problem, socket,
                      strip_id, unpack)
import zmq  # noqa: E402

ck = Checker("server_concurrency")
n_threads = int(ck.opts.get("threads", "8"))
n_requests = int(ck.opts.get("requests", "10000"))
n_batches = int(ck.opts.get("batches", "40"))
PER_BATCH = 3
data = Data(ck.events_csv())
rng = random.Random(7)
lock = threading.Lock()


def fail(msg):
    with lock:
        ck.fail(msg)


def request_mix():
    orders = sorted(data.orders)
    pop = data.popular(10)
    mix = []
    for i in range(45):
        items = sorted(data.orders[rng.choice(orders)])
        basket = rng.sample(items, min(len(items), 1 + i % 3))
        rq = {"op": "recommend", "items": basket, "k": rng.choice([1, 5, 10,
                                                                   50, 1000])}
        if i % 2:
            rq["explain"] = True
        if i % 5 == 0:
            rq["items"] = basket + ["NO-SUCH-%d" % i]
        if i % 7 == 0:
            rq["exclude"] = [pop[i % 10], "NO-SUCH-EX"]
        mix.append(rq)
    for a in pop:
        mix.append({"op": "recommend", "items": [a], "k": 1000,
                    "explain": True})
    mix.append({"op": "recommend", "items": pop[:3], "k": 20,
                "plugin": "copurchase", "customer": "C000001"})
    mix.append({"op": "recommend", "items": ["NO-SUCH"]})
    mix.append({"op": "rules", "min_support": 0.002, "min_confidence": 0.2,
                "limit": 20, "sort": "confidence"})
    return mix


ID_AT = len(b"\x80\xa2ok\xc3\xa2id\xa8")  # where a reply's 8-byte id is


def client(tid, endpoint, ctx, mix, expected, stats):
    """Sends n_requests over one DEALER, 4 in flight; checks each reply's
    bytes against the expected reply's, ids swapped."""
    try:
        s = socket(ctx, zmq.DEALER, endpoint, 10000)
    except zmq.ZMQError as ex:
        fail("thread %d: socket: %s" % (tid, ex))
        return
    env = [b""] if tid % 2 else []  # half with the delimiter frame
    pending = {}
    sent = done = bad = 0
    try:
        while done < n_requests:
            while sent < n_requests and len(pending) < 4:
                j = (tid * 7919 + sent * 31) % len(mix)
                rid = b"%d%07d" % (tid, sent)
                s.send_multipart(env + [pack(dict(mix[j], id=rid.decode()))])
                pending[rid] = j
                sent += 1
            try:
                f = s.recv_multipart()
            except zmq.Again:
                fail("thread %d: no reply in 10 s (%d done, %d pending)"
                     % (tid, done, len(pending)))
                return
            done += 1
            rid = f[-1][ID_AT:ID_AT + 8]
            j = pending.pop(rid, None)
            ref = expected[j] if j is not None else b""
            if f[:-1] != env or j is None or \
                    f[-1] != ref[:ID_AT] + rid + ref[ID_AT + 8:]:
                bad += 1
                if bad <= 5:
                    fail("thread %d: request %r: got %r, want %r"
                         % (tid, mix[j] if j is not None else "?", f,
                            ref[:300]))
    finally:
        s.close(0)
        with lock:
            stats["done"] += done
            stats["bad"] += bad


def parallel_reads(srv, ctx):
    c = ReqClient(ctx, srv.endpoint, 10000)
    mix = request_mix()
    expected = []
    for rq in mix:
        raw = c.call_raw(dict(rq, id="00000000"))
        r = unpack(raw)
        ck.check(r.get("ok") is True and shape_problem(r) is None and
                 raw[:ID_AT + 8] == bytes([0x80 | len(r)]) +
                 b"\xa2ok\xc3\xa2id\xa800000000",
                 "expected reply of %r: %r" % (rq, raw[:300]))
        expected.append(raw)
    c.close()
    stats = {"done": 0, "bad": 0}
    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(t, srv.endpoint, ctx,
                                                     mix, expected, stats))
               for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        if t.is_alive():
            fail("a client thread is stuck")
    took = time.monotonic() - t0
    ck.note("parallel reads: %d threads x %d requests: %d replies, %d wrong "
            "in %.1f s (%.0f/s)" % (n_threads, n_requests, stats["done"],
                                    stats["bad"], took,
                                    stats["done"] / max(took, 1e-9)))
    ck.eq(stats["done"], n_threads * n_requests, "replies")
    ck.eq(stats["bad"], 0, "wrong replies")


def reader(rid, endpoint, ctx, A, X, T0, cA, started, done, seen):
    """Loops on recommend [A] until done is set, then reads once more."""
    c = None
    last = -1
    n = 0
    final = None
    try:
        c = ReqClient(ctx, endpoint, 10000)
        while True:
            stop = done.is_set()
            try:
                r = c.call({"op": "recommend", "items": [A], "k": 1000,
                            "explain": True, "id": n})
            except (Timeout, ValueError) as ex:
                fail("reader %d: %s" % (rid, ex))
                return
            n += 1
            b = check_state(rid, r, A, X, T0, cA, n)
            if b is None:
                return
            if b < last:
                fail("reader %d: went back from %d to %d batches" % (rid, last,
                                                                    b))
                return
            last = b
            with lock:
                seen[b] = seen.get(b, 0) + 1
            if n == 1:
                started.release()
            if stop:
                final = b
                break
            if n > 200000:
                fail("reader %d: never told to stop" % rid)
                return
        if final != n_batches:
            fail("reader %d: after the last batch sees %s batches, want %d"
                 % (rid, final, n_batches))
    finally:
        if n == 0:
            started.release()
        if c:
            c.close()


def check_state(rid, r, A, X, T0, cA, n):
    """The number of batches r reflects, or None (after a failure)."""
    what = "reader %d, read %d" % (rid, n)
    if not (isinstance(r, dict) and r.get("ok") is True):
        fail("%s: not ok: %r" % (what, str(r)[:300]))
        return None
    p = recommend_problem(r, explain=True)
    if p or r.get("id") != n - 1 or set(r) != {"ok", "id", "items"}:
        fail("%s: malformed: %s %r" % (what, p, str(r)[:300]))
        return None
    items = {x["item"]: x for x in r["items"]}
    x = items.get(X)
    cnt = int(x["count"]) if x else 0
    if cnt % PER_BATCH or not 0 <= cnt <= PER_BATCH * n_batches:
        fail("%s: X count %r is no batch boundary" % (what, cnt))
        return None
    b = cnt // PER_BATCH
    T, sA = T0 + cnt, cA + cnt
    want_items = set(data.nbrs[A]) | ({X} if cnt else set())
    if set(items) != want_items:
        fail("%s (%d batches): items %s, want %s"
             % (what, b, sorted(set(items) ^ want_items)[:10], "symmetric "
                "difference empty"))
        return None
    for name, e in items.items():
        n_ab = cnt if name == X else data.pair[(A, name)]
        s_b = cnt if name == X else data.count[name]
        want = {"count": n_ab, "support": n_ab / T, "confidence": n_ab / sA,
                "lift": n_ab * T / (sA * s_b)}
        for k, v in want.items():
            if abs(e[k] - v) > 1e-9 * abs(v):
                fail("%s (%d batches): %s.%s = %r, want %r (a torn state?)"
                     % (what, b, name, k, e[k], v))
                return None
        if e["from"] != A:
            fail("%s: %s from %r" % (what, name, e["from"]))
            return None
    return b


def ingest_under_reads(srv, ctx):
    A = data.popular(5)[4]
    X = "CX-NEW-ITEM"
    c = ReqClient(ctx, srv.endpoint, 10000)
    s0 = c.call({"op": "stats"})
    T0 = s0["transactions"]["basket"]
    ck.eq(T0, data.n, "transactions before ingest")
    started = threading.Semaphore(0)
    done = threading.Event()
    seen = {}
    readers = [threading.Thread(target=reader, args=(i, srv.endpoint, ctx, A,
                                                     X, T0, data.count[A],
                                                     started, done, seen))
               for i in range(4)]
    for t in readers:
        t.start()
    for _ in readers:  # every reader has seen the state before
        if not started.acquire(timeout=30):
            fail("a reader never started")
    t0 = time.monotonic()
    for b in range(n_batches):
        evs = []
        for j in range(PER_BATCH):
            o = "CX-O-%d-%d" % (b, j)
            evs += [{"customer": "CX-C%d" % j, "item": A, "order": o},
                    {"customer": "CX-C%d" % j, "item": X, "order": o}]
        r = c.call({"op": "ingest", "events": evs, "id": "batch-%d" % b})
        if not ck.eq(strip_id(r), {"ok": True, "accepted": 2 * PER_BATCH},
                     "ingest batch %d" % b):
            break
        time.sleep(0.003)
    done.set()
    for t in readers:
        t.join(60)
        if t.is_alive():
            fail("a reader is stuck")
    ck.note("ingest under reads: %d batches in %.1f s; reads per state: %s"
            % (n_batches, time.monotonic() - t0, sorted(seen.items())))
    ck.check(0 in seen and n_batches in seen, "states seen: %s" % seen)
    r = c.call({"op": "recommend", "items": [X], "explain": True})
    ck.eq([(x["item"], x["count"]) for x in r.get("items", [])],
          [(A, float(PER_BATCH * n_batches))], "recommend [X] at the end")
    s1 = c.call({"op": "stats"})
    ck.eq(s1.get("ingested"), 2 * PER_BATCH * n_batches, "stats.ingested")
    ck.eq(s1["transactions"]["basket"], T0 + PER_BATCH * n_batches,
          "stats.transactions.basket")
    c.close()


def main():
    ctx = zmq.Context()
    srv = None
    try:
        srv = Server(ck, threads=4, label="concurrency")
        parallel_reads(srv, ctx)
        ingest_under_reads(srv, ctx)
        srv.stop_and_check()
    except (Timeout, ValueError, zmq.ZMQError, RuntimeError, KeyError) as ex:
        ck.fail("%s: %s" % (type(ex).__name__, ex))
        if srv:
            print("server stderr:\n" + srv.stderr()[-3000:], file=sys.stderr)
    finally:
        if srv:
            srv.kill()
        ctx.destroy(0)
    ck.finish()


main()
