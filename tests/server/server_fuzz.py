"""server_fuzz.py -- garbage in, a well-formed reply out, every time.

Sends, over two DEALER sockets (one bare, one with the empty delimiter
frame) with at most 64 requests in flight, in a seeded random order:

  - 10,000 random byte strings of 0..300 bytes (a third of them starting
    with a map header, to get past the first byte);
  - bit flips, truncations and byte splices of valid requests of every op
    but ingest (a mutated ingest could be valid and change the data);
  - every field of every op given values it must refuse (wrong types, out of
    range, unknown names), each request with its own "id";
  - declared lengths far beyond the data (b'\\xdd\\xff\\xff\\xff\\xff',
    b'\\xdf\\x7f\\xff\\xff\\xff', b'\\xdb\\xff\\xff\\xff\\xf0', bin32,
    ext32...) at the top and as field values;
  - values nested 9 to 100,000 levels deep (arrays and maps);
  - messages of 2..6 frames.

Every message must get exactly one reply, within 10 s, in the sender's
envelope, decoding as one msgpack map that is a well-formed reply (ok true,
or ok false with a known code and a message); the refused-field requests
must all be errors carrying their id.  Afterwards the server must answer the
reference requests exactly as before the fuzzing, report no ingested event,
count every message once in stats, and exit 0 on SIGTERM.

Options: --seed N (default 20240611), --random N (default 10000).
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, Data, ReqClient, Server, Timeout,  # noqa: E402
                      pack, shape_problem, socket, strip_id, unpack)
import msgpack  # noqa: E402
import zmq  # noqa: E402

ck = Checker("server_fuzz")
seed = int(ck.opts.get("seed", "20240611"))
n_random = int(ck.opts.get("random", "10000"))
rng = random.Random(seed)
data = Data(ck.events_csv())
A, B, C = data.popular(3)
WINDOW = 32  # per socket: 64 in flight in all

HUGE = [b"\xdd\xff\xff\xff\xff", b"\xdf\x7f\xff\xff\xff",
        b"\xdb\xff\xff\xff\xf0", b"\xdc\xff\xff", b"\xde\xff\xff",
        b"\xda\xff\xff", b"\xd9\xff", b"\xc6\xff\xff\xff\xff",
        b"\xc5\xff\xff", b"\xc9\xff\xff\xff\xff\x01", b"\xc8\xff\xff\x01",
        b"\xdd\x00\x01\x00\x00\xc0", b"\xdf\x00\x00\x10\x00\xa1k",
        b"\x9f", b"\x8f", b"\xbf", b"\xcb\x7f\xf8", b"\xd3\x80"]

# valid requests to mutate (no ingest: see the top)
BASES = [
    {"op": "recommend", "items": [A], "k": 5, "id": "b0"},
    {"op": "recommend", "items": [A, B, "NOPE"], "k": 20, "explain": True,
     "exclude": [C], "customer": "C000001", "plugin": "copurchase",
     "id": 1},
    {"op": "recommend", "items": [B], "explain": False, "id": "b2"},
    {"op": "rules", "min_support": 0.002, "min_confidence": 0.2,
     "limit": 5, "sort": "count", "scope": "basket", "id": "b3"},
    {"op": "stats", "id": "b4"},
    {"op": "health", "id": 5},
    {"op": "plugins"},
]

# values each field must refuse
NAN, INF = float("nan"), float("inf")
EXT = msgpack.ExtType(1, b"xx")
ALWAYS_BAD = [True, b"bin", [[1]], {"a": {}}, EXT, [None]]
REFUSE = {
    ("recommend", "items"): ALWAYS_BAD + [None, 1, 1.5, "x", {}, [1.5],
                                          [A, True], ["x"] * 1001],
    ("recommend", "k"): ALWAYS_BAD + [None, 0, -1, 1001, 2 ** 64 - 1,
                                      -2 ** 63, 1.5, 10.0, NAN, "x", []],
    ("recommend", "plugin"): ALWAYS_BAD + [1, 1.5, [], {}, "nope", "",
                                           "copurchase\x00"],
    ("recommend", "customer"): ALWAYS_BAD + [1.5, NAN, [], {}],
    ("recommend", "exclude"): ALWAYS_BAD + [None, 1, "x", {}, [1.5],
                                            [A] * 1001],
    ("recommend", "explain"): [None, 1, 0, "true", [], {}, 1.5, b"bin", EXT],
    ("recommend", "op"): ALWAYS_BAD + [None, 1, 1.5, [], {}, "nope", ""],
    ("rules", "min_support"): ALWAYS_BAD + [None, "x", -1, 2, NAN, INF, [],
                                            {}],
    ("rules", "min_confidence"): ALWAYS_BAD + [None, "x", -0.5, 1.01, NAN,
                                               -INF],
    ("rules", "limit"): ALWAYS_BAD + [None, 0, 10001, -1, 1.5, "x"],
    ("rules", "sort"): ALWAYS_BAD + [1, 1.5, "bogus", "", [], {},
                                     "lift\x00"],
    ("rules", "scope"): ALWAYS_BAD + [1, "x", "", [], "customer"],
    ("ingest", "events"): ALWAYS_BAD + [None, 1, "x", {}, [1], [[]],
                                        [{"customer": "c"}]],
}
EVENT_REFUSE = {  # one bad field in an otherwise valid event
    "customer": ALWAYS_BAD + [None, 1.5, NAN, [], {}, "", "c" * 1025],
    "item": ALWAYS_BAD + [None, 1.5, [], {}, "", "i" * 1025],
    "order": ALWAYS_BAD + [1.5, [], {}, ""],
    "ts": ALWAYS_BAD + [None, "x", NAN, INF, 1e300, [], {}],
    "qty": ALWAYS_BAD + [None, "x", -1, -0.5, NAN, INF, [], {}],
    "price": ALWAYS_BAD + ["x", -1, INF, -INF, [], {}],
}
REFERENCE = [
    {"op": "recommend", "items": [A], "k": 50, "explain": True},
    {"op": "recommend", "items": [A, B, C], "k": 30, "exclude": [B]},
    {"op": "recommend", "items": ["NOPE", C], "k": 1000, "explain": True},
    {"op": "rules", "min_support": 0.001, "min_confidence": 0.1, "limit": 50},
]


def mutate_bits(b):
    b = bytearray(b)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def splice(b):
    b = bytearray(b)
    i = rng.randrange(len(b) + 1)
    what = rng.randrange(3)
    junk = rng.choice(HUGE + [b"\xc1", b"\x00", b"\xff", b"\x80", b"\x90"])
    if what == 0:
        b[i:i] = junk
    elif what == 1:
        b[i:i + len(junk)] = junk
    else:
        del b[i:i + rng.randint(1, 8)]
    return bytes(b)


def raw_with(req, field, raw_value):
    """req packed by hand with field's value replaced by raw bytes."""
    out = bytes([0x80 | len(req)])
    for k, v in req.items():
        out += pack(k) + (raw_value if k == field else pack(v))
    return out


