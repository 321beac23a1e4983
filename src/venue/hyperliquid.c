/*
 * hyperliquid.c - Hyperliquid public websocket, perps (venue "hyperliquid").
 *
 * One connection, "public" (cfg.ws_url).  On open, per watched coin
 * (symbols are coins: BTC, ETH), three subscriptions:
 *   {"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}
 *   ... "activeAssetCtx" (mark, oracle, open interest) and "trades".
 *
 * LIQUIDATIONS: Hyperliquid has no public liquidation stream, so this
 * adapter emits no MEV_LIQUIDATION at all: liquidation prints are not
 * available from this venue (venues README, "Print coverage").  Its
 * liquidations appear only as ordinary trades.
 *
 * Book sync: there is none to keep.  Every l2Book message is a full
 * snapshot (the top levels of each side, [bids[], asks[]], each level
 * {px, sz, n}), so each one replaces the book:
 *
 *      (no book) --l2Book--> VALID --l2Book crossed--> INVALID
 *                              ^                          |
 *                              +-------l2Book, not crossed+
 *      any state --on_close--> INVALID ("connection closed")
 *
 * A crossed snapshot invalidates the book; the next good snapshot (about
 * every 0.5 s) makes it valid again.  Sizes are in coins (base units).
 *
 * activeAssetCtx carries no time: its events have ts 0 and the market
 * keeps the receive time as mark_ts.  Mark = ctx.markPx, index =
 * ctx.oraclePx, open interest = ctx.openInterest (coins).
 *
 * Liveness: the server closes a connection idle for 60 s, so an
 * application ping {"method":"ping"} goes out every cfg.ping_interval_s
 * (default 50); the answer {"channel":"pong"} is not a rejection.
 *
 * Thread-safety: the loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venue_int.h"

#define HL_NS 1000000000LL

struct hl {
    int open;
    int64_t last_ping;
};

static struct mkt_instr *coin_of(venue_t *v, const char *d, int tok)
{
    const struct jtok *t = v->tok;

    if (tok < 0 || t[tok].type != JT_STR)
        return NULL;
    return market_findn(v->mkt, VENUE_HYPERLIQUID, d + t[tok].start, t[tok].len);
}

/* One side [{px, sz, n}, ...] into the scratch array; count or -1. */
static long parse_side(venue_t *v, const char *d, int arr, int side)
{
    const struct jtok *t = v->tok;

    if (arr < 0 || t[arr].type != JT_ARR)
        return -1;
    struct book_level *lv = venue__levels(v, side, t[arr].size ? t[arr].size : 1);
    if (lv == NULL)
        return -1;
    size_t n = 0;
    for (int e = jtok_first(t, arr); e >= 0 && n < t[arr].size; e = jtok_next(t, e)) {
        if (jtok_double(d, t, jtok_get(d, t, e, "px"), &lv[n].price) != 0 ||
            !(lv[n].price > 0) ||
            jtok_dec(d, t, jtok_get(d, t, e, "sz"), &lv[n].qty) != 0 || lv[n].qty < 0)
            return -1;
        n++;
    }
    return (long)n;
}

static int on_l2book(venue_t *v, const char *d, size_t len, int data, int64_t now)
{
    const struct jtok *t = v->tok;
    struct mkt_instr *in;
    int64_t ms = 0;

    if (data < 0 || t[data].type != JT_OBJ)
        return venue__reject(v, VREJ_SCHEMA, "l2Book: data", d, len, now);
    if ((in = coin_of(v, d, jtok_get(d, t, data, "coin"))) == NULL)
        return venue__reject(v, VREJ_UNKNOWN_SYMBOL, "l2Book", d, len, now);
    int lv = jtok_get(d, t, data, "levels");
    if (lv < 0 || t[lv].type != JT_ARR || t[lv].size != 2)
        return venue__reject(v, VREJ_SCHEMA, "l2Book: levels", d, len, now);
    int ti = jtok_get(d, t, data, "time");
    if (ti < 0 || jtok_i64(d, t, ti, &ms) != 0)
        return venue__reject(v, VREJ_SCHEMA, "l2Book: time", d, len, now);
    long nb = parse_side(v, d, jtok_at(t, lv, 0), 0);
    long na = nb < 0 ? -1 : parse_side(v, d, jtok_at(t, lv, 1), 1);
    if (nb < 0 || na < 0)
        return venue__reject(v, VREJ_NUMBER, "l2Book: level", d, len, now);

    const struct book_level *bids = v->lv[0], *asks = v->lv[1];
    int was_valid = in->book_valid;
    int rc = market_apply_snapshot(in, bids, (size_t)nb, asks, (size_t)na, (uint64_t)ms);
    in->last_ts = now;
    if (rc == BOOK_CROSSED) {
        /* Each snapshot is whole: the next good one revalidates. */
        venue__invalidate(v, in, "crossed book in snapshot", now);
        return 0;
    }
    /* Levels were checked by parse_side (price > 0, qty >= 0): only
     * running out of memory fails here. */
    if (rc != BOOK_OK) {
        venue__invalidate(v, in, "could not apply snapshot", now);
        return venue__reject(v, VREJ_NUMBER, "l2Book: could not apply", d, len, now);
    }
    in->last_ts = now;
    venue__emit_book(v, in, 1, bids, (size_t)nb, asks, (size_t)na, (uint64_t)ms,
                     venue__ms(ms), now);
    if (!was_valid)
        venue__book_valid(v, in, now);
    return 0;
}

