/*
 * check_engine.c - the risk engine: the ladder it holds after every tick
 * equals a fresh simulation of that moment; invalid books and missing
 * reference prices turn the ladder off; positions files load into the
 * right instrument.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "liqmon/engine.h"
#include "liqmon/lathist.h"
#include "liqmon/log.h"
#include "liqmon/replay.h"
#include "suites.h"

struct fixture {
    market_t *m;
    struct mkt_instr *in;
    engine_t *e;
    int notified;
};

static void on_ladder(void *arg, const struct mkt_instr *in,
                      const struct engine_ladder *l, const struct mkt_event *cause)
{
    struct fixture *f = arg;
    (void)in;
    (void)l;
    (void)cause;
    f->notified++;
}

static void setup(struct fixture *f)
{
    struct instrument ins;
    struct engine_config cfg;
    lq_err_t err;

    memset(f, 0, sizeof(*f));
    memset(&ins, 0, sizeof(ins));
    snprintf(ins.venue, sizeof(ins.venue), "binance-usdm");
    snprintf(ins.symbol, sizeof(ins.symbol), "TESTUSDT");
    ins.tick_size = 0.1;
    ins.lot_step = 100000;
    ins.contract_value = DEC_SCALE;
    f->m = market_create();
    ck_assert_ptr_nonnull(f->m);
    f->in = market_add(f->m, VENUE_BINANCE, &ins, &err);
    ck_assert_ptr_nonnull(f->in);
    engine_config_default(&cfg);
    f->e = engine_create(f->m, &cfg, &err);
    ck_assert_ptr_nonnull(f->e);
    engine_set_listener(f->e, on_ladder, f);
}

static void teardown(struct fixture *f)
{
    engine_destroy(f->e);
    market_destroy(f->m);
}

/* An event of type t; a delta names its levels (b, a), as adapters'
 * deltas do (event.h). */
static void emit_levels(struct fixture *f, enum mev_type t, const struct book_level *b,
                        size_t nb, const struct book_level *a, size_t na, int64_t ts)
{
    struct mkt_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = t;
    ev.venue = VENUE_BINANCE;
    ev.instr = f->in;
    ev.recv_ts = ts;
    ev.u.book.bids.levels = b;
    ev.u.book.bids.n = nb;
    ev.u.book.asks.levels = a;
    ev.u.book.asks.n = na;
    engine_on_event(f->e, &ev);
}

static void emit(struct fixture *f, enum mev_type t, int64_t ts)
{
    emit_levels(f, t, NULL, 0, NULL, 0, ts);
}

/* The engine's ladder must equal a fresh cascade_ladder on the present
 * book, positions and reference price. */
static void assert_fresh(struct fixture *f, uint64_t seed)
{
    const struct engine_ladder *l = engine_ladder(f->e, f->in);
    struct engine_config cfg;
    struct cascade_row rows[2 * ENGINE_MAX_SHOCKS];
    double ref = f->in->mark;

    engine_config_default(&cfg);
    ck_assert_msg(l->valid, "seed %llu: ladder not valid", (unsigned long long)seed);
    if (!(ref > 0)) {
        struct book_level b, a;
        ck_assert_int_eq(book_best(f->in->book, BOOK_BID, &b), 0);
        ck_assert_int_eq(book_best(f->in->book, BOOK_ASK, &a), 0);
        ref = (b.price + a.price) / 2;
    }
    ck_assert(l->ref == ref);
    ck_assert_int_eq(cascade_ladder(f->in->book, engine_pindex(f->e, f->in), ref,
                                    cfg.sides, cfg.nsides, cfg.shocks, cfg.nshocks,
                                    rows), CASCADE_OK);
    ck_assert_uint_eq(l->nrows, cfg.nsides * cfg.nshocks);
    for (size_t i = 0; i < l->nrows; i++) {
        ck_assert_msg(rows[i].liquidated_qty == l->rows[i].liquidated_qty &&
                      rows[i].liquidated == l->rows[i].liquidated &&
                      rows[i].rounds == l->rows[i].rounds &&
                      rows[i].final_price == l->rows[i].final_price &&
                      rows[i].exhausted == l->rows[i].exhausted &&
                      rows[i].unfilled_qty == l->rows[i].unfilled_qty &&
                      rows[i].has_vwap == l->rows[i].has_vwap &&
                      (!rows[i].has_vwap ||
                       fabs(rows[i].vwap - l->rows[i].vwap) <= 1e-12 * rows[i].vwap),
                      "seed %llu: row %zu differs from a fresh simulation",
                      (unsigned long long)seed, i);
    }
}

