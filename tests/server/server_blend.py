"""server_blend.py -- the blend, the business rules and the catalog op of
`xsell serve`, end to end on the example data, against an independent model
in Python.

One server loads the four built-in plugins (--plugins copurchase,upsell,
recency,popular --default-plugin blend); its answers are checked as follows.

  - `plugins`: default "blend", the four names in load order.
  - The blend (recommend without "plugin", and "plugin": "blend") is
    recomputed from each plugin asked alone for m = max(2k, k + 10) items
    with the same items, customer and rules: every list normalised by its
    top score (s / max; (s - min) / (max - min) when a score is < 0 or
    max <= 0; 1 when all are equal), weight x normalised summed per item
    (weights 1, popular 0), the k best kept.  Items and scores must match
    (1e-9 relative; ties at the k-th score may be either), and each item's
    "plugin" is the '+'-joined names, in load order, of the plugins whose
    lists held it.
  - Fill: a cold start (no items, no or unknown customer) is exactly
    popular's top k with plugin "popular" and score 0.5 x popular's
    normalised score; a blend shorter than k (category filters) is the
    blended items then popular's next items not yet present, each scored
    last_blended / 2 x normalised, strictly below the last blended item.
  - Explain on the blend: one field per contributing plugin (its weighted
    normalised score, in load order, summing to the score), then exactly
    the evidence the top contributor gives when asked alone; fillers carry
    popular's evidence.
  - Business rules on every plugin and the blend: never a request item, an
    `exclude` item, an out-of-stock item or (unless exclude_owned is false)
    an item the customer bought; `category` keeps that category only
    (popular's answer is exactly the category's eligible items); errors for
    an unknown category, a non-boolean exclude_owned, a non-string category.
  - The catalog op: out of stock removes an item from every plugin's next
    answer (the rest unchanged), back in stock restores the answers exactly;
    an item out of stock in catalog.csv appears once set in stock; a new
    item (added 1, then added 0 when re-sent) is offered by upsell; a new
    category becomes usable as a filter; every malformed batch is refused
    (bad_request naming items[1] and the field; too_large over 10,000) with
    none of its valid entries applied (stock unchanged, no new ids).
  - `stats`: requests.recommend and requests.catalog count exactly what was
    sent (errors included); plugins holds the four names with dropped 0;
    items grew by the new catalog items only.

A fresh single-worker server answers a cold start as its very first
request (popular's items).  A second server with --set weight.recency=0 --set exclude_owned=false blends
copurchase and upsell only (never naming recency) and returns owned items
(a request's exclude_owned: true still drops them).  `--set weight.nope=1`,
`--set bogus=1`, a negative weight or a non-boolean exclude_owned make
`xsell serve` exit 2 with a message naming the setting.
"""
import csv
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xsserver import (Checker, Data, ReqClient, Server,  # noqa: E402
                      check_error, recommend_problem, stats_problem)
import zmq  # noqa: E402

ck = Checker("server_blend")
data = Data(ck.events_csv())
PLUGINS = ["copurchase", "upsell", "recency", "popular"]
# upsell blends here and popular only fills (their default weights are 0
# and 0.25: cli_blend checks those), so that every plugin is in the blends
# and the fill is seen on its own; a request without items weighs
# copurchase 0 (the default weight.copurchase.customer)
WEIGHTS = {"copurchase": 1.0, "upsell": 1.0, "recency": 1.0, "popular": 0.0}
CUSTOMER_WEIGHTS = {"copurchase": 0.0}
ARGS = ["--plugins", ",".join(PLUGINS), "--default-plugin", "blend",
        "--set", "weight.upsell=1", "--set", "weight.popular=0"]
REL = 1e-9

CATALOG = {}
with open(ck.catalog_csv(), newline="") as f:
    for row in csv.DictReader(f):
        CATALOG[row["item"]] = row
CATEGORIES = sorted({r["category"] for r in CATALOG.values()})


ADDED = {}   # catalog entries added at run time: item -> category


def cat_of(item):
    if item in ADDED:
        return ADDED[item]
    r = CATALOG.get(item)
    return r["category"] if r else None


def in_stock(item):
    r = CATALOG.get(item)
    return r is None or r["in_stock"] != "0"


def close(a, b, rel=REL):
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


class Client:
    """A REQ client counting the recommend and catalog requests it sends
    (and their errors), for the exact stats check."""

    def __init__(self, ctx, endpoint, timeout_ms=20000):
        self.c = ReqClient(ctx, endpoint, timeout_ms=timeout_ms)
        self.count = {"recommend": [0, 0], "catalog": [0, 0]}

    def call(self, req):
        op = req.get("op")
        rep = self.c.call(req)
        if op in self.count:
            self.count[op][0] += 1
            if rep.get("ok") is not True:
                self.count[op][1] += 1
        return rep

    def rec(self, what, **fields):
        """The items of a successful recommend (None after a failure)."""
        req = {"op": "recommend"}
        req.update({k: v for k, v in fields.items() if v is not None})
        rep = self.call(req)
        if not ck.check(rep.get("ok") is True and "items" in rep,
                        "%s: %r -> %s" % (what, req, str(rep)[:500])):
            return None
        p = recommend_problem(rep, explain=None if fields.get("explain")
                              else False)
        if not ck.check(p is None, "%s: %s" % (what, p)):
            return None
        return rep["items"]

    def close(self):
        self.c.close()


