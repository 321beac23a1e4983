/*
 * check_venue_hyperliquid.c - the Hyperliquid adapter
 * (src/venue/hyperliquid.c): real frames of every channel, full-snapshot
 * books (crossed invalidates, the next good one revalidates), trades,
 * marks and open interest, ping cadence, garbage counted.
 *
 * Fixtures: tests/fixtures/venues/hyperliquid/ (README.md there names the
 * source of every frame).  Frames written here are synthetic and say so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/instrument.h"
#include "liqmon/market.h"
#include "liqmon/venue.h"
#include "suites.h"

#define FIX "tests/fixtures/venues/hyperliquid/"
#define NS 1000000000LL
#define T0 (1700000000LL * NS)

#include "venue_evr.h"

static market_t *M;
static venue_t *V;

static dec_t D(const char *s)
{
    dec_t d = 0;
    ck_assert_int_eq(dec_parse(s, strlen(s), &d), DEC_OK);
    return d;
}

static void setup(void)
{
    static const char *const files[] = { "conf/instruments/hyperliquid-BTC.json",
                                         "conf/instruments/hyperliquid-ETH.json" };
    lq_err_t err;

    memset(&R, 0, sizeof(R));
    M = market_create();
    ck_assert_ptr_nonnull(M);
    for (size_t i = 0; i < 2; i++) {
        struct instrument spec;
        ck_assert_msg(instrument_load_file(files[i], &spec, &err) == 0, "%s", err.msg);
        ck_assert_ptr_nonnull(market_add(M, VENUE_HYPERLIQUID, &spec, &err));
        instrument_fini(&spec);
    }
    struct venue_config cfg;
    venue_config_default(VENUE_HYPERLIQUID, &cfg);
    struct venue_io io = { NULL, r_emit, r_send, r_get, r_reconn };
    V = venue_create(&cfg, M, &io, &err);
    ck_assert_msg(V != NULL, "venue_create: %s", err.msg);
}

static void teardown(void)
{
    venue_destroy(V);
    market_destroy(M);
}

static struct mkt_instr *I(const char *sym)
{
    struct mkt_instr *in = market_find(M, VENUE_HYPERLIQUID, sym);
    ck_assert_ptr_nonnull(in);
    return in;
}

static int feed(const char *frame, int64_t now)
{
    return venue_on_frame(V, 0, FRAME_WS, NULL, frame, strlen(frame), now);
}

static char **read_lines(const char *path, int *n)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char **lines = NULL, *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    int cnt = 0;
    while ((len = getline(&buf, &cap, f)) > 0) {
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        if (len == 0)
            continue;
        lines = realloc(lines, (size_t)(cnt + 1) * sizeof(*lines));
        lines[cnt++] = strdup(buf);
    }
    free(buf);
    fclose(f);
    *n = cnt;
    return lines;
}

static void free_lines(char **l, int n)
{
    for (int i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

START_TEST(t_conn_and_subscribe)
{
    ck_assert_uint_eq(venue_conn_count(V), 1);
    ck_assert_str_eq(venue_conn_name(V, 0), "public");
    ck_assert_str_eq(venue_conn_url(V, 0), "wss://api.hyperliquid.xyz/ws");
    venue_on_open(V, 0, T0);
    ck_assert_int_eq(R.nsent, 6);
    ck_assert_str_eq(R.sent[0], "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"l2Book\",\"coin\":\"BTC\"}}");
    ck_assert_str_eq(R.sent[1], "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"activeAssetCtx\",\"coin\":\"BTC\"}}");
    ck_assert_str_eq(R.sent[2], "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"trades\",\"coin\":\"BTC\"}}");
    ck_assert_str_eq(R.sent[5], "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"trades\",\"coin\":\"ETH\"}}");
}
END_TEST

START_TEST(t_real_frames)
{
    int n;
    char **l = read_lines(FIX "hl-frames.jsonl", &n);
    struct mkt_instr *btc = I("BTC");
    const struct evr *e;
    const struct venue_stats *st = venue_get_stats(V);

    ck_assert_int_eq(n, 10);
    /* 1: subscription ack */
    ck_assert_int_eq(feed(l[0], T0), 0);
    /* 2: l2Book, 20 levels a side, sizes in coins */
    ck_assert_int_eq(feed(l[1], T0 + 1), 0);
    ck_assert_int_eq(btc->book_valid, 1);
    ck_assert_int_eq(count_feed(FEED_BOOK_VALID), 1);
    e = last_ev(MEV_BOOK_SNAPSHOT);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->nb, 20);
    ck_assert_uint_eq(e->na, 20);
    ck_assert_uint_eq(e->seq, 1751427259657ULL);
    ck_assert_int_eq(e->ts, 1751427259657LL * 1000000);
    struct book_level top;
    ck_assert_int_eq(book_best(btc->book, BOOK_BID, &top), 0);
    ck_assert_double_eq(top.price, 106217.0);
    ck_assert(top.qty == D("0.001"));
    ck_assert_int_eq(book_best(btc->book, BOOK_ASK, &top), 0);
    ck_assert_double_eq(top.price, 106233.0);
    ck_assert(top.qty == D("0.26739"));
    ck_assert(book_qty_at(btc->book, BOOK_BID, 106085.0) == D("1.02207"));
    /* 3: one trade, seller aggressor ("A") */
    ck_assert_int_eq(feed(l[2], T0 + 2), 0);
    e = last_ev(MEV_TRADE);
    ck_assert_double_eq(e->px, 106296.0);
    ck_assert(e->q == D("0.00017"));
    ck_assert_int_eq(e->flag, 0);
    ck_assert_int_eq(e->ts, 1751430933565LL * 1000000);
    /* 4: activeAssetCtx: mark, oracle as index, OI in coins */
    ck_assert_int_eq(feed(l[3], T0 + 3), 0);
    e = last_ev(MEV_MARK);
    ck_assert_double_eq(e->px, 80640.0);
    ck_assert_double_eq(e->px2, 80684.7);
    ck_assert_int_eq(e->ts, 0);
    e = last_ev(MEV_OPEN_INTEREST);
    ck_assert(e->q == D("36295.80812"));
    ck_assert_double_eq(btc->mark, 80640.0);
    ck_assert_double_eq(btc->index, 80684.7);
    ck_assert(btc->open_interest == D("36295.80812"));
    /* 5: two trades, "A" then "B" */
    int before = count_ev(MEV_TRADE);
    ck_assert_int_eq(feed(l[4], T0 + 4), 0);
    ck_assert_int_eq(count_ev(MEV_TRADE), before + 2);
    e = last_ev(MEV_TRADE);
    ck_assert_int_eq(e->flag, 1);
    ck_assert(e->q == D("0.00404"));
    ck_assert_double_eq(e->px, 80640.0);
    /* 6: pong */
    ck_assert_int_eq(feed(l[5], T0 + 5), 0);
    ck_assert_uint_eq(st->rejected, 0);
    /* 7: venue error */
    ck_assert_int_eq(feed(l[6], T0 + 6), 1 + VREJ_VENUE_ERROR);
    /* 8: a coin we do not watch (MATIC) */
    ck_assert_int_eq(feed(l[7], T0 + 7), 1 + VREJ_UNKNOWN_SYMBOL);
    /* 9: another ack */
    ck_assert_int_eq(feed(l[8], T0 + 8), 0);
    /* 10: MATIC ctx with nulls: unknown coin */
    ck_assert_int_eq(feed(l[9], T0 + 9), 1 + VREJ_UNKNOWN_SYMBOL);
    ck_assert_uint_eq(st->rejected, 3);
    ck_assert_uint_eq(st->by_reason[VREJ_VENUE_ERROR], 1);
    ck_assert_uint_eq(st->by_reason[VREJ_UNKNOWN_SYMBOL], 2);
    ck_assert_int_eq(count_ev(MEV_LIQUIDATION), 0);   /* none from this venue */
    free_lines(l, n);
}
END_TEST

