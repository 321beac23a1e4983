/*
 * bybit.c - Bybit v5 linear adapter ("bybit-linear").
 *
 * One connection, "public" = cfg.ws_url.  On open we subscribe, at most 10
 * topics per message, to tickers.<sym>, orderbook.<depth>.<sym> and
 * allLiquidation.<sym> for every watched symbol, then (cfg.adl_warnings)
 * adlAlert.<coin> for their coins (on_adl_alert), and send {"op":"ping"}
 * every cfg.ping_interval_s (Bybit drops a silent client).  Acks and
 * pongs carry "op" / "success" and are not rejects; success:false is.
 *
 * Book sync, per instrument (Bybit pushes its own snapshots; no REST):
 *
 *                    close / gap / crossed: invalidate, unsubscribe +
 *                    subscribe the orderbook topic (again from tick
 *                    every 10 s until a snapshot comes)
 *        +------------------------------------------------+
 *        v                                                |
 *   NO_SNAPSHOT -- delta: skipped (before_snapshot)       |
 *        |                                                |
 *        | type "snapshot", or a delta with u == 1        |
 *        | (the service restarted): reset the book        |
 *        v                                                |
 *      LIVE ---- snapshot: reset the book (u may restart) |
 *                delta u <= last u: duplicate, skipped    |
 *                delta u == last u + 1: apply             |
 *                delta u >  last u + 1: gap --------------+
 *                crossed after the whole delta -----------+
 *
 * Why u must step by exactly one: Bybit's orderbook page calls u "Update
 * ID. Is a sequence" (English, 2023 onwards) and its Chinese text says the
 * id is consecutive in normal operation except for the u = 1 restart
 * ("一般情況下該id是連續的"); a public client measured a step of exactly
 * one between deltas in 2026.  seq is the cross sequence shared by all
 * depths and jumps, so it is not used for continuity.  Level-1 books
 * repeat a snapshot with the same u after 3 s of no change: a snapshot
 * always resets, so that is harmless.
 *
 * Depth: live, only the subscribed orderbook.<cfg.book_depth> feeds the
 * book; a frame of another depth is rejected (two depths in one book would
 * corrupt it).  In a replay (venue_set_replay) a capture carries whatever
 * its recorder subscribed: frames of another depth are skipped
 * (other_depth), and with book_depth VENUE_DEPTH_DEEPEST (a replay without
 * a config) each symbol's book follows the deepest depth its frames
 * carry: the first snapshot of a depth deeper than the one in use (or of
 * any depth, before there is one) switches the book to it; frames of
 * shallower depths are skipped from then on; deltas of a deeper depth
 * before its first snapshot are skipped as before_snapshot.  One pass
 * cannot know the future: a deeper depth that first appears late takes
 * over from there (venue_notes tells what was used and what ignored).
 *
 * Liquidations: allLiquidation's S is the side of the liquidated POSITION
 * ("Buy": a long was liquidated), every liquidation is pushed
 * (LIQ_COMPLETE), p is the bankruptcy price.  The old liquidation.<sym>
 * topic is deprecated and rejected as an unknown type.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venue_int.h"
#include "vscan.h"

#define BY_MAX_ARGS 10                 /* topics per subscribe message */
#define BY_RESUB_AFTER ((int64_t)10 * 1000000000)
#define BY_NS ((int64_t)1000000000)
#define BY_NDEPTH 5

/* The orderbook depths Bybit publishes (linear: 1, 50, 200, 500; 1000 for
 * some products). */
static const int by_depths[BY_NDEPTH] = { 1, 50, 200, 500, 1000 };

static int depth_slot(int d)
{
    for (int i = 0; i < BY_NDEPTH; i++)
        if (by_depths[i] == d)
            return i;
    return -1;
}

struct by_sym {
    struct mkt_instr *in;          /* borrowed from the market */
    int have_snapshot;
    int64_t last_u;
    int64_t sub_ts;                /* orderbook (re)subscribed at, 0: never */
    int depth;                     /* deepest mode: the depth replayed, 0 none yet */
    uint64_t used[BY_NDEPTH];      /* replay: book frames applied, per depth */
    uint64_t other[BY_NDEPTH];     /* replay: skipped as other_depth, per depth */
    uint64_t nosnap;               /* deepest mode: deltas before any snapshot */
};

struct by_priv {
    struct by_sym *sym;
    size_t nsym, symcap;
    int depth;                     /* subscribed (deepest mode: 200) */
    int deepest;                   /* VENUE_DEPTH_DEEPEST */
    int64_t ping_ns;
    int open;
    int64_t last_ping;
};

static inline struct by_priv *priv_of(venue_t *v) { return v->priv; }

/* The state of in, or NULL. */
static struct by_sym *sym_of(venue_t *v, const struct mkt_instr *in)
{
    struct by_priv *p = priv_of(v);

    if (in == NULL)
        return NULL;
    for (size_t i = 0; i < p->nsym; i++)
        if (p->sym[i].in == in)
            return &p->sym[i];
    return NULL;
}

static struct by_sym *find_sym(venue_t *v, const char *s, size_t len)
{
    return sym_of(v, venue__find(v, s, len));     /* may add one */
}

