/*
 * test_measure.c -- tests for the similarity measures (xsell/measure.h).
 *
 * Owns: count, confidence, lift, jaccard, cosine and LLR against values
 * computed by hand (the arithmetic is in the comments), LLR against the
 * values of Mahout's LogLikelihoodTest and against the independent form
 * G^2 = 2 * sum O ln(O / E), support/confidence/lift on a small basket set
 * as arules defines them (read through a real co-occurrence table), zero
 * denominators and inconsistent counts giving 0, and the measure names
 * (parse/name round trip, unknown names and ids).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "test_util.h"
#include "xsell/cooc.h"
#include "xsell/dataset.h"
#include "xsell/measure.h"

#define TOL 1e-12

/* G^2 = 2 * sum over cells of O * ln(O / E), E = row * col / n: the
 * textbook form, computed independently of xs_llr's entropy form. */
static double g2(double k11, double k12, double k21, double k22)
{
    double n = k11 + k12 + k21 + k22;
    double r1 = k11 + k12, r2 = k21 + k22, c1 = k11 + k21, c2 = k12 + k22;
    double s = 0;
    if (k11 > 0)
        s += k11 * log(k11 * n / (r1 * c1));
    if (k12 > 0)
        s += k12 * log(k12 * n / (r1 * c2));
    if (k21 > 0)
        s += k21 * log(k21 * n / (r2 * c1));
    if (k22 > 0)
        s += k22 * log(k22 * n / (r2 * c2));
    return 2 * s;
}

static void test_names(void)
{
    static const char *const names[XS_MEASURE_COUNT_OF] = {
        "count", "confidence", "lift", "jaccard", "cosine", "llr"};
    CHECK_EQ(XS_MEASURE_COUNT, 0);
    CHECK_EQ(XS_MEASURE_LLR, 5);
    CHECK_EQ(XS_MEASURE_COUNT_OF, 6);
    for (int m = 0; m < XS_MEASURE_COUNT_OF; m++) {
        CHECK_STR(xs_measure_name(m), names[m]);
        CHECK_EQ(xs_measure_parse(names[m]), m);
        CHECK_EQ(xs_measure_parse(xs_measure_name(m)), m);
    }
    CHECK_EQ(xs_measure_parse("lift"), XS_MEASURE_LIFT);
    CHECK_EQ(xs_measure_parse("llr"), XS_MEASURE_LLR);
    CHECK_EQ(xs_measure_parse("support"), -1); /* not a ranking measure */
    CHECK_EQ(xs_measure_parse("foo"), -1);
    CHECK_EQ(xs_measure_parse(""), -1);
    CHECK_EQ(xs_measure_parse("lift "), -1);
    CHECK_EQ(xs_measure_parse("lif"), -1);
    CHECK_EQ(xs_measure_parse("llrx"), -1);
    CHECK_EQ(xs_measure_parse(NULL), -1);
    CHECK(xs_measure_name(-1) == NULL);
    CHECK(xs_measure_name(XS_MEASURE_COUNT_OF) == NULL);
    CHECK(xs_measure_name(1000) == NULL);
}

