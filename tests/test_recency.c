/*
 * test_recency.c -- the recency plugin through the engine API, on
 * tests/data/plugins/recency_events.csv, with answers worked out by hand and
 * checked against an independent brute force written here from the
 * formulas in plugins/recency.c.
 *
 * The fixture (columns customer,item,timestamp,weight,order; day n means
 * 2024-01-01 + n days, so day 0 = Jan 1, 30 = Jan 31, 60 = Mar 1, 90 =
 * Mar 31, 120 = Apr 30, the latest event: the default t_ref).  Ids by first
 * appearance: apple 0, bread 1, cheese 2, xmas 3, xtra 4, yam 5, yolk 6,
 * ma 7 .. me 11.  Three separate worlds:
 *
 *   basket ordering  u1 o1 day 0: apple, bread;  u2 o2 day 60: apple, cheese
 *   personal         p o3 day 0: xmas (weight 5);  q o4 day 30: xmas, xtra;
 *                    r o5 day 60: yam, yolk;  p o6 day 120: yam (weight 2)
 *   a mix            m1, m2, m3 in orders o10..o15, for the brute force
 *                    (repeat purchases, an item bought twice in one order,
 *                    mb-mc seen in 2 orders for min_count)
 *
 * Hand-worked answers (half_life 30 days, basket scope, t_ref day 120):
 *
 *   Basket {apple}.  Group decays: o1 2^(-120/30) = 1/16, o2 2^(-60/30) =
 *   1/4.  D_apple = 5/16, D_bread = 1/16, D_cheese = 1/4, D_apple,bread =
 *   1/16, D_apple,cheese = 1/4.  jaccard(bread) = (1/16) / (5/16 + 1/16 -
 *   1/16) = 0.2, jaccard(cheese) = (1/4) / (5/16 + 1/4 - 1/4) = 0.8: cheese,
 *   co-bought recently, first although its id is higher.  With half_life
 *   1e300 days every decay is exactly 1: both 1 / (2 + 1 - 1) = 0.5, a tie,
 *   bread (lower id) first.  similarity=count: 1/4 and 1/16.
 *
 *   Customer p.  a(xmas) = 5 * 2^(-120/30) = 0.3125, a(yam) = 2 * 1 = 2.
 *   Counts (orders): n_xmas = 2, n_xtra = 1, n_xmas,xtra = 1; the same for
 *   yam/yolk.  jaccard 1 / (2 + 1 - 1) = 0.5 for both pairs, so score(yolk)
 *   = 2 * 0.5 = 1, score(xtra) = 0.3125 * 0.5 = 0.15625: yolk first though
 *   xmas was bought with the larger weight.  Owned items score their self
 *   term a(i) * 1 (yam 2, xmas 0.3125) when kept.  weight=one: a(xmas) =
 *   1/16, a(yam) = 1: yolk 0.5, xtra 0.03125.  cosine: 1 / sqrt(2 * 1).
 *   t_ref = 2024-03-31 (30 days earlier): every affinity doubles (yam's
 *   event, after t_ref, weighs 2^(30/30) = 2 per unit), so do the scores.
 *
 *   Ingest (observe) of u3 o9 day 150: apple, bread; u2 o2 day 150: bread;
 *   u1 o1 day 150: apple (t_ref stays day 120: day 150 weighs 2).  Groups:
 *   o1 apple 2, bread 1/16; o2 apple 1/4, cheese 1/4, bread 2; o9 apple 2,
 *   bread 2.  D_apple = 4.25, D_bread = 4.0625, D_apple,bread = min(2, 1/16)
 *   + min(1/4, 2) + 2 = 2.3125 (a pair counts from its older purchase), so
 *   jaccard(bread) = 2.3125 / (4.25 + 4.0625 - 2.3125) = 0.3854, cheese
 *   0.25 / 4.25 = 0.0588: bread first.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/xsell.h"

#include "test_util.h"

static char fixture[512], combined[512], baskets[512];
static char plugin_dir[512];

#define DAY 86400.0
#define MAX_REC 1000

/* ---- engines --------------------------------------------------------------- */

/* Loads path (events, or baskets when is_baskets) into an engine. */
static xs_engine *engine_on(const char *path, int is_baskets)
{
    xs_error err = {0};
    xs_columns cols = {0};
    xs_dataset *ds = is_baskets ? xs_dataset_load_baskets(path, &err)
                                : xs_dataset_load_events(path, &cols, &err);
    if (!ds) {
        CHECK_MSG(0, "load %s: %s", path, err.msg);
        return NULL;
    }
    xs_engine_config cfg = {.plugin_dir = plugin_dir, .scope = -1,
                            .threads = 1};
    xs_engine *e = xs_engine_new(ds, NULL, &cfg, &err);
    CHECK_MSG(e != NULL, "engine: %s", err.msg);
    return e;
}

/* Adds recency with "k=v" options (NULL terminated); returns the engine's
 * code, the message in msg. */
static int add_recency(xs_engine *e, const char *const *opts, char *msg,
                       size_t msglen)
{
    xs_option o[16];
    char buf[16][128];
    size_t n = 0;
    for (; opts && opts[n] && n < 16; n++) {
        snprintf(buf[n], sizeof buf[n], "%s", opts[n]);
        char *eq = strchr(buf[n], '=');
        if (eq)
            *eq = '\0';
        o[n].key = buf[n];
        o[n].value = eq ? eq + 1 : "";
    }
    xs_error err = {0};
    int rc = xs_engine_add_plugin(e, "recency", o, n, &err);
    if (msg)
        snprintf(msg, msglen, "%s", rc ? err.msg : "");
    return rc;
}

/* An engine on path with recency created from opts; owned items kept so
 * that every candidate shows (the brute force below has no owned rule). */
static xs_engine *recency_on(const char *path, int is_baskets,
                             const char *const *opts)
{
    xs_engine *e = engine_on(path, is_baskets);
    if (!e)
        return NULL;
    char msg[512];
    if (!CHECK_MSG(add_recency(e, opts, msg, sizeof msg) == XS_OK,
                   "add recency: %s", msg)) {
        xs_engine_free(e);
        return NULL;
    }
    xs_error err = {0};
    CHECK_MSG(xs_engine_set_rule(e, "exclude_owned", "false", &err) == XS_OK,
              "exclude_owned: %s", err.msg);
    return e;
}

static uint32_t customer_id(xs_engine *e, const char *name)
{
    const xs_dataset *ds = xs_engine_dataset(e);
    return xs_dict_find(ds->customers, name, strlen(name));
}

/* Runs a request: customer name (NULL: none), items comma separated ("":
 * none), k.  Results owned by ctx. */
static const xs_rec *run(xs_engine *e, xs_context *ctx, const char *customer,
                         const char *items, uint32_t k, size_t *n)
{
    uint32_t ids[16], n_ids = 0;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", items);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && n_ids < 16;
         t = strtok_r(NULL, ",", &save)) {
        ids[n_ids] = xs_engine_item(e, t);
        CHECK_MSG(ids[n_ids] != XS_NONE, "no item '%s'", t);
        n_ids++;
    }
    n_ids = xs_request_items(ids, n_ids);
    uint32_t cust = customer ? customer_id(e, customer) : XS_NONE;
    if (customer && cust == XS_NONE)
        cust = 99999; /* an id the engine does not know */
    xs_request req = {ids, n_ids, cust, k, 1, XS_NONE};
    const xs_rec *recs = NULL;
    xs_error err = {0};
    *n = 0;
    int rc = xs_engine_recommend(e, ctx, "recency", &req, &recs, n, &err);
    CHECK_MSG(rc == XS_OK, "recommend: %s", err.msg);
    return rc == XS_OK ? recs : NULL;
}

