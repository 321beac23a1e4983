/*
 * check_venue_bybit.c - the Bybit v5 linear adapter (src/venue/bybit.c):
 * real frames (tests/fixtures/venues/bybit-linear/), subscriptions and
 * pings, the orderbook snapshot/delta machine (resets, u == 1 restarts,
 * gaps, duplicates, crossing), ticker delta merging and allLiquidation
 * side normalisation, driven through venue_create with a recording
 * venue_io.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/log.h"
#include "liqmon/venue.h"
#include "suites.h"

#define FIX "tests/fixtures/venues/bybit-linear/"
#define SEC ((int64_t)1000000000)
#define T0 ((int64_t)1700000000 * SEC)

#include "venue_rec.h"

/* ---- fixtures -------------------------------------------------------------- */

static market_t *M;
static venue_t *V;
static struct mkt_instr *BTC, *ETH;

static struct mkt_instr *add_file(const char *sym)
{
    struct instrument spec;
    lq_err_t err;
    struct mkt_instr *in;

    ck_assert_msg(instrument_load_dir("conf/instruments", "bybit-linear", sym, &spec, &err) == 0,
                  "%s", err.msg);
    in = market_add(M, VENUE_BYBIT, &spec, &err);
    instrument_fini(&spec);
    ck_assert_msg(in != NULL, "%s", err.msg);
    return in;
}

/* An instrument with no tier table, for symbols without a conf file. */
static struct mkt_instr *add_plain(const char *sym)
{
    struct instrument spec;
    lq_err_t err;
    struct mkt_instr *in;

    memset(&spec, 0, sizeof(spec));
    snprintf(spec.venue, sizeof(spec.venue), "bybit-linear");
    snprintf(spec.symbol, sizeof(spec.symbol), "%s", sym);
    spec.tick_size = 0.00001;
    spec.lot_step = 1 * (dec_t)DEC_SCALE;
    spec.contract_value = DEC_SCALE;
    in = market_add(M, VENUE_BYBIT, &spec, &err);
    ck_assert_msg(in != NULL, "%s", err.msg);
    return in;
}

static venue_t *make_venue(int depth)
{
    struct venue_config cfg;
    struct venue_io io = { .arg = NULL, .emit = rec_emit, .send = rec_send,
                           .http_get = rec_get, .reconnect = rec_reconnect };
    lq_err_t err;
    venue_t *v;

    venue_config_default(VENUE_BYBIT, &cfg);
    if (depth)
        cfg.book_depth = depth;
    v = venue_create(&cfg, M, &io, &err);
    ck_assert_msg(v != NULL, "%s", err.msg);
    return v;
}

static void quiet(enum log_level lv, const char *line, void *arg)
{
    (void)lv;
    (void)line;
    (void)arg;
}

static void setup(void)
{
    memset(&R, 0, sizeof(R));
    log_set_hook(quiet, NULL);
    M = market_create();
    ck_assert_ptr_nonnull(M);
    BTC = add_file("BTCUSDT");
    ETH = add_file("ETHUSDT");
    V = make_venue(50);           /* the depth of the shared frames */
}

static void teardown(void)
{
    venue_destroy(V);
    V = NULL;
    market_destroy(M);
    M = NULL;
    log_set_hook(NULL, NULL);
}

static void fixture_line(const char *path, int n, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    for (int i = 0; i <= n; i++)
        ck_assert_msg(fgets(buf, (int)size, f) != NULL, "%s: no line %d", path, n);
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

static int ws(const char *text, int64_t now)
{
    return venue_on_frame(V, 0, FRAME_WS, NULL, text, strlen(text), now);
}

static dec_t D(const char *s)
{
    dec_t d;
    ck_assert_int_eq(dec_parse(s, strlen(s), &d), DEC_OK);
    return d;
}

static void expect_level(struct mkt_instr *in, enum book_side side, double px, const char *qty)
{
    char a[64], b[64];
    dec_t got = book_qty_at(in->book, side, px), want = D(qty);
    ck_assert_msg(got == want, "%s %s %.2f: qty %s, want %s", in->key,
                  side == BOOK_BID ? "bid" : "ask", px, tdec_str(got, a), tdec_str(want, b));
}

static uint64_t rejected(enum venue_reject r)
{
    return venue_get_stats(V)->by_reason[r];
}

/* An orderbook.50.BTCUSDT message with one bid and one ask level. */
static int book(const char *type, int64_t u, const char *bid, const char *bq,
                const char *ask, const char *aq, int64_t now)
{
    char buf[512];
    snprintf(buf, sizeof(buf),
             "{\"topic\":\"orderbook.50.BTCUSDT\",\"type\":\"%s\",\"ts\":1700000000000,"
             "\"data\":{\"s\":\"BTCUSDT\",\"b\":[[\"%s\",\"%s\"]],\"a\":[[\"%s\",\"%s\"]],"
             "\"u\":%lld,\"seq\":%lld},\"cts\":1700000000000}",
             type, bid, bq, ask, aq, (long long)u, (long long)(u * 7 + 1000));
    return ws(buf, now);
}

/* The shared snapshot then delta: the book at u = 18521289. */
static void shared_book(void)
{
    char line[1024];
    fixture_line(FIX "shared.jsonl", 0, line, sizeof(line));
    ck_assert_int_eq(ws(line, T0), 0);
    fixture_line(FIX "shared.jsonl", 1, line, sizeof(line));
    ck_assert_int_eq(ws(line, T0 + 1), 0);
    ck_assert(BTC->book_valid);
}

static size_t count_sends(const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < R.nsend && i < REC_MSG; i++)
        n += strstr(R.send[i], needle) != NULL;
    return n;
}

/* ---- real frames ------------------------------------------------------------ */

START_TEST(test_shared_frames)
{
    shared_book();
    /* Snapshot: bids 16493.50/0.006, 16493.00/0.100; asks 16611.00/0.029,
     * 16612.00/0.213.  Delta u+1: 16493.50 deleted, 16611.00 -> 0.129. */
    expect_level(BTC, BOOK_BID, 16493.00, "0.100");
    expect_level(BTC, BOOK_BID, 16493.50, "0");
    expect_level(BTC, BOOK_ASK, 16611.00, "0.129");
    expect_level(BTC, BOOK_ASK, 16612.00, "0.213");
    ck_assert_uint_eq(book_level_count(BTC->book, BOOK_BID), 1);
    ck_assert_uint_eq(book_level_count(BTC->book, BOOK_ASK), 2);
    ck_assert_uint_eq(BTC->book_seq, 18521289);
    ck_assert_uint_eq(count_type(MEV_BOOK_SNAPSHOT), 1);
    ck_assert_uint_eq(count_type(MEV_BOOK_DELTA), 1);
    ck_assert_uint_eq(count_feed(FEED_BOOK_VALID), 1);
    const struct rec_ev *e = last_of(MEV_BOOK_DELTA);
    ck_assert_uint_eq(e->seq, 18521289);
    ck_assert_uint_eq(e->nb, 1);
    ck_assert_uint_eq(e->na, 1);
    ck_assert_int_eq(e->ts, (int64_t)1672304485978 * 1000000);
    ck_assert_int_eq(book_check(BTC->book), 0);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
}
END_TEST

