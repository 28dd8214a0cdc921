"""ingest.py -- ingest throughput and acknowledgement latency of one
`xsell serve` (bench/durability/run.sh starts it).

    /usr/bin/python3 ingest.py ENDPOINT SECONDS CLIENTS BATCH

CLIENTS threads, each with its own REQ socket, send ingest requests of
BATCH events (new customers, items of the example store, an order per
request) back to back for SECONDS; prints one JSON line: events/s,
requests/s, p50/p99/max acknowledgement latency in ms."""
import json
import random
import sys
import threading
import time

import msgpack
import zmq

endpoint, seconds, clients, batch = (sys.argv[1], float(sys.argv[2]),
                                     int(sys.argv[3]), int(sys.argv[4]))
ctx = zmq.Context()
lat = [[] for _ in range(clients)]
items = ["P%06d" % i for i in range(1, 300)]


def run(t):
    s = ctx.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 10000)
    s.connect(endpoint)
    r = random.Random(t)
    end = time.monotonic() + seconds
    k = 0
    while time.monotonic() < end:
        k += 1
        evs = [{"customer": "b%d-%d-%d" % (t, k, j),
                "item": r.choice(items), "order": "bo%d-%d" % (t, k)}
               for j in range(batch)]
        t0 = time.perf_counter()
        s.send(msgpack.packb({"op": "ingest", "events": evs}))
        rep = msgpack.unpackb(s.recv())
        lat[t].append(time.perf_counter() - t0)
        if rep.get("ok") is not True:
            raise SystemExit("ingest failed: %r" % rep)
    s.close(0)


th = [threading.Thread(target=run, args=(t,)) for t in range(clients)]
t0 = time.monotonic()
for x in th:
    x.start()
for x in th:
    x.join()
took = time.monotonic() - t0
all_lat = sorted(v for l in lat for v in l)
n = len(all_lat)
print(json.dumps({
    "requests_per_s": round(n / took, 1),
    "events_per_s": round(n * batch / took, 1),
    "p50_ms": round(all_lat[n // 2] * 1e3, 3),
    "p99_ms": round(all_lat[min(n - 1, int(n * 0.99))] * 1e3, 3),
    "max_ms": round(all_lat[-1] * 1e3, 3)}))
ctx.destroy(0)
