/*
 * cmd_rules.c -- `xsell rules`: association rules L -> r with support >= S
 * and confidence >= C, 1 <= |L| <= max_len - 1, with the values arules'
 * apriori(minlen = 2, maxlen = max_len) gives.  The mining is
 * xs_itemsets_rules (data/itemsets.c) over the transactions an engine
 * would count (the same --scope and --max-basket), without building an
 * engine: no pair table, so a dense transaction costs its frequent items
 * only.  This file parses options and prints.
 *
 * Output is streamed with --sort none: each rule is printed as the miner
 * finds it.  Otherwise the rules go to an xs_rule_heap: the best --limit K
 * (O(K) memory) or, without --limit, all of them up to MAX_HELD, past
 * which the command stops with a message naming both ways out.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/atomic_out.h"
#include "cli/cli.h"

/* Rules held for a sort without --limit: about 72 bytes each. */
#define MAX_HELD 5000000u
#define SORT_NONE (-2)

static void help(FILE *f)
{
    fprintf(f,
            "usage: xsell rules (--baskets FILE | --events FILE) [options]\n"
            "\nPrints every rule L -> r (1 to N-1 items on the left, one on "
            "the right)\nwith support >= S and confidence >= C; the values "
            "equal arules' apriori\nwith minlen = 2, maxlen = N.\n\n"
            "  --min-support S     minimum support of L + {r}, 0..1 (default "
            "0.1)\n"
            "  --min-confidence C  minimum confidence P(r|L), 0..1 (default "
            "0.8)\n"
            "  --max-len N         most items in a rule, 2..%d (default 2: "
            "pairs)\n"
            "  --sort KEY          lift, confidence, support, count, name or "
            "none (default\n"
            "                      lift; none: printed as found, in no set "
            "order, memory\n"
            "                      bounded whatever the number of rules)\n"
            "  --limit K           the first K rules of that order only "
            "(sorted: the best K,\n"
            "                      holding K); without it a sort holds every "
            "rule, at most %u\n"
            "  --format F          csv, json or table (default csv)\n"
            "  --out FILE          write the rules to FILE (default: stdout), "
            "through a\n"
            "                      temporary renamed over it when complete\n\n"
            "%s\n"
            "csv columns: lhs,rhs,support,confidence,lift,count; an lhs of "
            "several items is\n"
            "their names in name order joined by ',' (one quoted field); "
            "json gives it as\n"
            "an array when N > 2\n",
            XS_ITEMSETS_MAX_LEN, MAX_HELD, CLI_DATA_HELP);
}

/* csv and json output is gathered in the printer's buffer (OUT_FLUSH
 * bytes, more for a longer rule) and written by fwrite when the next rule
 * does not fit: one write per 64 KiB instead of a printf and several putc
 * per rule.  The table format is for people and stays with printf. */
#define OUT_FLUSH 65536

typedef struct printer {
    const xs_dict *names;
    int format, array_lhs;
    uint64_t printed, limit; /* limit 0: none */
    int sorted_lhs;          /* the rules' lhs are sorted already */
    double last[3];          /* support, confidence, lift last formatted */
    char text[3][40];        /* ... and their text (dense data repeats them,
                                and formatting is most of the printing) */
    size_t tlen[3];
    int have[3];
    char *out;               /* pending output (owned), len bytes of cap */
    size_t len, cap;
    char *join;              /* a joined lhs (owned), jcap bytes of room */
    size_t jcap;
    struct item_text {       /* per item id, filled when first printed */
        uint32_t len;        /* strlen of its name */
        uint8_t state;       /* 0 unknown, 1 plain in csv, 2 csv quotes it */
    } *item;                 /* owned; NULL: not remembered (no memory) */
    int item_tried;
} printer;

/* Writes out the pending output: XS_OK or XS_ERR_IO. */
static int out_flush(printer *p)
{
    size_t n = p->len;
    p->len = 0;
    if (n && fwrite(p->out, 1, n, stdout) != n)
        return XS_ERR_IO;
    return ferror(stdout) ? XS_ERR_IO : XS_OK;
}

