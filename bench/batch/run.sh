#!/bin/sh
# Batch scoring against the SAR peer: `xsell score` and
# bench/batch/sar_batch.py score every customer of the same store, in the
# same run, interleaved round by round.
#
#   bench/batch/run.sh [ROUNDS] [BUILD_DIR] [big]   (defaults: 3, build)
#
# MovieLens small (ml-latest-small-ratings.csv: 610 users, 9,724 movies;
# weight = rating): the peer, then xsell score --plugin recency (SAR, the
# same model: customer scope, jaccard, 30-day half-life) with --threads 1
# and 2, k = 10.  With a third argument `big`,
# also the generated 1,000,000-customer store (bench/out/store1mc, 10.65 M
# events, 100,000 items; generated once): the peer and xsell --threads 2,
# one round each (the peer takes about 40 minutes and 5.5 GB there).
#
# Every figure is the whole process, measured from outside (interpreter and
# library start included for the peer, loading included for both): the
# median wall time over ROUNDS and the largest peak RSS (/usr/bin/time -v
# when installed, else the child's rusage from wait4).  Ratios: peer wall /
# xsell wall (how many times faster) and xsell RSS / peer RSS.  The outputs
# are compared customer by customer: same top-k items in the same order,
# or the same items with equal scores in another order (ties).
# Results: bench/out/batch-results.md (overwritten; copy the table into
# bench/RESULTS.md); outputs under bench/out.
set -eu
rounds=${1:-3}
build=${2:-build}
big=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." # the source tree
# benchmarks are not built by default: build what this one runs
cmake --build "$build" --target xsell_cli plugins >&2
out=bench/out
mkdir -p "$out"
xsell=$build/bin/xsell
ml=../shared/data/ml-latest-small-ratings.csv
[ -f "$ml" ] || { echo "run_batch.sh: $ml missing" >&2; exit 77; }
[ -x "$xsell" ] || { echo "run_batch.sh: build $xsell first" >&2; exit 1; }
if [ "$big" = big ] && [ ! -f "$out/store1mc/events.csv" ]; then
    "$xsell" gen --customers 1000000 --items 100000 --orders 3000000 \
        --seed 7 --out "$out/store1mc"
fi
XSELL="$xsell" ML="$ml" ROUNDS="$rounds" BIG="$big" OUT="$out" ARGS="$*" \
    /usr/bin/python3 - <<'PY'
import csv, itertools, json, os, re, shlex, statistics, subprocess, sys
import tempfile, time

xsell, ml, rounds, out = (os.environ["XSELL"], os.environ["ML"],
                          int(os.environ["ROUNDS"]), os.environ["OUT"])
py = "/usr/bin/python3"
peer = "bench/batch/sar_batch.py"
gnu_time = os.access("/usr/bin/time", os.X_OK)


def xs(events, cols, threads, dest):
    # --max-basket: the peer pairs every item of a customer (xsell's default
    # bound, 1000, would leave those past a customer's first 1000 unpaired)
    cmd = [xsell, "score", "--events", events, "--max-basket", "1000000"]
    if cols:
        cmd += ["--columns", cols]
    # customer scope: SAR's user-item co-occurrence, as the peer (recency's
    # default is basket scope when the data has orders, as store1mc has)
    return cmd + ["--plugin", "recency", "--plugin-opt",
                  "recency.scope=customer", "--k", "10", "--threads",
                  str(threads), "--out", dest, "--quiet"]


# (store, [(label, command, output)]); the peer first in every store
stores = []
ml_cols = "customer=userId,item=movieId,weight=rating"
stores.append(("ml-latest-small (610 customers)", [
    ("SAR peer (scipy)",
     [py, peer, ml, os.path.join(out, "batch_ml_peer.csv"),
      "--customer", "userId", "--item", "movieId", "--weight", "rating"],
     os.path.join(out, "batch_ml_peer.csv")),
    ("xsell score, recency, 1 thread",
     xs(ml, ml_cols, 1, os.path.join(out, "batch_ml_t1.csv")),
     os.path.join(out, "batch_ml_t1.csv")),
    ("xsell score, recency, 2 threads",
     xs(ml, ml_cols, 2, os.path.join(out, "batch_ml_t2.csv")),
     os.path.join(out, "batch_ml_t2.csv")),
]))
if os.environ.get("BIG") == "big":
    ev = os.path.join(out, "store1mc", "events.csv")
    stores.append(("generated store1mc (1,000,000 customers)", [
        ("SAR peer (scipy)",
         [py, peer, ev, os.path.join(out, "batch_1mc_peer.csv")],
         os.path.join(out, "batch_1mc_peer.csv")),
        ("xsell score, recency, 2 threads",
         xs(ev, None, 2, os.path.join(out, "batch_1mc_t2.csv")),
         os.path.join(out, "batch_1mc_t2.csv")),
    ]))