/* Synthetic l2Book frames for ETH. */
static const char *eth_book(char *buf, size_t n, const char *bid, const char *ask, long long t)
{
    snprintf(buf, n, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"ETH\",\"time\":%lld,"
             "\"levels\":[[{\"px\":\"%s\",\"sz\":\"1.5\",\"n\":2},{\"px\":\"2999.0\",\"sz\":\"3\",\"n\":1}],"
             "[{\"px\":\"%s\",\"sz\":\"0.25\",\"n\":1}]]}}", t, bid, ask);
    return buf;
}

START_TEST(t_crossed_then_good)
{
    char f[512];
    struct mkt_instr *eth = I("ETH");

    ck_assert_int_eq(feed(eth_book(f, sizeof f, "3000.0", "3000.5", 1000), T0), 0);
    ck_assert_int_eq(eth->book_valid, 1);
    ck_assert_int_eq(count_feed(FEED_BOOK_VALID), 1);
    /* crossed: best bid 3001 >= best ask 3000.5 */
    ck_assert_int_eq(feed(eth_book(f, sizeof f, "3001.0", "3000.5", 1500), T0 + 1), 0);
    ck_assert_int_eq(eth->book_valid, 0);
    ck_assert_str_eq(eth->invalid_reason, "crossed book in snapshot");
    ck_assert_int_eq(count_feed(FEED_BOOK_INVALID), 1);
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), 1);   /* none for the bad one */
    /* crossed again: still invalid, announced once */
    ck_assert_int_eq(feed(eth_book(f, sizeof f, "3000.5", "3000.5", 1600), T0 + 2), 0);
    ck_assert_int_eq(count_feed(FEED_BOOK_INVALID), 1);
    /* the next good snapshot revalidates */
    ck_assert_int_eq(feed(eth_book(f, sizeof f, "3000.0", "3000.5", 2000), T0 + 3), 0);
    ck_assert_int_eq(eth->book_valid, 1);
    ck_assert_int_eq(count_feed(FEED_BOOK_VALID), 2);
    ck_assert_uint_eq(eth->book_seq, 2000);
    ck_assert(book_qty_at(eth->book, BOOK_BID, 3000.0) == D("1.5"));
    ck_assert(book_qty_at(eth->book, BOOK_ASK, 3000.5) == D("0.25"));
    ck_assert_uint_eq(book_level_count(eth->book, BOOK_BID), 2);
    /* connection lost: invalid until the next snapshot */
    venue_on_close(V, 0, T0 + 4);
    ck_assert_int_eq(eth->book_valid, 0);
    ck_assert_str_eq(eth->invalid_reason, "connection closed");
}
END_TEST

