"""xscli.py -- what the command-line tests share: running xsell, recording
failures, temporary files, and an independent brute-force model of the
baskets (item counts, pair counts, arules' thresholds) in plain Python.

Every test script is run by ctest as

    /usr/bin/python3 tests/cli/SCRIPT.py PATH/TO/xsell [args]

with the environment of tests/cli.cmake (XS_TEST_DATA, XS_SHARED_DATA,
XS_SOURCE_DIR, XS_PLUGIN_DIR, XS_TEST_PLUGIN_DIR, ...).  A script exits 0
when every check passed, 1 when one failed (each failure printed), 77 to be
reported as skipped.
"""
import atexit
import csv
import io
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

DBL_EPSILON = sys.float_info.epsilon
SKIP = 77


class Checker:
    def __init__(self, name):
        self.name = name
        self.failures = 0
        if len(sys.argv) < 2:
            print("usage: %s PATH/TO/xsell" % sys.argv[0], file=sys.stderr)
            sys.exit(1)
        self.xsell = sys.argv[1]
        self.args = sys.argv[2:]
        self.tmp = tempfile.mkdtemp(prefix="xsell_%s_" % name)
        atexit.register(self.cleanup)  # also when a check raises
        self.env = dict(os.environ)
        self.env.pop("XSELL_PLUGIN_PATH", None)
        self.env["LC_ALL"] = "C"

    # -- environment ------------------------------------------------------
    def getenv(self, key):
        v = os.environ.get(key)
        if not v:
            print("%s: %s is not set (ctest sets it)" % (self.name, key),
                  file=sys.stderr)
            self.cleanup()
            sys.exit(1)
        return v

    def data(self, *parts):
        return os.path.join(self.getenv("XS_TEST_DATA"), *parts)

    def source(self, *parts):
        return os.path.join(self.getenv("XS_SOURCE_DIR"), *parts)

    def write(self, name, content, mode="w"):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, mode) as f:
            f.write(content)
        return path

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- running ----------------------------------------------------------
    def run(self, args, env=None, timeout=60):
        """Runs xsell with args; returns (exit code, stdout, stderr)."""
        e = dict(self.env)
        if env:
            for k, v in env.items():
                if v is None:
                    e.pop(k, None)
                else:
                    e[k] = v
        try:
            p = subprocess.run([self.xsell] + list(args), env=e,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail("timed out: xsell %s" % " ".join(args))
            return -1, "", ""
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode < 0:
            self.fail("xsell %s: killed by signal %d\nstderr: %s"
                      % (" ".join(args), -p.returncode, err))
        return p.returncode, out, err

    def expect(self, args, code, stdout_has=(), stderr_has=(), env=None,
               label=None):
        """Runs xsell and checks its exit code and output fragments.
        Returns (code, stdout, stderr)."""
        rc, out, err = self.run(args, env=env)
        what = label or "xsell " + " ".join(args)
        self.check(rc == code, "%s: exit %d, want %d\n  stdout: %s\n  "
                   "stderr: %s" % (what, rc, code, out[:500], err[:500]))
        for s in ([stdout_has] if isinstance(stdout_has, str) else stdout_has):
            self.check(s in out, "%s: stdout lacks %r\n  stdout: %s"
                       % (what, s, out[:800]))
        for s in ([stderr_has] if isinstance(stderr_has, str) else stderr_has):
            self.check(s in err, "%s: stderr lacks %r\n  stderr: %s"
                       % (what, s, err[:800]))
        return rc, out, err

    def json_of(self, args, label=None, env=None):
        """Runs xsell, expects exit 0 and one JSON document on stdout."""
        rc, out, err = self.run(args, env=env)
        what = label or "xsell " + " ".join(args)
        self.check(rc == 0, "%s: exit %d\n  stderr: %s" % (what, rc, err))
        try:
            return json.loads(out)
        except ValueError as ex:
            self.fail("%s: stdout is not JSON (%s): %s" % (what, ex, out[:500]))
            return None

    # -- verdicts ---------------------------------------------------------
    def fail(self, msg):
        self.failures += 1
        print("FAIL: " + msg, file=sys.stderr)

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)
        return bool(cond)

    def close(self, got, want, rel=1e-12, what=""):
        ok = got == want or (isinstance(got, (int, float)) and
                             abs(got - want) <= rel * abs(want))
        return self.check(ok, "%s: got %r, want %r" % (what, got, want))

    def finish(self):
        self.cleanup()
        if self.failures:
            print("%s: %d failure(s)" % (self.name, self.failures),
                  file=sys.stderr)
            sys.exit(1)
        print("%s: all passed" % self.name)
        sys.exit(0)

    def skip(self, why):
        self.cleanup()
        print("%s: skipped: %s" % (self.name, why))
        sys.exit(SKIP)


# -- the brute force -------------------------------------------------------