/* Room for n more bytes in the output buffer: XS_OK, XS_ERR_IO or
 * XS_ERR_NOMEM. */
static int out_room(printer *p, size_t n)
{
    if (p->len + n <= p->cap)
        return XS_OK;
    int rc = out_flush(p);
    if (rc || n <= p->cap)
        return rc;
    size_t cap = n > OUT_FLUSH ? n : OUT_FLUSH;
    char *b = realloc(p->out, cap);
    if (!b)
        return XS_ERR_NOMEM;
    p->out = b;
    p->cap = cap;
    return XS_OK;
}

static void out_bytes(printer *p, const char *s, size_t n)
{
    memcpy(p->out + p->len, s, n);
    p->len += n;
}

/* xs_format_double(v) for column col, remembered, into the output. */
static void out_number(printer *p, int col, double v)
{
    if (!p->have[col] || p->last[col] != v) {
        xs_format_double(p->text[col], sizeof p->text[col], v);
        p->tlen[col] = strlen(p->text[col]);
        p->last[col] = v;
        p->have[col] = 1;
    }
    out_bytes(p, p->text[col], p->tlen[col]);
}

static void out_uint(printer *p, uint32_t v)
{
    char d[10];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        p->out[p->len++] = d[--n];
}

/* The name of item id and its length; *plain when a csv field leaves it
 * as it is.  Both remembered per item (names repeat in every rule). */
static const char *item_name(printer *p, uint32_t id, size_t *len, int *plain)
{
    const char *n = xs_dict_name(p->names, id);
    if (!p->item && !p->item_tried) {
        p->item_tried = 1;
        p->item = calloc(xs_dict_size(p->names) + 1, sizeof *p->item);
    }
    if (p->item && p->item[id].state) {
        *len = p->item[id].len;
        *plain = p->item[id].state == 1;
        return n;
    }
    *len = strlen(n);
    *plain = !memchr(n, ',', *len) && !memchr(n, '"', *len) &&
             !memchr(n, '\n', *len) && !memchr(n, '\r', *len);
    if (p->item && *len <= UINT32_MAX) {
        p->item[id].len = (uint32_t)*len;
        p->item[id].state = *plain ? 1 : 2;
    }
    return n;
}

/* A csv field of the n bytes at s into the output (room made). */
static void out_csv(printer *p, const char *s, size_t n, int plain)
{
    if (plain)
        out_bytes(p, s, n);
    else
        p->len += xs_csv_escape(p->out + p->len, s, n);
}

/* The lhs names joined by ',' in p->join; its length, or (size_t)-1 when
 * out of memory. */
static size_t lhs_joined(printer *p, const xs_itemset_rule *r)
{
    const char *nm[XS_ITEMSETS_MAX_LEN];
    size_t nl[XS_ITEMSETS_MAX_LEN], len = 0;
    int plain;
    for (uint32_t i = 0; i < r->n_lhs; i++) {
        nm[i] = item_name(p, r->lhs[i], &nl[i], &plain);
        len += nl[i] + 1;
    }
    if (len > p->jcap) {
        char *j = realloc(p->join, len);
        if (!j)
            return (size_t)-1;
        p->join = j;
        p->jcap = len;
    }
    char *w = p->join;
    for (uint32_t i = 0; i < r->n_lhs; i++) {
        if (i)
            *w++ = ',';
        memcpy(w, nm[i], nl[i]);
        w += nl[i];
    }
    return (size_t)(w - p->join);
}

/* The three measures and the count: at most this many bytes of text. */
#define NUMBERS_MAX (3 * 40 + 48)

