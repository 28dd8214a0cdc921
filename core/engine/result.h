/*
 * engine/result.h -- one plugin run's result: the bounded heap push()
 * fills, the request's filters push() applies, and the scratch memory a
 * plugin may take for the length of a request (the xs_result a plugin
 * sees through xsell/plugin.h).
 *
 * Ownership: a result belongs to one context (one thread); its heap and
 * scratch chunks are reused from request to request and freed with
 * xs_result_free.  The filters point into memory the caller keeps valid
 * for the request (the context's exclusion list, the engine's catalog).
 */
#ifndef XS_ENGINE_RESULT_H
#define XS_ENGINE_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "data/props.h"
#include "xsell/catalog.h"
#include "xsell/topk.h"

/* What push() refuses besides invalid candidates: set once per request
 * (engine/business_rules.c) and shared by every result of a blend. */
typedef struct xs_result_filter {
    const uint32_t *exclude; /* sorted */
    uint32_t n_exclude;
    uint32_t n_items;        /* ids at or above are unknown */
    const xs_catalog *cat;   /* for the stock and category rules; NULL */
    uint32_t category;       /* XS_NONE: no category filter */
    int64_t now;             /* the request's time, for items with dates */
    const xs_prop_query *q;  /* property filter and boosts; NULL: none */
} xs_result_filter;

typedef struct xs_scratch_chunk xs_scratch_chunk;

struct xs_result {
    xs_topk topk;
    xs_result_filter filter;
    uint64_t dropped; /* unknown ids or non-finite scores, this run */
    const char *note; /* the plugin's reason for answering nothing (note()),
                         NULL; the plugin's memory, valid for the request */
    xs_scratch_chunk *scratch;
};

/* Empties r for a run keeping k entries: heap emptied, scratch rewound
 * (several chunks merge into one as large as them all), dropped zeroed,
 * note cleared.
 * Returns 0 or -1 when out of memory. */
int xs_result_reset(xs_result *r, uint32_t k);
void xs_result_free(xs_result *r);

/* The host API's push(): offers (item, score) under the filters; 1 when
 * kept for now, 0 when refused. */
int xs_result_push(xs_result *r, uint32_t item, double score);
/* Whether push() would take item for the filter alone (host API admits). */
int xs_result_admits(const xs_result *r, uint32_t item);

/* The host API's scratch(): bytes that live until the next reset, aligned
 * for any type; NULL when out of memory. */
void *xs_result_scratch(xs_result *r, size_t bytes);

/* The host API's note(): keeps why (not copied) as the run's reason. */
void xs_result_note(xs_result *r, const char *why);

#endif
