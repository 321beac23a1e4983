/*
 * check_venue_okx.c - the OKX swap adapter (src/venue/okx.c): real frames,
 * book sync (pushed snapshot, seqId continuity, gaps, REST seed and
 * bridge), CRC32 checksums on real books, contracts to base units,
 * liquidation sides, application ping.
 *
 * Fixtures: tests/fixtures/venues/okx-swap/ (README.md there names the
 * source of every frame).  Frames written inside this file are
 * synthetic and say so.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "liqmon/instrument.h"
#include "liqmon/market.h"
#include "liqmon/venue.h"
#include "suites.h"

#define FIX "tests/fixtures/venues/okx-swap/"
#define NS 1000000000LL
#define T0 (1700000000LL * NS)

/* ---- a recording venue_io ---------------------------------------------- */

#include "venue_evr.h"
#include "venue_diff.h"

static market_t *M;
static venue_t *V;

static dec_t D(const char *s)
{
    dec_t d = 0;
    ck_assert_int_eq(dec_parse(s, strlen(s), &d), DEC_OK);
    return d;
}

static struct mkt_instr *add_instr(const char *sym, const char *ctval)
{
    struct instrument spec;
    lq_err_t err;

    memset(&spec, 0, sizeof(spec));
    snprintf(spec.venue, sizeof(spec.venue), "okx-swap");
    snprintf(spec.symbol, sizeof(spec.symbol), "%s", sym);
    spec.tick_size = 0.1;
    spec.lot_step = D("0.01");
    spec.contract_value = D(ctval);
    struct mkt_instr *in = market_add(M, VENUE_OKX, &spec, &err);
    ck_assert_ptr_nonnull(in);
    return in;
}

/* BTC-USDT-SWAP from the shipped instrument file (ctVal 0.01); UNI-USD-SWAP,
 * BTC-USD-220527 and BTC-USDT by hand (ctVal 1: only their checksums and
 * sync are under test, not their units). */
static void setup(void)
{
    struct instrument spec;
    lq_err_t err;

    memset(&R, 0, sizeof(R));
    M = market_create();
    ck_assert_ptr_nonnull(M);
    ck_assert_int_eq(instrument_load_file("conf/instruments/okx-swap-BTC-USDT-SWAP.json",
                                          &spec, &err), 0);
    ck_assert_ptr_nonnull(market_add(M, VENUE_OKX, &spec, &err));
    instrument_fini(&spec);
    add_instr("UNI-USD-SWAP", "1");
    add_instr("BTC-USD-220527", "1");
    add_instr("BTC-USDT", "1");

    struct venue_config cfg;
    venue_config_default(VENUE_OKX, &cfg);
    struct venue_io io = { NULL, r_emit, r_send, r_get, r_reconn };
    V = venue_create(&cfg, M, &io, &err);
    ck_assert_msg(V != NULL, "venue_create: %s", err.msg);
}

static void teardown(void)
{
    venue_destroy(V);
    market_destroy(M);
    V = NULL;
    M = NULL;
}

static struct mkt_instr *I(const char *sym)
{
    struct mkt_instr *in = market_find(M, VENUE_OKX, sym);
    ck_assert_ptr_nonnull(in);
    return in;
}

static int feed(const char *frame, int64_t now)
{
    return venue_on_frame(V, 0, FRAME_WS, NULL, frame, strlen(frame), now);
}

static int feed_rest(const char *url, const char *body, int64_t now)
{
    return venue_on_frame(V, 0, FRAME_REST, url, body, strlen(body), now);
}

/* Lines of a fixture file (all allocated; free with free_lines). */
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

static int sent_contains(const char *needle)
{
    for (int i = 0; i < R.nsent; i++)
        if (strstr(R.sent[i], needle))
            return 1;
    return 0;
}

/* ---- connection, subscription ------------------------------------------- */

START_TEST(t_conn_and_subscribe)
{
    ck_assert_uint_eq(venue_conn_count(V), 1);
    ck_assert_str_eq(venue_conn_name(V, 0), "public");
    ck_assert_str_eq(venue_conn_url(V, 0), "wss://ws.okx.com:8443/ws/v5/public");
    venue_on_open(V, 0, T0);
    ck_assert_int_eq(R.nsent, 2);        /* + adl-warning (t_adl_subscribe) */
    ck_assert_ptr_nonnull(strstr(R.sent[0], "{\"op\":\"subscribe\",\"args\":["));
    ck_assert(sent_contains("{\"channel\":\"mark-price\",\"instId\":\"BTC-USDT-SWAP\"}"));
    ck_assert(sent_contains("{\"channel\":\"books\",\"instId\":\"BTC-USDT-SWAP\"}"));
    ck_assert(sent_contains("{\"channel\":\"books\",\"instId\":\"UNI-USD-SWAP\"}"));
    ck_assert(sent_contains("{\"channel\":\"liquidation-orders\",\"instType\":\"SWAP\"}"));
}
END_TEST

/* ---- ADL warnings (adl-warning) ------------------------------------------ */

START_TEST(t_adl_frames)
{
    int n;
    char **l = read_lines(FIX "adl-warning.jsonl", &n);
    const struct evr *e;

    ck_assert_int_eq(n, 3);
    /* 1: the documented 2026 push: FUTURES BTC-USDT warning, deprecated
     * fields "" (NAN), the currency from the family */
    ck_assert_int_eq(feed(l[0], T0), 0);
    e = last_ev(MEV_ADL_WARNING);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_null(e->in);               /* a FUTURES family: no swap */
    ck_assert_int_eq(e->kind, ADL_WARNING);
    ck_assert_str_eq(e->state, "warning");
    ck_assert_str_eq(e->scope, "FUTURES:BTC-USDT");
    ck_assert_str_eq(e->ccy, "USDT");
    ck_assert_double_eq_tol(e->bal, 280784384.9564228, 1e-6);
    ck_assert(isnan(e->max) && isnan(e->thr) && isnan(e->ratio) && isnan(e->trig) &&
              isnan(e->stop));
    ck_assert_int_eq(e->ts, 1700210763001LL * 1000000);
    /* 2: the older shape: normal, adlBal 0, ccy given */
    ck_assert_int_eq(feed(l[1], T0), 0);
    e = last_ev(MEV_ADL_WARNING);
    ck_assert_int_eq(e->kind, ADL_NORMAL);
    ck_assert_double_eq(e->thr, 0);
    ck_assert_str_eq(e->ccy, "USDT");
    /* 3: the subscribe ack */
    ck_assert_int_eq(feed(l[2], T0), 0);
    ck_assert_int_eq(count_ev(MEV_ADL_WARNING), 2);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
    free_lines(l, n);

    /* A SWAP family we watch names its swap; adl: ADL_ACTIVE (synthetic) */
    ck_assert_int_eq(feed("{\"arg\":{\"channel\":\"adl-warning\",\"instType\":\"SWAP\","
                          "\"instFamily\":\"BTC-USDT\"},\"data\":[{\"instType\":\"SWAP\","
                          "\"instFamily\":\"BTC-USDT\",\"state\":\"adl\",\"bal\":\"1000\","
                          "\"ts\":\"1700210764001\"}]}", T0), 0);
    e = last_ev(MEV_ADL_WARNING);
    ck_assert(e->in == I("BTC-USDT-SWAP"));
    ck_assert_int_eq(e->kind, ADL_ACTIVE);
    ck_assert_str_eq(e->scope, "SWAP:BTC-USDT");
    /* coin-margined: the fund is in the coin */
    ck_assert_int_eq(feed("{\"arg\":{\"channel\":\"adl-warning\",\"instType\":\"SWAP\"},"
                          "\"data\":[{\"instType\":\"SWAP\",\"instFamily\":\"UNI-USD\","
                          "\"state\":\"warning\",\"bal\":\"5\"}]}", T0), 0);
    e = last_ev(MEV_ADL_WARNING);
    ck_assert(e->in == I("UNI-USD-SWAP"));
    ck_assert_str_eq(e->ccy, "UNI");
}
END_TEST

/* Garbage in adl-warning frames (synthetic): rejected and counted, never
 * fatal, nothing of a rejected frame emitted. */