static int print_json(printer *p, const xs_itemset_rule *r)
{
    size_t room = 16 + NUMBERS_MAX, n[XS_ITEMSETS_MAX_LEN];
    const char *s[XS_ITEMSETS_MAX_LEN];
    uint32_t k = p->array_lhs ? r->n_lhs : 1;
    int plain;
    for (uint32_t i = 0; i < k; i++) {
        s[i] = item_name(p, r->lhs[i], &n[i], &plain);
        room += XS_JSON_ESCAPED_MAX(n[i]) + 1;
    }
    s[k] = item_name(p, r->rhs, &n[k], &plain);
    room += XS_JSON_ESCAPED_MAX(n[k]) + 16;
    int rc = out_room(p, room);
    if (rc)
        return rc;
    if (p->printed)
        out_bytes(p, ",", 1);
    out_bytes(p, "\n{\"lhs\":", 8);
    if (p->array_lhs)
        out_bytes(p, "[", 1);
    for (uint32_t i = 0; i < k; i++) {
        if (i)
            out_bytes(p, ",", 1);
        p->len += xs_json_escape(p->out + p->len, s[i], n[i]);
    }
    if (p->array_lhs)
        out_bytes(p, "]", 1);
    out_bytes(p, ",\"rhs\":", 7);
    p->len += xs_json_escape(p->out + p->len, s[k], n[k]);
    out_bytes(p, ",\"support\":", 11);
    out_number(p, 0, r->support);
    out_bytes(p, ",\"confidence\":", 14);
    out_number(p, 1, r->confidence);
    out_bytes(p, ",\"lift\":", 8);
    out_number(p, 2, r->lift);
    out_bytes(p, ",\"count\":", 9);
    out_uint(p, r->count);
    out_bytes(p, "}", 1);
    return XS_OK;
}

static int print_csv(printer *p, const xs_itemset_rule *r)
{
    size_t ln, rn;
    int lplain, rplain;
    const char *l = item_name(p, r->lhs[0], &ln, &lplain);
    if (r->n_lhs > 1) {
        if ((ln = lhs_joined(p, r)) == (size_t)-1)
            return XS_ERR_NOMEM;
        l = p->join;
        lplain = 0; /* it holds a comma */
    }
    const char *rhs = item_name(p, r->rhs, &rn, &rplain);
    int rc = out_room(p, XS_CSV_ESCAPED_MAX(ln) + XS_CSV_ESCAPED_MAX(rn) +
                             NUMBERS_MAX);
    if (rc)
        return rc;
    out_csv(p, l, ln, lplain);
    out_bytes(p, ",", 1);
    out_csv(p, rhs, rn, rplain);
    out_bytes(p, ",", 1);
    out_number(p, 0, r->support);
    out_bytes(p, ",", 1);
    out_number(p, 1, r->confidence);
    out_bytes(p, ",", 1);
    out_number(p, 2, r->lift);
    out_bytes(p, ",", 1);
    out_uint(p, r->count);
    out_bytes(p, "\n", 1);
    return XS_OK;
}

static int print_table(printer *p, const xs_itemset_rule *r)
{
    size_t ln = 0;
    if (r->n_lhs > 1 && (ln = lhs_joined(p, r)) == (size_t)-1)
        return XS_ERR_NOMEM;
    if (r->n_lhs > 1) { /* NUL-terminated for printf */
        if (ln + 1 > p->jcap) {
            char *j = realloc(p->join, ln + 1);
            if (!j)
                return XS_ERR_NOMEM;
            p->join = j;
            p->jcap = ln + 1;
        }
        p->join[ln] = 0;
    }
    const char *l = r->n_lhs > 1 ? p->join : xs_dict_name(p->names, r->lhs[0]);
    const char *rhs = xs_dict_name(p->names, r->rhs);
    char *b1, *b2; /* client ids: no control byte to the tty */
    printf("%-28s %-28s %10.6f %10.6f %8.4f %7u\n", cli_printable(l, &b1),
           cli_printable(rhs, &b2), r->support, r->confidence, r->lift,
           r->count);
    free(b1);
    free(b2);
    return ferror(stdout) ? XS_ERR_IO : XS_OK;
}

static int print_rule(void *arg, const xs_itemset_rule *rule)
{
    printer *p = arg;
    if (p->limit && p->printed == p->limit)
        return XS_ERR_LIMIT;
    xs_itemset_rule sorted;
    const xs_itemset_rule *r = rule;
    if (!p->sorted_lhs && rule->n_lhs > 1) {
        sorted = *rule;
        xs_itemset_rule_sort_lhs(&sorted, p->names);
        r = &sorted;
    }
    int rc = p->format == CLI_JSON  ? print_json(p, r)
             : p->format == CLI_CSV ? print_csv(p, r)
                                    : print_table(p, r);
    if (rc == XS_OK)
        p->printed++;
    return rc;
}

