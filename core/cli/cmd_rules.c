/*
 * cmd_rules.c -- `xsell rules`: every pairwise association rule a -> b with
 * support >= S and confidence >= C, with the values arules' apriori gives
 * for rules of length 2 (minlen = maxlen = 2).
 *
 * Thresholds follow arules exactly: the minimum pair count is
 * ceil(S * N * (1 - DBL_EPSILON)) and a rule passes when its confidence is at
 * least C - 1e-12.
 */
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct rule {
    uint32_t lhs, rhs, count;
    double support, confidence, lift;
} rule;

enum { SORT_LIFT, SORT_CONFIDENCE, SORT_SUPPORT, SORT_COUNT, SORT_NAME };

/* Ties (and --sort name) order by lhs name, then rhs name. */
static int by_name(const xs_engine *e, const rule *a, const rule *b)
{
    int c = strcmp(xs_engine_item_name(e, a->lhs), xs_engine_item_name(e, b->lhs));
    return c ? c
             : strcmp(xs_engine_item_name(e, a->rhs),
                      xs_engine_item_name(e, b->rhs));
}

static void sort_rules(rule *r, size_t n, int key, const xs_engine *e)
{
    /* bottom-up merge sort: qsort has no context for the name tie-break */
    if (n < 2)
        return;
    rule *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return; /* unsorted output is still correct output */
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                const rule *a = &r[i], *b = &r[j];
                double ka = 0, kb = 0;
                switch (key) {
                case SORT_LIFT: ka = a->lift; kb = b->lift; break;
                case SORT_CONFIDENCE: ka = a->confidence; kb = b->confidence; break;
                case SORT_SUPPORT:
                case SORT_COUNT: ka = a->count; kb = b->count; break;
                default: break;
                }
                int take_b = kb > ka || (kb == ka && by_name(e, b, a) < 0);
                tmp[k++] = take_b ? r[j++] : r[i++];
            }
            while (i < mid)
                tmp[k++] = r[i++];
            while (j < hi)
                tmp[k++] = r[j++];
        }
        memcpy(r, tmp, n * sizeof *r);
    }
    free(tmp);
}

static void help(FILE *f)
{
    fprintf(f,
            "usage: xsell rules (--baskets FILE | --events FILE) [options]\n"
            "\nPrints every rule a -> b (one item each side) with support >= S "
            "and\nconfidence >= C; the values equal arules' apriori with "
            "minlen = maxlen = 2.\n\n"
            "  --min-support S     minimum support of {a, b}, 0..1 (default "
            "0.1)\n"
            "  --min-confidence C  minimum confidence P(b|a), 0..1 (default "
            "0.8)\n"
            "  --sort KEY          lift, confidence, support, count or name "
            "(default lift)\n"
            "  --format F          csv, json or table (default csv)\n\n"
            "%s\ncsv columns: lhs,rhs,support,confidence,lift,count\n",
            CLI_DATA_HELP);
}