START_TEST(test_every_tick_fresh)
{
    struct fixture f;
    struct trng r;
    pindex_t *ix;

    trng_init(&r, "engine-ticks");
    setup(&f);
    ix = engine_pindex(f.e, f.in);
    for (int i = 0; i < 400; i++) {
        struct pos_spec s = { 0 };
        char id[16];
        snprintf(id, sizeof(id), "p%d", i);
        s.id = id;
        s.side = trng_below(&r, 2) ? POS_LONG : POS_SHORT;
        s.qty = (dec_t)(1 + trng_below(&r, 50)) * 1000000;
        s.entry = 100;
        s.liq_price = s.side == POS_LONG ? 80 + trng_below(&r, 200) * 0.1
                                         : 100.1 + trng_below(&r, 200) * 0.1;
        ck_assert_int_eq(pindex_insert(ix, &s, NULL, NULL), PINDEX_OK);
    }
    struct book_level bids[50], asks[50];
    for (int i = 0; i < 50; i++) {
        bids[i].price = 99.9 - i * 0.4;
        bids[i].qty = (dec_t)(1 + trng_below(&r, 30)) * 10000000;
        asks[i].price = 100.1 + i * 0.4;
        asks[i].qty = (dec_t)(1 + trng_below(&r, 30)) * 10000000;
    }
    ck_assert_int_eq(market_apply_snapshot(f.in, bids, 50, asks, 50, 1), BOOK_OK);
    emit(&f, MEV_BOOK_SNAPSHOT, 1);
    assert_fresh(&f, test_seed());          /* mid as reference */
    ck_assert_int_eq(engine_ladder(f.e, f.in)->ref_is_mark, 0);

    /* Random ticks: marks, level changes, position changes; after each
     * event the ladder is checked against a fresh simulation. */
    for (int t = 0; t < 3000; t++) {
        uint64_t op = trng_below(&r, 10);
        if (op < 4) {
            f.in->mark = 99 + trng_below(&r, 20) * 0.1;
            emit(&f, MEV_MARK, t);
        } else if (op < 9) {
            int side = (int)trng_below(&r, 2);
            double p = side == BOOK_BID ? 99.9 - trng_below(&r, 60) * 0.4
                                        : 100.1 + trng_below(&r, 60) * 0.4;
            dec_t q = trng_below(&r, 4) == 0 ? 0 : (dec_t)trng_below(&r, 40) * 10000000;
            if (market_apply_level(f.in, (enum book_side)side, p, q) == BOOK_CROSSED)
                ck_abort_msg("crossed in a non-crossing generator");
            /* the delta names its level, as every adapter's does (event.h) */
            struct book_level lv = { p, q };
            emit_levels(&f, MEV_BOOK_DELTA, side == BOOK_BID ? &lv : NULL, side == BOOK_BID,
                        side == BOOK_ASK ? &lv : NULL, side == BOOK_ASK, t);
        } else {
            struct pos_spec s = { 0 };
            uint32_t h = (uint32_t)trng_below(&r, 400);
            struct pos_view v;
            ck_assert_int_eq(pindex_get(ix, h, &v), PINDEX_OK);
            s.side = v.side;
            s.qty = (dec_t)(1 + trng_below(&r, 50)) * 1000000;
            s.entry = 100;
            s.liq_price = v.lp;
            ck_assert_int_eq(pindex_update(ix, h, &s, NULL), PINDEX_OK);
            /* Positions change between ticks; the next tick must see it. */
            emit(&f, MEV_MARK, t);
        }
        assert_fresh(&f, test_seed());
    }
    ck_assert_uint_gt(engine_get_stats(f.e)->ladders, 100);
    /* and rows were kept by the delta rule (engine.c: reusable), each one
     * checked above against the fresh simulation */
    ck_assert_uint_gt(engine_get_stats(f.e)->rows_reused, 2000);
    teardown(&f);
}
END_TEST

/* alert-rules.md, position_liquidated: on each event the engine marks the
 * positions whose d <= 0 and leaves them out of that very event's ladder;
 * a changed position is back in. */
