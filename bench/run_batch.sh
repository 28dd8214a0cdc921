#!/bin/sh
# Batch scoring throughput: `xsell score` over every customer of a store.
#
#   bench/run_batch.sh [ROUNDS] [BUILD_DIR] [big]   (defaults: 3, build)
#
# MovieLens small (ml-latest-small-ratings.csv, 610 users, 9,724 movies),
# recency plugin, k = 10, --threads 1 and 2; ROUNDS runs each, the median
# wall time (whole process: load + tables + scoring), the median scoring
# time and customers/s from xsell's own summary line, and the peak RSS
# (/usr/bin/time -v when installed, else the child's rusage from wait4).
# With a third argument `big`, also the generated 1,000,000-customer store
# (bench/out/store1mc, generated once) with the blend, one round each
# (about 13 minutes per run with 2 threads on 2 cores, 2.2 GB RSS).
# Results: bench/out/batch-results.md (overwritten; copy the table into bench/RESULTS.md); outputs under bench/out.
set -eu
rounds=${1:-3}
build=${2:-build}
big=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
cd "$(dirname "$here")"
out=bench/out
mkdir -p "$out" docs
xsell=$build/bin/xsell
ml=../shared/data/ml-latest-small-ratings.csv
[ -f "$ml" ] || { echo "run_batch.sh: $ml missing" >&2; exit 77; }
if [ "$big" = big ] && [ ! -f "$out/store1mc/events.csv" ]; then
    "$xsell" gen --customers 1000000 --items 100000 --orders 3000000 \
        --seed 7 --out "$out/store1mc"
fi
XSELL="$xsell" ML="$ml" ROUNDS="$rounds" BIG="$big" OUT="$out" \
    /usr/bin/python3 - <<'PY'
import os, re, shlex, statistics, subprocess, sys, tempfile, time

xsell, ml, rounds, out = (os.environ["XSELL"], os.environ["ML"],
                          int(os.environ["ROUNDS"]), os.environ["OUT"])
gnu_time = os.access("/usr/bin/time", os.X_OK)
configs = []
for t in (1, 2):
    configs.append(("ml-latest-small, recency, k=10, threads %d" % t,
                    [xsell, "score", "--events", ml, "--columns",
                     "customer=userId,item=movieId,weight=rating",
                     "--plugin", "recency", "--k", "10", "--threads", str(t),
                     "--out", os.path.join(out, "batch_ml_t%d.csv" % t)]))
if os.environ.get("BIG") == "big":
    store = os.path.join(out, "store1mc")
    for t in (1, 2):
        configs.append(("store1mc (1M customers), blend, k=10, threads %d" % t,
                        [xsell, "score", "--events",
                         os.path.join(store, "events.csv"), "--catalog",
                         os.path.join(store, "catalog.csv"), "--k", "10",
                         "--threads", str(t), "--out",
                         os.path.join(out, "batch_1mc_t%d.csv" % t)]))

summary_re = re.compile(r"(\d+) customers scored.*load ([\d.]+) s, "
                        r"scoring ([\d.]+) s, (\d+) customers/s")

def run_once(cmd):
    tf = tempfile.NamedTemporaryFile(delete=False)
    tf.close()
    full = (["/usr/bin/time", "-v", "-o", tf.name] if gnu_time else []) + cmd
    t0 = time.monotonic()
    p = subprocess.Popen(full, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err = p.stderr.read().decode()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        sys.exit("run_batch: %s failed:\n%s" % (shlex.join(cmd), err))
    rss_kb = ru.ru_maxrss  # the child; /usr/bin/time's own when wrapped
    if gnu_time:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                      open(tf.name).read())
        rss_kb = int(m.group(1))
    os.unlink(tf.name)
    m = summary_re.search(err)
    return (wall, int(m.group(1)), float(m.group(2)), float(m.group(3)),
            rss_kb)

rows = []
for label, cmd in configs:
    runs = [run_once(cmd) for _ in range(1 if "store1mc" in label else rounds)]
    wall = statistics.median(r[0] for r in runs)
    n = runs[0][1]
    load = statistics.median(r[2] for r in runs)
    scoring = statistics.median(r[3] for r in runs)
    rss = max(r[4] for r in runs)
    rows.append((label, cmd, wall, n, load, scoring, rss))
    print("%-55s wall %.3f s  scoring %.3f s  %.0f customers/s (scoring) "
          "%.0f customers/s (wall)  RSS %.1f MB" % (label, wall, scoring,
          n / scoring if scoring else 0, n / wall, rss / 1024),
          file=sys.stderr)

# outputs with 1 and 2 threads must be the same bytes
same = []
for pre in ("batch_ml", "batch_1mc"):
    a, b = (os.path.join(out, "%s_t%d.csv" % (pre, t)) for t in (1, 2))
    if os.path.exists(a) and os.path.exists(b):
        same.append("%s: %s" % (pre, "identical" if open(a, "rb").read() ==
                                open(b, "rb").read() else "DIFFERENT"))

with open("bench/out/batch-results.md", "w") as f:
    f.write("# Batch scoring (`xsell score`) results\n\n")
    f.write("Written by `bench/run_batch.sh` on %s, %d CPU(s), %d rounds "
            "(medians; RSS is the largest peak, from %s).\n\n"
            % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               os.cpu_count(), rounds,
               "/usr/bin/time -v" if gnu_time else "wait4 rusage"))
    f.write("wall = the whole process (load, tables, plugins, scoring, "
            "writing); scoring = xsell's own figure for the scoring and "
            "writing phase.\n\n")
    f.write("| run | customers | wall s | load s | scoring s | customers/s "
            "(scoring) | customers/s (wall) | peak RSS MB |\n")
    f.write("|---|---:|---:|---:|---:|---:|---:|---:|\n")
    for label, cmd, wall, n, load, scoring, rss in rows:
        f.write("| %s | %d | %.3f | %.3f | %.3f | %.0f | %.0f | %.1f |\n"
                % (label, n, wall, load, scoring,
                   n / scoring if scoring else 0, n / wall, rss / 1024))
    f.write("\nCommands:\n\n```sh\n")
    for label, cmd, *_ in rows:
        f.write(shlex.join(cmd) + "\n")
    f.write("```\n\nOutput with --threads 1 and 2: %s.\n" % "; ".join(same))
print("wrote bench/out/batch-results.md", file=sys.stderr)
PY
