"""soak.py -- the 90/10 soak load driver (issue 11): recommend and ingest
against a running `xsell serve` for a while, reporting per period (a
minute by default) what should stay flat and what should track the data.

    /usr/bin/python3 bench/soak/soak.py ENDPOINT PID EVENTS_CSV [options]
      --minutes M     how long (default 10)
      --period S      seconds per report line (default 60)
      --procs N       client processes (default 4)
      --window W      requests in flight per process (default 8)
      --ingest F      share of requests that ingest (default 0.1)
      --out FILE      append the report lines and the summary as JSON

Traffic.  Each process keeps W requests in flight on a DEALER socket (a
closed loop: latency is the time from send to reply, queueing included).
A recommend names a customer (half of them) or 1-3 items, drawn from the
events file's rows (so by popularity, as real traffic is), k = 10; an ingest
is one new order of 1-5 items for a customer drawn the same way, stamped
after the store's latest event.

Per period: requests per second (all, and each op), p99 and max latency
(ms), the server's RSS (/proc/PID/status), events ingested, and from the
stats op the engine's data bytes; then RSS growth per ingested event against
the data bytes an event adds (memory.data_bytes, which counts every table,
transaction and history byte ingest adds).  Summary: throughput of the last
period against the first (target within 20%), the largest latency (target
under 50 ms), and RSS growth per event against data growth per event over
the periods after the first (target within 2x; the first period pays for
the first copy of every row ingest touches).
"""
import argparse
import array
import json
import multiprocessing as mp
import os
import random
import sys
import time

