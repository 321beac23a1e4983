/*
 * fz_dec.c - dec against an exact reference.
 *
 * The input is a candidate decimal text.  The reference here reads it
 * with the grammar of dec.h as a digit string and an exponent (any
 * length, the exponent saturated far beyond any text's length), scales
 * by 10^8 by moving the point, rounds half to even by looking at the
 * digits, and compares with DEC_MAX_UNITS as text.  Properties:
 *  - dec_parse gives the reference's result code and value;
 *  - dec_format is the shortest exact text: no leading zeros, no
 *    trailing fraction zeros, and dec_parse reads it back to the value;
 *  - dec_to_double is strtod of that text (correctly rounded), and
 *    dec_from_double gives the value back when it has <= 15 significant
 *    digits;
 *  - jtok_parse_double accepts the same grammar and equals strtod bit
 *    for bit (its Clinger fast path included) unless beyond DBL_MAX.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/dec.h"
#include "liqmon/jtok.h"
#include "fuzz.h"

#define EXP_SAT 1000000000000LL      /* |exponent| saturation: >> any text */

/* The reference: code, and the units as a digit string (no sign). */
static int ref_parse(const char *s, size_t len, int *neg, char *units, size_t cap)
{
    const char *p = s, *end = s + len;
    char *dig = malloc(len + 1);
    size_t nd = 0, fracd = 0;
    long long e = 0;
    int any = 0, eneg = 0, rc = DEC_OK;

    FZ_CHECK(dig != NULL, "oom");
    *neg = 0;
    if (p < end && *p == '-') {
        *neg = 1;
        p++;
    }
    while (p < end && *p >= '0' && *p <= '9') {
        dig[nd++] = *p++;
        any = 1;
    }
    if (!any)
        goto syntax;
    if (p < end && *p == '.') {
        p++;
        any = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            dig[nd++] = *p++;
            fracd++;
            any = 1;
        }
        if (!any)
            goto syntax;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= end || *p < '0' || *p > '9')
            goto syntax;
        while (p < end && *p >= '0' && *p <= '9') {
            e = e * 10 + (*p++ - '0');
            if (e > EXP_SAT)
                e = EXP_SAT;
        }
    }
    if (p != end)
        goto syntax;
    /* value = dig * 10^(e - fracd); units = dig * 10^(e - fracd + 8). */
    long long shift = (eneg ? -e : e) - (long long)fracd + DEC_DIGITS;
    size_t lead = 0;
    while (lead < nd && dig[lead] == '0')
        lead++;
    if (lead == nd) {
        snprintf(units, cap, "0");
        goto out;
    }
    const char *d = dig + lead;
    size_t dn = nd - lead;
    /* DEC_MAX_UNITS = 10^32 units: 33 digits. */
    if (shift >= 0) {
        if ((long long)dn + shift > 33) {
            rc = DEC_ERANGE;
            goto out;
        }
        snprintf(units, cap, "%.*s%.*s", (int)dn, d, (int)shift, "00000000000000000000000000000000000");
    } else {
        long long drop = -shift;
        size_t keep = drop >= (long long)dn ? 0 : dn - (size_t)drop;
        int up;
        if (drop > (long long)dn) {
            up = 0;                               /* below 0.1 of a unit */
        } else {
            /* the first dropped digit, then any non-zero after it */
            char first = d[keep];
            int rest = 0;
            for (size_t i = keep + 1; i < dn; i++)
                rest |= d[i] != '0';
            char last = keep ? d[keep - 1] : '0';
            up = first > '5' || (first == '5' && (rest || ((last - '0') & 1)));
        }
        /* units = d[0..keep) + up, as text */
        char *u = units;
        size_t k = 0;
        if (keep + 2 > cap) {
            rc = DEC_ERANGE;
            goto out;
        }
        memcpy(u, d, keep);
        k = keep;
        if (k == 0)
            u[k++] = '0';
        u[k] = '\0';
        if (up) {
            size_t i = k;
            while (i > 0 && u[i - 1] == '9')
                u[--i] = '0';
            if (i == 0) {
                memmove(u + 1, u, k + 1);
                u[0] = '1';
                k++;
            } else {
                u[i - 1]++;
            }
        }
        /* strip leading zeros */
        size_t z = 0;
        while (z + 1 < k && u[z] == '0')
            z++;
        memmove(u, u + z, k - z + 1);
    }
    /* compare with 10^32 */
    if (strlen(units) > 33 || (strlen(units) == 33 && strcmp(units, "100000000000000000000000000000000") > 0))
        rc = DEC_ERANGE;
    goto out;
