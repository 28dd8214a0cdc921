/*
 * request_rules.c -- the property filter, boosts and request time of the
 * offline commands (recommend, score): --filter, --boost, --now, and the
 * config file's `request.filter`, `request.boost`, `request.now` lines
 * (cli.h).
 *
 * The terms point into argv or the config file's text, split in place, so
 * nothing here owns memory.  The command line wins: a config filter is
 * dropped for a property the command line filters on, a config boost for
 * a property:value the command line boosts, a config time when --now is
 * given.  The engine resolves names (engine/business_rules.c) and refuses
 * unknown properties, so here only the syntax is checked.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* Next comma separated part of *s (trimmed, in place), or NULL at the end. */
static char *next_part(char **s)
{
    while (**s == ' ' || **s == ',')
        (*s)++;
    if (!**s)
        return NULL;
    char *start = *s, *end = strchr(start, ',');
    *s = end ? end + 1 : start + strlen(start);
    if (end)
        *end = '\0';
    size_t n = strlen(start);
    while (n && start[n - 1] == ' ')
        start[--n] = '\0';
    return start;
}

static int add(xs_prop_term *v, uint32_t *n, const char *cmd, const char *opt,
               const char *name, size_t name_len, const char *value,
               double factor)
{
    if (*n == CLI_MAX_RULE_TERMS) {
        cli_fail(cmd, CLI_USAGE, "%s: at most %d terms", opt,
                 CLI_MAX_RULE_TERMS);
        return -1;
    }
    v[*n] = (xs_prop_term){name, value, (uint32_t)name_len,
                           (uint32_t)strlen(value), factor};
    (*n)++;
    return 0;
}

/* "NAME=V1,V2" */
static int parse_filter(cli_rules *r, const char *cmd, const char *opt,
                        char *arg, unsigned line)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        cli_fail(cmd, CLI_USAGE, "%s: want PROPERTY=VALUE,..., not '%s'",
                 opt, arg);
        return -1;
    }
    *eq = '\0';
    char *rest = eq + 1, *v;
    int any = 0;
    while ((v = next_part(&rest))) {
        if (add(r->where, &r->n_where, cmd, opt, arg, strlen(arg), v, 1.0))
            return -1;
        r->where_line[r->n_where - 1] = line;
        any = 1;
    }
    if (!any) {
        cli_fail(cmd, CLI_USAGE, "%s %s=: no value", opt, arg);
        return -1;
    }
    return 0;
}

/* "NAME:VALUE=F,..." */
static int parse_boost(cli_rules *r, const char *cmd, const char *opt,
                       char *arg, unsigned line)
{
    char *rest = arg, *t;
    int any = 0;
    while ((t = next_part(&rest))) {
        char *colon = strchr(t, ':'), *eq = strrchr(t, '=');
        double f;
        if (!colon || colon == t || !eq || eq < colon + 2 ||
            cli_parse_double(eq + 1, 1e-300, 1e300, &f)) {
            cli_fail(cmd, CLI_USAGE,
                     "%s: want PROPERTY:VALUE=FACTOR (a factor > 0), not "
                     "'%s'", opt, t);
            return -1;
        }
        *colon = *eq = '\0';
        if (add(r->boost, &r->n_boost, cmd, opt, t, strlen(t), colon + 1, f))
            return -1;
        r->boost_line[r->n_boost - 1] = line;
        any = 1;
    }
    if (!any) {
        cli_fail(cmd, CLI_USAGE, "%s: want PROPERTY:VALUE=FACTOR", opt);
        return -1;
    }
    return 0;
}

static int parse_now(cli_rules *r, const char *cmd, const char *opt,
                     const char *arg, unsigned line)
{
    int64_t t;
    if (xs_parse_timestamp(arg, strlen(arg), &t) || t <= 0) {
        cli_fail(cmd, CLI_USAGE, "%s: want unix seconds or YYYY-MM-DD"
                 "[Thh:mm[:ss]] after 1970, not '%s'", opt, arg);
        return -1;
    }
    if (!line || !r->now_from_cli) {
        r->now = t;
        r->now_from_cli = line == 0;
    }
    return 0;
}

int cli_rules_option(cli_rules *r, const char *cmd, int opt, char *arg)
{
    switch (opt) {
    case OPT_FILTER:
        return parse_filter(r, cmd, "--filter", arg, 0) ? -1 : 1;
    case OPT_BOOST:
        return parse_boost(r, cmd, "--boost", arg, 0) ? -1 : 1;
    case OPT_NOW:
        return parse_now(r, cmd, "--now", arg, 0) ? -1 : 1;
    default:
        return 0;
    }
}

/* 1 when the command line's terms v[0..n) name this property (filters) or
 * this property:value (boosts, value non-NULL). */
static int named_on_cli(const xs_prop_term *v, const unsigned *line,
                        uint32_t n, const xs_prop_term *t, int by_value)
{
    for (uint32_t i = 0; i < n; i++)
        if (!line[i] && v[i].name_len == t->name_len &&
            !memcmp(v[i].name, t->name, t->name_len) &&
            (!by_value || (v[i].value_len == t->value_len &&
                           !memcmp(v[i].value, t->value, t->value_len))))
            return 1;
    return 0;
}

/* Drops config terms (line > 0) the command line overrides. */
static void drop_overridden(xs_prop_term *v, unsigned *line, uint32_t *n,
                            int by_value)
{
    uint32_t out = 0;
    for (uint32_t i = 0; i < *n; i++) {
        if (line[i] && named_on_cli(v, line, *n, &v[i], by_value))
            continue;
        v[out] = v[i];
        line[out++] = line[i];
    }
    *n = out;
}

int cli_rules_from_config(cli_rules *r, const cli_plugins *p, const char *cmd)
{
    for (size_t o = 0; o < p->n; o++) {
        if (!p->plugin[o] || strcmp(p->plugin[o], "request"))
            continue;
        char opt[64];
        snprintf(opt, sizeof opt, "%s:%u: request.%s", p->config,
                 p->from_file[o], p->opt[o].key);
        if (!p->from_file[o]) {
            cli_fail(cmd, CLI_USAGE, "--plugin-opt request.%s: use --filter, "
                     "--boost or --now", p->opt[o].key);
            return CLI_USAGE;
        }
        /* the config text is ours to split: the value lives in p->text */
        char *value = (char *)p->opt[o].value;
        const char *key = p->opt[o].key;
        int bad = !strcmp(key, "filter")
                      ? parse_filter(r, cmd, opt, value, p->from_file[o])
                  : !strcmp(key, "boost")
                      ? parse_boost(r, cmd, opt, value, p->from_file[o])
                  : !strcmp(key, "now")
                      ? parse_now(r, cmd, opt, value, p->from_file[o])
                      : (cli_fail(cmd, CLI_USAGE, "%s: unknown key (filter, "
                                  "boost, now)", opt), -1);
        if (bad)
            return CLI_USAGE;
    }
    drop_overridden(r->where, r->where_line, &r->n_where, 0);
    drop_overridden(r->boost, r->boost_line, &r->n_boost, 1);
    return CLI_OK;
}

void cli_rules_apply(const cli_rules *r, xs_filter *f)
{
    f->where = r->where;
    f->n_where = r->n_where;
    f->boost = r->boost;
    f->n_boost = r->n_boost;
    f->now = r->now;
}
