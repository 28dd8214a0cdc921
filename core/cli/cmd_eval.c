/*
 * cmd_eval.c -- `xsell eval`: offline evaluation of a plugin (or the blend).
 *
 * The events are split (xsell/eval.h), an engine is built on the train
 * events only (an in-memory dataset: nothing of the test side reaches the
 * plugins), and every test customer is asked for its top k with the
 * engine's rules, which drop the items it bought in train (exclude_owned).
 * The relevant items of a customer are its distinct test items that it
 * did not buy in train; items new to train still count as relevant (no
 * model can find them, as in any offline split).
 *
 * Evaluated users are the customers with a train history and at least one
 * relevant item; the others are counted as skipped: "skipped_cold" (test
 * events but no train events) and "skipped_no_relevant" (every test item
 * already bought in train).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: xsell eval --events FILE [options]\n\n"
            "Splits the events into train and test, builds the plugins on "
            "train only,\n"
            "recommends top-k to every test customer (items bought in train "
            "excluded)\n"
            "and scores the lists against the customers' test items.\n\n"
            "  --split S          stratified (default), temporal or "
            "leave-last\n"
            "  --ratio R          train share, in (0, 1) (default 0.75)\n"
            "  --seed N           random seed of the stratified split "
            "(default 42)\n"
            "  --k N              list length, 1..%d (default 10)\n"
            "  --plugin NAME      plugin to evaluate (default recency), or "
            "blend (all of\n"
            "                     --plugins, blended)\n"
            "  --save-split DIR   write DIR/train.csv and DIR/test.csv\n"
            "  --format F         table or json (default table)\n\n"
            "metrics (means over evaluated users): precision, recall, ndcg, "
            "map, hit_rate;\n"
            "coverage = distinct recommended items / items in train.\n\n%s\n%s",
            XS_K_MAX, CLI_PLUGIN_HELP, CLI_DATA_HELP);
}

/* Everything one run owns, freed in one place. */
typedef struct eval_run {
    xs_dataset *ds;   /* the whole input */
    unsigned char *is_test;
    xs_engine *e;
    xs_context *ctx;
    xs_eval *acc;
    size_t *start, *order; /* events grouped by customer */
    uint32_t *train_items, *rel, *recs, *item_map;
} eval_run;

static void run_free(eval_run *r)
{
    xs_context_free(r->ctx);
    xs_engine_free(r->e);
    xs_eval_free(r->acc);
    xs_dataset_free(r->ds);
    free(r->is_test);
    free(r->start);
    free(r->order);
    free(r->train_items);
    free(r->rel);
    free(r->recs);
    free(r->item_map);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int save_split(const char *dir, const eval_run *r)
{
    if (mkdir(dir, 0777) && errno != EEXIST)
        return cli_fail("eval", CLI_RUNTIME, "--save-split %s: %s", dir,
                        strerror(errno));
    static const char *const names[2] = {"train.csv", "test.csv"};
    for (int side = 0; side < 2; side++) {
        size_t len = strlen(dir) + 16;
        char *path = malloc(len);
        if (!path)
            return cli_fail("eval", CLI_RUNTIME, "out of memory");
        snprintf(path, len, "%s/%s", dir, names[side]);
        xs_error err = {0};
        int rc = xs_split_write(r->ds, r->is_test, side, path, &err);
        free(path);
        if (rc)
            return cli_fail("eval", CLI_RUNTIME, "%s", err.msg);
    }
    return CLI_OK;
}

static void print_report(int format, const xs_eval_report *m,
                         uint64_t skipped_cold, uint64_t skipped_norel,
                         const char *plugin, const char *split, long k,
                         size_t n_train, size_t n_test)
{
    const struct { const char *key; double v; } rows[] = {
        {"precision", m->precision}, {"recall", m->recall},
        {"ndcg", m->ndcg},           {"map", m->map},
        {"hit_rate", m->hit_rate},   {"coverage", m->coverage}};
    if (format == CLI_JSON) {
        putchar('{');
        for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
            printf("\"%s\":", rows[i].key);
            xs_json_number(stdout, rows[i].v);
            putchar(',');
        }
        printf("\"users\":%llu,\"skipped_cold\":%llu,"
               "\"skipped_no_relevant\":%llu,\"k\":%ld,\"plugin\":",
               (unsigned long long)m->users,
               (unsigned long long)skipped_cold,
               (unsigned long long)skipped_norel, k);
        xs_json_string(stdout, plugin);
        printf(",\"split\":\"%s\",\"train_events\":%zu,\"test_events\":%zu}\n",
               split, n_train, n_test);
        return;
    }
    printf("%s, %s split (%zu train / %zu test events), k=%ld\n", plugin,
           split, n_train, n_test, k);
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        printf("  %-20s %.6f\n", rows[i].key, rows[i].v);
    printf("  %-20s %llu\n  %-20s %llu\n  %-20s %llu\n", "users",
           (unsigned long long)m->users, "skipped_cold",
           (unsigned long long)skipped_cold, "skipped_no_relevant",
           (unsigned long long)skipped_norel);
}

