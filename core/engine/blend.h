/*
 * engine/blend.h -- one answer from all loaded plugins (the method is in
 * blend.c and README.md, "Blend").
 */
#ifndef XS_ENGINE_BLEND_H
#define XS_ENGINE_BLEND_H

#include <stddef.h>

#include "engine/context.h"
#include "engine/pool.h"
#include "engine/registry.h"

/* Blends the plugins of reg with weight > 0 for req, filling from plugin
 * fill (an index of reg, or -1: none) when fewer than k remain; ctx->res's
 * filter must be set (engine/business_rules.h).  Plugins run on pool
 * (NULL: one after the other in the caller).  On XS_OK *out points at *n
 * results owned by ctx. */
int xs_blend_run(xs_registry *reg, xs_pool *pool, int fill, xs_context *ctx,
                 const xs_request *req, const xs_rec **out, size_t *n,
                 xs_error *err);

#endif