START_TEST(test_doc_frames)
{
    char line[2048];
    const struct rec_ev *e;
    struct mkt_instr *rose;

    /* tickers snapshot (linear example). */
    fixture_line(FIX "docs.jsonl", 0, line, sizeof(line));
    ck_assert_int_eq(ws(line, T0), 0);
    e = last_of(MEV_MARK);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_eq(e->in, BTC);
    ck_assert(e->mark == 17217.33 && e->index == 17227.36);
    ck_assert_int_eq(e->ts, (int64_t)1673272861686 * 1000000);
    ck_assert(BTC->open_interest == D("68744.761"));
    ck_assert_uint_eq(count_type(MEV_OPEN_INTEREST), 1);

    /* A delta with no snapshot before it: not applied, skipped. */
    fixture_line(FIX "docs.jsonl", 1, line, sizeof(line));
    ck_assert_int_eq(ws(line, T0), VENUE_SKIPPED(VSKIP_BEFORE_SNAPSHOT));
    ck_assert_uint_eq(venue_get_stats(V)->skipped_by_rule[VSKIP_BEFORE_SNAPSHOT], 1);
    ck_assert_uint_eq(book_level_count(BTC->book, BOOK_BID), 0);
    ck_assert(!BTC->book_valid);

    /* allLiquidation: "Sell" is the liquidated position's side, a short. */
    fixture_line(FIX "docs.jsonl", 2, line, sizeof(line));
    ck_assert_int_eq(ws(line, T0), 1 + VREJ_UNKNOWN_SYMBOL);   /* not watched */
    venue_destroy(V);
    rose = add_plain("ROSEUSDT");
    V = make_venue(50);
    ck_assert_int_eq(ws(line, T0), 0);
    e = last_of(MEV_LIQUIDATION);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_eq(e->in, rose);
    ck_assert_int_eq(e->liq_long, 0);
    ck_assert(e->qty == D("20000"));
    ck_assert(e->liq_px == 0.04499);
    ck_assert_int_eq(e->pk, LIQ_PX_BANKRUPTCY);
    ck_assert_int_eq(e->cov, LIQ_COMPLETE);
    ck_assert_int_eq(e->ts, (int64_t)1739502302929 * 1000000);

    /* The deprecated liquidation topic. */
    fixture_line(FIX "docs.jsonl", 3, line, sizeof(line));
    ck_assert_int_eq(ws(line, T0), 1 + VREJ_UNKNOWN_TYPE);
    /* Pongs and a subscribe ack. */
    for (int i = 4; i <= 6; i++) {
        fixture_line(FIX "docs.jsonl", i, line, sizeof(line));
        ck_assert_int_eq(ws(line, T0), 0);
    }
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 1);

    /* A tickers delta captured in 2026: only the best bid moved. */
    fixture_line(FIX "captured.jsonl", 0, line, sizeof(line));
    size_t nev = R.nev;
    ck_assert_int_eq(ws(line, T0), 0);
    ck_assert_uint_eq(R.nev, nev);
}
END_TEST

/* ---- ADL warnings (adlAlert.{coin}) -------------------------------------------- */

static const struct rec_ev *nth_adl(size_t k)
{
    for (size_t i = 0; i < R.nev && i < REC_EV; i++)
        if (R.ev[i].type == MEV_ADL_WARNING && k-- == 0)
            return &R.ev[i];
    return NULL;
}

START_TEST(test_adl_docs_frames)
{
    char line[4096];
    const struct rec_ev *e;
    struct mkt_instr *fwog = add_plain("FWOGUSDT"), *bera = add_plain("BERAUSDT");

    /* ZORAUSDT is not watched: its entry is passed over, not discovered. */
    venue_destroy(V);
    V = make_venue(50);
    fixture_line(FIX "adl-alert.jsonl", 0, line, sizeof(line));
    ck_assert_int_eq(venue_on_frame(V, 0, FRAME_WS, NULL, line, strlen(line), T0), 0);
    ck_assert_uint_eq(count_type(MEV_ADL_WARNING), 2);
    ck_assert_ptr_null(market_find(M, VENUE_BYBIT, "ZORAUSDT"));
    /* FWOGUSDT: balance -5421.29889888 <= 0: ADL by the balance rule (a
     * negative balance is documented, not rejected) */
    e = nth_adl(0);
    ck_assert(e->in == fwog);
    ck_assert_int_eq(e->adl_level, ADL_ACTIVE);
    ck_assert_str_eq(e->adl_state, "adl_balance");
    ck_assert_str_eq(e->adl_scope, "USDT:FWOGUSDT");
    ck_assert_str_eq(e->adl_ccy, "USDT");
    ck_assert_double_eq_tol(e->adl_bal, -5421.29889888, 1e-9);
    ck_assert_double_eq_tol(e->adl_max, -5421.29889888, 1e-9);
    ck_assert_double_eq(e->adl_thr, 0);
    ck_assert_double_eq(e->adl_trig, -0.3);
    ck_assert_double_eq(e->adl_stop, -0.25);
    ck_assert_double_eq(e->adl_ratio, 0);
    ck_assert_int_eq(e->ts, 1757736794000LL * 1000000);
    /* BERAUSDT: balance 453 below adl_tt 10000 (the drawdown rule does not
     * apply), positive: normal */
    e = nth_adl(1);
    ck_assert(e->in == bera);
    ck_assert_int_eq(e->adl_level, ADL_NORMAL);
    ck_assert_str_eq(e->adl_state, "normal");
    /* line 2: BTCUSDT, mb "" (deprecated): NAN; strings and numbers mixed */
    fixture_line(FIX "adl-alert.jsonl", 1, line, sizeof(line));
    ck_assert_int_eq(venue_on_frame(V, 0, FRAME_WS, NULL, line, strlen(line), T0), 0);
    e = last_of(MEV_ADL_WARNING);
    ck_assert(e->in == BTC);
    ck_assert_int_eq(e->adl_level, ADL_NORMAL);
    ck_assert_double_eq(e->adl_bal, 1);
    ck_assert(isnan(e->adl_max));
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
    ck_assert_uint_eq(venue_get_stats(V)->events[MEV_ADL_WARNING], 3);
}
END_TEST