START_TEST(t_ping_cadence)
{
    const char *ping = "{\"method\":\"ping\"}";

    venue_tick(V, T0);             /* not open: nothing */
    ck_assert_int_eq(R.nsent, 0);
    venue_on_open(V, 0, T0);
    R.nsent = 0;
    venue_tick(V, T0 + 49 * NS);
    ck_assert_int_eq(R.nsent, 0);
    venue_tick(V, T0 + 50 * NS);
    ck_assert_int_eq(R.nsent, 1);
    ck_assert_str_eq(R.sent[0], ping);
    venue_tick(V, T0 + 51 * NS);
    venue_tick(V, T0 + 99 * NS);
    ck_assert_int_eq(R.nsent, 1);
    venue_tick(V, T0 + 100 * NS);
    ck_assert_int_eq(R.nsent, 2);
    ck_assert_int_eq(feed("{\"channel\":\"pong\"}", T0 + 100 * NS), 0);
    /* every interval, traffic or not */
    for (int s = 101; s <= 300; s++)
        venue_tick(V, T0 + s * NS);
    ck_assert_int_eq(R.nsent, 6);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
}
END_TEST

START_TEST(t_garbage_counted)
{
    const struct venue_stats *st = venue_get_stats(V);

    ck_assert_int_eq(feed("nope", T0), 1 + VREJ_JSON);
    ck_assert_int_eq(feed("[]", T0), 1 + VREJ_SCHEMA);
    ck_assert_int_eq(feed("{\"data\":1}", T0), 1 + VREJ_SCHEMA);
    ck_assert_int_eq(feed("{\"channel\":\"candle\",\"data\":{}}", T0), 1 + VREJ_UNKNOWN_TYPE);
    ck_assert_int_eq(feed("{\"channel\":\"l2Book\",\"data\":{\"coin\":\"BTC\",\"time\":1,\"levels\":[[{\"px\":\"abc\",\"sz\":\"1\",\"n\":1}],[]]}}", T0),
                     1 + VREJ_NUMBER);
    ck_assert_int_eq(feed("{\"channel\":\"l2Book\",\"data\":{\"coin\":\"BTC\",\"time\":1,\"levels\":[[]]}}", T0),
                     1 + VREJ_SCHEMA);
    ck_assert_int_eq(feed("{\"channel\":\"trades\",\"data\":[{\"coin\":\"BTC\",\"side\":\"X\",\"px\":\"1\",\"sz\":\"1\",\"time\":1}]}", T0),
                     1 + VREJ_SCHEMA);
    ck_assert_int_eq(feed("{\"channel\":\"activeAssetCtx\",\"data\":{\"coin\":\"BTC\",\"ctx\":{\"markPx\":null}}}", T0),
                     1 + VREJ_NUMBER);
    ck_assert_uint_eq(st->rejected, 8);
    ck_assert_uint_eq(st->by_reason[VREJ_SCHEMA], 4);
    ck_assert_uint_eq(st->by_reason[VREJ_NUMBER], 2);
    ck_assert_int_eq(count_ev(MEV_TRADE), 0);
    /* still working */
    ck_assert_int_eq(feed("{\"channel\":\"trades\",\"data\":[{\"coin\":\"ETH\",\"side\":\"B\",\"px\":\"3000.5\",\"sz\":\"0.1\",\"time\":1700000000000,\"hash\":\"0x0\",\"tid\":1,\"users\":[\"0x1\",\"0x2\"]}]}", T0), 0);
    ck_assert_int_eq(count_ev(MEV_TRADE), 1);
    ck_assert_int_eq(last_ev(MEV_TRADE)->flag, 1);
    ck_assert(last_ev(MEV_TRADE)->in == I("ETH"));
}
END_TEST

