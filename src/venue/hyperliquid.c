/*
 * hyperliquid.c - Hyperliquid public websocket, perps (venue "hyperliquid").
 *
 * TWO CONNECTIONS, one per book precision, both to cfg.ws_url:
 *
 *   "public" (conn 0), per watched coin (symbols are coins: BTC, ETH):
 *     {"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}
 *     ... "activeAssetCtx" (mark, oracle, open interest) and "trades".
 *   "agg" (conn 1), per watched coin, the same book in price buckets of
 *     HL_AGG_SIGFIGS significant figures:
 *     {"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC","nSigFigs":2}}
 *
 * Why a second book: l2Book sends 20 levels a side.  At full precision
 * that is a fraction of a percent of BTC, so every shock of the cascade
 * ladder walked off the visible book and every row said "exhausted".
 * With nSigFigs 2 a level is a bucket of 10^(d-2) (d: digits of the
 * price's integer part): 1,000 wide for BTC at ~90k, so 20 buckets reach
 * about +-22%; wherever the price sits in its decade, 20 buckets reach
 * at least ~19% a side, but the width goes from 1% of the price (just
 * below a power of ten) to 10% (just above: BTC at 100k-110k has buckets
 * of 10,000).  The merge below does not depend on nSigFigs.
 *
 * Why two connections and not one: the two subscriptions' frames cannot
 * be told apart.  Both are WsBook {coin, time, levels} (the subscriptions
 * page: "l2Book ... Optional parameters: nSigFigs: int, mantissa: int ...
 * Data format: WsBook"; Hyperliquid's order_book_server builds both with
 * L2Book::from_l2_snapshot(coin, snapshot, time)), and on one socket every
 * book of a push carries the same time.  Only the subscriptionResponse
 * echo names nSigFigs, and the frames after it are not tagged.  So a
 * frame's precision is the connection it came on.  A frame with no
 * connection (a capture line without "conn") is full precision: before
 * the "agg" connection existed that was the only book.
 *
 * LIMITS (per IP; Hyperliquid "Rate limits and user limits", 2026): 10
 * websocket connections, 30 new connections a minute, 1000 subscriptions
 * across all connections (no per-connection cap is documented), 2000
 * messages sent a minute.  (Copies of that page from before 2026 said 100
 * connections.)  This adapter holds 2 connections and 4 subscriptions per
 * coin (3 on "public", 1 on "agg"), so up to 250 coins per IP; on each
 * (re)connect it sends 3 resp. 1 message per coin, then one ping per
 * connection every ping_interval_s.
 *
 * LIQUIDATIONS: Hyperliquid has no public liquidation stream, so this
 * adapter emits no MEV_LIQUIDATION at all: liquidation prints are not
 * available from this venue (venues README, "Print coverage").  Its
 * liquidations appear only as ordinary trades.
 *
 * Book sync: there is none to keep.  Every l2Book message of either
 * connection is a whole snapshot (the top 20 levels of each side,
 * [bids[], asks[]], each level {px, sz, n}).  The adapter keeps the last
 * snapshot of each feed per coin and, whenever either arrives, replaces
 * the book with their merge (below):
 *
 *      (no book) --full l2Book--> VALID --merge crossed--> INVALID
 *                                   ^                          |
 *                                   +---- merge not crossed ---+
 *      any state --"public" closed--> INVALID ("connection closed")
 *      "agg" closed: the book goes on, full-precision levels only
 *
 * An aggregated snapshot alone never makes a book: until a full one has
 * arrived it is only kept.  A crossed merge invalidates the book; the
 * next good one makes it valid again.  Each socket pushes every book it
 * carries, changed or not, on one clock: every ~5.4 s as measured in
 * 2026 (the subscriptions page still says 0.5 s, now true of "fast"
 * books of 5 levels only).  Sizes are in coins (base units).
 *
 * THE MERGE, per side, with F the full-precision levels and A the
 * aggregated ones (bids shown; asks mirror it, "below" becoming "above"):
 *
 *   1. Every level of F, as sent.  L is the worst price of F (the last
 *      full-precision bid).  F is the top of the book without gaps, so
 *      every order priced at or above L is in F, exactly.
 *   2. Every level of A priced at or above L is dropped: a bid bucket
 *      priced B holds the orders in [B, B + width) (bids are rounded
 *      down, asks up: order_book_server levels.rs, bucket()), so a bucket
 *      at or above L holds only orders F already shows.
 *   3. The first level of A below L, at B, may straddle L: it holds the
 *      orders in [B, L), which F does not show, and those in
 *      [L, B + width), which it does.  Its size is cut by the size of
 *      every F level priced below U, U being the price of the last bucket
 *      dropped in step 2 (every F level when none was dropped): [L, U)
 *      contains [L, B + width) (the next bucket up starts at or above
 *      B + width), and when both snapshots are of one moment F has no
 *      level in [B + width, U) (it would have made a bucket in between).
 *      What is left, if more than 0, is a level at B; else none.
 *   4. Every further level of A, as sent.
 *
 * Why it never overstates depth near the top: at and above L (the
 * exact range: for a shock whose start price p0 is there) the book is F
 * and nothing else; no aggregated size is placed there, and the part of
 * the straddling bucket that F already shows is subtracted (with a bound
 * that is, if anything, too wide), so no order is counted twice.  Below
 * L every aggregated size sits at its bucket's worst price (bids: the
 * bucket's floor; asks: its ceiling), at or beyond every order it stands
 * for, so the depth found at or above any price is never more than the
 * two snapshots show there, and a cascade fills no better than they
 * allow.  (A ladder that starts inside a coarse bucket does count the
 * whole bucket, including any part of it above p0: beyond L the book
 * is only as fine as the buckets.)
 *
 * Two feeds, two clocks: the snapshots of the two connections are a few
 * seconds apart at most (each socket pushes every ~5 s), so an order may
 * show in one and not yet in the other; the rule above keeps such skew
 * out of the exact range.  A pair whose receive times are more than
 * HL_PAIR_MAX_NS apart is not merged: the book is F alone until a fresh
 * aggregated snapshot comes (one feed went silent).  The receive times are
 * the frame clock, so a capture of both connections replays to the same
 * merged books, event for event.  An aggregated frame is checked before
 * it is kept: levels strictly best first, not crossed; one that is not is
 * rejected (counted, number) and the last good one stays.
 *
 * activeAssetCtx carries no time: its events have ts 0 and the market
 * keeps the receive time as mark_ts.  Mark = ctx.markPx, index =
 * ctx.oraclePx, open interest = ctx.openInterest (coins).  trades and
 * activeAssetCtx belong to "public"; on "agg" they are rejected (unknown
 * type) rather than counted twice.
 *
 * Liveness: the server closes a connection idle for 60 s, so an
 * application ping {"method":"ping"} goes out on each open connection
 * every cfg.ping_interval_s (default 50); the answer {"channel":"pong"}
 * is not a rejection.
 *
 * Thread-safety: the loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venue_int.h"

#define HL_NS 1000000000LL

enum { HL_CONN_PUBLIC = 0, HL_CONN_AGG = 1, HL_NCONN = 2 };

/* Significant figures of the aggregated book (2..5 allowed by the venue;
 * 2 reaches about +-20% or more with 20 buckets). */
