"""cli_blend.py -- `xsell recommend` with the blend, the built-in plugins,
the business rules and the plugin settings (--plugins, --plugin-opt, --set,
--config), end to end on the sample store (examples/data).

  - `--plugin blend` (default plugins with --catalog: copurchase, upsell,
    recency, popular) answers exactly what `xsell serve` answers for the same
    request (asked with `xsell query`), and what the documented method
    gives from the plugins' own CLI answers (each list normalised by its
    top score, summed with weights 1, popular 0.25, upsell 0, copurchase 0
    for a customer without items, the k best kept, '+'-joined names in
    load order; weight.upsell and weight.copurchase.customer as set);
  - `--plugin upsell|recency|popular`: items named by their plugin;
    `--explain` gives each plugin's evidence fields, with values checked
    where the data define them (upsell's from, category, price ratio and
    delta from catalog.csv; recency's half-life; popular's popularity =
    event count, rank, category); popular's ranking is the event counts of
    events.csv; upsell without --catalog: exit 1 naming the catalog;
  - `--category NAME`: only that category (popular: exactly its eligible
    items); unknown: exit 2 naming it; without --catalog: exit 2;
  - `--customer`: owned items dropped, `--keep-owned` (or --set
    exclude_owned=false) keeps them, --set rebuy=CAT keeps those of CAT; `--customer` alone works; an unknown
    customer alone gets popular's answer from the blend (0.25 x normalised
    by default; fill scores 0.5 x normalised with weight.popular=0), nothing
    with --set fill=none and weight.popular=0;
  - `--config FILE` (plugins, plugin options, engine settings, comments,
    blank lines) = the equivalent command line, whose options win; the
    blend's weight is applied (scores 2 x normalised jaccard, computed
    here); file errors exit 2 with FILE:LINE (1 for a missing file);
  - plugins refusing options (`recency.half_life=0`, `upsell.nope=1`):
    exit 1 with the plugin's message; `--plugin-opt other.x=1`: exit 2,
    "not loaded"; bad --set values: exit 2.
"""
import csv
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import xscli  # noqa: E402

ck = xscli.Checker("cli_blend")
EV = ck.source("examples", "data", "events.csv")
CAT = ck.source("examples", "data", "catalog.csv")
if not os.path.exists(EV) or not os.path.exists(CAT):
    ck.fail("no sample data %s" % EV)
    ck.finish()
D = ["--events", EV, "--catalog", CAT]
PLUGINS = ["copurchase", "upsell", "recency", "popular"]
REL = 1e-9

CATALOG = {}
with open(CAT, newline="") as f:
    for row in csv.DictReader(f):
        CATALOG[row["item"]] = row
BOUGHT = {}
EVENTS_OF = {}
FIRST = {}       # item -> order of first appearance (the interned id)
with open(EV, newline="") as f:
    for row in csv.DictReader(f):
        BOUGHT.setdefault(row["customer"], set()).add(row["item"])
        EVENTS_OF[row["item"]] = EVENTS_OF.get(row["item"], 0) + 1
        FIRST.setdefault(row["item"], len(FIRST))
BASKETS = xscli.read_events(EV, "basket")


def in_stock(item):
    r = CATALOG.get(item)
    return r is None or r["in_stock"] != "0"


def close(a, b, rel=REL):
    return a == b or (isinstance(a, (int, float)) and
                      abs(a - b) <= rel * max(abs(a), abs(b), 1e-300))


A = "P000030"
C = "C001462"
B = "P000251"
UNKNOWN = "NO-SUCH-CUSTOMER"


def rec(label, *args, data=D):
    """The items of `xsell recommend DATA ARGS --format json` (None when it
    failed)."""
    doc = ck.json_of(["recommend"] + list(data) + list(args) +
                     ["--format", "json"], label=label)
    if not ck.check(isinstance(doc, dict) and list(doc) == ["items"] and
                    isinstance(doc["items"], list),
                    "%s: json %r" % (label, doc)):
        return None
    for x in doc["items"]:
        ck.check(isinstance(x.get("item"), str) and
                 isinstance(x.get("score"), (int, float)) and
                 isinstance(x.get("plugin"), str),
                 "%s: item %r" % (label, x))
    return doc["items"]