static void test_hand_tables(void)
{
    /* Table 1: n = 100 transactions, n_a = 10, n_b = 20, n_ab = 8.
     *   count       8
     *   confidence  8 / 10 = 0.8             (a -> b)
     *               8 / 20 = 0.4             (b -> a)
     *   lift        8 * 100 / (10 * 20) = 4
     *   jaccard     8 / (10 + 20 - 8) = 8 / 22 = 0.36363636...
     *   cosine      8 / sqrt(10 * 20) = 8 / 14.1421356... = 0.56568542494923802
     *   llr         cells k11 = 8, k12 = 10 - 8 = 2, k21 = 20 - 8 = 12,
     *               k22 = 100 - 10 - 20 + 8 = 78; rows 10, 90; cols 20, 80;
     *               E = 2, 8, 18, 72;
     *               2 * (8 ln(8/2) + 2 ln(2/8) + 12 ln(12/18) + 78 ln(78/72))
     *             = 2 * (11.09035489 - 2.77258872 - 4.86558130 + 6.24333120)
     *             = 2 * 9.69551607 = 19.39103213591442 */
    CHECK_NEAR(xs_measure(XS_MEASURE_COUNT, 8, 10, 20, 100), 8.0, 0);
    CHECK_NEAR(xs_measure(XS_MEASURE_CONFIDENCE, 8, 10, 20, 100), 0.8, TOL);
    CHECK_NEAR(xs_measure(XS_MEASURE_CONFIDENCE, 8, 20, 10, 100), 0.4, TOL);
    CHECK_NEAR(xs_measure(XS_MEASURE_LIFT, 8, 10, 20, 100), 4.0, TOL);
    CHECK_NEAR(xs_measure(XS_MEASURE_LIFT, 8, 20, 10, 100), 4.0, TOL);
    CHECK_NEAR(xs_measure(XS_MEASURE_JACCARD, 8, 10, 20, 100), 8.0 / 22.0,
               TOL);
    CHECK_NEAR(xs_measure(XS_MEASURE_COSINE, 8, 10, 20, 100),
               0.56568542494923802, TOL);
    CHECK_NEAR(xs_measure(XS_MEASURE_LLR, 8, 10, 20, 100), 19.39103213591442,
               1e-9);
    CHECK_NEAR(xs_measure(XS_MEASURE_LLR, 8, 20, 10, 100), 19.39103213591442,
               1e-9); /* symmetric in a and b */
    CHECK_NEAR(xs_llr(8, 2, 12, 78), 19.39103213591442, 1e-9);

    /* Table 2: n = 10, n_a = 4, n_b = 5, n_ab = 2 -- exactly independent.
     *   confidence  2 / 4 = 0.5
     *   lift        2 * 10 / (4 * 5) = 1
     *   jaccard     2 / (4 + 5 - 2) = 2 / 7
     *   cosine      2 / sqrt(20) = 0.44721359549995794
     *   llr         k = 2, 2, 3, 3; E = 4*5/10 = 2, 4*5/10 = 2, 3, 3 = O,
     *               so every log is ln 1 = 0 and G^2 = 0. */
    CHECK_NEAR(xs_measure(XS_MEASURE_COUNT, 2, 4, 5, 10), 2.0, 0);
    CHECK_NEAR(xs_measure(XS_MEASURE_CONFIDENCE, 2, 4, 5, 10), 0.5, TOL);
    CHECK_NEAR(xs_measure(XS_MEASURE_LIFT, 2, 4, 5, 10), 1.0, TOL);
    CHECK_NEAR(xs_measure(XS_MEASURE_JACCARD, 2, 4, 5, 10), 2.0 / 7.0, TOL);
    CHECK_NEAR(xs_measure(XS_MEASURE_COSINE, 2, 4, 5, 10),
               0.44721359549995794, TOL);
    double llr0 = xs_measure(XS_MEASURE_LLR, 2, 4, 5, 10);
    CHECK(llr0 >= 0.0 && llr0 < 1e-9);

    /* Table 3: always together.  n = 6, n_a = n_b = n_ab = 3.
     *   confidence 1, lift 3 * 6 / 9 = 2, jaccard 3 / 3 = 1, cosine 1,
     *   llr cells 3, 0, 0, 3: like Mahout's (1,0,0,1) scaled by 3, so
     *   3 * 4 ln 2 = 12 ln 2 = 8.317766166719343. */
    CHECK_NEAR(xs_measure(XS_MEASURE_CONFIDENCE, 3, 3, 3, 6), 1.0, TOL);
    CHECK_NEAR(xs_measure(XS_MEASURE_LIFT, 3, 3, 3, 6), 2.0, TOL);
    CHECK_NEAR(xs_measure(XS_MEASURE_JACCARD, 3, 3, 3, 6), 1.0, TOL);
    CHECK_NEAR(xs_measure(XS_MEASURE_COSINE, 3, 3, 3, 6), 1.0, TOL);
    CHECK_NEAR(xs_measure(XS_MEASURE_LLR, 3, 3, 3, 6), 12 * log(2.0), 1e-12);

    /* Table 4: never together.  n = 10, n_a = 5, n_b = 5, n_ab = 0.
     *   count, confidence, lift, jaccard, cosine all 0; llr cells 0, 5, 5, 0
     *   (perfectly anti-correlated) = 10 * 2 ln 2 = 13.862943611198906. */
    CHECK_NEAR(xs_measure(XS_MEASURE_COUNT, 0, 5, 5, 10), 0.0, 0);
    CHECK_NEAR(xs_measure(XS_MEASURE_CONFIDENCE, 0, 5, 5, 10), 0.0, 0);
    CHECK_NEAR(xs_measure(XS_MEASURE_LIFT, 0, 5, 5, 10), 0.0, 0);
    CHECK_NEAR(xs_measure(XS_MEASURE_JACCARD, 0, 5, 5, 10), 0.0, 0);
    CHECK_NEAR(xs_measure(XS_MEASURE_COSINE, 0, 5, 5, 10), 0.0, 0);
    CHECK_NEAR(xs_measure(XS_MEASURE_LLR, 0, 5, 5, 10), 20 * log(2.0), 1e-12);
}

