/*
 * check_tiers.c - tier tables and the liquidation price (tiers.h).
 *
 * The Binance BTCUSDT table of 2021-03-18 (tests/fixtures/tiers/) for the
 * known answers; positions built to land exactly on a bracket edge, where
 * the [floor, cap) rule and the "lowest tier that holds its own qty * LP,
 * else the highest" rule decide; the expected values come from the
 * contract's formula written out in suites.h (tref_liq_price), which must
 * agree to the last bit: cascade-model.md says the formulas are computed
 * in doubles exactly as written.  Then bad tables, each rejected with
 * "[i].field: ...".
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "liqmon/tiers.h"
#include "suites.h"

static void load_binance(struct tier_table *tt)
{
    json_error_t jerr;
    lq_err_t err = {{0}};
    json_t *root = json_load_file(TIERS_FIXTURE, 0, &jerr);

    ck_assert_msg(root != NULL, "%s: %s (run from the repo root)",
                  TIERS_FIXTURE, jerr.text);
    int rc = tiers_from_json(json_object_get(root, "tiers"), tt, &err);
    ck_assert_msg(rc == 0, "tiers_from_json(%s) = %d: %s", TIERS_FIXTURE, rc,
                  err.msg);
    json_decref(root);
}

START_TEST(binance_table_loads)
{
    struct tier_table tt = {0, NULL};

    load_binance(&tt);
    ck_assert_uint_eq(tt.n, 10);
    ck_assert(tt.t[0].notional_floor == 0);
    ck_assert(tt.t[0].notional_cap == 50000);
    ck_assert(tt.t[0].mmr == 0.004);
    ck_assert(tt.t[0].maint_amount == 0);
    ck_assert(tt.t[0].max_leverage == 125);
    ck_assert(tt.t[2].notional_floor == 250000);
    ck_assert(tt.t[2].mmr == 0.01);
    ck_assert(tt.t[2].maint_amount == 1300);
    ck_assert(tt.t[9].notional_cap == 500000000);
    ck_assert(tt.t[9].mmr == 0.5);
    ck_assert(tt.t[9].maint_amount == 100016300);

    struct tier_table cp = {0, NULL};
    ck_assert_int_eq(tiers_copy(&tt, &cp), 0);
    ck_assert_uint_eq(cp.n, 10);
    ck_assert_ptr_ne(cp.t, tt.t);
    ck_assert(memcmp(cp.t, tt.t, 10 * sizeof(*tt.t)) == 0);
    tiers_fini(&tt);
    tiers_fini(&tt);                  /* safe twice */
    ck_assert(cp.t[9].mmr == 0.5);    /* the copy is independent */
    tiers_fini(&cp);
}
END_TEST

START_TEST(binance_known_answers)
{
    struct tier_table tt = {0, NULL};
    size_t tier = 99;
    double lp;

    load_binance(&tt);
    /* 1 BTC long at 30,000 with 3,000 margin: (30000 - 3000) / 0.996 */
    lp = tiers_liq_price(&tt, 0, 1.0, 30000, 3000, &tier);
    ck_assert_msg(fabs(lp - 27108.43) <= 0.01, "long LP %.10g, want 27108.43", lp);
    ck_assert_uint_eq(tier, 0);
    /* 20 BTC short at 30,000 with 60,000 margin: tiers 0 and 1 give a
     * notional above their caps; tier 2 holds: 661300 / (20 * 1.01) */
    tier = 99;
    lp = tiers_liq_price(&tt, 1, 20.0, 30000, 60000, &tier);
    ck_assert_msg(fabs(lp - 32737.62) <= 0.01, "short LP %.10g, want 32737.62", lp);
    ck_assert_uint_eq(tier, 2);
    /* tier_out may be NULL */
    ck_assert(tiers_liq_price(&tt, 1, 20.0, 30000, 60000, NULL) == lp);
    tiers_fini(&tt);
}
END_TEST

#define LP_EQ(tt, is_short, qty, entry, margin)                                \
    do {                                                                       \
        size_t gt_ = 99, wt_ = 98;                                             \
        double g_ = tiers_liq_price((tt), (is_short), (qty), (entry),          \
                                    (margin), &gt_);                           \
        double w_ = tref_liq_price((tt), (is_short), (qty), (entry), (margin), \
                                   &wt_);                                      \
        TCHECK(gt_ == wt_ && (g_ == w_ || (isnan(g_) && isnan(w_))),          \
               "seed %" PRIu64 ": %s qty %.17g entry %.17g margin %.17g: "      \
               "LP %.17g tier %zu, want %.17g tier %zu",                       \
               test_seed(), (is_short) ? "short" : "long", (double)(qty),      \
               (double)(entry), (double)(margin), g_, gt_, w_, wt_);           \
    } while (0)

