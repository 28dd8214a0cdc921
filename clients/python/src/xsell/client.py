"""Client: one xsell server, one request at a time, on a ZeroMQ REQ socket.

A request is one msgpack map {"op": OP, ...fields} in one frame, a reply
one map with "ok" (docs/protocol.md).  Each op has a method whose named
arguments are the fields docs/protocol.md lists; an argument left None is
not sent (the server's default applies), and any other keyword argument is
sent as a field as given, so fields a newer server takes (filters, boosts,
event types) need no new client.  The methods return the reply map as
decoded (with "ok"); an error reply raises the ServerError subclass of its
code.

Strings: ids, categories and titles are bytes to the server, returned as
they came.  Replies decode with surrogateescape, so an id that is not valid
UTF-8 comes back as a str holding surrogates; sent back in a request it is
encoded the same way, byte for byte, and id.encode("utf-8",
"surrogateescape") gives its bytes.

Timeouts: `timeout` seconds from the send to the reply (the socket's
ZMQ_RCVTIMEO, set again when the attribute changes).  A REQ socket that
missed its reply cannot send again, so after a Timeout the socket is
closed and a new one connected; the late reply, if it ever comes, is lost
with the old socket.  A Client is not thread-safe: one per thread (they
may share the ZeroMQ context, which is).
"""
import msgpack
import zmq

from .errors import ProtocolError, Timeout, server_error
from .keys import z85_key

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555"


