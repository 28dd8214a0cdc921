/*
 * parse.c -- strict parsing of the numbers and timestamps found in data
 * files.  "Strict" means the whole field must be consumed and the value must
 * be finite: "12abc", "", "nan" and "inf" are all refused.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/parse.h"
#include "xsell/plugin_util.h" /* xs_days_from_civil */

int xs_parse_double(const char *s, size_t len, double *out)
{
    char tmp[64];
    if (len == 0 || len >= sizeof tmp || isspace((unsigned char)s[0]))
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    /* refuse hex floats and spelled-out infinities/NaNs */
    for (size_t i = 0; i < len; i++) {
        char ch = tmp[i];
        if (!(isdigit((unsigned char)ch) || ch == '.' || ch == '-' ||
              ch == '+' || ch == 'e' || ch == 'E'))
            return -1;
    }
    char *end;
    double v = strtod(tmp, &end);
    if (end != tmp + len || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* Reads exactly n digits at *p. */
static int digits(const char **p, const char *end, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || !isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

static int parse_iso(const char *s, size_t len, int64_t *out)
{
    const char *p = s, *end = s + len;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (digits(&p, end, 4, &y) || p >= end || *p++ != '-' ||
        digits(&p, end, 2, &mo) || p >= end || *p++ != '-' ||
        digits(&p, end, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    int64_t offset = 0;
    if (p < end) {
        if (*p != 'T' && *p != ' ')
            return -1;
        p++;
        if (digits(&p, end, 2, &h) || p >= end || *p++ != ':' ||
            digits(&p, end, 2, &mi))
            return -1;
        if (p < end && *p == ':') {
            p++;
            if (digits(&p, end, 2, &sec))
                return -1;
            if (p < end && (*p == '.' || *p == ',')) {
                p++;
                if (p >= end || !isdigit((unsigned char)*p))
                    return -1;
                while (p < end && isdigit((unsigned char)*p))
                    p++;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return -1;
        if (p < end) {
            if (*p == 'Z' && p + 1 == end) {
                p++;
            } else if (*p == '+' || *p == '-') {
                int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
                if (digits(&p, end, 2, &oh))
                    return -1;
                if (p < end && *p == ':') {
                    p++; /* a colon promises the minutes */
                    if (digits(&p, end, 2, &om))
                        return -1;
                } else if (p < end && digits(&p, end, 2, &om)) {
                    return -1;
                }
                if (oh > 23 || om > 59)
                    return -1;
                offset = sign * (oh * 3600 + om * 60);
            } else {
                return -1;
            }
        }
    }
    if (p != end)
        return -1;
    *out = xs_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
           offset;
    return 0;
}

int xs_parse_timestamp(const char *s, size_t len, int64_t *out)
{
    if (len == 0)
        return -1;
    size_t i = s[0] == '-' ? 1 : 0, dots = 0;
    int numeric = i < len;
    for (size_t j = i; j < len; j++) {
        if (s[j] == '.')
            dots++;
        else if (!isdigit((unsigned char)s[j]))
            numeric = 0;
    }
    if (numeric && dots <= 1) {
        double v;
        if (xs_parse_double(s, len, &v) || fabs(v) > 9.2e15)
            return -1;
        *out = (int64_t)floor(v);
        return 0;
    }
    return parse_iso(s, len, out);
}