static int on_ctx(venue_t *v, const char *d, size_t len, int data, int64_t now)
{
    const struct jtok *t = v->tok;
    struct mkt_instr *in;
    double mark, oracle = 0;
    dec_t oi;

    if (data < 0 || t[data].type != JT_OBJ)
        return venue__reject(v, VREJ_SCHEMA, "activeAssetCtx: data", d, len, now);
    if ((in = coin_of(v, d, jtok_get(d, t, data, "coin"))) == NULL)
        return venue__reject(v, VREJ_UNKNOWN_SYMBOL, "activeAssetCtx", d, len, now);
    int ctx = jtok_get(d, t, data, "ctx");
    if (ctx < 0 || t[ctx].type != JT_OBJ)
        return venue__reject(v, VREJ_SCHEMA, "activeAssetCtx: ctx", d, len, now);
    if (jtok_double(d, t, jtok_get(d, t, ctx, "markPx"), &mark) != 0 || !(mark > 0))
        return venue__reject(v, VREJ_NUMBER, "activeAssetCtx: markPx", d, len, now);
    int oc = jtok_get(d, t, ctx, "oraclePx");
    if (oc >= 0 && t[oc].type != JT_NULL && jtok_double(d, t, oc, &oracle) != 0)
        return venue__reject(v, VREJ_NUMBER, "activeAssetCtx: oraclePx", d, len, now);
    int oit = jtok_get(d, t, ctx, "openInterest");
    int has_oi = oit >= 0 && t[oit].type != JT_NULL;
    if (has_oi && (jtok_dec(d, t, oit, &oi) != 0 || oi < 0))
        return venue__reject(v, VREJ_NUMBER, "activeAssetCtx: openInterest", d, len, now);

    /* No venue time in this channel: ts 0, the mark is stamped on receipt. */
    venue__mark(v, in, mark, oracle, 0, now);
    if (has_oi)
        venue__open_interest(v, in, oi, 0, now);
    return 0;
}

static int on_trades(venue_t *v, const char *d, size_t len, int data, int64_t now)
{
    const struct jtok *t = v->tok;
    int used = 0;

    if (data < 0 || t[data].type != JT_ARR)
        return venue__reject(v, VREJ_SCHEMA, "trades: data", d, len, now);
    /* Check every trade before emitting any, so a bad frame emits none. */
    for (int pass = 0; pass < 2; pass++) {
        for (int e = jtok_first(t, data); e >= 0 && e < (int)t[data].end; e = jtok_next(t, e)) {
            struct mkt_instr *in = coin_of(v, d, jtok_get(d, t, e, "coin"));
            int sd = jtok_get(d, t, e, "side");
            double px;
            dec_t sz;
            int64_t ms;
            /* A trade has a price and a size > 0 (as in every adapter);
             * one that has not rejects the frame. */
            if (jtok_double(d, t, jtok_get(d, t, e, "px"), &px) != 0 || !(px > 0) ||
                jtok_dec(d, t, jtok_get(d, t, e, "sz"), &sz) != 0 || sz <= 0 ||
                jtok_i64(d, t, jtok_get(d, t, e, "time"), &ms) != 0)
                return venue__reject(v, VREJ_NUMBER, "trades: field", d, len, now);
            int buy = jtok_streq(d, t, sd, "B");
            if (!buy && !jtok_streq(d, t, sd, "A"))
                return venue__reject(v, VREJ_SCHEMA, "trades: side", d, len, now);
            if (in == NULL)
                continue;
            if (pass == 0) {
                used++;
                continue;
            }
            struct mkt_event ev;
            venue__event(&ev, MEV_TRADE, in, venue__ms(ms), now);
            ev.u.trade.price = px;
            ev.u.trade.qty = sz;
            ev.u.trade.buyer_aggressor = buy;
            in->last_ts = now;
            venue__emit(v, &ev);
        }
        if (pass == 0 && used == 0 && t[data].size > 0)
            return venue__reject(v, VREJ_UNKNOWN_SYMBOL, "trades", d, len, now);
    }
    return 0;
}

