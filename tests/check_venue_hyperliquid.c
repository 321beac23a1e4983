/*
 * check_venue_hyperliquid.c - the Hyperliquid adapter
 * (src/venue/hyperliquid.c): real frames of every channel, full-snapshot
 * books (crossed invalidates, the next good one revalidates), trades,
 * marks and open interest, ping cadence, garbage counted; the two
 * connections ("public": full precision, "agg": nSigFigs 2) and the merge
 * of their books (exact top kept, coarse levels beyond, the straddling
 * bucket cut, never more depth than the true book at any price, either
 * feed first, one feed stale or gone, crossed and bad frames), and a
 * capture of both feeds replayed: the same book every time, reaching
 * beyond 5% on both sides.
 *
 * Fixtures: tests/fixtures/venues/hyperliquid/ (README.md there names the
 * source of every frame).  Frames written here are synthetic and say so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/capture.h"
#include "liqmon/instrument.h"
#include "liqmon/log.h"
#include "liqmon/market.h"
#include "liqmon/render.h"
#include "liqmon/replay.h"
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

/* conn 0 "public" (full precision), 1 "agg" (nSigFigs 2) */
static int feedc(int conn, const char *frame, int64_t now)
{
    return venue_on_frame(V, conn, FRAME_WS, NULL, frame, strlen(frame), now);
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

/* Two connections to the one URL: the frames of the two l2Book
 * subscriptions cannot be told apart, so each precision has its own. */
START_TEST(t_conn_and_subscribe)
{
    ck_assert_uint_eq(venue_conn_count(V), 2);
    ck_assert_str_eq(venue_conn_name(V, 0), "public");
    ck_assert_str_eq(venue_conn_url(V, 0), "wss://api.hyperliquid.xyz/ws");
    ck_assert_str_eq(venue_conn_name(V, 1), "agg");
    ck_assert_str_eq(venue_conn_url(V, 1), "wss://api.hyperliquid.xyz/ws");
    ck_assert_int_eq(venue_conn_index(V, "agg"), 1);
    venue_on_open(V, 0, T0);
    ck_assert_int_eq(R.nsent, 6);
    ck_assert_str_eq(R.sent[0], "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"l2Book\",\"coin\":\"BTC\"}}");
    ck_assert_str_eq(R.sent[1], "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"activeAssetCtx\",\"coin\":\"BTC\"}}");
    ck_assert_str_eq(R.sent[2], "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"trades\",\"coin\":\"BTC\"}}");
    ck_assert_str_eq(R.sent[5], "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"trades\",\"coin\":\"ETH\"}}");
    /* "agg": one subscription per coin, 4 in all per coin (limit: 1000 per IP) */
    venue_on_open(V, 1, T0);
    ck_assert_int_eq(R.nsent, 8);
    ck_assert_str_eq(R.sent[6], "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"l2Book\",\"coin\":\"BTC\",\"nSigFigs\":2}}");
    ck_assert_str_eq(R.sent[7], "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"l2Book\",\"coin\":\"ETH\",\"nSigFigs\":2}}");
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

/* Both connections are pinged, each on its own clock. */
START_TEST(t_ping_both_connections)
{
    venue_on_open(V, 0, T0);
    venue_on_open(V, 1, T0 + 10 * NS);
    R.nsent = 0;
    venue_tick(V, T0 + 50 * NS);
    ck_assert_int_eq(R.nsent, 1);
    venue_tick(V, T0 + 60 * NS);
    ck_assert_int_eq(R.nsent, 2);
    ck_assert_str_eq(R.sent[1], "{\"method\":\"ping\"}");
    venue_on_close(V, 1, T0 + 61 * NS);
    venue_tick(V, T0 + 150 * NS);
    ck_assert_int_eq(R.nsent, 3);         /* "public" only */
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

/* ---- the aggregated book: real frames ---------------------------------- */

static size_t levels_of(const struct mkt_instr *in, enum book_side side,
                        struct book_level *out, size_t max)
{
    return book_copy_levels(in->book, side, out, max);
}

/* The only real aggregated frame found (nSigFigs 3, 100-wide buckets;
 * its source shows 2 bids and 1 ask), on the "agg" connection, then a
 * full-precision frame of that moment, which is synthetic (said so):
 * bids 64412 1.0, 64405 2.0, 64401 0.5; asks 64413 0.5, 64420 1.0, all
 * inside the real buckets 64400 (bids, [64400, 64500)) and 64500 (asks,
 * (64400, 64500]). */
START_TEST(t_real_agg_frames)
{
    int n;
    char **l = read_lines(FIX "hl-agg-frames.jsonl", &n);
    struct mkt_instr *btc = I("BTC");
    struct book_level lv[64];
    const struct venue_stats *st = venue_get_stats(V);

    ck_assert_int_eq(n, 4);
    ck_assert_int_eq(feedc(1, l[0], T0), 0);              /* echo, nSigFigs 3 */
    ck_assert_int_eq(feedc(1, l[1], T0 + 1), 0);          /* the buckets */
    /* alone, an aggregated book is no book */
    ck_assert_int_eq(btc->book_valid, 0);
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), 0);
    ck_assert_uint_eq(book_level_count(btc->book, BOOK_BID), 0);
    ck_assert_int_eq(feedc(0, l[2], T0 + 2), 0);          /* ctx, on "public" */
    ck_assert_double_eq(btc->mark, 64405.0);
    ck_assert_int_eq(feedc(0, l[3], T0 + 3), 0);          /* echo, full precision */
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), 0);

    /* synthetic full-precision frame of the same moment */
    ck_assert_int_eq(feedc(0, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"BTC\",\"time\":1781416960522,"
                              "\"levels\":[[{\"px\":\"64412.0\",\"sz\":\"1.0\",\"n\":1},{\"px\":\"64405.0\",\"sz\":\"2.0\",\"n\":2},"
                              "{\"px\":\"64401.0\",\"sz\":\"0.5\",\"n\":1}],"
                              "[{\"px\":\"64413.0\",\"sz\":\"0.5\",\"n\":1},{\"px\":\"64420.0\",\"sz\":\"1.0\",\"n\":1}]]}}",
                     T0 + 4), 0);
    ck_assert_int_eq(btc->book_valid, 1);
    ck_assert_int_eq(count_feed(FEED_BOOK_VALID), 1);
    /* bids: the exact three, then the straddling bucket 64400 less what
     * they show of it (3.72067 - 3.5), then 64300 whole */
    ck_assert_uint_eq(levels_of(btc, BOOK_BID, lv, 64), 5);
    ck_assert_double_eq(lv[0].price, 64412.0);
    ck_assert_double_eq(lv[2].price, 64401.0);
    ck_assert(lv[2].qty == D("0.5"));
    ck_assert_double_eq(lv[3].price, 64400.0);
    ck_assert(lv[3].qty == D("0.22067"));
    ck_assert_double_eq(lv[4].price, 64300.0);
    ck_assert(lv[4].qty == D("599.29336"));
    /* asks: the exact two, then bucket 64500 less them (2.1 - 1.5) */
    ck_assert_uint_eq(levels_of(btc, BOOK_ASK, lv, 64), 3);
    ck_assert_double_eq(lv[1].price, 64420.0);
    ck_assert_double_eq(lv[2].price, 64500.0);
    ck_assert(lv[2].qty == D("0.6"));
    /* depth to every exact level is the full-precision book's */
    ck_assert(book_depth_to(btc->book, BOOK_BID, 64401.0) == D("3.5"));
    ck_assert(book_depth_to(btc->book, BOOK_BID, 64400.0) == D("3.72067"));
    ck_assert(book_depth_to(btc->book, BOOK_ASK, 64500.0) == D("2.1"));
    const struct evr *e = last_ev(MEV_BOOK_SNAPSHOT);
    ck_assert_uint_eq(e->nb, 5);
    ck_assert_uint_eq(e->na, 3);
    ck_assert_uint_eq(e->seq, 1781416960522ULL);
    ck_assert_uint_eq(st->rejected, 0);
    free_lines(l, n);
}
END_TEST