/*
 * Positions whose qty * LP under tier i is exactly tier i's floor (and the
 * doubles either side): with the Binance table's maint amounts, tier i-1
 * gives the same LP at that point, so whether tier i-1 "holds" comes down
 * to the last bit of qty * LP against its cap.  Search the margin by ulps
 * until the formula lands on the edge.
 */
static int find_edge_margin(const struct tier *t, int is_short, double qty,
                            double entry, double edge, double *margin_out)
{
    double m;
    if (!is_short)
        m = qty * entry - t->maint_amount - edge * (1 - t->mmr);
    else
        m = edge * (1 + t->mmr) - qty * entry - t->maint_amount;
    if (!(m > 0))
        return 0;
    double lo = m, hi = m;
    for (int k = 0; k < 4000; k++) {
        double c = (k & 1) ? lo : hi;
        if (qty * tref_lp_tier(t, is_short, qty, entry, c) == edge) {
            *margin_out = c;
            return 1;
        }
        if (k & 1)
            lo = nextafter(lo, 0);
        else
            hi = nextafter(hi, INFINITY);
    }
    return 0;
}

START_TEST(bracket_edges)
{
    struct tier_table tt = {0, NULL};
    int found = 0, lower_held = 0, upper_held = 0;

    load_binance(&tt);
    for (size_t i = 0; i < tt.n; i++) {
        for (int side = 0; side < 2; side++) {
            static const double qtys[] = {1.0, 0.5, 2.0, 3.0, 7.0, 0.1, 125.0};
            for (size_t q = 0; q < sizeof(qtys) / sizeof(qtys[0]); q++) {
                double qty = qtys[q];
                const struct tier *t = &tt.t[i];
                double edges[2] = {t->notional_floor, t->notional_cap};
                for (int e = 0; e < 2; e++) {
                    double edge = edges[e], margin;
                    if (edge <= 0)
                        continue;
                    /* entry well away from the LP */
                    double entry = side ? 0.8 * edge / qty : 1.25 * edge / qty;
                    if (!find_edge_margin(t, side, qty, entry, edge, &margin))
                        continue;
                    found++;
                    size_t wt;
                    (void)tref_liq_price(&tt, side, qty, entry, margin, &wt);
                    if (e == 0 && i > 0 && wt == i - 1)
                        lower_held++;
                    if (e == 0 && wt == i)
                        upper_held++;
                    LP_EQ(&tt, side, qty, entry, margin);
                    /* and the margins either side of the edge */
                    for (int k = 1; k <= 8; k++) {
                        double ml = margin, mh = margin;
                        for (int j = 0; j < k; j++) {
                            ml = nextafter(ml, 0);
                            mh = nextafter(mh, INFINITY);
                        }
                        LP_EQ(&tt, side, qty, entry, ml);
                        LP_EQ(&tt, side, qty, entry, mh);
                    }
                }
            }
        }
    }
    /* the search must really have produced edge cases of both kinds */
    ck_assert_msg(found >= 40, "only %d edge positions found", found);
    ck_assert_msg(upper_held > 0, "no edge where the floor's own tier held");
    tiers_fini(&tt);
    (void)lower_held;
}
END_TEST

/* Hand-made tables where the rule, not the continuity of the Binance
 * table, decides. */
START_TEST(selection_rule)
{
    struct tier t2[2] = {
        {0, 100, 0.0, 0, 0},
        {200, 300, 0.5, 0, 0},
    };
    struct tier_table tt = {2, t2};
    size_t tier;
    double lp;

    /* long, qty 1, entry 160, margin 10: tier 0 LP = 150 (not in [0,100));
     * tier 1 LP = 150 / 0.5 = 300 (not in [200, 300): cap excluded) ->
     * none holds -> highest tier, LP 300 */
    lp = tiers_liq_price(&tt, 0, 1, 160, 10, &tier);
    ck_assert_uint_eq(tier, 1);
    ck_assert(lp == 300);
    /* margin 60: tier 0 LP 100 (cap excluded), tier 1 LP 200 (floor
     * included) -> tier 1 */
    lp = tiers_liq_price(&tt, 0, 1, 160, 60, &tier);
    ck_assert_uint_eq(tier, 1);
    ck_assert(lp == 200);
    /* margin 61: tier 0 LP 99 -> tier 0, even though tier 1 (198) misses */
    lp = tiers_liq_price(&tt, 0, 1, 160, 61, &tier);
    ck_assert_uint_eq(tier, 0);
    ck_assert(lp == 99);
    /* a lower tier that holds wins over a higher one that also holds */
    struct tier t3[3] = {
        {0, 1000, 0.0, 0, 0},
        {10, 2000, 0.0, 5, 0},
        {20, 3000, 0.0, 10, 0},
    };
    struct tier_table tt3 = {3, t3};
    lp = tiers_liq_price(&tt3, 0, 2, 100, 40, &tier);   /* (200-40)/2 = 80 */
    ck_assert_uint_eq(tier, 0);
    ck_assert(lp == 80);
    /* short: (qty*entry + margin + maint) / (qty * (1 + mmr)) */
    lp = tiers_liq_price(&tt, 1, 1, 90, 10, &tier);     /* 100 -> tier 0 misses */
    ck_assert_uint_eq(tier, 1);                         /* 100/1.5 = 66.7 misses */
    ck_assert(lp == 100.0 / 1.5);
    /* a long whose margin exceeds its notional: LP < 0, no tier holds */
    lp = tiers_liq_price(&tt, 0, 1, 100, 150, &tier);
    ck_assert_uint_eq(tier, 1);
    ck_assert(lp == -50.0 / 0.5);
}
END_TEST

