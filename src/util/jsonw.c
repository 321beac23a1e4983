/* jsonw.c - small JSON writer (see jsonw.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/jsonw.h"

void jw_init(struct jsonw *w)
{
    memset(w, 0, sizeof(*w));
}

void jw_fini(struct jsonw *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

int jw_failed(const struct jsonw *w)
{
    return w->failed;
}

static void put(struct jsonw *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t ncap = w->cap ? w->cap : 4096;
        char *nb;
        while (ncap < w->len + n + 1)
            ncap *= 2;
        nb = realloc(w->buf, ncap);
        if (nb == NULL) {
            w->failed = 1;
            return;
        }
        w->buf = nb;
        w->cap = ncap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* Comma before a value or key unless it is the first in its container. */
static void sep(struct jsonw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0) {
        if (w->count[w->depth - 1])
            put(w, ",", 1);
        w->count[w->depth - 1] = 1;
    }
}

static void open_(struct jsonw *w, const char *c)
{
    sep(w);
    put(w, c, 1);
    if (w->depth < JW_MAXDEPTH)
        w->count[w->depth++] = 0;
    else
        w->failed = 1;
}

static void close_(struct jsonw *w, const char *c)
{
    put(w, c, 1);
    if (w->depth > 0)
        w->depth--;
}

void jw_obj_begin(struct jsonw *w) { open_(w, "{"); }
void jw_obj_end(struct jsonw *w) { close_(w, "}"); }
void jw_arr_begin(struct jsonw *w) { open_(w, "["); }
void jw_arr_end(struct jsonw *w) { close_(w, "]"); }

static void put_escaped(struct jsonw *w, const char *s)
{
    put(w, "\"", 1);
    for (; *s; s++) {
        /* a run of bytes that need no escape goes in one put */
        const char *run = s;
        while ((unsigned char)*s >= 0x20 && *s != '"' && *s != '\\')
            s++;
        if (s > run)
            put(w, run, (size_t)(s - run));
        if (*s == '\0')
            break;
        unsigned char c = (unsigned char)*s;
        char esc[8];
        switch (c) {
        case '"': put(w, "\\\"", 2); break;
        case '\\': put(w, "\\\\", 2); break;
        case '\n': put(w, "\\n", 2); break;
        case '\r': put(w, "\\r", 2); break;
        case '\t': put(w, "\\t", 2); break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof(esc), "\\u%04x", c);
                put(w, esc, 6);
            } else {
                put(w, (const char *)&c, 1);
            }
        }
    }
    put(w, "\"", 1);
}

void jw_key(struct jsonw *w, const char *key)
{
    sep(w);
    put_escaped(w, key);
    put(w, ":", 1);
    w->after_key = 1;
}

void jw_str(struct jsonw *w, const char *s)
{
    sep(w);
    put_escaped(w, s);
}

