/*
 * cmd_recommend.c -- `xsell recommend`: top-k items for a basket from one
 * plugin, optionally explained.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: xsell recommend (--baskets FILE | --events FILE) "
            "--items a,b,... | --customer ID [options]\n\n"
            "  --items LIST        the basket or viewed items, comma separated "
            "(quote names holding commas)\n"
            "  --customer ID       the customer asking (personalised plugins; "
            "items bought\n"
            "                      are not offered again unless --keep-owned)\n"
            "  --k N               number of items, 1..%d (default 10)\n"
            "  --plugin NAME       plugin to ask (default copurchase): "
            "copurchase, upsell,\n"
            "                      recency, popular, a path to a .so, or "
            "blend (all of\n"
            "                      --plugins, blended)\n"
            "  --category NAME     only items of this catalog category\n"
            "  --keep-owned        items the customer bought may come back\n"
            "  --measure M         copurchase measure: lift, confidence, "
            "jaccard, cosine, llr, count (default cosine)\n"
            "  --min-support S     copurchase: ignore pairs with support below "
            "S (0..1)\n"
            "  --min-count N       copurchase: ignore pairs seen together "
            "fewer than N times (default 2)\n"
            "  --explain           add the evidence of every item\n"
            "  --format F          table or json (default table)\n\n%s\n%s\n%s",
            XS_K_MAX, CLI_RULES_HELP, CLI_PLUGIN_HELP, CLI_DATA_HELP);
}

/* Splits a comma separated list with optional double quotes, in place.
 * Returns the number of names, or -1 on a malformed list. */
static int split_items(char *s, char **out, int max)
{
    int n = 0;
    char *p = s;
    while (*p) {
        while (*p == ' ' || *p == '\t') /* as the data loaders do */
            p++;
        char *w, *start;
        if (*p == '"') {
            start = w = ++p;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p && *p != ',')
                return -1;
        } else {
            start = p;
            while (*p && *p != ',')
                p++;
            w = p;
            while (w > start && (w[-1] == ' ' || w[-1] == '\t'))
                w--;
        }
        int last = *p == '\0';
        *w = '\0';
        if (n == max)
            return -1;
        if (*start)
            out[n++] = start;
        if (!last)
            p++;
    }
    return n;
}

/* note: why the one plugin asked answered nothing (xs_context_note), or
 * NULL; plugin its name. */
static void print_json(const xs_engine *e, const xs_rec *recs, size_t n,
                       const char *plugin, const char *note)
{
    printf("{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        printf(i ? ",{\"item\":" : "{\"item\":");
        xs_json_string(stdout, xs_engine_item_name(e, recs[i].item));
        printf(",\"score\":");
        xs_json_number(stdout, recs[i].score);
        printf(",\"plugin\":");
        xs_json_string(stdout, recs[i].plugin);
        for (uint32_t f = 0; f < recs[i].ev.n; f++) {
            const xs_evidence_field *ef = &recs[i].ev.f[f];
            putchar(',');
            xs_json_string(stdout, ef->key);
            putchar(':');
            if (ef->text)
                xs_json_string(stdout, ef->text);
            else
                xs_json_number(stdout, ef->value);
        }
        putchar('}');
    }
    putchar(']');
    if (note) {
        char text[320];
        snprintf(text, sizeof text, "%s: %s", plugin, note);
        printf(",\"note\":");
        xs_json_string(stdout, text);
    }
    printf("}\n");
}

static void print_table(const xs_engine *e, const xs_rec *recs, size_t n,
                        const char *plugin, const char *note)
{
    const xs_catalog *cat = xs_engine_catalog(e);
    printf("%4s  %-24s %-24s %12s  %s\n", "rank", "item", cat ? "title" : "",
           "score", "plugin");
    for (size_t i = 0; i < n; i++) {
        xs_item_info info;
        const char *title = "";
        if (xs_catalog_get(cat, recs[i].item, &info) && info.title)
            title = info.title;
        char *b1, *b2, *b3;
        printf("%4zu  %-24s %-24s %12.6g  %s", i + 1,
               cli_printable(xs_engine_item_name(e, recs[i].item), &b1),
               cli_printable(title, &b2), recs[i].score, recs[i].plugin);
        free(b1);
        free(b2);
        for (uint32_t f = 0; f < recs[i].ev.n; f++) {
            const xs_evidence_field *ef = &recs[i].ev.f[f];
            if (ef->text) {
                printf("  %s=%s", ef->key, cli_printable(ef->text, &b3));
                free(b3);
            } else {
                printf("  %s=%.6g", ef->key, ef->value);
            }
        }
        putchar('\n');
    }
    if (n == 0 && note)
        printf("(no recommendations: %s: %s)\n", plugin, note);
    else if (n == 0)
        printf("(no recommendations)\n");
}

