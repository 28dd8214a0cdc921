/*
 * cmd_eval.c -- `xsell eval`: offline evaluation of a plugin (or the blend).
 *
 * The events are split (xsell/eval.h), an engine is built on the train
 * events only (an in-memory dataset: nothing of the test side reaches the
 * plugins), and xs_eval_run asks every test customer for its top k and
 * scores the lists; this file reads the options, builds the engine and
 * prints the report.  `--split basket` is the basket protocol instead:
 * whole baskets held out, one item of each hidden (xs_basket_hide) and
 * asked for by the rest (xs_eval_run_baskets), on --baskets data or on
 * events with orders.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/atomic_out.h"
#include "cli/cli.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: xsell eval --events FILE [options]\n"
            "       xsell eval --split basket (--baskets FILE | --events FILE "
            "with orders)\n\n"
            "Splits the events into train and test, builds the plugins on "
            "train only,\n"
            "recommends top-k to every test customer (items bought in train "
            "excluded)\n"
            "and scores the lists against the customers' test items.\n\n"
            "Basket protocol (--split basket): a seeded 1 - ratio of the "
            "baskets (orders)\n"
            "is held out whole; in each held-out basket of >= 2 distinct "
            "items one item,\n"
            "drawn with the seed, is hidden, and the plugin is asked with the "
            "basket's\n"
            "other items (no customer) for its top k; a hit is the hidden "
            "item in it.\n"
            "users = baskets evaluated; skipped_no_relevant = held-out "
            "baskets of one\n"
            "distinct item; skipped_cold = those whose other items are all "
            "unknown to train.\n\n"
            "  --split S          stratified (default), temporal, leave-last "
            "or basket\n"
            "  --ratio R          train share (of events per customer, or of "
            "baskets), in\n"
            "                     (0, 1) (default 0.75)\n"
            "  --seed N           random seed of the stratified and basket "
            "splits and of\n"
            "                     the hidden items (default 42)\n"
            "  --k N              list length, 1..%d (default 10)\n"
            "  --plugin NAME      plugin to evaluate (default recency), or "
            "blend (all of\n"
            "                     --plugins, blended)\n"
            "  --save-split DIR   write DIR/train.csv and DIR/test.csv (basket: "
            "with an order\n"
            "                     column, and in test.csv hidden = 1 on the "
            "hidden item)\n"
            "  --target-items FILE  score only these items (one name a line): "
            "the basket\n"
            "                     protocol evaluates the held-out baskets "
            "whose hidden item\n"
            "                     is listed, the customer protocol counts "
            "listed test items\n"
            "                     only (recall on a segment, e.g. cold "
            "items)\n"
            "  --format F         table or json (default table)\n\n"
            "metrics (means over evaluated users): precision, recall, ndcg, "
            "map, mrr,\nhit_rate;\n"
            "coverage = distinct recommended items / items in train.\n\n%s\n%s",
            XS_K_MAX, CLI_PLUGIN_HELP, CLI_DATA_HELP);
}

/* Everything one run owns, freed in one place. */
typedef struct eval_run {
    xs_dataset *ds; /* the whole input */
    unsigned char *is_test;
    unsigned char *hidden; /* basket protocol: the hidden items' events */
    xs_engine *e;   /* on the train side */
} eval_run;

/* --target-items: test events whose item FILE does not list are taken out
 * of the test side (a basket whose hidden item is not listed, whole), after
 * the train engine is built, so train is the same with or without it. */
static int keep_targets(const char *path, eval_run *r, int by_basket)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_fail("eval", CLI_RUNTIME, "--target-items %s: %s", path,
                        strerror(errno));
    xs_dict *set = xs_dict_new();
    unsigned char *drop = NULL;
    char line[4096];
    int rc = CLI_RUNTIME;
    uint32_t id;
    while (set && fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        if (n && xs_dict_intern(set, line, n, &id))
            goto out;
    }
    const xs_dataset *ds = r->ds;
    uint32_t max_order = 0;
    for (size_t i = 0; i < ds->n_events; i++)
        if (ds->events[i].order != XS_NONE &&
            ds->events[i].order > max_order)
            max_order = ds->events[i].order;
    if (!set || !(drop = calloc((size_t)max_order + 1, 1)))
        goto out;
    for (size_t i = 0; i < ds->n_events; i++) {
        const char *name = xs_dict_name(ds->items, ds->events[i].item);
        int listed = xs_dict_find(set, name, strlen(name)) != XS_NONE;
        if (by_basket && r->hidden[i] && !listed &&
            ds->events[i].order != XS_NONE)
            drop[ds->events[i].order] = 1;
        else if (!by_basket && r->is_test[i] && !listed)
            r->is_test[i] = 0;
    }
    for (size_t i = 0; by_basket && i < ds->n_events; i++)
        if (ds->events[i].order != XS_NONE && drop[ds->events[i].order])
            r->is_test[i] = 0;
    rc = CLI_OK;
