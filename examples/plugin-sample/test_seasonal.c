/*
 * test_seasonal.c -- tests the seasonal plugin through libxsell's engine
 * API, the way the host runs it: an engine over a small store built in
 * memory, the plugin loaded from a path with options, requests answered.
 *
 *   ./test_seasonal ./seasonal.so       exit 0 when every check passed
 *
 * The store, two years (2023 and 2024): bread every month (no season),
 * sunscreen in July (once in January 2024), gloves in December and January
 * (once in July 2024).  The latest sale is on 2024-12-20.
 */
#include <stdio.h>
#include <string.h>

#include <xsell/xsell.h>

static const char *plugin_file;
static int failures;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);              \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            failures++;                                                       \
        }                                                                     \
    } while (0)

/* Appends one sale, interning the names. */
static void sale(xs_dataset *ds, const char *customer, const char *item,
                 const char *date)
{
    xs_event ev = {.order = XS_NONE, .weight = 1, .price = 0};
    if (xs_dict_intern(ds->customers, customer, strlen(customer),
                       &ev.customer) ||
        xs_dict_intern(ds->items, item, strlen(item), &ev.item) ||
        xs_parse_timestamp(date, strlen(date), &ev.ts) ||
        xs_dataset_push(ds, &ev))
        CHECK(0, "cannot add %s %s %s", customer, item, date);
}

/* An engine over the store with the plugin created from opts ("key=value"
 * strings, NULL terminated); NULL with err set when creation fails. */
static xs_engine *store(const char *const *opts, xs_error *err)
{
    xs_dataset *ds = xs_dataset_new();
    if (!ds)
        return NULL;
    ds->has_customer = ds->has_timestamp = 1;
    char date[16], who[16];
    for (int y = 2023; y <= 2024; y++) {
        for (int m = 1; m <= 12; m++) {
            snprintf(date, sizeof date, "%d-%02d-10", y, m);
            snprintf(who, sizeof who, "b%d", m);
            sale(ds, who, "bread", date);
        }
        for (int i = 0; i < 3; i++) {
            snprintf(who, sizeof who, "s%d", i);
            snprintf(date, sizeof date, "%d-07-%02d", y, 5 + 5 * i);
            sale(ds, who, "sunscreen", date);
            snprintf(who, sizeof who, "g%d", i);
            snprintf(date, sizeof date, "%d-01-%02d", y, 5 + 5 * i);
            sale(ds, who, "gloves", date);
            snprintf(date, sizeof date, "%d-12-%02d", y, 10 + 5 * i);
            sale(ds, who, "gloves", date);
        }
    }
    sale(ds, "x", "sunscreen", "2024-01-20");
    sale(ds, "x", "gloves", "2024-07-20");

    xs_engine_config cfg = {.scope = -1, .threads = 1};
    xs_engine *e = xs_engine_new(ds, NULL, &cfg, err); /* owns ds */
    if (!e)
        return NULL;
    xs_option o[8];
    char buf[8][64];
    size_t n = 0;
    for (; opts && opts[n] && n < 8; n++) {
        snprintf(buf[n], sizeof buf[n], "%s", opts[n]);
        char *eq = strchr(buf[n], '=');
        *eq = '\0';
        o[n] = (xs_option){buf[n], eq + 1};
    }
    if (xs_engine_add_plugin(e, plugin_file, o, n, err)) {
        xs_engine_free(e);
        return NULL;
    }
    return e;
}

/* The names of the top-k answer (no request items), comma separated. */
static const char *answer(xs_engine *e, uint32_t k, const xs_rec **first)
{
    static char out[256];
    xs_context *ctx = xs_context_new(e);
    xs_request req = {NULL, 0, XS_NONE, k, 1, XS_NONE};
    const xs_rec *recs = NULL;
    size_t n = 0;
    xs_error err = {0};
    out[0] = '\0';
    if (!ctx || xs_engine_recommend(e, ctx, "seasonal", &req, &recs, &n, &err))
        CHECK(0, "recommend: %s", err.msg);
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s",
                 i ? "," : "", xs_engine_item_name(e, recs[i].item));
    if (first && n > 0) { /* copy: recs live in ctx */
        static xs_rec top;
        top = recs[0];
        *first = &top;
    }
    xs_context_free(ctx);
    return out;
}

static double field(const xs_rec *r, const char *key)
{
    for (uint32_t i = 0; i < r->ev.n; i++)
        if (!strcmp(r->ev.f[i].key, key))
            return r->ev.f[i].value;
    return -1;
}

int main(int argc, char **argv)
{
    plugin_file = argc > 1 ? argv[1] : "./seasonal.so";
    xs_error err = {0};
    const xs_rec *top = NULL;

    /* Mid-July: sunscreen, and only sunscreen, is in season. */
    xs_engine *e = store((const char *[]){"date=2024-07-15", NULL}, &err);
    CHECK(e, "create: %s", err.msg);
    if (e) {
        const char *got = answer(e, 5, &top);
        CHECK(!strcmp(got, "sunscreen"), "July: got '%s'", got);
        if (top) {
            CHECK(field(top, "season_sales") == 6, "season_sales %g",
                  field(top, "season_sales"));
            CHECK(field(top, "sales") == 7, "sales %g", field(top, "sales"));
            CHECK(field(top, "lift") > 1, "lift %g", field(top, "lift"));
        }
        /* observe: a burst of umbrellas in July is counted at once */
        xs_ingest_event ev[8];
        for (int i = 0; i < 8; i++)
            ev[i] = (xs_ingest_event){.customer = "u", .customer_len = 1,
                                      .item = "umbrella", .item_len = 8,
                                      .ts = 1721001600 + i * 3600,
                                      .weight = 1, .price = 0};
        CHECK(!xs_engine_ingest(e, ev, 8, &err), "ingest: %s", err.msg);
        got = answer(e, 5, NULL);
        CHECK(!strcmp(got, "umbrella,sunscreen"), "after ingest: got '%s'",
              got);
        xs_engine_free(e);
    }

    /* The default reference is the latest sale, 2024-12-20: winter. */
    e = store(NULL, &err);
    CHECK(e, "create: %s", err.msg);
    if (e) {
        const char *got = answer(e, 5, NULL);
        CHECK(!strcmp(got, "gloves"), "December: got '%s'", got);
        xs_engine_free(e);
    }

    /* Unknown options and bad values are refused, naming them. */
    const char *bad[] = {"colour=red", "window=0", "window=7.5",
                         "date=2024-02-30", "date=tomorrow", "smoothing=-1",
                         "categories=some"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char key[32];
        snprintf(key, sizeof key, "%.*s", (int)strcspn(bad[i], "="), bad[i]);
        e = store((const char *[]){bad[i], NULL}, &err);
        CHECK(!e && strstr(err.msg, key), "%s: accepted or no message: '%s'",
              bad[i], err.msg);
        xs_engine_free(e);
    }

    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("test_seasonal: all checks passed\n");
    return failures ? 1 : 0;
}