def _seq(value, what):
    """value (any iterable of ids or maps) as a list; a lone string is a
    mistake (list("P1") would send its characters)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, dict)):
        raise TypeError(f"{what}: want a list, not {type(value).__name__}")
    return list(value)


def _fields(named, extra):
    """The request's fields: `named` without its None values, then
    `extra` as given (a name in both is a TypeError, as the server would
    refuse a field given twice)."""
    fields = {k: v for k, v in named.items() if v is not None}
    for k, v in extra.items():
        if k == "op" or k in fields:
            raise TypeError(f"field {k!r} given twice")
        fields[k] = v
    return fields


class Client:
    """A connection to one `xsell serve`.

        with xsell.Client("tcp://127.0.0.1:5555", timeout=2.0) as xs:
            xs.recommend(["P000030"], k=5)

    endpoint   the server's ZeroMQ endpoint (default tcp://127.0.0.1:5555)
    timeout    seconds to wait for each reply (default 5; None: for ever);
               the attribute may be changed between requests
    server_key, secret_key
               CURVE: the server's public key and this client's secret key
               (40 Z85 characters, str or bytes, or 32 raw bytes; read_key()
               reads the files of `xsell keygen`); both or neither
    context    a zmq.Context to use (default the process's shared one)
    """

    def __init__(self, endpoint=DEFAULT_ENDPOINT, timeout=5.0, *, server_key=None,
                 secret_key=None, context=None):
        if (server_key is None) != (secret_key is None):
            raise ValueError("server_key and secret_key go together")
        self.endpoint = endpoint
        self.timeout = timeout
        self._curve = None
        if server_key is not None:
            secret = z85_key(secret_key, "secret_key")
            self._curve = (z85_key(server_key, "server_key"),
                           zmq.curve_public(secret), secret)
        self._ctx = context or zmq.Context.instance()
        self._sock = None
        self._open()

    # -- the ops of docs/protocol.md ---------------------------------------

    def recommend(self, items=None, *, customer=None, k=None, plugin=None,
                  exclude=None, category=None, exclude_owned=None, explain=None,
                  **fields):
        """Items to offer for a basket or page (`items`) and/or a customer.
        Returns the reply: {"ok", "items": [{"item", "score", "plugin",
        ...evidence}], and "unknown" (request ids the server does not
        know) and "note" when the server gives them}."""
        return self.request("recommend", _fields(dict(
            items=_seq(items, "items"), customer=customer, k=k, plugin=plugin,
            exclude=_seq(exclude, "exclude"),
            category=category, exclude_owned=exclude_owned, explain=explain),
            fields))

    def ingest(self, events, **fields):
        """Adds purchase events, each a map {"customer", "item", "ts",
        "qty", "price", "order"} (customer and item required).  The batch
        is applied whole or not at all; returns {"ok", "accepted"}."""
        return self.request("ingest", _fields({"events": _seq(events, "events")}, fields))

    def catalog(self, items, **fields):
        """Adds or replaces catalog entries, each a map {"item",
        "category", "price", "margin", "in_stock", "title"}; returns
        {"ok", "accepted", "added"}."""
        return self.request("catalog", _fields({"items": _seq(items, "items")}, fields))

    def rules(self, *, min_support=None, min_confidence=None, sort=None,
              limit=None, scope=None, **fields):
        """Association rules; returns {"ok", "transactions", "total",
        "rules": [{"lhs", "rhs", "support", "confidence", "lift",
        "count"}]}."""
        return self.request("rules", _fields(dict(
            min_support=min_support, min_confidence=min_confidence, sort=sort,
            limit=limit, scope=scope), fields))

    def stats(self, **fields):
        """The server's counters, latency, memory and security figures."""
        return self.request("stats", _fields({}, fields))

    def health(self, **fields):
        """{"ok", "status": "serving", "uptime_s"}."""
        return self.request("health", _fields({}, fields))

    def plugins(self, **fields):
        """{"ok", "default", "plugins": [{"name", "version", "abi",
        "description"}]}."""
        return self.request("plugins", _fields({}, fields))

    def save(self, **fields):
        """Snapshots the server's data dir now; {"ok", "seq", "events",
        "bytes", "seconds"}.  A server without --data-dir raises
        Unavailable."""
        return self.request("save", _fields({}, fields))

    # -- any op ------------------------------------------------------------

    def request(self, op, fields=None, **more):
        """Sends {"op": op, **fields, **more}; returns the reply map.
        Raises the ServerError subclass of an error reply's code, Timeout,
        or ProtocolError for a reply that is not a map with a boolean
        "ok"."""
        msg = {"op": op}
        for src in (fields or {}), more:
            for k, v in src.items():
                if k in msg:
                    raise TypeError(f"field {k!r} given twice")
                msg[k] = v
        frame = msgpack.packb(msg, use_bin_type=True,
                              unicode_errors="surrogateescape")
        reply = self._exchange(frame)
        try:
            reply = msgpack.unpackb(reply, raw=False, strict_map_key=False,
                                    unicode_errors="surrogateescape")
        except Exception as e:  # ExtraData, FormatError, ValueError...
            raise ProtocolError(f"reply is not one msgpack value ({e})") from None
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            raise ProtocolError(f"reply is not a map with a boolean ok: {reply!r:.200}")
        if not reply["ok"]:
            raise server_error(reply)
        return reply

    # -- the socket ---------------------------------------------------------

    def _open(self):
        sock = self._ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)  # never hang at exit on unsent requests
        if self._curve:
            sock.curve_serverkey, sock.curve_publickey, sock.curve_secretkey = self._curve
        sock.connect(self.endpoint)
        self._sock = sock
        self._sock_timeout = None  # RCVTIMEO not set yet

    def _reopen(self):
        self._sock.close(0)
        self._open()

    def _exchange(self, frame):
        """Sends one frame, returns the reply's one frame; Timeout when no
        reply comes within self.timeout seconds of the send."""
        if self._sock is None:
            raise ValueError("the client is closed")
        sock = self._sock
        if self._sock_timeout != self.timeout:
            sock.setsockopt(zmq.RCVTIMEO, -1 if self.timeout is None
                            else max(1, int(self.timeout * 1000)))
            self._sock_timeout = self.timeout
        try:
            # A REQ socket with one request in flight always takes the
            # next one (queued until the connection is up).
            sock.send(frame, zmq.NOBLOCK)
            reply = sock.recv()
            more = 0
            while sock.getsockopt(zmq.RCVMORE):  # never from xsell serve
                sock.recv()
                more += 1
        except zmq.Again:
            self._reopen()
            raise Timeout(self.endpoint, self.timeout, self._curve is not None) from None
        except BaseException:  # KeyboardInterrupt while waiting...: the REQ
            self._reopen()     # socket would refuse the next send
            raise
        if more:
            raise ProtocolError(f"a reply of {more + 1} frames")
        return reply

    def close(self):
        """Closes the socket (pending requests are dropped)."""
        if self._sock is not None:
            self._sock.close(0)
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        curve = ", curve" if self._curve else ""
        return f"xsell.Client({self.endpoint!r}, timeout={self.timeout!r}{curve})"