/* ---- the merge against a known book --------------------------------------
 * Synthetic (said so): a true book, its top 20 levels as a full-precision
 * frame and its buckets as Hyperliquid makes them (order_book_server
 * levels.rs: step 10^(digits - nSigFigs) of the price's integer
 * representation, bids rounded down, asks up, the top 20 buckets) as the
 * aggregated frame, both of one moment. */

#define TB_MAX 400

struct tlv {
    int64_t u;          /* price, units of 10^-pdec */
    int64_t q;          /* size, lots of 10^-qdec */
};

struct tbook {
    int pdec, qdec;
    struct tlv lv[2][TB_MAX];   /* true book, best first */
    int n[2];
    struct tlv bk[2][20];       /* its buckets (nSigFigs 2), best first */
    int nbk[2];
};

static int ndig(int64_t v)
{
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

static int64_t bucket2(int64_t u, int side)
{
    int64_t inc = 1;
    for (int k = ndig(u) - 2; k > 0; k--)
        inc *= 10;
    return side == BOOK_BID ? u / inc * inc : (u + inc - 1) / inc * inc;
}

static void tb_buckets(struct tbook *tb)
{
    for (int s = 0; s < 2; s++) {
        int k = -1;
        for (int i = 0; i < tb->n[s]; i++) {
            int64_t u = tb->lv[s][i].u;
            if (k < 0 || (s == BOOK_BID ? u < tb->bk[s][k].u : u > tb->bk[s][k].u)) {
                if (k == 19)
                    break;
                k++;
                tb->bk[s][k].u = bucket2(u, s);
                tb->bk[s][k].q = 0;
            }
            tb->bk[s][k].q += tb->lv[s][i].q;
        }
        tb->nbk[s] = k + 1;
    }
}

/* A random book around center (price units). */
static void tb_random(struct tbook *tb, struct trng *r, int pdec, int qdec,
                      int64_t center)
{
    tb->pdec = pdec;
    tb->qdec = qdec;
    for (int s = 0; s < 2; s++) {
        int dir = s == BOOK_BID ? -1 : 1;
        int64_t u = center + dir * (int64_t)(1 + trng_below(r, 3));
        int n = 60 + (int)trng_below(r, TB_MAX - 60);
        tb->n[s] = 0;
        for (int i = 0; i < n && u > 0; i++) {
            tb->lv[s][tb->n[s]].u = u;
            tb->lv[s][tb->n[s]].q = 1 + (int64_t)trng_below(r, 300000);
            tb->n[s]++;
            u += dir * (int64_t)(1 + trng_below(r, (uint64_t)(2 + i * center / 200000)));
        }
    }
    tb_buckets(tb);
}

static void fmt_units(char *buf, size_t n, int64_t v, int dec, int hl_dot0)
{
    int64_t p = 1;
    for (int k = 0; k < dec; k++)
        p *= 10;
    if (dec == 0)
        snprintf(buf, n, "%lld%s", (long long)v, hl_dot0 ? ".0" : "");
    else
        snprintf(buf, n, "%lld.%0*lld", (long long)(v / p), dec, (long long)(v % p));
}

static double tb_px(const struct tbook *tb, int64_t u)
{
    char b[48];
    fmt_units(b, sizeof b, u, tb->pdec, 1);
    return strtod(b, NULL);
}

static dec_t tb_qty(const struct tbook *tb, int64_t q)
{
    char b[48];
    fmt_units(b, sizeof b, q, tb->qdec, 0);
    return D(b);
}

/* One frame: levels[s] = lv[s][0..n[s]) */
static char *tb_frame(const struct tbook *tb, const char *coin, long long ms,
                      const struct tlv *const lv[2], const int n[2])
{
    size_t cap = 256 + 80 * (size_t)(n[0] + n[1]), len = 0;
    char *f = malloc(cap), p[48], q[48];
    len += (size_t)snprintf(f + len, cap - len, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"%s\","
                            "\"time\":%lld,\"levels\":[", coin, ms);
    for (int s = 0; s < 2; s++) {
        len += (size_t)snprintf(f + len, cap - len, "%s[", s ? "," : "");
        for (int i = 0; i < n[s]; i++) {
            fmt_units(p, sizeof p, lv[s][i].u, tb->pdec, 1);
            fmt_units(q, sizeof q, lv[s][i].q, tb->qdec, 0);
            len += (size_t)snprintf(f + len, cap - len, "%s{\"px\":\"%s\",\"sz\":\"%s\",\"n\":1}",
                                    i ? "," : "", p, q);
        }
        len += (size_t)snprintf(f + len, cap - len, "]");
    }
    snprintf(f + len, cap - len, "]}}");
    return f;
}

static char *tb_full(const struct tbook *tb, const char *coin, long long ms)
{
    const struct tlv *lv[2] = { tb->lv[0], tb->lv[1] };
    int n[2] = { tb->n[0] < 20 ? tb->n[0] : 20, tb->n[1] < 20 ? tb->n[1] : 20 };
    return tb_frame(tb, coin, ms, lv, n);
}

static char *tb_agg(const struct tbook *tb, const char *coin, long long ms)
{
    const struct tlv *lv[2] = { tb->bk[0], tb->bk[1] };
    return tb_frame(tb, coin, ms, lv, tb->nbk);
}

/* qty of the true book at price u or better */
static dec_t tb_depth(const struct tbook *tb, int s, int64_t u)
{
    int64_t q = 0;
    for (int i = 0; i < tb->n[s]; i++)
        if (s == BOOK_BID ? tb->lv[s][i].u >= u : tb->lv[s][i].u <= u)
            q += tb->lv[s][i].q;
    return tb_qty(tb, q);
}

/* What the merged book must be, against the true one, side s. */
static void check_merged(const struct tbook *tb, const struct mkt_instr *in, int s)
{
    static struct book_level lv[TB_MAX + 64];
    size_t n = levels_of(in, (enum book_side)s, lv, TB_MAX + 64);
    int nf = tb->n[s] < 20 ? tb->n[s] : 20;
    int64_t last = tb->lv[s][nf - 1].u;
    double lastpx = tb_px(tb, last);
    int64_t floor_u = tb->bk[s][tb->nbk[s] - 1].u;     /* the last bucket's price */
    size_t exact = 0;

    /* the exact top: the 20 levels, nothing else at or above L */
    for (size_t k = 0; k < n; k++)
        exact += s == BOOK_BID ? lv[k].price >= lastpx : lv[k].price <= lastpx;
    TCHECK((int)exact == nf, "seed %llu side %d: %zu levels in the exact range, want %d",
           (unsigned long long)test_seed(), s, exact, nf);
    for (int i = 0; i < nf; i++) {
        double px = tb_px(tb, tb->lv[s][i].u);
        TCHECK(lv[i].price == px && lv[i].qty == tb_qty(tb, tb->lv[s][i].q),
               "seed %llu side %d level %d: %.1f, want %.1f", (unsigned long long)test_seed(),
               s, i, lv[i].price, px);
    }
    /* beyond L: bucket prices only */
    for (size_t k = (size_t)nf; k < n; k++) {
        int found = 0;
        for (int b = 0; b < tb->nbk[s]; b++)
            found |= tb_px(tb, tb->bk[s][b].u) == lv[k].price;
        TCHECK(found, "seed %llu side %d: %.1f is no bucket", (unsigned long long)test_seed(),
               s, lv[k].price);
    }
    /* never more depth than the true book at any price; exactly the true
     * depth at every level of the exact range and at every bucket's price */
    for (int i = 0; i < tb->n[s]; i++) {
        int64_t u = tb->lv[s][i].u;
        if (s == BOOK_BID ? u < floor_u : u > floor_u)
            break;
        dec_t mine = book_depth_to(in->book, (enum book_side)s, tb_px(tb, u));
        dec_t truth = tb_depth(tb, s, u);
        TCHECK(mine <= truth, "seed %llu side %d: depth to %.1f overstated",
               (unsigned long long)test_seed(), s, tb_px(tb, u));
        if (i < nf)
            TCHECK(mine == truth, "seed %llu side %d: depth to exact level %.1f differs",
                   (unsigned long long)test_seed(), s, tb_px(tb, u));
    }
    for (int b = 0; b < tb->nbk[s]; b++) {
        int64_t u = tb->bk[s][b].u;
        dec_t mine = book_depth_to(in->book, (enum book_side)s, tb_px(tb, u));
        if (s == BOOK_BID ? u >= last : u <= last)
            continue;           /* inside the exact range: checked above */
        TCHECK(mine == tb_depth(tb, s, u), "seed %llu side %d: depth to bucket %.1f "
               "differs (double count or loss)", (unsigned long long)test_seed(), s,
               tb_px(tb, u));
    }
}

static struct tbook TB;

START_TEST(t_merge_against_true_book)
{
    /* ETH near 3000 (tick 0.1: buckets of 100.0); BTC just below and just
     * above 100000, where the bucket width changes from 1000 to 10000 */
    static const struct { const char *coin; int pdec, qdec; int64_t center; } cases[] = {
        { "ETH", 1, 4, 30000 }, { "BTC", 0, 5, 99700 }, { "BTC", 0, 5, 100300 },
    };
    struct trng r;

    trng_init(&r, "hl-merge");
    for (int round = 0; round < 60; round++) {
        int c = round % 3;
        struct mkt_instr *in = I(cases[c].coin);
        tb_random(&TB, &r, cases[c].pdec, cases[c].qdec, cases[c].center);
        char *full = tb_full(&TB, cases[c].coin, 1700000000000LL + round);
        char *agg = tb_agg(&TB, cases[c].coin, 1700000000000LL + round);
        int64_t now = T0 + round * NS;
        TCHECK_INT(feedc(0, full, now), 0);
        TCHECK_INT(feedc(1, agg, now + 1), 0);
        TCHECK_INT(in->book_valid, 1);
        check_merged(&TB, in, BOOK_BID);
        check_merged(&TB, in, BOOK_ASK);
        free(full);
        free(agg);
    }
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
}
END_TEST

/* Whichever feed comes first, the same book; the aggregated one alone is
 * kept, not applied. */
START_TEST(t_merge_either_feed_first)
{
    struct trng r;
    struct mkt_instr *eth = I("ETH");
    static struct book_level a[2][TB_MAX + 64], b[2][TB_MAX + 64];
    size_t na[2], nb[2];

    trng_init(&r, "hl-order");
    tb_random(&TB, &r, 1, 4, 30000);
    char *full = tb_full(&TB, "ETH", 1700000000000LL);
    char *agg = tb_agg(&TB, "ETH", 1700000000100LL);

    /* full first: valid at once (the exact 20 levels), deeper with agg */
    ck_assert_int_eq(feedc(0, full, T0), 0);
    ck_assert_int_eq(eth->book_valid, 1);
    ck_assert_uint_eq(book_level_count(eth->book, BOOK_BID), 20);
    ck_assert_int_eq(feedc(1, agg, T0 + NS), 0);
    ck_assert_uint_gt(book_level_count(eth->book, BOOK_BID), 20);
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), 2);
    ck_assert_uint_eq(eth->book_seq, 1700000000100ULL);   /* the frame applied last */
    for (int s = 0; s < 2; s++)
        na[s] = levels_of(eth, (enum book_side)s, a[s], TB_MAX + 64);

    /* agg first, on a fresh adapter and market */
    teardown();
    setup();
    eth = I("ETH");
    ck_assert_int_eq(feedc(1, agg, T0), 0);
    ck_assert_int_eq(eth->book_valid, 0);
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), 0);
    ck_assert_int_eq(count_feed(FEED_BOOK_VALID), 0);
    ck_assert_int_eq(feedc(0, full, T0 + NS), 0);
    ck_assert_int_eq(eth->book_valid, 1);
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), 1);
    ck_assert_int_eq(count_feed(FEED_BOOK_VALID), 1);
    for (int s = 0; s < 2; s++) {
        nb[s] = levels_of(eth, (enum book_side)s, b[s], TB_MAX + 64);
        ck_assert_uint_eq(na[s], nb[s]);
        for (size_t k = 0; k < na[s]; k++)
            ck_assert(a[s][k].price == b[s][k].price && a[s][k].qty == b[s][k].qty);
    }
    check_merged(&TB, eth, BOOK_BID);
    check_merged(&TB, eth, BOOK_ASK);
    free(full);
    free(agg);
}
END_TEST