def evidence(it):
    return [(k, v) for k, v in it.items() if k not in ("item", "score",
                                                       "plugin")]


def normalise(lst):
    """{item: normalised score} of a plugin's list (best first)."""
    if not lst:
        return {}
    scores = [x["score"] for x in lst]
    mx, mn = max(scores), min(scores)
    out = {}
    for x in lst:
        s = x["score"]
        if mn >= 0 and mx > 0:
            out[x["item"]] = s / mx
        elif mx > mn:
            out[x["item"]] = (s - mn) / (mx - mn)
        else:
            out[x["item"]] = 1.0
    return out


def blend_m(k):
    return min(max(2 * k, k + 10), 1000)


class Model:
    """The blend of one request recomputed from the plugins alone."""

    def __init__(self, cl, what, req, k, weights=WEIGHTS, explain=False):
        self.k = k
        self.ok = True
        self.parts = {}     # item -> [(plugin, weighted normalised)]
        self.alone = {}     # plugin -> {item: its item map}
        if not req.get("items"):
            weights = dict(weights, **CUSTOMER_WEIGHTS)
        m = blend_m(k)
        for p in PLUGINS:
            if weights[p] <= 0:
                continue
            lst = cl.rec("%s: %s alone (k=%d)" % (what, p, m), plugin=p, k=m,
                         explain=explain or None, **req)
            if lst is None:
                self.ok = False
                return
            for x in lst:
                ck.check(x["plugin"] == p, "%s: %s alone names %r"
                         % (what, p, x["plugin"]))
            self.alone[p] = {x["item"]: x for x in lst}
            for item, v in normalise(lst).items():
                self.parts.setdefault(item, []).append((p, weights[p] * v))
        self.score = {}
        for item, ps in list(self.parts.items()):
            s = 0.0
            for _, v in ps:
                s += v
            if s > 0:  # items scoring 0 are left out of the blend
                self.score[item] = s
            else:
                del self.parts[item]
        self.names = {i: "+".join(p for p, _ in ps)
                      for i, ps in self.parts.items()}

    def top_contributor(self, item):
        best = None
        for p, v in self.parts[item]:
            if best is None or v > best[1]:
                best = (p, v)
        return best[0]


def check_blend(cl, what, req, k, weights=WEIGHTS, explain=False,
                fill="popular", via_default=True):
    """Asks the blend for req (without "plugin" when via_default, else with
    "plugin": "blend") and checks it against the model.  Returns (model,
    items) or (None, None)."""
    model = Model(cl, what, req, k, weights, explain)
    if not model.ok:
        return None, None
    got = cl.rec(what, k=k, explain=explain or None,
                 plugin=None if via_default else "blend", **req)
    if got is None:
        return None, None
    exp_sorted = sorted(model.score.values(), reverse=True)
    n_blend = min(k, len(exp_sorted))
    blended, fillers = got[:n_blend], got[n_blend:]
    # the blended part: the k best of the model
    ck.check(len(got) >= n_blend, "%s: %d items, want at least %d blended"
             % (what, len(got), n_blend))
    for i, x in enumerate(blended):
        item = x["item"]
        if not ck.check(item in model.score, "%s: item %s (%s, score %r) is "
                        "in no plugin's list" % (what, item, x["plugin"],
                                                 x["score"])):
            continue
        ck.check(close(x["score"], model.score[item]),
                 "%s: %s scores %r, model %r (parts %r)"
                 % (what, item, x["score"], model.score[item],
                    model.parts[item]))
        ck.check(x["plugin"] == model.names[item],
                 "%s: %s plugin %r, want %r" % (what, item, x["plugin"],
                                                model.names[item]))
        ck.check(close(x["score"], exp_sorted[i]),
                 "%s: score #%d is %r, the model's #%d is %r"
                 % (what, i + 1, x["score"], i + 1, exp_sorted[i]))
    if n_blend:
        kth = exp_sorted[n_blend - 1]
        names = {x["item"] for x in blended}
        missed = sorted(i for i, s in model.score.items()
                        if s > kth and not close(s, kth) and i not in names)
        ck.check(not missed, "%s: items above the k-th score %r missing: %s"
                 % (what, kth, [(i, model.score[i]) for i in missed[:5]]))
    # the fill
    if n_blend == k or fill is None:
        ck.check(len(got) == n_blend, "%s: %d items, want %d (no fill)"
                 % (what, len(got), n_blend))
        fill_exp = []
    else:
        pop = cl.rec("%s: fill's popular alone" % what, plugin=fill,
                     k=min(k + n_blend, 1000), explain=explain or None,
                     **req) or []
        norm = normalise(pop)
        base = blended[-1]["score"] if n_blend and blended else 1.0
        taken = {x["item"] for x in blended}
        fill_exp = [x for x in pop if x["item"] not in taken][:k - n_blend]
        ck.eq([x["item"] for x in fillers], [x["item"] for x in fill_exp],
              "%s: fillers (popular's order, after %d blended)"
              % (what, n_blend))
        for x, want in zip(fillers, fill_exp):
            ck.eq(x["plugin"], fill, "%s: filler %s plugin" % (what,
                                                               x["item"]))
            ck.check(close(x["score"], base / 2 * norm[x["item"]]),
                     "%s: filler %s scores %r, want %r / 2 x %r"
                     % (what, x["item"], x["score"], base, norm[x["item"]]))
            if n_blend:
                ck.check(x["score"] < base, "%s: filler %s scores %r, not "
                         "below the last blended %r" % (what, x["item"],
                                                        x["score"], base))
            if explain:
                ck.eq(evidence(x), evidence(want), "%s: filler %s evidence"
                      % (what, x["item"]))
    if explain:
        for x in blended:
            item = x["item"]
            if item not in model.parts:
                continue
            ev = evidence(x)
            parts = model.parts[item]
            head, tail = ev[:len(parts)], ev[len(parts):]
            ck.eq([k_ for k_, _ in head], [p for p, _ in parts],
                  "%s: %s evidence starts with its plugins" % (what, item))
            for (k_, v), (p, w) in zip(head, parts):
                ck.check(isinstance(v, float) and close(v, w),
                         "%s: %s evidence %s = %r, want %r"
                         % (what, item, k_, v, w))
            ck.check(close(sum(v for _, v in head if isinstance(v, float)),
                           x["score"]),
                     "%s: %s evidence parts %r do not sum to %r"
                     % (what, item, head, x["score"]))
            top = model.top_contributor(item)
            ck.eq(tail, evidence(model.alone[top][item]),
                  "%s: %s evidence after the parts (top contributor %s)"
                  % (what, item, top))
    return model, got


