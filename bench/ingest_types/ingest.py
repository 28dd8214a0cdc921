"""bench/ingest_types/ingest.py XSELL REPEATS -- see run.sh."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import msgpack
import zmq

xsell, repeats = sys.argv[1], int(sys.argv[2])
out = os.path.join("bench", "out")
store = os.path.join(out, "ingest-types")
os.makedirs(out, exist_ok=True)
subprocess.run([xsell, "gen", "--customers", "3000", "--items", "1000",
                "--orders", "20000", "--views", "2", "--carts", "0.3",
                "--cold", "0.2", "--seed", "1", "--out", store], check=True,
               stderr=subprocess.DEVNULL)
lines = open(os.path.join(store, "events.csv")).read().splitlines()
cut = (len(lines) - 1) * 4 // 5
base = os.path.join(store, "base.csv")
with open(base, "w") as f:
    f.write("\n".join(lines[:1 + cut]) + "\n")


def event(r):
    e = {"customer": r[0], "item": r[1], "ts": int(r[2]), "qty": float(r[3]),
         "type": r[6]}
    if r[4]:
        e["price"] = float(r[4])
    if r[5]:
        e["order"] = r[5]
    return e


tail = [event(line.split(",")) for line in lines[1 + cut:]]
kinds = {"typed": tail,
         "purchases": [e for e in tail if e["type"] == "purchase"]}


def run(evs):
    d = tempfile.mkdtemp(prefix="ingest-types-")
    port = os.path.join(d, "port")
    p = subprocess.Popen([xsell, "serve", "--events", base, "--catalog",
                          os.path.join(store, "catalog.csv"), "--bind",
                          "tcp://127.0.0.1:*", "--port-file", port,
                          "--plugins", "copurchase,recency,popular",
                          "--plugin-opt", "popular.types=all",
                          "--event-weights", "view=0.2,cart=0.5"],
                         stderr=subprocess.DEVNULL)
    try:
        while not (os.path.exists(port) and open(port).read().strip()):
            if p.poll() is not None:
                raise SystemExit("serve exited")
            time.sleep(0.05)
        ctx = zmq.Context()
        s = ctx.socket(zmq.REQ)
        s.setsockopt(zmq.RCVTIMEO, 120000)
        s.connect(open(port).read().strip())
        t0 = time.monotonic()
        for i in range(0, len(evs), 1000):
            s.send(msgpack.packb({"op": "ingest", "events": evs[i:i + 1000]}))
            r = msgpack.unpackb(s.recv(), raw=False)
            if not r.get("ok"):
                raise SystemExit("ingest: %r" % r)
        took = time.monotonic() - t0
        s.close(0)
        ctx.term()
        return took
    finally:
        p.kill()
        p.wait()


res = {k: [] for k in kinds}
with open(os.path.join(out, "ingest-types.jsonl"), "a") as log:
    for rep in range(repeats):
        for k, evs in kinds.items():
            t = run(evs)
            res[k].append(t)
            log.write(json.dumps({"kind": k, "events": len(evs),
                                  "seconds": t, "rep": rep}) + "\n")
print("| ingest | events | median s | us/event | runs (s) |")
print("|---|---|---|---|---|")
per = {}
for k, evs in kinds.items():
    m = statistics.median(res[k])
    per[k] = m / len(evs)
    print("| %s | %d | %.3f | %.1f | %s |" % (
        k, len(evs), m, 1e6 * per[k], ", ".join("%.3f" % t for t in res[k])))
print("\nratio typed / purchases, per event: %.2f; per batch of the same "
      "time span: %.2f" % (per["typed"] / per["purchases"],
                           statistics.median(res["typed"]) /
                           statistics.median(res["purchases"])))