/* Synthetic ETH frames: full precision 3000.0 / 3000.5 (and a crossed
 * one), buckets of 100 (bids 3000.0, 2900.0; asks 3100.0, 3200.0). */
static const char ETH_FULL[] =
    "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"ETH\",\"time\":1000,\"levels\":["
    "[{\"px\":\"3000.0\",\"sz\":\"1.5\",\"n\":2},{\"px\":\"2999.0\",\"sz\":\"3\",\"n\":1}],"
    "[{\"px\":\"3000.5\",\"sz\":\"0.25\",\"n\":1},{\"px\":\"3001.0\",\"sz\":\"1\",\"n\":1}]]}}";
static const char ETH_FULL_CROSSED[] =
    "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"ETH\",\"time\":1500,\"levels\":["
    "[{\"px\":\"3001.0\",\"sz\":\"1.5\",\"n\":2}],[{\"px\":\"3000.5\",\"sz\":\"0.25\",\"n\":1}]]}}";
static const char ETH_AGG[] =
    "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"ETH\",\"time\":1000,\"levels\":["
    "[{\"px\":\"3000.0\",\"sz\":\"4.5\",\"n\":3},{\"px\":\"2900.0\",\"sz\":\"20\",\"n\":9}],"
    "[{\"px\":\"3100.0\",\"sz\":\"7.25\",\"n\":5},{\"px\":\"3200.0\",\"sz\":\"30\",\"n\":8}]]}}";