static void test_llr_mahout(void)
{
    /* org.apache.mahout.math.stats.LogLikelihoodTest.testLogLikelihood
     * asserts, with these tolerances:
     *   (1, 0, 0, 1)              2.772589   +- 1e-6
     *   (10, 0, 0, 10)           27.72589    +- 1e-5
     *   (5, 1995, 0, 100000)     39.33052    +- 1e-5
     *   (1000, 1995, 1000, 100000) 4730.737  +- 1e-3
     *   (1000, 1000, 1000, 100000) 5734.343  +- 1e-3
     *   (1000, 1000, 1000, 99000)  5714.932  +- 1e-3
     * The first two are exactly 4 ln 2 and 40 ln 2.  The full-precision
     * values below were computed with 40-digit arithmetic (mpmath) from the
     * same formula; 39.33052165490614 is the value for (5,1995,0,100000)
     * (39.33037... sometimes quoted is off by 1.5e-4 and fails Mahout's own
     * tolerance). */
    static const struct {
        uint64_t k11, k12, k21, k22;
        double mahout, tol, exact;
    } t[] = {
        {1, 0, 0, 1, 2.772589, 1e-6, 2.772588722239781},
        {10, 0, 0, 10, 27.72589, 1e-5, 27.725887222397812},
        {5, 1995, 0, 100000, 39.33052, 1e-5, 39.330521654906138},
        {1000, 1995, 1000, 100000, 4730.737, 1e-3, 4730.7368130612365},
        {1000, 1000, 1000, 100000, 5734.343, 1e-3, 5734.3425245748618},
        {1000, 1000, 1000, 99000, 5714.932, 1e-3, 5714.9323969239964},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        double v = xs_llr(t[i].k11, t[i].k12, t[i].k21, t[i].k22);
        CHECK_MSG(fabs(v - t[i].mahout) <= t[i].tol,
                  "xs_llr(%llu,%llu,%llu,%llu) = %.15g, Mahout %g +- %g",
                  (unsigned long long)t[i].k11, (unsigned long long)t[i].k12,
                  (unsigned long long)t[i].k21, (unsigned long long)t[i].k22,
                  v, t[i].mahout, t[i].tol);
        CHECK_MSG(fabs(v - t[i].exact) <= 1e-9 * t[i].exact,
                  "xs_llr(%llu,%llu,%llu,%llu) = %.17g, exact %.17g",
                  (unsigned long long)t[i].k11, (unsigned long long)t[i].k12,
                  (unsigned long long)t[i].k21, (unsigned long long)t[i].k22,
                  v, t[i].exact);
        /* transposing the table changes nothing */
        CHECK_NEAR(xs_llr(t[i].k11, t[i].k21, t[i].k12, t[i].k22), v,
                   1e-9 * v);
        /* the textbook G^2 agrees */
        CHECK_NEAR(g2((double)t[i].k11, (double)t[i].k12, (double)t[i].k21,
                      (double)t[i].k22), v, 1e-9 * v);
    }
    /* Mahout: (0,1,1,0) is as surprising as (1,0,0,1) */
    CHECK_NEAR(xs_llr(0, 1, 1, 0), 2.772588722239781, 1e-12);
    /* xs_measure maps the counts to the same cells: n_ab = 5, n_a = 2000,
     * n_b = 5, n = 102000 gives k = 5, 1995, 0, 100000 */
    CHECK_NEAR(xs_measure(XS_MEASURE_LLR, 5, 2000, 5, 102000),
               39.330521654906138, 1e-9);
    /* degenerate tables: a zero row or column carries no information */
    CHECK_NEAR(xs_llr(0, 0, 0, 0), 0.0, 0);
    CHECK_NEAR(xs_llr(1, 0, 0, 0), 0.0, 1e-12);
    CHECK_NEAR(xs_llr(5, 7, 0, 0), 0.0, 1e-12);
    CHECK_NEAR(xs_llr(5, 0, 7, 0), 0.0, 1e-12);
    /* never negative, finite on big counts (no overflow in products) */
    double big = xs_llr(3000000000ULL, 1000000000ULL, 2000000000ULL,
                        900000000000ULL);
    CHECK(isfinite(big) && big > 0);
    CHECK_NEAR(big, g2(3e9, 1e9, 2e9, 9e11), 1e-6 * big);
    int negative = 0;
    for (uint64_t a = 0; a < 12; a++)
        for (uint64_t b = 0; b < 12; b++)
            for (uint64_t c = 0; c < 12; c++)
                for (uint64_t d = 0; d < 12; d += 3)
                    negative += !(xs_llr(a, b, c, d) >= 0.0);
    CHECK_EQ(negative, 0);
}

