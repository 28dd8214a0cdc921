"""The xsell package against a live `xsell serve`.

Run from anywhere, with the package installed (or on PYTHONPATH):

    XSELL=/path/to/xsell XSELL_SOURCE=/path/to/xsell-source \\
        python3 -m unittest discover -s clients/python/tests -v

XSELL is the xsell binary, XSELL_SOURCE the source tree (for
examples/data).  Without XSELL the tests that need a server are skipped;
the others (keys, error mapping, protocol errors against a fake server)
still run.  Two servers are started on free loopback ports: a plain one
with a data dir (every op, save included) and a CURVE one with a write key
and a read key (no data dir).  Both are killed at the end whatever
happens.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import msgpack
import zmq

import xsell

XSELL = os.environ.get("XSELL")
SOURCE = os.environ.get("XSELL_SOURCE",
                        os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TMP = None
SERVERS = {}  # name -> (process, endpoint, stderr path)


def _start(name, args):
    port_file = os.path.join(TMP, name + ".port")
    err_path = os.path.join(TMP, name + ".stderr")
    data = os.path.join(SOURCE, "examples", "data")
    cmd = [XSELL, "serve", "--events", os.path.join(data, "events.csv"),
           "--catalog", os.path.join(data, "catalog.csv"),
           "--bind", "tcp://127.0.0.1:*", "--port-file", port_file,
           "--threads", "2", "--max-msg", "65536"] + args
    env = dict(os.environ, LC_ALL="C")
    env.pop("XSELL_PLUGIN_PATH", None)
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, env=env)
    SERVERS[name] = (proc, None, err_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if os.path.exists(port_file):
            with open(port_file) as f:
                endpoint = f.read().strip()
            if endpoint:
                SERVERS[name] = (proc, endpoint, err_path)
                return endpoint
        time.sleep(0.05)
    with open(err_path, errors="replace") as f:
        raise RuntimeError(f"{name} server did not start: {f.read()[-2000:]}")


def _keygen(name):
    subprocess.run([XSELL, "keygen", name], cwd=os.path.join(TMP, "keys"),
                   check=True, capture_output=True)
    return os.path.join(TMP, "keys", name)


def setUpModule():
    global TMP
    if not XSELL:
        return
    TMP = tempfile.mkdtemp(prefix="xsell_pyclient_")
    keys = os.path.join(TMP, "keys")
    for role in ("read", "write"):
        os.makedirs(os.path.join(keys, "clients", role))
    for name in ("server", "shop", "widget", "stranger"):
        _keygen(name)
    shutil.copy(os.path.join(keys, "shop.pub"), os.path.join(keys, "clients", "write"))
    shutil.copy(os.path.join(keys, "widget.pub"), os.path.join(keys, "clients", "read"))
    try:
        _start("plain", ["--data-dir", os.path.join(TMP, "data")])
        _start("curve", ["--curve-key", os.path.join(keys, "server.key"),
                         "--clients", os.path.join(keys, "clients")])
    except Exception:
        tearDownModule()
        raise


def tearDownModule():
    for name, (proc, _, err_path) in SERVERS.items():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = None
            if rc != 0:
                with open(err_path, errors="replace") as f:
                    print(f"{name} server: exit {rc} on SIGTERM: {f.read()[-2000:]}")
    SERVERS.clear()
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


def need_server(cls):
    return unittest.skipUnless(XSELL, "XSELL (the xsell binary) not set")(cls)


def key(name):
    return os.path.join(TMP, "keys", name)


@need_server
class Ops(unittest.TestCase):
    """One test per op of docs/protocol.md, on the plain server."""

    def setUp(self):
        self.xs = xsell.Client(SERVERS["plain"][1], timeout=10)

    def tearDown(self):
        self.xs.close()

    def test_health(self):
        r = self.xs.health()
        self.assertIs(r["ok"], True)
        self.assertEqual(r["status"], "serving")
        self.assertGreaterEqual(r["uptime_s"], 0)

    def test_plugins(self):
        r = self.xs.plugins()
        names = [p["name"] for p in r["plugins"]]
        self.assertIn("copurchase", names)
        self.assertEqual(r["default"], "blend")

    def test_recommend(self):
        r = self.xs.recommend(["P000030"], k=3, plugin="copurchase", explain=True)
        self.assertEqual(len(r["items"]), 3)
        first = r["items"][0]
        self.assertEqual(first["plugin"], "copurchase")
        self.assertEqual(first["from"], "P000030")  # evidence, explain=True
        scores = [i["score"] for i in r["items"]]
        self.assertEqual(scores, sorted(scores, reverse=True))
        # exclude, as a tuple: the named arguments take any sequence
        again = self.xs.recommend(("P000030",), k=3, plugin="copurchase",
                                  exclude=(first["item"],))
        self.assertNotIn(first["item"], [i["item"] for i in again["items"]])
        self.assertNotIn("from", again["items"][0])  # no explain

    def test_recommend_customer_and_unknown(self):
        r = self.xs.recommend(customer="C001462", k=5)
        self.assertEqual(len(r["items"]), 5)
        r = self.xs.recommend(["P000030", "NO-SUCH-ITEM"], k=2)
        self.assertEqual(r["unknown"], ["NO-SUCH-ITEM"])

    def test_ingest_then_recommend(self):
        # two orders pairing a new item with P000030: copurchase serves it
        new = f"PYTEST-{os.getpid()}-{time.monotonic_ns()}"
        events = [{"customer": "CPY1", "item": i, "order": "OPY1-" + new}
                  for i in ("P000030", new)]
        events += [{"customer": "CPY2", "item": i, "order": "OPY2-" + new, "qty": 2,
                    "price": 1.5} for i in ("P000030", new)]
        self.assertEqual(self.xs.ingest(events)["accepted"], 4)
        r = self.xs.recommend([new], k=5, plugin="copurchase")
        self.assertEqual([i["item"] for i in r["items"]], ["P000030"])

    def test_catalog(self):
        new = f"PYCAT-{os.getpid()}-{time.monotonic_ns()}"
        r = self.xs.catalog([{"item": new, "category": "pytest", "price": 2.5,
                              "title": "a test item", "in_stock": True}])
        self.assertEqual((r["accepted"], r["added"]), (1, 1))
        r = self.xs.catalog([{"item": new, "category": "pytest", "price": 3}])
        self.assertEqual((r["accepted"], r["added"]), (1, 0))

    def test_rules(self):
        r = self.xs.rules(min_support=0.001, min_confidence=0.1, limit=3, sort="lift")
        self.assertEqual(len(r["rules"]), 3)
        self.assertGreater(r["total"], 3)
        self.assertGreater(r["transactions"], 0)
        self.assertEqual(set(r["rules"][0]),
                         {"lhs", "rhs", "support", "confidence", "lift", "count"})

    def test_stats(self):
        self.xs.health()
        r = self.xs.stats()
        self.assertGreaterEqual(r["requests"]["health"]["count"], 1)
        self.assertIs(r["security"]["curve"], False)

    def test_save(self):
        r = self.xs.save()
        self.assertGreater(r["events"], 0)
        self.assertGreater(r["bytes"], 0)

    def test_request_any_op(self):
        self.assertEqual(self.xs.request("health")["status"], "serving")
        self.assertEqual(self.xs.request("recommend", {"items": ["P000030"]}, k=1)
                         ["items"][0]["item"],
                         self.xs.recommend(["P000030"], k=1)["items"][0]["item"])


@need_server
class PassThrough(unittest.TestCase):
    """Fields the methods do not name go to the server as given."""

    def setUp(self):
        self.xs = xsell.Client(SERVERS["plain"][1], timeout=10)

    def tearDown(self):
        self.xs.close()

    def test_extra_fields_are_sent(self):
        # the server echoes "id": proof the field went out
        self.assertEqual(self.xs.recommend(["P000030"], k=1, id="req-7")["id"], "req-7")
        self.assertEqual(self.xs.health(id=42)["id"], 42)
        self.assertEqual(self.xs.ingest([], id="batch-1")["id"], "batch-1")
        # a field this server does not know is ignored by it, not refused
        r = self.xs.recommend(["P000030"], k=2, trace={"span": "a1"})
        self.assertEqual(len(r["items"]), 2)
        # a field it knows is checked by it: the filter went out as given
        # (the sample catalog has no brand column)
        with self.assertRaises(xsell.BadRequest) as cm:
            self.xs.recommend(["P000030"], k=2, filter={"brand": ["A", "B"]},
                              boost={"brand:A": 1.5})
        self.assertIn("brand", cm.exception.message)

    def test_extra_field_checked_by_the_server(self):
        # a mistyped field the server knows is its bad_request, not ours
        with self.assertRaises(xsell.BadRequest) as cm:
            self.xs.recommend(["P000030"], k="ten")
        self.assertIn("k", cm.exception.message)

    def test_field_twice(self):
        with self.assertRaises(TypeError):
            self.xs.request("recommend", {"k": 1}, k=2)
        with self.assertRaises(TypeError):
            self.xs.recommend(["P000030"], op="stats")

    def test_lone_string_refused(self):
        for call in (lambda: self.xs.recommend("P000030"),
                     lambda: self.xs.recommend(["P000030"], exclude="P000251"),
                     lambda: self.xs.ingest({"customer": "C", "item": "P"}),
                     lambda: self.xs.catalog("P000030")):
            with self.assertRaises(TypeError):
                call()
        self.assertEqual(self.xs.health()["status"], "serving")

    def test_interrupted_wait_leaves_the_client_usable(self):
        # an exception while waiting for the reply (Ctrl-C) must not leave
        # the REQ socket expecting a reply that is gone
        self.xs.health()  # the socket connected

        def recv(*a, **kw):
            raise KeyboardInterrupt
        self.xs._sock.recv = recv
        with self.assertRaises(KeyboardInterrupt):
            self.xs.health()
        self.assertEqual(self.xs.health()["status"], "serving")

    def test_none_is_not_sent(self):
        # None means "the server's default": k=None gives 10 items
        self.assertEqual(len(self.xs.recommend(["P000030"], k=None)["items"]), 10)

    def test_invalid_utf8_round_trip(self):
        # ids are bytes to the server; one that is not UTF-8 comes back as
        # surrogates and goes out again as the same bytes
        raw = b"caf\xe9-" + str(os.getpid()).encode()
        bad = raw.decode("utf-8", "surrogateescape")
        r = self.xs.recommend([bad], k=1)
        self.assertEqual(r["unknown"], [bad])
        self.assertEqual(r["unknown"][0].encode("utf-8", "surrogateescape"), raw)
        events = [{"customer": "CPY3", "item": i, "order": f"OPY3-{n}-{bad}"}
                  for n in (1, 2) for i in (bad, "P000030")]
        self.xs.ingest(events)
        r = self.xs.recommend([bad], k=3, plugin="copurchase")
        self.assertNotIn("unknown", r)
        self.assertEqual([i["item"] for i in r["items"]], ["P000030"])
        r = self.xs.recommend(["P000030"], k=1000, plugin="copurchase")
        self.assertIn(bad, [i["item"] for i in r["items"]])


@need_server
class Errors(unittest.TestCase):
    """Error replies raise the class of their code; no reply, Timeout."""

    def setUp(self):
        self.xs = xsell.Client(SERVERS["plain"][1], timeout=10)

    def tearDown(self):
        self.xs.close()

    def test_codes(self):
        cases = [
            (lambda: self.xs.recommend(["P000030"], k=0), xsell.BadRequest,
             "bad_request", "k"),
            (lambda: self.xs.request("no_such_op"), xsell.UnknownOp, "unknown_op",
             "no_such_op"),
            (lambda: self.xs.recommend(["P000030"], plugin="nope"),
             xsell.UnknownPlugin, "unknown_plugin", "nope"),
            (lambda: self.xs.recommend([f"I{i}" for i in range(1001)]),
             xsell.TooLarge, "too_large", "1001"),
            (lambda: self.xs.ingest([{"customer": "C1", "item": "P1", "qty": "x"}]),
             xsell.BadRequest, "bad_request", "events[0].qty"),
        ]
        for call, cls, code, text in cases:
            with self.subTest(code=code, text=text):
                with self.assertRaises(cls) as cm:
                    call()
                e = cm.exception
                self.assertIsInstance(e, xsell.ServerError)
                self.assertIsInstance(e, xsell.Error)
                self.assertEqual(e.code, code)
                self.assertIn(text, e.message)
                self.assertTrue(str(e).startswith(code + ": "), str(e))
                self.assertIs(e.reply["ok"], False)
        # the client is still usable after error replies
        self.assertEqual(self.xs.health()["status"], "serving")

    def test_timeout_then_usable(self):
        # A frame over the server's --max-msg (64 KiB here) is never read:
        # ZeroMQ drops the connection, the client times out and reconnects.
        self.xs.timeout = 1.0
        t0 = time.monotonic()
        with self.assertRaises(xsell.Timeout) as cm:
            self.xs.recommend(["P" * 1000] * 100)
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 5)
        self.assertIn("1 s", str(cm.exception))
        self.xs.timeout = None  # for ever
        self.assertEqual(self.xs.health()["status"], "serving")

    def test_timeout_no_server(self):
        with socket_port() as port:
            xs = xsell.Client(f"tcp://127.0.0.1:{port}", timeout=0.3)
        with xs, self.assertRaises(xsell.Timeout):
            xs.health()

    def test_unavailable(self):
        # the CURVE server has no data dir: save is unavailable
        with xsell.Client(SERVERS["curve"][1], timeout=10,
                          server_key=xsell.read_key(key("server.pub")),
                          secret_key=xsell.read_key(key("shop.key"), secret=True)) as xs:
            with self.assertRaises(xsell.Unavailable) as cm:
                xs.save()
            self.assertEqual(cm.exception.code, "unavailable")


@need_server
class Curve(unittest.TestCase):
    """CURVE keys from `xsell keygen`, with read and write roles."""

    def client(self, name, server="server.pub", timeout=10):
        return xsell.Client(SERVERS["curve"][1], timeout=timeout,
                            server_key=xsell.read_key(key(server)),
                            secret_key=xsell.read_key(key(name + ".key"), secret=True))

    def test_write_key(self):
        with self.client("shop") as xs:
            self.assertEqual(len(xs.recommend(["P000030"], k=2)["items"]), 2)
            self.assertEqual(xs.ingest([{"customer": "CK", "item": "P000030",
                                         "order": "OK1"}])["accepted"], 1)
            self.assertIs(xs.stats()["security"]["curve"], True)

    def test_read_key(self):
        with self.client("widget") as xs:
            self.assertEqual(len(xs.recommend(["P000030"], k=2)["items"]), 2)
            for call in (lambda: xs.ingest([{"customer": "C", "item": "P000030"}]),
                         lambda: xs.catalog([{"item": "P000030", "category": "c",
                                              "price": 1}]),
                         lambda: xs.save()):
                with self.assertRaises(xsell.Forbidden) as cm:
                    call()
                self.assertEqual(cm.exception.code, "forbidden")

    def test_keys_as_text_and_raw_bytes(self):
        with open(key("server.pub")) as f:
            server = f.read()  # str, with its newline
        with open(key("shop.key"), "rb") as f:
            secret = zmq.utils.z85.decode(f.read().strip())  # 32 raw bytes
        with xsell.Client(SERVERS["curve"][1], timeout=10, server_key=server,
                          secret_key=secret) as xs:
            self.assertEqual(xs.health()["status"], "serving")

    def test_refused(self):
        # an unknown key, a wrong server key, no key: no reply at all
        for xs in (self.client("stranger", timeout=0.5),
                   self.client("shop", server="stranger.pub", timeout=0.5),
                   xsell.Client(SERVERS["curve"][1], timeout=0.5)):
            with xs, self.assertRaises(xsell.Timeout):
                xs.health()


class Keys(unittest.TestCase):
    """Key files and arguments, no server needed."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="xsell_pykeys_")
        self.public, self.secret = zmq.curve_keypair()

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, text, mode):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def test_read_key(self):
        path = self.write("a.key", self.secret + b"\n", 0o600)
        self.assertEqual(xsell.read_key(path, secret=True), self.secret)
        path = self.write("a.pub", self.public + b"\n", 0o644)
        self.assertEqual(xsell.read_key(path), self.public)

    def test_secret_key_others_may_read(self):
        path = self.write("loose.key", self.secret + b"\n", 0o644)
        with self.assertRaisesRegex(ValueError, "chmod 600"):
            xsell.read_key(path, secret=True)
        self.assertEqual(xsell.read_key(path), self.secret)  # as a public key: fine

    def test_not_a_key(self):
        for text in (b"", b"short", b"~" * 40, self.secret[:39]):
            path = self.write("bad.pub", text, 0o600)
            with self.assertRaisesRegex(ValueError, "not a CURVE key"):
                xsell.read_key(path)
        with self.assertRaises(OSError):
            xsell.read_key(os.path.join(self.dir, "missing.pub"))

    def test_both_or_neither(self):
        with self.assertRaisesRegex(ValueError, "go together"):
            xsell.Client("tcp://127.0.0.1:1", server_key=self.public)
        with self.assertRaisesRegex(ValueError, "go together"):
            xsell.Client("tcp://127.0.0.1:1", secret_key=self.secret)
        with self.assertRaisesRegex(ValueError, "secret_key: not a CURVE key"):
            xsell.Client("tcp://127.0.0.1:1", server_key=self.public, secret_key="x")


