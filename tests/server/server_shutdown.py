"""server_shutdown.py -- stopping `xsell serve` (docs/protocol.md, Stopping).

  - SIGTERM under load, with one worker (the worker serves the ROUTER
    itself) and with three (the I/O thread and its queue in front, then
    --shape proxy: the proxy in front): 4 DEALER clients (two with
    the delimiter frame) keep 16 requests each in flight; the server must
    exit 0 within 5 s + 2 s and print "stopped (SIGTERM)"; every reply any
    client got, before or after the signal, is exactly the expected reply
    for its id (a correct reply or none, never a malformed one);
  - requests taken before the signal are answered: a slow ingest and three
    health requests sent before SIGTERM all get their replies;
  - SIGINT on an idle server: exit 0, "stopped (SIGINT)", promptly; the
    same with idle REQ and DEALER clients connected and the signal sent
    twice;
  - past the drain limit, through each --shape (--drain 0.3, requests of
    2 s through the test
    plugin testgood's sleep_ms): every request taken gets exactly one
    reply, `shutting_down` with its id and envelope for those unanswered
    at the limit, and the server exits 0;
  - SIGHUP, SIGUSR1, SIGPIPE and SIGUSR2 (twice) leave the server serving
    (one line each on stderr for the first three kinds); SIGTERM then
    still stops it;
  - on the store `xsell gen --orders 300000` makes (1 M lines): progress
    lines while a FIFO feeds it for about 2.5 s; a second server on the
    same port fails at once, before loading; SIGINT during a load from a
    FIFO and during a load of the regular file: exit 1 within a second or
    so, "stopped while loading (SIGINT)", never "listening".
"""
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, Data, ReqClient, Server, Timeout,  # noqa: E402
                      pack, shape_problem, socket, strip_id, unpack)
import zmq  # noqa: E402

ck = Checker("server_shutdown")
tp_dir = ck.opts.get("test-plugin-dir")
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


def sigterm_under_load(ctx, threads, shape="handoff"):
    srv = Server(ck, threads=threads, label="load%d-%s" % (threads, shape),
                 args=["--shape", shape])
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
        ck.note("SIGTERM under load, %d worker(s), %s: exit %r after "
                "%.2f s; %s" % (threads, shape, rc, took, tally))
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


def past_the_drain(ctx, shape):
    if not tp_dir:
        ck.fail("--test-plugin-dir DIR (with testgood.so) is required")
        return
    srv = Server(ck, threads=2, label="drain-" + shape,
                 args=["--plugins", "copurchase,testgood", "--plugin-dir",
                       tp_dir, "--plugin-opt", "testgood.sleep_ms=2000",
                       "--drain", "0.3", "--shape", shape])
    try:
        d = socket(ctx, zmq.DEALER, srv.endpoint, 4000)
        q = socket(ctx, zmq.DEALER, srv.endpoint, 4000)
        # connected before the clock starts: a loaded machine (sanitizers,
        # other jobs) may take longer than the 0.4 s below to connect
        d.send(pack({"op": "health", "id": "warm"}))
        q.send_multipart([b"", pack({"op": "health", "id": "warm"})])
        d.recv_multipart()
        q.recv_multipart()
        for i in range(4):  # two run, two wait behind them
            d.send(pack({"op": "recommend", "items": ["x"], "k": 3,
                         "plugin": "testgood", "id": "slow%d" % i}))
        for i in range(6):  # wait behind them too
            q.send_multipart([b"", pack({"op": "health", "id": i})])
        time.sleep(0.4)  # all taken
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        replies = {}
        poller = zmq.Poller()
        poller.register(d, zmq.POLLIN)
        poller.register(q, zmq.POLLIN)
        deadline, n = t0 + 4, 0
        while time.monotonic() < deadline:
            for sock, _ in poller.poll(50):
                f = sock.recv_multipart()
                took = time.monotonic() - t0
                r = unpack(f[-1])
                ck.eq(f[:-1], [] if sock is d else [b""],
                      "drain: envelope of %r" % r.get("id"))
                p = shape_problem(r)
                ck.check(p is None, "drain: reply %r: %s" % (r, p))
                replies.setdefault(r.get("id"), []).append((r, took))
                n += 1
                if n == 10:  # then a while longer: no reply twice
                    deadline = min(deadline, time.monotonic() + 0.5)
        rc, _ = srv.stop(signal.SIGTERM, 10)
        took = time.monotonic() - t0
        want = ["slow%d" % i for i in range(4)] + list(range(6))
        ck.eq(sorted(map(str, replies)), sorted(map(str, want)),
              "drain: ids answered")
        late = [i for i, rs in replies.items()
                if rs[0][0].get("ok") is False]
        for i, rs in replies.items():
            ck.eq(len(rs), 1, "drain: replies to %r" % i)
            r, t = rs[0]
            if r.get("ok") is False:
                ck.eq(r["error"]["code"], "shutting_down",
                      "drain: error of %r" % i)
                ck.check("drain" in r["error"]["message"],
                         "drain: message %r" % r["error"]["message"])
                ck.check(t < 1.5, "drain: %r answered shutting_down "
                         "%.2f s after SIGTERM (limit 0.3 s)" % (i, t))
        ck.note("past the drain limit: %d of %d answered shutting_down, "
                "exit %r after %.2f s" % (len(late), len(want), rc, took))
        ck.check("slow0" in late and "slow1" in late,
                 "drain: the running requests answered shutting_down: %s"
                 % late)
        if not ck.eq(rc, 0, "drain: exit code"):
            print(srv.stderr()[-3000:], file=sys.stderr)
        ck.check(took < 0.3 + 2.0 + 2.0, "drain: exit %.1f s after SIGTERM"
                 % took)
        ck.check("stopped (SIGTERM)" in srv.stderr(), "drain: stderr")
        d.close(0)
        q.close(0)
    finally:
        srv.kill()


