/*
 * clv.c -- customer lifetime value from events: summarise the customers
 * (clv_summary.c), fit BG/NBD and Gamma-Gamma (clv_fit.c), then score every
 * customer (clv_bgnbd.c, clv_gg.c) and, with a holdout period, compare the
 * model's conditional expectation with what the customers then did.
 *
 * Times: the summary is in whole days; T, t_x, the horizon and the holdout
 * length are divided by the unit (1 or 7 days) before the models see them.
 *
 * Scoring is independent per customer and runs on cfg->threads threads,
 * each on a contiguous slice of the rows; the holdout sums are made after
 * the join, in row order, so the figures do not depend on the thread
 * count.
 *
 * CLV = sum_{i=1..h} (E[Y(i)] - E[Y(i-1)]) x E[M] / (1+d)^i: the purchases
 * expected in each unit of the horizon, valued at the expected spend per
 * purchase and discounted to now at d per unit; with d = 0 this is E[Y(h)]
 * x E[M] and takes one evaluation.  Without prices E[M] is 1: CLV counts
 * (discounted) purchases.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "offline/clv_int.h"

#define DAY 86400

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void xs_clv_free(xs_clv *c)
{
    if (!c)
        return;
    free(c->rows);
    free(c);
}

typedef struct score_job {
    xs_clv *c;
    size_t from, to;
    double hold_t;          /* holdout length in units */
    double *hold_pred;      /* per row, with a holdout */
    double fallback_spend;  /* E[M] where the model's is undefined */
    size_t nonconverged;
    pthread_t tid;
} score_job;

static void score_row(score_job *j, xs_clv_row *row, double *hold_pred)
{
    const xs_clv *c = j->c;
    const xs_clv_input *in = &row->in;
    row->p_alive = xs_bgnbd_p_alive(&c->bg, in->x, in->t_x, in->T);
    double e;
    if (xs_bgnbd_expected(&c->bg, c->horizon, in->x, in->t_x, in->T, &e))
        j->nonconverged++;
    row->expected = e;
    double spend = 1;
    row->exp_spend = NAN;
    if (c->monetary) {
        spend = c->has_gg ? xs_gg_expected_spend(&c->gg, in->x, in->monetary)
                          : NAN;
        if (isnan(spend))
            spend = in->x > 0 ? in->monetary : j->fallback_spend;
        row->exp_spend = spend;
    }
    if (c->discount > 0) {
        double prev = 0, sum = 0, disc = 1;
        for (int i = 1; i <= c->horizon; i++) {
            double ei;
            if (i == c->horizon)
                ei = e;
            else if (xs_bgnbd_expected(&c->bg, i, in->x, in->t_x, in->T,
                                       &ei))
                j->nonconverged++;
            disc /= 1 + c->discount;
            sum += (ei - prev) * disc;
            prev = ei;
        }
        row->clv = sum * spend;
    } else {
        row->clv = e * spend;
    }
    if (hold_pred &&
        xs_bgnbd_expected(&c->bg, j->hold_t, in->x, in->t_x, in->T,
                          hold_pred))
        j->nonconverged++;
}

static void *score_slice(void *arg)
{
    score_job *j = arg;
    for (size_t i = j->from; i < j->to; i++)
        score_row(j, &j->c->rows[i], j->hold_pred ? &j->hold_pred[i] : NULL);
    return NULL;
}

static int score_all(xs_clv *c, int threads, double hold_t, double *pred,
                     double fallback_spend)
{
    if (threads <= 0) {
        long p = sysconf(_SC_NPROCESSORS_ONLN);
        threads = p > 0 ? (int)p : 1;
    }
    if (threads > 64)
        threads = 64;
    if ((size_t)threads > c->n / 1024 + 1)
        threads = (int)(c->n / 1024 + 1);
    score_job job[64];
    int started = 0;
    for (int t = 0; t < threads; t++) {
        job[t] = (score_job){c, c->n * (size_t)t / (size_t)threads,
                             c->n * (size_t)(t + 1) / (size_t)threads,
                             hold_t, pred, fallback_spend, 0, 0};
        if (t > 0 && pthread_create(&job[t].tid, NULL, score_slice, &job[t]))
            break;
        started = t + 1;
    }
    score_slice(&job[0]);
    for (int t = started; t < threads; t++) /* not started: do it here */
        score_slice(&job[t]);
    for (int t = 1; t < started; t++)
        pthread_join(job[t].tid, NULL);
    for (int t = 0; t < threads; t++)
        c->nonconverged += job[t].nonconverged;
    return 0;
}

