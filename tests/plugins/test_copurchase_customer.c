/*
 * test_copurchase_customer.c -- copurchase asked for a customer only (no
 * items): the customer's `history` latest distinct purchases are the
 * basket; a request it still cannot answer gets nothing and a reason
 * (xs_context_note); a blend with such a plugin still answers, with no
 * note.  Counts (measure=count, every pair: min_count=1) on a fixture
 * worked out by hand.
 *
 * The fixture (basket scope: orders), ids by first appearance
 *   milk 0, bread 1, jam 2, tea 3, coffee 4:
 *   O1 c1 t1 {milk, bread}    O2 c2 t2 {milk, bread, jam}
 *   O3 c3 t3 {bread, jam}     O4 c4 t4 {tea, coffee}
 *   O5 c5 t5 {milk, tea}
 *   c9: O6 t10 {jam}, O7 t20 {tea}, O8 t30 {tea}
 * pairs: milk-bread 2, milk-jam 1, bread-jam 2, tea-coffee 1, milk-tea 1.
 *
 * c9's latest distinct purchases: tea, jam.
 *   history=5 (and 2: tea counts once): basket {jam, tea}:
 *     milk 1 (jam) + 1 (tea) = 2, bread 2 (jam), coffee 1 (tea);
 *     jam and tea are owned: dropped.  Ties by lower id: milk, bread.
 *   history=1: basket {tea}: milk 1, coffee 1.
 */
#include <stdio.h>
#include <string.h>

#include "xsell/xsell.h"

#include "fixture.h"
#include "test_util.h"

static const char fixture_csv[] =
    "customer,item,timestamp,order\n"
    "c1,milk,1,O1\nc1,bread,1,O1\n"
    "c2,milk,2,O2\nc2,bread,2,O2\nc2,jam,2,O2\n"
    "c3,bread,3,O3\nc3,jam,3,O3\n"
    "c4,tea,4,O4\nc4,coffee,4,O4\n"
    "c5,milk,5,O5\nc5,tea,5,O5\n"
    "c9,jam,10,O6\nc9,tea,20,O7\nc9,tea,30,O8\n";

typedef struct want {
    const char *item;
    double score;
} want;

/* Runs plugin for customer (NULL: none) with no items; checks the answer
 * against w[0 .. n_w) and returns the context's note. */
static const char *ask(xs_engine *e, xs_context *ctx, const char *plugin,
                       const char *customer, const want *w, size_t n_w,
                       const char *label)
{
    xs_request req = {.customer = customer ? xtp_customer(e, customer)
                                           : XS_NONE,
                      .k = 5, .explain = 1, .category = XS_NONE};
    const xs_rec *out = NULL;
    size_t n = 0;
    xs_error err = {0};
    if (!CHECK_MSG(xs_engine_recommend(e, ctx, plugin, &req, &out, &n,
                                       &err) == XS_OK,
                   "%s: %s", label, err.msg))
        return NULL;
    int ok = w ? n == n_w : 1;
    for (size_t i = 0; ok && w && i < n; i++)
        ok = !strcmp(xs_engine_item_name(e, out[i].item), w[i].item) &&
             out[i].score == w[i].score;
    if (!CHECK_MSG(ok, "%s: %zu results", label, n))
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "   got %s %g\n",
                    xs_engine_item_name(e, out[i].item), out[i].score);
    /* explain names the basket item the rule comes from */
    for (size_t i = 0; w && i < n; i++)
        CHECK_MSG(xtp_field(&out[i], "from") != NULL, "%s: no 'from'",
                  label);
    if (n > 0 && w && !strcmp(w[n - 1].item, "coffee")) {
        const xs_evidence_field *f = xtp_field(&out[n - 1], "from");
        CHECK(f && f->text && !strcmp(f->text, "tea"));
    }
    return xs_context_note(ctx);
}

static xs_engine *engine(const char *path, const char *history)
{
    const char *opts[] = {"measure=count", "min_count=1", history, NULL};
    return xtp_engine_with(path, NULL, "copurchase", opts);
}

int main(void)
{
    int rc = xtp_init();
    if (rc)
        return rc;
    const char *path =
        xt_write_file("events.csv", fixture_csv, sizeof fixture_csv - 1);
    static const char *const histories[] = {"history=5", "history=2"};
    for (int h = 0; h < 2; h++) {
        xs_engine *e = engine(path, histories[h]);
        if (!e)
            return xt_done();
        xs_context *ctx = xs_context_new(e);
        const want all[] = {{"milk", 2}, {"bread", 2}, {"coffee", 1}};
        CHECK(ask(e, ctx, "copurchase", "c9", all, 3, histories[h]) == NULL);
        /* nothing to answer: nothing, and why */
        const char *why = ask(e, ctx, "copurchase", NULL, NULL, 0, "none");
        CHECK(why && strstr(why, "no known customer"));
        why = ask(e, ctx, "copurchase", "nobody", NULL, 0, "unknown");
        CHECK(why && strstr(why, "no known customer"));
        /* a blend still answers (popular fills), and says nothing */
        xs_error err = {0};
        if (h == 0 &&
            CHECK_MSG(xtp_add(e, "popular", NULL, &err) == XS_OK, "%s",
                      err.msg)) {
            why = ask(e, ctx, NULL, NULL, NULL, 0, "blend");
            CHECK(why == NULL);
            xs_request req = {.k = 3, .category = XS_NONE,
                              .customer = XS_NONE};
            const xs_rec *out;
            size_t n = 0;
            CHECK(xs_engine_recommend(e, ctx, NULL, &req, &out, &n, &err) ==
                      XS_OK &&
                  n == 3);
            /* the reason of one request does not outlive it */
            ask(e, ctx, "copurchase", NULL, NULL, 0, "none again");
            CHECK(xs_engine_recommend(e, ctx, "popular", &req, &out, &n,
                                      &err) == XS_OK);
            CHECK(xs_context_note(ctx) == NULL);
        }
        xs_context_free(ctx);
        xs_engine_free(e);
    }
    xs_engine *e = engine(path, "history=1");
    if (e) {
        xs_context *ctx = xs_context_new(e);
        const want latest[] = {{"milk", 1}, {"coffee", 1}};
        CHECK(ask(e, ctx, "copurchase", "c9", latest, 2, "history=1") ==
              NULL);
        /* items given: the history is not used */
        uint32_t ids[1];
        uint32_t n_ids = xtp_items(e, "coffee", ids, 1);
        xs_request req = {ids, n_ids, xtp_customer(e, "c9"), 5, 0, XS_NONE};
        const xs_rec *out;
        size_t n = 0;
        xs_error err = {0};
        CHECK(xs_engine_recommend(e, ctx, "copurchase", &req, &out, &n,
                                  &err) == XS_OK);
        CHECK_EQU(n, 0); /* tea, the only neighbour, is owned */
        xs_context_free(ctx);
        xs_engine_free(e);
    }
    e = engine(path, "history=0");
    if (e) {
        xs_context *ctx = xs_context_new(e);
        const char *why = ask(e, ctx, "copurchase", "c9", NULL, 0, "off");
        CHECK(why && strstr(why, "history=0"));
        xs_context_free(ctx);
        xs_engine_free(e);
    }
    return xt_done();
}
