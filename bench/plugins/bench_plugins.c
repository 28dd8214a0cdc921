/*
 * bench_plugins.c -- per-request latency of each built-in plugin and of the
 * blend, through the engine API (no network), on the same requests.
 *
 *   bench_plugins --events FILE --catalog FILE [--requests N] [--rounds R]
 *                 [--k K] [--seed S] [--blend-threads N]
 *                 [--plugin-opt P.K=V ...] [--filter P=V] [--boost P:V=F]
 *
 * --filter and --boost (one term each) ask every request with that
 * property filter or boost (item properties, xsell/engine.h xs_filter):
 * the cost of a request that has them, beside the same run without.
 *
 * Requests model a storefront: a known customer (drawn uniformly from those
 * with a history) looking at a basket of 3 items drawn by popularity (a
 * random event's item), k = 10.  A second workload drops the customer
 * (anonymous basket).  Every round runs the whole request list through each
 * of copurchase, upsell, recency, popular and the blend, in an order that
 * rotates from round to round; each request is timed alone
 * (CLOCK_MONOTONIC).  Reported per workload and plugin: the median over
 * rounds of the mean, p50 and p99 latency, and the blend's mean divided by
 * the slowest single plugin's mean and by the sum of them all.
 * One JSON line per (workload, plugin) on stdout; a table on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xsell/xsell.h"

#define MAX_OPTS 32
#define N_PLUGINS 4
static const char *const plugin_names[N_PLUGINS] = {"copurchase", "upsell",
                                                    "recency", "popular"};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct stat3 {
    double mean, p50, p99;
} stat3;

static stat3 summarize(double *lat, size_t n)
{
    stat3 s = {0, 0, 0};
    for (size_t i = 0; i < n; i++)
        s.mean += lat[i];
    s.mean /= (double)n;
    qsort(lat, n, sizeof *lat, cmp_double);
    s.p50 = lat[n / 2];
    s.p99 = lat[(size_t)((double)n * 0.99)];
    return s;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    const char *events = NULL, *catalog = NULL;
    long n_req = 20000, rounds = 5, k = 10, blend_threads = 0;
    uint64_t seed = 42;
    xs_option opts[MAX_OPTS];
    xs_prop_term where = {0}, boost = {0};
    xs_filter rules = {.exclude_owned = -1};
    char *opt_plugin[MAX_OPTS];
    size_t n_opts = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "bench_plugins: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--events"))
            events = v;
        else if (!strcmp(a, "--catalog"))
            catalog = v;
        else if (!strcmp(a, "--requests"))
            n_req = atol(v);
        else if (!strcmp(a, "--rounds"))
            rounds = atol(v);
        else if (!strcmp(a, "--k"))
            k = atol(v);
        else if (!strcmp(a, "--blend-threads"))
            blend_threads = atol(v);
        else if (!strcmp(a, "--seed"))
            seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--filter") || !strcmp(a, "--boost")) {
            int is_boost = a[2] == 'b';
            char *spec = strdup(v), *sep = strchr(spec, is_boost ? ':' : '='),
                 *eq = strrchr(spec, '=');
            if (!sep || !eq || (is_boost && eq < sep)) {
                fprintf(stderr, "bench_plugins: want P=V or P:V=F, not %s\n",
                        v);
                return 2;
            }
            *sep = *eq = '\0';
            xs_prop_term *t = is_boost ? &boost : &where;
            *t = (xs_prop_term){spec, sep + 1, (uint32_t)strlen(spec),
                                (uint32_t)strlen(sep + 1),
                                is_boost ? atof(eq + 1) : 1.0};
            if (is_boost) {
                rules.boost = &boost;
                rules.n_boost = 1;
            } else {
                rules.where = &where;
                rules.n_where = 1;
            }
        }
        else if (!strcmp(a, "--plugin-opt") && n_opts < MAX_OPTS) {
            char *spec = strdup(v), *dot = strchr(spec, '.'),
                 *eq = strchr(spec, '=');
            if (!dot || !eq || eq < dot) {
                fprintf(stderr, "bench_plugins: want P.K=V, not %s\n", v);
                return 2;
            }
            *dot = *eq = '\0';
            opt_plugin[n_opts] = spec;
            opts[n_opts].key = dot + 1;
            opts[n_opts].value = eq + 1;
            n_opts++;
        } else {
            fprintf(stderr, "bench_plugins: unknown option %s\n", a);
            return 2;
        }
    }
    if (!events || !catalog || n_req < 100 || rounds < 1 || k < 1 ||
        k > XS_K_MAX) {
        fprintf(stderr, "usage: bench_plugins --events FILE --catalog FILE "
                "[--requests N>=100] [--rounds R] [--k K] [--seed S] "
                "[--blend-threads N] "
                "[--plugin-opt P.K=V ...]\n");
        return 2;
    }
    xs_error err = {0};
    double t0 = now();
    xs_columns cols = {0};
    xs_dataset *ds = xs_dataset_load_events(events, &cols, &err);
    xs_catalog *cat = ds ? xs_catalog_load(catalog, ds->items, &err) : NULL;
    if (!ds || !cat) {
        fprintf(stderr, "bench_plugins: %s\n", err.msg);
        return 1;
    }
    xs_engine_config cfg = {.scope = -1, .blend_threads = (int)blend_threads};
    xs_engine *e = xs_engine_new(ds, cat, &cfg, &err);
    if (!e) {
        fprintf(stderr, "bench_plugins: %s\n", err.msg);
        return 1;
    }
    fprintf(stderr, "load + default table: %.2f s\n", now() - t0);
    double create_s[N_PLUGINS];
    for (int p = 0; p < N_PLUGINS; p++) {
        xs_option mine[MAX_OPTS];
        size_t n_mine = 0;
        for (size_t o = 0; o < n_opts; o++)
            if (!strcmp(opt_plugin[o], plugin_names[p]))
                mine[n_mine++] = opts[o];
        t0 = now();
        if (xs_engine_add_plugin(e, plugin_names[p], mine, n_mine, &err)) {
            fprintf(stderr, "bench_plugins: %s\n", err.msg);
            return 1;
        }
        create_s[p] = now() - t0; /* create() and prepare(), as a server */
        fprintf(stderr, "create %-10s %.2f s\n", plugin_names[p], create_s[p]);
    }
    /* requests: customers with a history, items by popularity */
    const xs_dataset *d = xs_engine_dataset(e);
    uint32_t *items = malloc((size_t)n_req * 3 * sizeof *items);
    uint32_t *cust = malloc((size_t)n_req * sizeof *cust);
    double *lat = malloc((size_t)n_req * sizeof *lat);
    if (!items || !cust || !lat || d->n_events == 0)
        return 1;
    uint64_t rs = seed;
    for (long r = 0; r < n_req; r++) {
        cust[r] = d->events[rng_next(&rs) % d->n_events].customer;
        for (int j = 0; j < 3; j++)
            items[r * 3 + j] = d->events[rng_next(&rs) % d->n_events].item;
    }
    xs_context *ctx = xs_context_new(e);
    const char *names[N_PLUGINS + 1] = {"copurchase", "upsell", "recency",
                                        "popular", "blend"};
    enum { W_CUSTOMER, W_ANON, W_COUNT };
    static const char *const wname[W_COUNT] = {"customer+basket", "basket"};
    double *mean = calloc((size_t)W_COUNT * (N_PLUGINS + 1) * rounds,
                          sizeof *mean);
    double *p50 = calloc((size_t)W_COUNT * (N_PLUGINS + 1) * rounds,
                         sizeof *p50);
    double *p99 = calloc((size_t)W_COUNT * (N_PLUGINS + 1) * rounds,
                         sizeof *p99);
    size_t returned[W_COUNT][N_PLUGINS + 1] = {{0}};
    for (long round = 0; round < rounds; round++)
        for (int w = 0; w < W_COUNT; w++)
            for (int q = 0; q <= N_PLUGINS; q++) {
                int p = (int)((q + round) % (N_PLUGINS + 1));
                for (long r = 0; r < n_req; r++) {
                    uint32_t basket[3];
                    memcpy(basket, items + r * 3, sizeof basket);
                    uint32_t nb = xs_request_items(basket, 3);
                    xs_request req = {basket, nb,
                                      w == W_CUSTOMER ? cust[r] : XS_NONE,
                                      (uint32_t)k, 0, XS_NONE};
                    const xs_rec *recs;
                    size_t n;
                    double s = now();
                    if (xs_engine_recommend_filtered(
                            e, ctx, p == N_PLUGINS ? NULL : names[p], &req,
                            rules.n_where || rules.n_boost ? &rules : NULL,
                            &recs, &n, &err)) {
                        fprintf(stderr, "bench_plugins: %s\n", err.msg);
                        return 1;
                    }
                    lat[r] = (now() - s) * 1e6;
                    if (round == 0)
                        returned[w][p] += n;
                }
                stat3 st = summarize(lat, (size_t)n_req);
                size_t at = ((size_t)w * (N_PLUGINS + 1) + (size_t)p) *
                                (size_t)rounds + (size_t)round;
                mean[at] = st.mean;
                p50[at] = st.p50;
                p99[at] = st.p99;
            }
    for (int w = 0; w < W_COUNT; w++) {
        double m[N_PLUGINS + 1], slowest = 0, sum = 0;
        fprintf(stderr, "\n%s, %ld requests x %ld rounds, k=%ld (us, median "
                "of rounds)\n%-11s %9s %9s %9s %9s\n", wname[w], n_req,
                rounds, k, "plugin", "mean", "p50", "p99", "items/req");
        for (int p = 0; p <= N_PLUGINS; p++) {
            size_t at = ((size_t)w * (N_PLUGINS + 1) + (size_t)p) *
                        (size_t)rounds;
            m[p] = median(mean + at, (int)rounds);
            double a50 = median(p50 + at, (int)rounds),
                   a99 = median(p99 + at, (int)rounds);
            if (p < N_PLUGINS) {
                if (m[p] > slowest)
                    slowest = m[p];
                sum += m[p];
            }
            fprintf(stderr, "%-11s %9.1f %9.1f %9.1f %9.2f\n", names[p], m[p],
                    a50, a99, (double)returned[w][p] / (double)n_req);
            printf("{\"workload\":\"%s\",\"plugin\":\"%s\",\"requests\":%ld,"
                   "\"rounds\":%ld,\"k\":%ld,\"mean_us\":%.2f,\"p50_us\":%.2f,"
                   "\"p99_us\":%.2f,\"items_per_request\":%.2f,"
                   "\"create_s\":%.2f}\n",
                   wname[w], names[p], n_req, rounds, k, m[p], a50, a99,
                   (double)returned[w][p] / (double)n_req,
                   p < N_PLUGINS ? create_s[p] : 0.0);
        }
        fprintf(stderr, "blend / slowest plugin (mean): %.2f; blend / sum of "
                "plugins: %.2f\n", m[N_PLUGINS] / slowest,
                m[N_PLUGINS] / sum);
        printf("{\"workload\":\"%s\",\"blend_over_slowest\":%.3f,"
               "\"blend_over_sum\":%.3f}\n", wname[w], m[N_PLUGINS] / slowest,
               m[N_PLUGINS] / sum);
    }
    xs_context_free(ctx);
    xs_engine_free(e);
    for (size_t o = 0; o < n_opts; o++)
        free(opt_plugin[o]);
    free(items);
    free(cust);
    free(lat);
    free(mean);
    free(p50);
    free(p99);
    return 0;
}