START_TEST(t_adl_garbage)
{
#define A "{\"arg\":{\"channel\":\"adl-warning\",\"instType\":\"SWAP\"},\"data\":"
    static const struct { const char *f; enum venue_reject why; } g[] = {
        { A "{}}", VREJ_SCHEMA },
        { A "[]}", VREJ_SCHEMA },
        { A "[{\"state\":\"warning\",\"bal\":\"1\"}]}", VREJ_SCHEMA },        /* no family */
        { A "[{\"instFamily\":\"BTC-USDT\",\"bal\":\"1\"}]}", VREJ_SCHEMA },  /* no state */
        { A "[{\"instFamily\":\"BTC-USDT\",\"state\":\"panic\",\"bal\":\"1\"}]}", VREJ_SCHEMA },
        { A "[{\"instFamily\":\"BTC-USDT\",\"state\":\"warning\"}]}", VREJ_NUMBER }, /* no bal */
        { A "[{\"instFamily\":\"BTC-USDT\",\"state\":\"warning\",\"bal\":\"\"}]}", VREJ_NUMBER },
        { A "[{\"instFamily\":\"BTC-USDT\",\"state\":\"warning\",\"bal\":\"-1\"}]}", VREJ_NUMBER },
        { A "[{\"instFamily\":\"BTC-USDT\",\"state\":\"warning\",\"bal\":\"1\",\"maxBal\":\"x\"}]}",
          VREJ_NUMBER },
        { A "[{\"instFamily\":\"BTC-USDT\",\"state\":\"warning\",\"bal\":\"1\",\"ts\":\"soon\"}]}",
          VREJ_NUMBER },
        { A "[{\"instFamily\":\"BTC-USDT\",\"state\":\"warning\",\"bal\":\"1\"},"
            "{\"instFamily\":\"ETH-USDT\",\"state\":\"adl\",\"bal\":\"-2\"}]}", VREJ_NUMBER },
    };
#undef A
    for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
        ck_assert_msg(feed(g[i].f, T0) == 1 + (int)g[i].why, "frame %zu", i);
    ck_assert_int_eq(count_ev(MEV_ADL_WARNING), 0);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, sizeof(g) / sizeof(g[0]));
}
END_TEST

START_TEST(t_adl_subscribe)
{
    lq_err_t err;

    venue_on_open(V, 0, T0);
    ck_assert_int_eq(R.nsent, 2);
    ck_assert_str_eq(R.sent[1], "{\"op\":\"subscribe\",\"args\":["
                     "{\"channel\":\"adl-warning\",\"instType\":\"SWAP\",\"instFamily\":\"BTC-USDT\"},"
                     "{\"channel\":\"adl-warning\",\"instType\":\"SWAP\",\"instFamily\":\"UNI-USD\"}]}");
    struct mkt_instr *eth = add_instr("ETH-USDT-SWAP", "0.1");
    ck_assert_int_eq(venue_add_instrument(V, eth, &err), 0);
    ck_assert(sent_contains("{\"channel\":\"adl-warning\",\"instType\":\"SWAP\","
                            "\"instFamily\":\"ETH-USDT\"}"));
    /* adl_warnings = false */
    venue_destroy(V);
    memset(&R, 0, sizeof(R));
    struct venue_config cfg;
    struct venue_io io = { NULL, r_emit, r_send, r_get, r_reconn };
    venue_config_default(VENUE_OKX, &cfg);
    cfg.adl_warnings = 0;
    V = venue_create(&cfg, M, &io, &err);
    ck_assert_ptr_nonnull(V);
    venue_on_open(V, 0, T0);
    ck_assert(!sent_contains("adl-warning"));
}
END_TEST

/* ---- real non-book frames ---------------------------------------------- */

START_TEST(t_real_frames)
{
    int n;
    char **l = read_lines(FIX "okx-frames.jsonl", &n);
    const struct evr *e;

    ck_assert_int_eq(n, 7);
    /* 1: mark price */
    ck_assert_int_eq(feed(l[0], T0), 0);
    e = last_ev(MEV_MARK);
    ck_assert_ptr_nonnull(e);
    ck_assert(e->in == I("BTC-USDT-SWAP"));
    ck_assert_double_eq(e->px, 110562.0);
    ck_assert_int_eq(e->ts, 1762079224447LL * 1000000);
    ck_assert_double_eq(I("BTC-USDT-SWAP")->mark, 110562.0);
    /* 2: a long liquidated (posSide long, side sell): 8.55 contracts x
     * ctVal 0.01 = 0.0855 BTC at the bankruptcy price */
    ck_assert_int_eq(feed(l[1], T0), 0);
    e = last_ev(MEV_LIQUIDATION);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->flag, 1);
    ck_assert_double_eq(e->px, 82655.7);
    ck_assert(e->q == D("0.0855"));
    ck_assert_int_eq(e->pk, LIQ_PX_BANKRUPTCY);
    ck_assert_int_eq(e->cov, LIQ_SAMPLED);
    ck_assert_int_eq(e->ts, 1791565600771LL * 1000000);
    /* 3: CELO, not watched: skipped without a rejection */
    int before = count_ev(MEV_LIQUIDATION);
    ck_assert_int_eq(feed(l[2], T0), 0);
    ck_assert_int_eq(count_ev(MEV_LIQUIDATION), before);
    /* 4: a short liquidated: 0.01 contracts = 0.0001 BTC */
    ck_assert_int_eq(feed(l[3], T0), 0);
    e = last_ev(MEV_LIQUIDATION);
    ck_assert_int_eq(e->flag, 0);
    ck_assert_double_eq(e->px, 23523.9);
    ck_assert(e->q == D("0.0001"));
    /* 5: IOST (docs example, with an "id"): not watched */
    ck_assert_int_eq(feed(l[4], T0), 0);
    ck_assert_int_eq(count_ev(MEV_LIQUIDATION), 2);
    /* 6: subscribe ack */
    ck_assert_int_eq(feed(l[5], T0), 0);
    /* 7: a channel we do not use */
    ck_assert_int_eq(feed(l[6], T0), 1 + VREJ_UNKNOWN_TYPE);
    const struct venue_stats *st = venue_get_stats(V);
    ck_assert_uint_eq(st->rejected, 1);
    ck_assert_uint_eq(st->by_reason[VREJ_UNKNOWN_TYPE], 1);
    free_lines(l, n);
}
END_TEST

/* Net mode (synthetic frames): posSide "net", side is the order's. */
START_TEST(t_liq_net_mode)
{
    const char *sell = "{\"arg\":{\"channel\":\"liquidation-orders\",\"instType\":\"SWAP\"},"
        "\"data\":[{\"details\":[{\"bkLoss\":\"0\",\"bkPx\":\"60000.1\",\"ccy\":\"\","
        "\"posSide\":\"net\",\"side\":\"sell\",\"sz\":\"3\",\"ts\":\"1700000000000\"},"
        "{\"bkLoss\":\"0\",\"bkPx\":\"60100.2\",\"ccy\":\"\",\"posSide\":\"net\","
        "\"side\":\"buy\",\"sz\":\"250\",\"ts\":\"1700000000001\"}],"
        "\"instFamily\":\"BTC-USDT\",\"instId\":\"BTC-USDT-SWAP\",\"instType\":\"SWAP\","
        "\"uly\":\"BTC-USDT\"}]}";

    ck_assert_int_eq(feed(sell, T0), 0);
    ck_assert_int_eq(count_ev(MEV_LIQUIDATION), 2);
    ck_assert_int_eq(R.ev[0].flag, 1);        /* net + sell: a long */
    ck_assert(R.ev[0].q == D("0.03"));
    ck_assert_int_eq(R.ev[1].flag, 0);        /* net + buy: a short */
    ck_assert(R.ev[1].q == D("2.5"));
    ck_assert_double_eq(R.ev[1].px, 60100.2);
}
END_TEST

/* ---- book sync with seqId (synthetic frames, BTC-USDT-SWAP) -------------- */

static char *bookf(char *buf, size_t n, const char *action, const char *bids,
                   const char *asks, long long prev, long long seq, long long cs,
                   long long ts)
{
    snprintf(buf, n,
             "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT-SWAP\"},"
             "\"action\":\"%s\",\"data\":[{\"asks\":[%s],\"bids\":[%s],"
             "\"ts\":\"%lld\",\"checksum\":%lld,\"prevSeqId\":%lld,\"seqId\":%lld}]}",
             action, asks, bids, ts, cs, prev, seq);
    return buf;
}

