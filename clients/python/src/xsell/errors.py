"""The exceptions the client raises.

    Error                  every failure of this package
      ServerError          an error reply {"ok": false, "error": {code, message}}
        BadRequest, UnknownOp, UnknownPlugin, TooLarge, Forbidden, ReadOnly,
        Unavailable, Internal, ShuttingDown   one per code of docs/protocol.md
      Timeout              no reply within the timeout
      ProtocolError        a reply that is not one msgpack map with "ok"

A ServerError carries the server's `code` and `message` (and the whole
`reply`); str() of it is "code: message".  A code this version does not
know still raises ServerError with that code, so a newer server's codes
need no new client.
"""


class Error(Exception):
    """Every exception of the xsell client."""


class ServerError(Error):
    """An error reply.  `code` is the server's code (e.g. "bad_request"),
    `message` its message, `reply` the whole reply map."""

    code = None

    def __init__(self, code, message, reply=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.reply = reply if reply is not None else {}


class BadRequest(ServerError):
    """bad_request: a missing or mistyped field, a value out of range..."""


class UnknownOp(ServerError):
    """unknown_op: the op names no operation of this server."""


class UnknownPlugin(ServerError):
    """unknown_plugin: "plugin" names no loaded plugin."""


class TooLarge(ServerError):
    """too_large: too many items or events, or an order past --max-basket."""


class Forbidden(ServerError):
    """forbidden: a read key asked for a write op (ingest, catalog, save)."""


class ReadOnly(ServerError):
    """read_only: the server takes no writes."""


class Unavailable(ServerError):
    """unavailable: the data cannot answer (no such table, no data dir)."""


class Internal(ServerError):
    """internal: out of memory, a plugin failure, a write not known durable."""


class ShuttingDown(ServerError):
    """shutting_down: the server stopped before answering."""


_BY_CODE = {
    "bad_request": BadRequest, "unknown_op": UnknownOp,
    "unknown_plugin": UnknownPlugin, "too_large": TooLarge,
    "forbidden": Forbidden, "read_only": ReadOnly,
    "unavailable": Unavailable, "internal": Internal,
    "shutting_down": ShuttingDown,
}


def server_error(reply):
    """The exception for an error reply (the class of its code, or
    ServerError for a code not listed above)."""
    error = reply.get("error")
    if not isinstance(error, dict):
        return ProtocolError(f"an error reply without an error map: {reply!r:.200}")
    code = error.get("code")
    message = error.get("message", "")
    if not isinstance(code, str):
        return ProtocolError(f"an error reply without a code: {reply!r:.200}")
    return _BY_CODE.get(code, ServerError)(code, message, reply)


class Timeout(Error):
    """No reply within the timeout: the server is down or unreachable, the
    request was larger than its --max-msg (the server drops the
    connection), or, with CURVE, the server refused this client's key or
    the server key is wrong (a refused handshake gets no reply at all)."""

    def __init__(self, endpoint, timeout, curve=False):
        hint = (" (with CURVE, an unknown client key or a wrong server key"
                " look like this)") if curve else ""
        super().__init__(f"timeout: no reply from {endpoint} within {timeout:g} s{hint}")
        self.endpoint = endpoint
        self.timeout = timeout


class ProtocolError(Error):
    """A reply that is not one msgpack map with a boolean "ok"."""
