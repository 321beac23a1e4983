/*
 * numfmt.c - doubles as text, exactly as printf writes them (see
 * numfmt.h).
 *
 * Alert records, their messages and ladders print many doubles, and a
 * burst of alerts (a cascade, a start with many positions near
 * liquidation) spent most of its time in printf and strtod.  For
 * 1e-4 <= |d| < 1e15 (prices, quantities, ratios: nearly everything this
 * program prints) the digits are computed exactly in 128-bit integers:
 *
 *   |d| = M * 2^-s exactly (M the 53-bit significand, 3 <= s <= 66);
 *   the P-digit decimal printf prints is q = |d| * 10^k rounded half to
 *   even, k = P - 1 - (decimal exponent), and M * 10^k < 2^53 * 10^20
 *   < 2^120 fits, as do the products of the read-back test below.
 *
 * That is the exact binary value rounded to P digits, as glibc's printf
 * does in the default rounding mode, so the text is printf's byte for
 * byte (check_jsonw compares the two on 1.6M doubles).  Anything else
 * (other magnitudes, exponent notation, 0, non-finite) goes to printf.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "liqmon/numfmt.h"

typedef unsigned __int128 u128;

static const uint64_t p10u[21] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
    100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
    1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
    1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
    1000000000000000000ULL, 10000000000000000000ULL, 0 /* 10^20: below */
};

static u128 pow10_128(int k)
{
    return k < 20 ? (u128)p10u[k] : (u128)p10u[19] * 10;
}

/* M * 2^-s * 10^k (0 <= k <= 20): its integer part in *fl, and the
 * return value, rounded half to even. */
static uint64_t round_scaled(uint64_t M, int s, int k, uint64_t *fl)
{
    u128 prod = (u128)M * pow10_128(k);
    u128 q = prod >> s, r = prod - (q << s), half = (u128)1 << (s - 1);

    *fl = (uint64_t)q;
    if (r > half || (r == half && (q & 1)))
        q++;
    return (uint64_t)q;
}

/* Whether q * 10^-k reads back (strtod, round to nearest even) as
 * M * 2^-s: whether it lies strictly between the midpoints to the
 * neighbouring doubles, or on one with M even.  Everything scaled by
 * 10^k * 2^(s+2) to stay in integers. */
static int reads_back_exact(uint64_t q, int k, uint64_t M, int s)
{
    u128 dv = (u128)q << (s + 2), t = pow10_128(k);
    u128 hi = (u128)(2 * M + 1) * 2 * t;
    u128 lo = M == (1ULL << 52) ? (u128)(4 * M - 1) * t : (u128)(2 * M - 1) * 2 * t;

    if (dv > lo && dv < hi)
        return 1;
    return (dv == lo || dv == hi) && (M & 1) == 0;
}

/* The P significant digits (q, with *k decimals) of a = M * 2^-s.  *x is
 * a's decimal exponent, perhaps one off (split's log10): it is corrected
 * here, so that the next precision asked for starts from the right one. */
static int digits(uint64_t M, int s, int P, int *x, uint64_t *q, int *k)
{
    for (int tries = 0; tries < 3; tries++) {
        int kk = P - 1 - *x;
        uint64_t fl, v;
        if (kk < 0 || kk > 20)
            return -1;
        v = round_scaled(M, s, kk, &fl);
        /* the integer part must have P digits: else x was one off */
        if (fl >= p10u[P]) {
            (*x)++;
        } else if (fl < p10u[P - 1]) {
            (*x)--;
        } else {
            if (v == p10u[P]) {        /* 99.95 -> 100.0: one digit more */
                v /= 10;
                kk--;
                if (kk < 0)
                    return -1;
            }
            *q = v;
            *k = kk;
            return 0;
        }
    }
    return -1;
}

/* %.<P>g of d (sign included) from q with k decimals: fixed notation,
 * trailing zeros dropped.  0, or -1 where %g would use an exponent. */
static int put_g(double d, uint64_t q, int k, int P, char *buf)
{
    char dig[24];
    int len = 0, n = 0;

    if (P - 1 - k < -4 || P - 1 - k >= P)
        return -1;
    while (q % 10 == 0 && k > 0) {
        q /= 10;
        k--;
    }
    for (uint64_t t = q; t > 0; t /= 10)
        dig[len++] = (char)('0' + t % 10);
    if (d < 0)
        buf[n++] = '-';
    if (len > k) {
        for (int i = len - 1; i >= k; i--)
            buf[n++] = dig[i];
        if (k > 0)
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

/* |d| = M * 2^-s exactly, when 1e-4 <= |d| < 1e15 (then 3 <= s <= 66),
 * and *x (if x is not NULL) its decimal exponent, maybe one off near a
 * power of ten; -1 otherwise (and for NaN). */
static int split(double d, uint64_t *M, int *s, int *x)
{
    double a = fabs(d);
    int e;

    if (!(a >= 1e-4 && a < 1e15))
        return -1;
    double fr = frexp(a, &e);              /* a = fr * 2^e, fr in [0.5, 1) */
    *M = (uint64_t)ldexp(fr, 53);
    *s = 53 - e;
    if (x != NULL)
        *x = (int)floor(log10(a));
    return 0;
}

int numfmt_g(double d, int prec, char *buf, size_t size)
{
    uint64_t M, q;
    int s, x, k, n;

    if (size >= 32 && prec >= 1 && prec <= 17 && split(d, &M, &s, &x) == 0 &&
        digits(M, s, prec, &x, &q, &k) == 0 && (n = put_g(d, q, k, prec, buf)) > 0)
        return n;
    return snprintf(buf, size, "%.*g", prec, d);
}

int numfmt_f(double d, int decimals, char *buf, size_t size)
{
    uint64_t M, fl;
    int s, n = 0;

    /* |d| * 10^decimals < 1e19 < 2^64 */
    if (size < 32 || decimals < 0 || decimals > 4 || split(d, &M, &s, NULL) != 0)
        return snprintf(buf, size, "%.*f", decimals, d);
    uint64_t q = round_scaled(M, s, decimals, &fl);
    uint64_t ip = q / p10u[decimals], fp = q % p10u[decimals];
    char dig[24];
    int len = 0;

    if (d < 0)
        buf[n++] = '-';
    do {
        dig[len++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip > 0);
    while (len > 0)
        buf[n++] = dig[--len];
    if (decimals > 0) {
        buf[n++] = '.';
        for (int i = decimals - 1; i >= 0; i--)
            buf[n++] = (char)('0' + fp / p10u[i] % 10);
    }
    buf[n] = '\0';
    return n;
}

int numfmt_shortest(double d, char *buf, size_t size)
{
    uint64_t M, q;
    int s, x, k, n;

    if (size >= 32 && split(d, &M, &s, &x) == 0) {
        for (int P = 15; P <= 17; P++) {
            if (digits(M, s, P, &x, &q, &k) != 0)
                break;
            if (P == 17 || reads_back_exact(q, k, M, s)) {
                n = put_g(d, q, k, P, buf);
                if (n > 0)
                    return n;
                break;
            }
        }
    }
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, size, "%.*g", prec, d);
        if (prec == 17 || strtod(buf, NULL) == d)
            break;
    }
    return n;
}