START_TEST(t_pushed_snapshot_and_seq)
{
    char f[1024];
    struct mkt_instr *in = I("BTC-USDT-SWAP");
    const struct venue_stats *st = venue_get_stats(V);

    venue_on_open(V, 0, T0);
    R.nsent = 0;
    /* Snapshot, checksum 0 (production since 2026-06-23: no validation,
     * although 0 is not the CRC of this book). */
    ck_assert_int_eq(feed(bookf(f, sizeof f, "snapshot",
                                "[\"60000.0\",\"10\",\"0\",\"1\"],[\"59999.9\",\"12.34\",\"0\",\"2\"]",
                                "[\"60000.1\",\"5\",\"0\",\"1\"]", -1, 10, 0, 1700000000000),
                          T0), 0);
    ck_assert_int_eq(in->book_valid, 1);
    ck_assert_int_eq(count_feed(FEED_BOOK_VALID), 1);
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), 1);
    /* contracts to base: 12.34 x 0.01 = 0.1234 BTC, 10 x 0.01 = 0.1 */
    ck_assert(book_qty_at(in->book, BOOK_BID, 59999.9) == D("0.1234"));
    ck_assert(book_qty_at(in->book, BOOK_BID, 60000.0) == D("0.1"));
    ck_assert(last_ev(MEV_BOOK_SNAPSHOT)->q == D("0.1"));
    ck_assert_int_eq(R.nget, 0);

    /* normal update 10 -> 15 */
    ck_assert_int_eq(feed(bookf(f, sizeof f, "update", "[\"60000.0\",\"0\",\"0\",\"0\"]",
                                "[\"60000.2\",\"7\",\"0\",\"1\"]", 10, 15, 0, 1700000000100),
                          T0 + 1), 0);
    ck_assert(book_qty_at(in->book, BOOK_BID, 60000.0) == 0);
    ck_assert(book_qty_at(in->book, BOOK_ASK, 60000.2) == D("0.07"));
    ck_assert_uint_eq(in->book_seq, 15);
    /* no-change heartbeat: prevSeqId == seqId == last */
    ck_assert_int_eq(feed(bookf(f, sizeof f, "update", "", "", 15, 15, 0, 1700000000200),
                          T0 + 2), 0);
    /* maintenance reset: seqId lower than prevSeqId, prevSeqId == last */
    ck_assert_int_eq(feed(bookf(f, sizeof f, "update", "[\"59999.8\",\"1\",\"0\",\"1\"]", "",
                                15, 3, 0, 1700000000300), T0 + 3), 0);
    ck_assert_uint_eq(in->book_seq, 3);
    ck_assert_int_eq(feed(bookf(f, sizeof f, "update", "[\"59999.8\",\"2\",\"0\",\"1\"]", "",
                                3, 5, 0, 1700000000400), T0 + 4), 0);
    ck_assert(book_qty_at(in->book, BOOK_BID, 59999.8) == D("0.02"));
    /* the same update again (an overlapping connection): skipped, counted
     * apart from rejections */
    ck_assert_int_eq(feed(bookf(f, sizeof f, "update", "[\"59999.8\",\"9\",\"0\",\"1\"]", "",
                                3, 5, 0, 1700000000400), T0 + 5), VENUE_SKIPPED(VSKIP_DUPLICATE));
    ck_assert(book_qty_at(in->book, BOOK_BID, 59999.8) == D("0.02"));
    ck_assert_uint_eq(st->skipped_by_rule[VSKIP_DUPLICATE], 1);
    ck_assert_uint_eq(st->skipped, 1);
    ck_assert_uint_eq(st->rejected, 0);
    ck_assert_int_eq(in->book_valid, 1);
    ck_assert_int_eq(count_feed(FEED_BOOK_INVALID), 0);
    ck_assert_int_eq(count_ev(MEV_BOOK_DELTA), 4);

    /* a gap: prevSeqId 7 != 5 -> invalid, resubscribed */
    ck_assert_int_eq(feed(bookf(f, sizeof f, "update", "[\"59999.8\",\"3\",\"0\",\"1\"]", "",
                                7, 9, 0, 1700000000500), T0 + 6), 0);
    ck_assert_int_eq(in->book_valid, 0);
    ck_assert_int_eq(count_feed(FEED_BOOK_INVALID), 1);
    ck_assert_str_eq(in->invalid_reason, "sequence gap");
    ck_assert(sent_contains("{\"op\":\"unsubscribe\",\"args\":[{\"channel\":\"books\",\"instId\":\"BTC-USDT-SWAP\"}]}"));
    ck_assert(sent_contains("{\"op\":\"subscribe\",\"args\":[{\"channel\":\"books\",\"instId\":\"BTC-USDT-SWAP\"}]}"));
    /* the new subscription's snapshot revalidates */
    ck_assert_int_eq(feed(bookf(f, sizeof f, "snapshot", "[\"60001.0\",\"1\",\"0\",\"1\"]",
                                "[\"60001.5\",\"1\",\"0\",\"1\"]", -1, 100, 0, 1700000001000),
                          T0 + 7), 0);
    ck_assert_int_eq(in->book_valid, 1);
    ck_assert_int_eq(count_feed(FEED_BOOK_VALID), 2);
    ck_assert_uint_eq(book_level_count(in->book, BOOK_BID), 1);
    /* crossed by an update -> invalid */
    ck_assert_int_eq(feed(bookf(f, sizeof f, "update", "[\"60002.0\",\"1\",\"0\",\"1\"]", "",
                                100, 101, 0, 1700000001100), T0 + 8), 0);
    ck_assert_int_eq(in->book_valid, 0);
    ck_assert_str_eq(in->invalid_reason, "crossed book");
    ck_assert_int_eq(count_feed(FEED_BOOK_INVALID), 2);
}
END_TEST

/* ---- CRC32 on real books ------------------------------------------------ */

/* Every frame of a real capture (May 2022, non-zero checksums, no seqId)
 * is applied with its checksum validated: none may fail. */
static void replay_real(const char *file, const char *sym)
{
    int n;
    char **l = read_lines(file, &n);
    struct mkt_instr *in = I(sym);

    ck_assert_int_gt(n, 50);
    venue_on_open(V, 0, T0);
    for (int i = 0; i < n; i++)
        ck_assert_msg(feed(l[i], T0 + i) == 0, "%s line %d rejected", file, i + 1);
    ck_assert_msg(in->book_valid, "%s: %s", sym, in->invalid_reason);
    ck_assert_uint_eq(in->book_resyncs, 0);
    ck_assert_int_eq(count_feed(FEED_BOOK_INVALID), 0);
    ck_assert_int_eq(count_ev(MEV_BOOK_DELTA), n - 1);
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
    ck_assert_int_eq(book_check(in->book), 0);
    free_lines(l, n);
}

START_TEST(t_checksum_real_uni)
{
    replay_real(FIX "cryptofeed-books-UNI-USD-SWAP.jsonl", "UNI-USD-SWAP");
    /* spot check against the capture: the snapshot's best bid */
    ck_assert_int_gt((int)book_level_count(I("UNI-USD-SWAP")->book, BOOK_BID), 25);
}
END_TEST

START_TEST(t_checksum_real_btc_future)
{
    replay_real(FIX "cryptofeed-books-BTC-USD-220527.jsonl", "BTC-USD-220527");
}
END_TEST

/* The frame with its checksum changed by delta (still a valid int32). */
static char *with_checksum(const char *s, long long delta)
{
    const char *p = strstr(s, "\"checksum\":");
    ck_assert_ptr_nonnull(p);
    p += strlen("\"checksum\":");
    char *end;
    long long v = strtoll(p, &end, 10);
    long long nv = v + delta;
    if (nv > 2147483647LL || nv < -2147483648LL)
        nv = v - delta;
    char *o = malloc(strlen(s) + 32);
    int a = (int)(p - s);
    sprintf(o, "%.*s%lld%s", a, s, nv, end);
    return o;
}

/* The frame with the size of its first bid prefixed by "9": the best
 * bid of a snapshot, so the top 25 surely change. */
static char *bump_best_bid(const char *s)
{
    const char *p = strstr(s, "\"bids\":[[\"");
    ck_assert_ptr_nonnull(p);
    p = strstr(p + 10, "\",\"");
    ck_assert_ptr_nonnull(p);
    p += 3;
    char *o = malloc(strlen(s) + 2);
    int a = (int)(p - s);
    sprintf(o, "%.*s9%s", a, s, p);
    return o;
}

START_TEST(t_checksum_real_bad)
{
    int n;
    char **l = read_lines(FIX "cryptofeed-books-UNI-USD-SWAP.jsonl", &n);
    struct mkt_instr *in = I("UNI-USD-SWAP");

    venue_on_open(V, 0, T0);
    R.nsent = 0;
    ck_assert_int_eq(feed(l[0], T0), 0);
    ck_assert_int_eq(in->book_valid, 1);
    ck_assert_int_eq(feed(l[1], T0 + 1), 0);
    ck_assert_int_eq(in->book_valid, 1);
    /* The third real update with a checksum one off: mismatch. */
    char *bad = with_checksum(l[2], 1);
    ck_assert_int_eq(feed(bad, T0 + 2), 0);
    free(bad);
    ck_assert_int_eq(in->book_valid, 0);
    ck_assert_str_eq(in->invalid_reason, "checksum mismatch");
    ck_assert_int_eq(count_feed(FEED_BOOK_INVALID), 1);
    ck_assert(sent_contains("\"op\":\"subscribe\",\"args\":[{\"channel\":\"books\",\"instId\":\"UNI-USD-SWAP\"}"));
    /* The real snapshot with its best bid's size changed: mismatch. */
    char *snap = bump_best_bid(l[0]);
    ck_assert_int_eq(feed(snap, T0 + 3), 0);
    free(snap);
    ck_assert_int_eq(in->book_valid, 0);
    /* The untouched snapshot, then the real updates: valid again. */
    ck_assert_int_eq(feed(l[0], T0 + 4), 0);
    ck_assert_int_eq(in->book_valid, 1);
    for (int i = 1; i < 10; i++)
        ck_assert_int_eq(feed(l[i], T0 + 4 + i), 0);
    ck_assert_int_eq(in->book_valid, 1);
    free_lines(l, n);

    /* OKX's documentation example: its checksum (-855196043) is not the
     * CRC of its own levels (that is -2102840145), so it never validates. */
    l = read_lines(FIX "books-docs-example.jsonl", &n);
    ck_assert_int_eq(feed(l[0], T0 + 20), 0);
    ck_assert_int_eq(I("BTC-USDT")->book_valid, 0);
    ck_assert_str_eq(I("BTC-USDT")->invalid_reason, "checksum mismatch");
    /* ... and with its CRC the same levels validate */
    char *fixed = with_checksum(l[0], -2102840145LL + 855196043LL);
    ck_assert_int_eq(feed(fixed, T0 + 21), 0);
    free(fixed);
    ck_assert_int_eq(I("BTC-USDT")->book_valid, 1);
    free_lines(l, n);
}
END_TEST