typedef struct want {
    const char *item;
    double score;
} want;

static int close_to(double got, double w, double rel)
{
    return got == w || fabs(got - w) <= rel * fabs(w);
}

/* Expects exactly the list w, in order, scores within rel; returns the
 * results when they are as expected, else NULL. */
static const xs_rec *expect(const char *label, xs_engine *e, xs_context *ctx,
                            const char *customer, const char *items,
                            uint32_t k, double rel, const want *w, size_t n_w)
{
    size_t n;
    const xs_rec *recs = run(e, ctx, customer, items, k, &n);
    int ok = n == n_w;
    for (size_t i = 0; ok && i < n; i++)
        ok = !strcmp(xs_engine_item_name(e, recs[i].item), w[i].item) &&
             close_to(recs[i].score, w[i].score, rel);
    if (!ok) {
        CHECK_MSG(0, "%s: customer %s items {%s} k=%u gave:", label,
                  customer ? customer : "-", items, (unsigned)k);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "   got  %-8s %.17g\n",
                    xs_engine_item_name(e, recs[i].item), recs[i].score);
        for (size_t i = 0; i < n_w; i++)
            fprintf(stderr, "   want %-8s %.17g\n", w[i].item, w[i].score);
    } else {
        CHECK(ok);
    }
    return ok ? recs : NULL; /* NULL: do not look at the evidence */
}

static const xs_evidence_field *field(const xs_rec *r, const char *key)
{
    for (uint32_t i = 0; i < r->ev.n; i++)
        if (!strcmp(r->ev.f[i].key, key))
            return &r->ev.f[i];
    return NULL;
}

static void check_num(const xs_rec *r, const char *key, double want_)
{
    const xs_evidence_field *f = field(r, key);
    CHECK_MSG(f && !f->text && close_to(f->value, want_, 1e-6),
              "evidence %s: %.17g, want %.17g", key, f ? f->value : NAN,
              want_);
}

static void check_text(const xs_rec *r, const char *key, const char *want_)
{
    const xs_evidence_field *f = field(r, key);
    CHECK_MSG(f && f->text && !strcmp(f->text, want_),
              "evidence %s: '%s', want '%s'", key,
              f && f->text ? f->text : "(none)", want_);
}

/* ---- the brute force -------------------------------------------------------
 *
 * Written from the formulas, not from the plugin: groups (customer, order)
 * or customers, every item's latest time in each, the plain counts and the
 * decayed ones, all by scanning the events. */

#define MAX_ITEMS 32
#define MAX_GROUPS 64

typedef struct model {
    const xs_event *ev;
    size_t n_ev;
    uint32_t n_items;
    int scope;
    double half_life_days;
    int64_t t_ref;
    int measure;
    uint32_t min_count;
    int weight_one;
    uint32_t max_nb; /* max_neighbours: 0, or the lists below */
    uint32_t n_groups;
    int64_t latest[MAX_GROUPS][MAX_ITEMS]; /* INT64_MIN: not in the group */
} model;

static void model_init(model *m, const xs_engine *e, int scope, double hl,
                       int64_t t_ref, int measure, uint32_t min_count,
                       int weight_one)
{
    const xs_dataset *ds = xs_engine_dataset(e);
    memset(m, 0, sizeof *m);
    m->ev = ds->events;
    m->n_ev = ds->n_events;
    m->n_items = xs_dict_size(ds->items);
    m->scope = scope;
    m->half_life_days = hl;
    m->t_ref = t_ref;
    m->measure = measure;
    m->min_count = min_count;
    m->weight_one = weight_one;
    CHECK(m->n_items <= MAX_ITEMS);
    uint32_t gc[MAX_GROUPS], gk[MAX_GROUPS];
    for (size_t i = 0; i < m->n_ev; i++) {
        uint32_t c = m->ev[i].customer;
        uint32_t k = scope == XS_SCOPE_BASKET ? m->ev[i].order : 0;
        uint32_t g = 0;
        while (g < m->n_groups && !(gc[g] == c && gk[g] == k))
            g++;
        if (g == m->n_groups) {
            if (!CHECK(g < MAX_GROUPS))
                return;
            gc[g] = c;
            gk[g] = k;
            for (uint32_t j = 0; j < MAX_ITEMS; j++)
                m->latest[g][j] = INT64_MIN;
            m->n_groups++;
        }
        if (m->ev[i].ts > m->latest[g][m->ev[i].item])
            m->latest[g][m->ev[i].item] = m->ev[i].ts;
    }
}

static double model_decay(const model *m, int64_t ts)
{
    return pow(2.0, -(double)(m->t_ref - ts) / (m->half_life_days * DAY));
}

static double model_count(const model *m, uint32_t a, uint32_t b)
{
    double n = 0;
    for (uint32_t g = 0; g < m->n_groups; g++)
        n += m->latest[g][a] != INT64_MIN && m->latest[g][b] != INT64_MIN;
    return n;
}

static double model_decayed(const model *m, uint32_t a, uint32_t b)
{
    double n = 0;
    for (uint32_t g = 0; g < m->n_groups; g++)
        if (m->latest[g][a] != INT64_MIN && m->latest[g][b] != INT64_MIN)
            n += fmin(model_decay(m, m->latest[g][a]),
                      model_decay(m, m->latest[g][b]));
    return n;
}

static double model_n_decayed(const model *m)
{
    double n = 0;
    for (uint32_t g = 0; g < m->n_groups; g++) {
        double top = 0;
        for (uint32_t i = 0; i < m->n_items; i++)
            if (m->latest[g][i] != INT64_MIN)
                top = fmax(top, model_decay(m, m->latest[g][i]));
        n += top;
    }
    return n;
}

static double measure_ref(int measure, double ab, double a, double b,
                          double n)
{
    switch (measure) {
    case XS_MEASURE_COUNT:
        return ab;
    case XS_MEASURE_CONFIDENCE:
        return ab / a;
    case XS_MEASURE_LIFT:
        return ab * n / (a * b);
    case XS_MEASURE_JACCARD:
        return ab / (a + b - ab);
    case XS_MEASURE_COSINE:
        return ab / sqrt(a * b);
    }
    return NAN;
}

/* sim(i, c) on plain counts, self-similarity for i == c. */
static double model_sim(const model *m, uint32_t i, uint32_t c)
{
    double n_ic = i == c ? model_count(m, i, i) : model_count(m, i, c);
    if (n_ic == 0 || n_ic < m->min_count)
        return 0;
    return measure_ref(m->measure, n_ic, model_count(m, i, i),
                       model_count(m, c, c), m->n_groups);
}

/* max_neighbours, from its definition: item a's neighbours are the items
 * co-occurring with it (n_ac > 0; D has the same pairs); when there are
 * more than max_nb of them, a keeps the max_nb best by value[] among those
 * with n_ac >= min_count, ties by lower id.  Sets in[c]. */
