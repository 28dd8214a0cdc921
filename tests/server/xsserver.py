"""xsserver.py -- what the server tests share: starting and stopping an
`xsell serve` on an ephemeral loopback port, ZeroMQ clients with timeouts,
strict reply decoding and shape checks, and a plain-Python model of the
example data's baskets.

Every test script is run by ctest (tests/server.cmake) as

    /usr/bin/python3 tests/server/SCRIPT.py PATH/TO/xsell SOURCE_DIR [options]

It exits 0 when every check passed, 1 when one failed (each failure printed
as FAIL: ...), 77 to be reported as skipped.  Nothing may hang: every socket
has LINGER 0 and send/receive timeouts, every loop is bounded, and every
server started is killed in a finally block (Checker.finish also kills any
left running).
"""
import atexit
import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import msgpack
import zmq

SKIP = 77
ERROR_CODES = {"bad_request", "unknown_op", "unknown_plugin", "too_large",
               "forbidden",
               "unavailable", "internal", "shutting_down"}
OPS = ["recommend", "ingest", "rules", "stats", "health", "plugins",
       "catalog", "save"]


class Checker:
    """Collects failures; argv[1] is xsell, argv[2] the source tree, the
    rest options of the form --name=value or --name value."""

    def __init__(self, name):
        self.name = name
        self.failures = 0
        if len(sys.argv) < 3:
            print("usage: %s PATH/TO/xsell SOURCE_DIR [options]" % sys.argv[0],
                  file=sys.stderr)
            sys.exit(1)
        self.xsell = os.path.abspath(sys.argv[1])
        self.src = os.path.abspath(sys.argv[2])
        self.opts = {}
        rest = sys.argv[3:]
        i = 0
        while i < len(rest):
            a = rest[i]
            if a.startswith("--") and "=" in a:
                k, v = a[2:].split("=", 1)
                self.opts[k] = v
            elif a.startswith("--") and i + 1 < len(rest):
                self.opts[a[2:]] = rest[i + 1]
                i += 1
            else:
                print("%s: bad argument %r" % (name, a), file=sys.stderr)
                sys.exit(1)
            i += 1
        self.tmp = tempfile.mkdtemp(prefix="xsell_%s_" % name)
        self.servers = []
        self.t0 = time.monotonic()
        atexit.register(self.cleanup)

    def events_csv(self):
        return os.path.join(self.src, "examples", "data", "events.csv")

    def catalog_csv(self):
        return os.path.join(self.src, "examples", "data", "catalog.csv")

    def cleanup(self):
        for s in self.servers:
            s.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- verdicts ---------------------------------------------------------
    def fail(self, msg):
        self.failures += 1
        print("FAIL: " + msg, file=sys.stderr, flush=True)

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)
        return bool(cond)

    def eq(self, got, want, what):
        return self.check(got == want, "%s: got %r, want %r"
                          % (what, _short(got), _short(want)))

    def close(self, got, want, what, rel=1e-9):
        ok = isinstance(got, (int, float)) and not isinstance(got, bool) and (
            got == want or abs(got - want) <= rel * max(abs(want), 1e-300))
        return self.check(ok, "%s: got %r, want %r" % (what, got, want))

    def note(self, msg):
        print("[%6.2fs] %s" % (time.monotonic() - self.t0, msg), flush=True)

    def finish(self):
        self.cleanup()
        took = time.monotonic() - self.t0
        if self.failures:
            print("%s: %d failure(s) (%.1f s)" % (self.name, self.failures,
                                                  took), file=sys.stderr)
            sys.exit(1)
        print("%s: all passed (%.1f s)" % (self.name, took))
        sys.exit(0)

    def skip(self, why):
        self.cleanup()
        print("%s: skipped: %s" % (self.name, why))
        sys.exit(SKIP)


def _short(v, n=300):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


