"""CURVE keys as `xsell keygen` writes them: NAME.key (the secret, mode
0600) and NAME.pub, each one line of 40 Z85 characters encoding 32 bytes.

read_key() reads one and, for a secret key, refuses a file that group or
others may read, as xsell serve and xsell query do.  z85_key() normalises a
key given as text, Z85 bytes or the 32 raw bytes to the 40 Z85 bytes
ZeroMQ takes.
"""
import os

import zmq.utils.z85


def z85_key(key, what="key"):
    """key (str or bytes: 40 Z85 characters, or 32 raw bytes) as 40 Z85
    bytes.  Raises ValueError."""
    if isinstance(key, str):
        key = key.strip().encode("ascii", "replace")
    if not isinstance(key, (bytes, bytearray)):
        raise TypeError(f"{what}: want str or bytes, not {type(key).__name__}")
    key = bytes(key)
    if len(key) == 32:
        return zmq.utils.z85.encode(key)
    try:
        if len(key) != 40 or len(zmq.utils.z85.decode(key)) != 32:
            raise ValueError
    except (ValueError, KeyError):  # KeyError: a character outside Z85
        raise ValueError(f"{what}: not a CURVE key (want 40 characters of Z85"
                         f" text, as `xsell keygen` writes)") from None
    return key


def read_key(path, secret=False):
    """The key in file `path` as 40 Z85 bytes.  secret=True: refuse a file
    group or others may read.  Raises OSError or ValueError (naming the
    file)."""
    with open(path, "rb") as f:
        mode = os.fstat(f.fileno()).st_mode
        if secret and mode & 0o077:
            raise ValueError(f"{path}: a secret key others may read (mode"
                             f" {mode & 0o777:03o}; chmod 600 it)")
        text = f.read(128)
    return z85_key(text.strip(), str(path))