int xs_clv_compute(const xs_dataset *ds, const xs_catalog *cat,
                   const xs_clv_config *cfg, xs_clv **out, xs_error *err)
{
    *out = NULL;
    const char *ts_col = cfg->timestamp_column ? cfg->timestamp_column
                                               : "timestamp";
    int unit = cfg->unit_days ? cfg->unit_days : 7;
    int horizon = cfg->horizon ? cfg->horizon : 364 / unit;
    if (unit != 1 && unit != 7)
        return xs_error_set(err, XS_ERR_USAGE,
                            "the unit must be 1 or 7 days, not %d", unit);
    if (horizon < 1 || horizon > 100000)
        return xs_error_set(err, XS_ERR_USAGE,
                            "the horizon must be 1..100000 units, not %d",
                            horizon);
    if (!(cfg->discount >= 0) || !isfinite(cfg->discount))
        return xs_error_set(err, XS_ERR_USAGE,
                            "the discount rate must be >= 0");
    if (!ds->has_customer || !ds->customers)
        return xs_error_set(err, XS_ERR_DATA,
                            "CLV needs customers: give --events with a "
                            "customer column");
    if (!ds->has_timestamp)
        return xs_error_set(err, XS_ERR_DATA,
                            "the events have no '%s' column: CLV needs "
                            "purchase times (map another column with "
                            "--columns timestamp=NAME)", ts_col);
    if (ds->n_events == 0)
        return xs_error_set(err, XS_ERR_DATA, "no events");
    int64_t first = ds->events[0].ts, last = ds->events[0].ts;
    for (size_t i = 1; i < ds->n_events; i++) {
        if (ds->events[i].ts < first)
            first = ds->events[i].ts;
        if (ds->events[i].ts > last)
            last = ds->events[i].ts;
    }
    int64_t until = cfg->has_until ? cfg->until : last;
    if (until < first)
        return xs_error_set(err, XS_ERR_USAGE,
                            "until (%lld) is before the first event (%lld)",
                            (long long)until, (long long)first);
    int64_t until_day = floor_div(until, DAY);
    int64_t hold_day = 0;
    if (cfg->has_holdout) {
        hold_day = floor_div(cfg->holdout_until, DAY);
        if (hold_day <= until_day)
            return xs_error_set(err, XS_ERR_USAGE,
                                "the holdout must end on a day after until "
                                "(%lld is not after %lld)",
                                (long long)cfg->holdout_until,
                                (long long)until);
    }

    xs_clv *c = calloc(1, sizeof *c);
    if (!c)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    c->until = until;
    c->holdout_until = cfg->holdout_until;
    c->has_holdout = cfg->has_holdout;
    c->unit_days = unit;
    c->horizon = horizon;
    c->discount = cfg->discount;
    c->monetary = !cfg->no_monetary && (ds->has_price || cat != NULL);
    clv_days *days = NULL;
    double *pred = NULL;
    size_t n = 0;
    xs_clv_input *in = NULL;
    double t0 = now_s();
    int status = clv_summarise(ds, cat, c->monetary, until_day,
                               cfg->has_holdout, hold_day, cfg->price_column,
                               &days, &n, &c->left_out, err);
    if (status)
        goto fail;
    if (n == 0) {
        status = xs_error_set(err, XS_ERR_DATA,
                              "no customer bought on or before until");
        goto fail;
    }
    c->rows = calloc(n, sizeof *c->rows);
    in = malloc(n * sizeof *in);
    if (!c->rows || !in)
        goto nomem;
    c->n = n;
    double repeat_spend = 0;
    size_t repeat_paid = 0;
    for (size_t i = 0; i < n; i++) {
        xs_clv_row *r = &c->rows[i];
        const clv_days *d = &days[i];
        r->customer = d->customer;
        r->in.x = d->x;
        r->in.t_x = (double)(d->last - d->first) / unit;
        r->in.T = (double)(until_day - d->first) / unit;
        r->in.monetary = !c->monetary ? NAN
                         : d->x      ? d->repeat_spend / d->x
                                     : 0;
        r->holdout = d->holdout;
        in[i] = r->in;
        c->repeat += d->x > 0;
        if (c->monetary && d->x > 0) {
            repeat_spend += r->in.monetary;
            repeat_paid++;
        }
    }
    free(days);
    days = NULL;
    double t1 = now_s();
    c->seconds[0] = t1 - t0;
    if ((status = xs_bgnbd_fit(in, n, &c->bg, err)))
        goto fail;
    double t2 = now_s();
    c->seconds[1] = t2 - t1;
    if (c->monetary) {
        if ((status = xs_gg_fit(in, n, &c->gg, err)))
            goto fail;
        c->has_gg = 1;
        if (!(c->gg.q > 1))
            snprintf(c->gg_note, sizeof c->gg_note,
                     "q = %.4g <= 1: the population's mean spend is "
                     "undefined; customers without repeat purchases are "
                     "valued at the repeat customers' mean spend", c->gg.q);
    }
    double t3 = now_s();
    c->seconds[2] = t3 - t2;
    if (c->has_holdout && !(pred = calloc(n, sizeof *pred)))
        goto nomem;
    score_all(c, cfg->threads,
              (double)(hold_day - until_day) / unit, pred,
              repeat_paid ? repeat_spend / (double)repeat_paid : 0);
    if (c->has_holdout) {
        for (size_t i = 0; i < n; i++) {
            uint32_t x = c->rows[i].in.x;
            int bin = x < XS_CLV_HOLDOUT_BINS - 1 ? (int)x
                                                  : XS_CLV_HOLDOUT_BINS - 1;
            c->hold_customers[bin]++;
            c->hold_actual[bin] += c->rows[i].holdout;
            c->hold_predicted[bin] += pred[i];
            c->holdout_actual += c->rows[i].holdout;
            c->holdout_predicted += pred[i];
        }
    }
    c->seconds[3] = now_s() - t3;
    free(pred);
    free(in);
    *out = c;
    return XS_OK;
nomem:
    status = xs_error_set(err, XS_ERR_NOMEM, "out of memory");
fail:
    free(days);
    free(pred);
    free(in);
    xs_clv_free(c);
    return status;
}