import msgpack
import zmq


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid):
    """User + system CPU time of the process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_events(path, limit=2000000):
    """(customers, items, latest ts) of the rows, in row order."""
    customers, items, latest = [], [], 0
    with open(path) as f:
        header = f.readline().rstrip("\n").split(",")
        ci, ii = header.index("customer"), header.index("item")
        ti = header.index("timestamp") if "timestamp" in header else -1
        for n, line in enumerate(f):
            if n >= limit:
                break
            row = line.rstrip("\n").split(",")
            customers.append(row[ci])
            items.append(row[ii])
            if ti >= 0:
                latest = max(latest, int(row[ti]))
    return customers, items, latest


def worker(wid, args, start, stop_at, queue):
    customers, items, latest = read_events(args.events)
    rnd = random.Random(1000 + wid)
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(args.endpoint)
    poller = zmq.Poller()
    poller.register(s, zmq.POLLIN)
    pending = {}  # id -> (op, sent)
    next_id = 0
    orders = 0
    ts = latest + 1
    period = 0
    lat = {"recommend": array.array("I"), "ingest": array.array("I")}
    errors = {"recommend": 0, "ingest": 0}
    events = 0

    def request():
        nonlocal next_id, orders, ts, events
        next_id += 1
        if rnd.random() < args.ingest:
            orders += 1
            cust = customers[rnd.randrange(len(customers))]
            n = rnd.randint(1, 5)
            evs = []
            for _ in range(n):
                ts += 1
                evs.append({"customer": cust,
                            "item": items[rnd.randrange(len(items))],
                            "order": "SOAK-%d-%d" % (wid, orders), "ts": ts})
            events += n
            req, op = {"op": "ingest", "events": evs}, "ingest"
        elif rnd.random() < 0.5:
            req = {"op": "recommend", "k": 10,
                   "customer": customers[rnd.randrange(len(customers))]}
            op = "recommend"
        else:
            req = {"op": "recommend", "k": 10,
                   "items": [items[rnd.randrange(len(items))]
                             for _ in range(rnd.randint(1, 3))]}
            op = "recommend"
        req["id"] = next_id
        pending[next_id] = (op, time.monotonic())
        s.send_multipart([b"", msgpack.packb(req)])

    def flush(p):
        queue.put((p, wid, {k: v.tobytes() for k, v in lat.items()},
                   dict(errors), events))

    while time.monotonic() < start:
        time.sleep(0.01)
    for _ in range(args.window):
        request()
    while True:
        now = time.monotonic()
        p = int((now - start) // args.period)
        if p != period:
            flush(period)
            for v in lat.values():
                del v[:]
            errors = {"recommend": 0, "ingest": 0}
            events = 0
            period = p
        if now >= stop_at:
            break
        if not poller.poll(1000):
            continue
        frames = s.recv_multipart()
        got = time.monotonic()
        rep = msgpack.unpackb(frames[-1], raw=False)
        op, sent = pending.pop(rep.get("id"), ("recommend", got))
        lat[op].append(min(int((got - sent) * 1e6), 2**32 - 1))
        if not rep.get("ok"):
            errors[op] += 1
        request()
    queue.put(None)
    s.close()
    ctx.term()


def pct(sorted_vals, q):
    if not sorted_vals:
        return 0.0
    return sorted_vals[min(len(sorted_vals) - 1, int(q * len(sorted_vals)))]


def stats(sock):
    sock.send(msgpack.packb({"op": "stats"}))
    return msgpack.unpackb(sock.recv(), raw=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint")
    ap.add_argument("pid", type=int)
    ap.add_argument("events")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--period", type=float, default=60)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--ingest", type=float, default=0.1)
    ap.add_argument("--out")
    args = ap.parse_args()
    n_periods = max(1, int(round(args.minutes * 60 / args.period)))
    ctx = zmq.Context()
    st = ctx.socket(zmq.REQ)
    st.setsockopt(zmq.LINGER, 0)
    st.setsockopt(zmq.RCVTIMEO, 30000)
    st.connect(args.endpoint)
    base = stats(st)
    rss0 = rss_bytes(args.pid)
    print("soak: %d x %gs periods, %d processes x %d in flight, %.0f%% "
          "ingest; server RSS %.1f MB, data %.1f MB, %d events"
          % (n_periods, args.period, args.procs, args.window,
             100 * args.ingest, rss0 / 2**20,
             base["memory"]["data_bytes"] / 2**20, base["events"]),
          flush=True)
    queue = mp.Queue()
    start = time.monotonic() + 3.0  # the workers read the events file
    stop_at = start + n_periods * args.period
    procs = [mp.Process(target=worker,
                        args=(w, args, start, stop_at, queue))
             for w in range(args.procs)]
    for p in procs:
        p.start()
    prev = {"rss": rss0, "cpu": cpu_seconds(args.pid),
            "data": base["memory"]["data_bytes"],
            "ingested": base["ingested"], "pairs": sum(base["pairs"].values()),
            "tables": sum(base["memory"].get("table_bytes", {}).values())}
    lines, parts, done = [], {}, 0
    sampled = 0

    def sample(period):
        nonlocal prev
        s = stats(st)
        cur = {"rss": rss_bytes(args.pid), "cpu": cpu_seconds(args.pid),
               "data": s["memory"]["data_bytes"], "ingested": s["ingested"],
               "pairs": sum(s["pairs"].values()),
               "tables": sum(s["memory"].get("table_bytes", {}).values())}
        d_ev = cur["ingested"] - prev["ingested"]
        d_rss = cur["rss"] - prev["rss"]
        d_data = cur["data"] - prev["data"]
        row = {"period": period, "rss_mb": round(cur["rss"] / 2**20, 1),
               "data_mb": round(cur["data"] / 2**20, 1),
               "events": d_ev,
               "rss_per_event": round(d_rss / d_ev, 1) if d_ev else None,
               "data_per_event": round(d_data / d_ev, 1) if d_ev else None,
               "tables_per_event": round((cur["tables"] - prev["tables"]) /
                                         d_ev, 1) if d_ev else None,
               "pairs_per_event": round((cur["pairs"] - prev["pairs"]) /
                                        d_ev, 2) if d_ev else None,
               "server_max_ms": round(s["latency_us"]["max"] / 1000, 2),
               "bytes_per_pair": round(s["memory"].get("bytes_per_pair", 0),
                                       2),
               "bytes_per_event": round(s["memory"].get("bytes_per_event", 0),
                                        1),
               "_cpu": cur["cpu"] - prev["cpu"],
               "_rss": cur["rss"], "_data": cur["data"],
               "_ingested": cur["ingested"]}
        prev = cur
        return row

    samples = {}
    while done < args.procs:
        # sample the server at each period's end, from here
        now = time.monotonic()
        while sampled < n_periods and now >= start + (sampled + 1) * \
                args.period:
            samples[sampled] = sample(sampled)
            sampled += 1
        try:
            item = queue.get(timeout=0.2)
        except Exception:
            continue
        if item is None:
            done += 1
            continue
        p, _, lat, errs, evs = item
        part = parts.setdefault(p, {"recommend": array.array("I"),
                                    "ingest": array.array("I"),
                                    "errors": 0, "events": 0})
        for op, raw in lat.items():
            part[op].frombytes(raw)
        part["errors"] += sum(errs.values())
        part["events"] += evs
    for p in procs:
        p.join()
    while sampled < n_periods:
        samples[sampled] = sample(sampled)
        sampled += 1
    for p in range(n_periods):
        part = parts.get(p)
        if not part:
            continue
        allv = sorted(list(part["recommend"]) + list(part["ingest"]))
        rec, ing = sorted(part["recommend"]), sorted(part["ingest"])
        row = {"period": p + 1,
               "req_s": round(len(allv) / args.period, 1),
               "recommend_s": round(len(rec) / args.period, 1),
               "ingest_s": round(len(ing) / args.period, 1),
               "errors": part["errors"],
               "p99_ms": round(pct(allv, 0.99) / 1000, 2),
               "max_ms": round((allv[-1] if allv else 0) / 1000, 2),
               "recommend_p99_ms": round(pct(rec, 0.99) / 1000, 2),
               "ingest_p99_ms": round(pct(ing, 0.99) / 1000, 2),
               "ingest_max_ms": round((ing[-1] if ing else 0) / 1000, 2)}
        sm = samples.get(p, {})
        if sm and allv:
            # the server's CPU per request: what the server pays, whatever
            # the clients manage to send
            row["server_cpu_us_per_req"] = round(sm["_cpu"] * 1e6 / len(allv),
                                                 1)
        row.update({k: v for k, v in sm.items()
                    if not k.startswith("_") and k != "period"})
        lines.append(row)
        print(json.dumps(row), flush=True)
    if not lines:
        print("soak: no period completed", file=sys.stderr)
        return 1
    first, last = lines[0], lines[-1]
    later = [samples[p] for p in range(1, n_periods) if p in samples]
    if later:
        a = samples[0]
        b = later[-1]
        d_ev = b["_ingested"] - a["_ingested"]
        rss_pe = (b["_rss"] - a["_rss"]) / d_ev if d_ev else None
        data_pe = (b["_data"] - a["_data"]) / d_ev if d_ev else None
    else:
        rss_pe = data_pe = None
    whole_ev = samples[n_periods - 1]["_ingested"] - base["ingested"]
    summary = {
        "summary": True, "minutes": args.minutes, "periods": n_periods,
        "throughput_first": first["req_s"], "throughput_last": last["req_s"],
        "throughput_ratio": round(last["req_s"] / first["req_s"], 3)
        if first["req_s"] else None,
        "max_latency_ms": max(r["max_ms"] for r in lines),
        "server_cpu_us_per_req_first": first.get("server_cpu_us_per_req"),
        "server_cpu_us_per_req_last": last.get("server_cpu_us_per_req"),
        "p99_ms_worst": max(r["p99_ms"] for r in lines),
        "errors": sum(r["errors"] for r in lines),
        "events_ingested": whole_ev,
        "rss_start_mb": round(rss0 / 2**20, 1),
        "rss_end_mb": round(samples[n_periods - 1]["_rss"] / 2**20, 1),
        "rss_per_event_whole": round(
            (samples[n_periods - 1]["_rss"] - rss0) / whole_ev, 1)
        if whole_ev else None,
        "data_per_event_whole": round(
            (samples[n_periods - 1]["_data"] - base["memory"]["data_bytes"])
            / whole_ev, 1) if whole_ev else None,
        "rss_per_event_after_first": round(rss_pe, 1)
        if rss_pe is not None else None,
        "data_per_event_after_first": round(data_pe, 1)
        if data_pe is not None else None,
    }
    summary["targets"] = {
        "throughput_within_20pct": summary["throughput_ratio"] is not None
        and summary["throughput_ratio"] >= 0.8,
        "max_latency_under_50ms": summary["max_latency_ms"] < 50,
        "rss_growth_within_2x": rss_pe is not None and data_pe is not None
        and data_pe > 0 and rss_pe <= 2 * data_pe,
    }
    print(json.dumps(summary), flush=True)
    if args.out:
        with open(args.out, "a") as f:
            for r in lines:
                f.write(json.dumps(r) + "\n")
            f.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
