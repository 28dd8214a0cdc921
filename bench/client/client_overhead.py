#!/usr/bin/python3
"""client_overhead.py -- what the Python package (clients/python) costs per
request over a bare pyzmq + msgpack REQ loop, its peer, in the same run.

    bench/client/run.sh [ROUNDS] [REQUESTS]   (builds nothing; needs build/bin/xsell)

One `xsell serve` (examples/data, --threads 1) on a free loopback port;
then ROUNDS rounds, each running, one after the other and in alternating
order, REQUESTS requests through the bare loop and through xsell.Client,
for two requests: `health` (the smallest reply: the client's own cost
shows most) and `recommend` of one item, k = 10 (a typical page).  Prints
per round, for each, the requests per second (wall clock: the server's
time included) and the client process's CPU time per request (user +
system: what the client itself costs, less sensitive to other jobs), then
the medians and the medians of the per-round ratios package / bare.  The
machine is shared: only the ratios mean much.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import msgpack
import zmq

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "clients", "python", "src"))
import xsell  # noqa: E402

REQUESTS = {"health": {"op": "health"},
            "recommend": {"op": "recommend", "items": ["P000030"], "k": 10}}


def bare(endpoint, req, n):
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 5000)
    sock.connect(endpoint)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        sock.send(msgpack.packb(req, use_bin_type=True))
        reply = msgpack.unpackb(sock.recv(), raw=False)
        assert reply["ok"] is True
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    sock.close()
    return n / took, cpu / n * 1e6


def package(endpoint, req, n):
    fields = {k: v for k, v in req.items() if k != "op"}
    with xsell.Client(endpoint, timeout=5) as xs:
        call = getattr(xs, req["op"])
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            reply = call(**fields)
            assert reply["ok"] is True
        return n / (time.perf_counter() - t0), (time.process_time() - c0) / n * 1e6


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    xs_bin = os.environ.get("XSELL", os.path.join(SRC, "build", "bin", "xsell"))
    tmp = tempfile.mkdtemp(prefix="xsell_bench_client_")
    port_file = os.path.join(tmp, "port")
    data = os.path.join(SRC, "examples", "data")
    server = subprocess.Popen(
        [xs_bin, "serve", "--events", os.path.join(data, "events.csv"),
         "--catalog", os.path.join(data, "catalog.csv"), "--bind", "tcp://127.0.0.1:*",
         "--port-file", port_file, "--threads", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.05)
        endpoint = open(port_file).read().strip()
        print(f"xsell {xs_bin}, server {endpoint}, {rounds} rounds of {n} requests,"
              f" python {sys.version.split()[0]}, pyzmq {zmq.__version__},"
              f" msgpack {'.'.join(map(str, msgpack.version))}")
        for name, req in REQUESTS.items():
            bare(endpoint, req, n // 10)  # warm up
            package(endpoint, req, n // 10)
            b, p, ratios, bc, pc, cratios = [], [], [], [], [], []
            for r in range(rounds):
                order = (("bare", bare), ("package", package))
                if r % 2:
                    order = order[::-1]
                got = {k: f(endpoint, req, n) for k, f in order}
                b.append(got["bare"][0])
                p.append(got["package"][0])
                ratios.append(p[-1] / b[-1])
                bc.append(got["bare"][1])
                pc.append(got["package"][1])
                cratios.append(pc[-1] / bc[-1])
                print(f"  {name:9} round {r + 1}: bare {b[-1]:6.0f}/s {bc[-1]:5.1f} us cpu"
                      f"  package {p[-1]:6.0f}/s {pc[-1]:5.1f} us cpu"
                      f"  ratio {ratios[-1]:.3f} (cpu {cratios[-1]:.3f})")
            med = statistics.median
            print(f"{name:9} medians: bare {med(b):6.0f}/s {med(bc):5.1f} us cpu/request,"
                  f" package {med(p):6.0f}/s {med(pc):5.1f} us cpu/request;"
                  f" package/bare: throughput {med(ratios):.3f}"
                  f" (min {min(ratios):.3f}, max {max(ratios):.3f}),"
                  f" client cpu per request {med(cratios):.3f}"
                  f" (min {min(cratios):.3f}, max {max(cratios):.3f})")
    finally:
        server.terminate()
        server.wait(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
