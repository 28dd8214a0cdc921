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

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil, as util/parse.c). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

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
    *out = days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1,
                           tm.tm_mday) * 86400 +
           (int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    return 0;
}
