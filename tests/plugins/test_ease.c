/*
 * test_ease.c -- the ease plugin against a case solved by hand in exact
 * rational arithmetic, its sparse mode against the dense one, the size
 * limit, option errors, online refits and explain.
 *
 * The fixture (basket scope: orders), ids by first appearance a 0, b 1,
 * c 2, d 3:
 *   O1 c1 {a, b}   O2 c2 {a, b, c}   O3 c3 {a, c}   O4 c4 {b, d}
 *   O5 c5 {c, d}   O6 c6 {a}         O7 c7 {b}
 *
 * With lambda = 1, G + lambda I and its inverse P are
 *
 *          a  b  c  d                 a       b       c       d
 *     a [  5  2  2  0 ]        a [  25/83   -9/83  -12/83    7/83 ]
 *     b [  2  5  1  1 ]   P =  b [  -9/83  43/166    1/83  -15/166]
 *     c [  2  1  4  1 ]        c [ -12/83    1/83   29/83  -10/83 ]
 *     d [  0  1  1  3 ]        d [   7/83  -15/166 -10/83   67/166]
 *
 * and B_ij = -P_ij / P_jj (B_jj = 0):
 *
 *          a       b       c       d
 *     a [  0     18/43   12/29  -14/67 ]
 *     b [  9/25   0      -1/29   15/67 ]
 *     c [ 12/25  -2/43    0      20/67 ]
 *     d [ -7/25  15/43   10/29    0    ]
 *
 * So: items {a} -> b 18/43, c 12/29, d -14/67; items {a, b} -> c 11/29,
 * d 1/67 (12/29 - 1/29, -14/67 + 15/67); customer c1 (owns a, b) the
 * same, explain(c) from a (12/29), explain(d) from b (15/67); customer c6
 * (owns a) with items {d}: x = {a, d} -> b 33/43, c 22/29.
 *
 * Sparse mode, neighbours=1: N_j is j's one strongest co-occurring item
 * (ties: lower id): N_b = {a}, N_c = {a}, N_d = {b}, so for items {a}
 * b = c = G_ab / (G_aa + 1) = 2/5 (tie: b first) and d is not reached.
 *
 * weights=event: smaller fixtures with weights (at event_weights), B
 * from a Gauss-Jordan solve of the hand-built G + I written here.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "xsell/xsell.h"

#include "fixture.h"
#include "test_util.h"

static const char fixture_csv[] =
    "customer,item,timestamp,order\n"
    "c1,a,1,O1\nc1,b,1,O1\n"
    "c2,a,2,O2\nc2,b,2,O2\nc2,c,2,O2\n"
    "c3,a,3,O3\nc3,c,3,O3\n"
    "c4,b,4,O4\nc4,d,4,O4\n"
    "c5,c,5,O5\nc5,d,5,O5\n"
    "c6,a,6,O6\n"
    "c7,b,7,O7\n";

typedef struct want {
    const char *item;
    double score;
} want;

/* Asks plugin "ease" for items (comma separated, NULL: none) and
 * customer (NULL: none); checks the answer is w[0 .. n_w) to 1e-9 and
 * returns the results (valid until the next request on ctx). */
static const xs_rec *ask(xs_engine *e, xs_context *ctx, const char *items,
                         const char *customer, const want *w, size_t n_w,
                         const char *label)
{
    uint32_t ids[8];
    uint32_t n_ids = items ? xtp_items(e, items, ids, 8) : 0;
    xs_request req = {.items = ids, .n_items = n_ids,
                      .customer = customer ? xtp_customer(e, customer)
                                           : XS_NONE,
                      .k = 5, .explain = 1, .category = XS_NONE};
    const xs_rec *out = NULL;
    size_t n = 0;
    xs_error err = {0};
    if (!CHECK_MSG(xs_engine_recommend(e, ctx, "ease", &req, &out, &n,
                                       &err) == XS_OK,
                   "%s: %s", label, err.msg))
        return NULL;
    int ok = n == n_w;
    for (size_t i = 0; ok && i < n; i++)
        ok = !strcmp(xs_engine_item_name(e, out[i].item), w[i].item) &&
             fabs(out[i].score - w[i].score) < 1e-9;
    if (!CHECK_MSG(ok, "%s: %zu results, want %zu", label, n, n_w))
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "   got %s %.12g\n",
                    xs_engine_item_name(e, out[i].item), out[i].score);
    return out;
}

static xs_engine *engine(const char *path, const char *o1, const char *o2,
                         const char *o3)
{
    const char *opts[] = {"lambda=1", o1, o2, o3, NULL};
    return xtp_engine_with(path, NULL, "ease", opts);
}