class FakeServer:
    """A REP socket answering every request with the given bytes."""

    def __init__(self, answer):
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.REP)
        self.sock.setsockopt(zmq.LINGER, 0)
        port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = f"tcp://127.0.0.1:{port}"
        self.answer = answer
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        if self.sock.poll(10000):
            self.request = msgpack.unpackb(self.sock.recv())
            if isinstance(self.answer, list):
                self.sock.send_multipart(self.answer)
            else:
                self.sock.send(self.answer)

    def close(self):
        self.thread.join(15)
        self.sock.close(0)


class Replies(unittest.TestCase):
    """Replies this server version never sends: a newer server's error
    codes, and malformed replies."""

    def ask(self, answer):
        fake = FakeServer(answer)
        try:
            with xsell.Client(fake.endpoint, timeout=10) as xs:
                return xs.recommend(["a"], k=1)
        finally:
            fake.close()

    def test_unknown_code(self):
        reply = {"ok": False, "error": {"code": "new_code", "message": "m"}}
        with self.assertRaises(xsell.ServerError) as cm:
            self.ask(msgpack.packb(reply))
        self.assertIs(type(cm.exception), xsell.ServerError)
        self.assertEqual((cm.exception.code, cm.exception.message), ("new_code", "m"))

    def test_new_reply_fields_kept(self):
        reply = {"ok": True, "items": [], "new_field": {"x": 1}}
        self.assertEqual(self.ask(msgpack.packb(reply)), reply)

    def test_two_frames(self):
        fake = FakeServer([msgpack.packb({"ok": True}), b"extra"])
        try:
            with xsell.Client(fake.endpoint, timeout=10) as xs:
                with self.assertRaisesRegex(xsell.ProtocolError, "2 frames"):
                    xs.health()
        finally:
            fake.close()

    def test_malformed(self):
        for answer in (b"\xc1", msgpack.packb([1, 2]), msgpack.packb({"items": []}),
                       msgpack.packb({"ok": False}), msgpack.packb({"ok": 1}),
                       msgpack.packb({"ok": True}) + b"\x00"):
            with self.subTest(answer=answer):
                with self.assertRaises(xsell.ProtocolError):
                    self.ask(answer)


class socket_port:
    """A loopback port nothing listens on while the block runs."""

    def __enter__(self):
        import socket
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        return self.s.getsockname()[1]

    def __exit__(self, *exc):
        self.s.close()


if __name__ == "__main__":
    unittest.main()