START_TEST(t_merge_crossed_and_bad)
{
    struct mkt_instr *eth = I("ETH");
    const struct venue_stats *st = venue_get_stats(V);
    struct book_level lv[16];

    /* a crossed full snapshot: invalid, and the aggregated one does not
     * make it valid */
    ck_assert_int_eq(feedc(0, ETH_FULL_CROSSED, T0), 0);
    ck_assert_int_eq(eth->book_valid, 0);
    ck_assert_int_eq(feedc(1, ETH_AGG, T0 + 1), 0);
    ck_assert_int_eq(eth->book_valid, 0);
    ck_assert_int_eq(count_feed(FEED_BOOK_VALID), 0);
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), 0);
    /* the next good one: valid, merged.  Bids: 3000.0 x 1.5 and 2999.0 x 3
     * exact (L = 2999.0); bucket 3000.0, at or above L, dropped (U =
     * 3000.0); bucket 2900.0, the first below L, cut by the full bids
     * below U (2999.0 x 3) to 17.  Asks: L = 3001.0; bucket 3100.0, the
     * first above L, none dropped, cut by every full ask (1.25) to 6. */
    ck_assert_int_eq(feedc(0, ETH_FULL, T0 + 2), 0);
    ck_assert_int_eq(eth->book_valid, 1);
    ck_assert_int_eq(count_feed(FEED_BOOK_VALID), 1);
    ck_assert_uint_eq(levels_of(eth, BOOK_BID, lv, 16), 3);
    ck_assert_double_eq(lv[2].price, 2900.0);
    ck_assert(lv[2].qty == D("17"));
    ck_assert_uint_eq(levels_of(eth, BOOK_ASK, lv, 16), 4);
    ck_assert_double_eq(lv[2].price, 3100.0);
    ck_assert(lv[2].qty == D("6"));
    ck_assert_double_eq(lv[3].price, 3200.0);
    ck_assert(lv[3].qty == D("30"));
    ck_assert_uint_eq(st->rejected, 0);

    /* bad aggregated frames are rejected, counted, and change nothing */
    int snaps = count_ev(MEV_BOOK_SNAPSHOT);
    ck_assert_int_eq(feedc(1, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"ETH\",\"time\":2000,\"levels\":["
                              "[{\"px\":\"3100.0\",\"sz\":\"1\",\"n\":1}],[{\"px\":\"3000.0\",\"sz\":\"1\",\"n\":1}]]}}",
                           T0 + 3), 1 + VREJ_NUMBER);                  /* crossed */
    ck_assert_int_eq(feedc(1, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"ETH\",\"time\":2000,\"levels\":["
                              "[{\"px\":\"2900.0\",\"sz\":\"1\",\"n\":1},{\"px\":\"3000.0\",\"sz\":\"1\",\"n\":1}],[]]}}",
                           T0 + 4), 1 + VREJ_NUMBER);                  /* out of order */
    ck_assert_int_eq(feedc(1, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"ETH\",\"time\":2000,\"levels\":["
                              "[{\"px\":\"2900.0\",\"sz\":\"1\",\"n\":1},{\"px\":\"2900.0\",\"sz\":\"1\",\"n\":1}],[]]}}",
                           T0 + 5), 1 + VREJ_NUMBER);                  /* a price twice */
    ck_assert_int_eq(feedc(1, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"ETH\",\"time\":2000,\"levels\":["
                              "[{\"px\":\"-1\",\"sz\":\"1\",\"n\":1}],[]]}}", T0 + 6), 1 + VREJ_NUMBER);
    ck_assert_int_eq(feedc(1, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"ETH\",\"time\":2000,\"levels\":[[]]}}",
                           T0 + 7), 1 + VREJ_SCHEMA);
    ck_assert_int_eq(feedc(1, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"DOGE\",\"time\":2000,\"levels\":[[],[]]}}",
                           T0 + 8), 1 + VREJ_UNKNOWN_SYMBOL);
    ck_assert_uint_eq(st->rejected, 6);
    ck_assert_uint_eq(st->by_reason[VREJ_NUMBER], 4);
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), snaps);
    ck_assert_uint_eq(levels_of(eth, BOOK_BID, lv, 16), 3);
    ck_assert_int_eq(eth->book_valid, 1);
    /* the last good aggregated snapshot is still the one merged */
    ck_assert_int_eq(feedc(0, ETH_FULL, T0 + 9), 0);
    ck_assert_uint_eq(levels_of(eth, BOOK_BID, lv, 16), 3);

    /* "public" lost: invalid; aggregated frames alone do not bring it back */
    venue_on_close(V, 0, T0 + 10);
    ck_assert_int_eq(eth->book_valid, 0);
    ck_assert_str_eq(eth->invalid_reason, "connection closed");
    snaps = count_ev(MEV_BOOK_SNAPSHOT);
    ck_assert_int_eq(feedc(1, ETH_AGG, T0 + 11), 0);
    ck_assert_int_eq(eth->book_valid, 0);
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), snaps);
    ck_assert_int_eq(feedc(0, ETH_FULL, T0 + 12), 0);
    ck_assert_int_eq(eth->book_valid, 1);
    ck_assert_uint_eq(levels_of(eth, BOOK_BID, lv, 16), 3);
    ck_assert_int_eq(count_feed(FEED_BOOK_VALID), 2);
    ck_assert_int_eq(count_feed(FEED_BOOK_INVALID), 1);

    /* a full snapshot crossing after a merge: invalid again, and an
     * aggregated frame does not change that */
    ck_assert_int_eq(feedc(0, ETH_FULL_CROSSED, T0 + 13), 0);
    ck_assert_int_eq(eth->book_valid, 0);
    ck_assert_str_eq(eth->invalid_reason, "crossed book in snapshot");
    ck_assert_int_eq(feedc(1, ETH_AGG, T0 + 14), 0);
    ck_assert_int_eq(eth->book_valid, 0);
    ck_assert_int_eq(count_feed(FEED_BOOK_INVALID), 2);
}
END_TEST