def check_rules(what, items, req, exclude_owned=True):
    """The business rules on one answer."""
    if items is None:
        return
    names = [x["item"] for x in items]
    basket = set(req.get("items") or [])
    excl = set(req.get("exclude") or [])
    owned = data.bought.get(req.get("customer"), set()) if exclude_owned \
        else set()
    cat = req.get("category")
    for n in names:
        ck.check(n not in basket, "%s: request item %s returned" % (what, n))
        ck.check(n not in excl, "%s: excluded item %s returned" % (what, n))
        ck.check(in_stock(n), "%s: out-of-stock item %s returned"
                 % (what, n))
        ck.check(n not in owned, "%s: item %s the customer %s bought "
                 "returned" % (what, n, req.get("customer")))
        if cat is not None:
            ck.check(cat_of(n) == cat, "%s: item %s of category %r, want %r"
                     % (what, n, cat_of(n), cat))


def start(label, extra=()):
    return Server(ck, list(ARGS) + list(extra), threads=2, label=label)


# -- choosing items and customers -------------------------------------------

A = "P000030"           # the protocol's example item ...
C = "C001462"           # ... and customer (who bought A)
assert A in data.items and C in data.bought
pop_items = data.popular(3)
B = next(i for i in pop_items if i != A)
C2 = sorted(data.bought, key=lambda c: (-len(data.bought[c]), c))[0]
UNKNOWN_CUSTOMER = "NO-SUCH-CUSTOMER"


def section_plugins(cl):
    rep = cl.call({"op": "plugins"})
    if ck.check(rep.get("ok") is True, "plugins: %s" % rep):
        ck.eq(rep.get("default"), "blend", "plugins: default")
        ck.eq([p.get("name") for p in rep.get("plugins", [])], PLUGINS,
              "plugins: names in load order")


def section_blend(cl):
    ck.note("blend against the model")
    reqs = [
        ("[A] + C, k=10", {"items": [A], "customer": C}, 10),
        ("[A] + C, k=3", {"items": [A], "customer": C}, 3),
        ("[A, B], k=5", {"items": [A, B]}, 5),
        ("[A], k=20", {"items": [A]}, 20),
        ("C alone, k=10", {"customer": C}, 10),
        ("C2 alone, k=8", {"customer": C2}, 8),
        ("[B] + C2, k=12", {"items": [B], "customer": C2}, 12),
        ("[A] + C keeping owned, k=10",
         {"items": [A], "customer": C, "exclude_owned": False}, 10),
        ("[A] + unknown customer, k=6",
         {"items": [A], "customer": UNKNOWN_CUSTOMER}, 6),
    ]
    named = set()
    for label, req, k in reqs:
        model, got = check_blend(cl, "blend " + label, req, k)
        if got:
            named |= {x["plugin"] for x in got}
            check_rules("blend " + label, got, req,
                        req.get("exclude_owned", True))
    # the blend must really blend: several plugins seen, agreements joined
    for p in ("copurchase", "upsell", "recency"):
        ck.check(any(p in n.split("+") for n in named),
                 "blend: no answer names %s (plugins seen: %s)"
                 % (p, sorted(named)))
    ck.check(any("+" in n for n in named),
             "blend: no item from several plugins (seen: %s)" % sorted(named))
    ck.check("popular" not in named, "blend: popular (weight 0) in a full "
             "answer: %s" % sorted(named))
    # "plugin": "blend" is the same as no plugin
    a = cl.rec("blend by name", plugin="blend", items=[A], customer=C, k=10)
    b = cl.rec("blend by default", items=[A], customer=C, k=10)
    ck.eq(a, b, "plugin \"blend\" vs no plugin")
    # explain
    ck.note("blend explain")
    check_blend(cl, "blend explain [A] + C", {"items": [A], "customer": C},
                10, explain=True)
    check_blend(cl, "blend explain [A, B]", {"items": [A, B]}, 8,
                explain=True, via_default=False)
    # explain changes nothing but the evidence
    e = cl.rec("blend explained", items=[A], customer=C, k=10, explain=True)
    if a is not None and e is not None:
        ck.eq([(x["item"], x["score"], x["plugin"]) for x in e],
              [(x["item"], x["score"], x["plugin"]) for x in a],
              "blend with and without explain")