static void model_list(const model *m, uint32_t a, const double *value,
                       int *in)
{
    uint32_t len = 0;
    for (uint32_t c = 0; c < m->n_items; c++) {
        in[c] = c != a && model_count(m, a, c) > 0;
        len += in[c];
    }
    if (m->max_nb == 0 || len <= m->max_nb)
        return;
    for (uint32_t c = 0; c < m->n_items; c++) {
        if (!in[c])
            continue;
        in[c] = model_count(m, a, c) >= m->min_count;
        if (!in[c])
            continue;
        uint32_t better = 0; /* eligible neighbours ranking before c */
        for (uint32_t b = 0; b < m->n_items; b++)
            if (b != a && b != c && model_count(m, a, b) > 0 &&
                model_count(m, a, b) >= m->min_count &&
                (value[b] > value[c] || (value[b] == value[c] && b < c)))
                better++;
        in[c] = better < m->max_nb;
    }
}

/* The personal path's list of i: by sim(i, c). */
static void model_list_personal(const model *m, uint32_t i, int *in)
{
    double value[MAX_ITEMS];
    for (uint32_t c = 0; c < m->n_items; c++)
        value[c] = c == i ? 0 : model_sim(m, i, c);
    model_list(m, i, value, in);
}

/* The basket path's list of a: by the decayed measure. */
static void model_list_basket(const model *m, uint32_t a, int *in)
{
    double value[MAX_ITEMS], nd = model_n_decayed(m);
    for (uint32_t c = 0; c < m->n_items; c++)
        value[c] = c == a || model_count(m, a, c) == 0
                       ? 0
                       : measure_ref(m->measure, model_decayed(m, a, c),
                                     model_decayed(m, a, a),
                                     model_decayed(m, c, c), nd);
    model_list(m, a, value, in);
}

/* Personal scores of customer cust with request items. */
static void model_personal(const model *m, uint32_t cust,
                           const uint32_t *items, uint32_t n_items,
                           double *score)
{
    double aff[MAX_ITEMS] = {0};
    for (size_t i = 0; i < m->n_ev; i++)
        if (m->ev[i].customer == cust)
            aff[m->ev[i].item] += (m->weight_one ? 1.0 : m->ev[i].weight) *
                                  model_decay(m, m->ev[i].ts);
    for (uint32_t i = 0; i < n_items; i++)
        aff[items[i]] += 1.0;
    static int in[MAX_ITEMS][MAX_ITEMS];
    for (uint32_t i = 0; i < m->n_items; i++)
        model_list_personal(m, i, in[i]);
    for (uint32_t c = 0; c < m->n_items; c++) {
        score[c] = 0;
        for (uint32_t i = 0; i < m->n_items; i++)
            if (aff[i] > 0 && (i == c || in[i][c]))
                score[c] += aff[i] * model_sim(m, i, c);
    }
}

/* Basket scores on the decayed counts. */
static void model_basket(const model *m, const uint32_t *items,
                         uint32_t n_items, double *score)
{
    double nd = model_n_decayed(m);
    static int in[MAX_ITEMS][MAX_ITEMS];
    for (uint32_t i = 0; i < n_items; i++)
        model_list_basket(m, items[i], in[i]);
    for (uint32_t c = 0; c < m->n_items; c++) {
        score[c] = 0;
        for (uint32_t i = 0; i < n_items; i++) {
            uint32_t a = items[i];
            double n_ac = model_count(m, a, c);
            if (a == c || n_ac == 0 || n_ac < m->min_count || !in[i][c])
                continue;
            score[c] += measure_ref(m->measure, model_decayed(m, a, c),
                                    model_decayed(m, a, a),
                                    model_decayed(m, c, c), nd);
        }
    }
}

/* The engine's whole answer (k = MAX_REC) against score[]: the same items
 * (those scoring > 0, request items aside), the same scores within rel, in
 * non-increasing order. */
static void compare(const char *label, xs_engine *e, xs_context *ctx,
                    uint32_t cust, const uint32_t *items, uint32_t n_items,
                    const double *score, uint32_t n_all, double rel)
{
    xs_request req = {items, n_items, cust, MAX_REC, 0, XS_NONE};
    const xs_rec *recs = NULL;
    size_t n = 0;
    xs_error err = {0};
    if (!CHECK_MSG(xs_engine_recommend(e, ctx, "recency", &req, &recs, &n,
                                       &err) == XS_OK,
                   "%s: %s", label, err.msg))
        return;
    size_t want_n = 0;
    for (uint32_t c = 0; c < n_all; c++) {
        int in_req = 0;
        for (uint32_t i = 0; i < n_items; i++)
            in_req |= items[i] == c;
        want_n += score[c] > 0 && !in_req;
    }
    CHECK_MSG(n == want_n, "%s: %zu results, want %zu", label, n, want_n);
    for (size_t i = 0; i < n; i++) {
        uint32_t c = recs[i].item;
        CHECK_MSG(c < n_all && close_to(recs[i].score, score[c], rel),
                  "%s: %s scores %.17g, want %.17g", label,
                  xs_engine_item_name(e, c), recs[i].score,
                  c < n_all ? score[c] : NAN);
        if (i)
            CHECK_MSG(recs[i].score <= recs[i - 1].score,
                      "%s: results out of order at %zu", label, i);
        for (size_t j = 0; j < i; j++)
            CHECK_MSG(recs[j].item != c, "%s: %s returned twice", label,
                      xs_engine_item_name(e, c));
    }
}

static int64_t when(const char *iso)
{
    int64_t t = 0;
    CHECK(xs_parse_timestamp(iso, strlen(iso), &t) == 0);
    return t;
}

/* ---- the tests ------------------------------------------------------------- */

static void test_basket_recency(void)
{
    static const char *const def[] = {NULL};
    xs_engine *e = recency_on(fixture, 0, def);
    if (!e)
        return;
    xs_context *ctx = xs_context_new(e);
    CHECK_EQU(xs_engine_item(e, "bread"), 1);
    CHECK_EQU(xs_engine_item(e, "cheese"), 2);
    /* no customer: the basket path on D */
    const want w[] = {{"cheese", 0.8}, {"bread", 0.2}};
    const xs_rec *r = expect("basket {apple}", e, ctx, NULL, "apple", 10,
                             1e-6, w, 2);
    if (r) {
        check_text(&r[0], "from", "apple");
        check_num(&r[0], "decayed_count", 0.25);
        check_num(&r[0], "similarity", 0.8);
        check_num(&r[1], "decayed_count", 1.0 / 16);
    }
    /* an unknown customer falls back to the basket path */
    expect("unknown customer", e, ctx, "nobody", "apple", 10, 1e-6, w, 2);
    /* k respected */
    expect("k=1", e, ctx, NULL, "apple", 1, 1e-6, w, 1);
    /* nothing to score */
    size_t n = 99;
    run(e, ctx, NULL, "", 10, &n);
    CHECK_EQU(n, 0);
    xs_context_free(ctx);
    xs_engine_free(e);

    static const char *const huge[] = {"half_life=1e300", NULL};
    e = recency_on(fixture, 0, huge);
    if (!e)
        return;
    ctx = xs_context_new(e);
    const want tie[] = {{"bread", 0.5}, {"cheese", 0.5}};
    expect("huge half_life: a tie, lower id first", e, ctx, NULL, "apple", 10,
           0, tie, 2);
    xs_context_free(ctx);
    xs_engine_free(e);

    static const char *const count[] = {"similarity=count", NULL};
    e = recency_on(fixture, 0, count);
    if (!e)
        return;
    ctx = xs_context_new(e);
    const want wc[] = {{"cheese", 0.25}, {"bread", 1.0 / 16}};
    expect("count", e, ctx, NULL, "apple", 10, 1e-6, wc, 2);
    xs_context_free(ctx);
    xs_engine_free(e);
}