static int on_frame(venue_t *v, int conn, enum frame_src src, const char *url,
                    const char *d, size_t len, int64_t now)
{
    (void)conn;
    (void)url;
    if (src != FRAME_WS)
        return venue__reject(v, VREJ_UNKNOWN_TYPE, "rest frame", d, len, now);
    if (venue__tokens(v, d, len) < 0)
        return venue__reject(v, VREJ_JSON, NULL, d, len, now);
    const struct jtok *t = v->tok;
    if (t[0].type != JT_OBJ)
        return venue__reject(v, VREJ_SCHEMA, "not an object", d, len, now);
    int ch = jtok_get(d, t, 0, "channel");
    int data = jtok_get(d, t, 0, "data");
    if (ch < 0)
        return venue__reject(v, VREJ_SCHEMA, "no channel", d, len, now);
    if (jtok_streq(d, t, ch, "l2Book"))
        return on_l2book(v, d, len, data, now);
    if (jtok_streq(d, t, ch, "trades"))
        return on_trades(v, d, len, data, now);
    if (jtok_streq(d, t, ch, "activeAssetCtx"))
        return on_ctx(v, d, len, data, now);
    if (jtok_streq(d, t, ch, "pong") || jtok_streq(d, t, ch, "subscriptionResponse"))
        return 0;
    if (jtok_streq(d, t, ch, "error"))
        return venue__reject(v, VREJ_VENUE_ERROR, "error", d, len, now);
    return venue__reject(v, VREJ_UNKNOWN_TYPE, "channel", d, len, now);
}

static int init(venue_t *v, lq_err_t *err)
{
    struct hl *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return lq_err_set(err, "out of memory");
    if (v->cfg.ping_interval_s <= 0 || v->cfg.ping_interval_s >= 60)
        v->cfg.ping_interval_s = 50;   /* the server drops links idle 60 s */
    snprintf(v->conns[0].name, sizeof(v->conns[0].name), "public");
    snprintf(v->conns[0].url, sizeof(v->conns[0].url), "%s", v->cfg.ws_url);
    v->nconns = 1;
    v->priv = h;
    return 0;
}

static void fini(venue_t *v)
{
    free(v->priv);
}

static void on_open(venue_t *v, int conn, int64_t now)
{
    static const char *const types[] = { "l2Book", "activeAssetCtx", "trades" };
    struct hl *h = v->priv;
    char msg[256];

    (void)conn;
    h->open = 1;
    h->last_ping = now;
    for (size_t i = 0; i < market_count(v->mkt); i++) {
        const struct mkt_instr *in = market_at(v->mkt, i);
        if (in->venue != VENUE_HYPERLIQUID || in->retired)
            continue;
        for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
            int n = snprintf(msg, sizeof(msg),
                             "{\"method\":\"subscribe\",\"subscription\":"
                             "{\"type\":\"%s\",\"coin\":\"%s\"}}",
                             types[k], in->spec.symbol);
            if (n > 0 && (size_t)n < sizeof(msg))
                venue__send(v, 0, msg, (size_t)n);
        }
    }
}

static void on_close(venue_t *v, int conn, int64_t now)
{
    struct hl *h = v->priv;

    (void)conn;
    h->open = 0;
    for (size_t i = 0; i < market_count(v->mkt); i++) {
        struct mkt_instr *in = market_at(v->mkt, i);
        if (in->venue == VENUE_HYPERLIQUID && !in->retired)
            venue__invalidate(v, in, "connection closed", now);
    }
}

static void tick(venue_t *v, int64_t now)
{
    static const char ping[] = "{\"method\":\"ping\"}";
    struct hl *h = v->priv;

    if (h->open && now - h->last_ping >= (int64_t)v->cfg.ping_interval_s * HL_NS) {
        venue__send(v, 0, ping, sizeof(ping) - 1);
        h->last_ping = now;
    }
}

const struct venue_ops venue_hyperliquid_ops = {
    .id = VENUE_HYPERLIQUID,
    .init = init, .fini = fini, .on_open = on_open, .on_close = on_close,
    .on_frame = on_frame, .tick = tick,
};