/* OKX's documented worked example: bids 3366.1/7, 3366/6; asks 3366.8/9,
 * 3368/8 -> "3366.1:7:3366.8:9:3366:6:3368:8", whose signed CRC32 is
 * -1881014294 (computed independently with Python's zlib.crc32). */
START_TEST(t_checksum_docs_worked_example)
{
    const char *good = "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"snapshot\","
        "\"data\":[{\"asks\":[[\"3366.8\",\"9\",\"10\",\"3\"],[\"3368\",\"8\",\"3\",\"4\"]],"
        "\"bids\":[[\"3366.1\",\"7\",\"0\",\"3\"],[\"3366\",\"6\",\"3\",\"4\"]],"
        "\"ts\":\"1597026383085\",\"checksum\":-1881014294}]}";
    ck_assert_int_eq(feed(good, T0), 0);
    ck_assert_int_eq(I("BTC-USDT")->book_valid, 1);
}
END_TEST

/* ---- REST seed and bridge (synthetic ws frames, REST bodies shaped as
 * the documented answer) ------------------------------------------------- */

static const char *URL = "/api/v5/market/books?instId=BTC-USDT-SWAP&sz=400";

START_TEST(t_rest_seed_without_seq)
{
    char f[1024], body[1024];
    struct mkt_instr *in = I("BTC-USDT-SWAP");

    venue_on_open(V, 0, T0);
    /* No snapshot: the first update is buffered and the seed requested. */
    feed(bookf(f, sizeof f, "update", "[\"100.0\",\"1\",\"0\",\"1\"]", "", 50, 51, 0,
               1700000000000), T0 + 1);
    ck_assert_int_eq(R.nget, 1);
    ck_assert_str_eq(R.get[0], URL);
    ck_assert_int_eq(in->book_valid, 0);
    feed(bookf(f, sizeof f, "update", "[\"99.0\",\"2\",\"0\",\"1\"]", "", 51, 52, 0,
               1700000000100), T0 + 2);
    feed(bookf(f, sizeof f, "update", "[\"100.0\",\"0\",\"0\",\"0\"]",
               "[\"101.0\",\"4\",\"0\",\"1\"]", 52, 53, 0, 1700000000200), T0 + 3);
    ck_assert_int_eq(R.nget, 1);
    ck_assert_int_eq(count_ev(MEV_BOOK_DELTA), 0);

    /* An answer older than the first buffered update: asked again. */
    snprintf(body, sizeof body, "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"asks\":"
             "[[\"101.0\",\"3\",\"0\",\"1\"]],\"bids\":[[\"99.0\",\"1\",\"0\",\"1\"]],"
             "\"ts\":\"1699999999000\"}]}");
    ck_assert_int_eq(feed_rest(URL, body, T0 + 4), 0);
    ck_assert_int_eq(in->book_valid, 0);
    ck_assert_int_eq(R.nget, 2);

    /* A fresh answer taken between update 52 and 53: it shows 100.0 (not
     * yet removed), 99.0 at 2, 101.0 at 3, and 102 that no update
     * touches.  Replaying 51..53 gives the book as of 53. */
    snprintf(body, sizeof body, "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"asks\":"
             "[[\"101.0\",\"3\",\"0\",\"1\"],[\"102.0\",\"6\",\"0\",\"1\"]],"
             "\"bids\":[[\"100.0\",\"1\",\"0\",\"1\"],[\"99.0\",\"2\",\"0\",\"1\"]],"
             "\"ts\":\"1700000000150\"}]}");
    ck_assert_int_eq(feed_rest(URL, body, T0 + 5), 0);
    ck_assert_int_eq(in->book_valid, 1);
    ck_assert_int_eq(count_feed(FEED_BOOK_VALID), 1);
    ck_assert(book_qty_at(in->book, BOOK_BID, 100.0) == 0);
    ck_assert(book_qty_at(in->book, BOOK_BID, 99.0) == D("0.02"));
    ck_assert(book_qty_at(in->book, BOOK_ASK, 101.0) == D("0.04"));
    ck_assert(book_qty_at(in->book, BOOK_ASK, 102.0) == D("0.06"));
    ck_assert_uint_eq(in->book_seq, 53);
    /* live again: the chain continues from the last buffered update */
    ck_assert_int_eq(feed(bookf(f, sizeof f, "update", "[\"99.0\",\"5\",\"0\",\"1\"]", "",
                                53, 54, 0, 1700000000300), T0 + 6), 0);
    ck_assert(book_qty_at(in->book, BOOK_BID, 99.0) == D("0.05"));
    ck_assert_int_eq(in->book_valid, 1);
    /* a late duplicate answer is ignored: skipped, not rejected */
    ck_assert_int_eq(feed_rest(URL, body, T0 + 7), VENUE_SKIPPED(VSKIP_LATE_SNAPSHOT));
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
    ck_assert(book_qty_at(in->book, BOOK_BID, 99.0) == D("0.05"));
}
END_TEST

START_TEST(t_rest_seed_with_seq)
{
    char f[1024], body[1024];
    struct mkt_instr *in = I("BTC-USDT-SWAP");

    venue_on_open(V, 0, T0);
    feed(bookf(f, sizeof f, "update", "[\"100.0\",\"1\",\"0\",\"1\"]", "", 50, 51, 0,
               1700000000000), T0 + 1);
    feed(bookf(f, sizeof f, "update", "[\"100.0\",\"2\",\"0\",\"1\"]", "", 51, 55, 0,
               1700000000100), T0 + 2);
    feed(bookf(f, sizeof f, "update", "[\"100.0\",\"3\",\"0\",\"1\"]", "", 55, 60, 0,
               1700000000200), T0 + 3);
    ck_assert_int_eq(R.nget, 1);
    /* Snapshot at seqId 57: drops 51 and 55; 60 bridges (55 <= 57 < 60). */
    snprintf(body, sizeof body, "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"asks\":"
             "[[\"101.0\",\"3\",\"0\",\"1\"]],\"bids\":[[\"100.0\",\"2\",\"0\",\"1\"],"
             "[\"98.0\",\"1\",\"0\",\"1\"]],\"ts\":\"1700000000150\",\"seqId\":57}]}");
    ck_assert_int_eq(feed_rest(URL, body, T0 + 4), 0);
    ck_assert_int_eq(in->book_valid, 1);
    ck_assert(book_qty_at(in->book, BOOK_BID, 100.0) == D("0.03"));
    ck_assert(book_qty_at(in->book, BOOK_BID, 98.0) == D("0.01"));
    ck_assert_uint_eq(in->book_seq, 60);

    /* Snapshot at seqId 40 while the buffer starts at 50: too old. */
    venue_on_close(V, 0, T0 + 5);
    venue_on_open(V, 0, T0 + 6);
    R.nget = 0;
    feed(bookf(f, sizeof f, "update", "[\"100.0\",\"1\",\"0\",\"1\"]", "", 50, 51, 0,
               1700000001000), T0 + 7);
    ck_assert_int_eq(R.nget, 1);
    snprintf(body, sizeof body, "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"asks\":"
             "[[\"101.0\",\"3\",\"0\",\"1\"]],\"bids\":[[\"100.0\",\"2\",\"0\",\"1\"]],"
             "\"ts\":\"1700000000900\",\"seqId\":40}]}");
    ck_assert_int_eq(feed_rest(URL, body, T0 + 8), 0);
    ck_assert_int_eq(in->book_valid, 0);
    ck_assert_int_eq(R.nget, 2);
    /* Seeded with an empty buffer: the first live update must bridge. */
    venue_on_close(V, 0, T0 + 9);
    venue_on_open(V, 0, T0 + 10);
    snprintf(body, sizeof body, "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"asks\":"
             "[[\"101.0\",\"3\",\"0\",\"1\"]],\"bids\":[[\"100.0\",\"2\",\"0\",\"1\"]],"
             "\"ts\":\"1700000002000\",\"seqId\":70}]}");
    ck_assert_int_eq(feed_rest(URL, body, T0 + 11), 0);
    ck_assert_int_eq(in->book_valid, 1);
    ck_assert_int_eq(feed(bookf(f, sizeof f, "update", "[\"100.0\",\"9\",\"0\",\"1\"]", "",
                                65, 70, 0, 1700000002000), T0 + 12),
                     VENUE_SKIPPED(VSKIP_OLDER_THAN_SNAPSHOT));
    ck_assert_uint_eq(venue_get_stats(V)->skipped_by_rule[VSKIP_OLDER_THAN_SNAPSHOT], 1);
    ck_assert_int_eq(feed(bookf(f, sizeof f, "update", "[\"100.0\",\"4\",\"0\",\"1\"]", "",
                                68, 72, 0, 1700000002100), T0 + 13), 0);
    ck_assert(book_qty_at(in->book, BOOK_BID, 100.0) == D("0.04"));
    ck_assert_int_eq(feed(bookf(f, sizeof f, "update", "[\"100.0\",\"5\",\"0\",\"1\"]", "",
                                72, 73, 0, 1700000002200), T0 + 14), 0);
    ck_assert_int_eq(in->book_valid, 1);
    /* an error answer is a venue error, counted */
    ck_assert_int_eq(feed_rest(URL, "{\"code\":\"50011\",\"msg\":\"Too Many Requests\",\"data\":[]}",
                               T0 + 15), 1 + VREJ_VENUE_ERROR);
}
END_TEST

