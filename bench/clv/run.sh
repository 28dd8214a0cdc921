#!/bin/sh
# Customer lifetime value against the scipy peer: `xsell clv` and
# bench/peers/clv.py summarise, fit (BG/NBD, Gamma-Gamma) and score the
# same customers, in the same run, interleaved round by round (the order
# alternates: xsell first in odd rounds, the peer first in even ones).
#
#   bench/clv/run.sh [ROUNDS] [BUILD_DIR] [PEER_ROUNDS]   (3, build, ROUNDS)
#
# Data:
#   store1mc  the generated 1,000,000-customer store (bench/out/store1mc:
#             xsell gen --customers 1000000 --items 100000 --orders 3000000
#             --seed 7; 10.65 M events, made once), prices from the events,
#             unit week, horizon 52;
#   ml        MovieLens small (../shared/data/ml-latest-small-ratings.csv:
#             610 users; rating days as purchase days, no prices), unit
#             day, horizon 364.
#
# Figures: the whole process measured from outside (loading and the
# interpreter's start included): median wall seconds over the rounds and
# the largest peak RSS (the child's rusage from wait4); the stages each
# reports itself (xsell's --summary "seconds", the peer's "seconds").
# Ratios: peer / xsell wall (how many times faster xsell is) and xsell /
# peer RSS.  Every peer run also checks agreement (bench/peers/clv.py
# --compare): parameters, log-likelihood, per-customer p_alive,
# expectations and CLV; the worst of the rounds is printed.
# The peer takes about 7 minutes and 1.8 GB on the 1M store (2-core VM):
# PEER_ROUNDS below ROUNDS runs it in the first PEER_ROUNDS rounds only.
# Results: bench/out/clv-results.md (overwritten; copy the table into
# bench/RESULTS.md), raw JSON lines in bench/out/clv.jsonl.
set -eu
rounds=${1:-3}
build=${2:-build}
peer_rounds=${3:-$rounds}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
cmake --build "$build" --target xsell_cli >&2
out=bench/out
mkdir -p "$out"
xsell=$build/bin/xsell
[ -x "$xsell" ] || { echo "bench/clv/run.sh: build $xsell first" >&2; exit 1; }
if [ ! -f "$out/store1mc/events.csv" ]; then
    "$xsell" gen --customers 1000000 --items 100000 --orders 3000000 \
        --seed 7 --out "$out/store1mc"
fi
XSELL="$xsell" ROUNDS="$rounds" PEER_ROUNDS="$peer_rounds" OUT="$out" \
    /usr/bin/python3 - <<'PY'
import json, os, statistics, subprocess, sys, time

xsell, out = os.environ["XSELL"], os.environ["OUT"]
rounds, peer_rounds = int(os.environ["ROUNDS"]), int(os.environ["PEER_ROUNDS"])
ml = "../shared/data/ml-latest-small-ratings.csv"
DATA = [("store1mc", out + "/store1mc/events.csv", [], "week")]
if os.path.exists(ml):
    DATA.append(("ml", ml, ["--columns",
                            "customer=userId,item=movieId,timestamp=timestamp"],
                 "day"))


def run_rss(cmd):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fo = p.stdout.read()
    fe = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if status:
        sys.exit("failed (%d): %s\n%s" % (status, " ".join(cmd),
                                          fe.decode()[-2000:]))
    return wall, ru.ru_maxrss / 1024.0, fo.decode()


res = {}
log = open(out + "/clv.jsonl", "a")
for name, path, cols, unit in DATA:
    tab = os.path.join(out, "clv-%s.csv" % name)
    summ = os.path.join(out, "clv-%s.json" % name)
    xcmd = [xsell, "clv", "--events", path, "--unit", unit, "--out", tab,
            "--summary", summ] + cols
    pcmd = ["/usr/bin/python3", "bench/peers/clv.py", path, "--unit", unit,
            "--compare", tab, "--summary", summ]
    if cols:
        pcmd += ["--columns", cols[1]]
    r = res[name] = {"xsell": [], "peer": [], "xsell_stages": [],
                     "peer_stages": [], "compare": [], "xsell_rss": 0,
                     "peer_rss": 0}
    for k in range(rounds):
        order = ["xsell", "peer"] if k % 2 == 0 else ["peer", "xsell"]
        if k >= peer_rounds:
            order = ["xsell"]
        for who in order:
            if who == "peer" and not os.path.exists(summ):
                # the peer compares with xsell's last output
                continue
            wall, rss, o = run_rss(xcmd if who == "xsell" else pcmd)
            r[who].append(wall)
            r[who + "_rss"] = max(r[who + "_rss"], rss)
            if who == "xsell":
                st = json.load(open(summ))["seconds"]
                r["xsell_stages"].append(st)
                row = {"data": name, "who": who, "round": k, "wall": wall,
                       "rss_mib": rss, "stages": st}
            else:
                d = json.loads(o)
                r["peer_stages"].append(d["seconds"])
                r["compare"].append(d.get("compare", {}))
                row = {"data": name, "who": who, "round": k, "wall": wall,
                       "rss_mib": rss, "peer": d}
            log.write(json.dumps(row) + "\n")
            log.flush()
            print("%s %s round %d: %.1f s, %.0f MiB" % (name, who, k, wall, rss),
                  file=sys.stderr)

lines = ["| data | xsell wall s (median) | stages: summary / BG-NBD / GG / "
         "score s | peer wall s (median) | peer: read / summary / BG-NBD / "
         "GG / score s | peer / xsell | xsell RSS MiB | peer RSS MiB | "
         "rounds |", "|" + "---|" * 9]
for name, r in res.items():
    xm = statistics.median(r["xsell"])
    pm = statistics.median(r["peer"]) if r["peer"] else float("nan")

    def med(stages, keys):
        return " / ".join("%.2f" % statistics.median(s[k] for s in stages)
                          for k in keys) if stages else "-"
    lines.append("| %s | %.1f | %s | %.1f | %s | %.1f | %.0f | %.0f | %d / %d |"
                 % (name, xm, med(r["xsell_stages"], ["summary", "bgnbd",
                                                      "gamma_gamma", "score"]),
                    pm, med(r["peer_stages"], ["read", "summary", "fit_bgnbd",
                                               "fit_gg", "score"]),
                    pm / xm, r["xsell_rss"], r["peer_rss"], len(r["xsell"]),
                    len(r["peer"])))
lines.append("")
lines.append("Agreement (worst over the peer's rounds):")
lines.append("")
for name, r in res.items():
    worst = {}
    for c in r["compare"]:
        for k, v in c.items():
            if isinstance(v, (int, float)) and "customers" not in k:
                worst[k] = max(worst.get(k, 0), v)
    lines.append("- %s: %s" % (name, ", ".join("%s %.3g" % kv
                                               for kv in sorted(worst.items()))))
text = "\n".join(lines) + "\n"
open(out + "/clv-results.md", "w").write(text)
print(text)
PY
