/*
 * eval_run.c -- one whole evaluation (xs_eval_run, xsell/eval.h): every
 * test customer of a split asked for its top k, scored against its test
 * items.
 *
 * Ids.  The split's dataset and the train engine intern items apart, so
 * each input item is mapped once to the engine's id when it has train
 * events, else to n_items + its input id: relevant, never recommendable,
 * never equal to a recommended id.  Events are grouped by customer with a
 * counting sort; each customer's train items and test items are sorted, so
 * "bought in train" is a merge.
 */
#include <stdlib.h>
#include <string.h>

#include "offline/eval_items.h"
#include "xsell/eval.h"
#include "xsell/plugin_util.h"

/* Everything one run allocates, freed in one place. */
typedef struct run {
    xs_context *ctx;
    xs_eval *acc;
    size_t *start, *order; /* events of ds grouped by customer */
    uint32_t *item_map, *train_items, *rel, *recs;
    unsigned char *has_events; /* engine item ids with train events */
} run;

static void run_free(run *r)
{
    xs_context_free(r->ctx);
    xs_eval_free(r->acc);
    free(r->start);
    free(r->order);
    free(r->item_map);
    free(r->train_items);
    free(r->rel);
    free(r->recs);
    free(r->has_events);
}

/* The distinct relevant items of one customer: its test items not among
 * its train items (both sorted in place).  Returns how many, in rel. */
static size_t relevant(uint32_t *train, size_t n_tr, uint32_t *rel,
                       size_t n_rel)
{
    n_tr = xs_sort_unique(train, (uint32_t)n_tr);
    n_rel = xs_sort_unique(rel, (uint32_t)n_rel);
    size_t m = 0, t = 0;
    for (size_t j = 0; j < n_rel; j++) {
        while (t < n_tr && train[t] < rel[j])
            t++;
        if (t < n_tr && train[t] == rel[j])
            continue;
        rel[m++] = rel[j];
    }
    return m;
}

int xs_eval_run(xs_engine *e, const char *plugin, uint32_t k,
                const xs_dataset *ds, const unsigned char *is_test,
                xs_eval_report *report, xs_eval_skipped *skipped,
                xs_error *err)
{
    memset(report, 0, sizeof *report);
    memset(skipped, 0, sizeof *skipped);
    if (k < 1 || k > XS_K_MAX)
        return xs_error_set(err, XS_ERR_USAGE, "k must be 1..%d, not %u",
                            XS_K_MAX, (unsigned)k);
    const xs_dataset *tds = xs_engine_dataset(e);
    uint32_t n_engine = xs_dict_size(tds->items);
    size_t n_ev = ds->n_events;
    uint32_t n_items = xs_dict_size(ds->items);
    uint32_t n_cust = xs_dict_size(ds->customers);
    run r = {0};
    r.has_events = calloc((size_t)n_engine + 1, 1);
    r.item_map = malloc(((size_t)n_items + 1) * sizeof *r.item_map);
    r.start = calloc((size_t)n_cust + 2, sizeof *r.start);
    r.order = malloc((n_ev + 1) * sizeof *r.order);
    r.train_items = malloc((n_ev + 1) * sizeof *r.train_items);
    r.rel = malloc((n_ev + 1) * sizeof *r.rel);
    r.recs = malloc((size_t)k * sizeof *r.recs);
    r.ctx = xs_context_new(e);
    int rc = XS_ERR_NOMEM;
    if (!r.has_events || !r.item_map || !r.start || !r.order ||
        !r.train_items || !r.rel || !r.recs || !r.ctx)
        goto nomem;
    uint32_t n_train;
    xs_eval_map_items(e, ds, r.has_events, r.item_map, &n_train);
    if (!(r.acc = xs_eval_new(n_train, k)))
        goto nomem;
    for (size_t i = 0; i < n_ev; i++)
        r.start[ds->events[i].customer + 2]++;
    for (uint32_t c = 0; c < n_cust; c++)
        r.start[c + 2] += r.start[c + 1];
    for (size_t i = 0; i < n_ev; i++) /* start[c + 1] fills, ends at c + 2 */
        r.order[r.start[ds->events[i].customer + 1]++] = i;
    for (uint32_t c = 0; c < n_cust; c++) {
        size_t n_tr = 0, n_rel = 0;
        for (size_t j = r.start[c]; j < r.start[c + 1]; j++) {
            size_t i = r.order[j];
            uint32_t it = r.item_map[ds->events[i].item];
            if (is_test[i])
                r.rel[n_rel++] = it;
            else
                r.train_items[n_tr++] = it;
        }
        if (n_rel == 0)
            continue; /* not a test customer */
        if (n_tr == 0) {
            skipped->cold++;
            continue;
        }
        size_t m = relevant(r.train_items, n_tr, r.rel, n_rel);
        if (m == 0) {
            skipped->no_relevant++;
            continue;
        }
        const char *name = xs_dict_name(ds->customers, c);
        xs_request req = {NULL, 0,
                          xs_dict_find(tds->customers, name, strlen(name)), k,
                          0, XS_NONE};
        const xs_rec *recs;
        size_t n = 0;
        if ((rc = xs_engine_recommend_filtered(e, r.ctx, plugin, &req, NULL,
                                               &recs, &n, err)))
            goto out;
        for (size_t j = 0; j < n; j++)
            r.recs[j] = recs[j].item;
        if ((rc = xs_eval_add(r.acc, r.recs, n, r.rel, m, err)))
            goto out;
    }
    xs_eval_result(r.acc, report);
    rc = XS_OK;
    goto out;
nomem:
    xs_error_set(err, XS_ERR_NOMEM, "out of memory");
out:
    run_free(&r);
    return rc;
}

void xs_eval_map_items(xs_engine *e, const xs_dataset *ds,
                       unsigned char *has_events, uint32_t *item_map,
                       uint32_t *n_train)
{
    const xs_dataset *tds = xs_engine_dataset(e);
    uint32_t n_engine = xs_dict_size(tds->items);
    *n_train = 0; /* the train items: those with train events */
    for (size_t i = 0; i < tds->n_events; i++)
        if (!has_events[tds->events[i].item]) {
            has_events[tds->events[i].item] = 1;
            (*n_train)++;
        }
    /* an item only viewed (carted) in train is known to the engine too:
     * recommending it on the strength of its views can be a hit */
    for (size_t i = 0; i < tds->n_other; i++)
        if (!has_events[tds->other[i].item]) {
            has_events[tds->other[i].item] = 1;
            (*n_train)++;
        }
    for (uint32_t i = 0, n = xs_dict_size(ds->items); i < n; i++) {
        uint32_t t = xs_engine_item(e, xs_dict_name(ds->items, i));
        item_map[i] = t != XS_NONE && has_events[t] ? t : n_engine + i;
    }
}