START_TEST(t_rest_docs_example_and_timeouts)
{
    int n;
    char **l = read_lines(FIX "rest-books-docs-example.json", &n);
    struct mkt_instr *in = I("BTC-USDT-SWAP");

    venue_on_open(V, 0, T0);
    venue_tick(V, T0 + 1 * NS);
    ck_assert_int_eq(R.nget, 0);
    venue_tick(V, T0 + 3 * NS);          /* no snapshot, no update: seed */
    ck_assert_int_eq(R.nget, 4);         /* one per watched instrument */
    venue_tick(V, T0 + 5 * NS);
    ck_assert_int_eq(R.nget, 4);
    venue_tick(V, T0 + 8 * NS);          /* unanswered: asked again */
    ck_assert_int_eq(R.nget, 8);
    /* the documented answer: 3 levels per side, sizes in contracts */
    ck_assert_int_eq(feed_rest(URL, l[0], T0 + 9 * NS), 0);
    ck_assert_int_eq(in->book_valid, 1);
    ck_assert(book_qty_at(in->book, BOOK_ASK, 41006.8) == D("0.0060038921") ||
              book_qty_at(in->book, BOOK_ASK, 41006.8) == D("0.00600389"));
    ck_assert(book_qty_at(in->book, BOOK_BID, 41006.5) == D("0.01125"));
    ck_assert_int_eq(count_ev(MEV_BOOK_SNAPSHOT), 1);
    free_lines(l, n);
}
END_TEST

/* ---- ping ----------------------------------------------------------------- */

START_TEST(t_ping_when_idle)
{
    venue_on_open(V, 0, T0);
    R.nsent = 0;
    venue_tick(V, T0 + 10 * NS);
    ck_assert_int_eq(R.nsent, 0);
    feed("{\"event\":\"subscribe\",\"arg\":{\"channel\":\"books\",\"instId\":\"UNI-USD-SWAP\"}}",
         T0 + 20 * NS);
    venue_tick(V, T0 + 40 * NS);          /* 20 s idle < 25 */
    ck_assert(!sent_contains("ping"));
    venue_tick(V, T0 + 45 * NS);          /* 25 s idle */
    ck_assert_int_eq(R.nsent > 0, 1);
    ck_assert_str_eq(R.sent[R.nsent - 1], "ping");
    int pings = R.nsent;
    venue_tick(V, T0 + 46 * NS);          /* one ping outstanding at a time */
    ck_assert_int_eq(R.nsent, pings);
    ck_assert_int_eq(feed("pong", T0 + 46 * NS), 0);   /* not JSON, not a reject */
    ck_assert_uint_eq(venue_get_stats(V)->rejected, 0);
    venue_tick(V, T0 + 71 * NS);          /* idle again: ping */
    ck_assert_int_eq(R.nsent, pings + 1);
    venue_tick(V, T0 + 96 * NS);          /* no answer for an interval */
    ck_assert_int_eq(R.nreconn, 1);
    /* closed: books invalid, no pings */
    venue_on_close(V, 0, T0 + 97 * NS);
    int s = R.nsent;
    venue_tick(V, T0 + 200 * NS);
    ck_assert_int_eq(R.nsent, s);
}
END_TEST

/* ---- garbage ------------------------------------------------------------ */

START_TEST(t_garbage_counted)
{
    const struct venue_stats *st = venue_get_stats(V);

    ck_assert_int_eq(feed("not json at all", T0), 1 + VREJ_JSON);
    ck_assert_int_eq(feed("{\"arg\":", T0), 1 + VREJ_JSON);
    ck_assert_int_eq(feed("[1,2,3]", T0), 1 + VREJ_SCHEMA);
    ck_assert_int_eq(feed("{\"foo\":1}", T0), 1 + VREJ_SCHEMA);
    ck_assert_int_eq(feed("{\"event\":\"error\",\"code\":\"60012\",\"msg\":\"Invalid request\",\"connId\":\"a4d3ae55\"}", T0),
                     1 + VREJ_VENUE_ERROR);
    ck_assert_int_eq(feed("{\"arg\":{\"channel\":\"books\",\"instId\":\"DOGE-USDT-SWAP\"},\"action\":\"snapshot\",\"data\":[{\"asks\":[],\"bids\":[],\"ts\":\"1\",\"checksum\":0}]}", T0),
                     1 + VREJ_UNKNOWN_SYMBOL);
    ck_assert_int_eq(feed("{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT-SWAP\"},\"action\":\"snapshot\",\"data\":[{\"asks\":[[\"x\",\"1\"]],\"bids\":[],\"ts\":\"1\",\"checksum\":0}]}", T0),
                     1 + VREJ_NUMBER);
    ck_assert_int_eq(feed("{\"arg\":{\"channel\":\"mark-price\",\"instId\":\"BTC-USDT-SWAP\"},\"data\":[{\"instId\":\"BTC-USDT-SWAP\"}]}", T0),
                     1 + VREJ_SCHEMA);
    ck_assert_int_eq(feed("{\"event\":\"notice\",\"code\":\"64008\",\"msg\":\"The connection will soon be closed for a service upgrade.\"}", T0), 0);
    ck_assert_uint_eq(st->rejected, 8);
    ck_assert_uint_eq(st->by_reason[VREJ_JSON], 2);
    ck_assert_uint_eq(st->by_reason[VREJ_SCHEMA], 3);
    ck_assert_uint_eq(st->by_reason[VREJ_VENUE_ERROR], 1);
    ck_assert_uint_eq(st->by_reason[VREJ_UNKNOWN_SYMBOL], 1);
    ck_assert_uint_eq(st->by_reason[VREJ_NUMBER], 1);
    /* still working */
    ck_assert_int_eq(feed("{\"arg\":{\"channel\":\"mark-price\",\"instId\":\"BTC-USDT-SWAP\"},\"data\":[{\"instId\":\"BTC-USDT-SWAP\",\"instType\":\"SWAP\",\"markPx\":\"110562.0\",\"ts\":\"1762079224447\"}]}", T0), 0);
    ck_assert_int_eq(count_ev(MEV_MARK), 1);
    ck_assert_uint_eq(st->frames, 10);
}
END_TEST

/* ---- checksums against an independent model ----------------------------- */

/* A side of the model: price ticks (integers) and sizes, best first.  The
 * test builds OKX's checksum text itself from the model's strings and
 * takes zlib's crc32 of it, so the pieces the adapter keeps in the book
 * (one per level, in its aux word) are checked against a second
 * implementation on every frame.
 * Synthetic frames (UNI-USD-SWAP, ctVal 1). */
struct mside {
    int n;
    int px[400];        /* ticks of 0.001 */
    int sz[400];
};

static void m_px(int t, char *o)
{
    /* "5.123" and, for every seventh tick, the form with a trailing zero
     * dropped ("5.12") where it has one: the original text is what counts */
    if (t % 10 == 0 && t % 7 == 0)
        sprintf(o, "%d.%02d", t / 1000, (t % 1000) / 10);
    else
        sprintf(o, "%d.%03d", t / 1000, t % 1000);
}

static int32_t m_checksum(const struct mside *b, const struct mside *a)
{
    char buf[8192], px[32];
    size_t o = 0;

    for (int i = 0; i < 25; i++) {
        if (i < b->n) {
            m_px(b->px[i], px);
            o += (size_t)sprintf(buf + o, "%s:%d:", px, b->sz[i]);
        }
        if (i < a->n) {
            m_px(a->px[i], px);
            o += (size_t)sprintf(buf + o, "%s:%d:", px, a->sz[i]);
        }
    }
    return (int32_t)crc32(0, (const unsigned char *)buf, o ? (unsigned)o - 1 : 0);
}

/* Set (sz > 0) or delete (sz == 0) the level at tick t; bids descending
 * (bid = 1), asks ascending. */