syntax:
    rc = DEC_ESYNTAX;
out:
    free(dig);
    return rc;
}

static void units_text(dec_t v, char *buf)
{
    char tmp[64];
    int n = 0;
    unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;

    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
}

static int sig_digits(const char *txt)
{
    int n = 0, started = 0, trailing = 0;

    for (const char *p = txt; *p; p++) {
        if (*p < '0' || *p > '9')
            continue;
        if (*p != '0')
            started = 1;
        if (!started)
            continue;
        n++;
        trailing = *p == '0' ? trailing + 1 : 0;
    }
    return n - trailing;
}

void fuzz_dec_one(const uint8_t *data, size_t size)
{
    char *s, units[128], got[64], txt[DEC_STRLEN], *cpy;
    dec_t v = 0, back = 0;
    int neg, rc, ref;
    double d, jd;

    fz_begin();
    if (size > 4096)
        return;
    s = malloc(size ? size : 1);          /* exact size: no NUL after it */
    FZ_CHECK(s != NULL, "oom");
    memcpy(s, data, size);
    rc = dec_parse(s, size, &v);
    ref = ref_parse(s, size, &neg, units, sizeof(units));
    FZ_CHECK(rc == ref, "dec_parse '%.*s': %d, reference %d", (int)size, s, rc, ref);

    /* jtok_parse_double: the same grammar, correctly rounded. */
    cpy = fz_strndup(data, size);
    int jrc = jtok_parse_double(s, size, &jd);
    if (ref == DEC_ESYNTAX) {
        FZ_CHECK(jrc == -1, "jtok_parse_double accepts '%s'", cpy);
    } else {
        d = strtod(cpy, NULL);
        if (isfinite(d))
            FZ_CHECK(jrc == 0 && memcmp(&d, &jd, sizeof(d)) == 0,
                     "jtok_parse_double '%s': %d %.17g, strtod %.17g", cpy, jrc, jd, d);
        else
            FZ_CHECK(jrc == -1, "jtok_parse_double '%s' beyond DBL_MAX: %d", cpy, jrc);
    }
    free(cpy);

    if (rc == DEC_OK) {
        units_text(v, got);
        FZ_CHECK(strcmp(got, units) == 0 && (v == 0 || (v < 0) == neg),
                 "dec_parse '%.*s': %s%s units, reference %s%s", (int)size, s,
                 v < 0 ? "-" : "", got, neg ? "-" : "", units);
        /* dec_format: shortest exact text, read back to the same value. */
        int n = dec_format(v, txt);
        FZ_CHECK(n == (int)strlen(txt) && n < DEC_STRLEN, "dec_format length %d", n);
        const char *q = txt + (txt[0] == '-');
        FZ_CHECK(q[0] != '0' || q[1] == '\0' || q[1] == '.', "dec_format '%s': leading zero", txt);
        FZ_CHECK(strchr(txt, '.') == NULL || txt[n - 1] != '0', "dec_format '%s': trailing zero", txt);
        FZ_CHECK(v != 0 || strcmp(txt, "0") == 0, "dec_format(0) = '%s'", txt);
        FZ_CHECK(dec_parse(txt, (size_t)n, &back) == DEC_OK && back == v,
                 "dec_format '%s' does not read back", txt);
        /* dec_to_double: correctly rounded. */
        d = dec_to_double(v);
        double want = strtod(txt, NULL);
        FZ_CHECK(memcmp(&d, &want, sizeof(d)) == 0 || (d == 0 && want == 0),
                 "dec_to_double(%s) = %.17g, strtod %.17g", txt, d, want);
        /* dec_from_double: the same decimal at <= 15 significant digits. */
        if (sig_digits(txt) <= 15) {
            FZ_CHECK(dec_from_double(d, &back) == DEC_OK && back == v,
                     "dec_from_double(%.17g) differs from %s", d, txt);
        }
    }
    free(s);
}