def section_fill(cl):
    ck.note("fill")
    pop = cl.rec("popular alone", plugin="popular", k=10)
    popx = cl.rec("popular alone explained", plugin="popular", k=10,
                  explain=True)
    if pop is None or popx is None:
        return
    mx = pop[0]["score"]
    for label, req in (("cold start", {}),
                       ("cold start, unknown customer",
                        {"customer": UNKNOWN_CUSTOMER}),
                       ("cold start, unknown item",
                        {"items": ["NO-SUCH-ITEM"]})):
        got = cl.rec(label, k=10, **req)
        if got is None:
            continue
        ck.eq([x["item"] for x in got], [x["item"] for x in pop],
              "%s: popular's top 10" % label)
        for x, p in zip(got, pop):
            ck.eq(x["plugin"], "popular", "%s: %s plugin" % (label,
                                                            x["item"]))
            ck.check(close(x["score"], 0.5 * p["score"] / mx),
                     "%s: %s score %r, want 0.5 x %r / %r"
                     % (label, x["item"], x["score"], p["score"], mx))
        ck.check(close(got[0]["score"], 0.5), "%s: top score %r, want 0.5"
                 % (label, got[0]["score"]))
    got = cl.rec("cold start explained", k=10, explain=True)
    if got is not None:
        ck.eq([evidence(x) for x in got], [evidence(x) for x in popx],
              "cold start explained: popular's evidence")
    # a category cold start: popular's list of that category
    for cat in ("dairy", "wine"):
        got = cl.rec("cold start in %s" % cat, k=5, category=cat)
        pc = cl.rec("popular in %s" % cat, plugin="popular", k=5,
                    category=cat)
        if got is not None and pc is not None:
            ck.eq([x["item"] for x in got], [x["item"] for x in pc],
                  "cold start in %s: popular's list" % cat)
            ck.check(all(x["plugin"] == "popular" for x in got),
                     "cold start in %s: plugins %s"
                     % (cat, [x["plugin"] for x in got]))
    # blends shorter than k: a category filter on an item leaves few
    # candidates; find some with the model
    found = 0
    tried = 0
    for a in sorted(data.items)[:12]:
        for cat in CATEGORIES:
            if found >= 4 or tried >= 120:
                break
            tried += 1
            req = {"items": [a], "category": cat}
            model = Model(cl, "short search %s/%s" % (a, cat), req, 10)
            if not model.ok or not 1 <= len(model.score) < 10:
                continue
            found += 1
            _, got = check_blend(cl, "short blend [%s] in %s" % (a, cat), req,
                                 10, explain=found == 1)
            check_rules("short blend [%s] in %s" % (a, cat), got, req)
            if got is not None:
                n_f = sum(x["plugin"] == "popular" for x in got)
                ck.check(n_f >= 1, "short blend [%s] in %s: no filler "
                         "(%d items)" % (a, cat, len(got)))
    ck.check(found >= 2, "found only %d short blends to check" % found)
    ck.note("checked %d short blends (%d item/category pairs tried)"
            % (found, tried))
    # a short blend of a customer: k larger than what the plugins offer
    req = {"items": [A], "customer": C, "category": cat_of(A)}
    _, got = check_blend(cl, "short blend [A] + C in A's category", req, 25)
    check_rules("short blend [A] + C in A's category", got, req)


