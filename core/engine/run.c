/*
 * run.c -- one plugin answering one request (engine/run.h).
 *
 * The plugin sees the request with its own k (the blend asks each plugin
 * for more than the request's k); its result is emptied first and sorted
 * after, so the caller reads it best first.
 */
#include <stdatomic.h>

#include "engine/run.h"

int xs_task_run(xs_task *t)
{
    xs_result *r = t->res;
    if (xs_result_reset(r, t->k))
        return t->rc = XS_ERR_NOMEM;
    xs_request sub = *t->req;
    sub.k = t->k;
    int rc = t->pi->so.table->recommend(t->pi->state, &sub, r);
    if (r->dropped)
        atomic_fetch_add_explicit(&t->pi->dropped, r->dropped,
                                  memory_order_relaxed);
    if (rc)
        return t->rc = XS_ERR_PLUGIN;
    xs_topk_sort(&r->topk);
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