static void check_from(const xs_rec *r, const char *from, double weight)
{
    const xs_evidence_field *f = r ? xtp_field(r, "from") : NULL;
    const xs_evidence_field *w = r ? xtp_field(r, "weight") : NULL;
    CHECK_MSG(f && f->text && !strcmp(f->text, from), "from: want %s, "
              "got %s", from, f && f->text ? f->text : "none");
    CHECK_MSG(w && fabs(w->value - weight) < 1e-9, "weight: want %g", weight);
}

/* The hand-solved answers, from an engine in any mode that is exact. */
static void hand_solved(xs_engine *e, const char *label)
{
    xs_context *ctx = xs_context_new(e);
    const want a[] = {{"b", 18.0 / 43}, {"c", 12.0 / 29}, {"d", -14.0 / 67}};
    ask(e, ctx, "a", NULL, a, 3, label);
    const want ab[] = {{"c", 11.0 / 29}, {"d", 1.0 / 67}};
    ask(e, ctx, "a,b", NULL, ab, 2, label);
    const xs_rec *r = ask(e, ctx, NULL, "c1", ab, 2, label);
    if (r) {
        check_from(&r[0], "a", 12.0 / 29);
        check_from(&r[1], "b", 15.0 / 67);
    }
    const want ad[] = {{"b", 33.0 / 43}, {"c", 22.0 / 29}};
    ask(e, ctx, "d", "c6", ad, 2, label);
    xs_context_free(ctx);
}

/* The plugin's create/prepare error for opts, checked to hold needle. */
static void refused(const char *path, const char *o1, const char *o2,
                    const char *needle)
{
    xs_engine *e = xtp_engine(path, NULL);
    if (!e)
        return;
    const char *opts[] = {o1, o2, NULL};
    xs_error err = {0};
    CHECK_MSG(xtp_add(e, "ease", opts, &err) != XS_OK &&
                  strstr(err.msg, needle),
              "%s %s: want '%s', got '%s'", o1, o2 ? o2 : "", needle,
              err.msg);
    xs_engine_free(e);
}

static xs_ingest_event event(const char *customer, const char *item,
                             const char *order)
{
    return (xs_ingest_event){.customer = customer,
                             .item = item,
                             .order = order,
                             .customer_len = (uint32_t)strlen(customer),
                             .item_len = (uint32_t)strlen(item),
                             .order_len = (uint32_t)strlen(order),
                             .ts = 8,
                             .weight = 1,
                             .price = NAN};
}

/* Online: an order {a, d} ingested.  With refit_every=2 the plugin refits
 * and answers like an engine loaded with that order; with refit_every=0
 * it keeps the old fit (stale). */
static void online(const char *path, const char *path_more)
{
    xs_engine *live = engine(path, "refit_every=2", NULL, NULL);
    xs_engine *stale = engine(path, "refit_every=0", NULL, NULL);
    xs_engine *full = engine(path_more, NULL, NULL, NULL);
    if (live && stale && full) {
        xs_ingest_event ev[2] = {event("c8", "a", "O8"),
                                 event("c8", "d", "O8")};
        xs_error err = {0};
        CHECK_MSG(xs_engine_ingest(live, ev, 2, &err) == XS_OK, "%s",
                  err.msg);
        CHECK_MSG(xs_engine_ingest(stale, ev, 2, &err) == XS_OK, "%s",
                  err.msg);
        xs_context *cl = xs_context_new(live), *cs = xs_context_new(stale);
        xs_context *cf = xs_context_new(full);
        uint32_t id;
        xs_request req = {.items = &id, .n_items = 1, .customer = XS_NONE,
                          .k = 5, .category = XS_NONE};
        const xs_rec *ol, *os, *of;
        size_t nl = 0, ns = 0, nf = 0;
        xtp_items(live, "a", &id, 1);
        CHECK(xs_engine_recommend(live, cl, "ease", &req, &ol, &nl, &err) ==
              XS_OK);
        xtp_items(stale, "a", &id, 1);
        CHECK(xs_engine_recommend(stale, cs, "ease", &req, &os, &ns, &err) ==
              XS_OK);
        xtp_items(full, "a", &id, 1);
        CHECK(xs_engine_recommend(full, cf, "ease", &req, &of, &nf, &err) ==
              XS_OK);
        CHECK_EQU(nl, nf);
        for (size_t i = 0; i < nl && i < nf; i++)
            CHECK_MSG(!strcmp(xs_engine_item_name(live, ol[i].item),
                              xs_engine_item_name(full, of[i].item)) &&
                          fabs(ol[i].score - of[i].score) < 1e-9,
                      "refit: result %zu differs", i);
        /* the stale engine still answers from the first fit */
        const want a[] = {{"b", 18.0 / 43}, {"c", 12.0 / 29},
                          {"d", -14.0 / 67}};
        CHECK_EQU(ns, 3);
        for (size_t i = 0; i < ns && i < 3; i++)
            CHECK(!strcmp(xs_engine_item_name(stale, os[i].item),
                          a[i].item) &&
                  fabs(os[i].score - a[i].score) < 1e-9);
        /* and the refit did change the answer: d moved up */
        CHECK(nl == 3 && ol[2].score > -14.0 / 67 + 1e-6);
        xs_context_free(cl);
        xs_context_free(cs);
        xs_context_free(cf);
    }
    xs_engine_free(live);
    xs_engine_free(stale);
    xs_engine_free(full);
}

