/*
 * recency_model.h -- what the recency tests (test_recency.c,
 * test_recency_online.c) share: the fixture's paths, engines with recency,
 * requests and expected answers, and an independent brute force of the
 * plugin's formulas (recency_model.c).
 */
#ifndef XT_RECENCY_MODEL_H
#define XT_RECENCY_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "xsell/xsell.h"

#define DAY 86400.0
#define MAX_REC 1000

/* tests/data/plugins/recency_events.csv, recency_combined.csv (the fixture
 * plus the rows of the ingest batch), cli/small_baskets.csv. */
extern char fixture[512], combined[512], baskets[512];

/* Sets the paths: 0, or xt_skip()'s code. */
int recency_model_init(void);

typedef struct want {
    const char *item;
    double score;
} want;

/* Engines on path (baskets when the file's name says so): without
 * plugins; with recency created from "k=v" options (NULL terminated) and
 * owned items kept, NULL with a failed check.  add_recency: the engine's
 * status, its message in msg. */
xs_engine *engine_on(const char *path, int is_baskets);
int add_recency(xs_engine *e, const char *const *opts, char *msg,
                size_t msglen);
xs_engine *recency_on(const char *path, int is_baskets,
                      const char *const *opts);

/* Asks recency (explained) for customer (a name, NULL: none) and items
 * (comma separated names, "" for none); *n answers. */
const xs_rec *run(xs_engine *e, xs_context *ctx, const char *customer,
                  const char *items, uint32_t k, size_t *n);
/* run, expecting exactly w[0 .. n_w) in order, scores within rel; the
 * answers when they are as expected, else NULL. */
const xs_rec *expect(const char *label, xs_engine *e, xs_context *ctx,
                     const char *customer, const char *items, uint32_t k,
                     double rel, const want *w, size_t n_w);
/* The evidence field key of r holds the number (within 1e-6) or text. */
void check_num(const xs_rec *r, const char *key, double want_);
void check_text(const xs_rec *r, const char *key, const char *want_);
/* Unix seconds of an ISO-8601 date or date time. */
int64_t when(const char *iso);

/* Every customer and every one- and two-item basket of the data at path
 * against the brute force, for several option sets and both scopes (with
 * max_nb: max_neighbours, against the brute force of the capped lists). */
void brute_force_check_m(const char *path, int64_t t_ref_default,
                         uint32_t max_nb);
void brute_force_check(const char *path, int64_t t_ref_default);

/* Ingests the rows recency_combined.csv adds to the fixture; the status. */
int ingest_batch(xs_engine *e);
/* The same answer (items by name, scores within rel) from engines a and b
 * for one request (ids may differ between engines). */
void compare_engines(const char *label, xs_engine *a, xs_context *ca,
                     xs_engine *b, xs_context *cb, const char *customer,
                     const char *item, double rel);

#endif
