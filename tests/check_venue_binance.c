/*
 * check_venue_binance.c - the Binance USD-M adapter (src/venue/binance.c):
 * real frames (tests/fixtures/venues/binance-usdm/), connection URLs for
 * both forceOrder routes, and the diff-depth sync procedure step by step
 * (buffer, snapshot, bridge, continuity, gaps, duplicates, crossing,
 * retries), driven through venue_create with a recording venue_io.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/log.h"
#include "liqmon/venue.h"
#include "suites.h"

#define FIX "tests/fixtures/venues/binance-usdm/"
#define SEC ((int64_t)1000000000)
#define T0 ((int64_t)1700000000 * SEC)

#include "venue_rec.h"

/* ---- fixtures -------------------------------------------------------------- */

static market_t *M;
static venue_t *V;
static struct mkt_instr *BTC, *ETH;

static struct mkt_instr *add_instr(const char *sym)
{
    struct instrument spec;
    lq_err_t err;
    struct mkt_instr *in;

    ck_assert_msg(instrument_load_dir("conf/instruments", "binance-usdm", sym, &spec, &err) == 0,
                  "%s", err.msg);
    in = market_add(M, VENUE_BINANCE, &spec, &err);
    instrument_fini(&spec);
    ck_assert_msg(in != NULL, "%s", err.msg);
    return in;
}

static venue_t *make_venue(const char *liq_route)
{
    struct venue_config cfg;
    struct venue_io io = { .arg = NULL, .emit = rec_emit, .send = rec_send,
                           .http_get = rec_get, .reconnect = rec_reconnect };
    lq_err_t err;
    venue_t *v;

    venue_config_default(VENUE_BINANCE, &cfg);
    if (liq_route)
        snprintf(cfg.liq_route, sizeof(cfg.liq_route), "%s", liq_route);
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
    BTC = add_instr("BTCUSDT");
    ETH = add_instr("ETHUSDT");
    V = make_venue(NULL);
}

static void teardown(void)
{
    venue_destroy(V);
    V = NULL;
    market_destroy(M);
    M = NULL;
    log_set_hook(NULL, NULL);
}