def section_rules(cl):
    ck.note("business rules")
    full = cl.rec("copurchase [A] unfiltered", plugin="copurchase",
                  items=[A], k=5) or []
    rfull = cl.rec("recency C unfiltered", plugin="recency", customer=C,
                   k=5) or []
    excl = [x["item"] for x in full[:2]] + [x["item"] for x in rfull[:1]]
    ck.check(len(excl) == 3, "rules: no items to exclude")
    # an out-of-stock co-purchase of A, known to be dropped
    oos_nb = sorted(data.all_nbrs.get(A, set()) & data.out_of_stock)
    ck.check(oos_nb, "rules: A has no out-of-stock neighbour to test with")
    requests = [
        ("[A] + C + exclude", {"items": [A], "customer": C,
                               "exclude": excl + ["NO-SUCH-ITEM"]}),
        ("C alone", {"customer": C}),
        ("C2 alone", {"customer": C2}),
        ("[A, B] in A's category", {"items": [A, B],
                                    "category": cat_of(A)}),
        ("[A] + C2 in B's category", {"items": [A], "customer": C2,
                                      "category": cat_of(B)}),
        ("[B] + C2 + exclude", {"items": [B], "customer": C2,
                                "exclude": excl}),
        ("[A] + C keeping owned", {"items": [A], "customer": C,
                                   "exclude_owned": False}),
        ("[A] + C dropping owned", {"items": [A], "customer": C,
                                    "exclude_owned": True}),
    ]
    owned_back = {}
    for label, req in requests:
        for p in PLUGINS + [None]:
            pname = p or "blend"
            got = cl.rec("rules %s, %s" % (label, pname), plugin=p, k=100,
                         **req)
            check_rules("rules %s, %s" % (label, pname), got, req,
                        req.get("exclude_owned", True))
            if got is not None and req.get("exclude_owned") is False:
                owned_back[pname] = [x["item"] for x in got
                                     if x["item"] in data.bought[C]]
    # the rules were really exercised: the excluded items are candidates
    got = cl.rec("rules [A] copurchase k=100", plugin="copurchase",
                 items=[A], k=100) or []
    ck.check(any(x["item"] in excl[:2] for x in got), "rules: exclusions %s "
             "are not candidates of copurchase [A]" % excl[:2])
    # exclude_owned false brings owned items back (popular: the anonymous
    # list exactly; copurchase of A: C's other items of A's order)
    ck.check(owned_back.get("popular"), "rules: exclude_owned false: popular "
             "returns none of C's items")
    ck.check(owned_back.get("copurchase"), "rules: exclude_owned false: "
             "copurchase [A] returns none of C's items")
    ck.check(owned_back.get("blend"), "rules: exclude_owned false: the blend "
             "returns none of C's items")
    anon = cl.rec("popular anonymous k=30", plugin="popular", k=30)
    mine = cl.rec("popular C keeping owned", plugin="popular", customer=C,
                  k=30, exclude_owned=False)
    ck.eq(mine, anon, "popular for C keeping owned = anonymous popular")
    longer = cl.rec("popular anonymous k=200", plugin="popular", k=200) or []
    dropped = cl.rec("popular C", plugin="popular", customer=C, k=30)
    ck.eq(dropped, [x for x in longer if x["item"] not in data.bought[C]][:30],
          "popular for C = anonymous popular without C's items")
    # category: popular's answer is exactly the category's eligible items
    for cat in (cat_of(A), cat_of(B), "baby"):
        got = cl.rec("popular in %s" % cat, plugin="popular", category=cat,
                     customer=C, items=[A], k=1000)
        want = {i for i, r in CATALOG.items() if r["category"] == cat and
                in_stock(i) and i in data.items and i != A and
                i not in data.bought[C]}
        if got is not None:
            ck.eq(sorted(x["item"] for x in got), sorted(want),
                  "popular in %s for [A] + C: every eligible item" % cat)
    # request errors
    for p in (None, "copurchase", "popular"):
        what = "plugin %s" % (p or "(blend)")
        base = {"op": "recommend", "items": [A], "k": 3}
        if p:
            base["plugin"] = p
        check_error(ck, cl.call(dict(base, category="no-such-category")),
                    "bad_request", "%s: unknown category" % what,
                    message_has="no-such-category")
        check_error(ck, cl.call(dict(base, category="")),
                    "bad_request", "%s: empty category" % what)
        check_error(ck, cl.call(dict(base, category=7)),
                    "bad_request", "%s: category 7" % what,
                    message_has="category")
        for bad in ("yes", 1, 0, None, [True]):
            check_error(ck, cl.call(dict(base, exclude_owned=bad)),
                        "bad_request", "%s: exclude_owned %r" % (what, bad),
                        message_has="exclude_owned")


def upsert(cl, what, entries, accepted=None, added=None):
    rep = cl.call({"op": "catalog", "items": entries})
    if ck.check(rep.get("ok") is True, "%s: %s" % (what, str(rep)[:400])):
        ck.eq(set(rep), {"ok", "accepted", "added"}, "%s: reply keys" % what)
        if accepted is not None:
            ck.eq(rep.get("accepted"), accepted, "%s: accepted" % what)
        if added is not None:
            ck.eq(rep.get("added"), added, "%s: added" % what)
    return rep


def entry(item, **over):
    r = CATALOG[item]
    e = {"item": item, "category": r["category"], "price": float(r["price"]),
         "margin": float(r["margin"]), "title": r["title"],
         "in_stock": r["in_stock"] != "0"}
    e.update(over)
    return e