static void print_head(int format, uint64_t n)
{
    if (format == CLI_JSON)
        printf("{\"transactions\":%llu,\"rules\":[", (unsigned long long)n);
    else if (format == CLI_CSV)
        printf("lhs,rhs,support,confidence,lift,count\n");
    else
        printf("%-28s %-28s %10s %10s %8s %7s\n", "lhs", "rhs", "support",
               "confidence", "lift", "count");
}

/* The data as cli_engine_open reads it, and its transactions, without an
 * engine.  CLI_OK with *t set, or an exit code after printing. */
static int load_txns(const cli_data *d, xs_dataset **out, xs_txns *t)
{
    *out = NULL;
    if (!d->baskets == !d->events)
        return cli_fail("rules", CLI_USAGE,
                        "give exactly one of --baskets FILE or --events FILE");
    xs_engine_config cfg;
    int rc = cli_engine_config("rules", d, &cfg);
    if (rc)
        return rc;
    xs_dataset *ds;
    xs_catalog *cat; /* read for its errors and warnings, as elsewhere */
    if ((rc = cli_data_load("rules", d, &ds, &cat)))
        return rc;
    xs_catalog_free(cat);
    xs_error err = {0};
    int scope = cfg.scope >= 0 ? cfg.scope
                : ds->n_orders ? XS_SCOPE_BASKET : XS_SCOPE_CUSTOMER;
    uint32_t max = cfg.max_basket ? cfg.max_basket : XS_MAX_BASKET_DEFAULT;
    if (xs_itemsets_txns(ds, scope, max, t, &err)) {
        xs_dataset_free(ds);
        return cli_fail("rules", err.code == XS_ERR_NOTFOUND ? CLI_USAGE
                                                             : CLI_RUNTIME,
                        "%s", err.msg);
    }
    *out = ds;
    return CLI_OK;
}