out:
    if (rc)
        cli_fail("eval", CLI_RUNTIME, "--target-items %s: out of memory",
                 path);
    fclose(f);
    xs_dict_free(set);
    free(drop);
    return rc;
}

static void run_free(eval_run *r)
{
    xs_engine_free(r->e);
    xs_dataset_free(r->ds);
    free(r->is_test);
    free(r->hidden);
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
        /* written by name to a temporary beside it, renamed when whole */
        cli_out o;
        if (cli_out_open(&o, "eval", path)) {
            free(path);
            return CLI_RUNTIME;
        }
        cli_out_release(&o);
        xs_error err = {0};
        int rc = r->hidden ? xs_split_write_baskets(r->ds, r->is_test,
                                                    r->hidden, side, o.tmp,
                                                    &err)
                           : xs_split_write(r->ds, r->is_test, side, o.tmp,
                                            &err);
        if (rc) {
            cli_out_abort(&o);
            free(path);
            return cli_fail("eval", CLI_RUNTIME, "%s", err.msg);
        }
        rc = cli_out_commit(&o, "eval");
        free(path);
        if (rc)
            return rc;
    }
    return CLI_OK;
}

static void print_report(int format, const xs_eval_report *m,
                         const xs_eval_skipped *sk, const char *plugin,
                         const char *split, long k, size_t n_train,
                         size_t n_test)
{
    const struct { const char *key; double v; } rows[] = {
        {"precision", m->precision}, {"recall", m->recall},
        {"ndcg", m->ndcg},           {"map", m->map},
        {"mrr", m->mrr},             {"hit_rate", m->hit_rate},
        {"coverage", m->coverage}};
    if (format == CLI_JSON) {
        putchar('{');
        for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
            printf("\"%s\":", rows[i].key);
            xs_json_number(stdout, rows[i].v);
            putchar(',');
        }
        printf("\"users\":%llu,\"skipped_cold\":%llu,"
               "\"skipped_no_relevant\":%llu,\"k\":%ld,\"plugin\":",
               (unsigned long long)m->users, (unsigned long long)sk->cold,
               (unsigned long long)sk->no_relevant, k);
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
           (unsigned long long)sk->cold, "skipped_no_relevant",
           (unsigned long long)sk->no_relevant);
}

