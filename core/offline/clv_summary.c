/*
 * clv_summary.c -- from purchase events to the per-customer summary the
 * CLV models read: first and last purchase day on or before `until`, the
 * repeat purchase days x, the spend of the repeat days, and the purchase
 * days of the holdout period.
 *
 * Purchase days are UTC calendar days (floor(ts / 86400)); several events
 * of a customer on one day are one purchase, their spend (price x weight)
 * summed.  The events are bucketed by customer with a counting sort (two
 * passes, no comparison sort over all events), then each customer's few
 * days are sorted on their own.
 *
 * Which events count is decided in one place, clv_is_purchase().
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "offline/clv_int.h"

#define DAY 86400

/* A purchase: the primary event type (xs_event.reserved, 0 =
 * purchase).  The loader already keeps other types (views, carts) out of
 * ds->events, in ds->other; the test stays so that no other path can
 * count them. */
int clv_is_purchase(const xs_event *ev)
{
    return ev->reserved == 0;
}

static int64_t day_of(int64_t ts)
{
    int64_t q = ts / DAY;
    return (ts % DAY != 0 && ts < 0) ? q - 1 : q;
}

typedef struct day_spend {
    int64_t day;
    double spend;
} day_spend;

static int cmp_day(const void *pa, const void *pb)
{
    const day_spend *a = pa, *b = pb;
    return (a->day > b->day) - (a->day < b->day);
}

static void sort_days(day_spend *v, size_t n)
{
    if (n > 16) {
        qsort(v, n, sizeof *v, cmp_day);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        day_spend t = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1].day > t.day; j--)
            v[j] = v[j - 1];
        v[j] = t;
    }
}

int clv_summarise(const xs_dataset *ds, const xs_catalog *cat, int monetary,
                  int64_t until_day, int has_holdout, int64_t holdout_day,
                  const char *price_column, clv_days **out, size_t *n,
                  size_t *left_out, xs_error *err)
{
    *out = NULL;
    *n = 0;
    *left_out = 0;
    uint32_t nc = xs_dict_size(ds->customers);
    size_t *start = calloc((size_t)nc + 1, sizeof *start);
    if (!start)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    size_t total = 0;
    for (size_t i = 0; i < ds->n_events; i++) {
        const xs_event *ev = &ds->events[i];
        if (ev->customer == XS_NONE || ev->customer >= nc ||
            !clv_is_purchase(ev))
            continue;
        start[ev->customer + 1]++;
        total++;
    }
    for (uint32_t c = 0; c < nc; c++)
        start[c + 1] += start[c];
    day_spend *rec = malloc((total ? total : 1) * sizeof *rec);
    size_t *fill = malloc(((size_t)nc + 1) * sizeof *fill);
    clv_days *rows = malloc((nc ? nc : 1) * sizeof *rows);
    if (!rec || !fill || !rows) {
        free(start);
        free(rec);
        free(fill);
        free(rows);
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    }
    memcpy(fill, start, ((size_t)nc + 1) * sizeof *fill);
    for (size_t i = 0; i < ds->n_events; i++) {
        const xs_event *ev = &ds->events[i];
        if (ev->customer == XS_NONE || ev->customer >= nc ||
            !clv_is_purchase(ev))
            continue;
        double spend = NAN;
        if (monetary) {
            double price = ev->price;
            if (isnan(price)) {
                xs_item_info info;
                if (!cat || !xs_catalog_get(cat, ev->item, &info) ||
                    isnan(info.price)) {
                    free(start);
                    free(rec);
                    free(fill);
                    free(rows);
                    return xs_error_set(
                        err, XS_ERR_DATA,
                        "item '%s' has no price: the events have no '%s' "
                        "value for it and the catalog does not price it",
                        xs_dict_name(ds->items, ev->item),
                        price_column ? price_column : "price");
                }
                price = info.price;
            }
            spend = price * ev->weight;
        }
        rec[fill[ev->customer]++] = (day_spend){day_of(ev->ts), spend};
    }
    free(fill);

    size_t k = 0;
    for (uint32_t c = 0; c < nc; c++) {
        day_spend *v = rec + start[c];
        size_t m = start[c + 1] - start[c];
        if (m == 0)
            continue;
        sort_days(v, m);
        if (v[0].day > until_day) {
            (*left_out)++;
            continue;
        }
        clv_days *r = &rows[k++];
        *r = (clv_days){.customer = c, .first = v[0].day};
        double repeat = 0;
        for (size_t i = 0; i < m; i++) {
            int new_day = i == 0 || v[i].day != v[i - 1].day;
            if (v[i].day <= until_day) {
                if (new_day && i > 0)
                    r->x++;
                r->last = v[i].day;
                if (v[i].day != v[0].day)
                    repeat += v[i].spend;
            } else if (has_holdout && v[i].day <= holdout_day && new_day) {
                r->holdout++;
            }
        }
        r->repeat_spend = monetary ? repeat : NAN;
    }
    free(start);
    free(rec);
    *out = rows;
    *n = k;
    return XS_OK;
}
