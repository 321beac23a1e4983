/*
 * timearg.c - liqmonctl's time arguments (see timearg.h).
 *
 * Calendar arithmetic: H. Hinnant's days_from_civil / civil_from_days
 * ("chrono-Compatible Low-Level Date Algorithms"), proleptic Gregorian,
 * exact for every date an int64 of ns can hold (1677 to 2262).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timearg.h"

#define NS_PER_S INT64_C(1000000000)

/* What a parser saw: the caller words the message. */
enum { TA_OK = 0, TA_SYNTAX = -1, TA_RANGE = -2 };

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dm[12] = { 31, 28, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dm[m - 1];
}

/* Exactly n digits at *p into *v; moves *p past them. */
static int take_digits(const char **p, int n, unsigned *v)
{
    unsigned x = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        x = x * 10 + (unsigned)((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return 0;
}

/* secs * 1e9 + frac (0 <= frac < 1e9) without overflow. */
static int to_ns(int64_t secs, int64_t frac, int64_t *out)
{
    int64_t base;

    if (secs > INT64_MAX / NS_PER_S || secs < INT64_MIN / NS_PER_S)
        return -1;
    base = secs * NS_PER_S;
    if (base > 0 && frac > INT64_MAX - base)
        return -1;
    *out = base + frac;
    return 0;
}

static int parse_iso(const char *s, int64_t *out, char *why, size_t whylen)
{
    const char *p = s;
    unsigned y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
    int64_t frac = 0, secs, off = 0;
    int nfrac = 0;

    if (take_digits(&p, 4, &y) || *p++ != '-' || take_digits(&p, 2, &mo) ||
        *p++ != '-' || take_digits(&p, 2, &d))
        return TA_SYNTAX;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (take_digits(&p, 2, &h) || *p++ != ':' || take_digits(&p, 2, &mi))
            return TA_SYNTAX;
        if (*p == ':') {
            p++;
            if (take_digits(&p, 2, &sec))
                return TA_SYNTAX;
            if (*p == '.' || *p == ',') {
                for (p++; isdigit((unsigned char)*p); p++, nfrac++)
                    if (nfrac < 9)
                        frac = frac * 10 + (*p - '0');
                if (nfrac == 0)
                    return TA_SYNTAX;
                if (nfrac > 9) {
                    snprintf(why, whylen, "at most 9 digits after the point");
                    return TA_RANGE;
                }
                for (int i = nfrac; i < 9; i++)
                    frac *= 10;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int neg = *p++ == '-';
            if (take_digits(&p, 2, &oh))
                return TA_SYNTAX;
            if (*p == ':')
                p++;
            if (isdigit((unsigned char)*p) && take_digits(&p, 2, &om))
                return TA_SYNTAX;
            if (oh > 23 || om > 59) {
                snprintf(why, whylen, "offset %02u:%02u out of range", oh, om);
                return TA_RANGE;
            }
            off = (int64_t)(oh * 3600 + om * 60) * (neg ? -1 : 1);
        }
    }
    if (*p != '\0')
        return TA_SYNTAX;
    if (mo < 1 || mo > 12) {
        snprintf(why, whylen, "month %u out of range", mo);
        return TA_RANGE;
    }
    if (d < 1 || d > days_in_month(y, mo)) {
        snprintf(why, whylen, "day %u out of range for %04u-%02u", d, y, mo);
        return TA_RANGE;
    }
    /* 23:59:60 (a leap second) has no Unix time of its own: refused. */
    if (h > 23 || mi > 59 || sec > 59) {
        snprintf(why, whylen, "time %02u:%02u:%02u out of range", h, mi, sec);
        return TA_RANGE;
    }
    /* The local time minus its offset is UTC. */
    secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    if (to_ns(secs, frac, out) != 0) {
        snprintf(why, whylen, "outside the years 1677 to 2262 that ns "
                 "since the epoch can hold");
        return TA_RANGE;
    }
    return TA_OK;
}

/* -<count><unit>, unit s m h d w. */
static int parse_relative(const char *s, int64_t now, int64_t *out, char *why,
                          size_t whylen)
{
    const char *p = s + 1;
    int64_t n = 0, unit;

    if (s[0] != '-' || !isdigit((unsigned char)*p))
        return TA_SYNTAX;
    for (; isdigit((unsigned char)*p); p++) {
        if (n > (INT64_MAX - 9) / 10)
            goto range;
        n = n * 10 + (*p - '0');
    }
    switch (*p) {
    case 's': unit = NS_PER_S; break;
    case 'm': unit = 60 * NS_PER_S; break;
    case 'h': unit = 3600 * NS_PER_S; break;
    case 'd': unit = 86400 * NS_PER_S; break;
    case 'w': unit = 7 * 86400 * NS_PER_S; break;
    default: return TA_SYNTAX;
    }
    if (p[1] != '\0')
        return TA_SYNTAX;
    if (n > INT64_MAX / unit || now < INT64_MIN + n * unit)
        goto range;
    *out = now - n * unit;
    return TA_OK;
range:
    snprintf(why, whylen, "too far back for ns since the epoch");
    return TA_RANGE;
}

/* Digits only: ns since the epoch. */
static int parse_ns(const char *s, int64_t *out, char *why, size_t whylen)
{
    int64_t n = 0;

    if (*s == '\0')
        return TA_SYNTAX;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return TA_SYNTAX;
        if (n > (INT64_MAX - (*p - '0')) / 10) {
            snprintf(why, whylen, "more ns than an int64 holds");
            return TA_RANGE;
        }
        n = n * 10 + (*p - '0');
    }
    *out = n;
    return TA_OK;
}

int timearg_parse(const char *s, int64_t now_ns, int64_t *out, lq_err_t *err)
{
    char why[128] = "";
    int rc;

    if (strcmp(s, "now") == 0) {
        *out = now_ns;
        return 0;
    }
    if (s[0] == '-')
        rc = parse_relative(s, now_ns, out, why, sizeof(why));
    else if (strlen(s) >= 10 && s[4] == '-')
        rc = parse_iso(s, out, why, sizeof(why));
    else
        rc = parse_ns(s, out, why, sizeof(why));
    if (rc == TA_OK)
        return 0;
    /* %.64s: the argument is quoted back, but never a screenful of it. */
    if (rc == TA_RANGE)
        return lq_err_set(err, "not a time: '%.64s' (%s)", s, why);
    return lq_err_set(err, "not a time: '%.64s' (ISO-8601 like "
                      "2026-11-30T12:00:00Z, or -15m, -2h)", s);
}

int64_t timearg_now(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

char *timearg_format(int64_t ns, char *buf)
{
    /* Floor division, so that a time before the epoch still counts its
     * milliseconds forward from the start of its second. */
    int64_t secs = ns / NS_PER_S, rem = ns % NS_PER_S, days, sod, y;
    unsigned m, d;
    char tmp[96];
    size_t n;

    if (rem < 0) {
        rem += NS_PER_S;
        secs--;
    }
    days = secs / 86400;
    sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    /* Years 1677 to 2262 always fit; tmp is sized for what the compiler
     * cannot know, so that the format never truncates. */
    n = (size_t)snprintf(tmp, sizeof(tmp),
                         "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
                         (long long)y, m, d, (unsigned)(sod / 3600),
                         (unsigned)(sod / 60 % 60), (unsigned)(sod % 60),
                         (unsigned)(rem / 1000000));
    if (n >= TIMEARG_STRLEN)
        n = TIMEARG_STRLEN - 1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return buf;
}