static void test_degenerate(void)
{
    /* zero denominators give 0, never NaN or inf */
    CHECK(xs_measure(XS_MEASURE_CONFIDENCE, 0, 0, 5, 10) == 0.0); /* n_a 0 */
    CHECK(xs_measure(XS_MEASURE_LIFT, 0, 0, 5, 10) == 0.0);
    CHECK(xs_measure(XS_MEASURE_LIFT, 0, 5, 0, 10) == 0.0);
    CHECK(xs_measure(XS_MEASURE_LIFT, 0, 0, 0, 0) == 0.0);
    CHECK(xs_measure(XS_MEASURE_JACCARD, 0, 0, 0, 10) == 0.0);
    CHECK(xs_measure(XS_MEASURE_COSINE, 0, 0, 5, 10) == 0.0);
    CHECK(xs_measure(XS_MEASURE_COSINE, 0, 5, 0, 10) == 0.0);
    CHECK(xs_measure(XS_MEASURE_LLR, 0, 0, 0, 0) == 0.0);
    CHECK(xs_measure(XS_MEASURE_COUNT, 0, 0, 0, 0) == 0.0);
    /* inconsistent counts: LLR refuses to make cells negative */
    CHECK(xs_measure(XS_MEASURE_LLR, 6, 5, 10, 20) == 0.0); /* n_ab > n_a */
    CHECK(xs_measure(XS_MEASURE_LLR, 6, 10, 5, 20) == 0.0); /* n_ab > n_b */
    CHECK(xs_measure(XS_MEASURE_LLR, 1, 10, 10, 15) == 0.0); /* a|b > n */
    /* unknown measure ids */
    CHECK(xs_measure(-1, 1, 2, 3, 4) == 0.0);
    CHECK(xs_measure(XS_MEASURE_COUNT_OF, 1, 2, 3, 4) == 0.0);
    /* everything finite over a grid of consistent small tables */
    int bad = 0;
    for (int m = 0; m < XS_MEASURE_COUNT_OF; m++)
        for (uint64_t n = 0; n < 7; n++)
            for (uint64_t a = 0; a <= n; a++)
                for (uint64_t b = 0; b <= n; b++)
                    for (uint64_t ab = 0; ab <= a && ab <= b; ab++) {
                        if (a + b - ab > n)
                            continue;
                        double v = xs_measure(m, ab, a, b, n);
                        bad += !isfinite(v) || v < 0;
                    }
    CHECK_EQ(bad, 0);
}

/* Five baskets, measured through a real co-occurrence table and compared
 * with arules' definitions (support = n_ab / n, confidence = n_ab / n_a,
 * lift = confidence / (n_b / n)):
 *   T1 {a,b,c}  T2 {a,b}  T3 {a,c}  T4 {b}  T5 {a,b,c,d}
 *   n = 5; n_a = 4, n_b = 4, n_c = 3, n_d = 1;
 *   n_ab = 3 (T1 T2 T5), n_ac = 3 (T1 T3 T5), n_bc = 2 (T1 T5),
 *   n_ad = n_bd = n_cd = 1 (T5).
 *   {a} => {b}: support 3/5 = 0.6, confidence 3/4 = 0.75,
 *               lift 0.75 / (4/5) = 0.9375, jaccard 3 / 5 = 0.6,
 *               cosine 3 / sqrt(16) = 0.75, llr cells 3,1,1,0:
 *               E = 3.2, 0.8, 0.8, 0.2,
 *               2 (3 ln(15/16) + 2 ln(5/4)) = 0.50534307843141199
 *   {c} => {a}: support 0.6, confidence 3/3 = 1, lift 1 / (4/5) = 1.25
 *   {d} => {c}: support 0.2, confidence 1/1 = 1, lift 1 / (3/5) = 5/3
 *   {b} => {c}: support 0.4, confidence 2/4 = 0.5, lift 0.5/0.6 = 5/6 */
