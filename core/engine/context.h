/*
 * engine/context.h -- one thread's request state (xs_context of
 * xsell/engine.h): the result heap, the recommendations handed back, the
 * exclusion list, and the blend's per-plugin results and merge space.
 *
 * Ownership: a context belongs to the thread that created it and owns all
 * of this memory, reused from request to request: a warm context serves a
 * request without allocating.  Results handed out (xs_rec, their names)
 * stay valid until the context's next request.
 */
#ifndef XS_ENGINE_CONTEXT_H
#define XS_ENGINE_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/pool.h"
#include "engine/result.h"
#include "engine/run.h"
#include "xsell/engine.h"

/* Room for one recommendation's joined plugin names ("a+b+c"). */
#define XS_NAMES_LEN 160

/* One plugin's normalised contribution to a blended item. */
typedef struct xs_blend_part {
    uint32_t item;
    uint32_t plugin; /* index in the registry */
    double score;    /* weight x normalised score */
} xs_blend_part;

struct xs_context {
    xs_engine *engine; /* the engine it was made for */
    xs_result res;     /* single-plugin requests, the blend's merge, fill */
    xs_rec *recs;
    uint32_t cap_recs;
    char *names;       /* the recs' joined plugin names, XS_NAMES_LEN each */
    uint32_t *exclude; /* request items + exclusions + owned, sorted */
    uint32_t cap_exclude;
    xs_blend_part *parts; /* the blend's plugin lists, then sorted by item */
    size_t n_parts, cap_parts;
    xs_result *sub;    /* the blend: one result per plugin, */
    xs_task *tasks;    /* one task each, */
    xs_job *jobs;      /* and the job running it */
    size_t n_sub;
    xs_prop_query q;   /* the request's property rules, resolved: */
    uint32_t *q_ids;   /* 3 x cap_q: filter labels, group ends, boost labels */
    double *q_boost;   /* cap_q boost factors (their labels in q_ids) */
    uint32_t cap_q;
};

/* Room for n recommendations (and their names).  0 or -1 (memory). */
int xs_context_recs_reserve(xs_context *ctx, uint32_t n);

/* Room for n property terms (engine/business_rules.c).  0 or -1. */
int xs_context_query_reserve(xs_context *ctx, uint32_t n);

/* Room for n excluded ids.  0 or -1 (memory, or n beyond 2^32). */
int xs_context_exclude_reserve(xs_context *ctx, size_t n);

/* Fills ctx->recs[0 .. *n) from the sorted heap of ctx->res, produced by
 * plugin pi for req (explained when req asks).  XS_OK or XS_ERR_NOMEM. */
int xs_context_recs_from(xs_context *ctx, xs_plugin_instance *pi,
                         const xs_request *req, size_t *n, xs_error *err);

#endif