/* ---- subscriptions ---------------------------------------------------------- */

/* Send {"op":op,"args":[topics...]} in messages of at most 10 args.
 * topic(i, buf, size) writes the i-th topic. */
static void send_topics(venue_t *v, const char *op, size_t n,
                        void (*topic)(venue_t *, size_t, char *, size_t))
{
    char msg[2048];

    for (size_t i = 0; i < n;) {
        size_t len = (size_t)snprintf(msg, sizeof(msg), "{\"op\":\"%s\",\"args\":[", op);
        for (size_t k = 0; k < BY_MAX_ARGS && i < n; k++, i++) {
            char tp[128];
            topic(v, i, tp, sizeof(tp));
            len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s\"%s\"",
                                    k ? "," : "", tp);
        }
        len += (size_t)snprintf(msg + len, sizeof(msg) - len, "]}");
        venue__send(v, 0, msg, len);
    }
}

/* Topic i of the full subscription: three per instrument. */
static void topic_all(venue_t *v, size_t i, char *buf, size_t size)
{
    struct by_priv *p = priv_of(v);
    const char *sym = p->sym[i / 3].in->spec.symbol;

    switch (i % 3) {
    case 0: snprintf(buf, size, "tickers.%s", sym); break;
    case 1: snprintf(buf, size, "orderbook.%d.%s", p->depth, sym); break;
    default: snprintf(buf, size, "allLiquidation.%s", sym); break;
    }
}

/* Resync one book: Bybit sends a fresh snapshot on (re)subscription. */
static void resubscribe_book(venue_t *v, struct by_sym *st, int64_t now)
{
    struct by_priv *p = priv_of(v);
    char msg[256];
    int n;

    n = snprintf(msg, sizeof(msg), "{\"op\":\"unsubscribe\",\"args\":[\"orderbook.%d.%s\"]}",
                 p->depth, st->in->spec.symbol);
    venue__send(v, 0, msg, (size_t)n);
    n = snprintf(msg, sizeof(msg), "{\"op\":\"subscribe\",\"args\":[\"orderbook.%d.%s\"]}",
                 p->depth, st->in->spec.symbol);
    venue__send(v, 0, msg, (size_t)n);
    st->sub_ts = now;
}

static void book_broken(venue_t *v, struct by_sym *st, const char *why, int64_t now)
{
    venue__invalidate(v, st->in, why, now);
    st->have_snapshot = 0;
    resubscribe_book(v, st, now);
}

/* ---- parsing ------------------------------------------------------------------- */

/* The depth of a topic orderbook.<depth>.<symbol> (dot: its first dot;
 * sym: where the symbol starts, after the last dot) as *d, and its slot;
 * -1 when it is no depth Bybit publishes. */
static int topic_depth(const char *dot, const char *sym, int *d)
{
    const char *q;

    *d = 0;
    for (q = dot + 1; q < sym - 1 && *q >= '0' && *q <= '9' && *d < 100000; q++)
        *d = *d * 10 + (*q - '0');
    return q == sym - 1 && q > dot + 1 ? depth_slot(*d) : -1;
}

/* Deepest mode (header): whether a book frame of depth d is skipped
 * (the venue__skip code, negative) or used (0). */
static int orderbook_skip(venue_t *v, struct by_sym *st, int d, int slot, int snapshot)
{
    if (priv_of(v)->deepest && d != st->depth) {
        /* Follow the deepest depth: a shallower one is ignored, a deeper
         * one (or the first one) starts at its snapshot. */
        if (st->depth != 0 && d < st->depth) {
            st->other[slot]++;
            return venue__skip(v, VSKIP_OTHER_DEPTH);
        }
        if (!snapshot) {
            if (st->depth == 0)
                st->nosnap++;
            return venue__skip(v, VSKIP_BEFORE_SNAPSHOT);
        }
    }
    return 0;
}

static int orderbook_apply(venue_t *v, struct by_sym *st, int d, int slot, int snapshot,
                           int64_t u, const struct book_level *bids, long nb,
                           const struct book_level *asks, long na, int64_t ts,
                           int64_t now);

/* A book frame of depth d (slot its depth_slot) of st's symbol. */
static int on_orderbook(venue_t *v, const char *s, size_t len, const struct jtok *t,
                        struct by_sym *st, int d, int slot, int64_t ts, int64_t now)
{
    struct mkt_instr *in = st->in;
    struct book_level *bids = NULL, *asks = NULL;
    int dt = jtok_get(s, t, 0, "data"), ty = jtok_get(s, t, 0, "type");
    int64_t u;
    long nb, na;
    int snapshot, rc;