def corpus():
    """[(frames, tag)], tag an id every reply must carry and be an error
    for, or None."""
    msgs = []
    for _ in range(n_random):
        n = rng.randrange(301)
        b = bytes(rng.getrandbits(8) for _ in range(n))
        if b and rng.random() < 0.33:
            b = bytes([rng.choice([0x81, 0x82, 0x83, 0x8f, 0xde, 0xdf])]) + b
        msgs.append(([b], None))
    bases = [pack(b) for b in BASES]
    for _ in range(1500):
        msgs.append(([mutate_bits(rng.choice(bases))], None))
    for _ in range(700):
        b = rng.choice(bases)
        msgs.append(([b[:rng.randrange(len(b))]], None))
    for _ in range(800):
        msgs.append(([splice(rng.choice(bases))], None))
    # refused values, each request tagged
    n = 0
    base_of = {"recommend": {"op": "recommend", "items": [A], "k": 5},
               "rules": {"op": "rules", "limit": 3},
               "ingest": {"op": "ingest", "events": [
                   {"customer": "F-C", "item": "F-I", "order": "F-O"}]}}
    for (op, field), values in REFUSE.items():
        for v in values:
            tag = "wt-%d" % n
            n += 1
            req = {"id": tag}
            req.update(base_of[op])
            req[field] = v
            msgs.append(([pack(req)], tag))
    for field, values in EVENT_REFUSE.items():
        for v in values:
            tag = "wt-%d" % n
            n += 1
            good = {"customer": "F-C", "item": "F-I-%d" % n, "order": "F-O",
                    "ts": 1735800000, "qty": 1, "price": 1.0}
            bad = dict(good, item="F-J-%d" % n)
            bad[field] = v
            req = {"id": tag, "op": "ingest",
                   "events": [good, bad] if n % 2 else [bad, good]}
            msgs.append(([pack(req)], tag))
    # nested deeper than 8 levels (the request map is level 1)
    # (untagged: such a request is refused unread, so without its id)
    for levels in (9, 10, 17, 64, 100, 1000, 100000):
        for wrap in (b"\x91", b"\x81\xa1k", b"\xdc\x00\x01"):
            x = wrap * (levels - 2) + b"\x01"  # the leaf at level `levels`
            req = {"id": "deep", "op": rng.choice(["health", "recommend"]),
                   "x": None}
            msgs.append(([raw_with(req, "x", x)], None))
    # declared lengths beyond the data: at the top, as every field's value
    for h in HUGE:
        msgs.append(([h], None))
        msgs.append(([h + b"\x00" * rng.randrange(16)], None))
        for base in BASES[:4]:
            for field in base:
                if field == "id":
                    continue
                msgs.append(([raw_with(base, field, h)], None))
        ev = {"op": "ingest", "events": [{"customer": "c", "item": "i"}]}
        msgs.append(([raw_with(ev, "events", b"\x91\x82\xa8customer" + h)],
                     None))
    # several frames
    for _ in range(200):
        k = rng.randint(2, 6)
        frames = [rng.choice(bases + [b"", b"\xc1", b"x" * 5])
                  for _ in range(k)]
        if frames[0] == b"":
            frames[0] = b"\xc0"  # see send(): the bare socket's envelope
        msgs.append((frames, None))
    rng.shuffle(msgs)
    return msgs