def section_catalog(cl):
    ck.note("catalog op")
    items0 = cl.call({"op": "stats"}).get("items")
    # T: a co-purchase of A, with an item X of T's category priced so that T
    # is in X's upsell band (1.05 .. 2.5 x X's price)
    cop = cl.rec("copurchase [A] k=1000", plugin="copurchase", items=[A],
                 k=1000) or []
    T = X = None
    for x in cop:
        t = x["item"]
        if t not in CATALOG:
            continue
        pt = float(CATALOG[t]["price"])
        cands = sorted(i for i, r in CATALOG.items()
                       if r["category"] == CATALOG[t]["category"] and i != t
                       and 1.2 <= pt / float(r["price"]) <= 2.0)
        if cands:
            T, X = t, cands[0]
            break
    if not ck.check(T is not None, "catalog: no item to take out of stock"):
        return
    ck.note("out of stock: %s (upsell from %s)" % (T, X))
    reqs = {"copurchase": {"items": [A]}, "upsell": {"items": [X]},
            "recency": {"items": [A]}, "popular": {}, None: {"items": [A]}}

    def answers(tag):
        return {p: cl.rec("%s: %s" % (tag, p or "blend"), plugin=p, k=1000,
                          **r) for p, r in reqs.items()}

    before = answers("before T out of stock")
    for p, lst in before.items():
        ck.check(lst is not None and T in [x["item"] for x in lst],
                 "catalog: %s is not in %s's answer before" % (T, p or "blend"))
    upsert(cl, "T out of stock", [entry(T, in_stock=False)], 1, 0)
    after = answers("T out of stock")
    for p, lst in after.items():
        if lst is None or before[p] is None:
            continue
        ck.check(T not in [x["item"] for x in lst], "catalog: out-of-stock %s "
                 "still offered by %s" % (T, p or "blend"))
        if p is not None:
            ck.eq(lst, [x for x in before[p] if x["item"] != T],
                  "catalog: %s's answer with %s out of stock" % (p, T))
    upsert(cl, "T back in stock", [entry(T, in_stock=True)], 1, 0)
    again = answers("T back in stock")
    for p, lst in again.items():
        ck.eq(lst, before[p], "catalog: %s's answer with %s back in stock"
              % (p or "blend", T))
    # an item out of stock in catalog.csv comes once in stock
    z_cands = [(z, a) for z in sorted(data.out_of_stock)
               for a in sorted(data.nbrs) if z in data.all_nbrs.get(a, ())
               and a in CATALOG]
    if ck.check(z_cands, "catalog: no out-of-stock item with neighbours"):
        Z, ZA = z_cands[0]
        ck.note("in stock: %s (a co-purchase of %s)" % (Z, ZA))
        for tag, stock in (("initially", None), ("in stock", True),
                           ("out again", False)):
            if stock is not None:
                upsert(cl, "%s %s" % (Z, tag), [entry(Z, in_stock=stock)],
                       1, 0)
            shown = stock is True
            for p, r in (("copurchase", {"items": [ZA]}),
                         ("popular", {}), (None, {"items": [ZA]})):
                got = cl.rec("%s %s: %s" % (Z, tag, p or "blend"), plugin=p,
                             k=1000, **r)
                if got is not None:
                    ck.eq(Z in [x["item"] for x in got], shown,
                          "catalog: %s (%s) offered by %s" % (Z, tag,
                                                             p or "blend"))
    # a new item, 1.5 x the price of X2, in X2's category
    X2 = X
    p2 = float(CATALOG[X2]["price"])
    NEW = "PNEW-BT-1"
    got = cl.rec("upsell [X2] before", plugin="upsell", items=[X2], k=1000)
    ck.check(got is not None and NEW not in [x["item"] for x in got],
             "catalog: %s offered before it exists" % NEW)
    new = {"item": NEW, "category": CATALOG[X2]["category"],
           "price": 1.5 * p2, "margin": float(CATALOG[X2]["margin"]),
           "title": "new bt item"}
    upsert(cl, "new item", [new], 1, 1)
    ADDED[NEW] = new["category"]
    got = cl.rec("upsell [X2] after", plugin="upsell", items=[X2], k=1000,
                 explain=True)
    mine = [x for x in got or [] if x["item"] == NEW]
    if ck.check(mine, "catalog: upsell [%s] does not offer the new %s (1.5 x "
                "its price, same category)" % (X2, NEW)):
        x = mine[0]
        ck.eq(x["plugin"], "upsell", "catalog: new item's plugin")
        ck.eq(x.get("from"), X2, "catalog: new item's from")
        ck.eq(x.get("category"), CATALOG[X2]["category"],
              "catalog: new item's category")
        ck.check(close(x.get("price_ratio", 0), 1.5), "catalog: new item's "
                 "price_ratio %r, want 1.5" % x.get("price_ratio"))
        ck.check(close(x.get("price_delta", 0), 0.5 * p2), "catalog: new "
                 "item's price_delta %r, want %r" % (x.get("price_delta"),
                                                     0.5 * p2))
    upsert(cl, "new item again", [new], 1, 0)
    # a short blend whose last blended item is the new one, scoring 0 in
    # upsell's list (no sales): the fillers must still score below it
    req = {"items": [X2], "category": CATALOG[X2]["category"]}
    _, got = check_blend(cl, "short blend ending on %s (upsell score 0)"
                         % NEW, req, 30)
    check_rules("short blend ending on %s" % NEW, got, req)
    # a new category: unknown as a filter before, usable after
    check_error(ck, cl.call({"op": "recommend", "category": "bt-gadgets"}),
                "bad_request", "category bt-gadgets before it exists")
    upsert(cl, "new category", [
        {"item": "PNEW-BT-2", "category": "bt-gadgets", "price": 10.0},
        {"item": "PNEW-BT-3", "category": "bt-gadgets", "price": 15.0,
         "margin": None, "title": None, "in_stock": True}], 2, 2)
    ADDED["PNEW-BT-2"] = ADDED["PNEW-BT-3"] = "bt-gadgets"
    got = cl.rec("upsell in a new category", plugin="upsell",
                 items=["PNEW-BT-2"], k=10)
    if got is not None:
        ck.eq([x["item"] for x in got], ["PNEW-BT-3"],
              "catalog: upsell of a new item in a new category")
    got = cl.rec("filter on the new category", plugin="popular",
                 category="bt-gadgets", k=10)
    ck.eq(got, [], "catalog: popular in a category without events")
    # a blend of one upsell item (a list of one: normalised to 1) + fill
    check_blend(cl, "blend [PNEW-BT-2]", {"items": ["PNEW-BT-2"]}, 5)
    n_new = 3

    # refused batches: entry 0 valid (takes Y out of stock), entry 2 valid
    # (a new item), entry 1 bad; nothing may be applied
    Y = pop_items[0]
    assert Y in CATALOG and in_stock(Y)
    good0 = entry(Y, in_stock=False)
    good2 = {"item": "PBAD-BT", "category": cat_of(Y), "price": 3.0}
    base1 = {"item": "PBAD-BT-1", "category": cat_of(Y), "price": 2.0}
    bads = [
        ("missing price", {"item": "PBAD-BT-1", "category": "dairy"},
         "items[1]", "price"),
        ("missing item", {"category": "dairy", "price": 1.0}, "items[1]",
         "item"),
        ("missing category", {"item": "PBAD-BT-1", "price": 1.0}, "items[1]",
         "category"),
        ("negative price", dict(base1, price=-1.0), "items[1].price", None),
        ("price as a string", dict(base1, price="2.0"), "items[1].price",
         None),
        ("price nil", dict(base1, price=None), "items[1]", "price"),
        ("infinite price", dict(base1, price=float("inf")), "items[1].price",
         None),
        ("in_stock as a string", dict(base1, in_stock="false"),
         "items[1].in_stock", None),
        ("in_stock as an integer", dict(base1, in_stock=0),
         "items[1].in_stock", None),
        ("empty item", dict(base1, item=""), "items[1].item", None),
        ("empty category", dict(base1, category=""), "items[1].category",
         None),
        ("category not a string", dict(base1, category=["x"]),
         "items[1].category", None),
        ("margin as a string", dict(base1, margin="0.3"), "items[1].margin",
         None),
        ("not a map", 5, "items[1]", None),
    ]
    for label, bad, has, has2 in bads:
        rep = cl.call({"op": "catalog", "items": [good0, bad, good2]})
        if check_error(ck, rep, "bad_request", "catalog %s" % label,
                       message_has=has) and has2:
            ck.check(has2 in rep["error"]["message"], "catalog %s: message "
                     "%r lacks %r" % (label, rep["error"]["message"], has2))
    for label, items in (("items a string", "P000001"),
                         ("items a map", {"item": "P000001"}),
                         ("items nil", None)):
        check_error(ck, cl.call({"op": "catalog", "items": items}),
                    "bad_request", "catalog %s" % label, message_has="items")
    check_error(ck, cl.call({"op": "catalog"}), "bad_request",
                "catalog without items", message_has="items")
    big = [{"item": "PBIG-%05d" % i, "category": "dairy", "price": 1.0}
           for i in range(10001)]
    check_error(ck, cl.call({"op": "catalog", "items": big}), "too_large",
                "catalog of 10,001 items")
    # nothing applied: Y still offered, the new ids still unknown
    got = cl.rec("Y after the refused batches", plugin="popular", k=1000)
    ck.check(got is not None and Y in [x["item"] for x in got],
             "catalog: a refused batch took %s out of stock" % Y)
    rep = cl.call({"op": "recommend", "items": ["PBAD-BT", "PBAD-BT-1",
                                                "PBIG-00000"], "k": 3})
    ck.eq(sorted(rep.get("unknown", [])),
          ["PBAD-BT", "PBAD-BT-1", "PBIG-00000"],
          "catalog: ids of refused batches stay unknown")
    # an empty batch is fine
    upsert(cl, "empty batch", [], 0, 0)
    return items0 + n_new