    if (dt < 0 || t[dt].type != JT_OBJ)
        return venue__reject(v, VREJ_SCHEMA, "orderbook without data", s, len, now);
    if (jtok_i64(s, t, jtok_get(s, t, dt, "u"), &u) != 0)
        return venue__reject(v, VREJ_SCHEMA, "orderbook without u", s, len, now);
    if (jtok_streq(s, t, ty, "snapshot"))
        snapshot = 1;
    else if (jtok_streq(s, t, ty, "delta"))
        snapshot = u == 1;      /* u == 1: the service restarted */
    else
        return venue__reject(v, VREJ_UNKNOWN_TYPE, "orderbook type", s, len, now);
    if ((rc = orderbook_skip(v, st, d, slot, snapshot)) != 0)
        return rc;
    nb = venue__parse_levels(v, s, jtok_get(s, t, dt, "b"), BOOK_BID, in, &bids);
    if (nb < 0)
        return venue__reject(v, (enum venue_reject)(-1 - nb), "orderbook bids", s, len, now);
    na = venue__parse_levels(v, s, jtok_get(s, t, dt, "a"), BOOK_ASK, in, &asks);
    if (na < 0)
        return venue__reject(v, (enum venue_reject)(-1 - na), "orderbook asks", s, len, now);
    return orderbook_apply(v, st, d, slot, snapshot, u, bids, nb, asks, na, ts, now);
}

/* A book frame parsed (either way) and not skipped: a snapshot replaces
 * the book, a delta must follow the last u. */
static int orderbook_apply(venue_t *v, struct by_sym *st, int d, int slot, int snapshot,
                           int64_t u, const struct book_level *bids, long nb,
                           const struct book_level *asks, long na, int64_t ts,
                           int64_t now)
{
    struct by_priv *p = priv_of(v);
    struct mkt_instr *in = st->in;

    in->last_ts = now;

    if (snapshot) {
        int was_valid = in->book_valid;
        int rc;
        if (p->deepest && d != st->depth) {
            st->depth = d;         /* this depth from now on */
            st->have_snapshot = 0;
        }
        rc = market_apply_snapshot(in, bids, (size_t)nb, asks, (size_t)na, (uint64_t)u);
        if (rc != BOOK_OK) {
            book_broken(v, st, rc == BOOK_CROSSED ? "crossed book in snapshot"
                                                  : "bad level in snapshot", now);
            return 0;
        }
        venue__emit_book(v, in, 1, bids, (size_t)nb, asks, (size_t)na, (uint64_t)u, ts, now);
        st->have_snapshot = 1;
        st->last_u = u;
        st->used[slot]++;
        if (!was_valid)
            venue__book_valid(v, in, now);
        return 0;
    }

    if (!st->have_snapshot)
        return venue__skip(v, VSKIP_BEFORE_SNAPSHOT);   /* nothing to apply it to */
    if (u <= st->last_u)
        return venue__skip(v, VSKIP_DUPLICATE);         /* not a gap */
    if (u != st->last_u + 1) {
        book_broken(v, st, "orderbook gap (u skipped)", now);
        return 0;
    }
    /* market_apply_delta judges crossing after the whole delta. */
    st->last_u = u;
    st->used[slot]++;
    if (market_apply_delta(in, bids, (size_t)nb, asks, (size_t)na, (uint64_t)u) != BOOK_OK)
        goto crossed;
    venue__emit_book(v, in, 0, bids, (size_t)nb, asks, (size_t)na, (uint64_t)u, ts, now);
    return 0;
crossed:
    book_broken(v, st, "crossed book", now);
    return 0;
}

/* A ticker field as a double; 0 when absent or "" (a delta leaves out what
 * did not change), 1 when set, -1 when not a number. */
static int tick_double(const char *s, const struct jtok *t, int d, const char *key,
                       double *out)
{
    int i = jtok_get(s, t, d, key);

    if (i < 0 || t[i].type == JT_NULL || (t[i].type == JT_STR && t[i].len == 0))
        return 0;
    return jtok_double(s, t, i, out) == 0 ? 1 : -1;
}

static int on_tickers(venue_t *v, const char *s, size_t len, const struct jtok *t,
                      struct by_sym *st, int64_t ts, int64_t now)
{
    struct mkt_instr *in = st->in;
    int d = jtok_get(s, t, 0, "data"), hm, hi, oi;
    double mark = 0, index = 0;
    dec_t q = 0;

    if (d < 0 || t[d].type != JT_OBJ)
        return venue__reject(v, VREJ_SCHEMA, "tickers without data", s, len, now);
    hm = tick_double(s, t, d, "markPrice", &mark);
    hi = tick_double(s, t, d, "indexPrice", &index);
    oi = jtok_get(s, t, d, "openInterest");
    if (oi >= 0 && t[oi].type == JT_STR && t[oi].len == 0)
        oi = -1;
    /* Both are prices: > 0 (an index of -0.16 reached the market as the
     * index price; found by make fuzz in CI). */
    if (hm < 0 || hi < 0 || (hm > 0 && !(mark > 0)) || (hi > 0 && !(index > 0)))
        return venue__reject(v, VREJ_NUMBER, "tickers price", s, len, now);
    if (oi >= 0 && (jtok_dec(s, t, oi, &q) != 0 || q < 0))
        return venue__reject(v, VREJ_NUMBER, "tickers openInterest", s, len, now);

    in->last_ts = now;
    /* A delta carries only what changed: merge into the last values. */
    if (hi > 0)
        in->index = index;
    if (hm > 0)
        venue__mark(v, in, mark, 0, ts, now);
    if (oi >= 0)     /* base coin (linear) */
        venue__open_interest(v, in, market_to_base(in, q), ts, now);
    return 0;
}