/* Synthetic frames: the documented rule, first match (bybit.c). */
START_TEST(test_adl_levels)
{
    static const struct { const char *b, *pr; int level; const char *state; } c[] = {
        { "50000", "-0.35", ADL_ACTIVE, "adl_drawdown" },       /* past i_pr -0.3 */
        { "50000", "-0.27", ADL_WARNING, "drawdown_past_stop" }, /* past adl_sr -0.25 */
        { "50000", "-0.2", ADL_NORMAL, "normal" },
        { "5000", "-0.35", ADL_NORMAL, "normal" },      /* b <= adl_tt: no drawdown rule */
        { "0", "0", ADL_ACTIVE, "adl_balance" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char f[512];
        snprintf(f, sizeof(f), "{\"topic\":\"adlAlert.USDT\",\"type\":\"snapshot\",\"ts\":"
                 "1757736794000,\"data\":[{\"c\":\"USDT\",\"s\":\"BTCUSDT\",\"b\":\"%s\","
                 "\"mb\":\"\",\"i_pr\":\"-0.3\",\"pr\":\"%s\",\"adl_tt\":\"10000\","
                 "\"adl_sr\":\"-0.25\"}]}", c[i].b, c[i].pr);
        ck_assert_int_eq(venue_on_frame(V, 0, FRAME_WS, NULL, f, strlen(f), T0), 0);
        const struct rec_ev *e = last_of(MEV_ADL_WARNING);
        ck_assert_msg(e->adl_level == c[i].level, "case %zu: level %d", i, e->adl_level);
        ck_assert_str_eq(e->adl_state, c[i].state);
    }
}
END_TEST

/* Garbage in adlAlert frames: rejected and counted, never fatal, and
 * nothing of a rejected frame is emitted (checked whole first). */
START_TEST(test_adl_garbage)
{
    static const struct { const char *f; enum venue_reject why; } g[] = {
        { "{\"topic\":\"adlAlert.USDT\",\"ts\":1,\"data\":{}}", VREJ_SCHEMA },
        { "{\"topic\":\"adlAlert.USDT\",\"ts\":1,\"data\":[{\"s\":\"BTCUSDT\",\"b\":\"1\"}]}",
          VREJ_SCHEMA },                                            /* no c */
        { "{\"topic\":\"adlAlert.USDT\",\"ts\":1,\"data\":[{\"c\":\"USDT\",\"b\":\"1\"}]}",
          VREJ_SCHEMA },                                            /* no s */
        { "{\"topic\":\"adlAlert.USDT\",\"ts\":1,\"data\":[{\"c\":\"USDT\",\"s\":\"BTCUSDT\"}]}",
          VREJ_NUMBER },                                            /* no b */
        { "{\"topic\":\"adlAlert.USDT\",\"ts\":1,\"data\":[{\"c\":\"USDT\",\"s\":\"BTCUSDT\","
          "\"b\":\"lots\"}]}", VREJ_NUMBER },
        { "{\"topic\":\"adlAlert.USDT\",\"ts\":1,\"data\":[{\"c\":\"USDT\",\"s\":\"BTCUSDT\","
          "\"b\":\"1\",\"pr\":\"x\"}]}", VREJ_NUMBER },
        /* a good entry, then a bad one: nothing emitted */
        { "{\"topic\":\"adlAlert.USDT\",\"ts\":1,\"data\":[{\"c\":\"USDT\",\"s\":\"BTCUSDT\","
          "\"b\":\"1\"},{\"c\":\"USDT\",\"s\":\"ETHUSDT\",\"b\":[]}]}", VREJ_NUMBER },
        { "{\"topic\":\"adlAlert.USDT\",\"ts\":1,\"data\":[7]}", VREJ_SCHEMA },
    };
    for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
        ck_assert_msg(venue_on_frame(V, 0, FRAME_WS, NULL, g[i].f, strlen(g[i].f), T0) ==
                      1 + (int)g[i].why, "frame %zu", i);
    ck_assert_uint_eq(count_type(MEV_ADL_WARNING), 0);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, sizeof(g) / sizeof(g[0]));
}
END_TEST

START_TEST(test_adl_subscribe)
{
    venue_on_open(V, 0, T0);
    ck_assert_uint_eq(R.nsend, 2);
    ck_assert_str_eq(R.send[1], "{\"op\":\"subscribe\",\"args\":[\"adlAlert.USDT\"]}");
    /* a USDC symbol added later: its coin's topic alone */
    struct mkt_instr *perp = add_plain("BTCPERP");
    lq_err_t err;
    ck_assert_int_eq(venue_add_instrument(V, perp, &err), 0);
    ck_assert_str_eq(R.send[R.nsend - 1], "{\"op\":\"subscribe\",\"args\":[\"adlAlert.USDC\"]}");
    /* adl_warnings = false: not subscribed */
    venue_destroy(V);
    memset(&R, 0, sizeof(R));
    struct venue_config cfg;
    struct venue_io io = { .emit = rec_emit, .send = rec_send };
    venue_config_default(VENUE_BYBIT, &cfg);
    cfg.adl_warnings = 0;
    V = venue_create(&cfg, M, &io, &err);
    ck_assert_ptr_nonnull(V);
    venue_on_open(V, 0, T0);
    for (size_t i = 0; i < R.nsend; i++)
        ck_assert_ptr_null(strstr(R.send[i], "adlAlert"));
}
END_TEST

/* ---- subscriptions and pings -------------------------------------------------- */

START_TEST(test_subscribe_on_open)
{
    ck_assert_uint_eq(venue_conn_count(V), 1);
    ck_assert_str_eq(venue_conn_name(V, 0), "public");
    ck_assert_str_eq(venue_conn_url(V, 0), "wss://stream.bybit.com/v5/public/linear");
    venue_on_open(V, 0, T0);
    ck_assert_uint_eq(R.nsend, 2);        /* + adlAlert.USDT (test_adl_subscribe) */
    ck_assert_str_eq(R.send[0],
                     "{\"op\":\"subscribe\",\"args\":[\"tickers.BTCUSDT\",\"orderbook.50.BTCUSDT\","
                     "\"allLiquidation.BTCUSDT\",\"tickers.ETHUSDT\",\"orderbook.50.ETHUSDT\","
                     "\"allLiquidation.ETHUSDT\"]}");
    ck_assert_uint_eq(R.nget, 0);
}
END_TEST