/* A bucket priced exactly at the last full-precision level holds only
 * orders the full frame shows (bids: [3000.0, 3100.0)): dropped, even when
 * the two snapshots disagree on it (3.5 against 2.5: skew between the two
 * connections), and the next bucket down is not cut (nothing of the full
 * frame is below U = 3000.0).  Synthetic frames. */
START_TEST(t_merge_bucket_at_last_level)
{
    struct mkt_instr *eth = I("ETH");
    struct book_level lv[8];

    ck_assert_int_eq(feedc(0, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"ETH\",\"time\":1,\"levels\":["
                              "[{\"px\":\"3000.5\",\"sz\":\"2\",\"n\":1},{\"px\":\"3000.0\",\"sz\":\"0.5\",\"n\":1}],"
                              "[{\"px\":\"3001.0\",\"sz\":\"1\",\"n\":1},{\"px\":\"3100.0\",\"sz\":\"4\",\"n\":1}]]}}",
                           T0), 0);
    ck_assert_int_eq(feedc(1, "{\"channel\":\"l2Book\",\"data\":{\"coin\":\"ETH\",\"time\":1,\"levels\":["
                              "[{\"px\":\"3000.0\",\"sz\":\"3.5\",\"n\":3},{\"px\":\"2900.0\",\"sz\":\"9\",\"n\":3}],"
                              "[{\"px\":\"3100.0\",\"sz\":\"5\",\"n\":2},{\"px\":\"3200.0\",\"sz\":\"8\",\"n\":3}]]}}",
                           T0 + 1), 0);
    ck_assert_uint_eq(levels_of(eth, BOOK_BID, lv, 8), 3);
    ck_assert_double_eq(lv[1].price, 3000.0);
    ck_assert(lv[1].qty == D("0.5"));           /* the exact size, not the bucket's */
    ck_assert_double_eq(lv[2].price, 2900.0);
    ck_assert(lv[2].qty == D("9"));
    ck_assert_uint_eq(levels_of(eth, BOOK_ASK, lv, 8), 3);
    ck_assert_double_eq(lv[1].price, 3100.0);
    ck_assert(lv[1].qty == D("4"));
    ck_assert_double_eq(lv[2].price, 3200.0);
    ck_assert(lv[2].qty == D("8"));
}
END_TEST

