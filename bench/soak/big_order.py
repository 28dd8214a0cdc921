"""big_order.py -- one ingest of N distinct items in one order, against a
running `xsell serve`: the reply, the time it took and the server's RSS and
stats bytes before and after (issue 11, "bounded work").

    /usr/bin/python3 bench/soak/big_order.py ENDPOINT PID [N [customer]]

ENDPOINT is the server's bind (tcp://127.0.0.1:PORT), PID its process id
(RSS read from /proc/PID/status); N defaults to 10,000.  With `customer`
the events name no order: one customer buying N distinct items (customer
scope's bound instead of the order's).  Prints one JSON line.
"""
import json
import sys
import time

import msgpack
import zmq


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def call(sock, req):
    sock.send(msgpack.packb(req))
    return msgpack.unpackb(sock.recv(), raw=False)


def main():
    endpoint, pid = sys.argv[1], int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    no_order = len(sys.argv) > 4 and sys.argv[4] == "customer"
    ctx = zmq.Context()
    s = ctx.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 600000)
    s.connect(endpoint)
    before = call(s, {"op": "stats"})
    rss0 = rss_kb(pid)
    events = [{"customer": "BIG1", "item": "BIGITEM%05d" % i,
               "order": "BIGORDER1", "ts": 1767225600}
              for i in range(n)]
    if no_order:
        for e in events:
            del e["order"]
    t0 = time.monotonic()
    reply = call(s, {"op": "ingest", "events": events})
    dt = time.monotonic() - t0
    rss1 = rss_kb(pid)
    after = call(s, {"op": "stats"})
    print(json.dumps({
        "items": n, "ok": reply.get("ok"), "error": reply.get("error"),
        "seconds": round(dt, 3), "rss_before_mb": round(rss0 / 1024, 1),
        "rss_after_mb": round(rss1 / 1024, 1),
        "data_bytes_before": before["memory"]["data_bytes"],
        "data_bytes_after": after["memory"]["data_bytes"]}))


if __name__ == "__main__":
    main()