def evidence(x):
    return [(k, v) for k, v in x.items() if k not in ("item", "score",
                                                      "plugin")]


def same_items(label, got, want):
    """Item for item: name, plugin, evidence equal, scores within REL."""
    if got is None or want is None:
        return
    ck.check([x["item"] for x in got] == [x["item"] for x in want],
             "%s: items\n  got  %s\n  want %s"
             % (label, [x["item"] for x in got], [x["item"] for x in want]))
    for g, w in zip(got, want):
        ck.check(g["plugin"] == w["plugin"] and close(g["score"], w["score"])
                 and [k for k, _ in evidence(g)] == [k for k, _ in evidence(w)]
                 and all(close(a, b) if isinstance(b, (int, float)) else a == b
                         for (_, a), (_, b) in zip(evidence(g), evidence(w))),
                 "%s: %s\n  got  %s\n  want %s" % (label, g["item"], g, w))


def normalise(lst):
    if not lst:
        return {}
    s = [x["score"] for x in lst]
    mx, mn = max(s), min(s)
    return {x["item"]: (x["score"] / mx if mn >= 0 and mx > 0 else
                        (x["score"] - mn) / (mx - mn) if mx > mn else 1.0)
            for x in lst}


def blend_model(label, args, k, weights):
    """{item: score}, {item: names} from each plugin asked alone."""
    m = min(max(2 * k, k + 10), 1000)
    parts = {}
    # the engine's settings (--set) are the blend's; a plugin alone is
    # asked without them
    alone = [a for i, a in enumerate(args)
             if a != "--set" and (i == 0 or args[i - 1] != "--set")]
    for p in PLUGINS:
        if weights.get(p, 0) <= 0:
            continue
        lst = rec("%s: %s alone" % (label, p), "--plugin", p, "--k", str(m),
                  *alone)
        for x in lst or []:
            ck.check(x["plugin"] == p, "%s: %s alone names %r"
                     % (label, p, x["plugin"]))
        for item, v in normalise(lst).items():
            parts.setdefault(item, []).append((p, weights[p] * v))
    score = {}
    for item, ps in list(parts.items()):
        s = 0.0
        for _, v in ps:
            s += v
        if s > 0:  # items scoring 0 are left out of the blend
            score[item] = s
        else:
            del parts[item]
    return score, {i: "+".join(p for p, _ in ps) for i, ps in parts.items()}


def check_against_model(label, got, score, names, k):
    if got is None:
        return
    want = sorted(score.values(), reverse=True)[:k]
    ck.check(len(got) == len(want), "%s: %d items, want %d"
             % (label, len(got), len(want)))
    for i, x in enumerate(got[:len(want)]):
        if not ck.check(x["item"] in score, "%s: %s in no plugin's list"
                        % (label, x["item"])):
            continue
        ck.check(close(x["score"], score[x["item"]]) and
                 close(x["score"], want[i]),
                 "%s: #%d %s scores %r, model %r (the model's #%d: %r)"
                 % (label, i + 1, x["item"], x["score"], score[x["item"]],
                    i + 1, want[i]))
        ck.check(x["plugin"] == names[x["item"]], "%s: %s plugin %r, want %r"
                 % (label, x["item"], x["plugin"], names[x["item"]]))
    if want:
        kth = want[-1]
        have = {x["item"] for x in got}
        missed = [i for i, s in score.items()
                  if s > kth and not close(s, kth) and i not in have]
        ck.check(not missed, "%s: missing %s" % (label, missed[:5]))


# -- a server, for the blend as `xsell serve` answers it ---------------------

