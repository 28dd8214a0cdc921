#!/usr/bin/python3
"""rules_bench.py -- times `xsell rules` against bench/peers/itemsets.py.

    rules_bench.py RUNS XSELL BEFORE_XSELL_OR_EMPTY OUT_DIR

Each round runs, for every case, in turn: xsell (every rule, --sort
lift, CSV to a file), xsell --limit 1 (the same mining, one rule kept and
printed), the same two with the older build when given, and the peer.
Wall seconds from time.perf_counter around each process, CPU seconds
(user + sys) from getrusage of the children, which contention from other
jobs on the machine disturbs less.  "sort+write" is
xsell's all-rules time minus its --limit 1 time (what holding, sorting
and printing every rule costs); for the peer it is its own total minus
its counting time (rule generation, sort, formatting and the write), as
its stderr line reports them.  Medians over the rounds, ratios from those
medians.  Checks: the newer xsell's output is the older one's byte for
byte, and the peer's rules and values (1e-12 relative) are the same.
"""
import csv
import os
import re
import resource
import statistics
import subprocess
import sys
import time

SHARED = "../shared/data"
CASES = [  # label, baskets, support, confidence, max_len
    ("groceries-0.0005-0.05-len3", SHARED + "/groceries.csv", "0.0005",
     "0.05", "3"),
    ("online_retail-0.003-0.3-len3", SHARED + "/online_retail_baskets.csv",
     "0.003", "0.3", "3"),
    ("store-0.0001-0.05-len3", "bench/out/rules/store/baskets.csv",
     "0.0001", "0.05", "3"),
]


def timed(cmd, out_path):
    with open(out_path, "wb") as out:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE)
        t = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        sys.exit("%s: exit %d: %s" % (cmd[0], p.returncode,
                                      p.stderr.decode()[-500:]))
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return t, cpu, p.stderr.decode()


def read(path):
    rows = list(csv.reader(open(path, encoding="utf-8")))
    return {(r[0], r[1]): (float(r[2]), float(r[3]), float(r[4]), int(r[5]))
            for r in rows[1:]}


def main():
    runs, xs, before, out = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                             sys.argv[4])
    impls = [("after", xs)] + ([("before", before)] if before else [])
    cases = [c for c in CASES if os.path.exists(c[1])]
    t, ct = {}, {}  # (label, what) -> [wall seconds], [CPU seconds]
    raw = open(os.path.join(out, "runs.tsv"), "w")
    for run in range(runs):
        for label, path, s, c, n in cases:
            args = ["rules", "--baskets", path, "--min-support", s,
                    "--min-confidence", c, "--max-len", n]
            order = impls if run % 2 == 0 else impls[::-1]
            for name, binary in order:
                for what, extra in (("all", []), ("limit1", ["--limit", "1"])):
                    sec, cpu, _ = timed([binary] + args + extra, os.path.join(
                        out, "%s.%s.%s.csv" % (label, name, what)))
                    t.setdefault((label, name + " " + what), []).append(sec)
                    ct.setdefault((label, name + " " + what), []).append(cpu)
                    raw.write("%s\t%s %s\t%d\t%.4f\t%.4f\n"
                              % (label, name, what, run, sec, cpu))
            sec, cpu, err = timed(["/usr/bin/python3",
                                   "bench/peers/itemsets.py", path, s, c, n],
                                  os.path.join(out, label + ".peer.csv"))
            m = re.search(r"([0-9.]+) s counting, ([0-9.]+) s total", err)
            t.setdefault((label, "peer all"), []).append(sec)
            ct.setdefault((label, "peer all"), []).append(cpu)
            t.setdefault((label, "peer sw"), []).append(
                float(m.group(2)) - float(m.group(1)))
            raw.write("%s\tpeer all\t%d\t%.4f\t%.4f\n" % (label, run, sec,
                                                            cpu))
    raw.close()
    med = {k: statistics.median(v) for k, v in t.items()}
    print("%d rounds; medians of wall seconds\n" % runs)
    hb = (" before s |", " after / before |") if before else ("", "")
    sep = "|---" * (6 if before else 4) + "|"

    def table(title, value):
        print("| %s | after s |%s peer s |%s after / peer |"
              % (title, hb[0], hb[1]))
        print(sep)
        for label, *_ in cases:
            a, p = value(label, "after"), value(label, "peer")
            b = ""
            if before:
                bb = value(label, "before")
                b = (" %.3f |" % bb, " %.2f |" % (a / bb))
            print("| %s | %.3f |%s %.3f |%s %.3f |"
                  % (label, a, b[0] if b else "", p, b[1] if b else "",
                     a / p))

    def whole(src):
        return lambda label, name: statistics.median(src[(label, name + " all")])

    def sort_write(label, name):
        if name == "peer":
            return statistics.median(t[(label, "peer sw")])
        return statistics.median(
            x - y for x, y in zip(t[(label, name + " all")],
                                  t[(label, name + " limit1")]))

    def sort_write_cpu(label, name):
        return statistics.median(
            x - y for x, y in zip(ct[(label, name + " all")],
                                  ct[(label, name + " limit1")]))

    print("Whole runs, wall seconds\n")
    table("case", whole(t))
    print("\nWhole runs, CPU seconds (user + sys of the process)\n")
    table("case", whole(ct))
    print("\nsort+write, wall seconds (xsell: all - limit 1; peer: its total "
          "- counting, its own timer)\n")
    table("case", sort_write)
    print("\nsort+write, CPU seconds (xsell: all - limit 1; the peer's "
          "column repeats its wall figure)\n")
    table("case", lambda label, name: sort_write(label, name)
          if name == "peer" else sort_write_cpu(label, name))
    print()
    for label, *_ in cases:
        n = sum(1 for _ in open(os.path.join(
            out, label + ".after.all.csv"))) - 1
        print("%s: %d rules" % (label, n))
    print()
    status = 0
    for label, *_ in cases:
        a = os.path.join(out, label + ".after.all.csv")
        msg = []
        if before:
            same = open(a, "rb").read() == open(os.path.join(
                out, label + ".before.all.csv"), "rb").read()
            msg.append("after = before byte for byte" if same
                       else "after DIFFERS from before")
            status |= not same
        x, y = read(a), read(os.path.join(out, label + ".peer.csv"))
        ok = set(x) == set(y) and all(
            x[k][3] == y[k][3] and all(abs(x[k][i] - y[k][i]) <=
                                       1e-12 * abs(y[k][i]) for i in range(3))
            for k in x)
        msg.append("same rules and values as the peer" if ok
                   else "rules or values DIFFER from the peer")
        status |= not ok
        print("%s: %s" % (label, "; ".join(msg)))
    return status


if __name__ == "__main__":
    sys.exit(main())