/* The n-th line (0-based) of a fixture file, without its newline. */
static void fixture_line(const char *path, int n, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    for (int i = 0; i <= n; i++)
        ck_assert_msg(fgets(buf, (int)size, f) != NULL, "%s: no line %d", path, n);
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

static int ws(int conn, const char *text, int64_t now)
{
    return venue_on_frame(V, conn, FRAME_WS, NULL, text, strlen(text), now);
}

static int rest(const char *url, const char *text, int64_t now)
{
    return venue_on_frame(V, -1, FRAME_REST, url, text, strlen(text), now);
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

/* A BTCUSDT diff: U, u, pu and one bid and one ask level. */
static int diff(int64_t U, int64_t u, int64_t pu, const char *bid, const char *bq,
                const char *ask, const char *aq, int64_t now)
{
    char buf[512];
    snprintf(buf, sizeof(buf),
             "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\","
             "\"E\":1700000000100,\"T\":1700000000099,\"s\":\"BTCUSDT\",\"U\":%lld,"
             "\"u\":%lld,\"pu\":%lld,\"b\":[[\"%s\",\"%s\"]],\"a\":[[\"%s\",\"%s\"]]}}",
             (long long)U, (long long)u, (long long)pu, bid, bq, ask, aq);
    return ws(0, buf, now);
}

#define SNAP_URL "/fapi/v1/depth?symbol=BTCUSDT&limit=1000"

static int snapshot(int64_t lid, int64_t now)
{
    char buf[512];
    snprintf(buf, sizeof(buf),
             "{\"lastUpdateId\":%lld,\"E\":1700000000000,\"T\":1700000000000,"
             "\"bids\":[[\"100.0\",\"1.000\"],[\"99.0\",\"2.000\"],[\"98.0\",\"3.000\"]],"
             "\"asks\":[[\"101.0\",\"1.500\"],[\"102.0\",\"2.500\"],[\"103.0\",\"3.500\"]]}",
             (long long)lid);
    return rest(SNAP_URL, buf, now);
}

/* Open the depth connection and bring BTCUSDT to LIVE at u = 105. */
static void go_live(void)
{
    venue_on_open(V, 0, T0);
    ck_assert_int_eq(diff(96, 102, 95, "97.0", "4.000", "104.0", "4.500", T0 + 1), 0);
    ck_assert_int_eq(diff(103, 105, 102, "99.0", "2.200", "101.0", "0", T0 + 2), 0);
    ck_assert_int_eq(snapshot(100, T0 + 3), 0);
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(BTC->book_seq, 105);
}

/* ---- real frames ------------------------------------------------------------ */

START_TEST(test_shared_frames)
{
    char line[1024];
    const struct rec_ev *e;

    /* markPriceUpdate (Binance docs, Mark Price Stream). */
    fixture_line(FIX "shared.jsonl", 0, line, sizeof(line));
    ck_assert_int_eq(ws(1, line, T0), 0);
    e = last_of(MEV_MARK);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_eq(e->in, BTC);
    ck_assert(e->mark == 11794.15);
    ck_assert(e->index == 11784.62659091);
    ck_assert_int_eq(e->ts, (int64_t)1562305380000 * 1000000);
    ck_assert(BTC->mark == 11794.15 && BTC->index == 11784.62659091);
    ck_assert_int_eq(BTC->mark_ts, (int64_t)1562305380000 * 1000000);

    /* forceOrder: S = SELL is the liquidation order's side, so a long was
     * liquidated; z (filled) 0.014 and ap (average) 9910 are set. */
    fixture_line(FIX "shared.jsonl", 1, line, sizeof(line));
    ck_assert_int_eq(ws(1, line, T0), 0);
    e = last_of(MEV_LIQUIDATION);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_eq(e->in, BTC);
    ck_assert_int_eq(e->liq_long, 1);
    ck_assert(e->qty == D("0.014"));
    ck_assert(e->liq_px == 9910.0);
    ck_assert_int_eq(e->pk, LIQ_PX_AVG_FILL);
    ck_assert_int_eq(e->cov, LIQ_SAMPLED);
    ck_assert_int_eq(e->ts, (int64_t)1568014460893 * 1000000);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
}
END_TEST

START_TEST(test_doc_frames)
{
    char line[1024];

    /* Diff. Book Depth Stream example: raw payload, buffered (no snapshot). */
    fixture_line(FIX "docs.jsonl", 0, line, sizeof(line));
    ck_assert_int_eq(ws(0, line, T0), 0);
    /* Partial depth example (same layout with pu): buffered too. */
    fixture_line(FIX "docs.jsonl", 1, line, sizeof(line));
    ck_assert_int_eq(ws(0, line, T0), 0);
    ck_assert(!BTC->book_valid);
    /* The REST depth example as a snapshot: its lastUpdateId (1027024) is
     * past the buffered u = 160 but before U = 390497796, so the second
     * buffered event cannot bridge it: a newer snapshot is asked for. */
    fixture_line(FIX "docs.jsonl", 2, line, sizeof(line));
    size_t gets = R.nget;
    ck_assert_int_eq(rest(SNAP_URL, line, T0 + 1), 0);
    ck_assert(!BTC->book_valid);
    ck_assert_uint_eq(R.nget, gets + 1);
    ck_assert_str_eq(R.get[gets], SNAP_URL);
    expect_level(BTC, BOOK_BID, 4.0, "431");
    expect_level(BTC, BOOK_ASK, 4.000002, "12");
    /* Subscribe ack: not a reject.  Error frame: venue error. */
    fixture_line(FIX "docs.jsonl", 3, line, sizeof(line));
    ck_assert_int_eq(ws(0, line, T0), 0);
    fixture_line(FIX "docs.jsonl", 4, line, sizeof(line));
    ck_assert_int_eq(ws(0, line, T0), 1 + VREJ_VENUE_ERROR);
    /* REST error body: venue error, retried by tick 10 s later. */
    fixture_line(FIX "docs.jsonl", 5, line, sizeof(line));
    ck_assert_int_eq(rest(SNAP_URL, line, T0 + 2), 1 + VREJ_VENUE_ERROR);
    ck_assert_uint_eq(rejected(VREJ_VENUE_ERROR), 2);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 2);
}
END_TEST

/* ---- connections ---------------------------------------------------------- */

START_TEST(test_urls_market_route)
{
    ck_assert_uint_eq(venue_conn_count(V), 2);
    ck_assert_str_eq(venue_conn_name(V, 0), "public");
    ck_assert_str_eq(venue_conn_name(V, 1), "market");
    ck_assert_int_eq(venue_conn_index(V, "market"), 1);
    ck_assert_str_eq(venue_conn_url(V, 0),
                     "wss://fstream.binance.com/public/stream?streams="
                     "btcusdt@depth@100ms/ethusdt@depth@100ms");
    ck_assert_str_eq(venue_conn_url(V, 1),
                     "wss://fstream.binance.com/market/stream?streams="
                     "btcusdt@markPrice@1s/ethusdt@markPrice@1s/"
                     "btcusdt@forceOrder/ethusdt@forceOrder");
}
END_TEST

START_TEST(test_urls_public_route)
{
    venue_destroy(V);
    V = make_venue("public");
    ck_assert_str_eq(venue_conn_url(V, 0),
                     "wss://fstream.binance.com/public/stream?streams="
                     "btcusdt@depth@100ms/ethusdt@depth@100ms/"
                     "btcusdt@forceOrder/ethusdt@forceOrder");
    ck_assert_str_eq(venue_conn_url(V, 1),
                     "wss://fstream.binance.com/market/stream?streams="
                     "btcusdt@markPrice@1s/ethusdt@markPrice@1s");
}
END_TEST

START_TEST(test_bad_route_refused)
{
    struct venue_config cfg;
    lq_err_t err;

    venue_config_default(VENUE_BINANCE, &cfg);
    snprintf(cfg.liq_route, sizeof(cfg.liq_route), "private");
    ck_assert_ptr_null(venue_create(&cfg, M, NULL, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "liq_route"));
}
END_TEST

/* Binance puts every stream in the URL: 100 symbols (200 streams on the
 * market connection, Binance's limit per connection) fit; 101 are refused
 * with the limit named, not cut. */
START_TEST(test_streams_limit)
{
    struct instrument spec;
    struct venue_config cfg;
    lq_err_t err;
    venue_t *v;
    size_t n = 0;
    const char *u, *p;

    ck_assert_int_eq(instrument_load_dir("conf/instruments", "binance-usdm", "BTCUSDT", &spec,
                                         &err), 0);
    for (int i = 0; i < 98; i++) {
        snprintf(spec.symbol, sizeof(spec.symbol), "SYN%03dUSDT", i);
        ck_assert_ptr_nonnull(market_add(M, VENUE_BINANCE, &spec, &err));
    }
    venue_destroy(V);
    V = make_venue(NULL);
    u = venue_conn_url(V, 1);
    for (p = u; (p = strstr(p, "@forceOrder")) != NULL; p++)
        n++;
    ck_assert_uint_eq(n, 100);
    ck_assert_uint_gt(strlen(u), 4096);
    ck_assert_ptr_nonnull(strstr(venue_conn_url(V, 0), "syn097usdt@depth@100ms"));

    snprintf(spec.symbol, sizeof(spec.symbol), "SYN999USDT");
    ck_assert_ptr_nonnull(market_add(M, VENUE_BINANCE, &spec, &err));
    instrument_fini(&spec);
    venue_config_default(VENUE_BINANCE, &cfg);
    v = venue_create(&cfg, M, NULL, &err);
    ck_assert_ptr_null(v);
    ck_assert_msg(strstr(err.msg, "101 symbols need 202 streams") != NULL &&
                  strstr(err.msg, "Binance allows 200 per connection") != NULL, "%s", err.msg);
}
END_TEST

/* ---- book sync ----------------------------------------------------------------- */

START_TEST(test_snapshot_and_buffered_diffs)
{
    venue_on_open(V, 1, T0);                 /* market: no snapshot asked */
    ck_assert_uint_eq(R.nget, 0);
    venue_on_open(V, 0, T0);
    ck_assert_uint_eq(R.nget, 2);
    ck_assert_str_eq(R.get[0], "/fapi/v1/depth?symbol=BTCUSDT&limit=1000");
    ck_assert_str_eq(R.get[1], "/fapi/v1/depth?symbol=ETHUSDT&limit=1000");

    /* Before the snapshot's lastUpdateId (100): dropped when it comes. */
    ck_assert_int_eq(diff(80, 88, 79, "100.0", "9.000", "101.0", "9.000", T0 + 1), 0);
    ck_assert_int_eq(diff(89, 95, 88, "98.0", "0", "110.0", "1.000", T0 + 2), 0);
    /* Bridging: U <= 100 <= u. */
    ck_assert_int_eq(diff(96, 102, 95, "97.0", "4.000", "104.0", "4.500", T0 + 3), 0);
    /* Continuity: pu == previous u. */
    ck_assert_int_eq(diff(103, 105, 102, "99.0", "2.200", "101.0", "0", T0 + 4), 0);
    ck_assert(!BTC->book_valid);
    ck_assert_uint_eq(count_type(MEV_BOOK_DELTA), 0);

    ck_assert_int_eq(snapshot(100, T0 + 5), 0);
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(BTC->book_seq, 105);
    ck_assert_uint_eq(count_feed(FEED_BOOK_VALID), 1);
    ck_assert_uint_eq(count_type(MEV_BOOK_SNAPSHOT), 1);
    ck_assert_uint_eq(count_type(MEV_BOOK_DELTA), 2);
    expect_level(BTC, BOOK_BID, 100.0, "1");      /* not the dropped 9 */
    expect_level(BTC, BOOK_BID, 98.0, "3");       /* the dropped delete */
    expect_level(BTC, BOOK_BID, 97.0, "4");
    expect_level(BTC, BOOK_BID, 99.0, "2.2");
    expect_level(BTC, BOOK_ASK, 101.0, "0");
    expect_level(BTC, BOOK_ASK, 104.0, "4.5");
    expect_level(BTC, BOOK_ASK, 110.0, "0");
    ck_assert_int_eq(book_check(BTC->book), 0);
    ck_assert(!ETH->book_valid);

    /* Live from here. */
    ck_assert_int_eq(diff(106, 110, 105, "100.0", "0.500", "102.0", "0", T0 + 6), 0);
    ck_assert_uint_eq(BTC->book_seq, 110);
    expect_level(BTC, BOOK_BID, 100.0, "0.5");
    expect_level(BTC, BOOK_ASK, 102.0, "0");
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
}
END_TEST

START_TEST(test_snapshot_before_bridge)
{
    venue_on_open(V, 0, T0);
    ck_assert_int_eq(snapshot(100, T0 + 1), 0);
    ck_assert(!BTC->book_valid);               /* held until bridged */
    ck_assert_ptr_nonnull(strstr(BTC->invalid_reason, "bridg"));
    /* Older than the snapshot: skipped by the sync rules, not rejected. */
    ck_assert_int_eq(diff(90, 99, 89, "97.0", "8.000", "104.0", "8.000", T0 + 2),
                     VENUE_SKIPPED(VSKIP_OLDER_THAN_SNAPSHOT));
    expect_level(BTC, BOOK_BID, 97.0, "0");
    ck_assert_uint_eq(venue_get_stats(V)->skipped, 1);
    ck_assert_uint_eq(venue_get_stats(V)->skipped_by_rule[VSKIP_OLDER_THAN_SNAPSHOT], 1);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
    ck_assert_int_eq(diff(98, 103, 97, "97.0", "4.000", "104.0", "4.500", T0 + 3), 0);
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(count_feed(FEED_BOOK_VALID), 1);
    expect_level(BTC, BOOK_BID, 97.0, "4");
    ck_assert_int_eq(diff(104, 107, 103, "96.0", "1.000", "105.0", "1.000", T0 + 4), 0);
    ck_assert_uint_eq(BTC->book_seq, 107);
}
END_TEST

START_TEST(test_snapshot_older_than_stream)
{
    venue_on_open(V, 0, T0);
    ck_assert_uint_eq(R.nget, 2);
    ck_assert_int_eq(diff(200, 205, 199, "97.0", "4.000", "104.0", "4.500", T0 + 1), 0);
    ck_assert_int_eq(diff(206, 210, 205, "96.0", "1.000", "105.0", "1.000", T0 + 2), 0);
    /* Updates 101..199 are in neither: ask for a newer snapshot. */
    ck_assert_int_eq(snapshot(100, T0 + 3), 0);
    ck_assert(!BTC->book_valid);
    ck_assert_uint_eq(R.nget, 3);
    ck_assert_str_eq(R.get[2], SNAP_URL);
    /* The newer one bridges with the events still buffered. */
    ck_assert_int_eq(snapshot(207, T0 + 4), 0);
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(BTC->book_seq, 210);
    expect_level(BTC, BOOK_BID, 97.0, "0");       /* 205 < 207: dropped */
    expect_level(BTC, BOOK_BID, 96.0, "1");
}
END_TEST

/* A snapshot cut exactly between two events: the next event's pu is the
 * snapshot's lastUpdateId though its U is above it.  Continuity is
 * proven, so it bridges without another snapshot. */
START_TEST(test_snapshot_at_event_boundary)
{
    venue_on_open(V, 0, T0);
    size_t gets = R.nget;
    ck_assert_int_eq(diff(101, 103, 100, "97.0", "4.000", "104.0", "4.500", T0 + 1), 0);
    ck_assert_int_eq(snapshot(100, T0 + 2), 0);
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(BTC->book_seq, 103);
    ck_assert_uint_eq(R.nget, gets);              /* no new request */
    expect_level(BTC, BOOK_BID, 97.0, "4");
    /* Without the pu link it is a gap: U 105 > L, pu 104 != L. */
    venue_on_close(V, 0, T0 + 3);
    venue_on_open(V, 0, T0 + 4);
    ck_assert_int_eq(diff(105, 106, 104, "97.0", "1.000", "104.0", "1.000", T0 + 5), 0);
    ck_assert_int_eq(snapshot(103, T0 + 6), 0);
    ck_assert(!BTC->book_valid);
}
END_TEST

START_TEST(test_gap_resyncs)
{
    go_live();
    size_t gets = R.nget;
    uint64_t resyncs = BTC->book_resyncs;

    /* pu 107 != 105: an event was lost. */
    ck_assert_int_eq(diff(108, 110, 107, "99.5", "1.000", "104.0", "0", T0 + 10), 0);
    ck_assert(!BTC->book_valid);
    ck_assert_uint_eq(BTC->book_resyncs, resyncs + 1);
    ck_assert_uint_eq(count_feed(FEED_BOOK_INVALID), 1);
    ck_assert_uint_eq(R.nget, gets + 1);
    ck_assert_str_eq(R.get[gets], SNAP_URL);
    /* Buffered until the new snapshot, which bridges and recovers. */
    ck_assert_int_eq(diff(111, 115, 110, "95.0", "7.000", "106.0", "7.000", T0 + 11), 0);
    ck_assert(!BTC->book_valid);
    ck_assert_int_eq(snapshot(112, T0 + 12), 0);
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(BTC->book_seq, 115);
    ck_assert_uint_eq(count_feed(FEED_BOOK_VALID), 2);
    expect_level(BTC, BOOK_BID, 99.5, "0");       /* 110 < 112: dropped */
    expect_level(BTC, BOOK_BID, 95.0, "7");
    expect_level(BTC, BOOK_BID, 100.0, "1");
    /* And continues. */
    ck_assert_int_eq(diff(116, 118, 115, "95.0", "0", "106.0", "0", T0 + 13), 0);
    ck_assert(BTC->book_valid);
    expect_level(BTC, BOOK_BID, 95.0, "0");
}
END_TEST

START_TEST(test_duplicates_ignored)
{
    go_live();
    size_t gets = R.nget, deltas = count_type(MEV_BOOK_DELTA);

    /* An overlapping connection replays what was applied. */
    ck_assert_int_eq(diff(103, 105, 102, "99.0", "5.000", "101.0", "5.000", T0 + 10),
                     VENUE_SKIPPED(VSKIP_DUPLICATE));
    ck_assert_int_eq(diff(96, 102, 95, "97.0", "9.000", "104.0", "9.000", T0 + 11),
                     VENUE_SKIPPED(VSKIP_DUPLICATE));
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(R.nget, gets);
    ck_assert_uint_eq(count_type(MEV_BOOK_DELTA), deltas);
    ck_assert_uint_eq(count_feed(FEED_BOOK_INVALID), 0);
    expect_level(BTC, BOOK_BID, 99.0, "2.2");
    expect_level(BTC, BOOK_BID, 97.0, "4");
    ck_assert_uint_eq(venue_get_stats(V)->skipped_by_rule[VSKIP_DUPLICATE], 2);
    ck_assert_uint_eq(venue_get_stats(V)->skipped, 2);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
    /* A second open of the depth connection keeps a live book. */
    venue_on_open(V, 0, T0 + 12);
    ck_assert(BTC->book_valid);
    ck_assert_int_eq(diff(106, 108, 105, "99.0", "1.000", "104.0", "1.000", T0 + 13), 0);
    expect_level(BTC, BOOK_BID, 99.0, "1");
}
END_TEST

/* depthUpdate fields are found by one pass over the members (length and
 * first byte): the first member of a key wins, as jtok_get's does, and
 * keys that merely look alike are not taken for the real ones. */
START_TEST(test_depth_fields_first_wins)
{
    go_live();

    /* "u":108 first, a second "u" after it; "p", "uu" and "pux" are not
     * pu; the second "b" is ignored. */
    ck_assert_int_eq(ws(0, "{\"e\":\"depthUpdate\",\"E\":1,\"p\":1,\"uu\":1,\"pux\":1,"
                           "\"s\":\"BTCUSDT\",\"U\":106,\"u\":108,\"u\":999,\"pu\":105,"
                           "\"b\":[[\"99.0\",\"7.000\"]],\"b\":[[\"99.0\",\"8.000\"]],"
                           "\"a\":[]}", T0 + 10), 0);
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(BTC->book_seq, 108);
    expect_level(BTC, BOOK_BID, 99.0, "7");
    /* The next diff chains from 108, not from 999. */
    ck_assert_int_eq(diff(109, 110, 108, "99.0", "6.000", "101.0", "1.000", T0 + 11), 0);
    ck_assert(BTC->book_valid);
    expect_level(BTC, BOOK_BID, 99.0, "6");
    /* Without pu (only look-alikes): a schema reject, named. */
    size_t rej = rejected(VREJ_SCHEMA);
    ck_assert_int_eq(ws(0, "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":111,"
                           "\"u\":112,\"p\":110,\"pux\":110,\"b\":[],\"a\":[]}", T0 + 12),
                     1 + VREJ_SCHEMA);
    ck_assert_uint_eq(rejected(VREJ_SCHEMA), rej + 1);
}
END_TEST

START_TEST(test_crossed_book_invalidates)
{
    go_live();

    /* The price moves up in one event: a bid at 102.5, above the best
     * ask 102, and the asks 102..104 removed in the same event.  Bids are
     * applied first, so the book is crossed midway, not after: valid. */
    ck_assert_int_eq(ws(0, "{\"e\":\"depthUpdate\",\"E\":1,\"T\":1,\"s\":\"BTCUSDT\","
                           "\"U\":106,\"u\":108,\"pu\":105,\"b\":[[\"102.5\",\"1.000\"]],"
                           "\"a\":[[\"102.0\",\"0\"],[\"103.0\",\"0\"],[\"104.0\",\"0\"],"
                           "[\"103.5\",\"2.000\"]]}", T0 + 10), 0);
    ck_assert(BTC->book_valid);
    size_t gets = R.nget;
    /* A bid at the best ask with nothing removed: crossed. */
    ck_assert_int_eq(diff(109, 110, 108, "103.5", "1.000", "90.0", "0", T0 + 11), 0);
    ck_assert(!BTC->book_valid);
    ck_assert_ptr_nonnull(strstr(BTC->invalid_reason, "crossed"));
    ck_assert_uint_eq(count_feed(FEED_BOOK_INVALID), 1);
    ck_assert_uint_eq(R.nget, gets + 1);
    /* A crossed snapshot does not validate either. */
    ck_assert_int_eq(rest(SNAP_URL, "{\"lastUpdateId\":111,\"bids\":[[\"105\",\"1\"]],"
                                    "\"asks\":[[\"104\",\"1\"]]}", T0 + 12), 0);
    ck_assert(!BTC->book_valid);
    ck_assert_uint_eq(R.nget, gets + 2);
    /* A sound one does (the crossing event 109..110 is older: dropped). */
    ck_assert_int_eq(diff(111, 112, 110, "99.0", "3.000", "101.0", "3.000", T0 + 13), 0);
    ck_assert_int_eq(snapshot(111, T0 + 14), 0);
    ck_assert(BTC->book_valid);
    expect_level(BTC, BOOK_BID, 99.0, "3");
}
END_TEST

START_TEST(test_combined_and_raw)
{
    venue_on_open(V, 0, T0);
    ck_assert_int_eq(snapshot(100, T0 + 1), 0);
    /* Raw payload bridges... */
    ck_assert_int_eq(ws(0, "{\"e\":\"depthUpdate\",\"E\":1,\"T\":1,\"s\":\"BTCUSDT\",\"U\":99,"
                           "\"u\":101,\"pu\":98,\"b\":[[\"97.5\",\"1\"]],\"a\":[]}", T0 + 2), 0);
    ck_assert(BTC->book_valid);
    /* ...the combined form continues it. */
    ck_assert_int_eq(ws(0, "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\","
                           "\"E\":2,\"T\":2,\"s\":\"BTCUSDT\",\"U\":102,\"u\":104,\"pu\":101,"
                           "\"b\":[],\"a\":[[\"101.5\",\"0.25\"]]}}", T0 + 3), 0);
    expect_level(BTC, BOOK_BID, 97.5, "1");
    expect_level(BTC, BOOK_ASK, 101.5, "0.25");
    /* Mark price both ways. */
    ck_assert_int_eq(ws(1, "{\"stream\":\"ethusdt@markPrice@1s\",\"data\":{\"e\":\"markPriceUpdate\","
                           "\"E\":1700000000000,\"s\":\"ETHUSDT\",\"p\":\"2000.5\",\"i\":\"2001.25\","
                           "\"P\":\"2000\",\"r\":\"0.0001\",\"T\":1700006400000}}", T0), 0);
    ck_assert(ETH->mark == 2000.5 && ETH->index == 2001.25);
    ck_assert_int_eq(ws(-1, "{\"e\":\"markPriceUpdate\",\"E\":1700000001000,\"s\":\"ETHUSDT\","
                            "\"p\":\"2002\",\"i\":\"2003\",\"P\":\"2000\",\"r\":\"0.0001\","
                            "\"T\":1700006400000}", T0), 0);
    ck_assert(ETH->mark == 2002.0 && ETH->index == 2003.0);
    ck_assert_uint_eq(count_type(MEV_MARK), 2);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
}
END_TEST

START_TEST(test_liquidation_sides_and_routes)
{
    const struct rec_ev *e;
    static const char buy[] =
        "{\"stream\":\"ethusdt@forceOrder\",\"data\":{\"e\":\"forceOrder\",\"E\":1700000000500,"
        "\"o\":{\"s\":\"ETHUSDT\",\"S\":\"BUY\",\"o\":\"LIMIT\",\"f\":\"IOC\",\"q\":\"1.250\","
        "\"p\":\"2100.10\",\"ap\":\"0\",\"X\":\"NEW\",\"l\":\"0\",\"z\":\"0\",\"T\":1700000000499}}}";

    /* BUY closes a short; nothing filled yet: q and the order price. */
    ck_assert_int_eq(ws(1, buy, T0), 0);
    e = last_of(MEV_LIQUIDATION);
    ck_assert_ptr_eq(e->in, ETH);
    ck_assert_int_eq(e->liq_long, 0);
    ck_assert(e->qty == D("1.25"));
    ck_assert(e->liq_px == 2100.10);
    ck_assert_int_eq(e->pk, LIQ_PX_ORDER);
    ck_assert_int_eq(e->cov, LIQ_SAMPLED);
    ck_assert_int_eq(e->ts, (int64_t)1700000000499 * 1000000);

    /* Routed on the public connection: the same frame is accepted there. */
    venue_destroy(V);
    V = make_venue("public");
    ck_assert_int_eq(ws(0, buy, T0), 0);
    ck_assert_int_eq(ws(-1, buy, T0), 0);
    ck_assert_uint_eq(count_type(MEV_LIQUIDATION), 3);
    ck_assert_int_eq(ws(0, "{\"e\":\"forceOrder\",\"E\":1,\"o\":{\"s\":\"ETHUSDT\",\"S\":\"SHORT\","
                           "\"q\":\"1\",\"p\":\"1\"}}", T0), 1 + VREJ_SCHEMA);
}
END_TEST

START_TEST(test_snapshot_retry_by_tick)
{
    venue_tick(V, T0);
    ck_assert_uint_eq(R.nget, 0);           /* not before the connection */
    venue_on_open(V, 0, T0);
    ck_assert_uint_eq(R.nget, 2);
    venue_tick(V, T0 + 5 * SEC);
    ck_assert_uint_eq(R.nget, 2);
    venue_tick(V, T0 + 10 * SEC);
    ck_assert_uint_eq(R.nget, 4);           /* no answer within 10 s */
    ck_assert_int_eq(snapshot(100, T0 + 11 * SEC), 0);
    ck_assert_int_eq(diff(99, 101, 98, "97.0", "1", "104.0", "1", T0 + 11 * SEC), 0);
    ck_assert(BTC->book_valid);
    venue_tick(V, T0 + 21 * SEC);
    ck_assert_uint_eq(R.nget, 5);           /* ETHUSDT only */
    ck_assert_str_eq(R.get[4], "/fapi/v1/depth?symbol=ETHUSDT&limit=1000");
    /* An error answer: counted, asked again later. */
    ck_assert_int_eq(rest("/fapi/v1/depth?symbol=ETHUSDT&limit=1000",
                          "{\"code\":-1003,\"msg\":\"Too many requests.\"}", T0 + 22 * SEC),
                     1 + VREJ_VENUE_ERROR);
    venue_tick(V, T0 + 30 * SEC);
    ck_assert_uint_eq(R.nget, 5);
    venue_tick(V, T0 + 32 * SEC);
    ck_assert_uint_eq(R.nget, 6);
    /* A late answer for the live BTCUSDT book changes nothing. */
    ck_assert_int_eq(snapshot(90, T0 + 33 * SEC), VENUE_SKIPPED(VSKIP_LATE_SNAPSHOT));
    ck_assert_uint_eq(venue_get_stats(V)->skipped_by_rule[VSKIP_LATE_SNAPSHOT], 1);
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(BTC->book_seq, 101);
}
END_TEST

START_TEST(test_close_invalidates)
{
    go_live();
    venue_on_close(V, 1, T0 + 10);          /* market: books untouched */
    ck_assert(BTC->book_valid);
    venue_on_close(V, 0, T0 + 11);
    ck_assert(!BTC->book_valid);
    ck_assert_uint_eq(count_feed(FEED_BOOK_INVALID), 1);
    venue_tick(V, T0 + 100 * SEC);          /* closed: nothing to ask */
    size_t gets = R.nget;
    venue_tick(V, T0 + 200 * SEC);
    ck_assert_uint_eq(R.nget, gets);
    venue_on_open(V, 0, T0 + 201 * SEC);
    ck_assert_uint_eq(R.nget, gets + 2);
    ck_assert_int_eq(snapshot(300, T0 + 202 * SEC), 0);
    ck_assert_int_eq(diff(299, 301, 290, "97.0", "1", "104.0", "1", T0 + 202 * SEC), 0);
    ck_assert(BTC->book_valid);
}
END_TEST

START_TEST(test_replay_without_open)
{
    /* A capture: frames and the REST answer, no transport events. */
    ck_assert_int_eq(diff(96, 102, 95, "97.0", "4.000", "104.0", "4.500", T0), 0);
    ck_assert_int_eq(snapshot(100, T0 + 1), 0);
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(BTC->book_seq, 102);
}
END_TEST

START_TEST(test_buffer_bounded)
{
    venue_on_open(V, 0, T0);
    size_t gets = R.nget;
    for (int i = 0; i < 10000; i++)
        ck_assert_int_eq(diff(10 * i + 1, 10 * i + 10, 10 * i, "97.0", "1", "104.0", "1", T0), 0);
    ck_assert_uint_eq(R.nget, gets);
    /* The 10,001st: start over with a fresh request. */
    ck_assert_int_eq(diff(100001, 100010, 100000, "96.0", "1", "105.0", "1", T0), 0);
    ck_assert_uint_eq(R.nget, gets + 1);
    ck_assert_int_eq(diff(100011, 100020, 100010, "95.0", "1", "106.0", "1", T0), 0);
    ck_assert_int_eq(snapshot(100005, T0 + 1), 0);
    ck_assert(BTC->book_valid);
    ck_assert_uint_eq(BTC->book_seq, 100020);
    expect_level(BTC, BOOK_BID, 97.0, "0");          /* buffer dropped */
    expect_level(BTC, BOOK_BID, 96.0, "1");
    expect_level(BTC, BOOK_BID, 95.0, "1");
}
END_TEST

START_TEST(test_garbage_counted)
{
    ck_assert_int_eq(ws(0, "not json", T0), 1 + VREJ_JSON);
    ck_assert_int_eq(ws(0, "{\"a\":", T0), 1 + VREJ_JSON);
    ck_assert_int_eq(ws(0, "[1,2]", T0), 1 + VREJ_SCHEMA);
    ck_assert_int_eq(ws(0, "{\"x\":1}", T0), 1 + VREJ_SCHEMA);
    ck_assert_int_eq(ws(1, "{\"stream\":\"btcusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\","
                           "\"s\":\"BTCUSDT\"}}", T0), 1 + VREJ_UNKNOWN_TYPE);
    ck_assert_int_eq(ws(1, "{\"stream\":\"!markPrice@arr@1s\",\"data\":[]}", T0),
                     1 + VREJ_UNKNOWN_TYPE);
    ck_assert_int_eq(ws(1, "{\"e\":\"markPriceUpdate\",\"E\":1,\"s\":\"SOLUSDT\",\"p\":\"1\"}", T0),
                     1 + VREJ_UNKNOWN_SYMBOL);
    ck_assert_int_eq(ws(1, "{\"e\":\"markPriceUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"p\":\"abc\"}", T0),
                     1 + VREJ_NUMBER);
    ck_assert_int_eq(ws(0, "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":1,\"u\":2,"
                           "\"pu\":0,\"b\":[[\"1\",\"x\"]],\"a\":[]}", T0), 1 + VREJ_NUMBER);
    ck_assert_int_eq(ws(0, "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"u\":2,"
                           "\"b\":[],\"a\":[]}", T0), 1 + VREJ_SCHEMA);
    ck_assert_int_eq(rest("/fapi/v1/depth?symbol=XRPUSDT&limit=1000", "{}", T0),
                     1 + VREJ_UNKNOWN_SYMBOL);
    ck_assert_int_eq(rest("/fapi/v1/ticker", "{}", T0), 1 + VREJ_UNKNOWN_TYPE);
    ck_assert_int_eq(rest(SNAP_URL, "{\"bids\":[],\"asks\":[]}", T0), 1 + VREJ_SCHEMA);

    const struct venue_stats *st = venue_get_stats(V);
    ck_assert_uint_eq(st->by_reason[VREJ_JSON], 2);
    ck_assert_uint_eq(st->by_reason[VREJ_SCHEMA], 4);
    ck_assert_uint_eq(st->by_reason[VREJ_UNKNOWN_TYPE], 3);
    ck_assert_uint_eq(st->by_reason[VREJ_UNKNOWN_SYMBOL], 2);
    ck_assert_uint_eq(st->by_reason[VREJ_NUMBER], 2);
    ck_assert_uint_eq(st->rejected, 13);
    ck_assert_uint_eq(st->frames, 13);

    /* Still working. */
    go_live();
    ck_assert_int_eq(ws(1, "{\"e\":\"markPriceUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"p\":\"100.5\","
                           "\"i\":\"100.4\"}", T0), 0);
    ck_assert(BTC->mark == 100.5);
    ck_assert_uint_eq(st->rejected, 13);
}
END_TEST

Suite *venue_binance_suite(void)
{
    Suite *s = suite_create("venue_binance");
    TCase *tc;

    tc = tcase_create("frames");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_shared_frames);
    tcase_add_test(tc, test_doc_frames);
    tcase_add_test(tc, test_combined_and_raw);
    tcase_add_test(tc, test_liquidation_sides_and_routes);
    tcase_add_test(tc, test_garbage_counted);
    suite_add_tcase(s, tc);

    tc = tcase_create("connections");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_urls_market_route);
    tcase_add_test(tc, test_urls_public_route);
    tcase_add_test(tc, test_bad_route_refused);
    tcase_add_test(tc, test_streams_limit);
    suite_add_tcase(s, tc);

    tc = tcase_create("book_sync");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_snapshot_and_buffered_diffs);
    tcase_add_test(tc, test_snapshot_before_bridge);
    tcase_add_test(tc, test_snapshot_older_than_stream);
    tcase_add_test(tc, test_snapshot_at_event_boundary);
    tcase_add_test(tc, test_gap_resyncs);
    tcase_add_test(tc, test_duplicates_ignored);
    tcase_add_test(tc, test_depth_fields_first_wins);
    tcase_add_test(tc, test_crossed_book_invalidates);
    tcase_add_test(tc, test_snapshot_retry_by_tick);
    tcase_add_test(tc, test_close_invalidates);
    tcase_add_test(tc, test_replay_without_open);
    tcase_add_test(tc, test_buffer_bounded);
    tcase_set_timeout(tc, 10);
    suite_add_tcase(s, tc);
    return s;
}