static void test_personal(void)
{
    static const char *const def[] = {NULL};
    xs_engine *e = recency_on(fixture, 0, def);
    if (!e)
        return;
    xs_context *ctx = xs_context_new(e);
    /* owned items kept: their self terms show */
    const want all[] = {{"yam", 2.0}, {"yolk", 1.0}, {"xmas", 0.3125},
                        {"xtra", 0.15625}};
    const xs_rec *r = expect("p, owned kept", e, ctx, "p", "", 10, 1e-12,
                             all, 4);
    if (r) {
        check_text(&r[1], "from", "yam");
        check_num(&r[1], "affinity", 2.0);
        check_num(&r[1], "similarity", 0.5);
        check_num(&r[1], "age_days", 0);
        check_num(&r[1], "half_life_days", 30);
        check_text(&r[3], "from", "xmas");
        check_num(&r[3], "affinity", 0.3125);
        check_num(&r[3], "age_days", 120);
    }
    expect("p, k=2", e, ctx, "p", "", 2, 1e-12, all, 2);
    /* the engine's default: owned items dropped */
    xs_error err = {0};
    CHECK(xs_engine_set_rule(e, "exclude_owned", "true", &err) == XS_OK);
    const want fresh[] = {{"yolk", 1.0}, {"xtra", 0.15625}};
    expect("p, owned dropped", e, ctx, "p", "", 10, 1e-12, fresh, 2);
    /* a request item adds affinity 1 (viewed now): apple's neighbours join
     * with the plain-count jaccard 1 / (2 + 1 - 1) */
    const want viewed[] = {{"yolk", 1.0}, {"bread", 0.5}, {"cheese", 0.5},
                           {"xtra", 0.15625}};
    expect("p viewing apple", e, ctx, "p", "apple", 10, 1e-12, viewed, 4);
    xs_context_free(ctx);
    xs_engine_free(e);

    static const char *const one[] = {"weight=one", NULL};
    e = recency_on(fixture, 0, one);
    if (!e)
        return;
    ctx = xs_context_new(e);
    const want w1[] = {{"yam", 1.0}, {"yolk", 0.5}, {"xmas", 0.0625},
                       {"xtra", 0.03125}};
    r = expect("weight=one", e, ctx, "p", "", 10, 1e-12, w1, 4);
    if (r)
        check_num(&r[3], "affinity", 0.0625);
    xs_context_free(ctx);
    xs_engine_free(e);

    static const char *const cos[] = {"similarity=cosine", NULL};
    e = recency_on(fixture, 0, cos);
    if (!e)
        return;
    ctx = xs_context_new(e);
    const want wcos[] = {{"yam", 2.0},
                         {"yolk", 2.0 / sqrt(2)},
                         {"xmas", 0.3125},
                         {"xtra", 0.3125 / sqrt(2)}};
    expect("cosine", e, ctx, "p", "", 10, 1e-12, wcos, 4);
    xs_context_free(ctx);
    xs_engine_free(e);

    /* t_ref 30 days before the latest event: the same ranking, every score
     * times 2^(30/30) */
    static const char *const tref[] = {"t_ref=2024-03-31", NULL};
    e = recency_on(fixture, 0, tref);
    if (!e)
        return;
    ctx = xs_context_new(e);
    const want w2[] = {{"yam", 4.0}, {"yolk", 2.0}, {"xmas", 0.625},
                       {"xtra", 0.3125}};
    expect("t_ref=2024-03-31", e, ctx, "p", "", 10, 1e-12, w2, 4);
    xs_context_free(ctx);
    xs_engine_free(e);
    /* the same as unix seconds, with a half-life of 15 days: 2^(30/15) */
    char opt[64];
    snprintf(opt, sizeof opt, "t_ref=%lld",
             (long long)when("2024-03-31"));
    const char *const tsec[] = {opt, "half_life=15", NULL};
    e = recency_on(fixture, 0, tsec);
    if (!e)
        return;
    ctx = xs_context_new(e);
    /* a(xmas) = 5 * 2^(-90/15) = 5/64, a(yam) = 2 * 2^(30/15) = 8; at the
     * default t_ref: 5/256 and 2, so 4 times less */
    const want w3[] = {{"yam", 8.0}, {"yolk", 4.0}, {"xmas", 5.0 / 64},
                       {"xtra", 5.0 / 128}};
    expect("t_ref in seconds", e, ctx, "p", "", 10, 1e-12, w3, 4);
    xs_context_free(ctx);
    xs_engine_free(e);
}

/* Every customer and every one- and two-item basket against the brute
 * force, for several option sets and both scopes. */
static void test_brute_force_m(const char *path, int64_t t_ref_default,
                               uint32_t max_nb)
{
    static const struct {
        const char *opts[6];
        int scope, measure, weight_one;
        uint32_t min_count;
        double hl;
    } cases[] = {
        {{NULL}, XS_SCOPE_BASKET, XS_MEASURE_JACCARD, 0, 1, 30},
        {{"scope=customer", NULL}, XS_SCOPE_CUSTOMER, XS_MEASURE_JACCARD, 0,
         1, 30},
        {{"similarity=lift", "half_life=7", NULL}, XS_SCOPE_BASKET,
         XS_MEASURE_LIFT, 0, 1, 7},
        {{"similarity=confidence", "scope=customer", "weight=one", NULL},
         XS_SCOPE_CUSTOMER, XS_MEASURE_CONFIDENCE, 1, 1, 30},
        {{"similarity=cosine", "min_count=2", "scope=customer", NULL},
         XS_SCOPE_CUSTOMER, XS_MEASURE_COSINE, 0, 2, 30},
        {{"min_count=2", NULL}, XS_SCOPE_BASKET, XS_MEASURE_JACCARD, 0, 2, 30},
        {{"similarity=count", "half_life=90", NULL}, XS_SCOPE_BASKET,
         XS_MEASURE_COUNT, 0, 1, 90},
    };
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        char label[160], cap[64];
        snprintf(label, sizeof label, "%s case %zu max_neighbours=%u", path,
                 t, (unsigned)max_nb);
        snprintf(cap, sizeof cap, "max_neighbours=%u", (unsigned)max_nb);
        const char *opts[8];
        size_t n_opts = 0;
        for (; cases[t].opts[n_opts]; n_opts++)
            opts[n_opts] = cases[t].opts[n_opts];
        if (max_nb)
            opts[n_opts++] = cap;
        opts[n_opts] = NULL;
        xs_engine *e = recency_on(path, 0, opts);
        if (!e)
            continue;
        xs_context *ctx = xs_context_new(e);
        static model m; /* large: not on the stack */
        model_init(&m, e, cases[t].scope, cases[t].hl, t_ref_default,
                   cases[t].measure, cases[t].min_count, cases[t].weight_one);
        m.max_nb = max_nb;
        double score[MAX_ITEMS];
        const xs_dataset *ds = xs_engine_dataset(e);
        uint32_t n_cust = xs_dict_size(ds->customers);
        for (uint32_t c = 0; c < n_cust; c++) {
            model_personal(&m, c, NULL, 0, score);
            compare(label, e, ctx, c, NULL, 0, score, m.n_items, 1e-12);
            uint32_t it[1] = {c % m.n_items};
            model_personal(&m, c, it, 1, score);
            compare(label, e, ctx, c, it, 1, score, m.n_items, 1e-12);
        }
        for (uint32_t a = 0; a < m.n_items; a++) {
            uint32_t it[2] = {a, (a + 3) % m.n_items};
            model_basket(&m, it, 1, score);
            compare(label, e, ctx, XS_NONE, it, 1, score, m.n_items, 1e-6);
            if (it[1] < it[0]) {
                uint32_t x = it[0];
                it[0] = it[1];
                it[1] = x;
            }
            model_basket(&m, it, 2, score);
            compare(label, e, ctx, XS_NONE, it, 2, score, m.n_items, 1e-6);
        }
        xs_context_free(ctx);
        xs_engine_free(e);
    }
}