static void m_set(struct mside *s, int bid, int t, int sz)
{
    int i = 0;
    while (i < s->n && (bid ? s->px[i] > t : s->px[i] < t))
        i++;
    if (i < s->n && s->px[i] == t) {
        if (sz > 0) {
            s->sz[i] = sz;
        } else {
            memmove(&s->px[i], &s->px[i + 1], (size_t)(s->n - i - 1) * sizeof(int));
            memmove(&s->sz[i], &s->sz[i + 1], (size_t)(s->n - i - 1) * sizeof(int));
            s->n--;
        }
    } else if (sz > 0 && s->n < 400) {
        memmove(&s->px[i + 1], &s->px[i], (size_t)(s->n - i) * sizeof(int));
        memmove(&s->sz[i + 1], &s->sz[i], (size_t)(s->n - i) * sizeof(int));
        s->px[i] = t;
        s->sz[i] = sz;
        s->n++;
    }
}

static size_t m_levels(char *o, const int *t, const int *sz, int n)
{
    size_t k = 0;
    char px[32];

    k += (size_t)sprintf(o + k, "[");
    for (int i = 0; i < n; i++) {
        m_px(t[i], px);
        k += (size_t)sprintf(o + k, "%s[\"%s\",\"%d\",\"0\",\"1\"]", i ? "," : "", px, sz[i]);
    }
    k += (size_t)sprintf(o + k, "]");
    return k;
}

static uint64_t m_rs = 88172645463325252ULL;
static int m_rnd(int n)
{
    m_rs ^= m_rs << 13;
    m_rs ^= m_rs >> 7;
    m_rs ^= m_rs << 17;
    return (int)(m_rs % (uint64_t)n);
}

/* Books that grow past 256 levels a side (many leaves of the book's tree,
 * so pieces move with splits, merges and lending) and shrink back under
 * 25, with runs of deletions at the top, levels added and deleted at the
 * far end and inserts at every depth (within the best 25 and beyond, so
 * levels move into the checksum from below): 4,000 frames, each with its
 * checksum validated, then one frame one off, which must fail. */
static void checksum_model(int portable)
{
    static struct mside b, a;
    static char frame[65536];
    int bt[64], bs[64], at[64], as[64];
    struct mkt_instr *in = I("UNI-USD-SWAP");
    const char *hdr = "{\"arg\":{\"channel\":\"books\",\"instId\":\"UNI-USD-SWAP\"},\"action\":";

    memset(&b, 0, sizeof(b));
    memset(&a, 0, sizeof(a));
    venue_okx_portable_crc(V, portable);
    venue_on_open(V, 0, T0);
    for (int i = 0; i < 30; i++) {
        m_set(&b, 1, 5000 - 2 * i, 1 + i);
        m_set(&a, 0, 5002 + 2 * i, 2 + i);
    }
    size_t k = (size_t)sprintf(frame, "%s\"snapshot\",\"data\":[{\"asks\":", hdr);
    k += m_levels(frame + k, a.px, a.sz, a.n);
    k += (size_t)sprintf(frame + k, ",\"bids\":");
    k += m_levels(frame + k, b.px, b.sz, b.n);
    sprintf(frame + k, ",\"ts\":\"1\",\"checksum\":%d}]}", m_checksum(&b, &a));
    ck_assert_int_eq(feed(frame, T0), 0);
    ck_assert(in->book_valid);

    int maxn = 0, minn_after = 1000, far = 0;
    for (int f = 0; f < 4000; f++) {
        /* phases of 400 frames: grow, shrink, hover (deletions at the top
         * and new levels below every other, keeping a side near the
         * cache's 48 levels, where levels leave it at the bottom) */
        int phase = f / 400 % 3, grow = phase == 0, drain = phase == 2;
        int nb = 0, na = 0, n = 1 + m_rnd(grow ? 12 : 6);
        for (int j = 0; j < n; j++) {
            int side = m_rnd(2);
            struct mside *s = side ? &a : &b;
            int best = s->n ? s->px[0] : (side ? 5002 : 5000);
            int r = m_rnd(100), t, sz;
            if (drain && s->n >= 47 + m_rnd(3)) {        /* delete at the top */
                t = s->px[0];
                sz = 0;
            } else if (drain) {                          /* a new worst level */
                int d = s->n + 1 + m_rnd(20);
                t = side ? best + d : best - d;
                sz = 1 + m_rnd(500);
            } else if (!grow && s->n > 0 && r < 45) {   /* delete at the top */
                t = s->px[m_rnd(s->n < 4 ? s->n : 4)];
                sz = 0;
            } else if (s->n > 0 && r < (grow ? 10 : 70)) { /* change an existing one */
                t = s->px[m_rnd(s->n)];
                sz = grow || m_rnd(3) ? 1 + m_rnd(500) : 0;
            } else {                                    /* a new level, any depth */
                int d = 1 + m_rnd(s->n + 40);
                t = side ? best + d : best - d;
                if (!side && a.n && t >= a.px[0])
                    t = a.px[0] - 1;
                if (side && b.n && t <= b.px[0])
                    t = b.px[0] + 1;
                sz = 1 + m_rnd(500);
                if (s->n >= 390)
                    continue;                            /* the model's limit */
            }
            if (s->n > 40 && (side ? t > s->px[s->n - 8] : t < s->px[s->n - 8]))
                far++;                                   /* near the worst */
            /* one change per price per frame, as OKX sends */
            int dup = 0;
            for (int q = 0; q < (side ? na : nb); q++)
                dup |= (side ? at[q] : bt[q]) == t;
            if (dup || t <= 0)
                continue;
            if (side) {
                at[na] = t;
                as[na++] = sz;
            } else {
                bt[nb] = t;
                bs[nb++] = sz;
            }
            m_set(s, !side, t, sz);
        }
        if (b.n > maxn)
            maxn = b.n;
        if (a.n > maxn)
            maxn = a.n;
        if (maxn > 256 && b.n < minn_after)
            minn_after = b.n;
        k = (size_t)sprintf(frame, "%s\"update\",\"data\":[{\"asks\":", hdr);
        k += m_levels(frame + k, at, as, na);
        k += (size_t)sprintf(frame + k, ",\"bids\":");
        k += m_levels(frame + k, bt, bs, nb);
        sprintf(frame + k, ",\"ts\":\"%d\",\"checksum\":%d}]}", 2 + f, m_checksum(&b, &a));
        ck_assert_msg(feed(frame, T0 + f + 1) == 0, "frame %d rejected", f);
        ck_assert_msg(in->book_valid, "frame %d: %s (bids %d, asks %d)", f,
                      in->invalid_reason, b.n, a.n);
    }
    /* the walk went deep, and back under 25 */
    ck_assert_int_gt(maxn, 256);
    ck_assert_int_lt(minn_after, 25);
    ck_assert_int_gt(far, 200);
    ck_assert_uint_eq(in->book_resyncs, 0);
    ck_assert_int_eq((int)book_level_count(in->book, BOOK_BID), b.n);
    ck_assert_int_eq((int)book_level_count(in->book, BOOK_ASK), a.n);

    /* and a checksum one off is caught */
    k = (size_t)sprintf(frame, "%s\"update\",\"data\":[{\"asks\":[],\"bids\":[],"
                        "\"ts\":\"9999\",\"checksum\":%d}]}", hdr, m_checksum(&b, &a) + 1);
    feed(frame, T0 + 5000);
    ck_assert(!in->book_valid);
    ck_assert_str_eq(in->invalid_reason, "checksum mismatch");
}

/* A snapshot whose asks come in no order, with a price twice (the last
 * one counts, with its text): its checksum and the next one hold. */
START_TEST(t_checksum_snapshot_any_order)
{
    static struct mside b, a;
    static char frame[16384];
    struct mkt_instr *in = I("UNI-USD-SWAP");
    const char *hdr = "{\"arg\":{\"channel\":\"books\",\"instId\":\"UNI-USD-SWAP\"},\"action\":";
    int at[40], as[40], n = 0;

    memset(&b, 0, sizeof(b));
    memset(&a, 0, sizeof(a));
    venue_on_open(V, 0, T0);
    for (int i = 0; i < 30; i++) {
        m_set(&b, 1, 5000 - 2 * i, 1 + i);
        m_set(&a, 0, 5002 + 3 * i, 2 + i);
    }
    /* the five best in order, the third with a size a later copy
     * replaces, then all of them shuffled (a fixed permutation) */
    for (int i = 0; i < 5; i++) {
        at[n] = a.px[i];
        as[n++] = i == 2 ? 999 : a.sz[i];
    }
    for (int i = 0; i < a.n; i++) {
        int j = (i * 7) % a.n;           /* 7 is prime to 30 */
        at[n] = a.px[j];
        as[n++] = a.sz[j];
    }
    size_t k = (size_t)sprintf(frame, "%s\"snapshot\",\"data\":[{\"asks\":", hdr);
    k += m_levels(frame + k, at, as, n);
    k += (size_t)sprintf(frame + k, ",\"bids\":");
    k += m_levels(frame + k, b.px, b.sz, b.n);
    sprintf(frame + k, ",\"ts\":\"1\",\"checksum\":%d}]}", m_checksum(&b, &a));
    ck_assert_int_eq(feed(frame, T0), 0);
    ck_assert_msg(in->book_valid, "%s", in->invalid_reason);
    ck_assert_int_eq((int)book_level_count(in->book, BOOK_ASK), 30);

    /* an update at the top of each side */
    m_set(&a, 0, a.px[0], 0);
    m_set(&b, 1, 5001, 77);
    k = (size_t)sprintf(frame, "%s\"update\",\"data\":[{\"asks\":[[\"5.002\",\"0\",\"0\",\"0\"]],"
                        "\"bids\":[[\"5.001\",\"77\",\"0\",\"1\"]],\"ts\":\"2\",\"checksum\":%d}]}",
                        hdr, m_checksum(&b, &a));
    ck_assert_int_eq(feed(frame, T0 + 1), 0);
    ck_assert_msg(in->book_valid, "%s", in->invalid_reason);
    ck_assert_uint_eq(in->book_resyncs, 0);
}
END_TEST