/* Trades with a price or size <= 0 were emitted as trades (found by
 * fuzzing).  Like every other adapter, a non-positive number rejects the
 * frame as VREJ_NUMBER, and a frame is used whole or not at all: one bad
 * trade among good ones emits none. */
static int trade_frame(const char *px, const char *sz)
{
    char f[512];

    snprintf(f, sizeof f, "{\"channel\":\"trades\",\"data\":[{\"coin\":\"ETH\",\"side\":\"B\","
             "\"px\":\"%s\",\"sz\":\"%s\",\"time\":1700000000000,\"hash\":\"0x0\",\"tid\":1}]}",
             px, sz);
    return feed(f, T0);
}

START_TEST(t_trade_non_positive_rejected)
{
    const struct venue_stats *st = venue_get_stats(V);
    static const char *const bad[][2] = {
        { "-5", "0" }, { "0", "1" }, { "-0", "1" }, { "0.0", "1" }, { "-3000.5", "0.1" },
        { "3000.5", "0" }, { "3000.5", "-0.1" }, { "3000.5", "0.000000001" },
        { "3000.5", "-0" },
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(trade_frame(bad[i][0], bad[i][1]) == 1 + VREJ_NUMBER,
                      "px %s sz %s not rejected as a number", bad[i][0], bad[i][1]);
    ck_assert_int_eq(count_ev(MEV_TRADE), 0);
    ck_assert_uint_eq(st->rejected, sizeof(bad) / sizeof(bad[0]));
    ck_assert_uint_eq(st->by_reason[VREJ_NUMBER], sizeof(bad) / sizeof(bad[0]));
    /* also as JSON numbers, not strings */
    ck_assert_int_eq(feed("{\"channel\":\"trades\",\"data\":[{\"coin\":\"ETH\",\"side\":\"A\","
                          "\"px\":-5,\"sz\":0,\"time\":1700000000000}]}", T0),
                     1 + VREJ_NUMBER);
    /* a good trade then a bad one: the frame is refused whole */
    ck_assert_int_eq(feed("{\"channel\":\"trades\",\"data\":["
                          "{\"coin\":\"ETH\",\"side\":\"B\",\"px\":\"3000.5\",\"sz\":\"0.1\",\"time\":1},"
                          "{\"coin\":\"ETH\",\"side\":\"A\",\"px\":\"3000\",\"sz\":\"0\",\"time\":2}]}", T0),
                     1 + VREJ_NUMBER);
    /* even when the bad trade is for a coin we do not watch */
    ck_assert_int_eq(feed("{\"channel\":\"trades\",\"data\":["
                          "{\"coin\":\"ETH\",\"side\":\"B\",\"px\":\"3000.5\",\"sz\":\"0.1\",\"time\":1},"
                          "{\"coin\":\"MATIC\",\"side\":\"A\",\"px\":\"-1\",\"sz\":\"5\",\"time\":2}]}", T0),
                     1 + VREJ_NUMBER);
    ck_assert_int_eq(count_ev(MEV_TRADE), 0);
    /* positive ones still go through */
    ck_assert_int_eq(trade_frame("3000.5", "0.1"), 0);
    ck_assert_int_eq(trade_frame("0.00000001", "0.00000001"), 0);
    ck_assert_int_eq(count_ev(MEV_TRADE), 2);
    ck_assert(last_ev(MEV_TRADE)->q == D("0.00000001"));
}
END_TEST

Suite *venue_hyperliquid_suite(void)
{
    Suite *s = suite_create("venue_hyperliquid");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, t_conn_and_subscribe);
    tcase_add_test(tc, t_real_frames);
    tcase_add_test(tc, t_crossed_then_good);
    tcase_add_test(tc, t_ping_cadence);
    tcase_add_test(tc, t_garbage_counted);
    tcase_add_test(tc, t_trade_non_positive_rejected);
    suite_add_tcase(s, tc);
    return s;
}
