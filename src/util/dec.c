/*
 * dec.c - exact decimal quantities (see include/liqmon/dec.h).
 *
 * The parser keeps up to 36 significant digits in an __int128 mantissa
 * (10^36 < 2^127) plus a decimal exponent, then scales to units of 1e-8
 * in one step, so rounding happens exactly once, half to even, with a
 * sticky flag for digits that did not fit.
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

int dec_parse(const char *s, size_t len, dec_t *out)
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
        if (e > 38 || mant > DEC_MAX_UNITS / pow10_i128((int)e))
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