class Serve:
    def __init__(self):
        self.port = os.path.join(ck.tmp, "port")
        self.errf = open(os.path.join(ck.tmp, "serve.err"), "wb")
        self.p = subprocess.Popen(
            [ck.xsell, "serve"] + D +
            ["--bind", "tcp://127.0.0.1:*", "--port-file", self.port,
             "--threads", "1", "--plugins", ",".join(PLUGINS),
             "--default-plugin", "blend"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.errf, env=ck.env)
        self.ep = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.p.poll() is None:
            if os.path.exists(self.port):
                with open(self.port) as f:
                    self.ep = f.read().strip() or None
                if self.ep:
                    break
            time.sleep(0.02)

    def query(self, label, req):
        rc, out, err = ck.run(["query", "--connect", self.ep, "--timeout-ms",
                               "20000", "recommend", json.dumps(req)])
        if not ck.check(rc == 0, "%s: query exit %d: %s" % (label, rc, err)):
            return None
        try:
            doc = json.loads(out)
        except ValueError:
            ck.fail("%s: query printed %r" % (label, out[:300]))
            return None
        if not ck.check(doc.get("ok") is True and "items" in doc,
                        "%s: %s" % (label, out[:300])):
            return None
        return doc["items"]

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        self.errf.close()


def section_vs_server():
    srv = Serve()
    try:
        if not ck.check(srv.ep, "serve did not start"):
            return
        cases = [
            ("[A] + C", ["--items", A, "--customer", C, "--k", "10"],
             {"items": [A], "customer": C, "k": 10}),
            ("[A, B]", ["--items", "%s,%s" % (A, B), "--k", "7"],
             {"items": [A, B], "k": 7}),
            ("C alone", ["--customer", C, "--k", "8"],
             {"customer": C, "k": 8}),
            ("unknown customer", ["--customer", UNKNOWN, "--k", "6"],
             {"customer": UNKNOWN, "k": 6}),
            ("[A] in dairy", ["--items", A, "--category", "dairy", "--k",
                              "15"],
             {"items": [A], "category": "dairy", "k": 15}),
            ("[A] + C keeping owned", ["--items", A, "--customer", C,
                                       "--keep-owned", "--k", "12"],
             {"items": [A], "customer": C, "exclude_owned": False, "k": 12}),
            ("[A] + C explained", ["--items", A, "--customer", C, "--k", "10",
                                   "--explain"],
             {"items": [A], "customer": C, "k": 10, "explain": True}),
        ]
        for label, args, req in cases:
            got = rec("cli blend " + label, "--plugin", "blend", *args)
            want = srv.query("server blend " + label, req)
            same_items("blend %s: cli vs server" % label, got, want)
            # and the same explicitly: --plugins of the four
            got2 = rec("cli blend --plugins " + label, "--plugin", "blend",
                       "--plugins", ",".join(PLUGINS), *args)
            same_items("blend %s: default plugins vs --plugins" % label,
                       got2, got)
    finally:
        srv.stop()


def section_model():
    # the default weights: upsell answers its own slot (0), popular blends
    # a little (0.25), and a customer without items is recency's
    # (weight.copurchase.customer=0)
    w = {"copurchase": 1, "upsell": 0, "recency": 1, "popular": 0.25}
    wc = dict(w, copurchase=0)
    up = ["--set", "weight.upsell=1"]
    for label, args, k, ws in (
            ("[A] + C k=10", ["--items", A, "--customer", C], 10, w),
            ("[A, B] k=5", ["--items", "%s,%s" % (A, B)], 5, w),
            ("C alone k=10", ["--customer", C], 10, wc),
            ("[A] + C, upsell 1", ["--items", A, "--customer", C] + up, 10,
             dict(w, upsell=1)),
            ("C alone, upsell 1, copurchase.customer 0.5",
             ["--customer", C, "--set", "weight.copurchase.customer=0.5"] +
             up, 10, dict(w, upsell=1, copurchase=0.5)),
            ("[A] + C, copurchase.customer 0.5 (items: weight.copurchase)",
             ["--items", A, "--customer", C, "--set",
              "weight.copurchase.customer=0.5"], 10, w)):
        score, names = blend_model("model " + label, args, k, ws)
        got = rec("blend " + label, "--plugin", "blend", "--k", str(k),
                  *args)
        check_against_model("blend %s vs the model" % label, got, score,
                            names, k)
    # --set weight.recency=0: recency never named
    w0 = dict(w, recency=0)
    score, names = blend_model("model without recency", ["--items", A,
                                                        "--customer", C],
                               10, w0)
    got = rec("blend weight.recency=0", "--plugin", "blend", "--items", A,
              "--customer", C, "--k", "10", "--set", "weight.recency=0")
    check_against_model("blend weight.recency=0 vs the model", got, score,
                        names, 10)
    ck.check(got and all("recency" not in x["plugin"] for x in got),
             "blend weight.recency=0 names recency: %s" % got)


def section_plugins():
    # upsell
    got = rec("upsell [A] explained", "--plugin", "upsell", "--items", A,
              "--k", "10", "--explain")
    pa = float(CATALOG[A]["price"])
    if ck.check(got, "upsell [A]: no items"):
        for x in got:
            ck.check(list(x) == ["item", "score", "plugin", "from", "category",
                                 "price_delta", "price_ratio", "similarity",
                                 "margin_uplift"],
                     "upsell explained: keys %s" % list(x))
            ck.check(x["plugin"] == "upsell", "upsell: plugin %r"
                     % x["plugin"])
            r = CATALOG[x["item"]]
            ck.check(x.get("from") == A, "upsell %s: from %r" % (x["item"],
                                                               x.get("from")))
            ck.check(x.get("category") == CATALOG[A]["category"] ==
                     r["category"], "upsell %s: category %r, want %r"
                     % (x["item"], x.get("category"), CATALOG[A]["category"]))
            ck.check(close(x.get("price_ratio"), float(r["price"]) / pa),
                     "upsell %s: price_ratio %r, want %r"
                     % (x["item"], x.get("price_ratio"),
                        float(r["price"]) / pa))
            ck.check(close(x.get("price_delta"), float(r["price"]) - pa,
                           1e-6),
                     "upsell %s: price_delta %r, want %r"
                     % (x["item"], x.get("price_delta"),
                        float(r["price"]) - pa))
            ck.check(1.05 * pa * (1 - 1e-12) <= float(r["price"]) <=
                     2.5 * pa * (1 + 1e-12), "upsell %s: price %s outside "
                     "1.05..2.5 x %s" % (x["item"], r["price"], pa))
            ck.check(in_stock(x["item"]), "upsell %s: out of stock"
                     % x["item"])
    plain = rec("upsell [A]", "--plugin", "upsell", "--items", A, "--k", "10")
    if got and plain:
        ck.check([(x["item"], x["score"]) for x in plain] ==
                 [(x["item"], x["score"]) for x in got] and
                 all(list(x) == ["item", "score", "plugin"] for x in plain),
                 "upsell: unexplained differs: %s" % plain)
    ck.expect(["recommend", "--events", EV, "--plugin", "upsell", "--items",
               A], 1, stderr_has="catalog", label="upsell without --catalog")
    # recency, personal and basket
    got = rec("recency C explained", "--plugin", "recency", "--customer", C,
              "--k", "10", "--explain")
    if ck.check(got, "recency C: no items"):
        for x in got:
            ck.check(list(x) == ["item", "score", "plugin", "from", "affinity",
                                 "similarity", "age_days", "half_life_days"],
                     "recency personal explained: keys %s" % list(x))
            ck.check(x["plugin"] == "recency", "recency: plugin %r"
                     % x["plugin"])
            ck.check(x.get("from") in BOUGHT[C], "recency %s: from %r not "
                     "bought by %s" % (x["item"], x.get("from"), C))
            ck.check(x.get("half_life_days") == 365, "recency: half_life_days "
                     "%r" % x.get("half_life_days"))
            ck.check(x["item"] not in BOUGHT[C], "recency: owned %s"
                     % x["item"])
    got = rec("recency half_life=7", "--plugin", "recency", "--customer", C,
              "--k", "3", "--explain", "--plugin-opt", "recency.half_life=7")
    ck.check(got and all(x.get("half_life_days") == 7 for x in got),
             "recency.half_life=7: %s" % got)
    got = rec("recency [A] explained", "--plugin", "recency", "--items", A,
              "--k", "5", "--explain")
    if ck.check(got, "recency [A]: no items"):
        for x in got:
            ck.check(list(x) == ["item", "score", "plugin", "from",
                                 "decayed_count", "similarity"],
                     "recency basket explained: keys %s" % list(x))
            ck.check(x.get("from") == A, "recency [A]: from %r"
                     % x.get("from"))
    # popular: the event counts, best first, ties by first appearance
    got = rec("popular explained", "--plugin", "popular", "--customer",
              UNKNOWN, "--k", "15", "--explain")
    ranked = sorted((i for i in EVENTS_OF if in_stock(i)),
                    key=lambda i: (-EVENTS_OF[i], FIRST[i]))
    all_ranked = sorted(EVENTS_OF, key=lambda i: (-EVENTS_OF[i], FIRST[i]))
    if ck.check(got, "popular: no items"):
        ck.check([x["item"] for x in got] == ranked[:15],
                 "popular: items %s, want %s" % ([x["item"] for x in got],
                                                 ranked[:15]))
        for x in got:
            ck.check(list(x) == ["item", "score", "plugin", "popularity",
                                 "rank", "category"],
                     "popular explained: keys %s" % list(x))
            ck.check(x["plugin"] == "popular" and
                     x["score"] == EVENTS_OF[x["item"]] and
                     x.get("popularity") == EVENTS_OF[x["item"]],
                     "popular %s: %s, want popularity %d"
                     % (x["item"], x, EVENTS_OF[x["item"]]))
            ck.check(x.get("rank") == all_ranked.index(x["item"]) + 1,
                     "popular %s: rank %r, want %d"
                     % (x["item"], x.get("rank"),
                        all_ranked.index(x["item"]) + 1))
            ck.check(x.get("category") == CATALOG[x["item"]]["category"],
                     "popular %s: category %r" % (x["item"],
                                                  x.get("category")))


def section_rules():
    # --category
    for p in PLUGINS + ["blend"]:
        for cat in ("dairy", "wine"):
            got = rec("%s in %s" % (p, cat), "--plugin", p, "--items", A,
                      "--customer", C, "--category", cat, "--k", "100")
            for x in got or []:
                ck.check(CATALOG[x["item"]]["category"] == cat,
                         "%s --category %s: %s is %s"
                         % (p, cat, x["item"],
                            CATALOG[x["item"]]["category"]))
                ck.check(x["item"] != A and x["item"] not in BOUGHT[C] and
                         in_stock(x["item"]),
                         "%s --category %s: %s breaks a rule"
                         % (p, cat, x["item"]))
    got = rec("popular in wine", "--plugin", "popular", "--category", "wine",
              "--customer", C, "--k", "1000")
    want = {i for i, r in CATALOG.items() if r["category"] == "wine" and
            in_stock(i) and i in EVENTS_OF and i not in BOUGHT[C]}
    ck.check(got is not None and {x["item"] for x in got} == want,
             "popular --category wine: %s, want %s"
             % (sorted(x["item"] for x in got or []), sorted(want)))
    ck.expect(["recommend"] + D + ["--items", A, "--category",
                                   "no-such-cat"], 2,
              stderr_has="no-such-cat", label="--category unknown")
    ck.expect(["recommend"] + D + ["--items", A, "--plugin", "blend",
                                   "--category", "no-such-cat"], 2,
              stderr_has="no-such-cat", label="--category unknown (blend)")
    ck.expect(["recommend", "--events", EV, "--items", A, "--category",
               "dairy"], 2, stderr_has=["dairy", "--catalog"],
              label="--category without --catalog")
    # owned items: dropped with --customer, kept with --keep-owned
    anon = rec("popular anonymous", "--plugin", "popular", "--customer",
               UNKNOWN, "--k", "20")
    mine = rec("popular C", "--plugin", "popular", "--customer", C, "--k",
               "20")
    kept = rec("popular C --keep-owned", "--plugin", "popular", "--customer",
               C, "--keep-owned", "--k", "20")
    kept2 = rec("popular C exclude_owned=false", "--plugin", "popular",
                "--customer", C, "--set", "exclude_owned=false", "--k", "20")
    longer = rec("popular anonymous k=200", "--plugin", "popular",
                 "--customer", UNKNOWN, "--k", "200") or []
    ck.check(kept == anon, "popular --customer C --keep-owned differs from "
             "anonymous popular")
    ck.check(kept2 == anon, "popular --set exclude_owned=false differs from "
             "anonymous popular")
    ck.check(any(x["item"] in BOUGHT[C] for x in anon or []),
             "popular's top 20 holds none of C's items: nothing to test")
    ck.check(mine == [x for x in longer if x["item"] not in BOUGHT[C]][:20],
             "popular --customer C is not popular without C's items: %s"
             % [x["item"] for x in mine or []])
    # --set rebuy=CAT: owned items of CAT stay eligible, the others do not
    rb = next((CATALOG[x["item"]]["category"] for x in longer
               if x["item"] in BOUGHT[C]), "dairy")
    got = rec("popular C rebuy=%s" % rb, "--plugin", "popular", "--customer",
              C, "--set", "rebuy=%s" % rb, "--k", "20")
    ck.check(got == [x for x in longer if x["item"] not in BOUGHT[C] or
                     CATALOG[x["item"]]["category"] == rb][:20],
             "popular --customer C --set rebuy=%s: %s" % (
                 rb, [x["item"] for x in got or []]))
    ck.check(any(x["item"] in BOUGHT[C] for x in got or []),
             "--set rebuy=%s: no owned item of %s came back (nothing tested)"
             % (rb, rb))
    ck.expect(["recommend"] + D + ["--plugin", "popular", "--customer", C,
                                   "--set", "rebuy=no-such-cat"], 2,
              stderr_has="no-such-cat", label="--set rebuy=no-such-cat")
    for p in ("copurchase", "blend"):
        d = rec("%s [A] + C" % p, "--plugin", p, "--items", A, "--customer",
                C, "--k", "100")
        k = rec("%s [A] + C --keep-owned" % p, "--plugin", p, "--items", A,
                "--customer", C, "--keep-owned", "--k", "100")
        ck.check(d is not None and not any(x["item"] in BOUGHT[C] for x in d),
                 "%s [A] + C returns owned items" % p)
        ck.check(k is not None and any(x["item"] in BOUGHT[C] for x in k),
                 "%s [A] + C --keep-owned returns no owned item" % p)
    # --customer alone
    got = rec("blend C alone", "--plugin", "blend", "--customer", C, "--k",
              "10")
    ck.check(got and all(x["plugin"] != "popular" for x in got),
             "blend --customer C alone: %s" % got)
    # an unknown customer alone: popular's answer, blended at its weight
    # (0.25 x normalised) by default, filled (0.5 x normalised) when it
    # only fills
    got = rec("unknown customer, defaults", "--plugin", "blend",
              "--customer", UNKNOWN, "--k", "10")
    pop = rec("popular k=10", "--plugin", "popular", "--customer", UNKNOWN,
              "--k", "10")
    if got is not None and pop:
        ck.check([x["item"] for x in got] == [x["item"] for x in pop],
                 "unknown customer, defaults: %s, want popular's %s"
                 % ([x["item"] for x in got], [x["item"] for x in pop]))
        for x, p in zip(got, pop):
            ck.check(x["plugin"] == "popular" and
                     close(x["score"], 0.25 * p["score"] / pop[0]["score"]),
                     "unknown customer, defaults: %s, want plugin popular, "
                     "score 0.25 x %r / %r" % (x, p["score"], pop[0]["score"]))
    rc, out, err = ck.run(["recommend"] + D + ["--plugin", "blend",
                                              "--customer", UNKNOWN, "--k",
                                              "10", "--format", "json",
                                              "--set", "weight.popular=0"])
    ck.check(rc == 0 and UNKNOWN in err, "unknown customer: exit %d, "
             "stderr %r" % (rc, err))
    got = json.loads(out)["items"] if rc == 0 else None
    pop = rec("popular k=10", "--plugin", "popular", "--customer", UNKNOWN,
              "--k", "10")
    if got is not None and pop:
        ck.check([x["item"] for x in got] == [x["item"] for x in pop],
                 "unknown customer: %s, want popular's %s"
                 % ([x["item"] for x in got], [x["item"] for x in pop]))
        for x, p in zip(got, pop):
            ck.check(x["plugin"] == "popular" and
                     close(x["score"], 0.5 * p["score"] / pop[0]["score"]),
                     "unknown customer: %s, want plugin popular, score "
                     "0.5 x %r / %r" % (x, p["score"], pop[0]["score"]))
    got = rec("unknown customer, fill=none", "--plugin", "blend",
              "--customer", UNKNOWN, "--set", "fill=none", "--set",
              "weight.popular=0")
    ck.check(got == [], "--set fill=none: cold start gives %s" % got)
    ck.expect(["recommend"] + D + ["--k", "3"], 2,
              stderr_has="--customer", label="neither --items nor --customer")


def jaccard_top(k, weight):
    """{item: weight x jaccard(A -> item) / max} over A's in-stock
    neighbours: copurchase's normalised list (basket scope)."""
    j = {}
    for c, n in BASKETS.neighbours(A).items():
        if c == A or not in_stock(c):
            continue
        j[c] = n / (BASKETS.count[A] + BASKETS.count[c] - n)
    top = sorted(j.values(), reverse=True)[:min(max(2 * k, k + 10), 1000)]
    mx = top[0]
    return {c: weight * v / mx for c, v in j.items() if v >= top[-1]}


def section_config():
    cfg = ck.write("xsell.conf",
                   "# plugins and settings for the blend\n"
                   "\n"
                   "plugins = copurchase,popular\n"
                   "   copurchase.measure = jaccard   # not cosine\n"
                   "copurchase.min_count = 1\n"
                   "\t\n"
                   "engine.weight.copurchase = 2\n"
                   "engine.weight.popular = 0  # it only fills\n"
                   "recency.half_life = 7   # for a plugin not loaded: fine\n")
    base = ["--plugin", "blend", "--items", A, "--k", "10"]
    # what the file says besides the measure and weight, as options
    same = ["--plugin-opt", "copurchase.min_count=1", "--set",
            "weight.popular=0"]
    from_file = rec("--config", "--config", cfg, *base)
    from_cli = rec("config as options", "--plugins", "copurchase,popular",
                   "--plugin-opt", "copurchase.measure=jaccard", "--set",
                   "weight.copurchase=2", *same, *base)
    same_items("--config vs the command line", from_file, from_cli)
    want = jaccard_top(10, 2.0)
    if from_file:
        kth = sorted(want.values(), reverse=True)[9]
        ck.check(all(x["plugin"] == "copurchase" and x["item"] in want and
                     close(x["score"], want[x["item"]]) for x in from_file),
                 "--config: scores not 2 x normalised jaccard: %s vs %s"
                 % (from_file, sorted(want.items(), key=lambda t: -t[1])[:10]))
        ck.check(len(from_file) == 10 and
                 {i for i, s in want.items() if s > kth * (1 + 1e-9)} <=
                 {x["item"] for x in from_file},
                 "--config: not the top 10 of 2 x jaccard")
    # --measure is the copurchase shorthand in a blend too
    short = rec("blend --measure", "--plugins", "copurchase,popular",
                "--measure", "jaccard", "--set", "weight.copurchase=2", *same,
                *base)
    same_items("--measure jaccard vs --plugin-opt", short, from_cli)
    # the command line wins
    for label, extra, equiv in (
            ("--plugin-opt measure=lift", ["--plugin-opt",
                                           "copurchase.measure=lift"],
             ["--plugins", "copurchase,popular", "--plugin-opt",
              "copurchase.measure=lift", "--set", "weight.copurchase=2"]),
            ("--set weight=3", ["--set", "weight.copurchase=3"],
             ["--plugins", "copurchase,popular", "--plugin-opt",
              "copurchase.measure=jaccard", "--set", "weight.copurchase=3"]),
            ("--plugins", ["--plugins", "copurchase,recency,popular"],
             ["--plugins", "copurchase,recency,popular", "--plugin-opt",
              "copurchase.measure=jaccard", "--set", "weight.copurchase=2",
              "--plugin-opt", "recency.half_life=7"])):
        a = rec("--config + " + label, "--config", cfg, *(extra + base))
        b = rec("equivalent of --config + " + label, *(equiv + same + base))
        same_items("--config overridden by %s" % label, a, b)
        ck.check(a != from_file, "--config + %s: same answer as the file "
                 "alone" % label)
    a = rec("--config + --set weight=3", "--config", cfg,
            "--set", "weight.copurchase=3", *base)
    want3 = jaccard_top(10, 3.0)
    ck.check(a and all(close(x["score"], want3[x["item"]]) for x in a),
             "--config + --set weight.copurchase=3: scores %s" % a)
    # errors in the file: usage errors naming FILE:LINE
    for label, text, line, has in (
            ("no '='", "plugins = copurchase\n# fine\nthis has no equals\n",
             3, None),
            ("no dot", "\nfoo = 1\n", 2, "foo"),
            ("empty key", "plugins = copurchase\n = 3\n", 2, None),
            ("unknown setting", "plugins = copurchase,popular\n\n"
             "engine.bogus = 1\n", 3, "bogus"),
            ("negative weight", "engine.weight.copurchase = -1\n", 1,
             "weight.copurchase"),
            ("weight not a number", "# w\nengine.weight.copurchase = lots\n",
             2, "weight.copurchase"),
            ("weight of a plugin not loaded", "plugins = copurchase\n"
             "engine.weight.upsell = 1\n", 2, "upsell")):
        path = ck.write("bad_%d_%s.conf" % (line, "".join(
            ch if ch.isalnum() else "_" for ch in label)), text)
        rc, out, err = ck.expect(["recommend"] + D + ["--config", path] +
                                 base, 2, label="--config " + label)
        ck.check("%s:%d:" % (path, line) in err, "--config %s: stderr lacks "
                 "'%s:%d:': %r" % (label, path, line, err))
        if has:
            ck.check(has in err, "--config %s: stderr lacks %r: %r"
                     % (label, has, err))
        ck.check(out == "", "--config %s: stdout %r" % (label, out))
    missing = os.path.join(ck.tmp, "no-such.conf")
    ck.expect(["recommend"] + D + ["--config", missing] + base, 1,
              stderr_has=missing, label="--config missing file")
    # a plugin refusing an option from the file: the plugin's message
    path = ck.write("bad_measure.conf", "copurchase.measure = nope\n")
    ck.expect(["recommend"] + D + ["--config", path] + base, 1,
              stderr_has=["copurchase", "nope"],
              label="--config copurchase.measure = nope")


def section_errors():
    base = ["--plugin", "blend", "--items", A, "--k", "5"]
    ck.expect(["recommend"] + D + ["--plugin-opt", "recency.half_life=0"] +
              base, 1, stderr_has=["recency", "half_life"],
              label="--plugin-opt recency.half_life=0")
    ck.expect(["recommend"] + D + ["--plugin", "recency", "--customer", C,
                                   "--plugin-opt", "recency.half_life=0"],
              1, stderr_has=["recency", "half_life"],
              label="--plugin recency --plugin-opt recency.half_life=0")
    ck.expect(["recommend"] + D + ["--plugin", "upsell", "--items", A,
                                   "--plugin-opt", "upsell.nope=1"],
              1, stderr_has=["upsell", "nope"],
              label="--plugin-opt upsell.nope=1")
    ck.expect(["recommend"] + D + ["--plugin-opt", "other.x=1"] + base, 2,
              stderr_has=["other", "not loaded"],
              label="--plugin-opt other.x=1")
    ck.expect(["recommend"] + D + ["--plugins", "copurchase,popular",
                                   "--plugin-opt", "upsell.prior=1"] + base,
              2, stderr_has=["upsell", "not loaded"],
              label="--plugin-opt for a plugin not in --plugins")
    for s, has in (("weight.nope=1", "nope"), ("bogus=1", "bogus"),
                   ("weight.recency=-2", "weight.recency"),
                   ("weight.recency.items=1", "weight.PLUGIN.customer"),
                   ("weight.recency.customer=-1", "weight.recency.customer"),
                   ("weight.nope.customer=1", "nope"),
                   ("exclude_owned=maybe", "exclude_owned"),
                   ("fill=nope", "nope"), ("=1", "--set"),
                   ("noequals", "--set")):
        ck.expect(["recommend"] + D + ["--set", s] + base, 2,
                  stderr_has=has, label="--set %s" % s)
    ck.expect(["recommend"] + D + ["--plugins", "copurchase,popular",
                                   "--plugin", "upsell", "--items", A], 2,
              stderr_has="upsell", label="--plugin not among --plugins")


section_vs_server()
section_model()
section_plugins()
section_rules()
section_config()
section_errors()
ck.finish()