class Server:
    """One `xsell serve` process on tcp://127.0.0.1:* with --port-file."""

    def __init__(self, ck, args=(), threads=2, wrapper=(), label="server",
                 start_timeout=30.0, env=None):
        self.ck = ck
        self.label = label
        self.dir = tempfile.mkdtemp(prefix=label + "_", dir=ck.tmp)
        self.port_file = os.path.join(self.dir, "port")
        self.err_path = os.path.join(self.dir, "stderr")
        cmd = list(wrapper) + [
            ck.xsell, "serve", "--events", ck.events_csv(),
            "--catalog", ck.catalog_csv(), "--bind", "tcp://127.0.0.1:*",
            "--port-file", self.port_file]
        if threads:
            cmd += ["--threads", str(threads)]
        # the tests' model is copurchase's: it answers requests without
        # "plugin" unless a test chooses (the blend has tests of its own),
        # scoring by lift with every pair counted, as the brute force does
        # (the defaults, cosine and pairs seen twice, are tested by
        # tests/plugins and cli_recommend)
        args = list(args)
        if "--plugins" not in args:
            cmd += ["--plugins", "copurchase"]
        loaded = (args[args.index("--plugins") + 1].split(",")
                  if "--plugins" in args else ["copurchase"])
        if "copurchase" in loaded and not any(
                a.startswith("copurchase.") for a in args if
                isinstance(a, str)):
            cmd += ["--plugin-opt", "copurchase.measure=lift",
                    "--plugin-opt", "copurchase.min_count=1"]
        if "--default-plugin" not in args and (
                "--plugins" not in args or
                args[args.index("--plugins") + 1].startswith("copurchase")):
            cmd += ["--default-plugin", "copurchase"]
        cmd += args
        e = dict(os.environ)
        e.pop("XSELL_PLUGIN_PATH", None)
        e["LC_ALL"] = "C"
        if env:
            e.update(env)
        self.errf = open(self.err_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.errf, env=e)
        ck.servers.append(self)
        self.endpoint = None
        self.rc = None
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    ep = f.read().strip()
                if ep:
                    self.endpoint = ep
                    break
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if not self.endpoint:
            self.kill()
            raise RuntimeError("%s did not start (exit %r): %s"
                               % (label, self.proc.returncode, self.stderr()))
        if self.endpoint.startswith("tcp://0.0.0.0:"):  # a test's --bind
            self.endpoint = self.endpoint.replace("0.0.0.0", "127.0.0.1")
        if not self.endpoint.startswith("tcp://127.0.0.1:"):
            raise RuntimeError("%s: port file holds %r" % (label,
                                                           self.endpoint))

    def stderr(self):
        try:
            with open(self.err_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends sig and waits; returns (exit code or None, seconds)."""
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, time.monotonic() - t0
        return self.rc, time.monotonic() - t0

    def stop_and_check(self, sig=signal.SIGTERM, timeout=10.0):
        """Stops the server and checks a clean exit: 0, "stopped" on
        stderr.  Returns the exit code."""
        if not self.ck.check(self.alive(), "%s died before being stopped "
                             "(exit %r); stderr:\n%s"
                             % (self.label, self.proc.returncode,
                                self.stderr()[-3000:])):
            return self.proc.returncode
        rc, took = self.stop(sig, timeout)
        err = self.stderr()
        self.ck.check(rc == 0, "%s: exit %r after signal %d (want 0, within "
                      "%.0f s); stderr:\n%s" % (self.label, rc, sig, timeout,
                                                err[-3000:]))
        self.ck.check("stopped" in err, "%s: stderr lacks 'stopped':\n%s"
                      % (self.label, err[-2000:]))
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        if not self.errf.closed:
            self.errf.close()


# -- sockets ----------------------------------------------------------------

def socket(ctx, kind, endpoint, timeout_ms=5000):
    s = ctx.socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, timeout_ms)
    s.setsockopt(zmq.SNDTIMEO, timeout_ms)
    s.connect(endpoint)
    return s


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def unpack(data):
    """Strict decoding of one reply: exactly one msgpack value, a map with
    string keys, every string valid UTF-8 -- except the request's own bytes
    echoed back as they came (the "id", the ids listed in "unknown"), which
    are decoded with surrogateescape.  Raises ValueError otherwise."""
    try:
        v = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except UnicodeDecodeError:
        v = _unpack_echo(data)
    except Exception as ex:  # ExtraData, FormatError...
        raise ValueError("reply is not one msgpack value (%s): %r"
                         % (ex, data[:200]))
    if not isinstance(v, dict):
        raise ValueError("reply is not a map: %r" % (v,))
    return v


def _unpack_echo(data):
    try:
        v = msgpack.unpackb(data, raw=True, strict_map_key=True)
    except Exception as ex:
        raise ValueError("reply is not one msgpack value (%s): %r"
                         % (ex, data[:200]))

    def dec(b, echoed, where):
        if isinstance(b, bytes):
            try:
                return b.decode("utf-8")
            except UnicodeDecodeError:
                if not echoed:
                    raise ValueError("reply string %s is not UTF-8: %r"
                                     % (where, b[:100]))
                return b.decode("utf-8", "surrogateescape")
        if isinstance(b, list):
            return [dec(x, echoed, where) for x in b]
        if isinstance(b, dict):
            return {dec(k, False, where + ".key"): dec(x, False, where)
                    for k, x in b.items()}
        return b
    if not isinstance(v, dict):
        raise ValueError("reply is not a map: %r" % (v,))
    out = {}
    for k, x in v.items():
        key = dec(k, False, "key")
        out[key] = dec(x, key in ("id", "unknown") and not isinstance(x, dict),
                       key)
    return out


class Timeout(Exception):
    pass


def req_call(sock, payload, raw=False):
    """One request over a REQ socket: payload is bytes (sent as is) or an
    object (packed); returns the decoded reply (its bytes when raw).
    Raises Timeout."""
    data = payload if isinstance(payload, bytes) else pack(payload)
    try:
        sock.send(data)
        frames = sock.recv_multipart()
    except zmq.Again:
        raise Timeout("no reply")
    if len(frames) != 1:
        raise ValueError("reply of %d frames" % len(frames))
    return frames[0] if raw else unpack(frames[0])


class ReqClient:
    """A REQ client that re-creates its socket after a timeout (a REQ socket
    that missed a reply cannot send again)."""

    def __init__(self, ctx, endpoint, timeout_ms=5000):
        self.ctx, self.endpoint, self.timeout_ms = ctx, endpoint, timeout_ms
        self.sock = socket(ctx, zmq.REQ, endpoint, timeout_ms)

    def call(self, payload, raw=False):
        try:
            return req_call(self.sock, payload, raw)
        except Timeout:
            self.sock.close(0)
            self.sock = socket(self.ctx, zmq.REQ, self.endpoint,
                               self.timeout_ms)
            raise

    def call_raw(self, payload):
        return self.call(payload, raw=True)

    def close(self):
        self.sock.close(0)


def check_error(ck, reply, code, what, message_has=None, rid=None):
    """reply is {"ok": false, "error": {"code": code, "message": str}}
    (plus "id" == rid when rid is given, no "id" when rid is None)."""
    if not ck.check(isinstance(reply, dict), "%s: reply %r" % (what, reply)):
        return False
    ok = ck.check(reply.get("ok") is False,
                  "%s: want an error %s, got %s" % (what, code, _short(reply)))
    e = reply.get("error")
    ok = ok and ck.check(isinstance(e, dict) and set(e) == {"code", "message"}
                         and isinstance(e.get("message"), str) and
                         e.get("message"),
                         "%s: malformed error %s" % (what, _short(reply)))
    if ok:
        ok = ck.check(e["code"] == code, "%s: error code %r (%s), want %r"
                      % (what, e["code"], e["message"], code))
        if message_has:
            ok = ck.check(message_has in e["message"],
                          "%s: message %r lacks %r"
                          % (what, e["message"], message_has)) and ok
    keys = {"ok", "error"} | ({"id"} if rid is not None else set())
    ok = ck.check(set(reply) == keys, "%s: reply keys %s, want %s"
                  % (what, sorted(reply), sorted(keys))) and ok
    if rid is not None:
        ok = ck.eq(reply.get("id"), rid, "%s: echoed id" % what) and ok
    return ok


def shape_problem(reply):
    """None when reply is a well-formed reply of any op, else what is
    wrong.  Used where the op is unknown (fuzzing, shutdown)."""
    if not isinstance(reply, dict):
        return "not a map"
    if not isinstance(reply.get("ok"), bool):
        return "no boolean ok"
    if "id" in reply and not isinstance(reply["id"], (str, int)):
        return "id of type %s" % type(reply["id"]).__name__
    if reply["ok"] is False:
        e = reply.get("error")
        if set(reply) - {"ok", "id"} != {"error"}:
            return "error reply with keys %s" % sorted(reply)
        if not isinstance(e, dict) or set(e) != {"code", "message"}:
            return "malformed error %r" % (e,)
        if e["code"] not in ERROR_CODES:
            return "unknown error code %r" % (e["code"],)
        if not isinstance(e["message"], str) or not e["message"]:
            return "error without a message"
        return None
    keys = set(reply) - {"ok", "id"}
    if keys == STATS_KEYS:
        return stats_problem(reply)
    if "items" in keys:
        if not keys <= {"items", "unknown", "note"}:
            return "recommend reply with keys %s" % sorted(reply)
        return recommend_problem(reply)
    if keys == {"accepted"}:
        return None if isinstance(reply["accepted"], int) else "accepted"
    if keys == {"transactions", "total", "rules"}:
        return None
    if keys == {"status", "uptime_s"}:
        return None if reply["status"] == "serving" else "status"
    if keys == {"default", "plugins"}:
        return None
    return "ok reply with unexpected keys %s" % sorted(reply)


def recommend_problem(reply, explain=None):
    """Checks a recommend reply's items; explain True/False also checks the
    presence/absence of copurchase's evidence."""
    items = reply.get("items")
    if not isinstance(items, list):
        return "items is not an array"
    if "unknown" in reply and not (
            isinstance(reply["unknown"], list) and reply["unknown"] and
            all(isinstance(u, str) for u in reply["unknown"])):
        return "bad unknown %r" % (reply["unknown"],)
    if "note" in reply and not (
            isinstance(reply["note"], str) and reply["note"] and not items):
        return "note %r with %d items" % (reply["note"], len(items))
    seen = set()
    for r in items:
        if not isinstance(r, dict):
            return "an item is not a map"
        if not isinstance(r.get("item"), str) or not r["item"]:
            return "item without a name: %r" % (r,)
        if r["item"] in seen:
            return "item %s twice" % r["item"]
        seen.add(r["item"])
        if not isinstance(r.get("score"), float):
            return "score not a float: %r" % (r,)
        if not isinstance(r.get("plugin"), str):
            return "plugin not a string: %r" % (r,)
        # copurchase's evidence; blended, also its weighted score, keyed
        # by its name
        if explain is True and r["plugin"] == "copurchase" and not (
                set(r) - {"copurchase"} ==
                {"item", "score", "plugin", "support", "confidence", "lift",
                 "count", "from"}):
            return "explained item with keys %s" % sorted(r)
        if explain is False and set(r) != {"item", "score", "plugin"}:
            return "unexplained item with keys %s" % sorted(r)
    scores = [r["score"] for r in items]
    if any(scores[i] < scores[i + 1] for i in range(len(scores) - 1)):
        return "items not best first: %r" % scores
    return None


STATS_KEYS = {"uptime_s", "requests", "latency_us", "customers", "items",
              "events", "ingested", "transactions", "pairs", "memory",
              "plugins", "security"}


def stats_problem(s):
    if set(s) - {"ok", "id"} != STATS_KEYS:
        return "stats keys %s" % sorted(s)
    if not isinstance(s["uptime_s"], float) or s["uptime_s"] < 0:
        return "uptime_s %r" % (s["uptime_s"],)
    req = s["requests"]
    if not isinstance(req, dict) or set(req) != set(OPS) | {"invalid"}:
        return "requests keys %r" % (sorted(req) if isinstance(req, dict)
                                     else req)
    for op, v in req.items():
        if not (isinstance(v, dict) and set(v) == {"count", "errors"} and
                all(isinstance(x, int) and x >= 0 for x in v.values()) and
                v["errors"] <= v["count"]):
            return "requests.%s = %r" % (op, v)
    lat = s["latency_us"]
    if not (isinstance(lat, dict) and set(lat) == {"p50", "p90", "p99", "max"}
            and all(isinstance(x, float) and x >= 0 for x in lat.values())
            and lat["p50"] <= lat["p90"] <= lat["p99"]):
        return "latency_us %r" % (lat,)
    for k in ("customers", "items", "events", "ingested"):
        if not isinstance(s[k], int) or s[k] < 0:
            return "%s %r" % (k, s[k])
    for k in ("transactions", "pairs"):
        v = s[k]
        if not (isinstance(v, dict) and set(v) == {"basket", "customer"} and
                all(isinstance(x, int) and x >= 0 for x in v.values())):
            return "%s %r" % (k, v)
    m = s["memory"]
    if not (isinstance(m, dict) and
            set(m) == {"data_bytes", "rss_bytes", "table_bytes",
                       "bytes_per_event", "bytes_per_pair"} and
            all(isinstance(m[k], int) and m[k] > 0
                for k in ("data_bytes", "rss_bytes")) and
            isinstance(m["table_bytes"], dict) and
            set(m["table_bytes"]) == {"basket", "customer"} and
            all(isinstance(x, int) and 0 <= x <= m["data_bytes"]
                for x in m["table_bytes"].values()) and
            all(isinstance(m[k], float) and m[k] >= 0
                for k in ("bytes_per_event", "bytes_per_pair"))):
        return "memory %r" % (m,)
    ev, pairs = s["events"], sum(s["pairs"].values())
    if ev and abs(m["bytes_per_event"] - m["data_bytes"] / ev) > 1e-6 * \
            m["bytes_per_event"]:
        return "memory.bytes_per_event %r, want data_bytes / events" % (m,)
    if pairs and abs(m["bytes_per_pair"] - sum(m["table_bytes"].values()) /
                     pairs) > 1e-6 * m["bytes_per_pair"]:
        return "memory.bytes_per_pair %r, want table_bytes / pairs" % (m,)
    sec = s["security"]
    if not (isinstance(sec, dict) and
            set(sec) == {"curve", "insecure", "refused_handshakes",
                         "forbidden"} and
            isinstance(sec["curve"], bool) and
            isinstance(sec["insecure"], bool) and
            all(isinstance(sec[k], int) and sec[k] >= 0
                for k in ("refused_handshakes", "forbidden"))):
        return "security %r" % (sec,)
    p = s["plugins"]
    if not (isinstance(p, dict) and p and all(
            isinstance(v, dict) and "dropped" in v and
            isinstance(v["dropped"], int) and v["dropped"] >= 0 and
            all(isinstance(k, str) and isinstance(x, (int, float, str))
                for k, x in v.items())
            for v in p.values())):
        return "plugins %r" % (p,)
    # a plugin's own figures (its stats() hook): only plugins with one
    for name, v in p.items():
        if name in PLUGIN_STATS and set(v) != {"dropped"} | PLUGIN_STATS[name]:
            return "plugins.%s keys %s" % (name, sorted(v))
        if name not in PLUGIN_STATS and set(v) != {"dropped"}:
            return "plugins.%s keys %s" % (name, sorted(v))
    return None


# The figures of the built-in plugins that have a stats() hook.
PLUGIN_STATS = {"ease": {"mode", "items", "lambda", "fits", "fitted_events",
                         "stale_events", "last_fit_seconds", "fit_ms",
                         "refit_every"},
                "copurchase": {"max_neighbours", "list_entries",
                               "lists_rebuilt", "full_refreshes"},
                "upsell": {"max_neighbours", "list_entries",
                           "lists_rebuilt", "full_refreshes"},
                "recency": {"basket_neighbours", "ranked_entries",
                            "decayed_pairs"}}


def strip_id(reply):
    return {k: v for k, v in reply.items() if k != "id"}


# -- the example data, modelled in Python ------------------------------------

class Data:
    """examples/data/events.csv as baskets (one per order) and item counts,
    for choosing items and checking rules independently of xsell.  nbrs
    holds the neighbours the server can return: out-of-stock items of the
    catalog (next to the events file) never are; all_nbrs holds them all."""

    def __init__(self, path):
        self.orders = {}
        self.customers = set()
        self.bought = {}
        self.events = 0
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                self.events += 1
                self.customers.add(row["customer"])
                self.bought.setdefault(row["customer"], set()).add(row["item"])
                self.orders.setdefault(row["order"], set()).add(row["item"])
        self.out_of_stock = set()
        cat = os.path.join(os.path.dirname(path), "catalog.csv")
        if os.path.exists(cat):
            with open(cat, newline="") as f:
                self.out_of_stock = {r["item"] for r in csv.DictReader(f)
                                     if r["in_stock"] == "0"}
        self.items = set()
        self.count = {}
        self.nbrs = {}
        self.all_nbrs = {}
        self.pair = {}
        for items in self.orders.values():
            s = sorted(items)
            for a in s:
                self.count[a] = self.count.get(a, 0) + 1
                self.items.add(a)
            for i, a in enumerate(s):
                for b in s[i + 1:]:
                    self.pair[(a, b)] = self.pair.get((a, b), 0) + 1
                    self.pair[(b, a)] = self.pair.get((b, a), 0) + 1
                    self.all_nbrs.setdefault(a, set()).add(b)
                    self.all_nbrs.setdefault(b, set()).add(a)
                    if b not in self.out_of_stock:
                        self.nbrs.setdefault(a, set()).add(b)
                    if a not in self.out_of_stock:
                        self.nbrs.setdefault(b, set()).add(a)
        self.n = len(self.orders)

    def popular(self, n, most=90):
        """n items with many neighbours but at most `most` (so that
        copurchase still serves them all when its max_neighbours option
        caps the neighbours per item at 100): most first, then by name."""
        c = [a for a in self.items if 20 <= len(self.nbrs.get(a, ())) <= most]
        return sorted(c, key=lambda a: (-len(self.nbrs[a]), a))[:n]

    def never_together(self, a):
        """A known item never in an order with a (deterministic)."""
        for b in sorted(self.items):
            if b != a and b not in self.all_nbrs.get(a, ()):
                return b
        return None