int cmd_eval(int argc, char **argv)
{
    enum { O_SPLIT = OPT_FIRST_FREE, O_RATIO, O_SEED, O_K, O_PLUGIN,
           O_SAVE, O_FORMAT, O_TARGETS };
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
        {"target-items", required_argument, NULL, O_TARGETS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cli_data d = {0};
    cli_plugins pl = {0};
    eval_run r = {0};
    const char *plugin = "recency", *save_dir = NULL, *targets = NULL;
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
        case O_TARGETS: targets = optarg; break;
        case O_SPLIT:
            if ((method = xs_split_parse(optarg)) < 0) {
                cli_fail("eval", CLI_USAGE, "--split: want stratified, "
                         "temporal, leave-last or basket, not '%s'", optarg);
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
    int by_basket = method == XS_SPLIT_BASKET;
    if (by_basket ? !d.baskets == !d.events : d.baskets || !d.events) {
        if (by_basket)
            cli_fail("eval", CLI_USAGE, "--split basket wants one of "
                     "--baskets FILE or --events FILE (with an order "
                     "column)");
        else
            cli_fail("eval", CLI_USAGE, "--events FILE is required "
                     "(evaluation needs customers; --baskets has none: "
                     "use --split basket)");
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
    uint32_t max_basket;
    if (cli_max_basket("eval", &d, &max_basket))
        goto out;

    /* load and split */
    xs_error err = {0};
    xs_columns cols = {0};
    if (d.columns && xs_columns_parse(&cols, d.columns, &err)) {
        xs_columns_free(&cols);
        rc = cli_fail("eval", cli_exit_code(err.code), "%s", err.msg);
        goto out;
    }
    xs_load_options lo = {.threads = d.load_threads};
    xs_load_report load_report;
    if ((rc = cli_load_options("eval", &d, &lo, &load_report))) {
        xs_columns_free(&cols);
        goto out;
    }
    r.ds = d.baskets ? xs_dataset_load_baskets_opts(d.baskets, &lo, &err)
                     : xs_dataset_load_events_opts(d.events, &cols, &lo, &err);
    if (r.ds)
        cli_load_report("eval", d.baskets ? d.baskets : d.events, &d,
                        &load_report);
    char ts_col[128], order_col[128];
    snprintf(ts_col, sizeof ts_col, "%s",
             cols.timestamp ? cols.timestamp : "timestamp");
    snprintf(order_col, sizeof order_col, "%s",
             cols.order ? cols.order : "order");
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
    if (by_basket && !r.ds->n_orders) {
        rc = cli_fail("eval", CLI_USAGE, "--split basket needs orders: %s "
                      "has no '%s' column (map one with --columns order=NAME, "
                      "or give baskets with --baskets)", d.events, order_col);
        goto done;
    }
    size_t n_ev = r.ds->n_events;
    if (!(r.is_test = malloc(n_ev + 1)) ||
        (by_basket && !(r.hidden = malloc(n_ev + 1)))) {
        cli_fail("eval", CLI_RUNTIME, "out of memory");
        goto done;
    }
    if (xs_split(r.ds, method, ratio, (uint64_t)seed, r.is_test, &err)) {
        rc = cli_fail("eval", cli_exit_code(err.code), "%s", err.msg);
        goto done;
    }
    if (by_basket &&
        xs_basket_hide(r.ds, r.is_test, (uint64_t)seed, r.hidden, &err)) {
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
    xs_catalog *cat = NULL;
    if (d.catalog && !(cat = xs_catalog_load(d.catalog, train->items, &err))) {
        xs_dataset_free(train);
        cli_fail("eval", CLI_RUNTIME, "%s", err.msg);
        goto done;
    }
    xs_engine_config cfg = {.plugin_dir = d.plugin_dir, .scope = cfg_scope,
                            .asks = by_basket ? XS_ASK_ITEMS /* baskets */
                                              : XS_ASK_CUSTOMER};
    cfg.max_basket = max_basket;
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
    if (targets && (rc = keep_targets(targets, &r, by_basket)))
        goto done;
    rc = CLI_RUNTIME;

    /* every test customer */
    xs_eval_report rep;
    xs_eval_skipped sk;
    if (by_basket ? xs_eval_run_baskets(r.e, ask, (uint32_t)k, r.ds,
                                        r.is_test, r.hidden, &rep, &sk, &err)
                  : xs_eval_run(r.e, ask, (uint32_t)k, r.ds, r.is_test, &rep,
                                &sk, &err)) {
        rc = cli_fail("eval", cli_exit_code(err.code), "%s", err.msg);
        goto done;
    }
    if (rep.users == 0 && by_basket) {
        rc = cli_fail("eval", CLI_RUNTIME, "no basket to evaluate: %llu "
                      "held-out baskets have one distinct item, %llu no "
                      "other item known to train",
                      (unsigned long long)sk.no_relevant,
                      (unsigned long long)sk.cold);
        goto done;
    }
    if (rep.users == 0) {
        rc = cli_fail("eval", CLI_RUNTIME, "no customer to evaluate: %llu "
                      "test customers have no train events, %llu bought "
                      "nothing new", (unsigned long long)sk.cold,
                      (unsigned long long)sk.no_relevant);
        goto done;
    }
    print_report(format, &rep, &sk, plugin, xs_split_name(method), k,
                 n_ev - n_test, n_test);
    rc = fflush(stdout) == 0 ? CLI_OK : CLI_RUNTIME;
done:
    run_free(&r);
out:
    cli_plugins_free(&pl);
    return rc;
}
