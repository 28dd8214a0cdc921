/*
 * segment.c -- RFM segmentation (xsell/segment.h has the definitions).
 *
 * One pass over the events gathers, per customer, the last purchase at or
 * before `now`, the money spent and the (customer, order-or-day) keys whose
 * distinct count is the frequency; a second pass, only with a period,
 * decides who was active at its start and end.  Scores come from sorting
 * each metric once: the score of a value depends only on how many values
 * are strictly worse, so ties share a score whatever the sort left them in.
 *
 * Nothing here prints; every failure is an xs_error.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/segment.h"

#define DAY 86400

static const char *const seg_names[XS_SEG_COUNT] = {
    "Champions",         "Loyal",          "Potential loyalist",
    "New",               "Promising",      "Need attention",
    "About to sleep",    "At risk",        "Cannot lose them",
    "Hibernating",       "Lost"};

const char *xs_segment_name(int segment)
{
    return segment >= 0 && segment < XS_SEG_COUNT ? seg_names[segment] : NULL;
}

/* The RF grid, [r - 1][f - 1] with 5 bins.  Rows: recency score 1 (long
 * ago) to 5 (recent); columns: frequency score 1 to 5. */
static const unsigned char grid[5][5] = {
    /* r=1 */ {XS_SEG_LOST, XS_SEG_HIBERNATING, XS_SEG_AT_RISK, XS_SEG_AT_RISK,
               XS_SEG_CANNOT_LOSE},
    /* r=2 */ {XS_SEG_HIBERNATING, XS_SEG_HIBERNATING, XS_SEG_AT_RISK,
               XS_SEG_AT_RISK, XS_SEG_CANNOT_LOSE},
    /* r=3 */ {XS_SEG_ABOUT_TO_SLEEP, XS_SEG_ABOUT_TO_SLEEP,
               XS_SEG_NEED_ATTENTION, XS_SEG_LOYAL, XS_SEG_LOYAL},
    /* r=4 */ {XS_SEG_PROMISING, XS_SEG_POTENTIAL, XS_SEG_POTENTIAL,
               XS_SEG_LOYAL, XS_SEG_LOYAL},
    /* r=5 */ {XS_SEG_NEW, XS_SEG_POTENTIAL, XS_SEG_POTENTIAL,
               XS_SEG_CHAMPIONS, XS_SEG_CHAMPIONS}};

/* A score of 1..bins onto the 5-grid: the centre of its bin, rescaled. */
static int to_grid(int s, int bins)
{
    if (bins == 5)
        return s;
    int g = 1 + (int)floor((s - 0.5) * 5.0 / bins);
    return g < 1 ? 1 : g > 5 ? 5 : g;
}

int xs_segment_of(int r, int f, int bins)
{
    if (bins < 2 || bins > 10 || r < 1 || r > bins || f < 1 || f > bins)
        return -1;
    return grid[to_grid(r, bins) - 1][to_grid(f, bins) - 1];
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

typedef struct key_pair {
    uint32_t customer;
    uint32_t pad;
    int64_t key;
} key_pair;

static int cmp_pair(const void *a, const void *b)
{
    const key_pair *x = a, *y = b;
    if (x->customer != y->customer)
        return x->customer < y->customer ? -1 : 1;
    return (x->key > y->key) - (x->key < y->key);
}

/* Sorting helpers for scores: value, then index (stable, deterministic). */
typedef struct ranked {
    double v;
    size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Scores 1..bins of v[0..n) (higher v is better) into score[]. */
static int score_values(const double *v, size_t n, int bins, int *score)
{
    ranked *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return -1;
    for (size_t i = 0; i < n; i++)
        r[i] = (ranked){v[i], i};
    qsort(r, n, sizeof *r, cmp_ranked);
    size_t p = 0; /* values strictly below the current tie group */
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && r[i].v != r[i - 1].v)
            p = i;
        score[r[i].i] = 1 + (int)((p * (size_t)bins) / n);
    }
    free(r);
    return 0;
}