int cmd_rules(int argc, char **argv)
{
    enum { O_SUPPORT = OPT_FIRST_FREE, O_CONFIDENCE, O_SORT, O_FORMAT };
    static const struct option opts[] = {
        CLI_DATA_OPTIONS,
        {"min-support", required_argument, NULL, O_SUPPORT},
        {"min-confidence", required_argument, NULL, O_CONFIDENCE},
        {"sort", required_argument, NULL, O_SORT},
        {"format", required_argument, NULL, O_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cli_data d = {0};
    double min_support = 0.1, min_conf = 0.8;
    int sort = SORT_LIFT, format = CLI_CSV, c;
    static const char *const sort_names[] = {"lift", "confidence", "support",
                                             "count", "name"};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_data_option(&d, c, optarg))
            continue;
        switch (c) {
        case 'h':
            help(stdout);
            return CLI_OK;
        case O_SUPPORT:
            if (cli_parse_double(optarg, 0, 1, &min_support))
                return cli_fail("rules", CLI_USAGE,
                                "--min-support: want a number in [0, 1], not "
                                "'%s'", optarg);
            break;
        case O_CONFIDENCE:
            if (cli_parse_double(optarg, 0, 1, &min_conf))
                return cli_fail("rules", CLI_USAGE,
                                "--min-confidence: want a number in [0, 1], "
                                "not '%s'", optarg);
            break;
        case O_SORT:
            sort = -1;
            for (int i = 0; i < 5; i++)
                if (!strcmp(optarg, sort_names[i]))
                    sort = i;
            if (sort < 0)
                return cli_fail("rules", CLI_USAGE,
                                "--sort: want lift, confidence, support, count "
                                "or name, not '%s'", optarg);
            break;
        case O_FORMAT:
            if ((format = cli_parse_format(optarg, 7)) < 0)
                return cli_fail("rules", CLI_USAGE,
                                "--format: want csv, json or table, not '%s'",
                                optarg);
            break;
        default:
            return cli_fail("rules", CLI_USAGE, "bad option '%s' (see --help)",
                            argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_fail("rules", CLI_USAGE, "unexpected argument '%s'",
                        argv[optind]);
    xs_engine *e;
    int rc = cli_engine_open("rules", &d, &e);
    if (rc)
        return rc;
    const xs_cooc *t = xs_engine_cooc(e, xs_engine_default_scope(e));
    uint64_t n = xs_cooc_transactions(t);
    double abs = ceil(min_support * (double)n * (1 - DBL_EPSILON));
    uint32_t min_count = abs < 1 ? 1 : (uint32_t)abs;
    rule *rules = NULL;
    size_t n_rules = 0, cap = 0;
    uint32_t n_items = xs_dict_size(xs_engine_dataset(e)->items);
    for (uint32_t a = 0; a < n_items; a++) {
        xs_row row;
        if (!xs_cooc_row(t, a, &row))
            continue;
        for (uint32_t i = 0; i < row.n; i++) {
            uint32_t cnt = row.cnt[i];
            if (cnt < min_count)
                continue;
            double conf = (double)cnt / row.support;
            if (conf < min_conf - 1e-12)
                continue;
            if (n_rules == cap) {
                cap = cap ? cap * 2 : 1024;
                rule *nr = realloc(rules, cap * sizeof *nr);
                if (!nr) {
                    free(rules);
                    xs_engine_free(e);
                    return cli_fail("rules", CLI_RUNTIME, "out of memory");
                }
                rules = nr;
            }
            uint32_t b = row.nbr[i];
            rule *r = &rules[n_rules++];
            r->lhs = a;
            r->rhs = b;
            r->count = cnt;
            r->support = (double)cnt / (double)n;
            r->confidence = conf;
            r->lift = xs_measure(XS_MEASURE_LIFT, cnt, row.support,
                                 xs_cooc_support(t, b), n);
        }
    }
    sort_rules(rules, n_rules, sort, e);
    if (format == CLI_JSON) {
        printf("{\"transactions\":%llu,\"rules\":[", (unsigned long long)n);
        for (size_t i = 0; i < n_rules; i++) {
            const rule *r = &rules[i];
            printf(i ? ",\n{\"lhs\":" : "\n{\"lhs\":");
            xs_json_string(stdout, xs_engine_item_name(e, r->lhs));
            printf(",\"rhs\":");
            xs_json_string(stdout, xs_engine_item_name(e, r->rhs));
            printf(",\"support\":");
            xs_json_number(stdout, r->support);
            printf(",\"confidence\":");
            xs_json_number(stdout, r->confidence);
            printf(",\"lift\":");
            xs_json_number(stdout, r->lift);
            printf(",\"count\":%u}", r->count);
        }
        printf("]}\n");
    } else if (format == CLI_CSV) {
        printf("lhs,rhs,support,confidence,lift,count\n");
        for (size_t i = 0; i < n_rules; i++) {
            const rule *r = &rules[i];
            char s[40], cf[40], l[40];
            xs_format_double(s, sizeof s, r->support);
            xs_format_double(cf, sizeof cf, r->confidence);
            xs_format_double(l, sizeof l, r->lift);
            xs_csv_field(stdout, xs_engine_item_name(e, r->lhs));
            putchar(',');
            xs_csv_field(stdout, xs_engine_item_name(e, r->rhs));
            printf(",%s,%s,%s,%u\n", s, cf, l, r->count);
        }
    } else {
        printf("%-28s %-28s %10s %10s %8s %7s\n", "lhs", "rhs", "support",
               "confidence", "lift", "count");
        for (size_t i = 0; i < n_rules; i++) {
            const rule *r = &rules[i];
            printf("%-28s %-28s %10.6f %10.6f %8.4f %7u\n",
                   xs_engine_item_name(e, r->lhs),
                   xs_engine_item_name(e, r->rhs), r->support, r->confidence,
                   r->lift, r->count);
        }
        fprintf(stderr, "%zu rules over %llu transactions\n", n_rules,
                (unsigned long long)n);
    }
    free(rules);
    xs_engine_free(e);
    return fflush(stdout) == 0 ? CLI_OK : CLI_RUNTIME;
}
