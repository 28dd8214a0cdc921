"""cli_interrupt.py -- nothing half-written: every command that writes a
file (score --out, segment --out and --report, rules --out, eval
--save-split) writes a temporary beside it and renames it when complete;
SIGINT and SIGTERM meanwhile remove the temporary, print "interrupted" and
exit 130 / 143.

Each command is interrupted mid-run, deterministically: with
XSELL_TEST_HOLD_OUTPUT the command holds before its rename, the whole
output in the temporary, and the test signals it once the temporary
exists.  Afterwards the target is either absent (there was none) or the
previous complete file, and no temporary is left.  One more run signals
`score` on a generated store while it writes, with no hold: whatever the
moment, the file is absent, or complete (the command had finished).
"""
import glob
import os
import signal
import subprocess
import time

from xscli import Checker

ck = Checker("cli_interrupt")
PREVIOUS = "previous,complete,file\n"


def temporaries(directory):
    return glob.glob(os.path.join(directory, ".*.tmp-*"))


def interrupt(label, args, target, sig, previous, watch_dir=None):
    """Runs xsell args holding before the rename, signals it once a
    temporary exists in target's directory, and checks the outcome."""
    directory = watch_dir or os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    if previous:
        with open(target, "w") as f:
            f.write(PREVIOUS)
    elif os.path.exists(target):
        os.unlink(target)
    env = dict(ck.env)
    env["XSELL_TEST_HOLD_OUTPUT"] = "60"
    p = subprocess.Popen([ck.xsell] + args, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while not temporaries(directory) and p.poll() is None and \
            time.time() < deadline:
        time.sleep(0.01)
    seen = temporaries(directory)
    ck.check(seen, "%s: no temporary appeared beside %s" % (label, target))
    if p.poll() is None:
        p.send_signal(sig)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    err = err.decode("utf-8", "replace")
    want = 128 + sig
    ck.check(p.returncode == want, "%s: exit %s, want %d\n  stderr: %s"
             % (label, p.returncode, want, err))
    ck.check("interrupted" in err, "%s: stderr lacks 'interrupted': %r"
             % (label, err))
    if previous:
        got = open(target).read() if os.path.exists(target) else None
        ck.check(got == PREVIOUS, "%s: the previous file was not kept: %r"
                 % (label, (got or "")[:200]))
    else:
        ck.check(not os.path.exists(target), "%s: %s exists after the "
                 "interrupt" % (label, target))
    ck.check(not temporaries(directory), "%s: temporaries left: %s"
             % (label, temporaries(directory)))


def main():
    d = ck.tmp
    score_events = ck.data("score", "events.csv")
    seg_events = ck.data("segment", "events.csv")
    baskets = ck.data("cli", "small_baskets.csv")
    eval_events = ck.data("eval", "events.csv")
    cases = [
        ("score", ["score", "--events", score_events, "--out",
                   os.path.join(d, "score", "top.csv")],
         os.path.join(d, "score", "top.csv")),
        ("segment table", ["segment", "--events", seg_events, "--out",
                           os.path.join(d, "seg", "table.csv")],
         os.path.join(d, "seg", "table.csv")),
        ("segment report", ["segment", "--events", seg_events, "--out", "-",
                            "--report", os.path.join(d, "rep", "r.html")],
         os.path.join(d, "rep", "r.html")),
        ("rules", ["rules", "--baskets", baskets, "--min-support", "0.01",
                   "--min-confidence", "0", "--out",
                   os.path.join(d, "rules", "rules.csv")],
         os.path.join(d, "rules", "rules.csv")),
        ("eval --save-split", ["eval", "--events", eval_events,
                               "--save-split", os.path.join(d, "split")],
         os.path.join(d, "split", "train.csv")),
    ]
    for label, args, target in cases:
        for sig in (signal.SIGINT, signal.SIGTERM):
            for previous in (False, True):
                interrupt("%s, %s, %s" % (label, sig.name,
                                          "previous file" if previous
                                          else "no file"),
                          args, target, sig, previous)
        # and uninterrupted the file is written whole, no temporary left
        if os.path.exists(target):
            os.unlink(target)
        rc, out, err = ck.run(args)
        ck.check(rc == 0 and os.path.exists(target),
                 "%s: exit %d, file %s\n  stderr: %s"
                 % (label, rc, os.path.exists(target), err))
        ck.check(not temporaries(os.path.dirname(target)),
                 "%s: temporaries left after success" % label)
    # rules --out: the same bytes as on stdout
    rules_file = os.path.join(d, "rules", "rules.csv")
    rc, out, err = ck.run(["rules", "--baskets", baskets, "--min-support",
                           "0.01", "--min-confidence", "0"])
    ck.check(rc == 0 and open(rules_file).read() == out,
             "rules --out differs from stdout")

    # an error keeps the previous file: a missing directory, a bad input
    with open(rules_file, "w") as f:
        f.write(PREVIOUS)
    bad = ck.write("bad.csv", "a,b\n,\n")
    ck.expect(["rules", "--baskets", bad, "--out", rules_file], 1,
              stderr_has="bad.csv:2")
    ck.check(open(rules_file).read() == PREVIOUS,
             "rules: a failed load replaced the previous file")
    ck.expect(["score", "--events", score_events, "--out",
               os.path.join(d, "no", "such", "dir", "x.csv")], 1,
              stderr_has="x.csv")

    # a real mid-run signal, no hold: score on a generated store
    store = os.path.join(d, "store")
    rc, _, err = ck.run(["gen", "--customers", "20000", "--items", "2000",
                         "--orders", "60000", "--out", store], timeout=120)
    ck.check(rc == 0, "gen: %s" % err)
    target = os.path.join(d, "live", "top.csv")
    os.makedirs(os.path.dirname(target))
    p = subprocess.Popen([ck.xsell, "score", "--events",
                          os.path.join(store, "events.csv"), "--threads", "1",
                          "--k", "20", "--out", target], env=ck.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while p.poll() is None and time.time() < deadline:
        t = temporaries(os.path.dirname(target))
        if t and os.path.getsize(t[0]) > 0:
            break
        time.sleep(0.002)
    interrupted = p.poll() is None
    if interrupted:
        p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    err = err.decode("utf-8", "replace")
    if p.returncode == 143:
        ck.check("interrupted" in err, "live score: %r" % err)
        ck.check(not os.path.exists(target), "live score: a file after "
                 "the interrupt")
    elif ck.check(p.returncode == 0, "live score: exit %s: %s"
                  % (p.returncode, err)):
        lines = open(target).read().splitlines()
        ck.check(lines and lines[0].startswith("customer,"),
                 "live score: not a complete file")
        print("live score: finished before the signal (%s); the file is "
              "whole" % ("signal sent" if interrupted else "no signal"))
    ck.check(not temporaries(os.path.dirname(target)),
             "live score: temporaries left")
    ck.finish()


main()