/* The two feeds are merged only while their snapshots are received at
 * most 15 s apart; a connection that closes takes its levels with it. */
START_TEST(t_merge_feed_stale_or_gone)
{
    struct mkt_instr *eth = I("ETH");
    int snaps;

    ck_assert_int_eq(feedc(0, ETH_FULL, T0), 0);
    ck_assert_int_eq(feedc(1, ETH_AGG, T0 + NS), 0);
    ck_assert_uint_eq(book_level_count(eth->book, BOOK_BID), 3);
    /* the aggregated feed falls silent: 15 s on, still merged; past that,
     * the next full snapshot is applied alone */
    ck_assert_int_eq(feedc(0, ETH_FULL, T0 + 16 * NS), 0);
    ck_assert_uint_eq(book_level_count(eth->book, BOOK_BID), 3);
    ck_assert_int_eq(feedc(0, ETH_FULL, T0 + 17 * NS), 0);
    ck_assert_uint_eq(book_level_count(eth->book, BOOK_BID), 2);
    ck_assert_uint_eq(book_level_count(eth->book, BOOK_ASK), 2);
    ck_assert_int_eq(eth->book_valid, 1);
    /* it comes back: merged again */
    ck_assert_int_eq(feedc(1, ETH_AGG, T0 + 18 * NS), 0);
    ck_assert_uint_eq(book_level_count(eth->book, BOOK_BID), 3);
    /* the full feed falls silent (last at 17 s): an aggregated snapshot
     * more than 15 s younger is not merged onto it; the book goes back
     * to the full levels once, then stays */
    ck_assert_int_eq(feedc(1, ETH_AGG, T0 + 32 * NS), 0);
    ck_assert_uint_eq(book_level_count(eth->book, BOOK_BID), 3);
    snaps = count_ev(MEV_BOOK_SNAPSHOT);
    ck_assert_int_eq(feedc(1, ETH_AGG, T0 + 33 * NS), 0);
    ck_assert_uint_eq(book_level_count(eth->book, BOOK_BID), 2);
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), snaps + 1);
    ck_assert_int_eq(feedc(1, ETH_AGG, T0 + 34 * NS), 0);
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), snaps + 1);
    ck_assert_int_eq(eth->book_valid, 1);
    /* the full feed is back: merged */
    ck_assert_int_eq(feedc(0, ETH_FULL, T0 + 35 * NS), 0);
    ck_assert_uint_eq(book_level_count(eth->book, BOOK_BID), 3);
    /* "agg" closes: the full levels alone, still valid, no invalid event */
    snaps = count_ev(MEV_BOOK_SNAPSHOT);
    venue_on_close(V, 1, T0 + 36 * NS);
    ck_assert_int_eq(eth->book_valid, 1);
    ck_assert_uint_eq(book_level_count(eth->book, BOOK_BID), 2);
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), snaps + 1);
    ck_assert_int_eq(count_feed(FEED_BOOK_INVALID), 0);
    /* and BTC, never merged, was not touched */
    ck_assert_int_eq(I("BTC")->book_valid, 0);
    /* the full feed goes on alone until "agg" is back */
    ck_assert_int_eq(feedc(0, ETH_FULL, T0 + 37 * NS), 0);
    ck_assert_uint_eq(book_level_count(eth->book, BOOK_BID), 2);
    ck_assert_int_eq(feedc(1, ETH_AGG, T0 + 38 * NS), 0);
    ck_assert_uint_eq(book_level_count(eth->book, BOOK_BID), 3);
    /* "public" closes: invalid */
    venue_on_close(V, 0, T0 + 39 * NS);
    ck_assert_int_eq(eth->book_valid, 0);
    ck_assert_int_eq(count_feed(FEED_BOOK_INVALID), 1);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
}
END_TEST

/* "agg" carries books only: trades or marks there would be counted twice
 * (a server that sends everything everywhere, as liqmon-venue --play
 * does), so they are rejected; a frame of no connection is full
 * precision (captures from before the second connection). */
