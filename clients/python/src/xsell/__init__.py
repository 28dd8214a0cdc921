"""xsell: a client for `xsell serve` (ZeroMQ + msgpack, docs/protocol.md).

    import xsell
    with xsell.Client("tcp://127.0.0.1:5555") as xs:
        print(xs.recommend(["P000030"], k=5)["items"])

Client has one method per op (recommend, ingest, catalog, rules, stats,
health, plugins, save) and request() for any op; error replies raise
ServerError subclasses, no reply Timeout; read_key() reads the CURVE key
files of `xsell keygen`.
"""
from .client import DEFAULT_ENDPOINT, Client
from .errors import (BadRequest, Error, Forbidden, Internal, ProtocolError,
                     ReadOnly, ServerError, ShuttingDown, Timeout, TooLarge,
                     Unavailable, UnknownOp, UnknownPlugin)
from .keys import read_key, z85_key

__version__ = "0.1.0"

__all__ = ["Client", "DEFAULT_ENDPOINT", "Error", "ServerError", "BadRequest",
           "UnknownOp", "UnknownPlugin", "TooLarge", "Forbidden", "ReadOnly",
           "Unavailable", "Internal", "ShuttingDown", "Timeout",
           "ProtocolError", "read_key", "z85_key", "__version__"]