START_TEST(test_subscribe_split)
{
    venue_destroy(V);
    add_plain("SOLUSDT");
    add_plain("XRPUSDT");
    V = make_venue(200);
    venue_on_open(V, 0, T0);
    /* 12 topics: 10 + 2, then adlAlert.USDT. */
    ck_assert_uint_eq(R.nsend, 3);
    ck_assert_str_eq(R.send[1],
                     "{\"op\":\"subscribe\",\"args\":[\"orderbook.200.XRPUSDT\","
                     "\"allLiquidation.XRPUSDT\"]}");
    size_t commas = 0;
    for (const char *p = R.send[0]; *p; p++)
        commas += *p == ',';
    ck_assert_uint_eq(commas, 10);        /* "op",args and 9 between 10 */
}
END_TEST

START_TEST(test_ping_cadence)
{
    venue_tick(V, T0 + 100 * SEC);
    ck_assert_uint_eq(R.nsend, 0);         /* not connected: no ping */
    venue_on_open(V, 0, T0);
    shared_book();                 /* else tick resubscribes BTCUSDT */
    ck_assert_int_eq(ws("{\"topic\":\"orderbook.50.ETHUSDT\",\"type\":\"snapshot\",\"ts\":1,"
                        "\"data\":{\"s\":\"ETHUSDT\",\"b\":[[\"1000\",\"1\"]],"
                        "\"a\":[[\"1001\",\"1\"]],\"u\":10,\"seq\":1}}", T0), 0);
    size_t base = R.nsend;
    venue_tick(V, T0 + 19 * SEC);
    ck_assert_uint_eq(R.nsend, base);
    venue_tick(V, T0 + 20 * SEC);
    ck_assert_uint_eq(R.nsend, base + 1);
    ck_assert_str_eq(R.send[base], "{\"op\":\"ping\"}");
    venue_tick(V, T0 + 21 * SEC);
    venue_tick(V, T0 + 39 * SEC);
    ck_assert_uint_eq(count_sends("ping"), 1);
    venue_tick(V, T0 + 40 * SEC);
    ck_assert_uint_eq(count_sends("ping"), 2);
    /* The pong is not a reject. */
    ck_assert_int_eq(ws("{\"success\":true,\"ret_msg\":\"pong\",\"conn_id\":\"c\",\"op\":\"ping\"}",
                        T0 + 40 * SEC), 0);
    venue_on_close(V, 0, T0 + 41 * SEC);
    venue_tick(V, T0 + 80 * SEC);
    ck_assert_uint_eq(count_sends("ping"), 2);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
}
END_TEST

/* ---- book sync ----------------------------------------------------------------- */

START_TEST(test_mid_stream_snapshot_resets)
{
    shared_book();
    ck_assert_int_eq(book("snapshot", 18600000, "16500.00", "1.5", "16501.00", "2.5", T0 + 2), 0);
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(book_level_count(BTC->book, BOOK_BID), 1);
    ck_assert_uint_eq(book_level_count(BTC->book, BOOK_ASK), 1);
    expect_level(BTC, BOOK_BID, 16493.00, "0");
    expect_level(BTC, BOOK_BID, 16500.00, "1.5");
    ck_assert_uint_eq(count_feed(FEED_BOOK_VALID), 1);    /* it never broke */
    ck_assert_int_eq(book("delta", 18600001, "16500.00", "0", "16502.00", "1", T0 + 3), 0);
    expect_level(BTC, BOOK_BID, 16500.00, "0");
    expect_level(BTC, BOOK_ASK, 16502.00, "1");
}
END_TEST

START_TEST(test_restart_u1)
{
    shared_book();
    /* The service restarted: a delta-type message with u = 1 is a full
     * book. */
    ck_assert_int_eq(book("delta", 1, "17000.00", "3", "17001.00", "4", T0 + 2), 0);
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(book_level_count(BTC->book, BOOK_BID), 1);
    expect_level(BTC, BOOK_BID, 17000.00, "3");
    expect_level(BTC, BOOK_ASK, 16611.00, "0");
    ck_assert_uint_eq(BTC->book_seq, 1);
    ck_assert_uint_eq(count_type(MEV_BOOK_SNAPSHOT), 2);
    ck_assert_int_eq(book("delta", 2, "16999.00", "1", "17001.00", "0", T0 + 3), 0);
    ck_assert(BTC->book_valid);
    expect_level(BTC, BOOK_BID, 16999.00, "1");
    ck_assert_uint_eq(count_feed(FEED_BOOK_INVALID), 0);
}
END_TEST

START_TEST(test_gap_resubscribes)
{
    venue_on_open(V, 0, T0);
    shared_book();
    size_t sends = R.nsend;
    /* u jumps from 18521289 to 18521291: one message lost. */
    ck_assert_int_eq(book("delta", 18521291, "16490.00", "1", "16615.00", "1", T0 + 2), 0);
    ck_assert(!BTC->book_valid);
    ck_assert_uint_eq(count_feed(FEED_BOOK_INVALID), 1);
    ck_assert_uint_eq(R.nsend, sends + 2);
    ck_assert_str_eq(R.send[sends], "{\"op\":\"unsubscribe\",\"args\":[\"orderbook.50.BTCUSDT\"]}");
    ck_assert_str_eq(R.send[sends + 1], "{\"op\":\"subscribe\",\"args\":[\"orderbook.50.BTCUSDT\"]}");
    /* Deltas before the new snapshot are not applied. */
    ck_assert_int_eq(book("delta", 18521292, "16490.00", "1", "16615.00", "1", T0 + 3),
                     VENUE_SKIPPED(VSKIP_BEFORE_SNAPSHOT));
    expect_level(BTC, BOOK_BID, 16490.00, "0");
    ck_assert_int_eq(ws("{\"success\":true,\"ret_msg\":\"\",\"conn_id\":\"c\",\"op\":\"unsubscribe\"}",
                        T0 + 3), 0);
    /* The resubscription's snapshot recovers. */
    ck_assert_int_eq(book("snapshot", 18521300, "16480.00", "2", "16620.00", "2", T0 + 4), 0);
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(count_feed(FEED_BOOK_VALID), 2);
    ck_assert_int_eq(book("delta", 18521301, "16481.00", "1", "16620.00", "0", T0 + 5), 0);
    expect_level(BTC, BOOK_BID, 16481.00, "1");
    ck_assert_uint_eq(R.nsend, sends + 2);
    ck_assert_uint_eq(R.nreconnect, 0);
}
END_TEST