static int on_liquidation(venue_t *v, const char *s, size_t len, const struct jtok *t,
                          struct by_sym *st, int64_t now)
{
    int d = jtok_get(s, t, 0, "data"), i;
    uint32_t k;

    if (d < 0 || t[d].type != JT_ARR)
        return venue__reject(v, VREJ_SCHEMA, "allLiquidation data not an array", s, len, now);
    /* Validate every entry first: a frame is used whole or not at all. */
    for (i = jtok_first(t, d), k = 0; k < t[d].size; i = jtok_next(t, i), k++) {
        int sy = jtok_get(s, t, i, "s"), side = jtok_get(s, t, i, "S");
        double px;
        dec_t q;
        if (t[i].type != JT_OBJ)
            return venue__reject(v, VREJ_SCHEMA, "allLiquidation entry", s, len, now);
        /* An entry names the topic's symbol (compared as text: another
         * symbol is not looked up, so a replay does not add it). */
        if (sy >= 0 && (t[sy].type != JT_STR || t[sy].len != strlen(st->in->spec.symbol) ||
                        memcmp(s + t[sy].start, st->in->spec.symbol, t[sy].len) != 0))
            return venue__reject(v, VREJ_UNKNOWN_SYMBOL, "allLiquidation entry s", s, len, now);
        if (!jtok_streq(s, t, side, "Buy") && !jtok_streq(s, t, side, "Sell"))
            return venue__reject(v, VREJ_SCHEMA, "allLiquidation S", s, len, now);
        if (jtok_double(s, t, jtok_get(s, t, i, "p"), &px) != 0 || !(px > 0) ||
            jtok_dec(s, t, jtok_get(s, t, i, "v"), &q) != 0 || q <= 0)
            return venue__reject(v, VREJ_NUMBER, "allLiquidation p/v", s, len, now);
    }
    st->in->last_ts = now;
    for (i = jtok_first(t, d), k = 0; k < t[d].size; i = jtok_next(t, i), k++) {
        struct mkt_event ev;
        int64_t ms = 0;
        dec_t q;
        (void)jtok_i64(s, t, jtok_get(s, t, i, "T"), &ms);
        venue__event(&ev, MEV_LIQUIDATION, st->in, venue__ms(ms), now);
        (void)jtok_double(s, t, jtok_get(s, t, i, "p"), &ev.u.liq.price);
        (void)jtok_dec(s, t, jtok_get(s, t, i, "v"), &q);
        /* The position's side: "Buy" means a long was liquidated. */
        ev.u.liq.liquidated_long = jtok_streq(s, t, jtok_get(s, t, i, "S"), "Buy");
        ev.u.liq.price_kind = LIQ_PX_BANKRUPTCY;
        ev.u.liq.qty = market_to_base(st->in, q);
        ev.u.liq.coverage = LIQ_COMPLETE;
        venue__emit(v, &ev);
    }
    return 0;
}

/* ---- adlAlert.{coin}: ADL early warnings ---------------------------------------
 *
 * Bybit "ADL Alert" (v5 public websocket, linear): adlAlert.USDT and
 * adlAlert.USDC, a snapshot every second of every symbol of the coin's
 * grouped insurance pools: c (pool coin), s (symbol), b (pool balance),
 * mb (8 h maximum: deprecated, ""), i_pr (the PnL drawdown ratio that
 * triggers ADL), pr (the symbol's 8 h drawdown ratio), adl_tt (balance
 * above which the drawdown rule applies), adl_sr (the ratio at which ADL
 * stops).  There is no state field; the level is the venue's documented
 * rule ("Get ADL Alert"), first match:
 *   b <= 0                                   ADL_ACTIVE  "adl_balance"
 *   b > adl_tt and pr < i_pr                 ADL_ACTIVE  "adl_drawdown"
 *   b > adl_tt and pr < adl_sr               ADL_WARNING "drawdown_past_stop"
 *   else                                     ADL_NORMAL  "normal"
 * (liqmon's warning: past the ratio at which Bybit would stop an ADL, so
 * one step from its trigger.)  A negative b is documented (a pool in
 * deficit), so it is not rejected.  Only entries of watched symbols are
 * emitted (a snapshot lists the whole coin), never discovered; a frame
 * is checked whole first.  Scope "coin:symbol". */