/* Checksummed updates that arrive before any snapshot are buffered, the
 * book is seeded from REST (no checksum there), and the buffer is replayed
 * onto it: each buffered update's checksum is then validated, so the
 * levels the replay sets must carry their text's piece as a frame's do.
 * The updates change the best levels of both sides. */
START_TEST(t_checksum_rest_seed_buffered)
{
    static struct mside b, a;
    static char frame[16384], body[16384];
    struct mkt_instr *in = I("UNI-USD-SWAP");
    const char *hdr = "{\"arg\":{\"channel\":\"books\",\"instId\":\"UNI-USD-SWAP\"},\"action\":";
    const char *url = "/api/v5/market/books?instId=UNI-USD-SWAP&sz=400";
    int bt[2], bs[2], at[2], as[2];

    memset(&b, 0, sizeof(b));
    memset(&a, 0, sizeof(a));
    venue_on_open(V, 0, T0);
    for (int i = 0; i < 30; i++) {
        m_set(&b, 1, 5000 - 2 * i, 1 + i);
        m_set(&a, 0, 5002 + 3 * i, 2 + i);
    }
    /* update 1, at ts 100: a new best bid, the best ask's size */
    bt[0] = 5001; bs[0] = 40; at[0] = 5002; as[0] = 9;
    m_set(&b, 1, bt[0], bs[0]);
    m_set(&a, 0, at[0], as[0]);
    size_t k = (size_t)sprintf(frame, "%s\"update\",\"data\":[{\"asks\":", hdr);
    k += m_levels(frame + k, at, as, 1);
    k += (size_t)sprintf(frame + k, ",\"bids\":");
    k += m_levels(frame + k, bt, bs, 1);
    sprintf(frame + k, ",\"ts\":\"100\",\"checksum\":%d}]}", m_checksum(&b, &a));
    ck_assert_int_eq(feed(frame, T0 + 1), 0);
    ck_assert_int_eq(in->book_valid, 0);

    /* the REST answer, taken after update 1 (ts 150) */
    k = (size_t)sprintf(body, "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"asks\":");
    k += m_levels(body + k, a.px, a.sz, a.n);
    k += (size_t)sprintf(body + k, ",\"bids\":");
    k += m_levels(body + k, b.px, b.sz, b.n);
    sprintf(body + k, ",\"ts\":\"150\"}]}");

    /* update 2, at ts 200, before the answer comes: a new best ask, the
     * best bid goes */
    at[0] = 5001; as[0] = 3; at[1] = 5005; as[1] = 0;
    bt[0] = 5001; bs[0] = 0;
    m_set(&a, 0, at[0], as[0]);
    m_set(&a, 0, at[1], as[1]);
    m_set(&b, 1, bt[0], bs[0]);
    k = (size_t)sprintf(frame, "%s\"update\",\"data\":[{\"asks\":", hdr);
    k += m_levels(frame + k, at, as, 2);
    k += (size_t)sprintf(frame + k, ",\"bids\":");
    k += m_levels(frame + k, bt, bs, 1);
    sprintf(frame + k, ",\"ts\":\"200\",\"checksum\":%d}]}", m_checksum(&b, &a));
    ck_assert_int_eq(feed(frame, T0 + 2), 0);
    ck_assert_int_eq(in->book_valid, 0);

    ck_assert_int_eq(feed_rest(url, body, T0 + 3), 0);
    ck_assert_msg(in->book_valid, "%s", in->invalid_reason);
    ck_assert_uint_eq(in->book_resyncs, 0);
    ck_assert(book_qty_at(in->book, BOOK_ASK, 5.001) == 3 * (dec_t)DEC_SCALE);
    ck_assert(book_qty_at(in->book, BOOK_BID, 5.001) == 0);

    /* validation is on: the next frame's checksum holds, one off fails */
    bt[0] = 5000;
    bs[0] = 11;
    m_set(&b, 1, bt[0], bs[0]);
    k = (size_t)sprintf(frame, "%s\"update\",\"data\":[{\"asks\":[],\"bids\":", hdr);
    k += m_levels(frame + k, bt, bs, 1);
    sprintf(frame + k, ",\"ts\":\"300\",\"checksum\":%d}]}", m_checksum(&b, &a));
    ck_assert_int_eq(feed(frame, T0 + 4), 0);
    ck_assert_msg(in->book_valid, "%s", in->invalid_reason);
    sprintf(frame, "%s\"update\",\"data\":[{\"asks\":[],\"bids\":[],"
            "\"ts\":\"400\",\"checksum\":%d}]}", hdr, m_checksum(&b, &a) + 1);
    feed(frame, T0 + 5);
    ck_assert(!in->book_valid);
    ck_assert_str_eq(in->invalid_reason, "checksum mismatch");
}
END_TEST

/* ---- books frames without the tokenizer: the same as with it ---------- */

static void d_add(market_t *m)
{
    static const char *const syms[] = { "UNI-USD-SWAP", "BTC-USD-220527", "BTC-USDT" };
    struct instrument spec;
    lq_err_t err;

    ck_assert_int_eq(instrument_load_file("conf/instruments/okx-swap-BTC-USDT-SWAP.json",
                                          &spec, &err), 0);
    ck_assert_ptr_nonnull(market_add(m, VENUE_OKX, &spec, &err));
    instrument_fini(&spec);
    for (int i = 0; i < 3; i++) {
        memset(&spec, 0, sizeof(spec));
        snprintf(spec.venue, sizeof(spec.venue), "okx-swap");
        snprintf(spec.symbol, sizeof(spec.symbol), "%s", syms[i]);
        spec.tick_size = 0.1;
        spec.lot_step = D("0.01");
        spec.contract_value = D(i == 2 ? "0.1" : "1");
        ck_assert_ptr_nonnull(market_add(m, VENUE_OKX, &spec, &err));
    }
}

/* Synthetic books frames (UNI-USD-SWAP and BTC-USDT, as in the checksum
 * model): a snapshot, then updates with sequence numbers and checksums,
 * written in the usual shape and in others (spaces, keys in another
 * order, numbers where strings are, escapes, a key twice, an extra key or
 * element), into out; returns how many. */
