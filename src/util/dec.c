/*
 * dec.c - exact decimal quantities (see include/liqmon/dec.h).
 *
 * The parser keeps up to 36 significant digits in an __int128 mantissa
 * (10^36 < 2^127) plus a decimal exponent, then scales to units of 1e-8
 * in one step, so rounding happens exactly once, half to even, with a
 * sticky flag for digits that did not fit.
 *
 * Every quantity of every book level goes through dec_parse, and venue
 * quantities are short ("0.012", "1523"), so a fast path takes the plain
 * form first: -?[0-9]+(.[0-9]+)?, at most 19 significant digits (their
 * mantissa fits a uint64) and at most 27 decimals.  It computes what the
 * general path computes for that text (no digit dropped, so no sticky
 * bit; one rounding, half to even) in 64-bit arithmetic, and hands
 * anything else (an exponent, more digits, a syntax error) to the general
 * path unchanged.  check_dec compares the two on random texts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/dec.h"

#define MANT_DIGITS 36

/* 10^e for 0 <= e <= 38 (10^38 < 2^127): the parser scales every
 * quantity it reads by one of these.  A constant table: no init, no race. */
static const dec_t pow10_table[39] = {
    (dec_t)1ULL,
    (dec_t)10ULL,
    (dec_t)100ULL,
    (dec_t)1000ULL,
    (dec_t)10000ULL,
    (dec_t)100000ULL,
    (dec_t)1000000ULL,
    (dec_t)10000000ULL,
    (dec_t)100000000ULL,
    (dec_t)1000000000ULL,
    (dec_t)10000000000ULL,
    (dec_t)100000000000ULL,
    (dec_t)1000000000000ULL,
    (dec_t)10000000000000ULL,
    (dec_t)100000000000000ULL,
    (dec_t)1000000000000000ULL,
    (dec_t)10000000000000000ULL,
    (dec_t)100000000000000000ULL,
    (dec_t)1000000000000000000ULL,
    (dec_t)10000000000000000000ULL,
    (dec_t)10000000000000000000ULL * 10ULL,
    (dec_t)10000000000000000000ULL * 100ULL,
    (dec_t)10000000000000000000ULL * 1000ULL,
    (dec_t)10000000000000000000ULL * 10000ULL,
    (dec_t)10000000000000000000ULL * 100000ULL,
    (dec_t)10000000000000000000ULL * 1000000ULL,
    (dec_t)10000000000000000000ULL * 10000000ULL,
    (dec_t)10000000000000000000ULL * 100000000ULL,
    (dec_t)10000000000000000000ULL * 1000000000ULL,
    (dec_t)10000000000000000000ULL * 10000000000ULL,
    (dec_t)10000000000000000000ULL * 100000000000ULL,
    (dec_t)10000000000000000000ULL * 1000000000000ULL,
    (dec_t)10000000000000000000ULL * 10000000000000ULL,
    (dec_t)10000000000000000000ULL * 100000000000000ULL,
    (dec_t)10000000000000000000ULL * 1000000000000000ULL,
    (dec_t)10000000000000000000ULL * 10000000000000000ULL,
    (dec_t)10000000000000000000ULL * 100000000000000000ULL,
    (dec_t)10000000000000000000ULL * 1000000000000000000ULL,
    (dec_t)10000000000000000000ULL * 10000000000000000000ULL,
};

static inline dec_t pow10_i128(int e)
{
    return pow10_table[e];
}

/* 10^e for 0 <= e <= 19, the divisors of the fast path. */
static const uint64_t pow10_u64[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
    10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
    100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
    100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL,
};

/* The range checks below compare with 10^(32 - e) instead of dividing
 * DEC_MAX_UNITS by 10^e (a 128-bit division per quantity): equal only
 * while DEC_MAX_UNITS is exactly 10^32. */
_Static_assert(DEC_MAX_UNITS == (dec_t)10000000000000000ULL * (dec_t)10000000000000000ULL,
               "dec_parse assumes DEC_MAX_UNITS == 10^32");

static int dec_parse_general(const char *s, size_t len, dec_t *out);

int dec_parse(const char *s, size_t len, dec_t *out)
{
    const char *p = s, *end = s + len, *d0;
    uint64_t m = 0, units;
    int neg = 0, sig = 0, fd = 0, started = 0;

    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    /* sig counts digits from the first non-zero one: while sig <= 19,
     * m < 10^19 < 2^64 is the exact mantissa (m may wrap once sig is 20,
     * and is then not used).  "Started" is a flag of its own, not m != 0:
     * m wraps to exactly 0 at 2^64 (18446744073709551616), which would
     * stop the count at 19 and take 0 for the value (found by make fuzz). */
    for (d0 = p; p < end && (unsigned)(*p - '0') < 10; p++) {
        m = m * 10 + (unsigned)(*p - '0');
        started |= *p != '0';
        sig += started;
    }
    if (p == d0)
        goto general;
    if (p < end && *p == '.') {
        for (d0 = ++p; p < end && (unsigned)(*p - '0') < 10; p++) {
            m = m * 10 + (unsigned)(*p - '0');
            started |= *p != '0';
            sig += started;
        }
        fd = (int)(p - d0);
        if (fd == 0)
            goto general;
    }
    if (p != end || sig > 19 || fd > DEC_DIGITS + 19)
        goto general;
    /* value = m * 10^-fd; units = m * 10^(8 - fd), rounded half to even.
     * With fd <= 8 the product is below 10^19 * 10^8 = 10^27, within
     * DEC_MAX_UNITS. */
    if (fd <= DEC_DIGITS) {
        dec_t u = (dec_t)m * (dec_t)pow10_u64[DEC_DIGITS - fd];
        *out = neg ? -u : u;
        return DEC_OK;
    }
    {
        uint64_t div = pow10_u64[fd - DEC_DIGITS], r, half = div / 2;
        units = m / div;
        r = m % div;
        if (r > half || (r == half && (units & 1)))
            units++;
    }
    *out = neg ? -(dec_t)units : (dec_t)units;
    return DEC_OK;
general:
    return dec_parse_general(s, len, out);
}