static int on_adl_alert(venue_t *v, const char *s, size_t len, const struct jtok *t,
                        int64_t ts, int64_t now)
{
    int d = jtok_get(s, t, 0, "data");

    if (d < 0 || t[d].type != JT_ARR)
        return venue__reject(v, VREJ_SCHEMA, "adlAlert data not an array", s, len, now);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = jtok_first(t, d); i >= 0 && i < (int)t[d].end; i = jtok_next(t, i)) {
            static const char *const opt[5] = { "mb", "i_pr", "pr", "adl_tt", "adl_sr" };
            double x[5], b;
            char coin[16], sym[48], scope[64];
            if (t[i].type != JT_OBJ)
                return venue__reject(v, VREJ_SCHEMA, "adlAlert entry", s, len, now);
            int c = jtok_get(s, t, i, "c"), sy = jtok_get(s, t, i, "s");
            if (c < 0 || t[c].type != JT_STR || !venue_symbol_ok(s + t[c].start, t[c].len) ||
                jtok_strcpy(s, t, c, coin, sizeof(coin)) != 0 ||
                sy < 0 || t[sy].type != JT_STR || !venue_symbol_ok(s + t[sy].start, t[sy].len) ||
                jtok_strcpy(s, t, sy, sym, sizeof(sym)) != 0)
                return venue__reject(v, VREJ_SCHEMA, "adlAlert c/s", s, len, now);
            if (jtok_double(s, t, jtok_get(s, t, i, "b"), &b) != 0 || !isfinite(b))
                return venue__reject(v, VREJ_NUMBER, "adlAlert b", s, len, now);
            for (int k = 0; k < 5; k++)
                if (venue__opt_double(s, t, jtok_get(s, t, i, opt[k]), &x[k]) != 0)
                    return venue__reject(v, VREJ_NUMBER, "adlAlert ratio or threshold",
                                         s, len, now);
            if (pass == 0)
                continue;
            struct mkt_instr *in = market_findn(v->mkt, VENUE_BYBIT, sym, strlen(sym));
            if (in == NULL || in->retired)
                continue;          /* a symbol we do not watch */
            double i_pr = x[1], pr = x[2], tt = x[3], sr = x[4];
            int drawdown_rule = isfinite(pr) && (!isfinite(tt) || b > tt);
            enum adl_level lv = ADL_NORMAL;
            const char *why = "normal";
            if (b <= 0) {
                lv = ADL_ACTIVE;
                why = "adl_balance";
            } else if (drawdown_rule && isfinite(i_pr) && pr < i_pr) {
                lv = ADL_ACTIVE;
                why = "adl_drawdown";
            } else if (drawdown_rule && isfinite(sr) && pr < sr) {
                lv = ADL_WARNING;
                why = "drawdown_past_stop";
            }
            snprintf(scope, sizeof(scope), "%s:%s", coin, sym);
            struct mkt_event ev;
            venue__event(&ev, MEV_ADL_WARNING, in, ts, now);
            ev.u.adl.level = lv;
            ev.u.adl.scope = scope;
            ev.u.adl.ccy = coin;
            ev.u.adl.state = why;
            ev.u.adl.balance = b;
            ev.u.adl.max_balance = x[0];
            ev.u.adl.threshold = 0;     /* the balance rule: b <= 0 */
            ev.u.adl.ratio = pr;
            ev.u.adl.ratio_trigger = i_pr;
            ev.u.adl.ratio_stop = sr;
            venue__emit(v, &ev);
        }
    }
    return 0;
}

/* The adlAlert topic of a symbol's settle coin: USDT contracts, else
 * USDC (BTCPERP, USDC futures). */
static const char *adl_coin(const char *sym)
{
    return strstr(sym, "USDT") != NULL ? "USDT" : "USDC";
}

/* Subscribe adlAlert.<coin> for the coins of the watched symbols (or of
 * `only` alone when no other watched symbol has its coin). */
static void send_adl_sub(venue_t *v, const struct mkt_instr *only)
{
    struct by_priv *p = priv_of(v);
    int want[2] = { 0, 0 };          /* USDT, USDC */
    char msg[128];
    int n;

    if (!v->cfg.adl_warnings)
        return;
    for (size_t i = 0; i < p->nsym; i++) {
        const char *c = adl_coin(p->sym[i].in->spec.symbol);
        if (only == NULL || p->sym[i].in == only)
            want[c[3] == 'C'] = 1;
    }
    if (only != NULL)
        for (size_t i = 0; i < p->nsym; i++)
            if (p->sym[i].in != only &&
                strcmp(adl_coin(p->sym[i].in->spec.symbol), adl_coin(only->spec.symbol)) == 0)
                return;            /* subscribed already */
    n = snprintf(msg, sizeof(msg), "{\"op\":\"subscribe\",\"args\":[%s%s%s]}",
                 want[0] ? "\"adlAlert.USDT\"" : "", want[0] && want[1] ? "," : "",
                 want[1] ? "\"adlAlert.USDC\"" : "");
    if ((want[0] || want[1]) && n > 0 && (size_t)n < sizeof(msg))
        venue__send(v, 0, msg, (size_t)n);
}

/*
 * Nearly every frame is an orderbook frame of one shape:
 *
 *   {"topic":"orderbook.200.BTCUSDT","type":"delta","ts":ms,
 *    "data":{"s":"BTCUSDT","b":[["px","sz"],...],"a":[...],"u":n,"seq":n},
 *    "cts":ms}
 *
 * fast_orderbook reads it in one pass (vscan.h) and takes the steps
 * on_frame and on_orderbook take from tokens: the topic's depth and
 * symbol, the same skips, the same apply.  Any other shape (top-level
 * keys in another order, a key of data it does not know or sees twice),
 * a depth not subscribed, a symbol not in the market yet, a value the
 * tokenizer's way would refuse (or a ts that is no number, which on_frame
 * reads as 0): -1, and the frame goes that way.  Else 0, with *rc what
 * on_frame would return.
 */