static void test_brute_force(const char *path, int64_t t_ref_default)
{
    test_brute_force_m(path, t_ref_default, 0);
}

/* The ingest batch: the rows recency_combined.csv adds to the fixture. */
static int ingest_batch(xs_engine *e)
{
    static const struct {
        const char *customer, *item, *order, *date;
        double weight;
    } rows[] = {
        {"u3", "apple", "o9", "2024-05-30", 1},
        {"u3", "bread", "o9", "2024-05-30", 1},
        {"u2", "bread", "o2", "2024-05-30", 1},
        {"u1", "apple", "o1", "2024-05-30", 1},
        {"m2", "mz", "o13", "2024-05-01", 1},
        {"p", "xtra", "o16", "2024-04-15", 4},
    };
    xs_ingest_event ev[6];
    for (size_t i = 0; i < 6; i++)
        ev[i] = (xs_ingest_event){rows[i].customer,
                                  rows[i].item,
                                  rows[i].order,
                                  (uint32_t)strlen(rows[i].customer),
                                  (uint32_t)strlen(rows[i].item),
                                  (uint32_t)strlen(rows[i].order),
                                  when(rows[i].date),
                                  rows[i].weight,
                                  NAN};
    xs_error err = {0};
    int rc = xs_engine_ingest(e, ev, 6, &err);
    CHECK_MSG(rc == XS_OK, "ingest: %s", err.msg);
    return rc;
}

/* Scores of every candidate for one request, by item name, as a map over
 * the names of engine e2 (ids may differ between engines). */
static void compare_engines(const char *label, xs_engine *a, xs_context *ca,
                            xs_engine *b, xs_context *cb,
                            const char *customer, const char *item,
                            double rel)
{
    size_t na, nb;
    const xs_rec *ra = run(a, ca, customer, item, MAX_REC, &na);
    char names[MAX_ITEMS][16];
    double scores[MAX_ITEMS];
    size_t n = na < MAX_ITEMS ? na : MAX_ITEMS;
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "%s",
                 xs_engine_item_name(a, ra[i].item));
        scores[i] = ra[i].score;
    }
    const xs_rec *rb = run(b, cb, customer, item, MAX_REC, &nb);
    if (!CHECK_MSG((ra || na == 0) && (rb || nb == 0) && na == nb,
                   "%s {%s %s}: %zu vs %zu results",
                   label, customer ? customer : "-", item, na, nb))
        return;
    for (size_t i = 0; i < n; i++) {
        uint32_t id = xs_engine_item(b, names[i]);
        size_t j = 0;
        while (j < nb && rb[j].item != id)
            j++;
        CHECK_MSG(j < nb && close_to(rb[j].score, scores[i], rel),
                  "%s {%s %s}: %s %.17g after ingest, %.17g from scratch",
                  label, customer ? customer : "-", item, names[i], scores[i],
                  j < nb ? rb[j].score : NAN);
    }
}

static void test_observe(void)
{
    /* t_ref pinned: the combined data's latest event is later.  lift reads
     * N_D, confidence D_a, jaccard all of them. */
    static const char *const scopes[4][4] = {
        {"t_ref=2024-04-30", "scope=basket", NULL},
        {"t_ref=2024-04-30", "scope=customer", NULL},
        {"t_ref=2024-04-30", "scope=basket", "similarity=lift", NULL},
        {"t_ref=2024-04-30", "scope=customer", "similarity=confidence",
         NULL}};
    for (int s = 0; s < 4; s++) {
        xs_engine *live = recency_on(fixture, 0, scopes[s]);
        xs_engine *full = recency_on(combined, 0, scopes[s]);
        if (!live || !full) {
            xs_engine_free(live);
            xs_engine_free(full);
            return;
        }
        xs_context *cl = xs_context_new(live), *cf = xs_context_new(full);
        if (s == 0) {
            const want before[] = {{"cheese", 0.8}, {"bread", 0.2}};
            expect("before ingest", live, cl, NULL, "apple", 10, 1e-6, before,
                   2);
        }
        /* s > 0: no basket request before the ingest, so D is first built
         * after it, from the histories with the new events */
        if (ingest_batch(live) == XS_OK) {
            if (s == 0) {
                const want after[] = {{"bread", 2.3125 / 6},
                                      {"cheese", 0.25 / 4.25}};
                expect("after ingest", live, cl, NULL, "apple", 10, 1e-6,
                       after, 2);
            }
            static const char *const labels[] = {
                "basket scope", "customer scope", "basket scope, lift",
                "customer scope, confidence"};
            const char *label = labels[s];
            const xs_dataset *ds = xs_engine_dataset(full);
            uint32_t n_items = xs_dict_size(ds->items);
            CHECK_EQU(xs_dict_size(xs_engine_dataset(live)->items), n_items);
            for (uint32_t i = 0; i < n_items; i++)
                compare_engines(label, live, cl, full, cf, NULL,
                                xs_engine_item_name(full, i), 1e-5);
            uint32_t n_cust = xs_dict_size(ds->customers);
            for (uint32_t c = 0; c < n_cust; c++)
                compare_engines(label, live, cl, full, cf,
                                xs_dict_name(ds->customers, c), "", 1e-9);
        }
        xs_context_free(cl);
        xs_context_free(cf);
        xs_engine_free(live);
        xs_engine_free(full);
    }
    /* and the combined engine agrees with the brute force */
    test_brute_force(combined, when("2024-05-30"));
}

/* ---- the decayed table is built by prepare(), for requests with items ---------- */

static void count_builds(void *arg, int level, const char *msg)
{
    (void)level;
    if (strstr(msg, "plugin recency: decayed table of"))
        atomic_fetch_add((atomic_int *)arg, 1);
}

/* The fixture in an engine answering `asks`, whose log counts D's builds
 * into *builds. */
static xs_engine *counted_engine(const char *const *opts, unsigned asks,
                                 atomic_int *builds)
{
    xs_error err = {0};
    xs_columns cols = {0};
    xs_dataset *ds = xs_dataset_load_events(fixture, &cols, &err);
    if (!CHECK_MSG(ds != NULL, "load: %s", err.msg))
        return NULL;
    xs_engine_config cfg = {.plugin_dir = plugin_dir, .scope = -1,
                            .threads = 1, .log = count_builds,
                            .log_arg = builds, .asks = asks};
    xs_engine *e = xs_engine_new(ds, NULL, &cfg, &err);
    char msg[512];
    if (!CHECK_MSG(e != NULL, "engine: %s", err.msg) ||
        !CHECK_MSG(add_recency(e, opts, msg, sizeof msg) == XS_OK,
                   "add recency: %s", msg)) {
        xs_engine_free(e);
        return NULL;
    }
    return e;
}