def section_stats(cl, n_items):
    ck.note("stats")
    s = cl.call({"op": "stats"})
    if not ck.check(s.get("ok") is True, "stats: %s" % str(s)[:300]):
        return
    ck.eq(stats_problem(s), None, "stats shape")
    req = s.get("requests", {})
    for op in ("recommend", "catalog"):
        ck.eq(req.get(op), {"count": cl.count[op][0],
                            "errors": cl.count[op][1]},
              "stats: requests.%s" % op)
    ck.check(cl.count["catalog"][1] >= 15, "stats: few catalog errors sent")
    ck.eq({p: v.get("dropped") for p, v in s.get("plugins", {}).items()},
          {p: 0 for p in PLUGINS}, "stats: plugins dropped")
    ck.eq(list(s.get("plugins", {})), PLUGINS, "stats: plugins in load order")
    ck.eq(s.get("items"), n_items,
          "stats: items (those before the catalog ops and the 3 new)")


def section_settings(ctx):
    ck.note("second server: weight.recency=0, exclude_owned=false")
    srv = start("settings", ["--set", "weight.recency=0",
                             "--set", "exclude_owned=false"])
    cl = Client(ctx, srv.endpoint)
    try:
        w = dict(WEIGHTS, recency=0.0)
        seen = set()
        owned_seen = False
        for label, req, k in (
                ("[A] + C", {"items": [A], "customer": C}, 10),
                ("[A] + C, k=30", {"items": [A], "customer": C}, 30),
                ("C alone", {"customer": C}, 10),
                ("[A, B] + C2", {"items": [A, B], "customer": C2}, 10),
                ("[B]", {"items": [B]}, 10)):
            model, got = check_blend(cl, "settings " + label, req, k,
                                     weights=w)
            if not got:
                continue
            for x in got:
                seen.add(x["plugin"])
                ck.check("recency" not in x["plugin"].split("+"),
                         "settings %s: %s names recency (weight 0): %r"
                         % (label, x["item"], x["plugin"]))
                if x["item"] in data.bought.get(req.get("customer"), ()):
                    owned_seen = True
            check_rules("settings " + label, got, req, exclude_owned=False)
        ck.check(owned_seen, "settings: exclude_owned=false, yet no blend "
                 "answer holds an item its customer bought")
        ck.check({"copurchase", "upsell"} <= {p for n in seen
                                              for p in n.split("+")},
                 "settings: blends name %s" % sorted(seen))
        # owned items come back for the plugins too
        anon = cl.rec("settings popular anonymous", plugin="popular", k=20)
        mine = cl.rec("settings popular C", plugin="popular", customer=C,
                      k=20)
        ck.eq(mine, anon, "settings: popular for C keeps owned items")
        ck.check(any(x["item"] in data.bought[C] for x in mine or []),
                 "settings: popular for C holds none of C's items")
        cop = cl.rec("settings copurchase [A] + C", plugin="copurchase",
                     items=[A], customer=C, k=1000) or []
        ck.check(any(x["item"] in data.bought[C] for x in cop),
                 "settings: copurchase [A] + C holds none of C's items")
        # a request can still drop them
        for p in (None, "copurchase", "popular"):
            req = {"items": [A], "customer": C, "exclude_owned": True}
            got = cl.rec("settings %s dropping owned" % (p or "blend"),
                         plugin=p, k=100, **req)
            check_rules("settings %s dropping owned" % (p or "blend"), got,
                        req, exclude_owned=True)
        # recency alone still answers (weight 0 only leaves it out of the
        # blend)
        got = cl.rec("settings recency alone", plugin="recency", customer=C,
                     k=5)
        ck.check(got, "settings: recency alone gives nothing")
        s = cl.call({"op": "stats"})
        ck.eq({p: v.get("dropped")
               for p, v in s.get("plugins", {}).items()},
              {p: 0 for p in PLUGINS}, "settings: stats plugins dropped")
    finally:
        cl.close()
    srv.stop_and_check()


