/*
 * run.c -- one plugin answering one request (engine/run.h).
 *
 * The plugin sees the request with its own k (the blend asks each plugin
 * for more than the request's k); its result is emptied first and sorted
 * after, so the caller reads it best first.
 *
 * Boosts (xsell/engine.h, xs_filter): a plugin may stop once k pushes are
 * kept, in its own score order, so an item it ranks k+1st would never be
 * offered however much a boost raises it.  With boosts the plugin is asked
 * for widen(k) candidates, push() ranks them by boosted score, and the
 * heap is cut back to k: a boosted item is found when the plugin ranks it
 * within widen(k).
 */
#include <stdatomic.h>

#include "engine/run.h"

/* The depth a plugin is asked for under boosts. */
static uint32_t widen(uint32_t k)
{
    uint32_t w = 4 * k > k + 50 ? 4 * k : k + 50;
    return w > XS_K_MAX ? (k > XS_K_MAX ? k : XS_K_MAX) : w;
}

int xs_task_run(xs_task *t)
{
    xs_result *r = t->res;
    uint32_t ask = r->filter.q && r->filter.q->n_boost ? widen(t->k) : t->k;
    if (xs_result_reset(r, ask))
        return t->rc = XS_ERR_NOMEM;
    xs_request sub = *t->req;
    sub.k = ask;
    int rc = t->pi->so.table->recommend(t->pi->state, &sub, r);
    if (r->dropped)
        atomic_fetch_add_explicit(&t->pi->dropped, r->dropped,
                                  memory_order_relaxed);
    if (rc)
        return t->rc = XS_ERR_PLUGIN;
    xs_topk_sort(&r->topk);
    if (r->topk.n > t->k) /* sorted: the k best boosted stay */
        r->topk.n = t->k;
    return t->rc = XS_OK;
}

void xs_task_job(void *arg)
{
    xs_task_run(arg);
}

int xs_task_error(const xs_task *t, xs_error *err)
{
    if (t->rc == XS_ERR_NOMEM)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    return xs_error_set(err, XS_ERR_PLUGIN, "plugin %s failed",
                        t->pi->so.table->name);
}