int cmd_eval(int argc, char **argv)
{
    enum { O_SPLIT = OPT_FIRST_FREE, O_RATIO, O_SEED, O_K, O_PLUGIN,
           O_SAVE, O_FORMAT };
    static const struct option opts[] = {
        CLI_DATA_OPTIONS,
        CLI_PLUGIN_OPTIONS,
        {"split", required_argument, NULL, O_SPLIT},
        {"ratio", required_argument, NULL, O_RATIO},
        {"seed", required_argument, NULL, O_SEED},
        {"k", required_argument, NULL, O_K},
        {"plugin", required_argument, NULL, O_PLUGIN},
        {"save-split", required_argument, NULL, O_SAVE},
        {"format", required_argument, NULL, O_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cli_data d = {0};
    cli_plugins pl = {0};
    eval_run r = {0};
    const char *plugin = "recency", *save_dir = NULL;
    int method = XS_SPLIT_STRATIFIED, format = CLI_TABLE, c, taken;
    double ratio = 0.75;
    long k = 10, seed = 42;
    int rc = CLI_USAGE;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_data_option(&d, c, optarg))
            continue;
        if ((taken = cli_plugins_option(&pl, "eval", c, optarg)) < 0)
            goto out;
        if (taken)
            continue;
        switch (c) {
        case 'h':
            help(stdout);
            rc = CLI_OK;
            goto out;
        case O_PLUGIN: plugin = optarg; break;
        case O_SAVE: save_dir = optarg; break;
        case O_SPLIT:
            if ((method = xs_split_parse(optarg)) < 0) {
                cli_fail("eval", CLI_USAGE, "--split: want stratified, "
                         "temporal or leave-last, not '%s'", optarg);
                goto out;
            }
            break;
        case O_RATIO:
            if (cli_parse_double(optarg, 0, 1, &ratio) || ratio <= 0 ||
                ratio >= 1) {
                cli_fail("eval", CLI_USAGE, "--ratio: want a number in "
                         "(0, 1), not '%s'", optarg);
                goto out;
            }
            break;
        case O_SEED:
            if (cli_parse_long(optarg, 0, 0x7FFFFFFFL, &seed)) {
                cli_fail("eval", CLI_USAGE, "--seed: want an integer in "
                         "0..2147483647, not '%s'", optarg);
                goto out;
            }
            break;
        case O_K:
            if (cli_parse_long(optarg, 1, XS_K_MAX, &k)) {
                cli_fail("eval", CLI_USAGE, "--k: want an integer in 1..%d, "
                         "not '%s'", XS_K_MAX, optarg);
                goto out;
            }
            break;
        case O_FORMAT:
            if ((format = cli_parse_format(optarg, 1u << CLI_TABLE |
                                                       1u << CLI_JSON)) < 0) {
                cli_fail("eval", CLI_USAGE,
                         "--format: want table or json, not '%s'", optarg);
                goto out;
            }
            break;
        default:
            cli_fail("eval", CLI_USAGE, "bad option '%s' (see --help)",
                     argv[optind - 1]);
            goto out;
        }
    }
    if (optind < argc) {
        cli_fail("eval", CLI_USAGE, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (d.baskets || !d.events) {
        cli_fail("eval", CLI_USAGE, "--events FILE is required (evaluation "
                 "needs customers; --baskets has none)");
        goto out;
    }
    int cfg_scope = -1;
    if (d.scope) {
        if (!strcmp(d.scope, "basket"))
            cfg_scope = XS_SCOPE_BASKET;
        else if (!strcmp(d.scope, "customer"))
            cfg_scope = XS_SCOPE_CUSTOMER;
        else if (strcmp(d.scope, "auto")) {
            cli_fail("eval", CLI_USAGE, "--scope: want basket, customer or "
                     "auto, not '%s'", d.scope);
            goto out;
        }
    }

    /* load and split */
    xs_error err = {0};
    xs_columns cols = {0};
    if (d.columns && xs_columns_parse(&cols, d.columns, &err)) {
        xs_columns_free(&cols);
        rc = cli_fail("eval", cli_exit_code(err.code), "%s", err.msg);
        goto out;
    }
    r.ds = xs_dataset_load_events(d.events, &cols, &err);
    char ts_col[128];
    snprintf(ts_col, sizeof ts_col, "%s",
             cols.timestamp ? cols.timestamp : "timestamp");
    xs_columns_free(&cols);
    rc = CLI_RUNTIME;
    if (!r.ds) {
        cli_fail("eval", CLI_RUNTIME, "%s", err.msg);
        goto done;
    }
    if (method == XS_SPLIT_TEMPORAL && !r.ds->has_timestamp) {
        rc = cli_fail("eval", CLI_USAGE, "--split temporal needs event times: "
                      "%s has no '%s' column (map one with --columns "
                      "timestamp=NAME)", d.events, ts_col);
        goto done;
    }
    size_t n_ev = r.ds->n_events;
    if (!(r.is_test = malloc(n_ev))) {
        cli_fail("eval", CLI_RUNTIME, "out of memory");
        goto done;
    }
    if (xs_split(r.ds, method, ratio, (uint64_t)seed, r.is_test, &err)) {
        rc = cli_fail("eval", cli_exit_code(err.code), "%s", err.msg);
        goto done;
    }
    size_t n_test = 0;
    for (size_t i = 0; i < n_ev; i++)
        n_test += r.is_test[i];
    if (save_dir && (rc = save_split(save_dir, &r)))
        goto done;
    rc = CLI_RUNTIME;

    /* the engine, on train only */
    xs_dataset *train = xs_dataset_subset(r.ds, r.is_test, 0, &err);
    if (!train) {
        cli_fail("eval", CLI_RUNTIME, "%s", err.msg);
        goto done;
    }
    uint32_t n_train_items = xs_dict_size(train->items);
    xs_catalog *cat = NULL;
    if (d.catalog && !(cat = xs_catalog_load(d.catalog, train->items, &err))) {
        xs_dataset_free(train);
        cli_fail("eval", CLI_RUNTIME, "%s", err.msg);
        goto done;
    }
    xs_engine_config cfg = {.plugin_dir = d.plugin_dir, .scope = cfg_scope};
    if (!(r.e = xs_engine_new(train, cat, &cfg, &err))) {
        rc = cli_fail("eval", err.code == XS_ERR_NOTFOUND ? CLI_USAGE
                                                           : CLI_RUNTIME,
                      "%s", err.msg);
        goto done;
    }
    int blend = !strcmp(plugin, "blend");
    if ((rc = cli_plugins_load(&pl, "eval", &d, r.e, blend ? NULL : plugin,
                               NULL)))
        goto done;
    const char *ask = NULL;
    if ((rc = cli_plugin_target("eval", &pl, r.e, plugin, &ask)))
        goto done;
    rc = CLI_RUNTIME;

    /* ids: input item -> train item, or n_train_items + input id when the
     * item never occurs in train (relevant, never recommendable) */
    uint32_t n_items = xs_dict_size(r.ds->items);
    uint32_t n_cust = xs_dict_size(r.ds->customers);
    r.item_map = malloc(((size_t)n_items + 1) * sizeof *r.item_map);
    r.start = calloc((size_t)n_cust + 1, sizeof *r.start);
    r.order = malloc((n_ev + 1) * sizeof *r.order);
    r.train_items = malloc((n_ev + 1) * sizeof *r.train_items);
    r.rel = malloc((n_ev + 1) * sizeof *r.rel);
    r.recs = malloc((size_t)k * sizeof *r.recs);
    r.acc = xs_eval_new(n_train_items, (uint32_t)k);
    r.ctx = xs_context_new(r.e);
    if (!r.item_map || !r.start || !r.order || !r.train_items || !r.rel ||
        !r.recs || !r.acc || !r.ctx) {
        cli_fail("eval", CLI_RUNTIME, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < n_items; i++) {
        const char *name = xs_dict_name(r.ds->items, i);
        uint32_t t = xs_engine_item(r.e, name);
        r.item_map[i] = t != XS_NONE && t < n_train_items ? t
                                                          : n_train_items + i;
    }
    for (size_t i = 0; i < n_ev; i++)
        r.start[r.ds->events[i].customer + 1]++;
    for (uint32_t cu = 0; cu < n_cust; cu++)
        r.start[cu + 1] += r.start[cu];
    {
        size_t *fill = malloc(((size_t)n_cust + 1) * sizeof *fill);
        if (!fill) {
            cli_fail("eval", CLI_RUNTIME, "out of memory");
            goto done;
        }
        memcpy(fill, r.start, ((size_t)n_cust + 1) * sizeof *fill);
        for (size_t i = 0; i < n_ev; i++)
            r.order[fill[r.ds->events[i].customer]++] = i;
        free(fill);
    }

    /* every test customer */
    const xs_dataset *tds = xs_engine_dataset(r.e);
    uint64_t skipped_cold = 0, skipped_norel = 0;
    for (uint32_t cu = 0; cu < n_cust; cu++) {
        size_t n_tr = 0, n_rel = 0;
        for (size_t j = r.start[cu]; j < r.start[cu + 1]; j++) {
            size_t i = r.order[j];
            uint32_t it = r.item_map[r.ds->events[i].item];
            if (r.is_test[i])
                r.rel[n_rel++] = it;
            else
                r.train_items[n_tr++] = it;
        }
        if (n_rel == 0)
            continue; /* not a test customer */
        if (n_tr == 0) {
            skipped_cold++;
            continue;
        }
        qsort(r.train_items, n_tr, sizeof *r.train_items, cmp_u32);
        qsort(r.rel, n_rel, sizeof *r.rel, cmp_u32);
        size_t m = 0, t = 0;
        for (size_t j = 0; j < n_rel; j++) {
            if (j && r.rel[j] == r.rel[j - 1])
                continue;
            while (t < n_tr && r.train_items[t] < r.rel[j])
                t++;
            if (t < n_tr && r.train_items[t] == r.rel[j])
                continue;
            r.rel[m++] = r.rel[j];
        }
        if (m == 0) {
            skipped_norel++;
            continue;
        }
        const char *name = xs_dict_name(r.ds->customers, cu);
        xs_request req = {NULL, 0, xs_dict_find(tds->customers, name,
                                                strlen(name)),
                          (uint32_t)k, 0, XS_NONE};
        const xs_rec *recs;
        size_t n = 0;
        if (xs_engine_recommend_filtered(r.e, r.ctx, ask, &req, NULL, &recs,
                                         &n, &err)) {
            rc = cli_fail("eval", cli_exit_code(err.code), "%s", err.msg);
            goto done;
        }
        for (size_t j = 0; j < n; j++)
            r.recs[j] = recs[j].item;
        if (xs_eval_add(r.acc, r.recs, n, r.rel, m, &err)) {
            rc = cli_fail("eval", cli_exit_code(err.code), "%s", err.msg);
            goto done;
        }
    }
    xs_eval_report rep;
    xs_eval_result(r.acc, &rep);
    if (rep.users == 0) {
        rc = cli_fail("eval", CLI_RUNTIME, "no customer to evaluate: %llu "
                      "test customers have no train events, %llu bought "
                      "nothing new", (unsigned long long)skipped_cold,
                      (unsigned long long)skipped_norel);
        goto done;
    }
    print_report(format, &rep, skipped_cold, skipped_norel, plugin,
                 xs_split_name(method), k, n_ev - n_test, n_test);
    rc = fflush(stdout) == 0 ? CLI_OK : CLI_RUNTIME;
done:
    run_free(&r);
out:
    cli_plugins_free(&pl);
    return rc;
}