int cmd_recommend(int argc, char **argv)
{
    enum { O_ITEMS = OPT_FIRST_FREE, O_CUSTOMER, O_K, O_PLUGIN, O_MEASURE,
           O_MIN_SUPPORT, O_MIN_COUNT, O_EXPLAIN, O_FORMAT, O_CATEGORY,
           O_KEEP_OWNED };
    static const struct option opts[] = {
        CLI_DATA_OPTIONS,
        CLI_PLUGIN_OPTIONS,
        CLI_RULES_OPTIONS,
        {"items", required_argument, NULL, O_ITEMS},
        {"customer", required_argument, NULL, O_CUSTOMER},
        {"k", required_argument, NULL, O_K},
        {"plugin", required_argument, NULL, O_PLUGIN},
        {"category", required_argument, NULL, O_CATEGORY},
        {"keep-owned", no_argument, NULL, O_KEEP_OWNED},
        {"measure", required_argument, NULL, O_MEASURE},
        {"min-support", required_argument, NULL, O_MIN_SUPPORT},
        {"min-count", required_argument, NULL, O_MIN_COUNT},
        {"explain", no_argument, NULL, O_EXPLAIN},
        {"format", required_argument, NULL, O_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cli_data d = {0};
    const char *items_arg = NULL, *customer = NULL, *plugin = "copurchase",
               *category = NULL;
    long k = 10;
    int explain = 0, format = CLI_TABLE, keep_owned = 0, c, taken;
    double dv;
    long lv;
    cli_plugins pl = {0}; /* plugins, options, shorthands, settings */
    cli_rules rules; /* --filter, --boost, --now */
    memset(&rules, 0, sizeof rules);
    int rc = CLI_USAGE;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_data_option(&d, c, optarg))
            continue;
        if ((taken = cli_plugins_option(&pl, "recommend", c, optarg)) < 0 ||
            (!taken &&
             (taken = cli_rules_option(&rules, "recommend", c, optarg)) < 0))
            goto out;
        if (taken)
            continue;
        switch (c) {
        case 'h':
            help(stdout);
            rc = CLI_OK;
            goto out;
        case O_ITEMS: items_arg = optarg; break;
        case O_CUSTOMER: customer = optarg; break;
        case O_PLUGIN: plugin = optarg; break;
        case O_CATEGORY: category = optarg; break;
        case O_KEEP_OWNED: keep_owned = 1; break;
        case O_EXPLAIN: explain = 1; break;
        case O_K:
            if (cli_parse_long(optarg, 1, XS_K_MAX, &k)) {
                cli_fail("recommend", CLI_USAGE,
                         "--k: want an integer in 1..%d, not '%s'", XS_K_MAX,
                         optarg);
                goto out;
            }
            break;
        case O_MEASURE:
            if (xs_measure_parse(optarg) < 0) {
                cli_fail("recommend", CLI_USAGE,
                         "--measure: unknown '%s' (lift, confidence, jaccard, "
                         "cosine, llr, count)", optarg);
                goto out;
            }
            if (cli_plugins_shorthand(&pl, "recommend", "measure", optarg))
                goto out;
            break;
        case O_MIN_SUPPORT:
            if (cli_parse_double(optarg, 0, 1, &dv)) {
                cli_fail("recommend", CLI_USAGE,
                         "--min-support: want a number in [0, 1], not '%s'",
                         optarg);
                goto out;
            }
            if (cli_plugins_shorthand(&pl, "recommend", "min_support", optarg))
                goto out;
            break;
        case O_MIN_COUNT:
            if (cli_parse_long(optarg, 1, 0xFFFFFFFFL, &lv)) {
                cli_fail("recommend", CLI_USAGE,
                         "--min-count: want an integer >= 1, not '%s'", optarg);
                goto out;
            }
            if (cli_plugins_shorthand(&pl, "recommend", "min_count", optarg))
                goto out;
            break;
        case O_FORMAT:
            if ((format = cli_parse_format(optarg, 1u << CLI_TABLE |
                                                       1u << CLI_JSON)) < 0) {
                cli_fail("recommend", CLI_USAGE,
                         "--format: want table or json, not '%s'", optarg);
                goto out;
            }
            break;
        default:
            cli_fail("recommend", CLI_USAGE, "bad option '%s' (see --help)",
                     argv[optind - 1]);
            goto out;
        }
    }
    if (optind < argc) {
        cli_fail("recommend", CLI_USAGE, "unexpected argument '%s'",
                 argv[optind]);
        goto out;
    }
    if (!items_arg && !customer) {
        cli_fail("recommend", CLI_USAGE,
                 "--items or --customer is required (see --help)");
        goto out;
    }
    if (!items_arg)
        items_arg = "";
    int blend = !strcmp(plugin, "blend");
    char key[256];
    cli_plugin_key(plugin, key, sizeof key);
    /* --measure/--min-* are copurchase options: refuse them for others */
    for (size_t i = 0; i < pl.n; i++)
        if (!pl.plugin[i] && !blend && strcmp(key, "copurchase")) {
            cli_fail("recommend", CLI_USAGE,
                     "--%s applies to the copurchase plugin; use --plugin-opt "
                     "%s.KEY=VALUE for '%s'", pl.opt[i].key, key, plugin);
            goto out;
        }
    char *items_copy = strdup(items_arg);
    char **names = calloc(strlen(items_arg) / 2 + 2, sizeof *names);
    uint32_t *ids = calloc(strlen(items_arg) / 2 + 2, sizeof *ids);
    xs_engine *e = NULL;
    xs_context *ctx = NULL;
    rc = CLI_RUNTIME;
    if (!items_copy || !names || !ids) {
        cli_fail("recommend", CLI_RUNTIME, "out of memory");
        goto done;
    }
    int n_names = split_items(items_copy, names, (int)(strlen(items_arg) / 2 + 2));
    if (n_names < 0 || (n_names == 0 && !customer)) {
        rc = cli_fail("recommend", CLI_USAGE,
                      "--items: want a comma separated list of item ids");
        goto done;
    }
    /* one request: the plugins prepare for its kind only */
    d.asks = n_names ? XS_ASK_ALL : XS_ASK_CUSTOMER;
    if ((rc = cli_engine_open("recommend", &d, &e)) ||
        (rc = cli_plugins_load(&pl, "recommend", &d, e, blend ? NULL : plugin,
                               blend ? "copurchase" : key)) ||
        (rc = cli_rules_from_config(&rules, &pl, "recommend")))
        goto done;
    xs_error err = {0};
    /* ask a single plugin by the name in its table: --plugin may be a path */
    const char *ask = NULL;
    if ((rc = cli_plugin_target("recommend", &pl, e, plugin, &ask)))
        goto done;
    uint32_t n_ids = 0;
    for (int i = 0; i < n_names; i++) {
        uint32_t id = xs_engine_item(e, names[i]);
        if (id == XS_NONE)
            fprintf(stderr, "xsell recommend: unknown item '%s' (not in the "
                    "data); ignored\n", names[i]);
        else
            ids[n_ids++] = id;
    }
    n_ids = xs_request_items(ids, n_ids);
    xs_request req = {ids, n_ids, XS_NONE, (uint32_t)k, explain, XS_NONE};
    if (customer) {
        const xs_dataset *ds = xs_engine_dataset(e);
        req.customer = ds->has_customer
                           ? xs_dict_find(ds->customers, customer,
                                          strlen(customer))
                           : XS_NONE;
        if (req.customer == XS_NONE)
            fprintf(stderr, "xsell recommend: unknown customer '%s'; answering "
                    "without history\n", customer);
    }
    if (category) {
        const xs_catalog *cat = xs_engine_catalog(e);
        req.category = xs_catalog_category(cat, category);
        if (req.category == XS_NONE) {
            rc = cli_fail("recommend", CLI_USAGE,
                          "--category: unknown category '%s'%s", category,
                          cat ? "" : " (no --catalog given)");
            goto done;
        }
    }
    const xs_rec *recs = NULL;
    size_t n = 0;
    if (!(ctx = xs_context_new(e))) {
        cli_fail("recommend", CLI_RUNTIME, "out of memory");
        goto done;
    }
    xs_filter filter = {.exclude_owned = keep_owned ? 0 : -1};
    cli_rules_apply(&rules, &filter);
    if (xs_engine_recommend_filtered(e, ctx, ask, &req, &filter, &recs, &n,
                                     &err)) {
        rc = cli_fail("recommend", cli_exit_code(err.code), "%s", err.msg);
        goto done;
    }
    const char *note = n == 0 ? xs_context_note(ctx) : NULL;
    if (format == CLI_JSON)
        print_json(e, recs, n, ask, note);
    else
        print_table(e, recs, n, ask, note);
    rc = fflush(stdout) == 0 ? CLI_OK : CLI_RUNTIME;
done:
    xs_context_free(ctx);
    xs_engine_free(e);
    free(items_copy);
    free(names);
    free(ids);
out:
    cli_plugins_free(&pl);
    return rc;
}
