#!/usr/bin/python3
"""How close capped neighbour lists come to whole rows.

    agreement.py CAPPED_ENDPOINT EXACT_ENDPOINT ITEMS_FILE [N]

Sends the same N recommend requests (3 items drawn from ITEMS_FILE, k=10,
seeded) to both servers and prints JSON: the mean overlap of the two top-10
lists, the share of requests whose top 10 are identical, and the same for
one-item requests (which the cap answers exactly when k <= the cap).
"""
import json
import random
import sys

import msgpack
import zmq


def ask(sock, items):
    sock.send(msgpack.packb({"op": "recommend", "items": items, "k": 10}))
    reply = msgpack.unpackb(sock.recv(), raw=False)
    if not reply.get("ok"):
        raise SystemExit("error reply: %r" % reply)
    return [r["item"] for r in reply["items"]]


def main():
    capped_ep, exact_ep, items_file = sys.argv[1:4]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    items = [l.strip() for l in open(items_file) if l.strip()]
    rng = random.Random(7)
    ctx = zmq.Context()
    socks = []
    for ep in (capped_ep, exact_ep):
        s = ctx.socket(zmq.REQ)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVTIMEO, 10000)
        s.connect(ep)
        socks.append(s)
    overlap = identical = single_identical = 0
    for _ in range(n):
        basket = [rng.choice(items) for _ in range(3)]
        a, b = ask(socks[0], basket), ask(socks[1], basket)
        overlap += len(set(a) & set(b)) / max(len(b), 1)
        identical += a == b
        one = [basket[0]]
        single_identical += ask(socks[0], one) == ask(socks[1], one)
    print(json.dumps({"requests": n, "overlap": overlap / n,
                      "identical": identical / n,
                      "single_identical": single_identical / n}))


if __name__ == "__main__":
    main()
