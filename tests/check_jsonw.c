/*
 * check_jsonw.c - the JSON writer and its number formatting
 * (src/util/jsonw.c, src/util/numfmt.c): numfmt_shortest (jw_double) prints the first
 * of %.15g, %.16g, %.17g that reads back, and numfmt_g / numfmt_f print
 * %.Ng / %.Nf, byte for byte as printf does, on every kind of double the program
 * prints (venue prices, computed liquidation prices and ratios, random
 * bit patterns, neighbours of powers of ten).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "liqmon/jsonw.h"
#include "liqmon/numfmt.h"
#include "suites.h"

/* The definition, with printf and strtod only. */
static int ref_fmt(double d, char *buf, size_t size)
{
    int n = 0;

    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return n;
}

static uint64_t rs = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

static long checked;

static void same(double d)
{
    char a[64], b[64];
    int na, nb;

    if (!isfinite(d))
        return;
    na = numfmt_shortest(d, a, sizeof(a));
    nb = ref_fmt(d, b, sizeof(b));
    /* ck_abort only on a difference: a Check assertion per value costs a
     * message to the parent process */
    if (na != nb || strcmp(a, b) != 0)
        ck_abort_msg("%.17g: \"%s\" (%d), printf \"%s\" (%d)", d, a, na, b, nb);
    checked++;
    if (checked % 8 != 0)
        return;
    /* on every eighth value: the conversions alert messages use, and a
     * few more */
    static const int gp[] = { 1, 2, 6, 10, 12, 17 }, fp[] = { 0, 1, 2, 4 };
    for (size_t i = 0; i < sizeof(gp) / sizeof(gp[0]); i++) {
        na = numfmt_g(d, gp[i], a, sizeof(a));
        nb = snprintf(b, sizeof(b), "%.*g", gp[i], d);
        if (na != nb || strcmp(a, b) != 0)
            ck_abort_msg("%%.%dg of %.17g: \"%s\", printf \"%s\"", gp[i], d, a, b);
    }
    for (size_t i = 0; i < sizeof(fp) / sizeof(fp[0]); i++) {
        na = numfmt_f(d, fp[i], a, sizeof(a));
        nb = snprintf(b, sizeof(b), "%.*f", fp[i], d);
        if (na != nb || strcmp(a, b) != 0)
            ck_abort_msg("%%.%df of %.17g: \"%s\", printf \"%s\"", fp[i], d, a, b);
    }
}

START_TEST(t_like_printf)
{
    /* decimals as venues send them: 1-15 digits, 0-10 decimals */
    for (int i = 0; i < 200000; i++) {
        char txt[48];
        int digits = 1 + (int)(rnd() % 15), dec = (int)(rnd() % 11);
        uint64_t m = rnd() % 1000000000000000ULL;
        uint64_t lim = 1;
        for (int j = 0; j < digits; j++)
            lim *= 10;
        m %= lim;
        snprintf(txt, sizeof(txt), "%llue-%d", (unsigned long long)m, dec);
        double d = strtod(txt, NULL);
        same(d);
        same(-d);
    }
    /* computed values: liquidation prices, distances, ratios, VWAPs */
    for (int i = 0; i < 200000; i++) {
        double p = 90000.0 * (1 - (double)(1 + rnd() % 3000) / 10000);
        same(p);
        same(100 * fabs(p - 90123.5) / 90123.5);
        same(p * (double)(1 + rnd() % 1000) * 0.001);
        same((double)(rnd() % 100000) / 7.0);
    }
    /* every magnitude printf prints in fixed notation, and around it */
    for (int i = 0; i < 200000; i++) {
        double u = (double)(rnd() >> 11) / 9007199254740992.0;
        same(pow(10, -6 + 23 * u));
    }
    /* random bit patterns over the whole range */
    for (int i = 0; i < 200000; i++) {
        uint64_t u = rnd();
        double d;
        memcpy(&d, &u, sizeof(d));
        same(d);
    }
    /* around powers of ten, where log10 may be one off, and at the edges
     * of %g's fixed notation (1e-4, 1e15) */
    for (int e = -8; e <= 17; e++) {
        double x = pow(10, e);
        double y = x;
        for (int i = 0; i < 200; i++) {
            same(x);
            same(y);
            x = nextafter(x, 0);
            y = nextafter(y, INFINITY);
        }
        same(x * 0.99999999999999);
        same(x * 1.00000000000001);
        same(x * 9.99999999999999);
    }
    same(0.0);
    same(-0.0);
    same(0.1);
    same(5e-324);
    same(1.7976931348623157e308);
    same(999999999999999.0);
    same(99999999999999.95);
    same(0.00009999999999999999);
    ck_assert_int_gt(checked, 1400000);
}
END_TEST

/* Strings are escaped as JSON wants, whatever runs of plain bytes lie
 * between the escapes: jansson reads back the original. */
START_TEST(t_strings)
{
    static const char *cases[] = {
        "", "plain", "\"", "\\", "a\"b\\c", "\"start", "end\"", "tab\there",
        "nl\ncr\r", "\x01\x1f ctl", "caf\xc3\xa9 \xe2\x82\xac", "\"\"\"\\\\\\",
        "x\x7fy", "BTC-USDT-SWAP: long 1.5 at 89991 (\"near\")",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jsonw w;
        json_error_t je;
        jw_init(&w);
        jw_obj_begin(&w);
        jw_key(&w, cases[i]);
        jw_str(&w, cases[i]);
        jw_obj_end(&w);
        ck_assert(!jw_failed(&w));
        json_t *o = json_loads(w.buf, 0, &je);
        ck_assert_msg(o != NULL, "case %zu: %s: %s", i, w.buf, je.text);
        json_t *v = json_object_get(o, cases[i]);
        ck_assert_msg(v != NULL && json_is_string(v), "case %zu: key lost: %s", i, w.buf);
        ck_assert_str_eq(json_string_value(v), cases[i]);
        json_decref(o);
        jw_fini(&w);
    }
}
END_TEST

Suite *jsonw_suite(void)
{
    Suite *s = suite_create("jsonw");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_like_printf);
    tcase_add_test(tc, t_strings);
    suite_add_tcase(s, tc);
    return s;
}