int cmd_rules(int argc, char **argv)
{
    enum { O_SUPPORT = OPT_FIRST_FREE, O_CONFIDENCE, O_SORT, O_FORMAT,
           O_MAX_LEN, O_LIMIT, O_OUT };
    static const struct option opts[] = {
        CLI_DATA_OPTIONS,
        {"min-support", required_argument, NULL, O_SUPPORT},
        {"min-confidence", required_argument, NULL, O_CONFIDENCE},
        {"sort", required_argument, NULL, O_SORT},
        {"format", required_argument, NULL, O_FORMAT},
        {"max-len", required_argument, NULL, O_MAX_LEN},
        {"limit", required_argument, NULL, O_LIMIT},
        {"out", required_argument, NULL, O_OUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cli_data d = {0};
    double min_support = 0.1, min_conf = 0.8;
    int sort = XS_RULES_BY_LIFT, format = CLI_CSV, c;
    long max_len = 2, limit = 0;
    const char *out_path = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_data_option(&d, c, optarg))
            continue;
        switch (c) {
        case 'h':
            help(stdout);
            return CLI_OK;
        case O_OUT:
            out_path = optarg;
            break;
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
            if (!strcmp(optarg, "none"))
                sort = SORT_NONE;
            else if ((sort = xs_rule_sort_parse(optarg)) < 0)
                return cli_fail("rules", CLI_USAGE,
                                "--sort: want lift, confidence, support, count, "
                                "name or none, not '%s'", optarg);
            break;
        case O_FORMAT:
            if ((format = cli_parse_format(optarg, 7)) < 0)
                return cli_fail("rules", CLI_USAGE,
                                "--format: want csv, json or table, not '%s'",
                                optarg);
            break;
        case O_MAX_LEN:
            if (cli_parse_long(optarg, 2, XS_ITEMSETS_MAX_LEN, &max_len))
                return cli_fail("rules", CLI_USAGE,
                                "--max-len: want an integer in [2, %d], not "
                                "'%s'", XS_ITEMSETS_MAX_LEN, optarg);
            break;
        case O_LIMIT:
            if (cli_parse_long(optarg, 1, 1000000000L, &limit))
                return cli_fail("rules", CLI_USAGE,
                                "--limit: want an integer in [1, 1000000000], "
                                "not '%s'", optarg);
            break;
        default:
            return cli_fail("rules", CLI_USAGE, "bad option '%s' (see --help)",
                            argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_fail("rules", CLI_USAGE, "unexpected argument '%s'",
                        argv[optind]);
    xs_dataset *ds;
    xs_txns t;
    int rc = load_txns(&d, &ds, &t);
    if (rc)
        return rc;
    uint64_t n = t.n;
    printer p = {.names = ds->items, .format = format,
                 .array_lhs = max_len > 2, .limit = (uint64_t)limit};
    xs_itemsets_config cfg = {min_support, min_conf, (unsigned)max_len, 0};
    xs_rule_heap *h = NULL;
    if (sort != SORT_NONE &&
        !(h = xs_rule_heap_new(ds->items, sort, (size_t)limit, MAX_HELD))) {
        xs_txns_free(&t);
        xs_dataset_free(ds);
        return cli_fail("rules", CLI_RUNTIME, "out of memory");
    }
    /* --out: standard output becomes a temporary beside the file, renamed
     * over it once every rule is written (cli/atomic_out.h) */
    cli_out out = {0};
    if (out_path && strcmp(out_path, "-") &&
        (cli_out_open(&out, "rules", out_path) || fflush(stdout) ||
         dup2(fileno(out.f), STDOUT_FILENO) < 0)) {
        cli_out_abort(&out);
        xs_rule_heap_free(h);
        xs_txns_free(&t);
        xs_dataset_free(ds);
        return CLI_RUNTIME;
    }
    xs_error err = {0};
    if (!h) /* streaming: the head now; sorted: once the rules are in */
        print_head(format, n);
    rc = h ? xs_itemsets_rules(&t, xs_dict_size(ds->items), &cfg,
                               xs_rule_heap_push, h, &err)
           : xs_itemsets_rules(&t, xs_dict_size(ds->items), &cfg, print_rule,
                               &p, &err);
    xs_txns_free(&t);
    if (rc == XS_ERR_LIMIT && !h)
        rc = XS_OK; /* --limit reached while streaming */
    if (rc == XS_OK && h) {
        size_t nr;
        const xs_itemset_rule *r = xs_rule_heap_sorted(h, &nr);
        p.sorted_lhs = 1;
        print_head(format, n);
        for (size_t i = 0; i < nr && rc == XS_OK; i++)
            rc = print_rule(&p, &r[i]);
    }
    xs_rule_heap_free(h);
    int wrc = out_flush(&p); /* what was printed goes out, as before */
    if (rc == XS_OK)
        rc = wrc;
    free(p.out);
    free(p.join);
    free(p.item);
    if (rc == XS_OK) {
        if (format == CLI_JSON)
            printf("]}\n");
        else if (format == CLI_TABLE)
            fprintf(stderr, "%llu rules over %llu transactions\n",
                    (unsigned long long)p.printed, (unsigned long long)n);
    }
    xs_dataset_free(ds);
    if (rc || fflush(stdout))
        cli_out_abort(&out); /* the previous file, if any, stays */
    else if (out.tmp)
        return cli_out_commit(&out, "rules");
    if (rc == XS_ERR_LIMIT)
        return cli_fail("rules", CLI_RUNTIME,
                        "more than %u rules to sort: give --limit K to keep "
                        "the best K, or --sort none to print them as found",
                        MAX_HELD);
    if (rc == XS_ERR_NOMEM)
        return cli_fail("rules", CLI_RUNTIME, "out of memory");
    if (rc == XS_ERR_IO)
        return cli_fail("rules", CLI_RUNTIME, "writing the rules failed");
    if (rc)
        return cli_fail("rules", cli_exit_code(rc), "%s", err.msg);
    return fflush(stdout) == 0 ? CLI_OK : CLI_RUNTIME;
}
