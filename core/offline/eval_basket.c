/*
 * eval_basket.c -- the basket protocol's run (xs_eval_run_baskets,
 * xsell/eval.h): every held-out basket with a hidden item asked, by its
 * other items and no customer, for the top k, scored against the hidden
 * item.
 *
 * Ids, as in eval_run.c: each input item maps once to the engine's id when
 * it has train events, else to n_engine + its input id (relevant, never
 * recommendable, never asked with).  Baskets are grouped by a counting
 * sort on order id - order_base; the split (eval.c) gave every event of a
 * basket the same side, and xs_basket_hide marked the hidden item's rows.
 * A request's items are the basket's other items known to train, sorted
 * and unique, as xs_engine_recommend wants them.
 */
#include <stdlib.h>
#include <string.h>

#include "offline/eval_items.h"
#include "xsell/eval.h"
#include "xsell/plugin_util.h"

/* Everything one run allocates, freed in one place. */
typedef struct brun {
    xs_context *ctx;
    xs_eval *acc;
    size_t *start, *order; /* events of ds grouped by basket */
    uint32_t *item_map, *given, *recs;
    unsigned char *has_events; /* engine item ids with train events */
} brun;

static void brun_free(brun *r)
{
    xs_context_free(r->ctx);
    xs_eval_free(r->acc);
    free(r->start);
    free(r->order);
    free(r->item_map);
    free(r->given);
    free(r->recs);
    free(r->has_events);
}

static uint32_t basket_of(const xs_dataset *ds, size_t i)
{
    uint32_t o = ds->events[i].order;
    return o == XS_NONE || o < ds->order_base ||
                   o - ds->order_base >= ds->n_orders
               ? XS_NONE
               : o - ds->order_base;
}

int xs_eval_run_baskets(xs_engine *e, const char *plugin, uint32_t k,
                        const xs_dataset *ds, const unsigned char *is_test,
                        const unsigned char *hidden, xs_eval_report *report,
                        xs_eval_skipped *skipped, xs_error *err)
{
    memset(report, 0, sizeof *report);
    memset(skipped, 0, sizeof *skipped);
    if (k < 1 || k > XS_K_MAX)
        return xs_error_set(err, XS_ERR_USAGE, "k must be 1..%d, not %u",
                            XS_K_MAX, (unsigned)k);
    if (!ds->n_orders)
        return xs_error_set(err, XS_ERR_USAGE,
                            "the basket protocol needs orders");
    const xs_dataset *tds = xs_engine_dataset(e);
    uint32_t n_engine = xs_dict_size(tds->items);
    size_t n_ev = ds->n_events;
    uint32_t n_items = xs_dict_size(ds->items), n_b = ds->n_orders;
    brun r = {0};
    r.has_events = calloc((size_t)n_engine + 1, 1);
    r.item_map = malloc(((size_t)n_items + 1) * sizeof *r.item_map);
    r.start = calloc((size_t)n_b + 2, sizeof *r.start);
    r.order = malloc((n_ev + 1) * sizeof *r.order);
    r.given = malloc((n_ev + 1) * sizeof *r.given);
    r.recs = malloc((size_t)k * sizeof *r.recs);
    r.ctx = xs_context_new(e);
    int rc = XS_ERR_NOMEM;
    if (!r.has_events || !r.item_map || !r.start || !r.order || !r.given ||
        !r.recs || !r.ctx)
        goto nomem;
    uint32_t n_train;
    xs_eval_map_items(e, ds, r.has_events, r.item_map, &n_train);
    if (!(r.acc = xs_eval_new(n_train, k)))
        goto nomem;
    for (size_t i = 0; i < n_ev; i++) {
        uint32_t b = basket_of(ds, i);
        if (b != XS_NONE)
            r.start[b + 2]++;
    }
    for (uint32_t b = 0; b < n_b; b++)
        r.start[b + 2] += r.start[b + 1];
    for (size_t i = 0; i < n_ev; i++) { /* start[b + 1] fills */
        uint32_t b = basket_of(ds, i);
        if (b != XS_NONE)
            r.order[r.start[b + 1]++] = i;
    }
    for (uint32_t b = 0; b < n_b; b++) {
        size_t lo = r.start[b], hi = r.start[b + 1], n_given = 0;
        if (lo == hi || !is_test[r.order[lo]])
            continue; /* a train basket */
        uint32_t rel = XS_NONE;
        for (size_t j = lo; j < hi; j++) {
            size_t i = r.order[j];
            uint32_t it = r.item_map[ds->events[i].item];
            if (hidden[i])
                rel = it;
            else if (it < n_engine)
                r.given[n_given++] = it;
        }
        if (rel == XS_NONE) {
            skipped->no_relevant++; /* fewer than 2 distinct items */
            continue;
        }
        n_given = xs_sort_unique(r.given, (uint32_t)n_given);
        if (n_given == 0) {
            skipped->cold++; /* nothing known to ask with */
            continue;
        }
        xs_request req = {r.given, (uint32_t)n_given, XS_NONE, k, 0,
                          XS_NONE};
        const xs_rec *recs;
        size_t n = 0;
        if ((rc = xs_engine_recommend_filtered(e, r.ctx, plugin, &req, NULL,
                                               &recs, &n, err)))
            goto out;
        for (size_t j = 0; j < n; j++)
            r.recs[j] = recs[j].item;
        if ((rc = xs_eval_add(r.acc, r.recs, n, &rel, 1, err)))
            goto out;
    }
    xs_eval_result(r.acc, report);
    rc = XS_OK;
    goto out;
nomem:
    xs_error_set(err, XS_ERR_NOMEM, "out of memory");
out:
    brun_free(&r);
    return rc;
}