static int d_synth(char **out, int max)
{
    static struct mside b, a;
    static char f[32768];
    const char *sym[2] = { "UNI-USD-SWAP", "BTC-USDT" };
    int n = 0, bt[8], bs[8], at[8], as[8];

    for (int k = 0; k < 2 && n < max; k++) {
        memset(&b, 0, sizeof(b));
        memset(&a, 0, sizeof(a));
        for (int i = 0; i < 40; i++) {
            m_set(&b, 1, 5000 - 2 * i, 1 + i);
            m_set(&a, 0, 5002 + 3 * i, 2 + i);
        }
        size_t o = (size_t)sprintf(f, "{\"arg\":{\"channel\":\"books\",\"instId\":\"%s\"},"
                                   "\"action\":\"snapshot\",\"data\":[{\"asks\":", sym[k]);
        o += m_levels(f + o, a.px, a.sz, a.n);
        o += (size_t)sprintf(f + o, ",\"bids\":");
        o += m_levels(f + o, b.px, b.sz, b.n);
        sprintf(f + o, ",\"ts\":\"1\",\"checksum\":%d,\"prevSeqId\":-1,\"seqId\":100}]}",
                m_checksum(&b, &a));
        out[n++] = strdup(f);
        for (int u = 0; u < 120 && n < max; u++) {
            int nb = 1 + m_rnd(3), na = m_rnd(4);
            for (int j = 0; j < nb; j++) {
                bt[j] = 5000 - m_rnd(30) - 3 * j;
                bs[j] = m_rnd(3) == 0 ? 0 : 1 + m_rnd(500);
            }
            for (int j = 0; j < na; j++) {
                at[j] = 5002 + m_rnd(30) + 3 * j;
                as[j] = m_rnd(3) == 0 ? 0 : 1 + m_rnd(500);
            }
            /* the side that goes first in the frame is applied... as the
             * model: bids then asks, each in order */
            for (int j = 0; j < nb; j++)
                m_set(&b, 1, bt[j], bs[j]);
            for (int j = 0; j < na; j++)
                m_set(&a, 0, at[j], as[j]);
            char lvb[2048], lva[2048];
            m_levels(lvb, bt, bs, nb);
            m_levels(lva, at, as, na);
            int cs = m_checksum(&b, &a), v = u % 12;
            long seq = 101 + u, prev = 100 + u;
            const char *hdr = "{\"arg\":{\"channel\":\"books\",\"instId\":\"%s\"},\"action\":\"update\",\"data\":[{";
            o = (size_t)sprintf(f, hdr, sym[k]);
            switch (v) {
            case 1:   /* bids first, seqId before prevSeqId */
                sprintf(f + o, "\"bids\":%s,\"asks\":%s,\"ts\":\"%d\",\"checksum\":%d,"
                        "\"seqId\":%ld,\"prevSeqId\":%ld}]}", lvb, lva, 2 + u, cs, seq, prev);
                break;
            case 2:   /* spaces */
                sprintf(f + o, "\"asks\": %s, \"bids\":%s,\"ts\":\"%d\",\"checksum\":%d,"
                        "\"prevSeqId\":%ld,\"seqId\":%ld} ]}", lva, lvb, 2 + u, cs, prev, seq);
                break;
            case 3:   /* ts and the ids as numbers, checksum as a string */
                sprintf(f + o, "\"asks\":%s,\"bids\":%s,\"ts\":%d,\"checksum\":\"%d\","
                        "\"prevSeqId\":\"%ld\",\"seqId\":\"%ld\"}]}", lva, lvb, 2 + u, cs, prev, seq);
                break;
            case 4:   /* an extra key */
                sprintf(f + o, "\"asks\":%s,\"bids\":%s,\"ts\":\"%d\",\"checksum\":%d,"
                        "\"prevSeqId\":%ld,\"seqId\":%ld,\"x\":[1]}]}", lva, lvb, 2 + u, cs, prev, seq);
                break;
            case 5:   /* ts twice: the first one counts */
                sprintf(f + o, "\"asks\":%s,\"bids\":%s,\"ts\":\"%d\",\"ts\":\"bad\",\"checksum\":%d,"
                        "\"prevSeqId\":%ld,\"seqId\":%ld}]}", lva, lvb, 2 + u, cs, prev, seq);
                break;
            case 6:   /* no checksum, no ts */
                sprintf(f + o, "\"asks\":%s,\"bids\":%s,\"prevSeqId\":%ld,\"seqId\":%ld}]}",
                        lva, lvb, prev, seq);
                break;
            case 7: { /* an escape in the instId (another name: rejected),
                       * then the frame as usual */
                size_t e = (size_t)sprintf(f, "{\"arg\":{\"channel\":\"books\",\"instId\":"
                                           "\"%s\\u0000\"},\"action\":\"update\",\"data\":[{", sym[k]);
                sprintf(f + e, "\"asks\":%s,\"bids\":%s,\"ts\":\"%d\",\"checksum\":%d,"
                        "\"prevSeqId\":%ld,\"seqId\":%ld}]}", lva, lvb, 2 + u, cs, prev, seq);
                if (n < max - 1)
                    out[n++] = strdup(f);
                o = (size_t)sprintf(f, hdr, sym[k]);
                sprintf(f + o, "\"asks\":%s,\"bids\":%s,\"ts\":\"%d\",\"checksum\":%d,"
                        "\"prevSeqId\":%ld,\"seqId\":%ld}]}", lva, lvb, 2 + u, cs, prev, seq);
                break;
            }
            case 8:   /* a second data element */
                sprintf(f + o, "\"asks\":%s,\"bids\":%s,\"ts\":\"%d\",\"checksum\":%d,"
                        "\"prevSeqId\":%ld,\"seqId\":%ld},{}]}", lva, lvb, 2 + u, cs, prev, seq);
                break;
            default:
                sprintf(f + o, "\"asks\":%s,\"bids\":%s,\"ts\":\"%d\",\"checksum\":%d,"
                        "\"prevSeqId\":%ld,\"seqId\":%ld}]}", lva, lvb, 2 + u, cs, prev, seq);
                break;
            }
            out[n++] = strdup(f);
        }
    }
    return n;
}

/* Every real frame of the fixtures and every synthetic one, then each
 * frame broken in small ways (a byte dropped, doubled or replaced by one
 * that matters to JSON, the text cut short) before it goes in whole: the
 * adapter that reads books frames without the tokenizer and the one that
 * tokenizes everything return the same, count the same, emit and ask the
 * same, and hold the same books, after every frame. */
START_TEST(t_fast_books_same_as_tokenizer)
{
    static const char *const files[] = {
        FIX "okx-frames.jsonl", FIX "cryptofeed-books-BTC-USD-220527.jsonl",
        FIX "cryptofeed-books-UNI-USD-SWAP.jsonl", FIX "books-docs-example.jsonl",
    };
    /* changes each check of the fast way stands against: a byte after the
     * end, a space before, a key it does not know or sees twice, an
     * element it does not take, a checksum beyond 32 bits either way, a
     * number it must not take for an id, half a sequence pair */
    static const char *const sub[][2] = {
        { "}]}", "}]}}" }, { "}]}", "}]} " }, { "{\"arg", " {\"arg" },
        { "\"prevSeqId\"", "\"prevSeqIdX\"" }, { "\"bids\"", "\"asks\"" },
        { "\"ts\"", "\"checksum\"" }, { "\",\"0\",\"", "\",{},\"" },
        { "\"],[\"", "\"],[\"-" },
    };
    static const char *const val[][2] = {
        { "\"checksum\":", "4294967296" }, { "\"checksum\":", "-2147483649" },
        { "\"checksum\":", "4294967295" }, { "\"seqId\":", "1e3" }, { "\"ts\":", "\"x\"" },
    };
    static const char *const drop[] = { "\"prevSeqId\":", "\"seqId\":", "\"ts\":" };
    static const struct d_changes ch = { sub, sizeof(sub) / sizeof(sub[0]),
                                         val, sizeof(val) / sizeof(val[0]),
                                         drop, sizeof(drop) / sizeof(drop[0]) };
    struct dside a, b;
    char **lines[5];
    int nl[5], step = 0;
    uint64_t rs = 0x9E3779B97F4A7C15ULL;

    for (int i = 0; i < 4; i++)
        lines[i] = read_lines(files[i], &nl[i]);
    lines[4] = calloc(400, sizeof(char *));
    nl[4] = d_synth(lines[4], 400);
    d_open(&a, VENUE_OKX, d_add, 0);
    d_open(&b, VENUE_OKX, d_add, 1);
    /* first every frame as it is: the synthetic books stay valid */
    for (int fi = 0; fi < 5; fi++)
        for (int li = 0; li < nl[fi]; li++, step++)
            d_feed(&a, &b, NULL, lines[fi][li], strlen(lines[fi][li]), T0 + step, step);
    const struct mkt_instr *uni = market_find(b.m, VENUE_OKX, "UNI-USD-SWAP");
    ck_assert_msg(uni->book_valid && uni->book_updates > 100, "UNI: %llu updates, %s",
                  (unsigned long long)uni->book_updates, uni->invalid_reason);
    /* then again, each frame after its broken copies */
    for (int fi = 0; fi < 5; fi++)
        for (int li = 0; li < nl[fi]; li++)
            d_broken(&a, &b, lines[fi][li], strlen(lines[fi][li]), &ch, &rs,
                     T0 + step, &step);
    ck_assert_int_gt(step, 5000);
    d_close(&a);
    d_close(&b);
    for (int i = 0; i < 5; i++)
        free_lines(lines[i], nl[i]);
}
END_TEST

START_TEST(t_checksum_model)
{
    checksum_model(0);
}
END_TEST

/* The same with the portable multiply, which CPUs without PCLMULQDQ (and
 * other architectures) take. */
START_TEST(t_checksum_model_portable)
{
    checksum_model(1);
}
END_TEST

Suite *venue_okx_suite(void)
{
    Suite *s = suite_create("venue_okx");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, t_conn_and_subscribe);
    tcase_add_test(tc, t_real_frames);
    tcase_add_test(tc, t_liq_net_mode);
    tcase_add_test(tc, t_pushed_snapshot_and_seq);
    tcase_add_test(tc, t_checksum_real_uni);
    tcase_add_test(tc, t_checksum_real_btc_future);
    tcase_add_test(tc, t_checksum_real_bad);
    tcase_add_test(tc, t_checksum_docs_worked_example);
    tcase_add_test(tc, t_checksum_snapshot_any_order);
    tcase_add_test(tc, t_checksum_rest_seed_buffered);
    tcase_add_test(tc, t_fast_books_same_as_tokenizer);
    tcase_add_test(tc, t_checksum_model);
    tcase_add_test(tc, t_checksum_model_portable);
    tcase_add_test(tc, t_rest_seed_without_seq);
    tcase_add_test(tc, t_rest_seed_with_seq);
    tcase_add_test(tc, t_rest_docs_example_and_timeouts);
    tcase_add_test(tc, t_ping_when_idle);
    tcase_add_test(tc, t_garbage_counted);
    tcase_add_test(tc, t_adl_frames);
    tcase_add_test(tc, t_adl_garbage);
    tcase_add_test(tc, t_adl_subscribe);
    suite_add_tcase(s, tc);
    return s;
}