static int fast_orderbook(venue_t *v, const char *s, size_t len, int64_t now, int *rc)
{
    enum { K_S = 1, K_B = 2, K_A = 4, K_U = 8, K_SEQ = 16 };
    struct by_priv *p = priv_of(v);
    struct vscan c = { s, s, s + len };
    struct jtok tk, key;
    int64_t ms, u = 0;
    long nb = 0, na = 0, n;
    int seen = 0, snapshot, d, slot;

    if (vscan_lit(&c, "{\"topic\":\"") || vscan_str(&c, &tk) || tk.len < 10 ||
        memcmp(s + tk.start, "orderbook.", 10) != 0)
        return -1;
    const char *dot = s + tk.start + 9, *sym = s + tk.start + tk.len;
    while (sym > dot + 1 && sym[-1] != '.')
        sym--;
    if ((slot = topic_depth(dot, sym, &d)) < 0 || (!p->deepest && d != p->depth))
        return -1;                 /* rejected or skipped: on_frame says so */
    /* known already (vscan.h: a new one is the tokenizer's way to discover) */
    struct by_sym *st = sym_of(v, market_findn(v->mkt, VENUE_BYBIT, sym,
                                               (size_t)(s + tk.start + tk.len - sym)));
    if (st == NULL)
        return -1;
    if (vscan_lit(&c, ",\"type\":\"snapshot\"") == 0)
        snapshot = 1;
    else if (vscan_lit(&c, ",\"type\":\"delta\"") == 0)
        snapshot = 0;
    else
        return -1;
    if (vscan_lit(&c, ",\"ts\":") || vscan_i64(&c, &ms) ||
        vscan_lit(&c, ",\"data\":{"))
        return -1;
    do {
        int bit;
        if (vscan_key(&c, &key))
            return -1;
        if (vscan_is(&c, &key, "s")) {
            bit = K_S;
            if (vscan_scalar(&c, &tk))
                return -1;
        } else if (vscan_is(&c, &key, "b") || vscan_is(&c, &key, "a")) {
            int side = s[key.start] == 'b' ? BOOK_BID : BOOK_ASK;
            bit = side == BOOK_BID ? K_B : K_A;
            if ((seen & bit) || (n = vscan_levels(v, &c, st->in, side, NULL)) < 0)
                return -1;
            if (side == BOOK_BID)
                nb = n;
            else
                na = n;
        } else if (vscan_is(&c, &key, "u")) {
            bit = K_U;
            if (vscan_i64(&c, &u))
                return -1;
        } else if (vscan_is(&c, &key, "seq")) {
            bit = K_SEQ;
            if (vscan_scalar(&c, &tk))
                return -1;
        } else {
            return -1;
        }
        if (vscan_once(&seen, bit))
            return -1;
    } while (vscan_lit(&c, ",") == 0);
    if (vscan_lit(&c, "}") || (vscan_lit(&c, ",\"cts\":") == 0 && vscan_scalar(&c, &tk)) ||
        vscan_lit(&c, "}") || c.p != c.end || (seen & (K_B | K_A | K_U)) != (K_B | K_A | K_U))
        return -1;
    if (!snapshot)
        snapshot = u == 1;         /* as on_orderbook: the service restarted */
    if ((*rc = orderbook_skip(v, st, d, slot, snapshot)) != 0)
        return 0;
    *rc = orderbook_apply(v, st, d, slot, snapshot, u, v->lv[BOOK_BID], nb,
                          v->lv[BOOK_ASK], na, venue__ms(ms), now);
    return 0;
}