START_TEST(t_agg_connection_carries_books_only)
{
    const struct venue_stats *st = venue_get_stats(V);
    static const char trade[] = "{\"channel\":\"trades\",\"data\":[{\"coin\":\"ETH\",\"side\":\"B\","
                                "\"px\":\"3000.5\",\"sz\":\"0.1\",\"time\":1700000000000,\"tid\":1}]}";
    static const char ctx[] = "{\"channel\":\"activeAssetCtx\",\"data\":{\"coin\":\"ETH\",\"ctx\":"
                              "{\"markPx\":\"3000.2\",\"oraclePx\":\"3000.1\",\"openInterest\":\"5\"}}}";

    ck_assert_int_eq(feedc(1, trade, T0), 1 + VREJ_UNKNOWN_TYPE);
    ck_assert_int_eq(feedc(1, ctx, T0), 1 + VREJ_UNKNOWN_TYPE);
    ck_assert_int_eq(feedc(1, "{\"channel\":\"pong\"}", T0), 0);
    ck_assert_int_eq(feedc(1, "{\"channel\":\"subscriptionResponse\",\"data\":{}}", T0), 0);
    ck_assert_int_eq(feedc(1, "{\"channel\":\"error\",\"data\":\"x\"}", T0), 1 + VREJ_VENUE_ERROR);
    ck_assert_int_eq(count_ev(MEV_TRADE), 0);
    ck_assert_int_eq(count_ev(MEV_MARK), 0);
    ck_assert_uint_eq(st->by_reason[VREJ_UNKNOWN_TYPE], 2);
    ck_assert_int_eq(feedc(0, trade, T0), 0);
    ck_assert_int_eq(feedc(0, ctx, T0), 0);
    ck_assert_int_eq(count_ev(MEV_TRADE), 1);
    /* no connection: full precision */
    ck_assert_int_eq(feedc(-1, ETH_FULL, T0), 0);
    ck_assert_int_eq(I("ETH")->book_valid, 1);
    ck_assert_uint_eq(book_level_count(I("ETH")->book, BOOK_BID), 2);
    ck_assert_int_eq(feedc(1, ETH_AGG, T0 + 1), 0);
    ck_assert_uint_eq(book_level_count(I("ETH")->book, BOOK_BID), 3);
}
END_TEST

/* ---- a capture of both feeds, replayed ------------------------------------ */

struct replay_out {
    struct book_level lv[2][2][128];    /* [instrument][side] */
    size_t n[2][2];
    uint64_t seq[2];
    uint64_t events[MEV_TYPE_COUNT];
    double reach[2][2];
};

static void count_emit(void *arg, const struct mkt_event *e)
{
    ((struct replay_out *)arg)->events[e->type]++;
}

