/*
 * ease/ease.h -- the ease plugin: Steck's EASE ("Embarrassingly Shallow
 * Autoencoders for Sparse Data", WWW 2019), an item-item linear model
 * fitted in closed form.  This header holds the method (below) and what
 * the plugin's files share: options and life cycle (ease.c), the dense fit
 * (fit.c), the scalable fit (sparse.c), scoring and explain (score.c).
 *
 * The model.  X is the (by default binary) transaction x item matrix of the plugin's
 * scope (a transaction is an order in basket scope, a customer in customer
 * scope), exactly as the host's co-occurrence tables count it (the first
 * max_basket distinct items of a transaction), so
 *
 *     G = X^T X:   G_ii = support(i),  G_ij = n_ij (the pair count)
 *
 * is read from the host's rows, never from the events (weights=event:
 * below).  Then
 *
 *     P = (G + lambda I)^-1,   B = I - P diag(1 / diag(P))
 *
 * i.e. B_ij = -P_ij / P_jj for i != j and B_jj = 0.  Column j of B is the
 * ridge regression of item j's column of X on every other item's column:
 *
 *     B_{-j,j} = (G_{-j,-j} + lambda I)^-1 G_{-j,j}                  (1)
 *
 * (the block inverse of G + lambda I gives (1) from the formula above).
 * Only items with support > 0 enter the model: an item never seen has a
 * zero row and column in B either way.
 *
 * Event weights (weights=event, dense mode only).  X_ti is then the sum
 * of the weights (quantity or rating) of item i's events in transaction
 * t, over the same transactions and the same first max_basket distinct
 * items (in time order) as the host's tables, and G = X^T X is summed
 * from the customers' histories straight into the dense array (fit.c):
 * G_ii = sum_t X_ti^2, G_ij = sum_t X_ti X_tj.  Basket scope groups the
 * customers' events by order and leaves events without an order out, as
 * the host's tables do.  Data without customers (--baskets files) has no
 * histories and every weight 1 there, so G is the binary one and is read
 * from the rows.  Sparse mode (and mode=auto above max_dense) refuses
 * weights=event: its neighbour lists and G come from the host's rows.
 * The model's items stay those with support > 0; scoring is unchanged
 * (x binary): the weights shape B, not the request.
 *
 * Scoring.  x is the set of the request's items, plus the customer's
 * history items when the request names a known customer (binary, each
 * item once); score(j) = sum over i in x of B_ij.  The host's push()
 * drops the request's items and, by the engine's rules, items the
 * customer owns.  Dense mode pushes every item of the model, sparse mode
 * the items some i in x has an entry for.
 *
 * Dense mode (fit.c).  G in one n x n array of doubles, Cholesky
 * (LAPACKE_dpotrf) and inverse from it (dpotri) in place, then B in place:
 * 8 n^2 bytes for n items, the BLAS's threads doing the work.  Catalogs
 * above max_dense items are refused in mode=dense (the message names the
 * limit, the memory and mode=sparse); mode=auto takes sparse there.
 *
 * Sparse mode (sparse.c).  (1) restricted to each item's strongest
 * neighbours: N_j = the `neighbours` items co-occurring most with j (ties
 * by lower id), and
 *
 *     B_{N_j,j} = (G_{N_j,N_j} + lambda I)^-1 G_{N_j,j}
 *
 * one small Cholesky solve per item, on all the CPUs (pthreads), the rest
 * of column j zero.  When neighbours >= n - 1, N_j is every other item of
 * the model (co-occurring or not) and (1) is solved whole: the two modes
 * then agree to rounding.  Below that, N_j holds only items co-occurring
 * with j, and items outside N_j lose their (correlated) share of the
 * regression: an approximation, measured against dense in
 * bench/peers/ease.sh.  Memory: 12 bytes per kept entry, at most
 * n x neighbours.
 *
 * Online (observe).  Events the host added are counted (stale_events);
 * prepare() refits from the host's tables once refit_every events have
 * come since the last fit (0: never online).  Between refits answers come
 * from the last fit: new items are not scored and new pairs not used.
 * The staleness (events since the fit, seconds since the fit) and the last
 * fit's duration are reported by the stats hook.
 *
 * Explain: from (the item of x contributing most to the score, B_from,j),
 * weight (that B value), and from_2 / weight_2, from_3 / weight_3 for the
 * next ones, and score.
 */
#ifndef XS_PLUGIN_EASE_H
#define XS_PLUGIN_EASE_H

#include <stddef.h>
#include <stdint.h>

#include "xsell/plugin_util.h"

enum { EASE_AUTO = 0, EASE_DENSE = 1, EASE_SPARSE = 2 };
enum { EASE_W_BINARY = 0, EASE_W_EVENT = 1 };

#define EASE_DEFAULT_LAMBDA 100.0
#define EASE_DEFAULT_NEIGHBOURS 200
#define EASE_DEFAULT_MAX_DENSE 16384 /* 8 n^2 bytes: 2 GiB */
#define EASE_DEFAULT_REFIT_EVERY 1000

typedef struct ease_cfg {
    int scope;
    int mode;              /* EASE_AUTO, _DENSE, _SPARSE */
    double lambda;
    uint32_t neighbours;   /* sparse mode: N_j's size */
    uint32_t max_dense;    /* the largest model mode=dense fits */
    uint32_t refit_every;  /* events; 0: never online */
    uint32_t threads;      /* sparse fit; 0: the CPUs */
    int weights;           /* EASE_W_BINARY, _EVENT */
} ease_cfg;

/* One fitted model.  Items are model indices 0..n-1 (ids[] -> item ids,
 * index[] the other way).  Dense: b[i * n + j] = B_ij.  Sparse: row i's
 * entries are cols[rs[i] .. rs[i+1]) (sorted ascending) with vals. */
typedef struct ease_model {
    int dense;
    uint32_t n;
    uint32_t *ids;      /* n */
    uint32_t *index;    /* n_ids: item id -> model index or XS_NONE */
    uint32_t n_ids;     /* item ids covered (item_count at the fit) */
    double *b;          /* dense */
    uint64_t *rs;       /* sparse: n + 1 */
    uint32_t *cols;
    double *vals;
    uint64_t entries;   /* sparse: kept entries */
} ease_model;

typedef struct ease {
    const xs_host_api *api;
    xs_host *host;
    ease_cfg cfg;
    ease_model m;       /* the last fit; m.n == 0 before the first */
    int fitted;
    uint64_t fitted_events; /* events observed before the last fit */
    uint64_t stale_events;  /* events observed since the last fit */
    uint64_t fits;
    int64_t fit_at;         /* CLOCK_REALTIME seconds of the last fit */
    double fit_ms;          /* the last fit's duration */
} ease;

/* fit.c: a fit of the host's current tables into *m (0, or -1 with a
 * message in err and *m empty); frees a model. */
int ease_fit(const ease *e, ease_model *m, char *err, size_t errlen);
void ease_model_free(ease_model *m);
/* fit.c: the items of the model (support > 0) into m->ids, m->index. */
int ease_model_items(const ease *e, ease_model *m);

/* sparse.c: the sparse fit of the items m->ids (0, or -1 with err). */
int ease_fit_sparse(const ease *e, ease_model *m, char *err, size_t errlen);

/* score.c: recommend() and explain(). */
int ease_recommend(void *state, const xs_request *req, xs_result *out);
int ease_explain(void *state, const xs_request *req, uint32_t item,
                 xs_evidence *ev);

#endif
