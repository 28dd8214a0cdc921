"""cold.py -- bench/types/run.sh's driver (see there): generated stores
with views, their cold items, `xsell eval` with and without event
weights, medians over seeds and ratios against purchases only."""
import csv
import json
import os
import statistics
import subprocess
import sys
import time

xsell, seeds, repeats = sys.argv[1], sys.argv[2].split(), int(sys.argv[3])
out = "bench/out"
os.makedirs(out, exist_ok=True)
raw = open(os.path.join(out, "types.jsonl"), "w")
WEIGHTS = ["none", "view=0.1,cart=0.3", "view=0.2,cart=0.5",
           "view=0.5,cart=0.5"]
PROTOCOLS = [("basket", "copurchase"), ("basket", "blend"),
             ("temporal", "recency"), ("temporal", "blend"),
             ("stratified", "recency"), ("stratified", "blend")]
GEN = ["--customers", "3000", "--items", "1000", "--orders", "20000",
       "--views", "2", "--carts", "0.3", "--cold", "0.2"]


def run(args):
    p = subprocess.run([xsell] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode:
        sys.exit("xsell %s: %s" % (" ".join(args), p.stderr.decode()))
    return p.stdout.decode()


def cold_items(path):
    bought, viewed = {}, {}
    for r in csv.DictReader(open(path)):
        d = bought if r["type"] == "purchase" else viewed \
            if r["type"] == "view" else None
        if d is not None:
            d[r["item"]] = d.get(r["item"], 0) + 1
    med = statistics.median(bought.values())
    return sorted(i for i in set(bought) | set(viewed)
                  if viewed.get(i, 0) >= 5 * max(1, bought.get(i, 0)) and
                  bought.get(i, 0) <= med)


res = {}  # (seed, split, plugin, weights, segment) -> report
stores = {}
for seed in seeds:
    d = os.path.join(out, "types-%s" % seed)
    if not os.path.exists(os.path.join(d, "events.csv")):
        run(["gen"] + GEN + ["--seed", seed, "--out", d])
    ev = os.path.join(d, "events.csv")
    cold = cold_items(ev)
    cpath = os.path.join(d, "cold.txt")
    with open(cpath, "w") as f:
        f.write("\n".join(cold) + "\n")
    stores[seed] = (ev, len(cold))
    for split, plugin in PROTOCOLS:
        for w in WEIGHTS:
            for seg in ("all", "cold"):
                args = ["eval", "--events", ev, "--split", split, "--plugin",
                        plugin, "--k", "10", "--format", "json"]
                if w != "none":
                    args += ["--event-weights", w]
                if seg == "cold":
                    args += ["--target-items", cpath]
                rep = json.loads(run(args))
                res[(seed, split, plugin, w, seg)] = rep
                raw.write(json.dumps({"seed": seed, "split": split,
                                      "plugin": plugin, "weights": w,
                                      "segment": seg, "report": rep}) + "\n")

print("## Event types: views and cold items\n")
for seed in seeds:
    ev, nc = stores[seed]
    print("- seed %s: %s, %d cold items" % (seed, ev, nc))
print("\nrecall@10 (hit rate for the basket protocol), median over seeds "
      "%s; ratio = with weights / purchases only, median of the per-seed "
      "ratios\n" % ", ".join(seeds))
print("| protocol | plugin | weights | recall all | ratio | recall cold | "
      "ratio | cold users |")
print("|---|---|---|---:|---:|---:|---:|---:|")
for split, plugin in PROTOCOLS:
    for w in WEIGHTS:
        cells = []
        for seg in ("all", "cold"):
            vals = [res[(s, split, plugin, w, seg)]["recall"] for s in seeds]
            base = [res[(s, split, plugin, "none", seg)]["recall"]
                    for s in seeds]
            ratios = [v / b if b else float("nan") for v, b in zip(vals, base)]
            cells += ["%.4f" % statistics.median(vals),
                      "%.3f" % statistics.median(ratios)]
        users = statistics.median(res[(s, split, plugin, w, "cold")]["users"]
                                  for s in seeds)
        print("| %s | %s | %s | %s | %d |" % (split, plugin, w,
                                              " | ".join(cells), users))

# cost: interleaved runs, wall seconds
ev = stores[seeds[0]][0]
base = ["eval", "--events", ev, "--split", "basket", "--plugin",
        "copurchase", "--format", "json"]
t = {"none": [], "view=0.2,cart=0.5": []}
for _ in range(repeats):
    for w in t:
        args = base + ([] if w == "none" else ["--event-weights", w])
        t0 = time.monotonic()
        run(args)
        t[w].append(time.monotonic() - t0)
m0 = statistics.median(t["none"])
m1 = statistics.median(t["view=0.2,cart=0.5"])
print("\nCost (seed %s, basket evaluation of copurchase, %d interleaved "
      "runs each): median %.3f s purchases only, %.3f s with "
      "view=0.2,cart=0.5: ratio %.2f (runs: %s / %s)"
      % (seeds[0], repeats, m0, m1, m1 / m0,
         " ".join("%.3f" % x for x in t["none"]),
         " ".join("%.3f" % x for x in t["view=0.2,cart=0.5"])))
print("\nCommand: bench/types/run.sh %s \"%s\" %d" % (
    os.path.dirname(os.path.dirname(xsell)), " ".join(seeds), repeats))