def section_bad_settings():
    ck.note("bad --set")
    for sets, has in ((["weight.nope=1"], "nope"),
                      (["bogus=1"], "bogus"),
                      (["weight.recency=-1"], "weight.recency"),
                      (["weight.recency=abc"], "weight.recency"),
                      (["exclude_owned=maybe"], "exclude_owned"),
                      (["fill=nope"], "nope")):
        d = os.path.join(ck.tmp, "bad_%d" % len(os.listdir(ck.tmp)))
        os.makedirs(d)
        cmd = [ck.xsell, "serve", "--events", ck.events_csv(), "--catalog",
               ck.catalog_csv(), "--bind", "tcp://127.0.0.1:*",
               "--port-file", os.path.join(d, "port"), "--threads", "1"]
        cmd += ARGS
        for s in sets:
            cmd += ["--set", s]
        env = dict(os.environ, LC_ALL="C")
        env.pop("XSELL_PLUGIN_PATH", None)
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env)
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
            ck.fail("serve --set %s: still running after 30 s" % sets)
            continue
        err = err.decode("utf-8", "replace")
        ck.eq(p.returncode, 2, "serve --set %s: exit status (stderr %r)"
              % (" ".join(sets), err[-300:]))
        ck.check(has in err and "xsell serve" in err,
                 "serve --set %s: stderr %r lacks %r" % (sets, err[-300:],
                                                         has))
        ck.check(not os.path.exists(os.path.join(d, "port")),
                 "serve --set %s: wrote a port file" % sets)


def section_cold_first(ctx):
    """A fresh single-worker server whose first requests are cold starts
    (the blend's plugins all return nothing before any blend ran)."""
    ck.note("cold start as the first request")
    srv = Server(ck, ARGS, threads=1, label="cold")
    cl = Client(ctx, srv.endpoint, timeout_ms=5000)
    try:
        for label, req in (("first request: cold start", {"k": 5}),
                           ("second: cold start in a category",
                            {"k": 5, "category": "wine"}),
                           ("third: explained", {"k": 5, "explain": True})):
            rep = cl.c.call(dict(req, op="recommend"))
            ck.check(rep.get("ok") is True and len(rep.get("items", [])) == 5
                     and all(x.get("plugin") == "popular"
                             for x in rep["items"]),
                     "%s: %s" % (label, str(rep)[:300]))
    except Exception as ex:
        ck.fail("cold start as the first request: %s: %s (server alive: "
                "%s; stderr: %s)" % (type(ex).__name__, ex, srv.alive(),
                                     srv.stderr()[-600:]))
    finally:
        cl.close()
    srv.stop_and_check()


def main():
    ctx = zmq.Context()
    section_cold_first(ctx)
    srv = start("blend")
    cl = Client(ctx, srv.endpoint)
    try:
        section_plugins(cl)
        section_blend(cl)
        section_fill(cl)
        section_rules(cl)
        n_items = section_catalog(cl)
        section_stats(cl, n_items)
    finally:
        cl.close()
    srv.stop_and_check()
    section_settings(ctx)
    section_bad_settings()
    ctx.term()
    ck.finish()


if __name__ == "__main__":
    try:
        main()
    except Exception as ex:  # a crash is a failure, never a pass
        import traceback
        traceback.print_exc()
        ck.fail("unexpected %s: %s" % (type(ex).__name__, ex))
        ck.finish()