START_TEST(test_resubscribe_retry_by_tick)
{
    venue_on_open(V, 0, T0);
    size_t sends = R.nsend;
    venue_tick(V, T0 + 9 * SEC);
    ck_assert_uint_eq(R.nsend, sends);
    /* 10 s and no snapshot for either book: resubscribe both (and ping at
     * 20 s, not yet). */
    venue_tick(V, T0 + 10 * SEC);
    ck_assert_uint_eq(count_sends("unsubscribe"), 2);
    shared_book();
    venue_tick(V, T0 + 21 * SEC);
    ck_assert_uint_eq(count_sends("\"unsubscribe\",\"args\":[\"orderbook.50.BTCUSDT\"]"), 1);
    ck_assert_uint_eq(count_sends("\"unsubscribe\",\"args\":[\"orderbook.50.ETHUSDT\"]"), 2);
}
END_TEST

START_TEST(test_duplicate_ignored)
{
    char line[1024];

    shared_book();
    fixture_line(FIX "shared.jsonl", 1, line, sizeof(line));
    ck_assert_int_eq(ws(line, T0 + 2), VENUE_SKIPPED(VSKIP_DUPLICATE));
    ck_assert_int_eq(book("delta", 18521200, "1", "1", "99999", "1", T0 + 2),
                     VENUE_SKIPPED(VSKIP_DUPLICATE));
    ck_assert(BTC->book_valid);
    expect_level(BTC, BOOK_BID, 1.0, "0");
    ck_assert_uint_eq(venue_get_stats(V)->skipped_by_rule[VSKIP_DUPLICATE], 2);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
    ck_assert_uint_eq(count_feed(FEED_BOOK_INVALID), 0);
    ck_assert_uint_eq(R.nsend, 0);
}
END_TEST

START_TEST(test_crossed_invalidates)
{
    shared_book();
    /* A moving market inside one delta: bid 16611.50 above the old best
     * ask, the asks 16611 and 16612 removed.  Valid afterwards. */
    ck_assert_int_eq(ws("{\"topic\":\"orderbook.50.BTCUSDT\",\"type\":\"delta\",\"ts\":1,"
                        "\"data\":{\"s\":\"BTCUSDT\",\"b\":[[\"16611.50\",\"1\"]],"
                        "\"a\":[[\"16611.00\",\"0\"],[\"16612.00\",\"0\"],[\"16613.00\",\"1\"]],"
                        "\"u\":18521290,\"seq\":1}}", T0 + 2), 0);
    ck_assert(BTC->book_valid);
    /* A bid through the ask: crossed. */
    ck_assert_int_eq(book("delta", 18521291, "16614.00", "1", "1.00", "0", T0 + 3), 0);
    ck_assert(!BTC->book_valid);
    ck_assert_ptr_nonnull(strstr(BTC->invalid_reason, "crossed"));
    ck_assert_uint_eq(count_sends("unsubscribe"), 1);
    /* A crossed snapshot is refused too, and resubscribed again. */
    ck_assert_int_eq(book("snapshot", 5, "101", "1", "100", "1", T0 + 4), 0);
    ck_assert(!BTC->book_valid);
    ck_assert_uint_eq(count_sends("unsubscribe"), 2);
    ck_assert_int_eq(book("snapshot", 6, "100", "1", "101", "1", T0 + 5), 0);
    ck_assert(BTC->book_valid);
    /* A crossed snapshot on a valid book reports it invalid. */
    size_t inval = count_feed(FEED_BOOK_INVALID);
    ck_assert_int_eq(book("snapshot", 7, "101", "1", "100", "1", T0 + 6), 0);
    ck_assert(!BTC->book_valid);
    ck_assert_uint_eq(count_feed(FEED_BOOK_INVALID), inval + 1);
}
END_TEST

START_TEST(test_close_invalidates)
{
    venue_on_open(V, 0, T0);
    shared_book();
    venue_on_close(V, 0, T0 + 5);
    ck_assert(!BTC->book_valid);
    ck_assert_uint_eq(count_feed(FEED_BOOK_INVALID), 1);
    ck_assert_int_eq(book("delta", 18521290, "16490.00", "1", "16615.00", "1", T0 + 6),
                     VENUE_SKIPPED(VSKIP_BEFORE_SNAPSHOT));
    venue_on_open(V, 0, T0 + 7);
    shared_book();
}
END_TEST

START_TEST(test_other_depth_refused)
{
    ck_assert_int_eq(ws("{\"topic\":\"orderbook.200.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1,"
                        "\"data\":{\"s\":\"BTCUSDT\",\"b\":[],\"a\":[],\"u\":1,\"seq\":1}}", T0),
                     1 + VREJ_UNKNOWN_TYPE);
    ck_assert(!BTC->book_valid);
}
END_TEST

/* ---- tickers and liquidations ----------------------------------------------------- */

START_TEST(test_tickers_delta_merge)
{
    char line[2048];
    const struct rec_ev *e;

    fixture_line(FIX "docs.jsonl", 0, line, sizeof(line));
    ck_assert_int_eq(ws(line, T0), 0);
    size_t marks = count_type(MEV_MARK), ois = count_type(MEV_OPEN_INTEREST);
    /* Only the index moved: merged, no mark event. */
    ck_assert_int_eq(ws("{\"topic\":\"tickers.BTCUSDT\",\"type\":\"delta\",\"data\":{\"symbol\":"
                        "\"BTCUSDT\",\"indexPrice\":\"17230.00\"},\"cs\":1,\"ts\":1673272861786}",
                        T0 + 1), 0);
    ck_assert(BTC->index == 17230.00 && BTC->mark == 17217.33);
    ck_assert_uint_eq(count_type(MEV_MARK), marks);
    /* The mark moves: its event carries the merged index. */
    ck_assert_int_eq(ws("{\"topic\":\"tickers.BTCUSDT\",\"type\":\"delta\",\"data\":{\"symbol\":"
                        "\"BTCUSDT\",\"markPrice\":\"17220.10\",\"lastPrice\":\"17219\"},"
                        "\"cs\":2,\"ts\":1673272861886}", T0 + 2), 0);
    e = last_of(MEV_MARK);
    ck_assert(e->mark == 17220.10 && e->index == 17230.00);
    ck_assert_int_eq(e->ts, (int64_t)1673272861886 * 1000000);
    ck_assert_uint_eq(count_type(MEV_MARK), marks + 1);
    ck_assert(BTC->open_interest == D("68744.761"));
    ck_assert_uint_eq(count_type(MEV_OPEN_INTEREST), ois);
    /* Open interest alone. */
    ck_assert_int_eq(ws("{\"topic\":\"tickers.BTCUSDT\",\"type\":\"delta\",\"data\":{\"symbol\":"
                        "\"BTCUSDT\",\"openInterest\":\"68750.001\",\"openInterestValue\":\"1\"},"
                        "\"cs\":3,\"ts\":1673272861986}", T0 + 3), 0);
    ck_assert(BTC->open_interest == D("68750.001"));
    ck_assert_uint_eq(count_type(MEV_OPEN_INTEREST), ois + 1);
    ck_assert_uint_eq(count_type(MEV_MARK), marks + 1);
    ck_assert(BTC->mark == 17220.10);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
}
END_TEST