/* weights=event.  Customer scope, items a 0, b 1, c 2, c2 buying c twice:
 *   c1 {a 2, b 1}   c2 {a 1, b 1, c 1 + 1}   c3 {b 2, c 1}
 * so the rows of X are (2 1 0), (1 1 2), (0 2 1) and G = X^T X is
 *   [5 3 2; 3 6 4; 2 4 5]   (binary: [2 2 1; 2 3 2; 1 2 2]).
 * Basket scope, c2's orders interleaved in time, O2 {a 1, b 1} and
 * O4 {c 1 + 1}: the rows are (2 1 0), (1 1 0), (0 0 2), (0 2 1). */
static const char weighted_csv[] =
    "customer,item,timestamp,weight\n"
    "c1,a,1,2\nc1,b,1,1\n"
    "c2,a,2,1\nc2,b,2,1\nc2,c,2,1\nc2,c,3,1\n"
    "c3,b,4,2\nc3,c,4,1\n";
static const char weighted_orders_csv[] =
    "customer,item,timestamp,order,weight\n"
    "c1,a,1,O1,2\nc1,b,1,O1,1\n"
    "c2,a,2,O2,1\nc2,c,3,O4,1\nc2,b,4,O2,1\nc2,c,5,O4,1\n"
    "c3,b,6,O3,2\nc3,c,6,O3,1\n";
/* the fixture's orders as a --baskets file: no customers, no histories */
static const char no_customers_csv[] =
    "a,b\na,b,c\na,c\nb,d\nc,d\na\nb\n";

/* B of EASE for the 3 x 3 Gram matrix of the rows of x (n_rows x 3) and
 * lambda 1, by Gauss-Jordan elimination on [G + I | I]. */
static void brute_b(const double (*x)[3], size_t n_rows, double b[3][3])
{
    double a[3][6] = {{0}};
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++)
            for (size_t t = 0; t < n_rows; t++)
                a[i][j] += x[t][i] * x[t][j];
        a[i][i] += 1.0;
        a[i][3 + i] = 1.0;
    }
    for (int c = 0; c < 3; c++) {
        int piv = c;
        for (int r = c + 1; r < 3; r++)
            if (fabs(a[r][c]) > fabs(a[piv][c]))
                piv = r;
        for (int k = 0; k < 6; k++) {
            double tmp = a[c][k];
            a[c][k] = a[piv][k];
            a[piv][k] = tmp;
        }
        double d = a[c][c];
        for (int k = 0; k < 6; k++)
            a[c][k] /= d;
        for (int r = 0; r < 3; r++)
            if (r != c) {
                double f = a[r][c];
                for (int k = 0; k < 6; k++)
                    a[r][k] -= f * a[c][k];
            }
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            b[i][j] = i == j ? 0.0 : -a[i][3 + j] / a[j][3 + j];
}

/* Items {from} (0..2 as a, b, c) against B: the other two, best first. */
static void ask_b(xs_engine *e, int from, double b[3][3], const char *label)
{
    static const char *const names[] = {"a", "b", "c"};
    int j1 = (from + 1) % 3, j2 = (from + 2) % 3;
    if (b[from][j2] > b[from][j1] ||
        (b[from][j2] == b[from][j1] && j2 < j1)) {
        int tmp = j1;
        j1 = j2;
        j2 = tmp;
    }
    want w[2] = {{names[j1], b[from][j1]}, {names[j2], b[from][j2]}};
    xs_context *ctx = xs_context_new(e);
    ask(e, ctx, names[from], NULL, w, 2, label);
    xs_context_free(ctx);
}