START_TEST(binance_beyond_last_cap)
{
    struct tier_table tt = {0, NULL};
    size_t tier;

    load_binance(&tt);
    /* 20,000 BTC at 30,000: notional far above the last cap of 5e8 */
    (void)tiers_liq_price(&tt, 0, 20000, 30000, 6e7, &tier);
    ck_assert_uint_eq(tier, 9);
    LP_EQ(&tt, 0, 20000.0, 30000.0, 6e7);
    LP_EQ(&tt, 1, 20000.0, 30000.0, 6e7);
    /* negative LP long */
    LP_EQ(&tt, 0, 1.0, 100.0, 500.0);
    (void)tiers_liq_price(&tt, 0, 1.0, 100.0, 500.0, &tier);
    ck_assert_uint_eq(tier, 9);
    tiers_fini(&tt);
}
END_TEST

/* Random positions, random tables: bit-identical to the formula. */
START_TEST(random_positions)
{
    struct trng r;
    struct tier_table bt = {0, NULL};
    struct tier tiers[8];

    load_binance(&bt);
    trng_init(&r, "tiers.random");
    for (int i = 0; i < 200000; i++) {
        struct tier_table tt;
        if (i % 2 == 0) {
            tt = bt;
        } else {
            size_t n = 1 + (size_t)trng_below(&r, 8);
            double floor = 0;
            for (size_t k = 0; k < n; k++) {
                tiers[k].notional_floor = floor;
                double w = (double)(1 + trng_below(&r, 2000)) * 10;
                tiers[k].notional_cap = floor + w;
                /* sometimes a gap before the next floor */
                floor = tiers[k].notional_cap + (trng_below(&r, 4) == 0 ? w : 0);
                tiers[k].mmr = (double)trng_below(&r, 300) / 1000;
                tiers[k].maint_amount = (double)trng_below(&r, 50);
                tiers[k].max_leverage = 0;
            }
            tt.n = n;
            tt.t = tiers;
        }
        int side = (int)trng_below(&r, 2);
        double qty = (double)(1 + trng_below(&r, 100000)) / 1000;
        double entry = (double)(1 + trng_below(&r, 200000)) / 4;
        double lev = 1 + trng_unit(&r) * 124;
        double margin = qty * entry / lev;
        if (trng_below(&r, 20) == 0)
            margin = qty * entry * (1 + trng_unit(&r));   /* LP <= 0 long */
        LP_EQ(&tt, side, qty, entry, margin);
    }
    tiers_fini(&bt);
}
END_TEST

/* ---- bad tables --------------------------------------------------------- */

static void expect_bad(const char *json, const char *where)
{
    json_error_t jerr;
    lq_err_t err;
    struct tier_table tt = {0, NULL};
    json_t *arr = json_loads(json, 0, &jerr);

    ck_assert_msg(arr != NULL, "test JSON does not parse: %s", jerr.text);
    memset(&err, 0, sizeof(err));
    int rc = tiers_from_json(arr, &tt, &err);
    ck_assert_msg(rc != 0, "tiers_from_json accepted %s", json);
    ck_assert_msg(tt.n == 0, "tiers_from_json(%s) failed but left %zu tiers", json, tt.n);
    if (where != NULL)
        ck_assert_msg(strstr(err.msg, where) != NULL,
                      "tiers_from_json(%s): message \"%s\" does not name \"%s\"",
                      json, err.msg, where);
    else
        ck_assert_msg(err.msg[0] != '\0', "tiers_from_json(%s): no message", json);
    /* a NULL err is fine */
    ck_assert_int_ne(tiers_from_json(arr, &tt, NULL), 0);
    json_decref(arr);
    tiers_fini(&tt);
}

#define T0 "{\"notional_floor\": 0, \"notional_cap\": 50000, \"mmr\": 0.004, \"maint_amount\": 0}"
#define T1 "{\"notional_floor\": 50000, \"notional_cap\": 250000, \"mmr\": 0.005, \"maint_amount\": 50}"