static void test_arules_baskets(void)
{
    static const char *const baskets[5][4] = {
        {"a", "b", "c", NULL}, {"a", "b", NULL, NULL}, {"a", "c", NULL, NULL},
        {"b", NULL, NULL, NULL}, {"a", "b", "c", "d"}};
    xs_dataset *ds = xs_dataset_new();
    if (!CHECK(ds != NULL))
        return;
    for (uint32_t o = 0; o < 5; o++)
        for (int j = 0; j < 4 && baskets[o][j]; j++) {
            xs_event ev = {XS_NONE, 0, o, 0, 0, 1.0, NAN};
            CHECK(xs_dict_intern(ds->items, baskets[o][j], 1, &ev.item) == 0);
            CHECK(xs_dataset_push(ds, &ev) == 0);
        }
    ds->n_orders = 5;
    xs_txns t;
    xs_error err = {0};
    xs_cooc *c = NULL;
    if (CHECK_EQ(xs_txns_build(ds, XS_SCOPE_BASKET, &t, &err), XS_OK)) {
        c = xs_cooc_build(&t, xs_dict_size(ds->items), 1, &err);
        xs_txns_free(&t);
    }
    if (!CHECK_MSG(c != NULL, "%s", err.msg)) {
        xs_dataset_free(ds);
        return;
    }
    uint32_t a = xs_dict_find(ds->items, "a", 1),
             b = xs_dict_find(ds->items, "b", 1),
             cc = xs_dict_find(ds->items, "c", 1),
             d = xs_dict_find(ds->items, "d", 1);
    uint64_t n = xs_cooc_transactions(c);
    CHECK_EQU(n, 5);
#define M(measure, x, y)                                                      \
    xs_measure(measure, xs_cooc_pair(c, x, y), xs_cooc_support(c, x),         \
               xs_cooc_support(c, y), n)
    /* support is n_ab / n */
    CHECK_NEAR((double)xs_cooc_pair(c, a, b) / (double)n, 0.6, TOL);
    CHECK_NEAR((double)xs_cooc_pair(c, d, cc) / (double)n, 0.2, TOL);
    CHECK_NEAR((double)xs_cooc_pair(c, b, cc) / (double)n, 0.4, TOL);
    CHECK_NEAR(M(XS_MEASURE_COUNT, a, b), 3.0, 0);
    CHECK_NEAR(M(XS_MEASURE_CONFIDENCE, a, b), 0.75, TOL);
    CHECK_NEAR(M(XS_MEASURE_LIFT, a, b), 0.9375, TOL);
    CHECK_NEAR(M(XS_MEASURE_JACCARD, a, b), 0.6, TOL);
    CHECK_NEAR(M(XS_MEASURE_COSINE, a, b), 0.75, TOL);
    CHECK_NEAR(M(XS_MEASURE_LLR, a, b), 0.50534307843141199, 1e-12);
    CHECK_NEAR(M(XS_MEASURE_CONFIDENCE, cc, a), 1.0, TOL);
    CHECK_NEAR(M(XS_MEASURE_LIFT, cc, a), 1.25, TOL);
    CHECK_NEAR(M(XS_MEASURE_CONFIDENCE, d, cc), 1.0, TOL);
    CHECK_NEAR(M(XS_MEASURE_LIFT, d, cc), 5.0 / 3.0, TOL);
    CHECK_NEAR(M(XS_MEASURE_CONFIDENCE, b, cc), 0.5, TOL);
    CHECK_NEAR(M(XS_MEASURE_LIFT, b, cc), 5.0 / 6.0, TOL);
    CHECK_NEAR(M(XS_MEASURE_CONFIDENCE, cc, d), 1.0 / 3.0, TOL);
#undef M
    xs_cooc_free(c);
    xs_dataset_free(ds);
}

int main(void)
{
    test_names();
    test_hand_tables();
    test_llr_mahout();
    test_degenerate();
    test_arules_baskets();
    return xt_done();
}
