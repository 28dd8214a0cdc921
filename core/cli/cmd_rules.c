/*
 * cmd_rules.c -- `xsell rules`: every pairwise association rule a -> b with
 * support >= S and confidence >= C, with the values arules' apriori gives
 * for rules of length 2 (minlen = maxlen = 2).  The mining is xs_rules_find
 * (core/rules.c); this file parses options and prints.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

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
    int sort = XS_RULES_BY_LIFT, format = CLI_CSV, c;
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
            if ((sort = xs_rule_sort_parse(optarg)) < 0)
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
    xs_rule *rules;
    size_t n_rules;
    xs_error err = {0};
    if (xs_rules_find(t, xs_engine_dataset(e)->items, min_support, min_conf,
                      sort, &rules, &n_rules, &err)) {
        xs_engine_free(e);
        return cli_fail("rules", CLI_RUNTIME, "%s", err.msg);
    }
    if (format == CLI_JSON) {
        printf("{\"transactions\":%llu,\"rules\":[", (unsigned long long)n);
        for (size_t i = 0; i < n_rules; i++) {
            const xs_rule *r = &rules[i];
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
            const xs_rule *r = &rules[i];
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
            const xs_rule *r = &rules[i];
            char *b1, *b2; /* client ids: no control byte to the tty */
            printf("%-28s %-28s %10.6f %10.6f %8.4f %7u\n",
                   cli_printable(xs_engine_item_name(e, r->lhs), &b1),
                   cli_printable(xs_engine_item_name(e, r->rhs), &b2),
                   r->support, r->confidence, r->lift, r->count);
            free(b1);
            free(b2);
        }
        fprintf(stderr, "%zu rules over %llu transactions\n", n_rules,
                (unsigned long long)n);
    }
    free(rules);
    xs_engine_free(e);
    return fflush(stdout) == 0 ? CLI_OK : CLI_RUNTIME;
}