START_TEST(test_liquidation_sides)
{
    const struct rec_ev *e;

    ck_assert_int_eq(ws("{\"topic\":\"allLiquidation.ETHUSDT\",\"type\":\"snapshot\",\"ts\":1700000000600,"
                        "\"data\":[{\"T\":1700000000500,\"s\":\"ETHUSDT\",\"S\":\"Buy\",\"v\":\"2.5\","
                        "\"p\":\"1900.5\"},{\"T\":1700000000550,\"s\":\"ETHUSDT\",\"S\":\"Sell\","
                        "\"v\":\"0.01\",\"p\":\"1950\"}]}", T0), 0);
    ck_assert_uint_eq(count_type(MEV_LIQUIDATION), 2);
    e = &R.ev[0];
    ck_assert_int_eq(e->type, MEV_LIQUIDATION);
    ck_assert_ptr_eq(e->in, ETH);
    ck_assert_int_eq(e->liq_long, 1);          /* "Buy": a long liquidated */
    ck_assert(e->qty == D("2.5"));
    ck_assert(e->liq_px == 1900.5);
    ck_assert_int_eq(e->ts, (int64_t)1700000000500 * 1000000);
    e = &R.ev[1];
    ck_assert_int_eq(e->liq_long, 0);
    ck_assert(e->qty == D("0.01"));
    ck_assert_int_eq(e->cov, LIQ_COMPLETE);
    ck_assert_int_eq(e->pk, LIQ_PX_BANKRUPTCY);
    /* A bad entry spoils the frame: nothing emitted from it. */
    ck_assert_int_eq(ws("{\"topic\":\"allLiquidation.ETHUSDT\",\"type\":\"snapshot\",\"ts\":1,"
                        "\"data\":[{\"T\":1,\"s\":\"ETHUSDT\",\"S\":\"Buy\",\"v\":\"1\",\"p\":\"1\"},"
                        "{\"T\":1,\"s\":\"ETHUSDT\",\"S\":\"Long\",\"v\":\"1\",\"p\":\"1\"}]}", T0),
                     1 + VREJ_SCHEMA);
    ck_assert_uint_eq(count_type(MEV_LIQUIDATION), 2);
}
END_TEST

START_TEST(test_garbage_counted)
{
    ck_assert_int_eq(ws("}{", T0), 1 + VREJ_JSON);
    ck_assert_int_eq(ws("\"pong\"", T0), 1 + VREJ_SCHEMA);
    ck_assert_int_eq(ws("{\"foo\":1}", T0), 1 + VREJ_SCHEMA);
    ck_assert_int_eq(ws("{\"success\":false,\"ret_msg\":\"error:handler not found,topic:x\","
                        "\"conn_id\":\"c\",\"req_id\":\"\",\"op\":\"subscribe\"}", T0),
                     1 + VREJ_VENUE_ERROR);
    ck_assert_int_eq(ws("{\"topic\":\"publicTrade.BTCUSDT\",\"type\":\"snapshot\",\"data\":[]}", T0),
                     1 + VREJ_UNKNOWN_TYPE);
    ck_assert_int_eq(ws("{\"topic\":\"tickers.DOGEUSDT\",\"type\":\"snapshot\",\"data\":{}}", T0),
                     1 + VREJ_UNKNOWN_SYMBOL);
    ck_assert_int_eq(ws("{\"topic\":\"tickers.BTCUSDT\",\"type\":\"delta\",\"data\":"
                        "{\"markPrice\":\"x\"}}", T0), 1 + VREJ_NUMBER);
    ck_assert_int_eq(ws("{\"topic\":\"orderbook.50.BTCUSDT\",\"type\":\"snapshot\",\"data\":"
                        "{\"b\":[[\"1\",\"1\"]],\"a\":[]}}", T0), 1 + VREJ_SCHEMA);
    ck_assert_int_eq(ws("{\"topic\":\"orderbook.50.BTCUSDT\",\"type\":\"snapshot\",\"data\":"
                        "{\"b\":[[\"-1\",\"1\"]],\"a\":[],\"u\":5}}", T0), 1 + VREJ_NUMBER);
    ck_assert_int_eq(venue_on_frame(V, 0, FRAME_REST, "/x", "{}", 2, T0), 1 + VREJ_UNKNOWN_TYPE);

    const struct venue_stats *st = venue_get_stats(V);
    ck_assert_uint_eq(st->by_reason[VREJ_JSON], 1);
    ck_assert_uint_eq(st->by_reason[VREJ_SCHEMA], 3);
    ck_assert_uint_eq(st->by_reason[VREJ_VENUE_ERROR], 1);
    ck_assert_uint_eq(st->by_reason[VREJ_UNKNOWN_TYPE], 2);
    ck_assert_uint_eq(st->by_reason[VREJ_UNKNOWN_SYMBOL], 1);
    ck_assert_uint_eq(st->by_reason[VREJ_NUMBER], 2);
    ck_assert_uint_eq(st->rejected, 10);
    ck_assert(!BTC->book_valid);
    /* Still working. */
    shared_book();
    ck_assert_uint_eq(st->rejected, 10);
}
END_TEST

/* ---- replays: depth and discovery -------------------------------------------- */

/* An orderbook.<depth>.BTCUSDT message (synthetic, the shape of the
 * shared frames) with one bid and one ask level. */
static int bookd(int depth, const char *type, int64_t u, const char *bid, const char *bq,
                 const char *ask, const char *aq, int64_t now)
{
    char buf[512];
    snprintf(buf, sizeof(buf),
             "{\"topic\":\"orderbook.%d.BTCUSDT\",\"type\":\"%s\",\"ts\":1700000000000,"
             "\"data\":{\"s\":\"BTCUSDT\",\"b\":[[\"%s\",\"%s\"]],\"a\":[[\"%s\",\"%s\"]],"
             "\"u\":%lld,\"seq\":%lld},\"cts\":1700000000000}",
             depth, type, bid, bq, ask, aq, (long long)u, (long long)(u * 7 + 1000));
    return ws(buf, now);
}