class Baskets:
    """Transactions as sets of item names, plus the counts everything is
    computed from.  ids: item -> dense id in order of first appearance (the
    order xsell interns them)."""

    def __init__(self, transactions, ids):
        self.t = transactions
        self.n = len(transactions)
        self.ids = ids
        self.count = {}
        for t in transactions:
            for a in t:
                self.count[a] = self.count.get(a, 0) + 1
        self._pairs = None
        self._pairs_min = None

    def pairs(self, min_item_count=1):
        """Pair counts {(a, b): n_ab} with a != b, both directions, over
        items seen at least min_item_count times (a pair is never more
        frequent than its items, so this prunes nothing that passes a
        threshold of min_item_count)."""
        if self._pairs is not None and self._pairs_min <= min_item_count:
            return self._pairs
        p = {}
        for t in self.t:
            s = sorted(a for a in t if self.count[a] >= min_item_count)
            for i in range(len(s)):
                a = s[i]
                for j in range(i + 1, len(s)):
                    k = (a, s[j])
                    p[k] = p.get(k, 0) + 1
        both = {}
        for (a, b), c in p.items():
            both[(a, b)] = c
            both[(b, a)] = c
        self._pairs, self._pairs_min = both, min_item_count
        return both

    def min_count(self, min_support):
        """arules: ceil(minsupp * N * (1 - DBL_EPSILON)), at least 1."""
        return max(1, math.ceil(min_support * self.n * (1 - DBL_EPSILON)))

    def lift(self, a, b, n_ab):
        return n_ab * self.n / (self.count[a] * self.count[b])

    def rules(self, min_support, min_confidence):
        """{(lhs, rhs): (support, confidence, lift, count)} as arules'
        apriori with minlen = maxlen = 2."""
        mc = self.min_count(min_support)
        out = {}
        for (a, b), c in self.pairs(mc).items():
            if c < mc:
                continue
            conf = c / self.count[a]
            if conf < min_confidence - 1e-12:
                continue
            out[(a, b)] = (c / self.n, conf, self.lift(a, b, c), c)
        return out

    def neighbours(self, a, min_count=1):
        """{b: n_ab} for the rule a -> b."""
        return {b: c for (x, b), c in self.pairs().items()
                if x == a and c >= min_count}


def _add(ids, name):
    if name not in ids:
        ids[name] = len(ids)


def read_baskets(path):
    """One basket per line, comma separated, RFC 4180 quotes; blank lines
    skipped; an item repeated in a line counts once."""
    ts, ids = [], {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.reader(f):
            row = [x.strip() for x in row]
            if not row or all(x == "" for x in row):
                continue
            for x in row:
                _add(ids, x)
            ts.append(frozenset(row))
    return Baskets(ts, ids)


def read_events(path, scope="basket"):
    """Events CSV with header customer,item[,...,order]: transactions per
    order (basket scope) or per customer."""
    groups, order, ids = {}, [], {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        r = csv.DictReader(f)
        key = "order" if scope == "basket" else "customer"
        for row in r:
            _add(ids, row["item"])
            g = row[key]
            if g not in groups:
                groups[g] = set()
                order.append(g)
            groups[g].add(row["item"])
    return Baskets([frozenset(groups[g]) for g in order], ids)


def parse_rules_csv(text):
    """xsell rules --format csv -> (header, {(lhs, rhs): (s, c, l, n)},
    rows in order)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return None, {}, []
    header, body = rows[0], rows[1:]
    rules, order = {}, []
    for r in body:
        key = (r[0], r[1])
        rules[key] = (float(r[2]), float(r[3]), float(r[4]), int(r[5]))
        order.append(key)
    return header, rules, order


def compare_rules(ck, label, got, want, rel=1e-12):
    """Same set of rules, every value within rel, counts exact."""
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    ck.check(not missing, "%s: %d rule(s) missing, e.g. %s"
             % (label, len(missing), missing[:5]))
    ck.check(not extra, "%s: %d unexpected rule(s), e.g. %s"
             % (label, len(extra), extra[:5]))
    bad = 0
    for k in set(got) & set(want):
        g, w = got[k], want[k]
        ok = g[3] == w[3] and all(abs(g[i] - w[i]) <= rel * abs(w[i])
                                  for i in range(3))
        if not ok:
            bad += 1
            if bad <= 5:
                ck.fail("%s: rule %s -> %s: got %r, want %r"
                        % (label, k[0], k[1], g, w))
    ck.check(bad == 0, "%s: %d rule(s) with wrong values" % (label, bad))


def brute_itemset_rules(baskets, ms, mc, max_len):
    """Every rule L -> r with |L| + 1 <= max_len of baskets (lists of
    distinct names in name order) by counting every subset, with arules'
    thresholds: {(lhs tuple in name order, rhs): (support, confidence,
    lift, count)}."""
    n = len(baskets)
    minc = max(1, math.ceil(ms * n * (1 - sys.float_info.epsilon)))
    single = {}
    for b in baskets:
        for x in b:
            single[x] = single.get(x, 0) + 1
    count = {}
    for b in baskets:
        f = [x for x in b if single[x] >= minc]
        for k in range(1, max_len + 1):
            for c in itertools.combinations(f, k):
                count[c] = count.get(c, 0) + 1
    rules = {}
    for x, cx in count.items():
        if len(x) < 2 or cx < minc:
            continue
        for r in x:
            lhs = tuple(i for i in x if i != r)
            conf = cx / count[lhs]
            if conf >= mc - 1e-12:
                rules[(lhs, r)] = (cx / n, conf, cx * n / (count[lhs] *
                                                           single[r]), cx)
    return rules