static void event_weights(const char *path, const char *path_orders,
                          const char *path_plain)
{
    static const double xc[][3] = {{2, 1, 0}, {1, 1, 2}, {0, 2, 1}};
    static const double xb[][3] = {{1, 1, 0}, {1, 1, 1}, {0, 1, 1}};
    static const double xo[][3] = {{2, 1, 0}, {1, 1, 0}, {0, 0, 2},
                                   {0, 2, 1}};
    double bc[3][3], bb[3][3], bo[3][3];
    brute_b(xc, 3, bc);
    brute_b(xb, 3, bb);
    brute_b(xo, 4, bo);
    /* the hand-built G of the comment above */
    CHECK(fabs(bc[0][1] - bb[0][1]) > 1e-3); /* weights change B */
    xs_engine *e = engine(path, "weights=event", "mode=dense", NULL);
    for (int i = 0; e && i < 3; i++)
        ask_b(e, i, bc, "weights=event, customer");
    xs_engine_free(e);
    e = engine(path, "weights=binary", NULL, NULL);
    for (int i = 0; e && i < 3; i++)
        ask_b(e, i, bb, "weights=binary, customer");
    xs_engine_free(e);
    e = engine(path_orders, "weights=event", "scope=basket", NULL);
    for (int i = 0; e && i < 3; i++)
        ask_b(e, i, bo, "weights=event, basket");
    xs_engine_free(e);
    /* no customers: the rows (binary), the hand-solved B */
    e = engine(path_plain, "weights=event", NULL, NULL);
    if (e) {
        xs_context *ctx = xs_context_new(e);
        const want a[] = {{"b", 18.0 / 43}, {"c", 12.0 / 29},
                          {"d", -14.0 / 67}};
        ask(e, ctx, "a", NULL, a, 3, "weights=event, no customers");
        xs_context_free(ctx);
    }
    xs_engine_free(e);
    refused(path, "weights=foo", NULL,
            "weights: want binary or event, not 'foo'");
    refused(path, "weights=event", "mode=sparse",
            "weights=event needs mode=dense");
    refused(path, "weights=event", "max_dense=2",
            "weights=event needs mode=dense");
}

int main(void)
{
    int rc = xtp_init();
    if (rc)
        return rc;
    char path[1024], path_more[1024];
    snprintf(path, sizeof path, "%s",
             xt_write_file("events.csv", fixture_csv, sizeof fixture_csv - 1));
    static const char more[] = "c8,a,8,O8\nc8,d,8,O8\n";
    char both[sizeof fixture_csv + sizeof more];
    snprintf(both, sizeof both, "%s%s", fixture_csv, more);
    snprintf(path_more, sizeof path_more, "%s",
             xt_write_file("events_more.csv", both, strlen(both)));

    /* dense (auto picks it), dense asked, sparse with every item as a
     * neighbour, auto above max_dense (sparse): all exact */
    static const char *const exact[][3] = {
        {NULL, NULL, NULL},
        {"mode=dense", NULL, NULL},
        {"mode=sparse", "neighbours=3", NULL},
        {"mode=sparse", "neighbours=1000", "threads=3"},
        {"max_dense=3", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++) {
        xs_engine *e = engine(path, exact[i][0], exact[i][1], exact[i][2]);
        if (e) {
            char label[64];
            snprintf(label, sizeof label, "case %zu", i);
            hand_solved(e, label);
        }
        xs_engine_free(e);
    }

    /* sparse with one neighbour: the approximation, by hand */
    xs_engine *e = engine(path, "mode=sparse", "neighbours=1", NULL);
    if (e) {
        xs_context *ctx = xs_context_new(e);
        const want a[] = {{"b", 0.4}, {"c", 0.4}};
        ask(e, ctx, "a", NULL, a, 2, "neighbours=1");
        xs_context_free(ctx);
    }
    xs_engine_free(e);

    /* the limit, and option errors */
    refused(path, "mode=dense", "max_dense=3",
            "4 items need 128 B (8 n^2 bytes), over the limit max_dense=3");
    refused(path, "mode=dense", "max_dense=3", "use mode=sparse");
    refused(path, "lambda=0", NULL, "lambda: want a number > 0, not '0'");
    refused(path, "lambda=-1", NULL, "lambda: want a number > 0");
    refused(path, "lambda=x", NULL, "lambda: want a number > 0, not 'x'");
    refused(path, "mode=fast", NULL,
            "mode: want auto, dense or sparse, not 'fast'");
    refused(path, "neighbours=0", NULL, "neighbours: want an integer");
    refused(path, "alpha=1", NULL, "unknown option 'alpha'");

    online(path, path_more);

    char path_w[1024], path_wo[1024], path_plain[1024];
    snprintf(path_w, sizeof path_w, "%s",
             xt_write_file("weighted.csv", weighted_csv,
                           sizeof weighted_csv - 1));
    snprintf(path_wo, sizeof path_wo, "%s",
             xt_write_file("weighted_orders.csv", weighted_orders_csv,
                           sizeof weighted_orders_csv - 1));
    snprintf(path_plain, sizeof path_plain, "%s",
             xt_write_file("plain_baskets.csv", no_customers_csv,
                           sizeof no_customers_csv - 1));
    event_weights(path_w, path_wo, path_plain);
    return xt_done();
}
