/*
 * xsell/plugin_util.h -- helpers for plugin authors, header-only (like
 * Lua's lauxlib over its core API): option parsing, the best m of a stream
 * of candidates, id comparators and searches.  Nothing here calls the host
 * but through the xs_host_api a plugin already has; nothing needs linking.
 *
 * Options.  A plugin describes its options in a table of xs_opt_spec and
 * calls xs_opts_parse() from create(): every key is checked against the
 * table, every value against its type and range, and the first problem
 * becomes one message, always in the same words:
 *
 *     unknown option 'colour' (half_life, t_ref, similarity)
 *     half_life: want a number of days > 0, not 'soon'
 *
 * The value syntaxes are the same for every plugin and for the engine's
 * settings:
 *     number    a decimal number filling the whole value, finite
 *     integer   digits only (no sign, no fraction), within the range
 *     boolean   true|false|yes|no|on|off|1|0, any case
 *     days      a number of days (a duration)
 *     time      unix seconds (an integer) or YYYY-MM-DD[THH:MM[:SS]], UTC
 *     choice    one of a list of words
 *     measure   count|confidence|lift|jaccard|cosine|llr (the host's)
 *     scope     auto|basket|customer
 *
 * The best m.  xs_best_offer() keeps the m best candidates of a stream in
 * a heap whose root is the worst kept, so most candidates cost one
 * comparison; "best" is the host's order: higher score first, equal scores
 * by lower id.
 */
#ifndef XSELL_PLUGIN_UTIL_H
#define XSELL_PLUGIN_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

#if defined(__GNUC__)
#define XS_PREFETCH(p) __builtin_prefetch(p)
#define XS_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define XS_PREFETCH(p) ((void)(p))
#define XS_ALWAYS_INLINE inline
#endif

/* Defines xs_plugin_entry(), the one symbol a plugin exports, returning
 * the plugin's table. */
#define XS_PLUGIN_ENTRY(table)                                                 \
    XS_EXPORT const xs_plugin *xs_plugin_entry(void)                           \
    {                                                                          \
        return &(table);                                                       \
    }

/* ---- values -------------------------------------------------------------- */

/* A number filling the whole of s (no blanks around it), finite, within
 * [lo, hi].  0 or -1. */
static inline int xs_opt_number(const char *s, double lo, double hi,
                                double *out)
{
    char *end;
    if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        return -1; /* strtod would skip them */
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Digits only, within [lo, hi] (hi at most 2^53).  0 or -1. */
static inline int xs_opt_integer(const char *s, double lo, double hi,
                                 double *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 16)
        return -1;
    return xs_opt_number(s, lo, hi, out);
}