/* Any text (see the top of the file). */
static int dec_parse_general(const char *s, size_t len, dec_t *out)
{
    const char *p = s, *end = s + len;
    dec_t mant = 0;
    int neg = 0, ndig = 0, sticky = 0, any = 0;
    long exp10 = 0;     /* value = mant * 10^exp10 (+ sticky fraction) */

    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    /* Integer part: at least one digit. */
    while (p < end && *p >= '0' && *p <= '9') {
        int d = *p++ - '0';
        any = 1;
        if (ndig < MANT_DIGITS) {
            if (ndig > 0 || d != 0) {
                mant = mant * 10 + d;
                ndig++;
            }
        } else {
            exp10++;                 /* a dropped integer digit */
            sticky |= d != 0;
        }
    }
    if (!any)
        return DEC_ESYNTAX;
    if (p < end && *p == '.') {
        p++;
        any = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            int d = *p++ - '0';
            any = 1;
            if (ndig < MANT_DIGITS) {
                if (ndig > 0 || d != 0) {
                    mant = mant * 10 + d;
                    ndig++;
                }
                exp10--;
            } else {
                sticky |= d != 0;
            }
        }
        if (!any)
            return DEC_ESYNTAX;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        long e = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= end || *p < '0' || *p > '9')
            return DEC_ESYNTAX;
        /* Fix (found writing the fuzz reference): the exponent stopped
         * growing at 100000 and dropped the digits after it: "1e1000004"
         * read as 1e100000, so 0.<a million zeros>1e1000004 (= 1000) gave
         * 0.  Saturate far beyond any text's length instead (the digits
         * move exp10 by at most len). */
        while (p < end && *p >= '0' && *p <= '9') {
            if (e < 100000000000000L)
                e = e * 10 + (*p - '0');
            p++;
        }
        exp10 += eneg ? -e : e;
    }
    if (p != end)
        return DEC_ESYNTAX;

    /* units = mant * 10^(exp10 + 8), rounded half to even. */
    long e = exp10 + DEC_DIGITS;
    dec_t units;
    if (mant == 0) {
        units = 0;
    } else if (e >= 0) {
        /* mant * 10^e > DEC_MAX_UNITS = 10^32  <=>  mant > 10^(32 - e)
         * rounded down, which is 0 from e = 33 on (mant > 0 here). */
        if (e > 32 || mant > pow10_i128(32 - (int)e))
            return DEC_ERANGE;
        units = mant * pow10_i128((int)e);
    } else if (e < -38) {
        units = 0;                   /* below half a unit */
    } else {
        dec_t div = pow10_i128((int)-e);
        dec_t q = mant / div, r = mant % div, half = div / 2;
        if (r > half || (r == half && (sticky || (q & 1))))
            q++;
        units = q;
    }
    if (units > DEC_MAX_UNITS)
        return DEC_ERANGE;
    *out = neg ? -units : units;
    return DEC_OK;
}

int dec_from_int(int64_t v, dec_t *out)
{
    *out = (dec_t)v * DEC_SCALE;
    return DEC_OK;
}

int dec_from_double(double d, dec_t *out)
{
    char buf[40];
    int prec;

    if (!isfinite(d))
        return DEC_ESYNTAX;
    /* The shortest representation that reads back as d: the original text
     * for any decimal of <= 15 significant digits (DBL_DIG). */
    for (prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return dec_parse(buf, strlen(buf), out);
}

double dec_to_double(dec_t v)
{
    char buf[DEC_STRLEN];
    const dec_t exact = (dec_t)1 << 53;

    /* Both operands exact, one IEEE division: correctly rounded. */
    if (v > -exact && v < exact)
        return (double)(int64_t)v / (double)DEC_SCALE;
    dec_format(v, buf);
    return strtod(buf, NULL);
}

int dec_format(dec_t v, char *buf)
{
    char tmp[DEC_STRLEN];
    unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
    unsigned __int128 ip = u / DEC_SCALE;
    unsigned long frac = (unsigned long)(u % DEC_SCALE);
    int n = 0, len = 0;

    do {
        tmp[n++] = (char)('0' + (int)(ip % 10));
        ip /= 10;
    } while (ip);
    if (v < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    if (frac) {
        int i, last;
        char f[DEC_DIGITS];
        for (i = DEC_DIGITS - 1; i >= 0; i--) {
            f[i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        for (last = DEC_DIGITS - 1; f[last] == '0'; last--)
            ;
        buf[len++] = '.';
        for (i = 0; i <= last; i++)
            buf[len++] = f[i];
    }
    buf[len] = '\0';
    return len;
}