def other_signals(ctx, threads):
    srv = Server(ck, threads=threads, label="signals%d" % threads)
    try:
        q = ReqClient(ctx, srv.endpoint, 5000)
        for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGPIPE,
                    signal.SIGUSR2, signal.SIGUSR2):
            srv.proc.send_signal(sig)
            time.sleep(0.1)
            if not ck.check(srv.alive(), "%d worker(s): %s killed it (exit "
                            "%r)" % (threads, sig.name, srv.proc.returncode)):
                return
            r = q.call({"op": "health", "id": sig.name})
            ck.eq(r.get("id"), sig.name, "health after %s" % sig.name)
        err = srv.stderr()
        for name in ("SIGHUP", "SIGUSR1", "SIGUSR2"):
            ck.check(name + " ignored" in err, "stderr lacks '%s ignored': %s"
                     % (name, err[-1000:]))
        q.close()
        rc, took = srv.stop(signal.SIGTERM, 5)
        ck.eq(rc, 0, "%d worker(s): exit after SIGTERM following SIGUSR2"
              % threads)
        ck.check(took < 3, "%d worker(s): SIGTERM after SIGUSR2 took %.1f s"
                 % (threads, took))
        ck.check("stopped (SIGTERM)" in srv.stderr(), "stderr lacks 'stopped "
                 "(SIGTERM)': %s" % srv.stderr()[-1000:])
    finally:
        srv.kill()


# -- the initial load -----------------------------------------------------

def big_store():
    """`xsell gen --orders 300000`: about 1 M lines, 46 MB."""
    d = os.path.join(ck.tmp, "big")
    subprocess.run([ck.xsell, "gen", "--orders", "300000", "--out", d],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120)
    return os.path.join(d, "events.csv"), os.path.join(d, "catalog.csv")


