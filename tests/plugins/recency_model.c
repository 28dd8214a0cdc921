/*
 * recency_model.c -- what the recency tests share (recency_model.h): the
 * engines on the fixture, requests and expected answers, and the brute
 * force written from the formulas in plugins/recency/recency.h, not from
 * the plugin.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "recency_model.h"
#include "test_util.h"

char fixture[512], combined[512], baskets[512];

int recency_model_init(void)
{
    int rc = xtp_init();
    if (rc)
        return rc;
    snprintf(fixture, sizeof fixture, "%s",
             xtp_data("plugins/recency_events.csv"));
    snprintf(combined, sizeof combined, "%s",
             xtp_data("plugins/recency_combined.csv"));
    snprintf(baskets, sizeof baskets, "%s", xtp_data("cli/small_baskets.csv"));
    return 0;
}

/* ---- engines --------------------------------------------------------------- */

/* Loads path (events, or baskets when is_baskets) into an engine. */
xs_engine *engine_on(const char *path, int is_baskets)
{
    (void)is_baskets; /* fixture.c tells baskets by the file's name */
    return xtp_engine(path, NULL);
}

/* Adds recency with "k=v" options (NULL terminated); returns the engine's
 * code, the message in msg.  The hand-worked cases and the model are of
 * SAR's settings, so similarity=jaccard, min_count=1 and half_life=30 are
 * added unless opts set them (test_recency.c checks the defaults, cosine,
 * 2 and 365, on their own); so is basket_neighbours=0, the whole-row
 * basket path the model describes (test_ranked.c checks the ranked lists
 * against it). */
int add_recency(xs_engine *e, const char *const *opts, char *msg, size_t msglen)
{
    static const char *const sar[] = {"similarity=jaccard", "min_count=1",
                                      "half_life=30", "basket_neighbours=0",
                                      NULL};
    xs_error err = {0};
    const char *all[16];
    int rc = xtp_add(e, "recency", xtp_opts_pinned(opts, sar, all, 16), &err);
    if (msg)
        snprintf(msg, msglen, "%s", rc ? err.msg : "");
    return rc;
}

/* An engine on path with recency created from opts; owned items kept so
 * that every candidate shows (the brute force below has no owned rule). */
xs_engine *recency_on(const char *path, int is_baskets, const char *const *opts)
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
const xs_rec *run(xs_engine *e, xs_context *ctx, const char *customer,
                  const char *items, uint32_t k, size_t *n)
{
    uint32_t ids[16];
    uint32_t n_ids = xtp_items(e, items, ids, 16);
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

static int close_to(double got, double w, double rel)
{
    return got == w || fabs(got - w) <= rel * fabs(w);
}

/* Expects exactly the list w, in order, scores within rel; returns the
 * results when they are as expected, else NULL. */
const xs_rec *expect(const char *label, xs_engine *e, xs_context *ctx,
                     const char *customer, const char *items, uint32_t k,
                     double rel, const want *w, size_t n_w)
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

void check_num(const xs_rec *r, const char *key, double want_)
{
    const xs_evidence_field *f = xtp_field(r, key);
    CHECK_MSG(f && !f->text && close_to(f->value, want_, 1e-6),
              "evidence %s: %.17g, want %.17g", key, f ? f->value : NAN, want_);
}

void check_text(const xs_rec *r, const char *key, const char *want_)
{
    const xs_evidence_field *f = xtp_field(r, key);
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

static double measure_ref(int measure, double ab, double a, double b, double n)
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
static void model_list(const model *m, uint32_t a, const double *value, int *in)
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
static void model_personal(const model *m, uint32_t cust, const uint32_t *items,
                           uint32_t n_items, double *score)
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
            score[c] +=
                measure_ref(m->measure, model_decayed(m, a, c),
                            model_decayed(m, a, a), model_decayed(m, c, c), nd);
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

int64_t when(const char *iso)
{
    int64_t t = 0;
    CHECK(xs_parse_timestamp(iso, strlen(iso), &t) == 0);
    return t;
}

/* Every customer and every one- and two-item basket against the brute
 * force, for several option sets and both scopes. */
void brute_force_check_m(const char *path, int64_t t_ref_default,
                         uint32_t max_nb)
{
    static const struct {
        const char *opts[6];
        int scope, measure, weight_one;
        uint32_t min_count;
        double hl;
    } cases[] = {
        {{NULL}, XS_SCOPE_BASKET, XS_MEASURE_JACCARD, 0, 1, 30},
        {{"scope=customer", NULL},
         XS_SCOPE_CUSTOMER,
         XS_MEASURE_JACCARD,
         0,
         1,
         30},
        {{"similarity=lift", "half_life=7", NULL},
         XS_SCOPE_BASKET,
         XS_MEASURE_LIFT,
         0,
         1,
         7},
        {{"similarity=confidence", "scope=customer", "weight=one", NULL},
         XS_SCOPE_CUSTOMER,
         XS_MEASURE_CONFIDENCE,
         1,
         1,
         30},
        {{"similarity=cosine", "min_count=2", "scope=customer", NULL},
         XS_SCOPE_CUSTOMER,
         XS_MEASURE_COSINE,
         0,
         2,
         30},
        {{"min_count=2", NULL}, XS_SCOPE_BASKET, XS_MEASURE_JACCARD, 0, 2, 30},
        {{"similarity=count", "half_life=90", NULL},
         XS_SCOPE_BASKET,
         XS_MEASURE_COUNT,
         0,
         1,
         90},
    };
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        char label[160], cap[64];
        snprintf(label, sizeof label, "%s case %zu max_neighbours=%u", path, t,
                 (unsigned)max_nb);
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

void brute_force_check(const char *path, int64_t t_ref_default)
{
    brute_force_check_m(path, t_ref_default, 0);
}

/* The ingest batch: the rows recency_combined.csv adds to the fixture. */
int ingest_batch(xs_engine *e)
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
                                  NAN, NULL, 0};
    xs_error err = {0};
    int rc = xs_engine_ingest(e, ev, 6, &err);
    CHECK_MSG(rc == XS_OK, "ingest: %s", err.msg);
    return rc;
}

/* Scores of every candidate for one request, by item name, as a map over
 * the names of engine e2 (ids may differ between engines). */
void compare_engines(const char *label, xs_engine *a, xs_context *ca,
                     xs_engine *b, xs_context *cb, const char *customer,
                     const char *item, double rel)
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
                   "%s {%s %s}: %zu vs %zu results", label,
                   customer ? customer : "-", item, na, nb))
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