/* Every one-item basket's answer on e, flattened into item[] and score[]
 * (n entries, malloc'd), each answer ended by XS_NONE; start (if not NULL)
 * is waited on before the first request. */
typedef struct answers {
    xs_engine *e;
    pthread_barrier_t *start;
    uint32_t *item;
    double *score;
    size_t n;
    int ok;
} answers;

static void *basket_answers(void *arg)
{
    answers *a = arg;
    uint32_t n_items = xs_dict_size(xs_engine_dataset(a->e)->items);
    a->item = malloc(((size_t)n_items * (MAX_REC + 1)) * sizeof *a->item);
    a->score = malloc(((size_t)n_items * (MAX_REC + 1)) * sizeof *a->score);
    xs_context *ctx = xs_context_new(a->e);
    a->ok = a->item && a->score && ctx;
    if (a->start)
        pthread_barrier_wait(a->start);
    for (uint32_t x = 0; a->ok && x < n_items; x++) {
        xs_request req = {&x, 1, XS_NONE, MAX_REC, 0, XS_NONE};
        const xs_rec *r = NULL;
        size_t n = 0;
        xs_error err = {0};
        a->ok = xs_engine_recommend(a->e, ctx, "recency", &req, &r, &n,
                                    &err) == XS_OK;
        for (size_t i = 0; a->ok && i < n; i++) {
            a->item[a->n] = r[i].item;
            a->score[a->n++] = r[i].score;
        }
        a->item[a->n] = XS_NONE;
        a->score[a->n++] = 0;
    }
    xs_context_free(ctx);
    return NULL;
}

static int same_answers_as(const answers *a, const answers *b)
{
    if (!a->ok || !b->ok || a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->item[i] != b->item[i] || a->score[i] != b->score[i])
            return 0;
    return 1;
}

/* An engine answering customers only never builds D, answers every
 * personal request as an engine answering everything does, and refuses
 * requests with items; an engine answering everything builds D once, in
 * prepare() when the plugin is added, not again after an ingest (observe
 * updates it), and its basket answers from four threads at once equal
 * those of one thread. */
static void test_prepare_table(void)
{
    static const char *const cases[][3] = {
        {"t_ref=2024-04-30", NULL},
        {"t_ref=2024-04-30", "max_neighbours=1", NULL},
        {"t_ref=2024-04-30", "scope=customer", "similarity=cosine"},
    };
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        const char *opts[4] = {cases[t][0], cases[t][1], cases[t][2], NULL};
        atomic_int cust_builds = 0, all_builds = 0;
        xs_engine *cust = counted_engine(opts, XS_ASK_CUSTOMER, &cust_builds);
        xs_engine *all = counted_engine(opts, 0, &all_builds);
        if (!cust || !all) {
            xs_engine_free(cust);
            xs_engine_free(all);
            return;
        }
        CHECK_MSG(atomic_load(&all_builds) == 1, "case %zu: prepare built D "
                  "%d times", t, atomic_load(&all_builds));
        /* every customer, personal: no D, the same answers */
        xs_context *cc = xs_context_new(cust), *ca = xs_context_new(all);
        const xs_dataset *ds = xs_engine_dataset(cust);
        xs_error err = {0};
        for (uint32_t c = 0; c < xs_dict_size(ds->customers); c++)
            compare_engines("customers only", cust, cc, all, ca,
                            xs_dict_name(ds->customers, c), "", 0);
        CHECK_MSG(atomic_load(&cust_builds) == 0, "case %zu: an engine "
                  "answering customers only built D %d times", t,
                  atomic_load(&cust_builds));
        uint32_t x = 0;
        xs_request basket = {&x, 1, XS_NONE, MAX_REC, 0, XS_NONE};
        const xs_rec *r = NULL;
        size_t n = 0;
        CHECK_MSG(xs_engine_recommend(cust, cc, "recency", &basket, &r, &n,
                                      &err) == XS_ERR_USAGE &&
                      strstr(err.msg, "without items only"),
                  "case %zu: a basket request to an engine answering "
                  "customers only: %s", t, err.msg);
        xs_context_free(cc);
        xs_context_free(ca);
        /* four threads' basket requests at once, against one thread's */
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 4);
        answers a[4] = {{0}}, ref = {all, NULL, NULL, NULL, 0, 0};
        pthread_t th[4];
        for (int i = 0; i < 4; i++) {
            a[i].e = all;
            a[i].start = &start;
            CHECK(pthread_create(&th[i], NULL, basket_answers, &a[i]) == 0);
        }
        for (int i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&start);
        basket_answers(&ref);
        CHECK_MSG(ref.ok && ref.n > xs_dict_size(ds->items), "case %zu: no "
                  "basket answers", t);
        for (int i = 0; i < 4; i++) {
            CHECK_MSG(same_answers_as(&a[i], &ref), "case %zu thread %d: "
                      "answers differ from one thread's", t, i);
            free(a[i].item);
            free(a[i].score);
        }
        free(ref.item);
        free(ref.score);
        /* an ingest: observe() updates D, prepare() does not build it */
        CHECK_MSG(ingest_batch(all) == XS_OK, "case %zu: ingest", t);
        CHECK_MSG(atomic_load(&all_builds) == 1, "case %zu: D built %d "
                  "times after an ingest", t, atomic_load(&all_builds));
        xs_engine_free(cust);
        xs_engine_free(all);
    }
}

/* ---- pushing the best first ---------------------------------------------------- */

/* The plugin pushes its best m candidates first and the rest only when the
 * host refused too many of them: excluding the first e items of the full
 * answer must give the items after them, for every e (the refusals
 * outnumbering m for the larger e), personal and basket requests alike. */
static void expect_after_exclusions(const char *label, xs_engine *e,
                                    xs_context *ctx, uint32_t cust,
                                    const uint32_t *items, uint32_t n_items)
{
    xs_request req = {items, n_items, cust, MAX_REC, 0, XS_NONE};
    const xs_rec *r = NULL;
    size_t n = 0;
    xs_error err = {0};
    if (!CHECK_MSG(xs_engine_recommend(e, ctx, "recency", &req, &r, &n,
                                       &err) == XS_OK, "%s: %s", label,
                   err.msg))
        return;
    uint32_t full[MAX_REC];
    double score[MAX_REC];
    for (size_t i = 0; i < n; i++) {
        full[i] = r[i].item;
        score[i] = r[i].score;
    }
    for (size_t ex = 1; ex < n; ex++) {
        req.k = 2;
        const xs_rec *q = NULL;
        size_t nq = 0;
        if (!CHECK_MSG(xs_engine_recommend_excluding(e, ctx, "recency", &req,
                                                     full, (uint32_t)ex, &q,
                                                     &nq, &err) == XS_OK,
                       "%s: %s", label, err.msg))
            return;
        size_t n_want = n - ex < 2 ? n - ex : 2;
        int ok = nq == n_want;
        for (size_t i = 0; ok && i < nq; i++)
            ok = q[i].item == full[ex + i] && q[i].score == score[ex + i];
        CHECK_MSG(ok, "%s: customer %u, %u items, %zu excluded: %zu results, "
                  "not the %zu after them", label, (unsigned)cust,
                  (unsigned)n_items, ex, nq, n_want);
    }
}

