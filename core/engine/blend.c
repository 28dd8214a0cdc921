/*
 * blend.c -- one answer from all loaded plugins.
 *
 * Method (documented for users in README.md, "Blend"):
 *   1. every plugin with weight w > 0 answers the request for its top
 *      m = max(2k, k + 10) items (at most XS_K_MAX), under the request's
 *      business rules (push() filters, so nothing filtered takes a place);
 *      w is weight.NAME, or weight.NAME.customer for a request with a
 *      customer and no items when that is set (settings.c: copurchase's
 *      answer to such a request is its history fallback, 0 by default);
 *   2. each list is normalised by its own top score: s / max when every
 *      score is >= 0 and max > 0, else (s - min) / (max - min) (1 when all
 *      are equal) -- plugins score on unrelated scales (lift, affinity,
 *      counts), and the top of each list is what each plugin is sure of;
 *   3. an item's blended score is the sum of w x normalised score over the
 *      plugins that returned it (an item two plugins agree on rises); items
 *      whose sum is 0 (the bottom of a min-max normalised list, a plugin
 *      scoring 0) are left out: nothing recommends them, and fillers must
 *      rank strictly below every blended item;
 *   4. the k best are kept (ties by lower item id); when fewer than k
 *      remain, the fill plugin (popular by default) adds items not yet
 *      present, each scored floor / 2 x its normalised fill score, where
 *      floor is the lowest blended score (1 when there is none): fillers rank
 *      below every blended item and keep the fill plugin's order.
 * Each result names its plugins joined by '+' in load order ("copurchase+
 * recency"); fillers name the fill plugin.  With explain, a blended item's
 * evidence is one field per contributing plugin (its weighted normalised
 * score, keyed by the plugin's name) followed by the evidence of the plugin
 * that contributed most, as far as XS_EVIDENCE_MAX allows.
 *
 * Cost: with blend threads (xs_engine_config.blend_threads, `serve
 * --blend-threads`) the plugins run side by side, the caller taking one and
 * any the pool has not started (engine/pool.c), so a blend costs about its
 * slowest plugin while cores are free and the sum of them when all are
 * busy; without, they run one after the other in the caller.  Each plugin
 * has its own result heap and scratch memory in the context; the lists are
 * merged in load order (the answer does not depend on which thread ran
 * what) by one sort of at most P x m entries, all in context memory reused
 * from request to request.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/blend.h"

static int cmp_part(const void *a, const void *b)
{
    const xs_blend_part *x = a, *y = b;
    if (x->item != y->item)
        return x->item < y->item ? -1 : 1;
    return (x->plugin > y->plugin) - (x->plugin < y->plugin);
}

/* Normalises a sorted heap in place to [0, 1] (see step 2). */
static void normalise(xs_topk *t)
{
    if (t->n == 0)
        return;
    double max = t->heap[0].score, min = t->heap[t->n - 1].score;
    for (uint32_t i = 0; i < t->n; i++) {
        double s = t->heap[i].score;
        t->heap[i].score = min >= 0 && max > 0 ? s / max
                           : max > min         ? (s - min) / (max - min)
                                               : 1.0;
    }
}

/* A plugin's weight for req: weight.NAME.customer for a customer-only
 * request when set, else weight.NAME. */
static double blend_weight(const xs_plugin_instance *pi,
                           const xs_request *req)
{
    return req->n_items == 0 && pi->weight_customer >= 0 ? pi->weight_customer
                                                         : pi->weight;
}

static int parts_reserve(xs_context *ctx, size_t n)
{
    if (n <= ctx->cap_parts)
        return 0;
    size_t cap = ctx->cap_parts ? ctx->cap_parts : 256;
    while (cap < n)
        cap *= 2;
    xs_blend_part *p = realloc(ctx->parts, cap * sizeof *p);
    if (!p)
        return -1;
    ctx->parts = p;
    ctx->cap_parts = cap;
    return 0;
}

/* One result, task and job per plugin, kept from request to request. */
static int subs_reserve(xs_context *ctx, size_t n)
{
    if (n <= ctx->n_sub)
        return 0;
    xs_result *sub = realloc(ctx->sub, n * sizeof *sub);
    if (!sub)
        return -1;
    memset(sub + ctx->n_sub, 0, (n - ctx->n_sub) * sizeof *sub);
    ctx->sub = sub;
    ctx->n_sub = n;
    xs_task *tasks = realloc(ctx->tasks, n * sizeof *tasks);
    if (tasks)
        ctx->tasks = tasks;
    xs_job *jobs = realloc(ctx->jobs, n * sizeof *jobs);
    if (jobs)
        ctx->jobs = jobs;
    return tasks && jobs ? 0 : -1;
}

/* First part of item (parts sorted by item). */
static size_t parts_of(const xs_context *ctx, uint32_t item)
{
    size_t lo = 0, hi = ctx->n_parts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ctx->parts[mid].item < item)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Names, evidence of one blended item from its parts. */