static void replay_fixture(struct replay_out *o)
{
    static const char *const files[] = { "conf/instruments/hyperliquid-BTC.json",
                                         "conf/instruments/hyperliquid-ETH.json" };
    char *caps[] = { FIX "hl-two-feeds.jsonl.gz" };
    market_t *m = market_create();
    venue_t *v[VENUE_COUNT];
    struct venue_io io;
    struct replay_opts opts;
    struct replay_stats rs;
    lq_err_t err;

    memset(o, 0, sizeof(*o));
    for (size_t i = 0; i < 2; i++) {
        struct instrument spec;
        ck_assert_msg(instrument_load_file(files[i], &spec, &err) == 0, "%s", err.msg);
        ck_assert_ptr_nonnull(market_add(m, VENUE_HYPERLIQUID, &spec, &err));
        instrument_fini(&spec);
    }
    memset(&io, 0, sizeof(io));
    io.arg = o;
    io.emit = count_emit;
    ck_assert_int_eq(replay_create_venues(m, &io, v, &err), 0);
    memset(&opts, 0, sizeof(opts));
    memset(&rs, 0, sizeof(rs));
    ck_assert_msg(replay_run(caps, 1, v, &opts, &rs, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(rs.frames, 63);
    ck_assert_uint_eq(venue_get_stats(v[VENUE_HYPERLIQUID])->rejected, 0);
    for (int i = 0; i < 2; i++) {
        struct mkt_instr *in = market_find(m, VENUE_HYPERLIQUID, i ? "ETH" : "BTC");
        ck_assert_int_eq(in->book_valid, 1);
        o->seq[i] = in->book_seq;
        for (int s = 0; s < 2; s++) {
            o->n[i][s] = book_copy_levels(in->book, (enum book_side)s, o->lv[i][s], 128);
            o->reach[i][s] = render_book_reach_pct(in, (enum book_side)s, in->mark);
        }
    }
    replay_destroy_venues(v);
    market_destroy(m);
}

START_TEST(t_replay_two_feeds)
{
    static struct replay_out a, b;

    replay_fixture(&a);
    replay_fixture(&b);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(a.seq[i], b.seq[i]);
        for (int s = 0; s < 2; s++) {
            /* 20 exact levels and buckets beyond them */
            ck_assert_uint_gt(a.n[i][s], 30);
            ck_assert_uint_eq(a.n[i][s], b.n[i][s]);
            for (size_t k = 0; k < a.n[i][s]; k++)
                ck_assert(a.lv[i][s][k].price == b.lv[i][s][k].price &&
                          a.lv[i][s][k].qty == b.lv[i][s][k].qty);
            /* what liqmond renders as book_reach_pct: past 5% both sides
             * (the 20 full-precision levels alone reach about 0.02%) */
            ck_assert_msg(a.reach[i][s] > 5.0, "%s %s reaches %.3f%%", i ? "ETH" : "BTC",
                          s ? "ask" : "bid", a.reach[i][s]);
            ck_assert_double_eq(a.reach[i][s], b.reach[i][s]);
        }
    }
    for (int t = 0; t < MEV_TYPE_COUNT; t++)
        ck_assert_uint_eq(a.events[t], b.events[t]);
    /* a book per l2Book frame (22 on each connection), but for ETH's
     * first aggregated one, which came before ETH's first full one */
    ck_assert_uint_eq(a.events[MEV_BOOK_SNAPSHOT], 43);
    ck_assert_uint_eq(a.events[MEV_LIQUIDATION], 0);
}
END_TEST

/* ---- garbage on both connections ------------------------------------------
 * (The fuzz suite feeds Hyperliquid frames without a connection, that is
 * as full precision.)  Every frame of the two-feed capture on its own
 * connection, each followed by mutants of it: bytes flipped, cut short,
 * numbers swapped for bad ones, spans doubled.  After every frame: the
 * books' invariants, never valid while crossed, rejections counted. */

static void mutate_frame(struct trng *r, char *buf, size_t *len, size_t cap)
{
    static const char *const nums[] = { "-5", "0", "1e400", "NaN", "\"x\"", "null",
                                        "\"99999999\"", "\"0.1\"", "[]", "\"-0\"" };
    size_t at = (size_t)trng_below(r, *len);

    switch (trng_below(r, 4)) {
    case 0:
        buf[at] = (char)(32 + trng_below(r, 95));
        break;
    case 1:
        *len = at;
        break;
    case 2: {
        size_t s = at, e;
        while (s < *len && !(buf[s] >= '0' && buf[s] <= '9'))
            s++;
        for (e = s; e < *len && ((buf[e] >= '0' && buf[e] <= '9') || buf[e] == '.'); e++)
            ;
        const char *rep = nums[trng_below(r, sizeof(nums) / sizeof(nums[0]))];
        size_t rl = strlen(rep);
        if (s == *len || *len - (e - s) + rl >= cap)
            break;
        memmove(buf + s + rl, buf + e, *len - e);
        memcpy(buf + s, rep, rl);
        *len = *len - (e - s) + rl;
        break;
    }
    default: {
        size_t n = 1 + (size_t)trng_below(r, 40);
        if (at + n > *len)
            n = *len - at;
        if (*len + n >= cap)
            break;
        memmove(buf + at + n, buf + at, *len - at);
        *len += n;
    }
    }
}

START_TEST(t_two_feeds_survive_garbage)
{
    capture_reader_t *cr;
    struct capture_frame cf;
    lq_err_t err;
    static char *data[64];
    static size_t len[64];
    static int conn[64];
    static int64_t ts[64];
    int n = 0;
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    struct trng r;
    uint64_t fed = 0;

    cr = capture_open(FIX "hl-two-feeds.jsonl.gz", &err);
    ck_assert_msg(cr != NULL, "%s", err.msg);
    while (n < 64 && capture_next(cr, &cf, NULL, NULL, &err) == 1) {
        data[n] = strndup(cf.data, cf.len);
        len[n] = cf.len;
        conn[n] = cf.conn ? venue_conn_index(V, cf.conn) : -1;
        ts[n] = cf.ts;
        n++;
    }
    capture_close(cr);
    ck_assert_int_eq(n, 63);
    trng_init(&r, "hl-garbage");
    log_set_level(LL_ERROR);
    for (int round = 0; round < 30; round++) {
        for (int i = 0; i < n; i++) {
            int64_t now = ts[i] + (int64_t)round * 30 * NS;
            venue_on_frame(V, conn[i], FRAME_WS, NULL, data[i], len[i], now);
            fed++;
            for (int k = (int)trng_below(&r, 3); k > 0; k--) {
                size_t l = len[i] < cap ? len[i] : cap - 1;
                memcpy(buf, data[i], l);
                for (int m = 1 + (int)trng_below(&r, 3); m > 0 && l > 0; m--)
                    mutate_frame(&r, buf, &l, cap);
                /* a mutant may go to the other connection too */
                int c = trng_below(&r, 4) == 0 ? 1 - (conn[i] == 1) : conn[i];
                venue_on_frame(V, c, FRAME_WS, NULL, buf, l, now + k);
                fed++;
            }
            for (size_t j = 0; j < market_count(M); j++) {
                struct mkt_instr *in = market_at(M, j);
                TCHECK(book_check(in->book) == 0, "seed %llu round %d frame %d: %s book_check",
                       (unsigned long long)test_seed(), round, i, in->key);
                TCHECK(!(in->book_valid && book_is_crossed(in->book)),
                       "seed %llu round %d frame %d: %s valid while crossed",
                       (unsigned long long)test_seed(), round, i, in->key);
            }
        }
    }
    log_set_level(LL_INFO);
    const struct venue_stats *st = venue_get_stats(V);
    ck_assert_uint_eq(st->frames, fed);
    ck_assert_uint_gt(st->rejected, fed / 10);
    /* the good frames keep winning: both books valid and deep at the end */
    for (int i = 0; i < n; i++)
        venue_on_frame(V, conn[i], FRAME_WS, NULL, data[i], len[i], ts[i] + 31 * 30 * NS);
    ck_assert_int_eq(I("BTC")->book_valid, 1);
    ck_assert_uint_gt(book_level_count(I("BTC")->book, BOOK_BID), 30);
    for (int i = 0; i < n; i++)
        free(data[i]);
    free(buf);
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
    tcase_add_test(tc, t_ping_both_connections);
    tcase_add_test(tc, t_real_agg_frames);
    tcase_add_test(tc, t_merge_against_true_book);
    tcase_add_test(tc, t_merge_either_feed_first);
    tcase_add_test(tc, t_merge_crossed_and_bad);
    tcase_add_test(tc, t_merge_bucket_at_last_level);
    tcase_add_test(tc, t_merge_feed_stale_or_gone);
    tcase_add_test(tc, t_agg_connection_carries_books_only);
    tcase_add_test(tc, t_replay_two_feeds);
    tcase_add_test(tc, t_two_feeds_survive_garbage);
    suite_add_tcase(s, tc);
    return s;
}