static void test_refusals(void)
{
    /* a generated store: requests with hundreds of candidates, many more
     * than the plugin picks first */
    char dir[1024], events[1100];
    snprintf(dir, sizeof dir, "%s/refusals", xt_tmpdir());
    snprintf(events, sizeof events, "%s/events.csv", dir);
    xs_gen_params g = {300, 200, 1500, 11, 0, NULL};
    xs_error err = {0};
    if (!CHECK_MSG(xs_gen_write(&g, dir, &err) == XS_OK, "gen: %s", err.msg))
        return;
    static const char *const cases[][3] = {
        {NULL},
        {"scope=customer", "similarity=cosine", NULL},
        {"similarity=llr", NULL},
        {"max_neighbours=5", NULL},
    };
    static const char *const labels[] = {"defaults", "customer, cosine",
                                         "llr", "max_neighbours=5"};
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        xs_engine *e = recency_on(events, 0, cases[t]);
        if (!e)
            return;
        xs_context *ctx = xs_context_new(e);
        uint32_t n_items = xs_dict_size(xs_engine_dataset(e)->items);
        for (uint32_t c = 0; c < 300; c += 29)
            expect_after_exclusions(labels[t], e, ctx, c, NULL, 0);
        for (uint32_t x = 0; x < n_items; x += 37)
            expect_after_exclusions(labels[t], e, ctx, XS_NONE, &x, 1);
        xs_context_free(ctx);
        xs_engine_free(e);
    }
}

/* ---- max_neighbours ---------------------------------------------------------- */

/* The option sets the max_neighbours tests run (with the cap appended). */
static const char *const cap_cases[][5] = {
    {"scope=basket", NULL},
    {"scope=customer", NULL},
    {"similarity=lift", "half_life=7", NULL},
    {"similarity=confidence", "scope=customer", "weight=one", NULL},
    {"similarity=cosine", "min_count=2", "scope=customer", NULL},
    {"min_count=2", NULL},
    {"similarity=count", "half_life=90", NULL},
    {"similarity=llr", NULL},
};
#define N_CAP_CASES (sizeof cap_cases / sizeof *cap_cases)

/* cap_cases[t] plus extra (NULL: none) into opts. */
static void cap_opts(size_t t, const char *extra, const char **opts)
{
    size_t n = 0;
    for (; cap_cases[t][n]; n++)
        opts[n] = cap_cases[t][n];
    if (extra)
        opts[n++] = extra;
    opts[n] = NULL;
}

/* One request on two engines over the same data: the same items in the
 * same order with bit-identical scores and evidence. */
static void same_request(const char *label, xs_engine *a, xs_context *ca,
                         xs_engine *b, xs_context *cb, uint32_t cust,
                         const uint32_t *items, uint32_t n_items)
{
    xs_request req = {items, n_items, cust, MAX_REC, 1, XS_NONE};
    const xs_rec *ra = NULL, *rb = NULL;
    size_t na = 0, nb = 0;
    xs_error err = {0};
    if (!CHECK_MSG(xs_engine_recommend(a, ca, "recency", &req, &ra, &na,
                                       &err) == XS_OK &&
                       xs_engine_recommend(b, cb, "recency", &req, &rb, &nb,
                                           &err) == XS_OK,
                   "%s: %s", label, err.msg))
        return;
    int ok = na == nb;
    for (size_t i = 0; ok && i < na; i++) {
        ok = ra[i].item == rb[i].item && ra[i].score == rb[i].score &&
             ra[i].ev.n == rb[i].ev.n;
        for (uint32_t f = 0; ok && f < ra[i].ev.n; f++) {
            const xs_evidence_field *x = &ra[i].ev.f[f], *y = &rb[i].ev.f[f];
            ok = !strcmp(x->key, y->key) && x->value == y->value &&
                 !x->text == !y->text && (!x->text || !strcmp(x->text, y->text));
        }
    }
    CHECK_MSG(ok, "%s: customer %u, %u items: answers differ (%zu vs %zu "
              "results)", label, (unsigned)cust, (unsigned)n_items, na, nb);
}

/* Every customer (alone and viewing an item) and every one- and two-item
 * basket, on two engines. */
static void same_answers(const char *label, xs_engine *a, xs_engine *b)
{
    xs_context *ca = xs_context_new(a), *cb = xs_context_new(b);
    const xs_dataset *ds = xs_engine_dataset(a);
    uint32_t n_items = xs_dict_size(ds->items);
    uint32_t n_cust = xs_dict_size(ds->customers);
    for (uint32_t c = 0; c < n_cust; c++) {
        same_request(label, a, ca, b, cb, c, NULL, 0);
        uint32_t it[1] = {(c * 7) % n_items};
        same_request(label, a, ca, b, cb, c, it, 1);
    }
    for (uint32_t x = 0; x < n_items; x++) {
        same_request(label, a, ca, b, cb, XS_NONE, &x, 1);
        for (uint32_t y = x + 1; y < n_items; y++) {
            uint32_t it[2] = {x, y};
            same_request(label, a, ca, b, cb, XS_NONE, it, 2);
        }
    }
    xs_context_free(ca);
    xs_context_free(cb);
}

/* max_neighbours=0 is the default, and a cap no row exceeds changes
 * nothing: bit-identical answers and evidence, before and after ingest. */
static void test_max_neighbours_exact(void)
{
    static const char *const caps[] = {"max_neighbours=0",
                                       "max_neighbours=32",
                                       "max_neighbours=4294967295"};
    for (size_t t = 0; t < N_CAP_CASES; t++)
        for (size_t k = 0; k < sizeof caps / sizeof *caps; k++) {
            const char *plain[8], *capped[8];
            cap_opts(t, NULL, plain);
            cap_opts(t, caps[k], capped);
            char label[128];
            snprintf(label, sizeof label, "case %zu %s", t, caps[k]);
            xs_engine *a = recency_on(fixture, 0, plain);
            xs_engine *b = recency_on(fixture, 0, capped);
            if (a && b) {
                CHECK(xs_dict_size(xs_engine_dataset(a)->items) <= 32);
                same_answers(label, a, b);
                if (ingest_batch(a) == XS_OK && ingest_batch(b) == XS_OK) {
                    snprintf(label, sizeof label, "case %zu %s, ingested", t,
                             caps[k]);
                    same_answers(label, a, b);
                }
            }
            xs_engine_free(a);
            xs_engine_free(b);
        }
}

/* Small caps against the brute force over independently computed lists,
 * and hand-worked cases: basket {apple} with max_neighbours=1 keeps
 * cheese (jaccard 0.8) and drops bread (0.2); customer p with
 * max_neighbours=1 in customer scope is unchanged (rows of one). */
static void test_max_neighbours_capped(void)
{
    static const char *const one[] = {"max_neighbours=1", NULL};
    xs_engine *e = recency_on(fixture, 0, one);
    if (e) {
        xs_context *ctx = xs_context_new(e);
        const want w[] = {{"cheese", 0.8}};
        const xs_rec *r = expect("basket {apple}, max_neighbours=1", e, ctx,
                                 NULL, "apple", 10, 1e-6, w, 1);
        if (r)
            check_text(&r[0], "from", "apple");
        const want wp[] = {{"yam", 2.0}, {"yolk", 1.0}, {"xmas", 0.3125},
                           {"xtra", 0.15625}};
        expect("p, max_neighbours=1", e, ctx, "p", "", 10, 1e-12, wp, 4);
        /* apple viewed now: its list by the plain jaccard (bread and cheese
         * tie at 0.5) is {bread}, the lower id */
        const want wv[] = {{"yam", 2.0}, {"yolk", 1.0}, {"bread", 0.5},
                           {"xmas", 0.3125}, {"xtra", 0.15625}};
        expect("p viewing apple, max_neighbours=1", e, ctx, "p", "apple", 10,
               1e-12, wv, 5);
        xs_context_free(ctx);
        xs_engine_free(e);
    }
    for (uint32_t m = 1; m <= 3; m++) {
        test_brute_force_m(fixture, when("2024-04-30"), m);
        test_brute_force_m(combined, when("2024-05-30"), m);
    }
}