/* Powers of ten that are exact doubles (10^22 is the last). */
static const double p10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* Whether the decimal m * 10^-k reads back as a (strtod's answer): m and
 * 10^|k| are exact doubles (m < 2^53, |k| <= 22), so one IEEE division or
 * multiplication rounds the exact quotient or product once, to nearest,
 * which is what a correctly rounding strtod does with the same text. */
static double scale(double a, int k)
{
    if (k < -22 || k > 22)
        return 0;
    return k >= 0 ? a * p10[k] : a / p10[-k];
}

static int reads_back(uint64_t m, int k, double a)
{
    return k >= 0 ? (double)m / p10[k] == a : (double)m * p10[-k] == a;
}

/* "%.15g" of d without printf, when d's 15-significant-digit form reads
 * back as d and prints in fixed notation: the length, or 0 (use printf;
 * *fails15 = 1 when the 15-digit form is known not to read back).
 *
 * Why the digits are printf's: if m * 10^-k (m < 10^15) reads back as
 * a = |d|, it lies within half an ulp of a, at most 1.2e-16 * a away,
 * while 15-digit decimals near a are at least 1e-15 * a apart: m is the
 * unique nearest one, which is what printf's correct rounding prints
 * (and a 14-digit m is the 15-digit one with a trailing zero, which %g
 * strips).  m comes from a * 10^k rounded, k chosen so that it has 15
 * integer digits; its error is well under one unit, and m - 1 and m + 1
 * are tried too before concluding that no 15-digit form reads back. */
static int fmt15(double d, char *buf, int *fails15)
{
    double a = fabs(d);
    int x, k, n = 0;
    uint64_t m = 0;
    char dig[24];

    *fails15 = 0;
    if (!(a >= 1e-4 && a < 1e15))
        return 0;                      /* %g's exponent form, or 0 */
    x = (int)floor(log10(a));          /* may be one off near 10^x */
    k = 14 - x;
    double sc = scale(a, k);
    if (sc < 1e14)
        sc = scale(a, ++k);
    else if (sc >= 1e15)
        sc = scale(a, --k);
    if (!(sc >= 1e14 && sc < 1e15) || k < -22 || k > 22)
        return 0;
    /* Now a * 10^k has 15 integer digits: k is right. */
    uint64_t c = (uint64_t)(sc + 0.5);
    if (c == 1000000000000000ULL) {    /* rounds up to the next power */
        c /= 10;
        k--;
    }
    uint64_t cand[3] = { c, c - 1, c + 1 };
    int found = 0;
    for (int i = 0; i < 3 && !found; i++)
        if (cand[i] > 0 && cand[i] < 1000000000000000ULL && reads_back(cand[i], k, a)) {
            m = cand[i];
            found = 1;
        }
    if (!found) {
        *fails15 = 1;
        return 0;
    }
    /* %.15g is fixed notation when the decimal exponent is in [-4, 15) */
    int len = 0;
    for (uint64_t t = m; t > 0; t /= 10)
        len++;
    if (len - 1 - k < -4 || len - 1 - k >= 15)
        return 0;
    while (m % 10 == 0 && k > 0) {     /* %g drops trailing zeros */
        m /= 10;
        k--;
    }
    len = 0;
    for (uint64_t t = m; t > 0; t /= 10)
        dig[len++] = (char)('0' + t % 10);
    if (d < 0)
        buf[n++] = '-';
    if (k <= 0) {
        for (int i = len - 1; i >= 0; i--)
            buf[n++] = dig[i];
        for (int i = 0; i < -k; i++)
            buf[n++] = '0';
    } else if (len > k) {
        for (int i = len - 1; i >= k; i--)
            buf[n++] = dig[i];
        buf[n++] = '.';
        for (int i = k - 1; i >= 0; i--)
            buf[n++] = dig[i];
    } else {
        buf[n++] = '0';
        buf[n++] = '.';
        for (int i = 0; i < k - len; i++)
            buf[n++] = '0';
        for (int i = len - 1; i >= 0; i--)
            buf[n++] = dig[i];
    }
    buf[n] = '\0';
    return n;
}

/* The first of %.15g, %.16g, %.17g that reads back as d (17 always
 * does).  Alert records and ladders print many doubles, and a burst of
 * alerts (a cascade, a start with many positions near liquidation) spent
 * most of its time in printf and strtod here; fmt15 answers the 15-digit
 * case, and says when it cannot be the answer, without them.  The text is
 * the same as printf's, byte for byte (check_jsonw compares the two). */
int jw_fmt_double(double d, char *buf, size_t size)
{
    int prec = 15, n = 0, fails15;

    if (size >= 32 && (n = fmt15(d, buf, &fails15)) > 0)
        return n;
    if (size >= 32 && fails15)
        prec = 16;
    for (; prec <= 17; prec++) {
        n = snprintf(buf, size, "%.*g", prec, d);
        if (prec == 17 || strtod(buf, NULL) == d)
            break;
    }
    return n;
}

void jw_double(struct jsonw *w, double d)
{
    char buf[40];
    int n;

    if (!isfinite(d)) {
        jw_null(w);
        return;
    }
    sep(w);
    n = jw_fmt_double(d, buf, sizeof(buf));
    put(w, buf, (size_t)n);
}

void jw_dec(struct jsonw *w, dec_t v)
{
    char buf[DEC_STRLEN];
    int n = dec_format(v, buf);

    sep(w);
    put(w, buf, (size_t)n);
}

void jw_u64(struct jsonw *w, unsigned long long v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%llu", v);

    sep(w);
    put(w, buf, (size_t)n);
}

void jw_bool(struct jsonw *w, int b)
{
    sep(w);
    put(w, b ? "true" : "false", b ? 4 : 5);
}

void jw_null(struct jsonw *w)
{
    sep(w);
    put(w, "null", 4);
}

void jw_raw(struct jsonw *w, const char *json)
{
    sep(w);
    put(w, json, strlen(json));
}
