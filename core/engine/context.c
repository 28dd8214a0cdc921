/*
 * context.c -- per-thread request state (engine/context.h).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/context.h"

xs_context *xs_context_new(xs_engine *e)
{
    xs_context *ctx = calloc(1, sizeof *ctx);
    if (ctx)
        ctx->engine = e;
    return ctx;
}

void xs_context_free(xs_context *ctx)
{
    if (!ctx)
        return;
    xs_result_free(&ctx->res);
    for (size_t i = 0; i < ctx->n_sub; i++)
        xs_result_free(&ctx->sub[i]);
    free(ctx->sub);
    free(ctx->tasks);
    free(ctx->jobs);
    free(ctx->recs);
    free(ctx->names);
    free(ctx->parts);
    free(ctx->exclude);
    free(ctx->q_ids);
    free(ctx->q_boost);
    free(ctx);
}

const char *xs_context_note(const xs_context *ctx)
{
    return ctx->res.note;
}

int xs_context_recs_reserve(xs_context *ctx, uint32_t n)
{
    if (n <= ctx->cap_recs)
        return 0;
    xs_rec *recs = realloc(ctx->recs, n * sizeof *recs);
    if (!recs)
        return -1;
    ctx->recs = recs;
    char *names = realloc(ctx->names, (size_t)n * XS_NAMES_LEN);
    if (!names)
        return -1;
    ctx->names = names;
    ctx->cap_recs = n;
    return 0;
}

int xs_context_query_reserve(xs_context *ctx, uint32_t n)
{
    if (n <= ctx->cap_q)
        return 0;
    uint32_t *ids = realloc(ctx->q_ids, 3 * (size_t)n * sizeof *ids);
    if (!ids)
        return -1;
    ctx->q_ids = ids;
    double *b = realloc(ctx->q_boost, (size_t)n * sizeof *b);
    if (!b)
        return -1;
    ctx->q_boost = b;
    ctx->cap_q = n;
    return 0;
}

int xs_context_exclude_reserve(xs_context *ctx, size_t n)
{
    if (n <= ctx->cap_exclude)
        return 0;
    if (n > UINT32_MAX)
        return -1;
    uint32_t *v = realloc(ctx->exclude, n * sizeof *v);
    if (!v)
        return -1;
    ctx->exclude = v;
    ctx->cap_exclude = (uint32_t)n;
    return 0;
}

int xs_context_recs_from(xs_context *ctx, xs_plugin_instance *pi,
                         const xs_request *req, size_t *n, xs_error *err)
{
    const xs_topk *t = &ctx->res.topk;
    if (xs_context_recs_reserve(ctx, t->n))
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    const xs_plugin *p = pi->so.table;
    for (uint32_t i = 0; i < t->n; i++) {
        xs_rec *rec = &ctx->recs[i];
        rec->item = t->heap[i].item;
        rec->score = t->heap[i].score;
        rec->plugin = p->name;
        rec->ev.n = 0;
        if (req->explain && p->explain)
            p->explain(pi->state, req, rec->item, &rec->ev);
    }
    *n = t->n;
    return XS_OK;
}