static char NOTES[8][600];
static size_t NNOTES;

static void keep_note(const char *msg, void *arg)
{
    (void)arg;
    if (NNOTES < 8)
        snprintf(NOTES[NNOTES++], sizeof(NOTES[0]), "%s", msg);
}

static void replay_venue(int depth)
{
    static const struct venue_replay fixed = { NULL, NULL };

    venue_destroy(V);
    V = make_venue(depth);
    venue_set_replay(V, &fixed);
    NNOTES = 0;
}

/* A replay without a config follows the deepest depth the capture
 * carries: orderbook.50 until the first orderbook.500 snapshot, then
 * orderbook.500 only; the 50 frames after it are skipped, not rejected. */
START_TEST(test_replay_deepest_depth)
{
    replay_venue(VENUE_DEPTH_DEEPEST);
    ck_assert_uint_eq(venue_notes(V, keep_note, NULL), 0);
    shared_book();                                   /* the real orderbook.50 frames */
    ck_assert(BTC->book_valid);
    /* A 500 delta before any 500 snapshot: nothing to apply it to. */
    ck_assert_int_eq(bookd(500, "delta", 77, "16490.00", "1", "16615.00", "1", T0 + 2),
                     VENUE_SKIPPED(VSKIP_BEFORE_SNAPSHOT));
    expect_level(BTC, BOOK_ASK, 16611.00, "0.129");
    /* Its snapshot: the book is orderbook.500's from now on. */
    ck_assert_int_eq(bookd(500, "snapshot", 78, "16490.00", "2", "16615.00", "3", T0 + 3), 0);
    ck_assert_uint_eq(book_level_count(BTC->book, BOOK_BID), 1);
    expect_level(BTC, BOOK_ASK, 16611.00, "0");
    expect_level(BTC, BOOK_ASK, 16615.00, "3");
    ck_assert_uint_eq(BTC->book_seq, 78);
    ck_assert(BTC->book_valid);
    /* orderbook.50 goes on in the capture: skipped as another depth. */
    ck_assert_int_eq(book("delta", 18521290, "16493.00", "0", "16611.00", "5", T0 + 4),
                     VENUE_SKIPPED(VSKIP_OTHER_DEPTH));
    ck_assert_int_eq(book("snapshot", 18521291, "16493.00", "1", "16611.00", "5", T0 + 4),
                     VENUE_SKIPPED(VSKIP_OTHER_DEPTH));
    expect_level(BTC, BOOK_ASK, 16611.00, "0");
    ck_assert_int_eq(bookd(500, "delta", 79, "16490.00", "4", "16616.00", "1", T0 + 5), 0);
    expect_level(BTC, BOOK_BID, 16490.00, "4");
    ck_assert_uint_eq(BTC->book_seq, 79);

    const struct venue_stats *st = venue_get_stats(V);
    ck_assert_uint_eq(st->rejected, 0);
    ck_assert_uint_eq(st->skipped, 3);
    ck_assert_uint_eq(st->skipped_by_rule[VSKIP_OTHER_DEPTH], 2);
    ck_assert_uint_eq(st->skipped_by_rule[VSKIP_BEFORE_SNAPSHOT], 1);
    ck_assert_uint_eq(count_feed(FEED_BOOK_INVALID), 0);
    ck_assert_uint_eq(venue_notes(V, keep_note, NULL), 1);
    ck_assert_str_eq(NOTES[0], "bybit-linear:BTCUSDT: replaying orderbook.500 (the capture "
                     "also has orderbook.50: 2 frames used until the first orderbook.500 "
                     "snapshot, 2 ignored)");
}
END_TEST

/* Deepest first: the shallower depth is never used. */
START_TEST(test_replay_deepest_first)
{
    replay_venue(VENUE_DEPTH_DEEPEST);
    ck_assert_int_eq(bookd(500, "snapshot", 5, "100.0", "1", "101.0", "1", T0), 0);
    ck_assert_int_eq(bookd(50, "snapshot", 9, "100.0", "7", "101.0", "7", T0 + 1),
                     VENUE_SKIPPED(VSKIP_OTHER_DEPTH));
    ck_assert_int_eq(bookd(500, "delta", 6, "100.0", "2", "101.0", "2", T0 + 2), 0);
    expect_level(BTC, BOOK_BID, 100.0, "2");
    ck_assert_uint_eq(venue_notes(V, keep_note, NULL), 1);
    ck_assert_str_eq(NOTES[0], "bybit-linear:BTCUSDT: replaying orderbook.500 (the capture "
                     "also has orderbook.50: 1 frames ignored)");
    /* Only deltas for ETHUSDT: said, its book stays empty. */
    ck_assert_int_eq(ws("{\"topic\":\"orderbook.50.ETHUSDT\",\"type\":\"delta\",\"ts\":1,"
                        "\"data\":{\"s\":\"ETHUSDT\",\"b\":[],\"a\":[],\"u\":7,\"seq\":1}}",
                        T0 + 3), VENUE_SKIPPED(VSKIP_BEFORE_SNAPSHOT));
    NNOTES = 0;
    ck_assert_uint_eq(venue_notes(V, keep_note, NULL), 2);
    ck_assert_str_eq(NOTES[1], "bybit-linear:ETHUSDT: no orderbook snapshot in the capture: "
                     "1 book deltas could not be used, the book stays empty");
}
END_TEST

/* A config's book_depth in a replay: kept (it is what live would do);
 * the capture's other depths are skipped and counted, not rejected. */