static int on_frame(venue_t *v, int conn, enum frame_src src, const char *url,
                    const char *data, size_t len, int64_t now)
{
    struct by_priv *p = priv_of(v);
    const struct jtok *t;
    const char *tp, *dot, *sym;
    struct by_sym *st;
    size_t tl, kl;
    int64_t ms = 0;
    int n, topic;

    (void)conn;
    (void)url;
    if (src != FRAME_WS)
        return venue__reject(v, VREJ_UNKNOWN_TYPE, "REST frame (Bybit needs none)",
                             data, len, now);
    if (!v->fast_off && fast_orderbook(v, data, len, now, &n) == 0)
        return n;
    n = venue__tokens(v, data, len);
    if (n < 0)
        return venue__reject(v, VREJ_JSON, NULL, data, len, now);
    t = v->tok;
    if (t[0].type != JT_OBJ)
        return venue__reject(v, VREJ_SCHEMA, "not an object", data, len, now);

    topic = jtok_get(data, t, 0, "topic");
    if (topic < 0) {
        int ok = jtok_get(data, t, 0, "success");
        if (ok >= 0 && t[ok].type == JT_FALSE)
            return venue__reject(v, VREJ_VENUE_ERROR, NULL, data, len, now);
        if (jtok_get(data, t, 0, "op") >= 0 || (ok >= 0 && t[ok].type == JT_TRUE))
            return 0;       /* subscribe / unsubscribe reply, pong */
        return venue__reject(v, VREJ_SCHEMA, "neither topic nor op", data, len, now);
    }
    if (t[topic].type != JT_STR)
        return venue__reject(v, VREJ_SCHEMA, "topic", data, len, now);
    tp = data + t[topic].start;
    tl = t[topic].len;
    dot = memchr(tp, '.', tl);
    if (dot == NULL)
        return venue__reject(v, VREJ_UNKNOWN_TYPE, NULL, data, len, now);
    kl = (size_t)(dot - tp);
    sym = tp + tl;
    while (sym > dot + 1 && sym[-1] != '.')
        sym--;
    (void)jtok_i64(data, t, jtok_get(data, t, 0, "ts"), &ms);

#define KIND(lit) (kl == sizeof(lit) - 1 && memcmp(tp, lit, kl) == 0)
    if (KIND("adlAlert"))
        return on_adl_alert(v, data, len, t, venue__ms(ms), now);
    if (!KIND("orderbook") && !KIND("tickers") && !KIND("allLiquidation"))
        return venue__reject(v, VREJ_UNKNOWN_TYPE, KIND("liquidation")
                                 ? "deprecated liquidation topic" : NULL, data, len, now);
    if (KIND("orderbook")) {
        /* orderbook.<depth>.<symbol>: only one depth feeds a book (two
         * would corrupt it; header). */
        int d, slot = topic_depth(dot, sym, &d);
        if (slot < 0)
            return venue__reject(v, VREJ_UNKNOWN_TYPE, "orderbook depth", data, len, now);
        if (!p->deepest && d != p->depth && !v->replaying)
            return venue__reject(v, VREJ_UNKNOWN_TYPE, "orderbook depth not subscribed",
                                 data, len, now);
        st = find_sym(v, sym, (size_t)(tp + tl - sym));
        if (st == NULL)
            return venue__reject(v, VREJ_UNKNOWN_SYMBOL, NULL, data, len, now);
        if (!p->deepest && d != p->depth) {
            st->other[slot]++;         /* a replay: the capture has more */
            return venue__skip(v, VSKIP_OTHER_DEPTH);
        }
        return on_orderbook(v, data, len, t, st, d, slot, venue__ms(ms), now);
    }
    st = find_sym(v, sym, (size_t)(tp + tl - sym));
    if (st == NULL)
        return venue__reject(v, VREJ_UNKNOWN_SYMBOL, NULL, data, len, now);
    if (KIND("tickers"))
        return on_tickers(v, data, len, t, st, venue__ms(ms), now);
    return on_liquidation(v, data, len, t, st, now);
#undef KIND
}

/* ---- lifecycle --------------------------------------------------------------- */

static void fini(venue_t *v)
{
    struct by_priv *p = priv_of(v);

    if (p == NULL)
        return;
    free(p->sym);
    free(p);
    v->priv = NULL;
}

static void set_conns(venue_t *v)
{
    struct by_priv *p = priv_of(v);

    v->nconns = 0;
    if (p->nsym > 0) {
        snprintf(v->conns[0].name, sizeof(v->conns[0].name), "public");
        snprintf(v->conns[0].url, sizeof(v->conns[0].url), "%s", v->cfg.ws_url);
        v->nconns = 1;
    }
}

static int init(venue_t *v, lq_err_t *err)
{
    struct by_priv *p = calloc(1, sizeof(*p));
    size_t n = 0, cnt = market_count(v->mkt);
    int d = v->cfg.book_depth ? v->cfg.book_depth : 200;

    if (p == NULL)
        return lq_err_set(err, "out of memory");
    v->priv = p;
    if (d == VENUE_DEPTH_DEEPEST) {
        p->deepest = 1;
        d = 200;                   /* what a live connection would subscribe */
    } else if (depth_slot(d) < 0) {
        lq_err_set(err, "bybit-linear: book_depth %d: must be 1, 50, 200, 500 or 1000", d);
        goto fail;
    }
    p->depth = d;
    p->ping_ns = (v->cfg.ping_interval_s > 0 ? v->cfg.ping_interval_s : 20) * BY_NS;
    p->sym = venue__per_instrument(v, sizeof(*p->sym), &n);
    if (p->sym == NULL) {
        lq_err_set(err, "out of memory");
        goto fail;
    }
    p->symcap = n ? n : 1;
    for (size_t i = 0; i < cnt; i++) {
        struct mkt_instr *in = market_at(v->mkt, i);
        if (in->venue == VENUE_BYBIT && !in->retired)
            p->sym[p->nsym++].in = in;
    }
    set_conns(v);
    return 0;
fail:
    fini(v);
    return -1;
}

