"""server_client_data.py -- client data stays data over the wire (issue 12,
point 6): ids, categories and titles holding markup, quotes, ampersands,
newlines, NUL-free control bytes and UTF-8 go in through `ingest` and
`catalog` and come back from `recommend` exactly as given -- the reply's
msgpack strings compared byte for byte, and the request's ill-formed UTF-8
ids echoed in "unknown" untouched; `category` filters by the hostile name;
`xsell query` prints the same reply as JSON that parses back to the same
strings and holds no raw < > & (safe inside a <script> element).
"""
import json
import os
import subprocess
import sys

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from xsserver import Checker, ReqClient, Server, Timeout  # noqa: E402

ck = Checker("server_client_data")

PAYLOAD = "<script>alert(1)</script>"
ITEMS = ["X" + PAYLOAD, 'X"quotes"', "X</script><script>alert(2)",
         "X&amp;", "X\nnewline", "X<!--", "X=1+2", "X,comma",
         "X\u2028\u00e9\U0001F600", "X\x01\x7f"]
CATEGORY = "<script>alert(3)</script>&amp;\"c\""
TITLES = ["<img src=x onerror=alert(4)>", "</script><script>alert(5)",
          '"t" & <b>', "line\nbreak"]
CUSTOMER = "</script><script>alert(6)</script>"


def raw_strings(obj):
    """Every str in a decoded reply, as UTF-8 bytes."""
    if isinstance(obj, str):
        yield obj.encode("utf-8", "surrogateescape")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from raw_strings(k)
            yield from raw_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from raw_strings(v)


def ok(reply, what):
    return ck.check(isinstance(reply, dict) and reply.get("ok") is True,
                    "%s: %r" % (what, reply))


def main():
    ctx = zmq.Context()
    srv = None
    try:
        srv = Server(ck, threads=1, label="data")
        c = ReqClient(ctx, srv.endpoint, 10000)
        # every hostile item in one order with each of the others, twice
        events = []
        for o in range(2):
            for i, it in enumerate(ITEMS):
                events.append({"customer": CUSTOMER, "item": it,
                               "order": "O<%d>&\"" % o, "ts": 1735689600})
        ok(c.call({"op": "ingest", "events": events}), "ingest")
        cat = [{"item": it, "category": CATEGORY, "price": 1.0 + i,
                "in_stock": True, "title": TITLES[i % len(TITLES)]}
               for i, it in enumerate(ITEMS)]
        ok(c.call({"op": "catalog", "items": cat}), "catalog")

        want = {it.encode("utf-8") for it in ITEMS}
        seen = set()
        for it in ITEMS:
            for extra in ({}, {"category": CATEGORY}, {"explain": True}):
                req = dict({"op": "recommend", "items": [it], "k": 50,
                            "plugin": "copurchase"}, **extra)
                data = c.call_raw(msgpack.packb(req, use_bin_type=True))
                r = msgpack.unpackb(data, raw=True)  # bytes, undecoded
                if not ck.check(r.get(b"ok") is True,
                                "recommend %r %r: %r" % (it, extra, r)):
                    continue
                got = [x[b"item"] for x in r[b"items"]]
                ck.check(got and set(got) <= want and
                         it.encode("utf-8") not in got,
                         "recommend %r %r: items %r" % (it, extra, got))
                seen.update(got)
        ck.eq(seen, want, "every hostile id came back byte for byte")

        # ill-formed UTF-8 in an id: the server keeps and returns bytes
        bad = b"Z\xff<script>\xc0\xaf"
        ev = (b"\x81" + msgpack.packb("events") + b"\x91\x83" +
              msgpack.packb("customer") + msgpack.packb(CUSTOMER) +
              msgpack.packb("item") + bytes([0xa0 | len(bad)]) + bad +
              msgpack.packb("order") + msgpack.packb("O<0>&\""))
        data = c.call_raw(b"\x82" + msgpack.packb("op") +
                          msgpack.packb("ingest") + ev[1:])
        r = msgpack.unpackb(data, raw=True)
        if ck.check(r.get(b"ok") is True, "ingest of an ill-formed id: %r"
                    % (r,)):
            r = msgpack.unpackb(c.call_raw(msgpack.packb(
                {"op": "recommend", "items": [ITEMS[0]], "k": 50,
                 "plugin": "copurchase"})), raw=True)
            ck.check(bad in [x[b"item"] for x in r.get(b"items", [])],
                     "ill-formed id returned as given: %r" % (r,))
            data = c.call_raw(b"\x83" + msgpack.packb("op") +
                              msgpack.packb("recommend") +
                              msgpack.packb("items") + b"\x91" +
                              bytes([0xa0 | len(bad)]) + bad +
                              msgpack.packb("k") + b"\x03")
            r = msgpack.unpackb(data, raw=True)
            ck.check(r.get(b"ok") is True and
                     [x[b"item"] for x in r[b"items"]] and
                     all(x[b"item"] in want for x in r[b"items"]),
                     "recommend from an ill-formed id: %r" % (r,))

        # xsell query: JSON of the same reply
        cmd = [ck.xsell, "query", "--connect", srv.endpoint, "--timeout-ms",
               "5000", "recommend",
               json.dumps({"items": [ITEMS[0]], "k": 50,
                           "plugin": "copurchase", "category": CATEGORY})]
        env = dict(os.environ, LC_ALL="C")
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30, env=env)
        out = p.stdout.decode("utf-8", "replace")
        if ck.check(p.returncode == 0, "query: exit %d: %s %s"
                    % (p.returncode, out, p.stderr[-500:])):
            ck.check(not [ch for ch in "<>&" if ch in out],
                     "query: raw < > & in the JSON: %r" % out[:300])
            try:
                got = {x["item"] for x in json.loads(out)["items"]}
                ck.check(got and got <= set(ITEMS),
                         "query: items %r" % got)
            except ValueError as ex:
                ck.fail("query: not JSON (%s): %r" % (ex, out[:300]))
        # the ill-formed id through query: valid JSON, U+FFFD in its place
        cmd[-1] = json.dumps({"items": [ITEMS[0]], "k": 50,
                              "plugin": "copurchase"})
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30, env=env)
        try:
            got = [x["item"] for x in
                   json.loads(p.stdout.decode("utf-8"))["items"]]
            ck.check("Z\ufffd<script>\ufffd\ufffd" in got,
                     "query: the ill-formed id as U+FFFD: %r" % got)
        except ValueError as ex:
            ck.fail("query with an ill-formed id: not UTF-8 JSON (%s): %r"
                    % (ex, p.stdout[:300]))
        c.close()
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