START_TEST(test_replay_config_depth)
{
    replay_venue(200);
    ck_assert_int_eq(book("snapshot", 18521288, "16493.00", "1", "16611.00", "1", T0),
                     VENUE_SKIPPED(VSKIP_OTHER_DEPTH));
    ck_assert_int_eq(book("delta", 18521289, "16493.00", "2", "16611.00", "1", T0 + 1),
                     VENUE_SKIPPED(VSKIP_OTHER_DEPTH));
    ck_assert(!BTC->book_valid);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
    ck_assert_uint_eq(venue_notes(V, keep_note, NULL), 1);
    ck_assert_str_eq(NOTES[0], "bybit-linear:BTCUSDT: no orderbook.200 frame in the capture "
                     "(book_depth 200, as configured); it has orderbook.50: 2 frames skipped");
    ck_assert_int_eq(bookd(200, "snapshot", 3, "100.0", "1", "101.0", "1", T0 + 2), 0);
    ck_assert(BTC->book_valid);
    NNOTES = 0;
    venue_notes(V, keep_note, NULL);
    ck_assert_str_eq(NOTES[0], "bybit-linear:BTCUSDT: replaying orderbook.200 (book_depth, as "
                     "configured); the capture also has orderbook.50: 2 frames skipped");
    /* A depth Bybit does not publish is still garbage. */
    ck_assert_int_eq(bookd(25, "snapshot", 3, "100.0", "1", "101.0", "1", T0 + 3),
                     1 + VREJ_UNKNOWN_TYPE);
    ck_assert_uint_eq(rejected(VREJ_UNKNOWN_TYPE), 1);
}
END_TEST

/* The discover hook of a replay: what a test's "replay" does with it. */
static struct mkt_instr *test_discover(void *arg, venue_t *v, const char *sym, size_t len)
{
    char name[INSTRUMENT_SYMBOL_MAX];
    lq_err_t err;
    struct mkt_instr *in;

    (void)arg;
    memcpy(name, sym, len);
    name[len] = '\0';
    in = add_plain(name);
    ck_assert_int_eq(venue_add_instrument(v, in, &err), 0);
    return in;
}

/* allLiquidation of a symbol with no book or ticker in the capture: a
 * replay that discovers takes the prints; live (and a config's replay)
 * rejects them as an unknown symbol. */
START_TEST(test_replay_discovers_prints)
{
    static const struct venue_replay disc = { test_discover, NULL };
    char line[1024];

    fixture_line(FIX "liquidations.jsonl", 0, line, sizeof(line));   /* STRKUSDT */
    ck_assert_int_eq(ws(line, T0), 1 + VREJ_UNKNOWN_SYMBOL);
    ck_assert_ptr_null(market_find(M, VENUE_BYBIT, "STRKUSDT"));

    venue_set_replay(V, &disc);
    ck_assert_int_eq(ws(line, T0 + 1), 0);
    struct mkt_instr *strk = market_find(M, VENUE_BYBIT, "STRKUSDT");
    ck_assert_ptr_nonnull(strk);
    const struct rec_ev *e = last_of(MEV_LIQUIDATION);
    ck_assert_ptr_eq(e->in, strk);
    ck_assert_int_eq(e->liq_long, 1);                /* "Buy": a long */
    ck_assert(e->liq_px == 0.05165);
    ck_assert(e->qty == D("2084.9"));
    ck_assert_int_eq(e->cov, LIQ_COMPLETE);
    /* Two entries of a known symbol (the other real frame). */
    fixture_line(FIX "liquidations.jsonl", 1, line, sizeof(line));   /* BTCUSDT */
    ck_assert_int_eq(ws(line, T0 + 2), 0);
    ck_assert_uint_eq(count_type(MEV_LIQUIDATION), 3);
    /* An entry naming another symbol than its topic is not discovered. */
    ck_assert_int_eq(ws("{\"topic\":\"allLiquidation.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1,"
                        "\"data\":[{\"T\":1,\"s\":\"NEWUSDT\",\"S\":\"Buy\",\"v\":\"1\","
                        "\"p\":\"1\"}]}", T0 + 3), 1 + VREJ_UNKNOWN_SYMBOL);
    ck_assert_ptr_null(market_find(M, VENUE_BYBIT, "NEWUSDT"));
    /* A ticker of a new symbol: discovered, and its book follows. */
    ck_assert_int_eq(ws("{\"topic\":\"tickers.SOLUSDT\",\"type\":\"snapshot\",\"ts\":1,"
                        "\"data\":{\"symbol\":\"SOLUSDT\",\"markPrice\":\"150.5\"}}", T0 + 4), 0);
    struct mkt_instr *sol = market_find(M, VENUE_BYBIT, "SOLUSDT");
    ck_assert_ptr_nonnull(sol);
    ck_assert(sol->mark == 150.5);
    ck_assert_int_eq(ws("{\"topic\":\"orderbook.50.SOLUSDT\",\"type\":\"snapshot\",\"ts\":1,"
                        "\"data\":{\"s\":\"SOLUSDT\",\"b\":[[\"150.4\",\"3\"]],"
                        "\"a\":[[\"150.6\",\"2\"]],\"u\":1,\"seq\":1}}", T0 + 5), 0);
    ck_assert(sol->book_valid);
    /* The earlier ones still work after the arrays grew. */
    shared_book();
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 2);
}
END_TEST

START_TEST(test_bad_depth_refused)
{
    struct venue_config cfg;
    lq_err_t err;

    venue_config_default(VENUE_BYBIT, &cfg);
    cfg.book_depth = 25;
    ck_assert_ptr_null(venue_create(&cfg, M, NULL, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "book_depth"));
}
END_TEST

Suite *venue_bybit_suite(void)
{
    Suite *s = suite_create("venue_bybit");
    TCase *tc;

    tc = tcase_create("frames");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_shared_frames);
    tcase_add_test(tc, test_doc_frames);
    tcase_add_test(tc, test_tickers_delta_merge);
    tcase_add_test(tc, test_liquidation_sides);
    tcase_add_test(tc, test_garbage_counted);
    tcase_add_test(tc, test_adl_docs_frames);
    tcase_add_test(tc, test_adl_levels);
    tcase_add_test(tc, test_adl_garbage);
    tcase_add_test(tc, test_adl_subscribe);
    suite_add_tcase(s, tc);

    tc = tcase_create("connection");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_subscribe_on_open);
    tcase_add_test(tc, test_subscribe_split);
    tcase_add_test(tc, test_ping_cadence);
    tcase_add_test(tc, test_bad_depth_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("book_sync");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mid_stream_snapshot_resets);
    tcase_add_test(tc, test_restart_u1);
    tcase_add_test(tc, test_gap_resubscribes);
    tcase_add_test(tc, test_resubscribe_retry_by_tick);
    tcase_add_test(tc, test_duplicate_ignored);
    tcase_add_test(tc, test_crossed_invalidates);
    tcase_add_test(tc, test_close_invalidates);
    tcase_add_test(tc, test_other_depth_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("replay");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_replay_deepest_depth);
    tcase_add_test(tc, test_replay_deepest_first);
    tcase_add_test(tc, test_replay_config_depth);
    tcase_add_test(tc, test_replay_discovers_prints);
    suite_add_tcase(s, tc);
    return s;
}