/* Lists refresh on ingest: an engine that ingested the batch answers as
 * one built from the combined data with the same cap. */
static void test_max_neighbours_observe(void)
{
    static const char *const base[][4] = {
        {"t_ref=2024-04-30", "scope=basket", NULL},
        {"t_ref=2024-04-30", "scope=customer", NULL},
        {"t_ref=2024-04-30", "scope=basket", "similarity=count", NULL},
        {"t_ref=2024-04-30", "scope=customer", "similarity=confidence",
         NULL},
        {"t_ref=2024-04-30", "scope=basket", "min_count=2", NULL},
        {"t_ref=2024-04-30", "similarity=llr", NULL},
    };
    static const char *const caps[] = {"max_neighbours=1", "max_neighbours=2"};
    for (size_t s = 0; s < sizeof base / sizeof *base; s++)
        for (size_t k = 0; k < sizeof caps / sizeof *caps; k++) {
            const char *opts[6];
            size_t n = 0;
            for (; base[s][n]; n++)
                opts[n] = base[s][n];
            opts[n++] = caps[k];
            opts[n] = NULL;
            xs_engine *live = recency_on(fixture, 0, opts);
            xs_engine *full = recency_on(combined, 0, opts);
            if (live && full && ingest_batch(live) == XS_OK) {
                char label[128];
                snprintf(label, sizeof label, "observe case %zu %s", s,
                         caps[k]);
                xs_context *cl = xs_context_new(live);
                xs_context *cf = xs_context_new(full);
                const xs_dataset *ds = xs_engine_dataset(full);
                uint32_t n_items = xs_dict_size(ds->items);
                CHECK_EQU(xs_dict_size(xs_engine_dataset(live)->items),
                          n_items);
                for (uint32_t i = 0; i < n_items; i++)
                    compare_engines(label, live, cl, full, cf, NULL,
                                    xs_engine_item_name(full, i), 1e-5);
                uint32_t n_cust = xs_dict_size(ds->customers);
                for (uint32_t c = 0; c < n_cust; c++) {
                    const char *cn = xs_dict_name(ds->customers, c);
                    compare_engines(label, live, cl, full, cf, cn, "", 1e-9);
                    compare_engines(label, live, cl, full, cf, cn, "apple",
                                    1e-9);
                }
                xs_context_free(cl);
                xs_context_free(cf);
            }
            xs_engine_free(live);
            xs_engine_free(full);
        }
}

static void test_no_decay(void)
{
    /* --baskets data: no customers, no timestamps; plain-count jaccard of
     * small_baskets.csv: milk 7, bread 7 (5 together), yogurt 5 (3), jam 4
     * (3), coffee 2 (1) */
    static const char *const def[] = {NULL};
    xs_engine *e = recency_on(baskets, 1, def);
    if (!e)
        return;
    xs_context *ctx = xs_context_new(e);
    const want w[] = {{"bread", 5.0 / 9}, {"jam", 3.0 / 8},
                      {"yogurt", 3.0 / 9}, {"coffee", 1.0 / 8}};
    const xs_rec *r = expect("baskets {milk}", e, ctx, NULL, "milk", 10,
                             1e-12, w, 4);
    if (r)
        check_num(&r[0], "decayed_count", 5);
    xs_context_free(ctx);
    xs_engine_free(e);
    /* llr: plain counts on the basket path, and it serves */
    static const char *const llr[] = {"similarity=llr", NULL};
    e = recency_on(fixture, 0, llr);
    if (!e)
        return;
    ctx = xs_context_new(e);
    size_t n;
    run(e, ctx, NULL, "apple", 10, &n);
    CHECK_EQU(n, 2);
    run(e, ctx, "p", "", 10, &n);
    CHECK(n > 0);
    xs_context_free(ctx);
    xs_engine_free(e);
}

static void test_bad_options(void)
{
    static const struct {
        const char *opt, *needle;
        int is_baskets;
    } bad[] = {
        {"colour=red", "colour", 0},
        {"half_life=0", "half_life", 0},
        {"half_life=-3", "half_life", 0},
        {"half_life=x", "half_life", 0},
        {"half_life=inf", "half_life", 0},
        {"similarity=foo", "similarity", 0},
        {"t_ref=garbage", "t_ref", 0},
        {"t_ref=2024-02-30", "t_ref", 0},
        {"t_ref=2024-1-01", "t_ref", 0},
        {"weight=x", "weight", 0},
        {"min_count=0", "min_count", 0},
        {"min_count=1.5", "min_count", 0},
        {"scope=everything", "scope", 0},
        {"scope=customer", "scope", 1},
        {"max_neighbours=-1", "max_neighbours", 0},
        {"max_neighbours=x", "max_neighbours", 0},
        {"max_neighbours=1.5", "max_neighbours", 0},
        {"max_neighbours=", "max_neighbours", 0},
        {"max_neighbours=4294967296", "max_neighbours", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        xs_engine *e = engine_on(bad[i].is_baskets ? baskets : fixture,
                                 bad[i].is_baskets);
        if (!e)
            continue;
        const char *const opts[] = {bad[i].opt, NULL};
        char msg[512];
        int rc = add_recency(e, opts, msg, sizeof msg);
        CHECK_MSG(rc != XS_OK, "%s accepted", bad[i].opt);
        CHECK_MSG(strstr(msg, bad[i].needle) && strstr(msg, "recency"),
                  "%s: message '%s'", bad[i].opt, msg);
        xs_engine_free(e);
    }
    /* and the good spellings */
    xs_engine *e = engine_on(fixture, 0);
    if (e) {
        const char *const opts[] = {"half_life=0.5", "t_ref=1700000000",
                                    "similarity=lift", "scope=auto",
                                    "weight=event", "min_count=3",
                                    "max_neighbours=5", NULL};
        char msg[512];
        CHECK_MSG(add_recency(e, opts, msg, sizeof msg) == XS_OK, "%s", msg);
        xs_engine_free(e);
    }
}

int main(void)
{
    const char *data = getenv("XS_TEST_DATA");
    const char *build = getenv("XS_BUILD_DIR");
    if (!data || !build) {
        fprintf(stderr, "set XS_TEST_DATA and XS_BUILD_DIR (ctest does)\n");
        return 1;
    }
    unsetenv("XSELL_PLUGIN_PATH");
    snprintf(plugin_dir, sizeof plugin_dir, "%s/plugins", build);
    snprintf(fixture, sizeof fixture, "%s/plugins/recency_events.csv", data);
    snprintf(combined, sizeof combined, "%s/plugins/recency_combined.csv",
             data);
    snprintf(baskets, sizeof baskets, "%s/cli/small_baskets.csv", data);
    test_basket_recency();
    test_personal();
    test_brute_force(fixture, when("2024-04-30"));
    test_observe();
    test_prepare_table();
    test_refusals();
    test_max_neighbours_exact();
    test_max_neighbours_capped();
    test_max_neighbours_observe();
    test_no_decay();
    test_bad_options();
    return xt_done();
}