def reference(c):
    return [strip_id(c.call(r)) for r in REFERENCE]


def main():
    ctx = zmq.Context()
    srv = None
    try:
        srv = Server(ck, threads=2, label="fuzz")
        c = ReqClient(ctx, srv.endpoint, 10000)
        before = reference(c)
        for r, q in zip(before, REFERENCE):
            ck.check(r.get("ok") is True and shape_problem(r) is None,
                     "reference %r: %r" % (q, r))
        s0 = c.call({"op": "stats"})
        msgs = corpus()
        ck.note("%d messages (seed %d)" % (len(msgs), seed))
        bare = socket(ctx, zmq.DEALER, srv.endpoint, 10000)
        delim = socket(ctx, zmq.DEALER, srv.endpoint, 10000)
        socks = [(bare, []), (delim, [b""])]
        out = {bare: 0, delim: 0}
        poller = zmq.Poller()
        poller.register(bare, zmq.POLLIN)
        poller.register(delim, zmq.POLLIN)
        tags = {t for _, t in msgs if t}
        seen_tags = set()
        codes = {}
        sent = got = 0
        i = 0
        t0 = time.monotonic()
        while i < len(msgs) or sum(out.values()) > 0:
            for s, env in socks:
                while i < len(msgs) and out[s] < WINDOW:
                    frames, _ = msgs[i]
                    s.send_multipart(env + frames)
                    out[s] += 1
                    sent += 1
                    i += 1
            ready = dict(poller.poll(10000))
            if not ready:
                ck.fail("no reply within 10 s: %d of %d answered, %d in "
                        "flight; server alive: %s" % (got, len(msgs),
                                                      sum(out.values()),
                                                      srv.alive()))
                break
            for s, env in socks:
                while s in ready:
                    try:
                        f = s.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    out[s] -= 1
                    got += 1
                    if not ck.check(f[:-1] == env, "reply envelope %r, want "
                                    "%r" % (f[:-1], env)):
                        continue
                    try:
                        r = unpack(f[-1])
                    except ValueError as ex:
                        ck.fail("malformed reply: %s" % ex)
                        continue
                    p = shape_problem(r)
                    if not ck.check(p is None, "malformed reply %r: %s"
                                    % (r, p)):
                        continue
                    code = r["error"]["code"] if r["ok"] is False else "ok"
                    codes[code] = codes.get(code, 0) + 1
                    rid = r.get("id")
                    if isinstance(rid, str) and rid in tags:
                        ck.check(rid not in seen_tags, "two replies for %s"
                                 % rid)
                        seen_tags.add(rid)
                        ck.check(r["ok"] is False, "a request with a refused "
                                 "value was accepted: %s -> %r" % (rid, r))
                if ck.failures > 50:
                    break
            if ck.failures > 50:
                ck.fail("too many failures, stopping")
                break
        took = time.monotonic() - t0
        ck.note("%d sent, %d replies in %.1f s: %s" % (sent, got, took,
                                                       sorted(codes.items())))
        ck.eq(got, len(msgs), "replies received")
        ck.eq(seen_tags, tags, "tagged requests answered with their id")
        bare.close(0)
        delim.close(0)
        # the server is unharmed: same answers, nothing ingested, every
        # message counted once
        after = reference(c)
        for q, b, a in zip(REFERENCE, before, after):
            ck.eq(a, b, "reference %r after fuzzing" % (q,))
        # every request this server got so far: the references twice, s0,
        # the fuzz; a stats reply never counts its own request, and a worker
        # counts a request just after replying to it: poll a little
        made = 2 * len(REFERENCE) + 1 + len(msgs)
        for _ in range(100):
            s1 = c.call({"op": "stats"})
            total = sum(v["count"] for v in s1["requests"].values())
            want_total = made
            made += 1
            if total >= want_total:
                break
            time.sleep(0.02)
        ck.eq(total, want_total, "stats: requests counted")
        ck.eq(s1.get("ingested"), 0, "stats.ingested after fuzzing")
        for k in ("items", "customers", "events", "transactions", "pairs"):
            ck.eq(s1.get(k), s0.get(k), "stats.%s after fuzzing" % k)
        ck.check(s1["requests"]["invalid"]["count"] >= n_random // 2,
                 "stats.requests.invalid: %r" % s1["requests"]["invalid"])
        c.close()
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