START_TEST(bad_tables)
{
    /* negative mmr */
    expect_bad("[" T0 ", {\"notional_floor\": 50000, \"notional_cap\": 250000, "
               "\"mmr\": -0.005, \"maint_amount\": 50}]", "[1].mmr");
    /* mmr >= 1 */
    expect_bad("[{\"notional_floor\": 0, \"notional_cap\": 50000, \"mmr\": 1, "
               "\"maint_amount\": 0}]", "[0].mmr");
    expect_bad("[{\"notional_floor\": 0, \"notional_cap\": 50000, \"mmr\": 1.5, "
               "\"maint_amount\": 0}]", "[0].mmr");
    /* cap <= floor */
    expect_bad("[" T0 ", " T1 ", {\"notional_floor\": 250000, \"notional_cap\": "
               "250000, \"mmr\": 0.01, \"maint_amount\": 1300}]", "[2].notional_cap");
    expect_bad("[{\"notional_floor\": 100, \"notional_cap\": 50, \"mmr\": 0.01, "
               "\"maint_amount\": 0}]", "[0].notional_cap");
    /* floors not ascending */
    expect_bad("[" T0 ", " T1 ", {\"notional_floor\": 40000, \"notional_cap\": "
               "1000000, \"mmr\": 0.01, \"maint_amount\": 1300}]", "[2].notional_floor");
    /* missing field */
    expect_bad("[" T0 ", {\"notional_floor\": 50000, \"notional_cap\": 250000, "
               "\"mmr\": 0.005}]", "[1].maint_amount");
    expect_bad("[{\"notional_cap\": 50000, \"mmr\": 0.004, \"maint_amount\": 0}]",
               "[0].notional_floor");
    expect_bad("[" T0 ", {\"notional_floor\": 50000, \"mmr\": 0.005, "
               "\"maint_amount\": 50}]", "[1].notional_cap");
    expect_bad("[" T0 ", " T1 ", {\"notional_floor\": 250000, \"notional_cap\": "
               "1000000, \"maint_amount\": 1300}]", "[2].mmr");
    /* not a number */
    expect_bad("[{\"notional_floor\": 0, \"notional_cap\": 50000, \"mmr\": \"0.004\", "
               "\"maint_amount\": 0}]", "[0].mmr");
    expect_bad("[" T0 ", {\"notional_floor\": 50000, \"notional_cap\": true, "
               "\"mmr\": 0.005, \"maint_amount\": 50}]", "[1].notional_cap");
    expect_bad("[" T0 ", {\"notional_floor\": null, \"notional_cap\": 250000, "
               "\"mmr\": 0.005, \"maint_amount\": 50}]", "[1].notional_floor");
    /* negative values */
    expect_bad("[{\"notional_floor\": -1, \"notional_cap\": 50000, \"mmr\": 0.004, "
               "\"maint_amount\": 0}]", "[0].notional_floor");
    expect_bad("[" T0 ", {\"notional_floor\": 50000, \"notional_cap\": 250000, "
               "\"mmr\": 0.005, \"maint_amount\": -50}]", "[1].maint_amount");
    /* not a table at all */
    expect_bad("[]", NULL);
    expect_bad("{\"tiers\": []}", NULL);
    expect_bad("[" T0 ", 5]", "[1]");
    expect_bad("[" T0 ", [1, 2]]", "[1]");
}
END_TEST

START_TEST(good_table_variants)
{
    json_error_t jerr;
    lq_err_t err;
    struct tier_table tt = {0, NULL};
    /* integers and reals both are numbers; max_leverage optional */
    json_t *arr = json_loads("[{\"notional_floor\": 0, \"notional_cap\": 5e4, "
                             "\"mmr\": 0, \"maint_amount\": 0.0}]", 0, &jerr);
    ck_assert_ptr_nonnull(arr);
    ck_assert_int_eq(tiers_from_json(arr, &tt, &err), 0);
    ck_assert_uint_eq(tt.n, 1);
    ck_assert(tt.t[0].notional_cap == 50000);
    ck_assert(tt.t[0].max_leverage == 0);
    tiers_fini(&tt);
    json_decref(arr);
}
END_TEST

Suite *tiers_suite(void)
{
    Suite *s = suite_create("tiers");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, binance_table_loads);
    tcase_add_test(tc, binance_known_answers);
    tcase_add_test(tc, selection_rule);
    tcase_add_test(tc, binance_beyond_last_cap);
    tcase_add_test(tc, bad_tables);
    tcase_add_test(tc, good_table_variants);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, bracket_edges);
    tcase_add_test(tc, random_positions);
    suite_add_tcase(s, tc);
    return s;
}