#define HL_AGG_SIGFIGS 2
/* The two snapshots of a coin are merged only when received at most this
 * far apart (frame clock).  Each socket pushes every book every ~5 s. */
#define HL_PAIR_MAX_NS (15 * HL_NS)

/* One side of a kept snapshot. */
struct hl_side {
    struct book_level *lv;
    size_t n, cap;
};

/* A coin's last snapshot of each feed.  Slot i is the instrument of idx i. */
struct hl_book {
    const struct mkt_instr *in;     /* owner of the slot (NULL: unused) */
    struct hl_side full[2], agg[2]; /* [BOOK_BID], [BOOK_ASK] */
    int have_full, have_agg;
    int64_t full_rx, agg_rx;        /* receive times, frame clock (ns) */
    int64_t full_ms, agg_ms;        /* venue times (ms) */
    int merged;                     /* the book applied last used agg */
};

struct hl {
    int open[HL_NCONN];
    int64_t last_ping[HL_NCONN];
    struct hl_book *b;
    size_t nb;
    struct hl_side out[2];          /* the merged book, scratch */
};

static struct mkt_instr *coin_of(venue_t *v, const char *d, int tok)
{
    const struct jtok *t = v->tok;

    if (tok < 0 || t[tok].type != JT_STR)
        return NULL;
    return market_findn(v->mkt, VENUE_HYPERLIQUID, d + t[tok].start, t[tok].len);
}