static int cmp_value_desc(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

void xs_segmentation_free(xs_segmentation *s)
{
    if (!s)
        return;
    free(s->rows);
    free(s->by_value);
    free(s);
}

void xs_segment_add_clv(xs_segmentation *s, const xs_clv *c)
{
    /* rows of both are in customer id order: merge */
    size_t j = 0;
    for (size_t i = 0; i < c->n; i++) {
        const xs_clv_row *r = &c->rows[i];
        int bin = (int)(r->p_alive * XS_SEG_PALIVE_BINS);
        s->p_alive_hist[bin < 0                    ? 0
                        : bin >= XS_SEG_PALIVE_BINS ? XS_SEG_PALIVE_BINS - 1
                                                    : bin]++;
        while (j < s->n && s->rows[j].customer < r->customer)
            j++;
        if (j < s->n && s->rows[j].customer == r->customer) {
            s->clv[s->rows[j].segment] += r->clv;
            s->clv_total += r->clv;
        }
    }
    s->has_clv = 1;
    s->clv_money = c->monetary;
    s->clv_horizon = c->horizon;
    s->clv_unit_days = c->unit_days;
    s->clv_note[0] = 0;
}

int xs_segment_compute(const xs_dataset *ds, const xs_catalog *cat,
                       const xs_segment_config *cfg, xs_segmentation **out,
                       xs_error *err)
{
    *out = NULL;
    const char *ts_col = cfg->timestamp_column ? cfg->timestamp_column
                                               : "timestamp";
    const char *pr_col = cfg->price_column ? cfg->price_column : "price";
    int bins = cfg->bins ? cfg->bins : 5;
    int active_days = cfg->active_days ? cfg->active_days : 365;
    if (bins < 2 || bins > 10)
        return xs_error_set(err, XS_ERR_USAGE,
                            "bins must be in 2..10, not %d", bins);
    if (active_days < 1)
        return xs_error_set(err, XS_ERR_USAGE,
                            "active days must be at least 1, not %d",
                            active_days);
    if (!ds->has_customer || !ds->customers)
        return xs_error_set(err, XS_ERR_DATA,
                            "segmentation needs customers: give --events "
                            "with a customer column");
    if (!ds->has_timestamp)
        return xs_error_set(err, XS_ERR_DATA,
                            "the events have no '%s' column: RFM needs "
                            "purchase times (map another column with "
                            "--columns timestamp=NAME)", ts_col);
    if (ds->n_events == 0)
        return xs_error_set(err, XS_ERR_DATA, "no events");
    int monetary = !cfg->no_monetary;
    if (monetary && !ds->has_price && !cat)
        return xs_error_set(err, XS_ERR_DATA,
                            "the events have no '%s' column and no catalog "
                            "gives prices: give --catalog, map the column "
                            "with --columns price=NAME, or use --no-monetary",
                            pr_col);

    int64_t first = ds->events[0].ts, last = ds->events[0].ts;
    for (size_t i = 1; i < ds->n_events; i++) {
        int64_t t = ds->events[i].ts;
        if (t < first)
            first = t;
        if (t > last)
            last = t;
    }
    int64_t now = cfg->has_now ? cfg->now : last;
    if (now < first)
        return xs_error_set(err, XS_ERR_USAGE,
                            "now (%lld) is before the first event (%lld)",
                            (long long)now, (long long)first);
    if (cfg->has_period) {
        if (cfg->period_from > cfg->period_to)
            return xs_error_set(err, XS_ERR_USAGE,
                                "the period starts (%lld) after it ends "
                                "(%lld)", (long long)cfg->period_from,
                                (long long)cfg->period_to);
        /* Whole days of the data: a period given as dates fits when its
         * days are days of the data. */
        int64_t lo = floor_div(first, DAY) * DAY;
        int64_t hi = floor_div(last, DAY) * DAY + DAY - 1;
        if (cfg->period_from < lo || cfg->period_to > hi)
            return xs_error_set(err, XS_ERR_USAGE,
                                "the period [%lld, %lld] is outside the "
                                "data's time span [%lld, %lld]",
                                (long long)cfg->period_from,
                                (long long)cfg->period_to, (long long)first,
                                (long long)last);
    }

    uint32_t nc = xs_dict_size(ds->customers);
    int64_t *last_ts = malloc((nc ? nc : 1) * sizeof *last_ts);
    double *money = calloc(nc ? nc : 1, sizeof *money);
    key_pair *keys = malloc(ds->n_events * sizeof *keys);
    uint32_t *freq = calloc(nc ? nc : 1, sizeof *freq);
    xs_segmentation *s = calloc(1, sizeof *s);
    double *v = NULL;
    int *sc = NULL;
    ranked *rk = NULL;
    int status = XS_OK;
    if (!last_ts || !money || !keys || !freq || !s)
        goto nomem;
    for (uint32_t c = 0; c < nc; c++)
        last_ts[c] = INT64_MIN;

    size_t nk = 0;
    for (size_t i = 0; i < ds->n_events; i++) {
        const xs_event *ev = &ds->events[i];
        if (ev->ts > now || ev->customer == XS_NONE || ev->customer >= nc)
            continue;
        if (ev->ts > last_ts[ev->customer])
            last_ts[ev->customer] = ev->ts;
        int64_t key = ds->orders && ev->order != XS_NONE
                          ? (int64_t)ev->order
                          : floor_div(ev->ts, DAY);
        keys[nk++] = (key_pair){ev->customer, 0, key};
        if (monetary) {
            double price = ev->price;
            if (isnan(price)) {
                xs_item_info info;
                if (!cat || !xs_catalog_get(cat, ev->item, &info) ||
                    isnan(info.price)) {
                    status = xs_error_set(
                        err, XS_ERR_DATA,
                        "item '%s' has no price: the events have no '%s' "
                        "column and the catalog does not price it (or use "
                        "--no-monetary)",
                        xs_dict_name(ds->items, ev->item), pr_col);
                    goto fail;
                }
                price = info.price;
            }
            money[ev->customer] += price * ev->weight;
        }
    }
    qsort(keys, nk, sizeof *keys, cmp_pair);
    for (size_t i = 0; i < nk; i++)
        if (i == 0 || keys[i].customer != keys[i - 1].customer ||
            keys[i].key != keys[i - 1].key)
            freq[keys[i].customer]++;

    size_t n = 0;
    for (uint32_t c = 0; c < nc; c++)
        if (last_ts[c] != INT64_MIN)
            n++;
    s->rows = calloc(n ? n : 1, sizeof *s->rows);
    s->by_value = malloc((n ? n : 1) * sizeof *s->by_value);
    v = malloc((n ? n : 1) * sizeof *v);
    sc = malloc((n ? n : 1) * sizeof *sc);
    rk = malloc((n ? n : 1) * sizeof *rk);
    if (!s->rows || !s->by_value || !v || !sc || !rk)
        goto nomem;
    s->n = n;
    s->bins = bins;
    s->monetary = monetary;
    s->now = now;
    s->first_ts = first;
    s->last_ts = last;
    s->active_days = active_days;
    size_t k = 0;
    for (uint32_t c = 0; c < nc; c++) {
        if (last_ts[c] == INT64_MIN)
            continue;
        xs_segment_row *r = &s->rows[k];
        k++;
        r->customer = c;
        r->recency_days = floor_div(now - last_ts[c], DAY);
        r->frequency = freq[c];
        r->monetary = monetary ? money[c] : NAN;
    }

    for (size_t i = 0; i < n; i++)
        v[i] = -(double)s->rows[i].recency_days;
    if (score_values(v, n, bins, sc))
        goto nomem;
    for (size_t i = 0; i < n; i++)
        s->rows[i].r = sc[i];
    for (size_t i = 0; i < n; i++)
        v[i] = s->rows[i].frequency;
    if (score_values(v, n, bins, sc))
        goto nomem;
    for (size_t i = 0; i < n; i++)
        s->rows[i].f = sc[i];
    if (monetary) {
        for (size_t i = 0; i < n; i++)
            v[i] = s->rows[i].monetary;
        if (score_values(v, n, bins, sc))
            goto nomem;
        for (size_t i = 0; i < n; i++)
            s->rows[i].m = sc[i];
    }
    for (size_t i = 0; i < n; i++) {
        xs_segment_row *r = &s->rows[i];
        r->segment = xs_segment_of(r->r, r->f, bins);
        s->count[r->segment]++;
        if (monetary) {
            s->revenue[r->segment] += r->monetary;
            s->total_revenue += r->monetary;
        }
    }

    /* Pareto: rows by monetary descending, ties by customer order. */
    for (size_t i = 0; i < n; i++)
        rk[i] = (ranked){monetary ? s->rows[i].monetary : 0, i};
    qsort(rk, n, sizeof *rk, cmp_value_desc);
    for (size_t i = 0; i < n; i++)
        s->by_value[i] = rk[i].i;
    s->top_n = (n * 2 + 9) / 10; /* ceil(0.2 n), exact in integers */
    s->top_share = NAN;
    if (monetary && s->total_revenue > 0) {
        double top = 0;
        for (size_t i = 0; i < s->top_n; i++)
            top += s->rows[s->by_value[i]].monetary;
        s->top_share = top / s->total_revenue;
    }

    if (cfg->has_period) {
        int64_t a = cfg->period_from, b = cfg->period_to;
        int64_t w = (int64_t)active_days * DAY;
        /* Per customer: bit 0 active at A, bit 1 active at B; first
         * purchase over all events. */
        unsigned char *flag = calloc(nc ? nc : 1, 1);
        int64_t *first_ts = malloc((nc ? nc : 1) * sizeof *first_ts);
        if (!flag || !first_ts) {
            free(flag);
            free(first_ts);
            goto nomem;
        }
        for (uint32_t c = 0; c < nc; c++)
            first_ts[c] = INT64_MAX;
        for (size_t i = 0; i < ds->n_events; i++) {
            const xs_event *ev = &ds->events[i];
            if (ev->customer == XS_NONE || ev->customer >= nc)
                continue;
            if (ev->ts >= a - w && ev->ts < a)
                flag[ev->customer] |= 1;
            if (ev->ts > b - w && ev->ts <= b)
                flag[ev->customer] |= 2;
            if (ev->ts < first_ts[ev->customer])
                first_ts[ev->customer] = ev->ts;
        }
        for (uint32_t c = 0; c < nc; c++) {
            s->crr_start += flag[c] & 1;
            s->crr_end += (flag[c] >> 1) & 1;
            s->crr_new += first_ts[c] >= a && first_ts[c] <= b;
        }
        free(flag);
        free(first_ts);
        s->has_crr = 1;
        s->period_from = a;
        s->period_to = b;
        s->crr = s->crr_start
                     ? ((double)s->crr_end - (double)s->crr_new) /
                           (double)s->crr_start * 100.0
                     : NAN;
    }
    goto done;
nomem:
    status = xs_error_set(err, XS_ERR_NOMEM, "out of memory");
fail:
    xs_segmentation_free(s);
    s = NULL;
done:
    free(last_ts);
    free(money);
    free(keys);
    free(freq);
    free(v);
    free(sc);
    free(rk);
    *out = s;
    return status;
}
