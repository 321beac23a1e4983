/*
 * check_dec.c - exact decimal quantities (dec.h).
 *
 * Fixed cases for the parser (rounding to 8 places half to even, exponents,
 * signs, syntax errors, range), dec_from_double, dec_to_double, dec_format,
 * then randomized round trips against a digit-string reference written
 * here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "liqmon/dec.h"
#include "suites.h"

#define U(x) ((dec_t)(x))                       /* units of 1e-8 */
#define WHOLE(x) ((dec_t)(x) * DEC_SCALE)       /* whole base units */

/* dec_parse on a C string, expecting DEC_OK and the given units. */
#define PARSE_OK(text, units)                                                  \
    do {                                                                       \
        dec_t got_ = 12345;                                                    \
        char b1_[64], b2_[64];                                                 \
        int rc_ = dec_parse((text), strlen(text), &got_);                      \
        TCHECK(rc_ == DEC_OK, "dec_parse(\"%s\") = %d, want DEC_OK",    \
                      (text), rc_);                                            \
        TCHECK(got_ == (units), "dec_parse(\"%s\") = %s, want %s",      \
                      (text), tdec_str(got_, b1_), tdec_str((units), b2_));    \
    } while (0)

#define PARSE_RC(text, want)                                                   \
    do {                                                                       \
        dec_t got_ = 0;                                                        \
        int rc_ = dec_parse((text), strlen(text), &got_);                      \
        TCHECK(rc_ == (want), "dec_parse(\"%s\") = %d, want %d (%s)",   \
                      (text), rc_, (want), #want);                             \
    } while (0)

START_TEST(parse_integers)
{
    PARSE_OK("0", U(0));
    PARSE_OK("-0", U(0));
    PARSE_OK("1", WHOLE(1));
    PARSE_OK("12", WHOLE(12));
    PARSE_OK("-17", WHOLE(-17));
    PARSE_OK("1000000000000", WHOLE(1000000000000LL));       /* 1e12 */
    PARSE_OK("999999999999999", WHOLE(999999999999999LL));   /* 15 digits */
    PARSE_OK("123456789012345678", WHOLE(123456789012345678LL));
}
END_TEST

START_TEST(parse_decimals)
{
    PARSE_OK("0.1", U(10000000));
    PARSE_OK("0.3", U(30000000));
    PARSE_OK("-0.00100000", U(-100000));
    PARSE_OK("1.25", U(125000000));
    PARSE_OK("-1.25", U(-125000000));
    PARSE_OK("0.00000001", U(1));
    PARSE_OK("-0.00000001", U(-1));
    PARSE_OK("98.5", U(9850000000LL));
    PARSE_OK("1.50000000000000000000", U(150000000));
    PARSE_OK("123456789012.345", U(12345678901234500000ULL));
    PARSE_OK("0.12345678", U(12345678));
    PARSE_OK("100.0", WHOLE(100));
}
END_TEST

START_TEST(parse_exponents)
{
    PARSE_OK("1.5e-3", U(150000));
    PARSE_OK("1.5E-3", U(150000));
    PARSE_OK("1e3", WHOLE(1000));
    PARSE_OK("1E3", WHOLE(1000));
    PARSE_OK("1e+3", WHOLE(1000));
    PARSE_OK("1e0", WHOLE(1));
    PARSE_OK("1e-0", WHOLE(1));
    PARSE_OK("-2.5e2", WHOLE(-250));
    PARSE_OK("1e-8", U(1));
    PARSE_OK("12345e-12", U(1));          /* 1.2345e-8 -> 1 unit */
    PARSE_OK("1e12", WHOLE(1000000000000LL));
    PARSE_OK("1.23456789012345e11", U(12345678901234500000ULL));
    PARSE_OK("0.000001e6", WHOLE(1));
    PARSE_OK("1000000e-6", WHOLE(1));
    PARSE_OK("1e-30", U(0));
    PARSE_OK("0e5", U(0));
    PARSE_OK("1e-400", U(0));
    PARSE_OK("5e-9", U(0));               /* 0.5 unit -> 0 (even) */
    PARSE_OK("1.5e-8", U(2));             /* 1.5 units -> 2 */
    PARSE_OK("25e-9", U(2));              /* 2.5 units -> 2 */
}
END_TEST

/* Rounding to 8 places, half to even, by magnitude (symmetric for
 * negatives). */
START_TEST(parse_rounding)
{
    PARSE_OK("0.000000015", U(2));        /* 1.5 -> 2 */
    PARSE_OK("0.000000025", U(2));        /* 2.5 -> 2 */
    PARSE_OK("0.000000035", U(4));        /* 3.5 -> 4 */
    PARSE_OK("0.000000005", U(0));        /* 0.5 -> 0 */
    PARSE_OK("0.000000004999999", U(0));
    PARSE_OK("0.0000000050000000000000001", U(1));   /* just above half */
    PARSE_OK("0.0000000250000001", U(3));
    PARSE_OK("0.000000024999999999", U(2));
    PARSE_OK("0.000000026", U(3));
    PARSE_OK("-0.000000015", U(-2));
    PARSE_OK("-0.000000025", U(-2));
    PARSE_OK("-0.000000035", U(-4));
    PARSE_OK("-0.000000005", U(0));
    PARSE_OK("-0.0000000051", U(-1));
    PARSE_OK("0.123456785", U(12345678));
    PARSE_OK("0.123456775", U(12345678));
    PARSE_OK("0.12345677500000000000000000000000000000000000000000001",
             U(12345678));
    PARSE_OK("0.1234567749999999999999999999999999999999999999999999",
             U(12345677));
    /* carries across the point */
    PARSE_OK("0.999999995", WHOLE(1));
    PARSE_OK("0.999999985", U(99999998));
    PARSE_OK("9.999999995", WHOLE(10));
    PARSE_OK("-9.999999995", WHOLE(-10));
    PARSE_OK("99999999999.999999995", WHOLE(100000000000LL));
    /* rounding after an exponent shift */
    PARSE_OK("15e-9", U(2));
    PARSE_OK("0.25e-7", U(2));
    PARSE_OK("0.35e-7", U(4));
}
END_TEST

/* The edges of dec_parse's 64-bit fast path (plain text, <= 19
 * significant digits, <= 27 decimals) and of the general path just past
 * them: both must give the same units. */
START_TEST(parse_fast_path_edges)
{
    const dec_t nines19 = (dec_t)9999999999999999999ULL;

    PARSE_OK("9999999999999999999", nines19 * DEC_SCALE);        /* 19: fast */
    PARSE_OK("99999999999999999999", (nines19 * 10 + 9) * DEC_SCALE); /* 20 */
    PARSE_OK("18446744073709551615", (dec_t)18446744073709551615ULL * DEC_SCALE);
    /* 2^64 and its multiples: the 64-bit mantissa wraps to exactly 0,
     * which must still count as 20 digits (found by make fuzz) */
    PARSE_OK("18446744073709551616", ((dec_t)18446744073709551615ULL + 1) * DEC_SCALE);
    PARSE_OK("18446744073709.551616", ((dec_t)18446744073709551615ULL + 1) * 100);
    PARSE_OK("36893488147419103232", ((dec_t)18446744073709551615ULL + 1) * 2 * DEC_SCALE);
    PARSE_OK("-9999999999999999999", -nines19 * DEC_SCALE);
    /* leading zeros are not significant digits */
    PARSE_OK("000000000000000000000000000001.5", U(150000000));
    PARSE_OK("0.0000000000000000001", U(0));
    /* 19 digits with a 9th decimal: rounded in 64 bits, half to even */
    PARSE_OK("1234567890.123456785", U(123456789012345678));
    PARSE_OK("1234567890.123456795", U(123456789012345680));
    PARSE_OK("-1234567890.123456785", U(-123456789012345678));
    PARSE_OK("0.9999999999999999995", WHOLE(1));
    /* 20 digits: the general path, the 20th digit breaking the tie */
    PARSE_OK("1234567890.1234567851", U(123456789012345679));
    PARSE_OK("1.0000000000000000005", WHOLE(1));
    PARSE_OK("0.99999999999999999995", WHOLE(1));
    /* 27 decimals (fast) and beyond (general) */
    PARSE_OK("0.000000000000000000000000005", U(0));
    PARSE_OK("0.0000000000000000000000000015", U(0));
    PARSE_OK("0.00000000000000000000000000000000000001", U(0));
    /* what the fast path hands on: exponents, syntax errors */
    PARSE_OK("1.5e3", WHOLE(1500));
    PARSE_RC("1.", DEC_ESYNTAX);
    PARSE_RC(".5", DEC_ESYNTAX);
    PARSE_RC("-", DEC_ESYNTAX);
    PARSE_RC("1.5x", DEC_ESYNTAX);
}
END_TEST

START_TEST(parse_syntax_errors)
{
    PARSE_RC("", DEC_ESYNTAX);
    PARSE_RC("-", DEC_ESYNTAX);
    PARSE_RC("+1", DEC_ESYNTAX);
    PARSE_RC(" 1", DEC_ESYNTAX);
    PARSE_RC("1 ", DEC_ESYNTAX);
    PARSE_RC("\t1", DEC_ESYNTAX);
    PARSE_RC("1\n", DEC_ESYNTAX);
    PARSE_RC("0x10", DEC_ESYNTAX);
    PARSE_RC("0X1p3", DEC_ESYNTAX);
    PARSE_RC("inf", DEC_ESYNTAX);
    PARSE_RC("-inf", DEC_ESYNTAX);
    PARSE_RC("Infinity", DEC_ESYNTAX);
    PARSE_RC("nan", DEC_ESYNTAX);
    PARSE_RC("NaN", DEC_ESYNTAX);
    PARSE_RC("abc", DEC_ESYNTAX);
    PARSE_RC("1a", DEC_ESYNTAX);
    PARSE_RC("1.2.3", DEC_ESYNTAX);
    PARSE_RC("1..2", DEC_ESYNTAX);
    PARSE_RC("--1", DEC_ESYNTAX);
    PARSE_RC("-+1", DEC_ESYNTAX);
    PARSE_RC("1e", DEC_ESYNTAX);
    PARSE_RC("1e+", DEC_ESYNTAX);
    PARSE_RC("1e-", DEC_ESYNTAX);
    PARSE_RC("1e1.5", DEC_ESYNTAX);
    PARSE_RC("1e5e5", DEC_ESYNTAX);
    PARSE_RC("e5", DEC_ESYNTAX);
    PARSE_RC(".", DEC_ESYNTAX);
    PARSE_RC("1,5", DEC_ESYNTAX);
    PARSE_RC("1_000", DEC_ESYNTAX);
}
END_TEST

/* Only s[0..len) is read: what follows is not part of the number. */
START_TEST(parse_respects_len)
{
    dec_t v = -1;

    ck_assert_int_eq(dec_parse("123", 2, &v), DEC_OK);
    TCHECK(v == WHOLE(12), "dec_parse(\"123\", 2) != 12");
    ck_assert_int_eq(dec_parse("1.5xyz", 3, &v), DEC_OK);
    TCHECK(v == U(150000000), "dec_parse(\"1.5xyz\", 3) != 1.5");
    ck_assert_int_eq(dec_parse("2.5e3,", 5, &v), DEC_OK);
    TCHECK(v == WHOLE(2500), "dec_parse(\"2.5e3,\", 5) != 2500");
    ck_assert_int_eq(dec_parse("7", 0, &v), DEC_ESYNTAX);
    /* a number cut in the middle of its exponent */
    ck_assert_int_eq(dec_parse("1e5", 2, &v), DEC_ESYNTAX);
}
END_TEST

START_TEST(parse_range)
{
    dec_t max = DEC_MAX_UNITS;

    /* 1e24 base units is the largest magnitude accepted */
    PARSE_OK("1e24", max);
    PARSE_OK("-1e24", -max);
    PARSE_OK("1000000000000000000000000", max);
    PARSE_OK("999999999999999999999999.99999999", max - 1);
    PARSE_RC("1000000000000000000000000.00000001", DEC_ERANGE);
    PARSE_RC("-1000000000000000000000000.00000001", DEC_ERANGE);
    PARSE_RC("1e25", DEC_ERANGE);
    PARSE_RC("-1e25", DEC_ERANGE);
    PARSE_RC("1000000000000000000000001", DEC_ERANGE);
    PARSE_RC("123456789012345678901234567890123456789012345678901234567890",
             DEC_ERANGE);
    PARSE_RC("1e400", DEC_ERANGE);
    PARSE_RC("1e99999999999999999999", DEC_ERANGE);
    PARSE_OK("1e-99999999999999999999", U(0));
    /* a long fraction is not a range problem */
    PARSE_OK("0.0000000000000000000000000000000000000000000000000000000000001",
             U(0));
}
END_TEST

START_TEST(from_int)
{
    dec_t v = 0;

    ck_assert_int_eq(dec_from_int(17, &v), DEC_OK);
    TCHECK(v == WHOLE(17), "dec_from_int(17)");
    ck_assert_int_eq(dec_from_int(-3, &v), DEC_OK);
    TCHECK(v == WHOLE(-3), "dec_from_int(-3)");
    ck_assert_int_eq(dec_from_int(0, &v), DEC_OK);
    TCHECK(v == 0, "dec_from_int(0)");
    ck_assert_int_eq(dec_from_int(INT64_MAX, &v), DEC_OK);
    TCHECK(v == (dec_t)INT64_MAX * DEC_SCALE, "dec_from_int(INT64_MAX)");
    ck_assert_int_eq(dec_from_int(INT64_MIN, &v), DEC_OK);
    TCHECK(v == (dec_t)INT64_MIN * DEC_SCALE, "dec_from_int(INT64_MIN)");
}
END_TEST

#define FROM_DOUBLE_OK(d, units)                                               \
    do {                                                                       \
        dec_t got_ = 12345;                                                    \
        char b1_[64], b2_[64];                                                 \
        int rc_ = dec_from_double((d), &got_);                                 \
        TCHECK(rc_ == DEC_OK, "dec_from_double(%.17g) = %d",            \
                      (double)(d), rc_);                                       \
        TCHECK(got_ == (units), "dec_from_double(%.17g) = %s, want %s", \
                      (double)(d), tdec_str(got_, b1_),                        \
                      tdec_str((units), b2_));                                 \
    } while (0)

START_TEST(from_double_fixed)
{
    dec_t v;

    FROM_DOUBLE_OK(0.1, U(10000000));
    FROM_DOUBLE_OK(0.2, U(20000000));
    FROM_DOUBLE_OK(0.3, U(30000000));
    FROM_DOUBLE_OK(0.1 + 0.2, U(30000000));     /* 0.30000000000000004 */
    FROM_DOUBLE_OK(0.0, U(0));
    FROM_DOUBLE_OK(-0.0, U(0));
    FROM_DOUBLE_OK(1.0, WHOLE(1));
    FROM_DOUBLE_OK(-2.5, U(-250000000));
    FROM_DOUBLE_OK(98.5, U(9850000000LL));
    FROM_DOUBLE_OK(97.2, U(9720000000LL));
    FROM_DOUBLE_OK(1.5e-3, U(150000));
    FROM_DOUBLE_OK(1e-8, U(1));
    FROM_DOUBLE_OK(0.000000015, U(2));          /* digits "1.5e-8" */
    FROM_DOUBLE_OK(0.000000025, U(2));          /* digits "2.5e-8" */
    FROM_DOUBLE_OK(0.000000035, U(4));
    FROM_DOUBLE_OK(-0.000000015, U(-2));
    FROM_DOUBLE_OK(1e-9, U(0));
    FROM_DOUBLE_OK(1e12, WHOLE(1000000000000LL));
    FROM_DOUBLE_OK(123456789012.345, U(12345678901234500000ULL));
    FROM_DOUBLE_OK(999999999999.999, U(9999999999999990000ULL) * 10);
    FROM_DOUBLE_OK(-123456789012.345, -U(12345678901234500000ULL));
    FROM_DOUBLE_OK(0.12345678901234, U(12345679));
    FROM_DOUBLE_OK(4503599627370497.0, WHOLE(4503599627370497LL));
    FROM_DOUBLE_OK(1e20, WHOLE(100000000000000000LL) * 1000);

    ck_assert_int_eq(dec_from_double(NAN, &v), DEC_ESYNTAX);
    ck_assert_int_eq(dec_from_double(INFINITY, &v), DEC_ESYNTAX);
    ck_assert_int_eq(dec_from_double(-INFINITY, &v), DEC_ESYNTAX);
    TCHECK(dec_from_double(1e30, &v) != DEC_OK,
                  "dec_from_double(1e30) accepted (above DEC_MAX_UNITS)");
    TCHECK(dec_from_double(-1e300, &v) != DEC_OK,
                  "dec_from_double(-1e300) accepted (above DEC_MAX_UNITS)");
}
END_TEST

/* The contract's motivating example: ten times 0.1 is exactly 1, and
 * 0.1 + 0.2 == 0.3, whether the quantities came as text or as doubles. */
START_TEST(sum_exact)
{
    dec_t tenth, one, sum = 0, a, b, c;

    ck_assert_int_eq(dec_from_double(0.1, &tenth), DEC_OK);
    ck_assert_int_eq(dec_from_int(1, &one), DEC_OK);
    for (int i = 0; i < 10; i++)
        sum += tenth;
    TCHECK(sum == one, "10 x dec_from_double(0.1) != 1");

    ck_assert_int_eq(dec_parse("0.1", 3, &tenth), DEC_OK);
    sum = 0;
    for (int i = 0; i < 10; i++)
        sum += tenth;
    TCHECK(sum == one, "10 x dec_parse(\"0.1\") != 1");

    ck_assert_int_eq(dec_parse("0.1", 3, &a), DEC_OK);
    ck_assert_int_eq(dec_parse("0.2", 3, &b), DEC_OK);
    ck_assert_int_eq(dec_parse("0.3", 3, &c), DEC_OK);
    TCHECK(a + b == c, "0.1 + 0.2 != 0.3");
    ck_assert_int_eq(dec_from_double(0.1, &a), DEC_OK);
    ck_assert_int_eq(dec_from_double(0.2, &b), DEC_OK);
    ck_assert_int_eq(dec_from_double(0.3, &c), DEC_OK);
    TCHECK(a + b == c, "from_double: 0.1 + 0.2 != 0.3");

    /* a million 1e12-unit quantities with 15 significant digits */
    ck_assert_int_eq(dec_from_double(987654321098.765, &a), DEC_OK);
    sum = 0;
    for (int i = 0; i < 1000000; i++)
        sum += a;
    TCHECK(sum == (dec_t)9876543210987650000ULL * 10 * 1000000,
                  "1e6 x 987654321098.765 not exact");
}
END_TEST

START_TEST(to_double_fixed)
{
    ck_assert(dec_to_double(0) == 0.0);
    ck_assert(dec_to_double(U(10000000)) == 0.1);
    ck_assert(dec_to_double(U(30000000)) == 0.3);
    ck_assert(dec_to_double(U(-30000000)) == -0.3);
    ck_assert(dec_to_double(U(1)) == 1e-8);
    ck_assert(dec_to_double(WHOLE(17)) == 17.0);
    ck_assert(dec_to_double(U(12345678901234500000ULL)) == 123456789012.345);
    ck_assert(dec_to_double(U(9720000000LL)) == 97.2);
    ck_assert(dec_to_double(DEC_MAX_UNITS) == 1e24);
    ck_assert(dec_to_double(-DEC_MAX_UNITS) == -1e24);
    /* 2^53 + 1 whole units: the tie rounds to even */
    ck_assert(dec_to_double(WHOLE(9007199254740993LL)) == 9007199254740992.0);
    ck_assert(dec_to_double(WHOLE(9007199254740995LL)) == 9007199254740996.0);
}
END_TEST

/* The reference text of v: all 8 places, then trailing zeros and a bare
 * point removed (the shortest exact text). */
static void ref_format(dec_t v, char *out)
{
    char b[64];
    tdec_str(v, b);
    size_t n = strlen(b);
    while (b[n - 1] == '0')
        b[--n] = '\0';
    if (b[n - 1] == '.')
        b[--n] = '\0';
    if (strcmp(b, "-0") == 0)
        strcpy(b, "0");
    strcpy(out, b);
}

START_TEST(format_fixed)
{
    static const struct {
        dec_t v;
        const char *s;
    } cases[] = {
        {WHOLE(17), "17"},
        {U(30000000), "0.3"},
        {U(-125000000), "-1.25"},
        {0, "0"},
        {U(1), "0.00000001"},
        {U(-1), "-0.00000001"},
        {U(12345678901234500000ULL), "123456789012.345"},
        {WHOLE(1000000000000LL), "1000000000000"},
        {U(10), "0.0000001"},
        {U(100000001), "1.00000001"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[DEC_STRLEN];
        memset(buf, 'x', sizeof(buf));
        int n = dec_format(cases[i].v, buf);
        ck_assert_str_eq(buf, cases[i].s);
        ck_assert_int_eq(n, (int)strlen(cases[i].s));
    }
    char buf[DEC_STRLEN], want[64];
    int n = dec_format(-DEC_MAX_UNITS, buf);
    ref_format(-DEC_MAX_UNITS, want);
    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(n, (int)strlen(want));
    n = dec_format(-DEC_MAX_UNITS + 1, buf);
    ref_format(-DEC_MAX_UNITS + 1, want);
    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(n, (int)strlen(want));
}
END_TEST

/* ---- randomized -------------------------------------------------------- */

/* A random magnitude up to about 10^digits units. */
static dec_t rand_units(struct trng *r, int maxdigits)
{
    int nd = 1 + (int)trng_below(r, (uint64_t)maxdigits);
    dec_t v = 0;
    for (int i = 0; i < nd; i++)
        v = v * 10 + (dec_t)trng_below(r, 10);
    if (trng_below(r, 2))
        v = -v;
    return v;
}

START_TEST(format_parse_roundtrip)
{
    struct trng r;
    uint64_t seed = test_seed();
    trng_init(&r, "dec.format");

    for (int i = 0; i < 200000; i++) {
        dec_t v = rand_units(&r, 32), back = 0;
        char buf[DEC_STRLEN], want[64], b1[64];
        if (v > DEC_MAX_UNITS || v < -DEC_MAX_UNITS)
            continue;
        int n = dec_format(v, buf);
        ref_format(v, want);
        TCHECK(strcmp(buf, want) == 0 && n == (int)strlen(want),
                      "seed %" PRIu64 ": dec_format(%s) = \"%s\" (%d), want \"%s\"",
                      seed, tdec_str(v, b1), buf, n, want);
        int rc = dec_parse(buf, (size_t)n, &back);
        TCHECK(rc == DEC_OK && back == v,
                      "seed %" PRIu64 ": dec_parse(dec_format(%s)) rc %d",
                      seed, tdec_str(v, b1), rc);
    }
}
END_TEST

START_TEST(to_double_random)
{
    struct trng r;
    uint64_t seed = test_seed();
    trng_init(&r, "dec.to_double");

    for (int i = 0; i < 200000; i++) {
        dec_t v = rand_units(&r, 32);
        char b[64];
        double want = strtod(tdec_str(v, b), NULL);   /* correctly rounded */
        double got = dec_to_double(v);
        TCHECK(got == want,
                      "seed %" PRIu64 ": dec_to_double(%s) = %.17g, want %.17g",
                      seed, b, got, want);
    }
}
END_TEST

/*
 * Random decimal texts: a digit string G (first digit non-zero), a sign and
 * a power of ten E (value = G * 10^E), written plainly or in exponent form.
 * The expected units come from G's digits directly: round G * 10^(E+8) to
 * an integer, half to even.
 */
struct rnum {
    char g[48];
    int glen, e, neg;
};

/* Expected result: DEC_OK with *units, or DEC_ERANGE; returns -1 when the
 * value is too near the range limit to be unambiguous (skip it). */
static int rnum_expect(const struct rnum *x, dec_t *units)
{
    int shift = x->e + DEC_DIGITS;   /* units = G * 10^shift */
    unsigned __int128 u = 0;
    if (shift >= 0) {
        if (x->glen + shift > 34)
            return DEC_ERANGE;
        for (int i = 0; i < x->glen; i++)
            u = u * 10 + (unsigned)(x->g[i] - '0');
        for (int i = 0; i < shift; i++)
            u *= 10;
    } else {
        int keep = x->glen + shift;  /* digits before the unit point */
        for (int i = 0; i < keep; i++)
            u = u * 10 + (unsigned)(x->g[i] - '0');
        int first = keep >= 0 ? keep : -1;
        if (first >= 0 && first < x->glen) {
            int d = x->g[first] - '0', rest = 0;
            for (int i = first + 1; i < x->glen; i++)
                rest |= x->g[i] != '0';
            if (d > 5 || (d == 5 && (rest || (u & 1))))
                u += 1;
        }
        /* keep < 0: the value is below 0.1 unit and rounds to 0 */
    }
    unsigned __int128 max = (unsigned __int128)DEC_MAX_UNITS;
    if (u > max * 10)
        return DEC_ERANGE;
    if (u >= max / 10)
        return -1;
    *units = x->neg ? -(dec_t)u : (dec_t)u;
    return DEC_OK;
}

static void rnum_random(struct trng *r, struct rnum *x, int maxdigits, int emin,
                        int emax)
{
    x->glen = 1 + (int)trng_below(r, (uint64_t)maxdigits);
    for (int i = 0; i < x->glen; i++)
        x->g[i] = (char)('0' + trng_below(r, 10));
    if (x->g[0] == '0')
        x->g[0] = (char)('1' + trng_below(r, 9));
    /* half the time end on a 5 (and zeros) to make exact ties */
    if (x->glen > 1 && trng_below(r, 2)) {
        int at = (int)trng_below(r, (uint64_t)x->glen);
        if (at > 0) {
            x->g[at] = '5';
            for (int i = at + 1; i < x->glen; i++)
                x->g[i] = '0';
        }
    }
    x->g[x->glen] = '\0';
    x->e = emin + (int)trng_below(r, (uint64_t)(emax - emin + 1));
    x->neg = (int)trng_below(r, 2);
}

/* Write x as decimal text, in one of several valid forms. */
static void rnum_text(struct trng *r, const struct rnum *x, char *out)
{
    int o = 0, form = (int)trng_below(r, 4);
    if (x->neg)
        out[o++] = '-';
    if (form == 0) {
        /* plain */
        int point = x->glen + x->e;       /* digits before the point */
        if (point <= 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = 0; i < -point; i++)
                out[o++] = '0';
            memcpy(out + o, x->g, (size_t)x->glen);
            o += x->glen;
        } else if (point >= x->glen) {
            memcpy(out + o, x->g, (size_t)x->glen);
            o += x->glen;
            for (int i = 0; i < point - x->glen; i++)
                out[o++] = '0';
            if (trng_below(r, 3) == 0) {
                out[o++] = '.';
                out[o++] = '0';
            }
        } else {
            memcpy(out + o, x->g, (size_t)point);
            o += point;
            out[o++] = '.';
            memcpy(out + o, x->g + point, (size_t)(x->glen - point));
            o += x->glen - point;
        }
        if (point < x->glen && trng_below(r, 4) == 0) {
            out[o++] = '0';               /* trailing zeros change nothing */
            out[o++] = '0';
        }
        out[o] = '\0';
    } else if (form == 1) {
        /* integer mantissa: G e E */
        o += sprintf(out + o, "%se%d", x->g, x->e);
    } else {
        /* d.ddd e X */
        int ex = x->e + x->glen - 1;
        out[o++] = x->g[0];
        if (x->glen > 1) {
            out[o++] = '.';
            memcpy(out + o, x->g + 1, (size_t)(x->glen - 1));
            o += x->glen - 1;
        }
        if (ex >= 0 && trng_below(r, 2))
            o += sprintf(out + o, "%s+%d", form == 2 ? "e" : "E", ex);
        else
            o += sprintf(out + o, "%s%d", form == 2 ? "e" : "E", ex);
    }
}

START_TEST(parse_random)
{
    struct trng r;
    uint64_t seed = test_seed();
    trng_init(&r, "dec.parse");

    for (int i = 0; i < 200000; i++) {
        struct rnum x;
        char text[160], b1[64], b2[64];
        dec_t want = 0, got = 0;
        rnum_random(&r, &x, 30, -45, 4);
        int rc_want = rnum_expect(&x, &want);
        if (rc_want == -1)
            continue;
        rnum_text(&r, &x, text);
        int rc = dec_parse(text, strlen(text), &got);
        TCHECK(rc == rc_want,
                      "seed %" PRIu64 ": dec_parse(\"%s\") = %d, want %d",
                      seed, text, rc, rc_want);
        if (rc == DEC_OK)
            TCHECK(got == want,
                          "seed %" PRIu64 ": dec_parse(\"%s\") = %s, want %s",
                          seed, text, tdec_str(got, b1), tdec_str(want, b2));
    }
}
END_TEST

/* Decimals of at most 15 significant digits come back through a double
 * unchanged: dec_from_double(strtod(t)) == dec_parse(t). */
START_TEST(from_double_random)
{
    struct trng r;
    uint64_t seed = test_seed();
    trng_init(&r, "dec.from_double");

    for (int i = 0; i < 200000; i++) {
        struct rnum x;
        char text[160], b1[64], b2[64];
        dec_t want = 0, got = 0;
        rnum_random(&r, &x, 15, -22, 0);
        if (x.glen + x.e > 13)        /* stay within 1e13 */
            x.e = 13 - x.glen;
        if (rnum_expect(&x, &want) != DEC_OK)
            continue;
        rnum_text(&r, &x, text);
        double d = strtod(text, NULL);
        int rc = dec_from_double(d, &got);
        TCHECK(rc == DEC_OK && got == want,
                      "seed %" PRIu64 ": dec_from_double(%.17g) [text %s] = %s "
                      "rc %d, want %s",
                      seed, d, text, tdec_str(got, b1), rc, tdec_str(want, b2));
    }
}
END_TEST

Suite *dec_suite(void)
{
    Suite *s = suite_create("dec");
    TCase *tc = tcase_create("fixed");

    tcase_add_test(tc, parse_integers);
    tcase_add_test(tc, parse_decimals);
    tcase_add_test(tc, parse_exponents);
    tcase_add_test(tc, parse_rounding);
    tcase_add_test(tc, parse_fast_path_edges);
    tcase_add_test(tc, parse_syntax_errors);
    tcase_add_test(tc, parse_respects_len);
    tcase_add_test(tc, parse_range);
    tcase_add_test(tc, from_int);
    tcase_add_test(tc, from_double_fixed);
    tcase_add_test(tc, sum_exact);
    tcase_add_test(tc, to_double_fixed);
    tcase_add_test(tc, format_fixed);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, format_parse_roundtrip);
    tcase_add_test(tc, to_double_random);
    tcase_add_test(tc, parse_random);
    tcase_add_test(tc, from_double_random);
    suite_add_tcase(s, tc);
    return s;
}