def feed_fifo(path, data, seconds, stop):
    """Writes data into the FIFO path over about `seconds` seconds."""
    try:
        with open(path, "wb") as f:
            n = 50
            chunk = len(data) // n + 1
            for i in range(n):
                if stop.is_set():
                    return
                f.write(data[i * chunk:(i + 1) * chunk])
                f.flush()
                time.sleep(seconds / n)
    except OSError:  # the reader went away
        pass


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def start(events, catalog, label, bind="tcp://127.0.0.1:*"):
    err = os.path.join(ck.tmp, label + ".err")
    with open(err, "wb") as ef:
        p = subprocess.Popen(
            [ck.xsell, "serve", "--events", events, "--catalog", catalog,
             "--bind", bind, "--threads", "2", "--plugins",
             "copurchase,popular,recency,upsell"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=ef)
    return p, err


def wait_text(p, err, text, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout and p.poll() is None:
        if text in read_text(err):
            return True
        time.sleep(0.01)
    return text in read_text(err)


def sigint_while_loading(p, err, what, after, delay):
    """SIGINT `delay` s after `after` is on stderr: exit 1 promptly."""
    try:
        if not ck.check(wait_text(p, err, after, 30), "%s: no %r on "
                        "stderr: %s" % (what, after, read_text(err))):
            return
        time.sleep(delay)
        if "listening on" in read_text(err):
            ck.note("%s: the load ended before SIGINT: not tested" % what)
            return
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t0
        text = read_text(err)
        ck.note("SIGINT during the load %s: exit %r after %.2f s" % (what, rc,
                                                                   took))
        ck.eq(rc, 1, "%s: exit code after SIGINT during the load" % what)
        ck.check(took < 2.0, "%s: exit %.2f s after SIGINT" % (what, took))
        ck.check("stopped while loading (SIGINT)" in text and
                 "listening on" not in text, "%s: stderr: %s" % (what, text))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)


def loading(ctx):
    events, catalog = big_store()
    with open(events, "rb") as f:
        data = f.read()
    # progress lines, while a FIFO feeds the store for about 2.5 s
    fifo = os.path.join(ck.tmp, "events.fifo")
    os.mkfifo(fifo)
    stop = threading.Event()
    feeder = threading.Thread(target=feed_fifo, args=(fifo, data, 2.5, stop),
                              daemon=True)
    feeder.start()
    srv = Server(ck, threads=2, label="big", start_timeout=120,
                 args=["--events", fifo, "--catalog", catalog])
    try:
        err = srv.stderr()
        ck.check("xsell serve: reading %s: " % fifo in err and
                 "xsell serve: loading %s: 100%% (1.06M lines)" % fifo in err,
                 "progress lines: %s" % err)
        # a busy port fails before the load (of a second or more)
        t0 = time.monotonic()
        p, perr = start(events, catalog, "busy", bind=srv.endpoint)
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = None
        took = time.monotonic() - t0
        ck.note("a second server on the same port: exit %r after %.2f s"
                % (rc, took))
        ck.eq(rc, 1, "busy port: exit code")
        ck.check(took < 2.0, "busy port: found after %.2f s" % took)
        ck.check("cannot bind" in read_text(perr) and
                 "loading" not in read_text(perr), "busy port: %s"
                 % read_text(perr))
        srv.stop_and_check()
    finally:
        stop.set()
        srv.kill()
    # SIGINT while a slow FIFO is being read
    stop = threading.Event()
    feeder = threading.Thread(target=feed_fifo, args=(fifo, data, 5, stop),
                              daemon=True)
    feeder.start()
    p, err = start(fifo, catalog, "fifo-int")
    sigint_while_loading(p, err, "from a FIFO", "xsell serve: reading", 0)
    stop.set()
    # SIGINT while the regular file loads
    p, err = start(events, catalog, "file-int")
    sigint_while_loading(p, err, "of the file", "; loading", 0.4)


def main():
    ctx = zmq.Context()
    try:
        for threads in (3, 1):
            sigterm_under_load(ctx, threads)
            taken_requests_answered(ctx, threads)
        sigterm_under_load(ctx, 3, "proxy")
        idle_signals(ctx)
        for shape in ("handoff", "proxy"):
            past_the_drain(ctx, shape)
        for threads in (2, 1):
            other_signals(ctx, threads)
        loading(ctx)
    except (Timeout, ValueError, zmq.ZMQError, RuntimeError, KeyError,
            OSError, subprocess.SubprocessError) as ex:
        ck.fail("%s: %s" % (type(ex).__name__, ex))
    finally:
        ctx.destroy(0)
    ck.finish()


main()