static void describe(const xs_registry *reg, xs_context *ctx,
                     const xs_request *req, uint32_t slot)
{
    xs_rec *rec = &ctx->recs[slot];
    char *name = ctx->names + (size_t)slot * XS_NAMES_LEN;
    size_t used = 0;
    name[0] = '\0';
    rec->plugin = name;
    rec->ev.n = 0;
    size_t best = SIZE_MAX;
    for (size_t i = parts_of(ctx, rec->item);
         i < ctx->n_parts && ctx->parts[i].item == rec->item; i++) {
        const xs_blend_part *bp = &ctx->parts[i];
        const char *pn = reg->v[bp->plugin].so.table->name;
        size_t len = strlen(pn);
        if (used + len + 2 < XS_NAMES_LEN) {
            if (used)
                name[used++] = '+';
            memcpy(name + used, pn, len + 1);
            used += len;
        }
        if (best == SIZE_MAX || bp->score > ctx->parts[best].score)
            best = i;
        if (req->explain)
            xs_evidence_add(&rec->ev, pn, bp->score, NULL);
    }
    if (req->explain && best != SIZE_MAX) {
        const xs_plugin_instance *pi = &reg->v[ctx->parts[best].plugin];
        xs_evidence more = {0};
        if (pi->so.table->explain &&
            pi->so.table->explain(pi->state, req, rec->item, &more) == 0)
            for (uint32_t f = 0; f < more.n; f++)
                xs_evidence_add(&rec->ev, more.f[f].key, more.f[f].value,
                                more.f[f].text);
    }
}

/* Appends fillers from plugin pi after the m blended results. */
static int fill(xs_plugin_instance *pi, xs_context *ctx,
                const xs_request *req, size_t m, size_t *n, xs_error *err)
{
    uint32_t want = req->k + (uint32_t)m;
    if (want > XS_K_MAX)
        want = XS_K_MAX;
    xs_task task = {pi, req, want, &ctx->res, XS_OK};
    if (xs_task_run(&task))
        return xs_task_error(&task, err);
    xs_topk *t = &ctx->res.topk;
    normalise(t);
    double base = m ? ctx->recs[m - 1].score : 1.0;
    size_t out = m;
    for (uint32_t i = 0; i < t->n && out < req->k; i++) {
        uint32_t item = t->heap[i].item;
        int dup = 0;
        for (size_t j = 0; j < m && !dup; j++)
            dup = ctx->recs[j].item == item;
        if (dup)
            continue;
        xs_rec *rec = &ctx->recs[out++];
        rec->item = item;
        rec->score = base / 2 * t->heap[i].score;
        rec->plugin = pi->so.table->name;
        rec->ev.n = 0;
        if (req->explain && pi->so.table->explain)
            pi->so.table->explain(pi->state, req, item, &rec->ev);
    }
    *n = out;
    return XS_OK;
}

int xs_blend_run(xs_registry *reg, xs_pool *pool, int fill_with,
                 xs_context *ctx, const xs_request *req, const xs_rec **out,
                 size_t *n, xs_error *err)
{
    uint32_t k = req->k;
    uint32_t m = 2 * k > k + 10 ? 2 * k : k + 10;
    if (m > XS_K_MAX)
        m = XS_K_MAX;
    xs_result *r = &ctx->res;
    ctx->n_parts = 0;
    if (subs_reserve(ctx, reg->n))
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    size_t n_tasks = 0;
    for (size_t p = 0; p < reg->n; p++) {
        xs_plugin_instance *pi = &reg->v[p];
        if (blend_weight(pi, req) <= 0)
            continue;
        xs_result *sr = &ctx->sub[p];
        sr->filter = r->filter; /* the request's filters, shared */
        ctx->tasks[n_tasks] = (xs_task){pi, req, m, sr, XS_OK};
        ctx->jobs[n_tasks] = (xs_job){xs_task_job, &ctx->tasks[n_tasks], 0,
                                      NULL};
        n_tasks++;
    }
    xs_pool_run(pool, ctx->jobs, n_tasks);
    for (size_t t = 0; t < n_tasks; t++) { /* in load order: deterministic */
        xs_task *task = &ctx->tasks[t];
        if (task->rc)
            return xs_task_error(task, err);
        xs_topk *tk = &task->res->topk;
        normalise(tk);
        if (parts_reserve(ctx, ctx->n_parts + tk->n))
            return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        uint32_t p = (uint32_t)(task->pi - reg->v);
        for (uint32_t i = 0; i < tk->n; i++)
            ctx->parts[ctx->n_parts++] = (xs_blend_part){
                tk->heap[i].item, p,
                blend_weight(task->pi, req) * tk->heap[i].score};
    }
    if (ctx->n_parts > 1)
        qsort(ctx->parts, ctx->n_parts, sizeof *ctx->parts, cmp_part);
    if (xs_topk_reset(&r->topk, k) || xs_context_recs_reserve(ctx, k))
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ctx->n_parts;) {
        uint32_t item = ctx->parts[i].item;
        double sum = 0;
        for (; i < ctx->n_parts && ctx->parts[i].item == item; i++)
            sum += ctx->parts[i].score;
        if (sum > 0) /* nothing recommends an item scoring 0 */
            xs_topk_push(&r->topk, item, sum);
    }
    xs_topk_sort(&r->topk);
    size_t got = r->topk.n;
    for (uint32_t i = 0; i < got; i++) {
        ctx->recs[i].item = r->topk.heap[i].item;
        ctx->recs[i].score = r->topk.heap[i].score;
        describe(reg, ctx, req, i);
    }
    if (got < k && fill_with >= 0 && (size_t)fill_with < reg->n) {
        int rc = fill(&reg->v[fill_with], ctx, req, got, &got, err);
        if (rc)
            return rc;
    }
    *out = ctx->recs;
    *n = got;
    return XS_OK;
}
