/*
 * engine_internal.h -- the engine's insides, shared by engine.c (life cycle,
 * requests) and host.c (the API table handed to plugins).  Not installed.
 */
#ifndef XS_ENGINE_INTERNAL_H
#define XS_ENGINE_INTERNAL_H

#include "xsell/engine.h"
#include "xsell/topk.h"

/* What a plugin sees as its host: a thin handle on the engine. */
struct xs_host {
    xs_engine *engine;
};

typedef struct plugin_instance {
    xs_plugin_so so;
    void *state;
} plugin_instance;

struct xs_engine {
    xs_dataset *ds;
    xs_catalog *cat;
    xs_engine_config cfg;
    int default_scope;
    xs_txns txns[2];
    xs_cooc *cooc[2];
    uint32_t *hist_off; /* customer -> first event (events sorted by
                           customer, then time); NULL without customers */
    xs_host host;
    xs_plugin_path path;
    plugin_instance *plugins;
    size_t n_plugins;
};

/* Per-request result sink (a plugin's xs_result). */
typedef struct scratch_chunk {
    struct scratch_chunk *next;
    size_t cap, used;
    max_align_t data[];
} scratch_chunk;

struct xs_result {
    xs_topk topk;
    const uint32_t *exclude; /* sorted */
    uint32_t n_exclude;
    uint32_t n_items;
    uint64_t dropped; /* unknown ids or non-finite scores, since creation */
    scratch_chunk *scratch;
};

struct xs_context {
    xs_engine *engine;
    xs_result res;
    xs_rec *recs;
    uint32_t cap_recs;
};

extern const xs_host_api xs_host_api_table;

/* Scratch memory life cycle (host.c). */
void xs_result_scratch_reset(xs_result *r);
void xs_result_scratch_free(xs_result *r);

#endif