static int side_reserve(struct hl_side *s, size_t n)
{
    if (n > s->cap) {
        size_t want = n < 64 ? 64 : n * 2;
        struct book_level *nl = realloc(s->lv, want * sizeof(*nl));
        if (nl == NULL)
            return -1;
        s->lv = nl;
        s->cap = want;
    }
    return 0;
}

static int side_set(struct hl_side *s, const struct book_level *lv, size_t n)
{
    if (side_reserve(s, n) != 0)
        return -1;
    if (n)
        memcpy(s->lv, lv, n * sizeof(*lv));
    s->n = n;
    return 0;
}

static void book_slot_free(struct hl_book *b)
{
    for (int s = 0; s < 2; s++) {
        free(b->full[s].lv);
        free(b->agg[s].lv);
    }
}

/* The slot of in, made (or taken over from a retired instrument) on first
 * use.  NULL: out of memory. */
static struct hl_book *book_of(struct hl *h, const struct mkt_instr *in)
{
    if (in->idx >= h->nb) {
        size_t n = (size_t)in->idx + 1;
        struct hl_book *nb = realloc(h->b, n * sizeof(*nb));
        if (nb == NULL)
            return NULL;
        memset(nb + h->nb, 0, (n - h->nb) * sizeof(*nb));
        h->b = nb;
        h->nb = n;
    }
    struct hl_book *b = &h->b[in->idx];
    if (b->in != in) {
        book_slot_free(b);
        memset(b, 0, sizeof(*b));
        b->in = in;
    }
    return b;
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

/* price a is beyond price b on this side (further from the top) */
static int beyond(int side, double a, double b)
{
    return side == BOOK_BID ? a < b : a > b;
}

/* Merge one side (header, "THE MERGE") into h->out[side]; a may be NULL
 * (full precision only).  Returns the count, or -1 (out of memory). */
static long merge_side(struct hl *h, int side, const struct hl_side *f,
                       const struct hl_side *a)
{
    struct hl_side *o = &h->out[side];
    size_t n = 0, i = 0;
    double last = 0, upper = 0;
    int have_last = 0, have_upper = 0;

    if (side_reserve(o, f->n + (a ? a->n : 0) + 1) != 0)
        return -1;
    /* 1: F as sent; L = its worst price */
    for (size_t k = 0; k < f->n; k++) {
        o->lv[n++] = f->lv[k];
        if (f->lv[k].qty > 0 && (!have_last || beyond(side, f->lv[k].price, last))) {
            last = f->lv[k].price;
            have_last = 1;
        }
    }
    /* An empty full side is the whole side: nothing to extend. */
    if (a == NULL || !have_last)
        return (long)n;
    /* 2: drop the buckets at or above L (bids), at or below L (asks) */
    for (; i < a->n; i++) {
        if (a->lv[i].qty <= 0)
            continue;
        if (beyond(side, a->lv[i].price, last))
            break;
        upper = a->lv[i].price;
        have_upper = 1;
    }
    if (i == a->n)
        return (long)n;
    /* 3: the first bucket beyond L, less what F shows of it */
    dec_t known = 0;
    for (size_t k = 0; k < f->n; k++)
        if (f->lv[k].qty > 0 && (!have_upper || beyond(side, f->lv[k].price, upper)))
            known += f->lv[k].qty;
    if (a->lv[i].qty > known) {
        o->lv[n].price = a->lv[i].price;
        o->lv[n].qty = a->lv[i].qty - known;
        n++;
    }
    /* 4: the rest as sent */
    for (i++; i < a->n; i++)
        if (a->lv[i].qty > 0)
            o->lv[n++] = a->lv[i];
    return (long)n;
}

/* Both snapshots are there and were received close enough together. */
static int paired(const struct hl_book *b)
{
    return b->have_full && b->have_agg && b->agg_rx - b->full_rx <= HL_PAIR_MAX_NS &&
           b->full_rx - b->agg_rx <= HL_PAIR_MAX_NS;
}

/* Replace in's book by the merge of its slot's snapshots; ms: venue time
 * of the frame that caused it (seq and event time).  0, or -1 when the
 * book could not be applied (out of memory: invalidated). */
static int apply_merged(venue_t *v, struct mkt_instr *in, struct hl_book *b,
                        int64_t ms, int64_t now)
{
    struct hl *h = v->priv;
    int use_agg = paired(b);
    long nb = merge_side(h, BOOK_BID, &b->full[BOOK_BID], use_agg ? &b->agg[BOOK_BID] : NULL);
    long na = nb < 0 ? -1 : merge_side(h, BOOK_ASK, &b->full[BOOK_ASK],
                                       use_agg ? &b->agg[BOOK_ASK] : NULL);

    in->last_ts = now;
    if (nb < 0 || na < 0) {
        venue__invalidate(v, in, "could not merge snapshots", now);
        return -1;
    }
    const struct book_level *bids = h->out[BOOK_BID].lv, *asks = h->out[BOOK_ASK].lv;
    int was_valid = in->book_valid;
    int rc = market_apply_snapshot(in, bids, (size_t)nb, asks, (size_t)na, (uint64_t)ms);
    b->merged = use_agg;
    if (rc == BOOK_CROSSED) {
        /* Each snapshot is whole: the next good one revalidates. */
        venue__invalidate(v, in, "crossed book in snapshot", now);
        return 0;
    }
    /* Levels were checked by parse_side (price > 0, qty >= 0): only
     * running out of memory fails here. */
    if (rc != BOOK_OK) {
        venue__invalidate(v, in, "could not apply snapshot", now);
        return -1;
    }
    venue__emit_book(v, in, 1, bids, (size_t)nb, asks, (size_t)na, (uint64_t)ms,
                     venue__ms(ms), now);
    if (!was_valid)
        venue__book_valid(v, in, now);
    return 0;
}

/* An aggregated side is strictly best first; 0 or -1. */
static int agg_side_ok(const struct book_level *lv, size_t n, int side)
{
    for (size_t k = 1; k < n; k++)
        if (!beyond(side, lv[k].price, lv[k - 1].price))
            return -1;
    return 0;
}

static int on_l2book(venue_t *v, int agg, const char *d, size_t len, int data,
                     int64_t now)
{
    const struct jtok *t = v->tok;
    struct hl *h = v->priv;
    struct mkt_instr *in;
    int64_t ms = 0;
    const char *what = agg ? "l2Book (aggregated)" : "l2Book";

    if (data < 0 || t[data].type != JT_OBJ)
        return venue__reject(v, VREJ_SCHEMA, agg ? "l2Book (aggregated): data" : "l2Book: data",
                             d, len, now);
    if ((in = coin_of(v, d, jtok_get(d, t, data, "coin"))) == NULL)
        return venue__reject(v, VREJ_UNKNOWN_SYMBOL, what, d, len, now);
    int lv = jtok_get(d, t, data, "levels");
    if (lv < 0 || t[lv].type != JT_ARR || t[lv].size != 2)
        return venue__reject(v, VREJ_SCHEMA, agg ? "l2Book (aggregated): levels"
                                                 : "l2Book: levels", d, len, now);
    int ti = jtok_get(d, t, data, "time");
    if (ti < 0 || jtok_i64(d, t, ti, &ms) != 0)
        return venue__reject(v, VREJ_SCHEMA, agg ? "l2Book (aggregated): time"
                                                 : "l2Book: time", d, len, now);
    long nb = parse_side(v, d, jtok_at(t, lv, 0), BOOK_BID);
    long na = nb < 0 ? -1 : parse_side(v, d, jtok_at(t, lv, 1), BOOK_ASK);
    if (nb < 0 || na < 0)
        return venue__reject(v, VREJ_NUMBER, agg ? "l2Book (aggregated): level"
                                                 : "l2Book: level", d, len, now);
    const struct book_level *bids = v->lv[BOOK_BID], *asks = v->lv[BOOK_ASK];
    if (agg) {
        if (agg_side_ok(bids, (size_t)nb, BOOK_BID) != 0 ||
            agg_side_ok(asks, (size_t)na, BOOK_ASK) != 0)
            return venue__reject(v, VREJ_NUMBER, "l2Book (aggregated): levels out of order",
                                 d, len, now);
        /* Buckets round bids down and asks up: a crossed aggregated book
         * comes from no real one. */
        if (nb > 0 && na > 0 && !(bids[0].price < asks[0].price))
            return venue__reject(v, VREJ_NUMBER, "l2Book (aggregated): crossed", d, len, now);
    }

    struct hl_book *b = book_of(h, in);
    struct hl_side *keep = b == NULL ? NULL : agg ? b->agg : b->full;
    if (keep == NULL || side_set(&keep[BOOK_BID], bids, (size_t)nb) != 0 ||
        side_set(&keep[BOOK_ASK], asks, (size_t)na) != 0) {
        if (b != NULL) {
            b->have_full = b->have_agg = 0;
            venue__invalidate(v, in, "could not apply snapshot", now);
        }
        return venue__reject(v, VREJ_NUMBER, agg ? "l2Book (aggregated): could not keep"
                                                 : "l2Book: could not keep", d, len, now);
    }
    in->last_ts = now;
    if (agg) {
        b->have_agg = 1;
        b->agg_rx = now;
        b->agg_ms = ms;
        /* Kept until a full snapshot comes: alone it is no book.  Not
         * paired with the full one (too far apart) and not in the book
         * now: the book stays as it is. */
        if (!b->have_full || (!paired(b) && !b->merged))
            return 0;
    } else {
        b->have_full = 1;
        b->full_rx = now;
        b->full_ms = ms;
    }
    if (apply_merged(v, in, b, ms, now) != 0)
        return venue__reject(v, VREJ_NUMBER, agg ? "l2Book (aggregated): could not apply"
                                                 : "l2Book: could not apply", d, len, now);
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
    int agg = conn == HL_CONN_AGG;

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
        return on_l2book(v, agg, d, len, data, now);
    if (jtok_streq(d, t, ch, "pong") || jtok_streq(d, t, ch, "subscriptionResponse"))
        return 0;
    if (jtok_streq(d, t, ch, "error"))
        return venue__reject(v, VREJ_VENUE_ERROR, "error", d, len, now);
    /* "agg" carries books only: anything else there would be counted twice */
    if (agg)
        return venue__reject(v, VREJ_UNKNOWN_TYPE, "channel on the aggregated-book connection",
                             d, len, now);
    if (jtok_streq(d, t, ch, "trades"))
        return on_trades(v, d, len, data, now);
    if (jtok_streq(d, t, ch, "activeAssetCtx"))
        return on_ctx(v, d, len, data, now);
    return venue__reject(v, VREJ_UNKNOWN_TYPE, "channel", d, len, now);
}

static int init(venue_t *v, lq_err_t *err)
{
    static const char *const names[HL_NCONN] = { "public", "agg" };
    struct hl *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return lq_err_set(err, "out of memory");
    if (v->cfg.ping_interval_s <= 0 || v->cfg.ping_interval_s >= 60)
        v->cfg.ping_interval_s = 50;   /* the server drops links idle 60 s */
    for (int c = 0; c < HL_NCONN; c++) {
        snprintf(v->conns[c].name, sizeof(v->conns[c].name), "%s", names[c]);
        snprintf(v->conns[c].url, sizeof(v->conns[c].url), "%s", v->cfg.ws_url);
    }
    v->nconns = HL_NCONN;
    v->priv = h;
    return 0;
}

static void fini(venue_t *v)
{
    struct hl *h = v->priv;

    if (h == NULL)
        return;
    for (size_t i = 0; i < h->nb; i++)
        book_slot_free(&h->b[i]);
    free(h->b);
    free(h->out[0].lv);
    free(h->out[1].lv);
    free(h);
}

static void subscribe(venue_t *v, int conn, const char *type, const char *coin,
                      const char *extra)
{
    char msg[256];
    int n = snprintf(msg, sizeof(msg),
                     "{\"method\":\"subscribe\",\"subscription\":"
                     "{\"type\":\"%s\",\"coin\":\"%s\"%s}}", type, coin, extra);

    if (n > 0 && (size_t)n < sizeof(msg))
        venue__send(v, conn, msg, (size_t)n);
}

static void on_open(venue_t *v, int conn, int64_t now)
{
    static const char *const types[] = { "l2Book", "activeAssetCtx", "trades" };
    struct hl *h = v->priv;
    int c = conn == HL_CONN_AGG ? HL_CONN_AGG : HL_CONN_PUBLIC;
    char agg[32];

    snprintf(agg, sizeof(agg), ",\"nSigFigs\":%d", HL_AGG_SIGFIGS);
    h->open[c] = 1;
    h->last_ping[c] = now;
    for (size_t i = 0; i < market_count(v->mkt); i++) {
        const struct mkt_instr *in = market_at(v->mkt, i);
        if (in->venue != VENUE_HYPERLIQUID || in->retired)
            continue;
        if (c == HL_CONN_AGG) {
            subscribe(v, c, "l2Book", in->spec.symbol, agg);
            continue;
        }
        for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
            subscribe(v, c, types[k], in->spec.symbol, "");
    }
}

static void on_close(venue_t *v, int conn, int64_t now)
{
    struct hl *h = v->priv;
    int c = conn == HL_CONN_AGG ? HL_CONN_AGG : HL_CONN_PUBLIC;

    h->open[c] = 0;
    for (size_t i = 0; i < market_count(v->mkt); i++) {
        struct mkt_instr *in = market_at(v->mkt, i);
        if (in->venue != VENUE_HYPERLIQUID || in->retired)
            continue;
        struct hl_book *b = in->idx < h->nb && h->b[in->idx].in == in ? &h->b[in->idx] : NULL;
        if (c == HL_CONN_PUBLIC) {
            if (b != NULL)
                b->have_full = 0;
            venue__invalidate(v, in, "connection closed", now);
            continue;
        }
        /* The coarse levels are gone with their connection: the book goes
         * on with the full-precision levels alone. */
        if (b == NULL)
            continue;
        b->have_agg = 0;
        if (b->have_full && b->merged)
            apply_merged(v, in, b, b->full_ms, now);
    }
}

static void tick(venue_t *v, int64_t now)
{
    static const char ping[] = "{\"method\":\"ping\"}";
    struct hl *h = v->priv;

    for (int c = 0; c < HL_NCONN; c++)
        if (h->open[c] && now - h->last_ping[c] >= (int64_t)v->cfg.ping_interval_s * HL_NS) {
            venue__send(v, c, ping, sizeof(ping) - 1);
            h->last_ping[c] = now;
        }
}

const struct venue_ops venue_hyperliquid_ops = {
    .id = VENUE_HYPERLIQUID,
    .init = init, .fini = fini, .on_open = on_open, .on_close = on_close,
    .on_frame = on_frame, .tick = tick,
};
