/*
 * datefmt.c -- strptime-formatted timestamps (see datefmt.h).
 *
 * strptime fills a struct tm and nothing else: no time zone is consulted
 * (mktime would apply the local one), the date is turned into days by the
 * proleptic Gregorian calendar here, so the result is the same on every
 * machine.  strptime is XSI, hence the feature macro; it is thread-safe (no
 * static state), and the loaders call it on several threads at once.
 */
#define _XOPEN_SOURCE 700

#include <string.h>
#include <time.h>

#include "data/datefmt.h"
#include "xsell/plugin_util.h" /* xs_days_from_civil */

int xs_parse_date_format(const char *s, const char *fmt, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_mday = 1;
    const char *end = strptime(s, fmt, &tm);
    if (!end)
        return -1;
    while (*end == ' ')
        end++;
    if (*end || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
        tm.tm_mday > 31)
        return -1;
    *out = xs_days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1,
                           tm.tm_mday) * 86400 +
           (int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    return 0;
}