def run_once(cmd):
    tf = tempfile.NamedTemporaryFile(delete=False)
    tf.close()
    full = (["/usr/bin/time", "-v", "-o", tf.name] if gnu_time else []) + cmd
    t0 = time.monotonic()
    p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, err = p.communicate()
    wall = time.monotonic() - t0
    if p.returncode:
        sys.exit("run_batch: %s failed:\n%s" % (shlex.join(cmd), err.decode()))
    rss_kb = 0
    if gnu_time:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                      open(tf.name).read())
        rss_kb = int(m.group(1))
    else:
        import resource
        rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    os.unlink(tf.name)
    return wall, rss_kb


def rows_by_customer(path):
    """(customer, [(item, score)]) in file order."""
    with open(path, newline="") as f:
        r = csv.reader(f)
        next(r)
        for cust, group in itertools.groupby(r, key=lambda row: row[0]):
            yield cust, [(row[2], float(row[3])) for row in group]


def same_scores(la, lb):
    sa, sb = sorted(s for _, s in la), sorted(s for _, s in lb)
    return len(sa) == len(sb) and all(
        abs(x - y) <= 1e-9 * max(abs(x), abs(y)) for x, y in zip(sa, sb))


def agreement(a_path, b_path):
    """Customers with the same list; with lists that differ only among
    equal scores (the same sorted scores, items ordered or cut at rank k
    differently); and the rest.  The files are read side by side (both
    list customers in first-appearance order; the few out of step wait in
    a dict)."""
    same = ties = other = 0
    wait_a, wait_b = {}, {}
    for pa, pb in itertools.zip_longest(rows_by_customer(a_path),
                                        rows_by_customer(b_path)):
        pairs = []
        for p, mine, theirs in ((pa, wait_a, wait_b), (pb, wait_b, wait_a)):
            if p is None:
                continue
            if p[0] in theirs:
                pairs.append((p[1], theirs.pop(p[0])))
            else:
                mine[p[0]] = p[1]
        for la, lb in pairs:
            if [i for i, _ in la] == [i for i, _ in lb]:
                same += 1
            elif same_scores(la, lb):
                ties += 1
            else:
                other += 1
    return same, ties, other + len(wait_a) + len(wait_b)


results = []
for store, runs in stores:
    times = {label: [] for label, _, _ in runs}
    rss = {label: 0 for label, _, _ in runs}
    n_rounds = 1 if "1,000,000" in store else rounds
    for rnd in range(n_rounds):
        for label, cmd, _ in runs:
            wall, kb = run_once(cmd)
            times[label].append(wall)
            rss[label] = max(rss[label], kb)
            print("%s | %s | round %d: %.2f s, %.0f MB" % (
                store, label, rnd + 1, wall, kb / 1024), file=sys.stderr)
    peer_label, _, peer_out = runs[0]
    pw, pr = statistics.median(times[peer_label]), rss[peer_label]
    rows = []
    for label, cmd, dest in runs:
        w = statistics.median(times[label])
        agree = None if label == peer_label else agreement(peer_out, dest)
        rows.append((label, cmd, times[label], w, rss[label], pw / w,
                     rss[label] / pr if pr else 0, agree))
    same_bytes = None
    outs = [dest for label, _, dest in runs if "threads" in label]
    if len(outs) == 2:
        same_bytes = open(outs[0], "rb").read() == open(outs[1], "rb").read()
    results.append((store, rows, same_bytes))

with open(os.path.join(out, "batch-results.md"), "w") as f:
    f.write("Written by `bench/batch/run.sh %s` on %s, %d CPU(s): %d rounds"
            "%s, interleaved (peer, then xsell); medians of the whole "
            "process's wall time; RSS is the largest peak (%s).\n\n"
            % (os.environ["ARGS"],
               time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               os.cpu_count(), rounds,
               " (1 on the 1,000,000-customer store)" if len(stores) > 1
               else "",
               "/usr/bin/time -v" if gnu_time else "wait4 rusage"))
    for store, rows, same_bytes in results:
        f.write("**%s**, k = 10\n\n" % store)
        f.write("| | wall s (rounds) | median s | peak RSS MB | "
                "faster than the peer | memory / peer | same top-k as "
                "the peer |\n|---|---|---:|---:|---:|---:|---|\n")
        for label, cmd, ts, w, kb, speed, mem, agree in rows:
            ag = "" if agree is None else (
                "%d same, %d tie order, %d other" % agree)
            f.write("| %s | %s | %.2f | %.0f | %s | %s | %s |\n" % (
                label, ", ".join("%.2f" % t for t in ts), w, kb / 1024,
                "1" if agree is None else "**%.2fx**" % speed,
                "1" if agree is None else "**%.2fx**" % mem, ag))
        if same_bytes is not None:
            f.write("\nxsell with 1 and 2 threads: %s output.\n"
                    % ("the same bytes of" if same_bytes else "DIFFERENT"))
        f.write("\n")
    f.write("Commands:\n\n```sh\n")
    for store, rows, _ in results:
        for label, cmd, *_ in rows:
            f.write(shlex.join(cmd) + "\n")
    f.write("```\n")
print(open(os.path.join(out, "batch-results.md")).read())
PY