/* true|false|yes|no|on|off|1|0, any case.  0 or -1. */
static inline int xs_opt_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    char low[8];
    size_t n = strlen(s);
    if (n >= sizeof low)
        return -1;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    for (size_t i = 0; i < 4; i++) {
        if (!strcmp(low, yes[i])) {
            *out = 1;
            return 0;
        }
        if (!strcmp(low, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static inline int64_t xs_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* n digits of s as a number, or -1 when one is not a digit. */
static inline int xs_digits_(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* A point in time: unix seconds (an integer, a sign allowed) or
 * YYYY-MM-DD, optionally followed by THH:MM or THH:MM:SS (or a space
 * instead of the T), read as UTC; years 1..9999.  0 or -1. */
static inline int xs_opt_time(const char *s, int64_t *out)
{
    const char *p = *s == '-' || *s == '+' ? s + 1 : s;
    size_t len = strlen(p);
    if (len && len <= 12 && strspn(p, "0123456789") == len) {
        *out = strtoll(s, NULL, 10); /* |t| < 10^12 s: years 1..9999 */
        return 0;
    }
    len = strlen(s);
    if ((len != 10 && len != 16 && len != 19) || s[4] != '-' || s[7] != '-')
        return -1;
    int y = xs_digits_(s, 4), m = xs_digits_(s + 5, 2);
    int d = xs_digits_(s + 8, 2), hh = 0, mm = 0, ss = 0;
    if (len > 10) {
        if ((s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
            (hh = xs_digits_(s + 11, 2)) < 0 ||
            (mm = xs_digits_(s + 14, 2)) < 0 ||
            (len == 19 && (s[16] != ':' || (ss = xs_digits_(s + 17, 2)) < 0)))
            return -1;
    }
    static const int mdays[12] = {31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
        (m == 2 && d == 29 && !leap) || hh > 23 || mm > 59 || ss > 59)
        return -1;
    *out = xs_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
    return 0;
}

/* ---- option tables ------------------------------------------------------- */

enum xs_opt_type {
    XS_OPT_NUMBER = 0, /* double *out, within [lo, hi] (lo_open: > lo) */
    XS_OPT_INTEGER,    /* uint32_t *out, within [lo, hi] */
    XS_OPT_DAYS,       /* double *out, days, within [lo, hi] (lo_open) */
    XS_OPT_BOOL,       /* int *out, 0 or 1 */
    XS_OPT_TIME,       /* int64_t *out, unix seconds */
    XS_OPT_CHOICE,     /* int *out, the index in choices (NULL-ended) */
    XS_OPT_MEASURE,    /* int *out, an XS_MEASURE_* (host's names) */
    XS_OPT_SCOPE       /* int *out, -1 (auto), XS_SCOPE_BASKET or _CUSTOMER */
};

typedef struct xs_opt_spec {
    const char *key;
    int type;          /* XS_OPT_* */
    void *out;         /* written only when the option is given and good */
    double lo, hi;     /* NUMBER, INTEGER, DAYS: the range */
    int lo_open;       /* NUMBER, DAYS: the value must exceed lo */
    const char *const *choices; /* CHOICE: the words, NULL-ended */
    int *given;        /* may be NULL: set to 1 when the option is given */
} xs_opt_spec;

/* A number as the messages write it: "0.5", "100", "1000000". */
static inline int xs_opt_num_text_(char *buf, size_t len, double v)
{
    return snprintf(buf, len, "%.15g", v);
}

/* What the spec wants, for messages: "a number of days > 0". */
static inline void xs_opt_want_(const xs_host_api *api, const xs_opt_spec *o,
                                char *buf, size_t len)
{
    char lo[32], hi[32];
    xs_opt_num_text_(lo, sizeof lo, o->lo);
    xs_opt_num_text_(hi, sizeof hi, o->hi);
    const char *what = o->type == XS_OPT_DAYS ? "a number of days" : "a number";
    size_t at = 0;
    switch (o->type) {
    case XS_OPT_NUMBER:
    case XS_OPT_DAYS:
        if (isinf(o->hi))
            snprintf(buf, len, "%s %s %s", what, o->lo_open ? ">" : ">=", lo);
        else
            snprintf(buf, len, "%s in %c%s, %s]", what, o->lo_open ? '(' : '[',
                     lo, hi);
        return;
    case XS_OPT_INTEGER:
        snprintf(buf, len, "an integer in %s..%s", lo, hi);
        return;
    case XS_OPT_BOOL:
        snprintf(buf, len, "true or false");
        return;
    case XS_OPT_TIME:
        snprintf(buf, len, "unix seconds or YYYY-MM-DD");
        return;
    case XS_OPT_SCOPE:
        snprintf(buf, len, "auto, basket or customer");
        return;
    case XS_OPT_MEASURE:
    case XS_OPT_CHOICE:
        buf[0] = '\0';
        for (int i = 0;; i++) {
            const char *w = o->type == XS_OPT_CHOICE ? o->choices[i]
                                                     : api->measure_name(i);
            if (!w)
                break;
            const char *next = o->type == XS_OPT_CHOICE
                                   ? o->choices[i + 1]
                                   : api->measure_name(i + 1);
            int n = snprintf(buf + at, len - at, "%s%s",
                             i ? (next ? ", " : " or ") : "", w);
            if (n < 0 || (size_t)n >= len - at)
                break;
            at += (size_t)n;
        }
        return;
    }
    snprintf(buf, len, "a value");
}

/* Reads one value into o->out; 0 or -1. */
static inline int xs_opt_read_(const xs_host_api *api, const xs_opt_spec *o,
                               const char *v)
{
    double x;
    int64_t t;
    int i;
    switch (o->type) {
    case XS_OPT_NUMBER:
    case XS_OPT_DAYS:
        if (xs_opt_number(v, o->lo, o->hi, &x) || (o->lo_open && x <= o->lo))
            return -1;
        *(double *)o->out = x;
        return 0;
    case XS_OPT_INTEGER:
        if (xs_opt_integer(v, o->lo, o->hi, &x))
            return -1;
        *(uint32_t *)o->out = (uint32_t)x;
        return 0;
    case XS_OPT_BOOL:
        return xs_opt_bool(v, (int *)o->out);
    case XS_OPT_TIME:
        if (xs_opt_time(v, &t))
            return -1;
        *(int64_t *)o->out = t;
        return 0;
    case XS_OPT_CHOICE:
        for (i = 0; o->choices[i]; i++)
            if (!strcmp(v, o->choices[i])) {
                *(int *)o->out = i;
                return 0;
            }
        return -1;
    case XS_OPT_MEASURE:
        if ((i = api->measure_parse(v)) < 0)
            return -1;
        *(int *)o->out = i;
        return 0;
    case XS_OPT_SCOPE:
        i = !strcmp(v, "auto")       ? -1
            : !strcmp(v, "basket")   ? XS_SCOPE_BASKET
            : !strcmp(v, "customer") ? XS_SCOPE_CUSTOMER
                                     : -2;
        if (i == -2)
            return -1;
        *(int *)o->out = i;
        return 0;
    }
    return -1;
}

/* Reads the options against the table spec[0 .. n_spec): 0, or -1 with
 * the first problem in err ("unknown option 'K' (k1, k2, ...)", "K: want
 * WHAT, not 'V'").  Options not given leave their out untouched: set the
 * defaults first. */
static inline int xs_opts_parse(const xs_host_api *api,
                                const xs_opt_spec *spec, size_t n_spec,
                                const xs_option *opts, size_t n_opts,
                                char *err, size_t errlen)
{
    for (size_t i = 0; i < n_opts; i++) {
        const xs_opt_spec *o = NULL;
        for (size_t j = 0; j < n_spec && !o; j++)
            if (!strcmp(opts[i].key, spec[j].key))
                o = &spec[j];
        if (!o) {
            size_t at = (size_t)snprintf(err, errlen, "unknown option '%s' (",
                                         opts[i].key);
            for (size_t j = 0; j < n_spec && at < errlen; j++)
                at += (size_t)snprintf(err + at, errlen - at, "%s%s",
                                       j ? ", " : "", spec[j].key);
            if (at < errlen)
                snprintf(err + at, errlen - at, ")");
            return -1;
        }
        if (xs_opt_read_(api, o, opts[i].value)) {
            char want[160];
            xs_opt_want_(api, o, want, sizeof want);
            snprintf(err, errlen, "%s: want %s, not '%s'", o->key, want,
                     opts[i].value);
            return -1;
        }
        if (o->given)
            *o->given = 1;
    }
    return 0;
}

/* Resolves *scope (-1: the host's default) and builds its table; 0, or -1
 * with "scope: the data has no ... scope" in err. */
static inline int xs_use_scope(const xs_host_api *api, xs_host *host,
                               int *scope, char *err, size_t errlen)
{
    if (*scope < 0)
        *scope = api->default_scope(host);
    if (api->use_scope(host, *scope) == 0)
        return 0;
    snprintf(err, errlen, "scope: the data has no %s scope",
             *scope == XS_SCOPE_BASKET ? "basket (order)" : "customer");
    return -1;
}

/* ---- the best m ---------------------------------------------------------- */

/* A scored candidate: an item (or any index ordered like one, such as a
 * position in a row sorted by item).  The engine's result heap keeps the
 * same (xsell/topk.h: xs_scored is xs_cand). */
typedef struct xs_cand {
    uint32_t item;
    double score;
} xs_cand;

/* x ranks before y: higher score, then lower id. */
static inline int xs_cand_before(const xs_cand *x, const xs_cand *y)
{
    return x->score > y->score ||
           (x->score == y->score && x->item < y->item);
}

static inline void xs_best_down_(xs_cand *h, uint32_t n, uint32_t i)
{
    xs_cand v = h[i];
    for (;;) {
        uint32_t l = 2 * i + 1, w = i;
        const xs_cand *worst = &v;
        if (l < n && xs_cand_before(worst, &h[l]))
            worst = &h[w = l];
        if (l + 1 < n && xs_cand_before(worst, &h[l + 1]))
            w = l + 1;
        if (w == i)
            break;
        h[i] = h[w];
        i = w;
    }
    h[i] = v;
}

/* Offers x to the heap h of *n entries keeping the m best (h holds m);
 * h[0] is the worst kept.  1 when x was kept. */
static inline int xs_best_offer(xs_cand *h, uint32_t *n, uint32_t m,
                                xs_cand x)
{
    if (*n < m) {
        uint32_t i = (*n)++;
        while (i > 0 && xs_cand_before(&h[(i - 1) / 2], &x)) {
            h[i] = h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h[i] = x;
        return 1;
    }
    if (m == 0 || !xs_cand_before(&x, &h[0]))
        return 0;
    h[0] = x;
    xs_best_down_(h, m, 0);
    return 1;
}

/* Sorts the heap h of n entries best first, in place (it is no longer a
 * heap afterwards). */
static inline void xs_best_sort(xs_cand *h, uint32_t n)
{
    for (; n > 1; n--) {
        xs_cand worst = h[0];
        h[0] = h[n - 1];
        h[n - 1] = worst;
        xs_best_down_(h, n - 1, 0);
    }
}

/* ---- ids ----------------------------------------------------------------- */

/* qsort comparators: ids ascending; candidates by item ascending;
 * candidates best first (xs_cand_before). */
static inline int xs_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static inline int xs_cmp_cand_id(const void *a, const void *b)
{
    const xs_cand *x = a, *y = b;
    return (x->item > y->item) - (x->item < y->item);
}

static inline int xs_cmp_cand_best(const void *a, const void *b)
{
    const xs_cand *x = a, *y = b;
    return xs_cand_before(x, y) ? -1 : xs_cand_before(y, x) ? 1 : 0;
}

/* Index of the first of sorted a[0 .. n) that is >= key (n when none). */
static inline uint32_t xs_lower_bound(const uint32_t *a, uint32_t n,
                                      uint32_t key)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (a[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Whether key is in sorted a[0 .. n). */
static inline int xs_sorted_has(const uint32_t *a, uint32_t n, uint32_t key)
{
    uint32_t i = xs_lower_bound(a, n, key);
    return i < n && a[i] == key;
}

/* n_ac: the count of neighbour c in row r, 0 when c is not in it. */
static inline uint32_t xs_row_count(const xs_row *r, uint32_t c)
{
    uint32_t i = xs_lower_bound(r->nbr, r->n, c);
    return i < r->n && r->nbr[i] == c ? r->cnt[i] : 0;
}

/* The array p of n_old elements of `size` bytes grown to n_new (>= n_old),
 * the new elements zeroed: the new array, or NULL when out of memory (p
 * is then unchanged).  For the per-item arrays that grow as ingest interns
 * new items. */
static inline void *xs_grow_zeroed(void *p, size_t n_old, size_t n_new,
                                   size_t size)
{
    char *q = realloc(p, (n_new ? n_new : 1) * size);
    if (q && n_new > n_old)
        memset(q + n_old * size, 0, (n_new - n_old) * size);
    return q;
}

/* Sorts ids[0 .. n) ascending and drops duplicates; returns the count. */
static inline uint32_t xs_sort_unique(uint32_t *ids, uint32_t n)
{
    qsort(ids, n, sizeof *ids, xs_cmp_u32);
    uint32_t w = 0;
    for (uint32_t i = 0; i < n; i++)
        if (w == 0 || ids[i] != ids[w - 1])
            ids[w++] = ids[i];
    return w;
}

#endif /* XSELL_PLUGIN_UTIL_H */