static int add_instrument(venue_t *v, struct mkt_instr *in, lq_err_t *err)
{
    struct by_priv *p = priv_of(v);
    struct by_sym *st;
    char msg[512];
    int n;

    for (size_t i = 0; i < p->nsym; i++)
        if (p->sym[i].in == in)
            return 0;
    if (p->nsym == p->symcap) {
        size_t ncap = p->symcap * 2;
        struct by_sym *ns = realloc(p->sym, ncap * sizeof(*ns));
        if (ns == NULL)
            return lq_err_set(err, "out of memory");
        p->sym = ns;
        p->symcap = ncap;
    }
    st = &p->sym[p->nsym++];
    memset(st, 0, sizeof(*st));
    st->in = in;
    set_conns(v);
    if (p->open) {
        n = snprintf(msg, sizeof(msg), "{\"op\":\"subscribe\",\"args\":[\"tickers.%s\","
                     "\"orderbook.%d.%s\",\"allLiquidation.%s\"]}", in->spec.symbol,
                     p->depth, in->spec.symbol, in->spec.symbol);
        if (n > 0 && (size_t)n < sizeof(msg))
            venue__send(v, 0, msg, (size_t)n);
        st->sub_ts = p->last_ping;
        send_adl_sub(v, in);
    }
    return 0;
}

/* "orderbook.50: 812 frames ignored" and the like, for one symbol. */
static size_t depth_list(const struct by_sym *st, int cur, const char *what,
                         char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (int k = 0; k < BY_NDEPTH; k++) {
        int n;
        if (k == cur || (st->other[k] == 0 && st->used[k] == 0))
            continue;
        if (st->used[k] > 0 && cur >= 0)
            n = snprintf(buf + len, size - len, "%sorderbook.%d: %llu frames used until "
                         "the first orderbook.%d snapshot, %llu %s", len ? "; " : "",
                         by_depths[k], (unsigned long long)st->used[k], by_depths[cur],
                         (unsigned long long)st->other[k], what);
        else
            n = snprintf(buf + len, size - len, "%sorderbook.%d: %llu frames %s",
                         len ? "; " : "", by_depths[k], (unsigned long long)st->other[k],
                         what);
        if (n < 0 || (size_t)n >= size - len)
            break;
        len += (size_t)n;
    }
    return len;
}

static size_t notes(const venue_t *v, void (*note)(const char *, void *), void *arg)
{
    const struct by_priv *p = v->priv;
    size_t lines = 0;

    if (!v->replaying)
        return 0;
    for (size_t i = 0; i < p->nsym; i++) {
        const struct by_sym *st = &p->sym[i];
        char list[400], msg[600];
        int cur = p->deepest ? depth_slot(st->depth) : depth_slot(p->depth);

        if (p->deepest && st->depth == 0) {
            if (st->nosnap == 0)
                continue;
            snprintf(msg, sizeof(msg), "%s: no orderbook snapshot in the capture: %llu "
                     "book deltas could not be used, the book stays empty", st->in->key,
                     (unsigned long long)st->nosnap);
        } else if (depth_list(st, cur, p->deepest ? "ignored" : "skipped", list,
                              sizeof(list)) == 0) {
            continue;
        } else if (p->deepest) {
            snprintf(msg, sizeof(msg), "%s: replaying orderbook.%d (the capture also has %s)",
                     st->in->key, st->depth, list);
        } else if (st->used[cur] == 0) {
            snprintf(msg, sizeof(msg), "%s: no orderbook.%d frame in the capture (book_depth "
                     "%d, as configured); it has %s", st->in->key, p->depth, p->depth, list);
        } else {
            snprintf(msg, sizeof(msg), "%s: replaying orderbook.%d (book_depth, as "
                     "configured); the capture also has %s", st->in->key, p->depth, list);
        }
        note(msg, arg);
        lines++;
    }
    return lines;
}

static void on_open(venue_t *v, int conn, int64_t now)
{
    struct by_priv *p = priv_of(v);

    if (conn != 0)
        return;
    p->open = 1;
    p->last_ping = now;
    for (size_t i = 0; i < p->nsym; i++)
        p->sym[i].sub_ts = now;
    send_topics(v, "subscribe", p->nsym * 3, topic_all);
    send_adl_sub(v, NULL);
}

static void on_close(venue_t *v, int conn, int64_t now)
{
    struct by_priv *p = priv_of(v);

    if (conn != 0)
        return;
    p->open = 0;
    for (size_t i = 0; i < p->nsym; i++) {
        struct by_sym *st = &p->sym[i];
        venue__invalidate(v, st->in, "connection closed", now);
        st->have_snapshot = 0;
        st->sub_ts = 0;
    }
}

static void tick(venue_t *v, int64_t now)
{
    static const char ping[] = "{\"op\":\"ping\"}";
    struct by_priv *p = priv_of(v);

    if (!p->open)
        return;
    if (now - p->last_ping >= p->ping_ns) {
        venue__send(v, 0, ping, sizeof(ping) - 1);
        p->last_ping = now;
    }
    for (size_t i = 0; i < p->nsym; i++) {
        struct by_sym *st = &p->sym[i];
        if (!st->have_snapshot && st->sub_ts != 0 && now - st->sub_ts >= BY_RESUB_AFTER)
            resubscribe_book(v, st, now);
    }
}

const struct venue_ops venue_bybit_ops = {
    .id = VENUE_BYBIT,
    .init = init,
    .fini = fini,
    .on_open = on_open,
    .on_close = on_close,
    .on_frame = on_frame,
    .tick = tick,
    .add_instrument = add_instrument,
    .notes = notes,
    .finds_own = 1,
};
