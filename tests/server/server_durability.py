"""server_durability.py -- `xsell serve --data-dir` (README, "Data dir").

  - round trip: a server restarted from its snapshot answers every request
    of a mix (each plugin and the blend, baskets and customers, explain)
    byte for byte like a server loaded from the CSV files;
  - kill -9 at random moments while 3 clients ingest events and send
    catalog entries (each event a new customer, each entry a new item, so
    every write can be found again), with a `save` now and then: after each
    restart every acknowledged event and entry is there, and nothing twice
    (the counts grow by at least what was acknowledged and at most what was
    sent); --rounds N (default 10) rounds, --fsync always and everysec
    alternating (a crash of the process loses nothing with either: the
    bytes are in the page cache);
  - SIGTERM saves a snapshot and empties the log; `xsell snapshot DIR`
    reports both;
  - a torn log tail is cut with a warning naming the offset; a flipped bit
    before the end refuses the start naming the offset, --recover starts
    and says what it dropped; a flipped bit in the snapshot refuses the
    start naming the file and offset;
  - --save-every by count and by time saves without being asked;
  - a second server on the same data dir fails at once ("in use"); `save`
    without a data dir is `unavailable`.
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, ReqClient, Server, Timeout,  # noqa: E402
                      check_error)
import zmq  # noqa: E402

ck = Checker("server_durability")
ROUNDS = int(ck.opts.get("rounds", "10"))
PLUGINS = ["--plugins", "copurchase,upsell,recency,popular",
           "--default-plugin", "copurchase"]
rng = random.Random(int(ck.opts.get("seed", "11")))


def start(ddir, extra=(), **kw):
    return Server(ck, ["--data-dir", ddir] + PLUGINS + list(extra), **kw)


def stats(ctx, srv):
    c = ReqClient(ctx, srv.endpoint)
    try:
        return c.call({"op": "stats"})
    finally:
        c.close()


def unknown_items(c, ids):
    """The ids the server does not know (a recommend lists them)."""
    return [i for i in ids
            if i in c.call({"op": "recommend", "items": [i],
                            "k": 1}).get("unknown", [])]


def round_trip(ctx):
    ddir = os.path.join(ck.tmp, "rt")
    fresh = Server(ck, PLUGINS, label="fresh")
    seeded = start(ddir, label="seed")
    seeded.stop_and_check()
    loaded = start(ddir, label="loaded")
    ck.check("snapshot of" in loaded.stderr(), "restart does not say it "
             "loaded the snapshot: %s" % loaded.stderr())
    a, b = ReqClient(ctx, fresh.endpoint), ReqClient(ctx, loaded.endpoint)
    items = ["P%06d" % i for i in (1, 4, 7, 13, 61, 99, 150, 231)]
    custs = ["C%06d" % i for i in (1, 2, 17, 400, 1999)]
    reqs = []
    for p in ("copurchase", "upsell", "recency", "popular", "blend"):
        for it in items:
            reqs.append({"op": "recommend", "plugin": p, "items": [it],
                         "k": 10, "explain": True})
        for cu in custs:
            reqs.append({"op": "recommend", "plugin": p, "customer": cu,
                         "k": 10, "explain": True})
        reqs.append({"op": "recommend", "plugin": p, "items": items[:3],
                     "customer": custs[0], "k": 20})
    reqs.append({"op": "rules", "k": 50})
    same = 0
    for r in reqs:
        x, y = a.call_raw(r), b.call_raw(r)
        if ck.check(x == y, "snapshot round trip: %r answers differently:\n"
                    "fresh  %r\nloaded %r" % (r, x[:300], y[:300])):
            same += 1
    ck.note("round trip: %d of %d replies byte-identical" % (same, len(reqs)))
    a.close()
    b.close()
    fresh.stop_and_check()
    loaded.stop_and_check()


class Writer(threading.Thread):
    """Ingests events (each a new customer) and catalog entries (each a
    new item) until the server goes away."""

    def __init__(self, ctx, endpoint, tag, items):
        super().__init__(daemon=True)
        self.c = ReqClient(ctx, endpoint, timeout_ms=1500)
        self.tag, self.items = tag, items
        self.r = random.Random(tag)
        self.acked_customers, self.acked_items = [], []
        self.sent_events = self.sent_items = 0
        self.unexpected = []

    def run(self):
        k = 0
        try:
            while True:
                k += 1
                if self.r.random() < 0.8:
                    evs = [{"customer": "%s-c%d-%d" % (self.tag, k, j),
                            "item": self.r.choice(self.items),
                            "order": "%s-o%d" % (self.tag, k),
                            "qty": 1, "price": 2.5}
                           for j in range(self.r.randint(1, 8))]
                    self.sent_events += len(evs)
                    rep = self.c.call({"op": "ingest", "events": evs})
                    if rep.get("ok") is not True:
                        self.unexpected.append(rep)
                        return
                    self.acked_customers += [e["customer"] for e in evs]
                else:
                    its = [{"item": "%s-i%d-%d" % (self.tag, k, j),
                            "category": "durable", "price": 1.0 + j}
                           for j in range(self.r.randint(1, 3))]
                    self.sent_items += len(its)
                    rep = self.c.call({"op": "catalog", "items": its})
                    if rep.get("ok") is not True:
                        self.unexpected.append(rep)
                        return
                    self.acked_items += [i["item"] for i in its]
        except (Timeout, zmq.ZMQError, ValueError):
            return  # the server was killed
        finally:
            self.c.close()


def kill_rounds(ctx):
    ddir = os.path.join(ck.tmp, "kill")
    policy = "always"
    srv = start(ddir, ["--fsync", policy], label="kill0")
    base = stats(ctx, srv)
    items = ["P%06d" % i for i in range(1, 200)]
    all_items = []
    ev_base = it_base = 0  # what the server held after the last restart
    for r in range(ROUNDS):
        ws = [Writer(ctx, srv.endpoint, "r%dw%d" % (r, t), items)
              for t in range(3)]
        for w in ws:
            w.start()
        time.sleep(rng.uniform(0.05, 0.5))
        if r % 3 == 1:  # a snapshot in the middle restarts the log
            c = ReqClient(ctx, srv.endpoint)
            rep = c.call({"op": "save"})
            ck.check(rep.get("ok") is True, "round %d: save: %r" % (r, rep))
            c.close()
            time.sleep(rng.uniform(0.02, 0.2))
        os.kill(srv.proc.pid, signal.SIGKILL)
        srv.kill()
        for w in ws:
            w.join(10)
            ck.check(not w.unexpected, "round %d: write refused: %r"
                     % (r, w.unexpected[:1]))
        acked_ev = sum(len(w.acked_customers) for w in ws)
        sent_ev = sum(w.sent_events for w in ws)
        acked_it = sum(len(w.acked_items) for w in ws)
        sent_it = sum(w.sent_items for w in ws)
        for w in ws:
            all_items += w.acked_items
        ran = policy
        policy = "always" if r % 2 == 1 else "everysec"
        srv = start(ddir, ["--fsync", policy], label="kill%d" % (r + 1))
        s = stats(ctx, srv)
        got_ev = s["events"] - base["events"]
        got_cu = s["customers"] - base["customers"]
        got_it = s["items"] - base["items"]
        lo_ev, hi_ev = ev_base + acked_ev, ev_base + sent_ev
        ck.check(lo_ev <= got_ev <= hi_ev,
                 "round %d: %d events after restart, acknowledged %d, sent "
                 "%d" % (r, got_ev, lo_ev, hi_ev))
        ck.check(got_cu == got_ev, "round %d: %d new customers for %d new "
                 "events (each event is a new customer: a repeat?)"
                 % (r, got_cu, got_ev))
        ck.check(it_base + acked_it <= got_it <= it_base + sent_it,
                 "round %d: %d new items after restart, acknowledged %d, "
                 "sent %d" % (r, got_it, it_base + acked_it,
                              it_base + sent_it))
        # every acknowledged catalog entry reads back (sampled per round)
        c = ReqClient(ctx, srv.endpoint)
        sample = rng.sample(all_items, min(40, len(all_items)))
        miss = unknown_items(c, sample)
        ck.check(not miss, "round %d: acknowledged catalog items missing "
                 "after kill -9: %s" % (r, miss[:5]))
        c.close()
        ev_base, it_base = got_ev, got_it
        ck.note("round %d (%s): %d events acknowledged, %d sent, %d after "
                "restart" % (r, ran, acked_ev, sent_ev, got_ev))
    srv.stop_and_check()
    err = srv.stderr()
    ck.check("snapshot of" in err and "saved" in err,
             "SIGTERM did not save a snapshot: %s" % err[-800:])
    out = subprocess.run([ck.xsell, "snapshot", ddir], capture_output=True,
                         text=True, timeout=30)
    ck.eq(out.returncode, 0, "xsell snapshot exit code")
    ck.check("log: empty" in out.stdout and "snapshot:" in out.stdout,
             "xsell snapshot after SIGTERM: %s" % out.stdout)


def damaged(ctx):
    src = os.path.join(ck.tmp, "dmg")
    srv = start(src, ["--fsync", "always"], label="dmg")
    c = ReqClient(ctx, srv.endpoint)
    for k in range(6):
        rep = c.call({"op": "ingest", "events": [
            {"customer": "d%d" % k, "item": "P000001", "order": "do%d" % k}]})
        ck.check(rep.get("ok") is True, "ingest %d: %r" % (k, rep))
    c.close()
    srv.kill()  # kill -9: the log holds 6 records
    log = os.path.join(src, "wal.log")
    size = os.path.getsize(log)
    rec = size // 6
    ck.check(size > 0 and size % 6 == 0, "log of %d bytes for 6 equal "
             "records" % size)

    # a torn tail: half a record more
    d = os.path.join(ck.tmp, "torn")
    shutil.copytree(src, d)
    with open(os.path.join(d, "wal.log"), "ab") as f:
        f.write(open(log, "rb").read()[:rec // 2])
    srv = start(d, label="torn")
    err = srv.stderr()
    ck.check(re.search(r"torn tail at offset %d" % size, err) is not None,
             "torn tail not reported at offset %d: %s" % (size, err))
    s = stats(ctx, srv)
    srv.stop_and_check()
    base = s["events"]

    # a flipped bit in record 3 of 6: refused, naming the offset
    d = os.path.join(ck.tmp, "flip")
    shutil.copytree(src, d)
    with open(os.path.join(d, "wal.log"), "r+b") as f:
        f.seek(2 * rec + 30)
        b = f.read(1)
        f.seek(2 * rec + 30)
        f.write(bytes([b[0] ^ 0x10]))
    try:
        start(d, label="flip", start_timeout=10)
        ck.fail("a damaged log started without --recover")
    except RuntimeError as ex:
        ck.check("offset %d" % (2 * rec) in str(ex) and "--recover" in
                 str(ex), "damaged log: error does not name offset %d and "
                 "--recover: %s" % (2 * rec, ex))
    out = subprocess.run([ck.xsell, "snapshot", d], capture_output=True,
                         text=True, timeout=30)
    ck.check(out.returncode == 0 and "log: 2 records (seq 1..2)" in out.stdout
             and "damaged or torn from offset %d" % (2 * rec) in out.stdout,
             "xsell snapshot on a damaged log: %r" % out.stdout)
    out = subprocess.run([ck.xsell, "snapshot", os.path.join(d, "none")],
                         capture_output=True, text=True, timeout=30)
    ck.check(out.returncode == 1 and "not a directory" in out.stderr,
             "xsell snapshot on no directory: %r" % (out,))
    srv = start(d, ["--recover"], label="recover")
    err = srv.stderr()
    ck.check("dropped" in err and "offset %d" % (2 * rec) in err,
             "--recover does not say what it dropped: %s" % err)
    s = stats(ctx, srv)
    ck.eq(s["events"], base - 1, "events after --recover (one record "
          "dropped)")
    srv.stop_and_check()
    srv = start(d, label="recovered")  # rewritten clean: starts plainly
    ck.eq(stats(ctx, srv)["events"], base - 1, "events after the restart "
          "that follows --recover")
    srv.stop_and_check()

    # a flipped bit in the snapshot: refused, naming file and offset
    d = os.path.join(ck.tmp, "snapflip")
    shutil.copytree(src, d)
    snap = os.path.join(d, "snapshot.xsi")
    n = os.path.getsize(snap)
    with open(snap, "r+b") as f:
        f.seek(n // 2)
        b = f.read(1)
        f.seek(n // 2)
        f.write(bytes([b[0] ^ 0x01]))
    try:
        start(d, label="snapflip", start_timeout=10)
        ck.fail("a damaged snapshot started")
    except RuntimeError as ex:
        ck.check("snapshot.xsi: offset" in str(ex) and "checksum" in str(ex),
                 "damaged snapshot: error lacks file, offset and checksum: "
                 "%s" % ex)


def save_every(ctx):
    """--save-every by count and by time: the background thread saves and
    the log empties without a request asking."""
    for label, opt, n in (("count", "40", 50), ("time", "1s", 5)):
        d = os.path.join(ck.tmp, "every-" + label)
        srv = start(d, ["--save-every", opt], label="every-" + label)
        c = ReqClient(ctx, srv.endpoint)
        for k in range(n):
            rep = c.call({"op": "ingest", "events": [
                {"customer": "e%d" % k, "item": "P000002"}]})
            ck.check(rep.get("ok") is True, "ingest: %r" % rep)
        c.close()
        deadline = time.monotonic() + 10
        out = ""
        while time.monotonic() < deadline:
            out = subprocess.run([ck.xsell, "snapshot", d],
                                 capture_output=True, text=True,
                                 timeout=30).stdout
            m = re.search(r"holds the log to seq (\d+)", out)
            if m and int(m.group(1)) >= (40 if label == "count" else n):
                break
            time.sleep(0.2)
        ck.check(m and int(m.group(1)) >= (40 if label == "count" else n),
                 "--save-every %s: no snapshot taken by itself: %s"
                 % (opt, out))
        ck.check("(--save-every)" in srv.stderr(), "--save-every %s: no log "
                 "line: %s" % (opt, srv.stderr()))
        srv.stop_and_check()


def bad_options():
    """Bad values of the data dir's options: exit 2 naming the option."""
    for args, name in ((["--fsync", "sometimes"], "--fsync"),
                       (["--save-every", "5x"], "--save-every"),
                       (["--save-every", "-3"], "--save-every")):
        out = subprocess.run(
            [ck.xsell, "serve", "--events", ck.events_csv(), "--data-dir",
             os.path.join(ck.tmp, "bad")] + args, capture_output=True,
            text=True, timeout=30)
        ck.check(out.returncode == 2 and name in out.stderr,
                 "%s: exit %d, %r" % (args, out.returncode, out.stderr))
    out = subprocess.run([ck.xsell, "serve", "--events", ck.events_csv(),
                          "--fsync", "always"], capture_output=True,
                         text=True, timeout=30)
    ck.check(out.returncode == 2 and "need --data-dir" in out.stderr,
             "--fsync without --data-dir: %d %r"
             % (out.returncode, out.stderr))
    empty = os.path.join(ck.tmp, "empty-dd")
    out = subprocess.run([ck.xsell, "serve", "--data-dir", empty],
                         capture_output=True, text=True, timeout=30)
    ck.check(out.returncode == 2 and "is empty" in out.stderr,
             "an empty data dir without CSV files: %d %r"
             % (out.returncode, out.stderr))


def lock_and_unavailable(ctx):
    d = os.path.join(ck.tmp, "lock")
    a = start(d, label="lock1")
    t0 = time.monotonic()
    try:
        start(d, label="lock2", start_timeout=10)
        ck.fail("two servers share one data dir")
    except RuntimeError as ex:
        ck.check("in use" in str(ex), "second server: %s" % ex)
        ck.check(time.monotonic() - t0 < 5, "second server took %.1f s to "
                 "fail" % (time.monotonic() - t0))
    a.stop_and_check()
    plain = Server(ck, PLUGINS, label="plain")
    c = ReqClient(ctx, plain.endpoint)
    check_error(ck, c.call({"op": "save"}), "unavailable", "save without "
                "a data dir", message_has="--data-dir")
    c.close()
    plain.stop_and_check()


def main():
    ctx = zmq.Context()
    try:
        round_trip(ctx)
        kill_rounds(ctx)
        damaged(ctx)
        save_every(ctx)
        bad_options()
        lock_and_unavailable(ctx)
    except (Timeout, ValueError, zmq.ZMQError, RuntimeError, KeyError) as ex:
        ck.fail("%s: %s" % (type(ex).__name__, ex))
    finally:
        ctx.destroy(0)
    ck.finish()


main()
