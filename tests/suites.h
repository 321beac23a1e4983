/*
 * suites.h - the Check suites of check_liqmon, and the helpers they share.
 *
 * Every tests/check_<module>.c exports <module>_suite(); tests/test_main.c
 * adds them all to one SRunner (CK_RUN_SUITE=<name> picks one).
 *
 * Randomized tests take their seed from the environment (LIQMON_SEED,
 * decimal or 0x-hex; a fixed default otherwise) and print it in every
 * failure message, so a failure replays with
 *     LIQMON_SEED=<seed> CK_RUN_SUITE=<suite> ./build/check_liqmon
 */
#ifndef LIQMON_TESTS_SUITES_H
#define LIQMON_TESTS_SUITES_H

#include <check.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "liqmon/dec.h"
#include "liqmon/tiers.h"

#define SUITE(name) Suite *name##_suite(void);
#include "suites.list"
#undef SUITE

/* The run's base seed (test_main.c): LIQMON_SEED or the default. */
uint64_t test_seed(void);

/* ---- assertions that cost nothing when they pass ---------------------------
 * Check's ck_assert_* record every passing assertion (one write(2) each);
 * in loops of a million checks that dominates the run time.  TCHECK fails
 * exactly like ck_assert_msg (file, line, message) but is silent when the
 * condition holds. */
#define TCHECK(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)
#define TCHECK_INT(a, b)                                                       \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_)                                                          \
            ck_abort_msg("seed %llu: %s == %lld, want %s == %lld",             \
                         (unsigned long long)test_seed(), #a, a_, #b, b_);     \
    } while (0)

/* ---- a seeded PRNG (splitmix64) ---------------------------------------- */

struct trng {
    uint64_t s;
};

static inline uint64_t trng_next(struct trng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A generator for one test: the base seed mixed with a per-test salt, so
 * tests do not share streams but all replay from one LIQMON_SEED. */
static inline void trng_init(struct trng *r, const char *salt)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = salt; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    r->s = test_seed() ^ h;
    (void)trng_next(r);
}

/* Uniform in [0, n) (n > 0; the tiny modulo bias does not matter here). */
static inline uint64_t trng_below(struct trng *r, uint64_t n)
{
    return trng_next(r) % n;
}

/* Uniform in [0, 1). */
static inline double trng_unit(struct trng *r)
{
    return (double)(trng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- dec_t to text for failure messages (independent of dec_format) ---- */

static inline const char *tdec_str(dec_t v, char buf[64])
{
    char tmp[64];
    int n = 0, neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1
                              : (unsigned __int128)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0 || n <= DEC_DIGITS);
    int o = 0;
    if (neg)
        buf[o++] = '-';
    for (int i = n - 1; i >= 0; i--) {
        buf[o++] = tmp[i];
        if (i == DEC_DIGITS)
            buf[o++] = '.';
    }
    buf[o] = '\0';
    return buf;
}

/* ---- comparisons --------------------------------------------------------- */

/* a and b agree to a relative tol (both 0 agrees; NaN never does). */
static inline int tclose(double a, double b, double tol)
{
    if (a == b)
        return 1;
    if (!isfinite(a) || !isfinite(b))
        return 0;
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= tol * m;
}

/* ---- the liquidation price, written from cascade-model.md ------------- */

/* "Compute LP with each tier in turn, lowest first, and take the first tier
 * whose bracket holds its own qty * LP; if none does, use the highest
 * tier."  The formula exactly as written, in doubles. */
static inline double tref_lp_tier(const struct tier *t, int is_short,
                                  double qty, double entry, double margin)
{
    if (!is_short)
        return (qty * entry - margin - t->maint_amount) / (qty * (1 - t->mmr));
    return (qty * entry + margin + t->maint_amount) / (qty * (1 + t->mmr));
}

static inline double tref_liq_price(const struct tier_table *tt, int is_short,
                                    double qty, double entry, double margin,
                                    size_t *tier_out)
{
    for (size_t i = 0; i < tt->n; i++) {
        double lp = tref_lp_tier(&tt->t[i], is_short, qty, entry, margin);
        double nv = qty * lp;
        if (nv >= tt->t[i].notional_floor && nv < tt->t[i].notional_cap) {
            if (tier_out)
                *tier_out = i;
            return lp;
        }
    }
    if (tier_out)
        *tier_out = tt->n - 1;
    return tref_lp_tier(&tt->t[tt->n - 1], is_short, qty, entry, margin);
}

/* Path of the Binance BTCUSDT table (tests run from the repo root). */
#define TIERS_FIXTURE "tests/fixtures/tiers/binance-usdm-BTCUSDT-2021-03-18.json"

#endif