START_TEST(test_liquidated_out_of_ladder)
{
    struct fixture f;
    pindex_t *ix;
    struct book_level bids[20], asks[20];
    const uint32_t *liq;
    size_t n;
    uint32_t h99, h98, hs;

    setup(&f);
    ix = engine_pindex(f.e, f.in);
    for (int i = 0; i < 20; i++) {
        bids[i].price = 99.95 - i * 0.5;
        bids[i].qty = 100000000;                 /* 1 */
        asks[i].price = 100.05 + i * 0.5;
        asks[i].qty = 100000000;
    }
    ck_assert_int_eq(market_apply_snapshot(f.in, bids, 20, asks, 20, 1), BOOK_OK);
    struct pos_spec s = { 0 };
    s.id = "L99";
    s.side = POS_LONG;
    s.qty = 500000000;                            /* 5 */
    s.liq_price = 99;
    ck_assert_int_eq(pindex_insert(ix, &s, &h99, NULL), PINDEX_OK);
    s.id = "L98";
    s.liq_price = 98;
    ck_assert_int_eq(pindex_insert(ix, &s, &h98, NULL), PINDEX_OK);
    s.id = "S101";
    s.side = POS_SHORT;
    s.liq_price = 101;
    ck_assert_int_eq(pindex_insert(ix, &s, &hs, NULL), PINDEX_OK);

    f.in->mark = 100;
    emit(&f, MEV_MARK, 1);
    engine_liquidated(f.e, f.in, &n);
    ck_assert_uint_eq(n, 0);
    /* 1% down reaches L99 (and its 5 sold cascade to L98) */
    ck_assert_uint_eq(engine_ladder(f.e, f.in)->rows[2].liquidated, 2);

    /* The mark crosses L99 exactly (d == 0 is liquidated) */
    f.in->mark = 99;
    emit(&f, MEV_MARK, 2);
    liq = engine_liquidated(f.e, f.in, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(liq[0], h99);
    assert_fresh(&f, 0);
    for (size_t r = 0; r < engine_ladder(f.e, f.in)->nrows; r++) {
        const struct cascade_row *row = &engine_ladder(f.e, f.in)->rows[r];
        if (row->side == CASCADE_DOWN)
            ck_assert_uint_le(row->liquidated, 1);   /* L98 at most */
    }
    struct pos_view v;
    ck_assert_int_eq(pindex_get(ix, h99, &v), PINDEX_OK);
    ck_assert(v.liquidated && !v.in_cascade);
    ck_assert_uint_eq(engine_get_stats(f.e)->liquidated, 1);

    /* The next event does not report it again */
    f.in->mark = 99.5;
    emit(&f, MEV_MARK, 3);
    engine_liquidated(f.e, f.in, &n);
    ck_assert_uint_eq(n, 0);

    /* A short crossed from below: LP <= ref */
    f.in->mark = 101.2;
    emit(&f, MEV_MARK, 4);
    liq = engine_liquidated(f.e, f.in, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(liq[0], hs);

    /* Changed (a new LP below the price): tracked in the cascade again */
    s.id = "L99";
    s.side = POS_LONG;
    s.liq_price = 95;
    ck_assert_int_eq(pindex_update(ix, h99, &s, NULL), PINDEX_OK);
    emit(&f, MEV_MARK, 5);
    ck_assert_int_eq(pindex_get(ix, h99, &v), PINDEX_OK);
    ck_assert(!v.liquidated && v.in_cascade);
    assert_fresh(&f, 0);
    ck_assert_int_eq(pindex_check(ix), 0);
    teardown(&f);
}
END_TEST

START_TEST(test_unchanged_tick_skipped)
{
    struct fixture f;
    struct book_level b = { 99, 100000000 }, a = { 101, 100000000 };

    setup(&f);
    market_apply_snapshot(f.in, &b, 1, &a, 1, 1);
    f.in->mark = 100;
    emit(&f, MEV_MARK, 1);
    uint64_t runs = engine_ladder(f.e, f.in)->runs;
    emit(&f, MEV_MARK, 2);                      /* same mark, same book */
    ck_assert_uint_eq(engine_ladder(f.e, f.in)->runs, runs);
    ck_assert_uint_eq(engine_get_stats(f.e)->skipped, 1);
    f.in->mark = 100.5;
    emit(&f, MEV_MARK, 3);
    ck_assert_uint_eq(engine_ladder(f.e, f.in)->runs, runs + 1);
    teardown(&f);
}
END_TEST

START_TEST(test_invalid_book_stops_ladder)
{
    struct fixture f;
    struct book_level b = { 99, 100000000 }, a = { 101, 100000000 };
    struct mkt_event ev;

    setup(&f);
    /* No book, no mark: nothing to simulate on. */
    emit(&f, MEV_MARK, 1);
    ck_assert(!engine_ladder(f.e, f.in)->valid);
    market_apply_snapshot(f.in, &b, 1, &a, 1, 1);
    f.in->mark = 100;
    emit(&f, MEV_MARK, 2);
    ck_assert(engine_ladder(f.e, f.in)->valid);
    int before = f.notified;

    market_invalidate(f.in, "gap");
    memset(&ev, 0, sizeof(ev));
    ev.type = MEV_FEED;
    ev.instr = f.in;
    ev.u.feed.kind = FEED_BOOK_INVALID;
    engine_on_event(f.e, &ev);
    ck_assert(!engine_ladder(f.e, f.in)->valid);
    ck_assert_int_eq(f.notified, before + 1);   /* listeners hear it */
    uint64_t ladders = engine_get_stats(f.e)->ladders;
    f.in->mark = 90;
    emit(&f, MEV_MARK, 3);                      /* still invalid: no run */
    ck_assert_uint_eq(engine_get_stats(f.e)->ladders, ladders);
    ck_assert(!engine_ladder(f.e, f.in)->valid);

    market_apply_snapshot(f.in, &b, 1, &a, 1, 2);
    emit(&f, MEV_BOOK_SNAPSHOT, 4);
    ck_assert(engine_ladder(f.e, f.in)->valid);
    ck_assert(engine_ladder(f.e, f.in)->ref == 90);
    teardown(&f);
}
END_TEST

static void count_error(const char *msg, void *arg)
{
    (void)msg;
    (*(int *)arg)++;
}

START_TEST(test_load_positions)
{
    market_t *m = market_create();
    struct engine_config cfg;
    struct posfile_stats st;
    lq_err_t err;
    engine_t *e;
    int errors = 0;

    ck_assert_int_ge(market_load_dir(m, "conf/instruments", 1u << VENUE_BINANCE, &err), 2);
    engine_config_default(&cfg);
    e = engine_create(m, &cfg, &err);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(engine_load_positions(e, "conf/examples/positions.csv",
                                           count_error, &errors, &st, &err), 0);
    struct mkt_instr *btc = market_find(m, VENUE_BINANCE, "BTCUSDT");
    ck_assert_ptr_nonnull(btc);
    pindex_t *ix = engine_pindex(e, btc);
    ck_assert_uint_gt(pindex_count(ix, POS_LONG) + pindex_count(ix, POS_SHORT), 0);
    ck_assert_uint_eq(st.loaded + st.rejected, st.rows);
    ck_assert_int_eq((int)st.rejected, errors);
    engine_destroy(e);
    market_destroy(m);
}
END_TEST

/* On a real capture through the real adapters: after every frame, every
 * valid ladder equals a fresh simulation of that moment. */
struct replay_check {
    market_t *m;
    engine_t *e;
    uint64_t checked;
};

static void on_replay_event(void *arg, const struct mkt_event *ev)
{
    engine_on_event(((struct replay_check *)arg)->e, ev);
}

static void after_frame(void *arg, enum venue_id v, int64_t ts)
{
    struct replay_check *c = arg;
    struct engine_config cfg;

    (void)v;
    (void)ts;
    engine_config_default(&cfg);
    for (size_t i = 0; i < market_count(c->m); i++) {
        struct mkt_instr *in = market_at(c->m, i);
        const struct engine_ladder *l = engine_ladder(c->e, in);
        struct cascade_row rows[2 * ENGINE_MAX_SHOCKS];
        if (!l->valid)
            continue;
        ck_assert_msg(in->book_valid, "%s: ladder valid on an invalid book (%s)", in->key,
                      in->invalid_reason);
        ck_assert(l->ref == (in->mark > 0 ? in->mark : l->ref));
        ck_assert_int_eq(cascade_ladder(in->book, engine_pindex(c->e, in), l->ref,
                                        cfg.sides, cfg.nsides, cfg.shocks,
                                        cfg.nshocks, rows), CASCADE_OK);
        for (size_t r = 0; r < l->nrows; r++)
            ck_assert_msg(rows[r].liquidated_qty == l->rows[r].liquidated_qty &&
                          rows[r].liquidated == l->rows[r].liquidated &&
                          rows[r].final_price == l->rows[r].final_price &&
                          rows[r].exhausted == l->rows[r].exhausted &&
                          rows[r].has_vwap == l->rows[r].has_vwap &&
                          (!rows[r].has_vwap ||
                           fabs(rows[r].vwap - l->rows[r].vwap) <= 1e-12 * rows[r].vwap),
                          "%s row %zu differs from a fresh simulation", in->key, r);
        c->checked++;
    }
}

START_TEST(test_replay_ladders_fresh)
{
    struct replay_check c = { 0 };
    struct engine_config cfg;
    struct venue_io io;
    struct replay_opts ro;
    struct replay_stats st;
    venue_t *v[VENUE_COUNT];
    lq_err_t err;
    struct trng r;
    char *files[] = { "tests/fixtures/captures/vsim-4venues.jsonl.gz" };

    log_set_level(LL_ERROR);
    trng_init(&r, "engine-replay");
    c.m = market_create();
    ck_assert_int_eq(market_load_dir(c.m, "conf/instruments", 0, &err), 8);
    engine_config_default(&cfg);
    c.e = engine_create(c.m, &cfg, &err);
    ck_assert_ptr_nonnull(c.e);
    /* Positions around each instrument's price, both sides. */
    for (size_t i = 0; i < market_count(c.m); i++) {
        struct mkt_instr *in = market_at(c.m, i);
        double px = strstr(in->spec.symbol, "BTC") ? 90000 : 3000;
        for (int k = 0; k < 300; k++) {
            struct pos_spec s = { 0 };
            char id[16];
            snprintf(id, sizeof(id), "p%d", k);
            s.id = id;
            s.side = k & 1 ? POS_SHORT : POS_LONG;
            s.qty = (dec_t)(1 + trng_below(&r, 100)) * 1000000;
            s.liq_price = px * (s.side == POS_LONG ? 1 - trng_unit(&r) * 0.02
                                                   : 1 + trng_unit(&r) * 0.02);
            ck_assert_int_eq(pindex_insert(engine_pindex(c.e, in), &s, NULL, NULL),
                             PINDEX_OK);
        }
    }
    memset(&io, 0, sizeof(io));
    io.emit = on_replay_event;
    io.arg = &c;
    ck_assert_int_eq(replay_create_venues(c.m, &io, v, &err), 0);
    memset(&ro, 0, sizeof(ro));
    ro.after_frame = after_frame;
    ro.arg = &c;
    ck_assert_int_eq(replay_run(files, 1, v, &ro, &st, &err), 0);
    ck_assert_uint_eq(st.frames, 358);
    ck_assert_uint_gt(c.checked, 1000);
    ck_assert_uint_gt(engine_get_stats(c.e)->ladders, 200);
    replay_destroy_venues(v);
    engine_destroy(c.e);
    market_destroy(c.m);
    log_set_level(LL_INFO);
}
END_TEST

START_TEST(test_lathist_quantiles)
{
    struct lathist h;

    memset(&h, 0, sizeof(h));
    ck_assert_uint_eq(lathist_quantile(&h, 0.5), 0);
    for (uint64_t v = 1; v <= 100000; v++)
        lathist_add(&h, v * 100);               /* 100 ns .. 10 ms */
    uint64_t p50 = lathist_quantile(&h, 0.50), p99 = lathist_quantile(&h, 0.99);
    ck_assert_msg(p50 >= 5000000 && p50 <= 5000000 * 1.07, "p50 %llu",
                  (unsigned long long)p50);
    ck_assert_msg(p99 >= 9900000 && p99 <= 9900000 * 1.07, "p99 %llu",
                  (unsigned long long)p99);
    ck_assert_uint_eq(lathist_quantile(&h, 1.0), 10000000);
    ck_assert_uint_eq(h.max, 10000000);
    lathist_add(&h, UINT64_MAX);                /* clamps, never overflows */
    ck_assert_uint_eq(h.max, UINT64_MAX);
}
END_TEST

Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_every_tick_fresh);
    tcase_add_test(tc, test_unchanged_tick_skipped);
    tcase_add_test(tc, test_liquidated_out_of_ladder);
    tcase_add_test(tc, test_invalid_book_stops_ladder);
    tcase_add_test(tc, test_load_positions);
    tcase_add_test(tc, test_replay_ladders_fresh);
    tcase_add_test(tc, test_lathist_quantiles);
    suite_add_tcase(s, tc);
    return s;
}
