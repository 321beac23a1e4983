/*
 * venue.c - dispatch to the venue adapters, and the chores they share
 * (see venue.h and venue_int.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/jsonw.h"
#include "liqmon/log.h"
#include "venue_int.h"

static const struct venue_ops *const venue_table[VENUE_COUNT] = {
    [VENUE_BINANCE] = &venue_binance_ops,
    [VENUE_BYBIT] = &venue_bybit_ops,
    [VENUE_OKX] = &venue_okx_ops,
    [VENUE_HYPERLIQUID] = &venue_hyperliquid_ops,
};

static const char *const reject_names[VREJ_COUNT] = {
    "json", "schema", "number", "unknown_type", "unknown_symbol",
    "venue_error"
};

const char *venue_reject_name(enum venue_reject r)
{
    return (unsigned)r < VREJ_COUNT ? reject_names[r] : "unknown";
}

static const char *const skip_names[VSKIP_COUNT] = {
    "before_snapshot", "older_than_snapshot", "duplicate", "late_snapshot",
    "other_depth"
};

const char *venue_skip_name(enum venue_skip s)
{
    return (unsigned)s < VSKIP_COUNT ? skip_names[s] : "unknown";
}

static const char *const mev_names[MEV_TYPE_COUNT] = {
    "mark", "book_snapshot", "book_delta", "liquidation", "open_interest",
    "trade", "feed", "adl_warning"
};

const char *mev_type_name(enum mev_type t)
{
    return (unsigned)t < MEV_TYPE_COUNT ? mev_names[t] : "unknown";
}

const char *adl_level_name(enum adl_level l)
{
    return l == ADL_ACTIVE ? "adl" : l == ADL_WARNING ? "warning" : "normal";
}

void venue_config_default(enum venue_id id, struct venue_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->id = id;
    cfg->adl_warnings = 1;
    switch (id) {
    case VENUE_BINANCE:
        /* Routed endpoints since 2026-04-23 (venues README): depth on
         * /public, mark price on /market.  @forceOrder is regular market
         * data like @markPrice, so it rides the /market connection by
         * default; liq_route switches it. */
        snprintf(cfg->ws_url, sizeof(cfg->ws_url), "wss://fstream.binance.com/public");
        snprintf(cfg->ws_url_market, sizeof(cfg->ws_url_market),
                 "wss://fstream.binance.com/market");
        snprintf(cfg->rest_url, sizeof(cfg->rest_url), "https://fapi.binance.com");
        snprintf(cfg->liq_route, sizeof(cfg->liq_route), "market");
        break;
    case VENUE_BYBIT:
        snprintf(cfg->ws_url, sizeof(cfg->ws_url),
                 "wss://stream.bybit.com/v5/public/linear");
        cfg->book_depth = 200;
        cfg->ping_interval_s = 20;
        break;
    case VENUE_OKX:
        snprintf(cfg->ws_url, sizeof(cfg->ws_url), "wss://ws.okx.com:8443/ws/v5/public");
        snprintf(cfg->rest_url, sizeof(cfg->rest_url), "https://www.okx.com");
        cfg->ping_interval_s = 25;
        break;
    case VENUE_HYPERLIQUID:
        snprintf(cfg->ws_url, sizeof(cfg->ws_url), "wss://api.hyperliquid.xyz/ws");
        snprintf(cfg->rest_url, sizeof(cfg->rest_url), "https://api.hyperliquid.xyz");
        cfg->ping_interval_s = 50;
        break;
    default:
        break;
    }
}

venue_t *venue_create(const struct venue_config *cfg, market_t *mkt,
                      const struct venue_io *io, lq_err_t *err)
{
    venue_t *v = NULL;

    if ((unsigned)cfg->id >= VENUE_COUNT) {
        lq_err_set(err, "unknown venue id %d", (int)cfg->id);
        return NULL;
    }
    v = calloc(1, sizeof(*v));
    if (v == NULL)
        goto nomem;
    v->ops = venue_table[cfg->id];
    v->cfg = *cfg;
    v->mkt = mkt;
    if (io)
        v->io = *io;
    v->ntok = 1024;
    v->tok = malloc(v->ntok * sizeof(*v->tok));
    if (v->tok == NULL)
        goto nomem;
    if (v->ops->init(v, err) != 0)
        goto fail;
    return v;
nomem:
    lq_err_set(err, "out of memory");
fail:
    if (v) {
        free(v->tok);
        free(v);
    }
    return NULL;
}

void venue_destroy(venue_t *v)
{
    if (v == NULL)
        return;
    v->ops->fini(v);
    free(v->tok);
    free(v->lv[0]);
    free(v->lv[1]);
    free(v);
}

enum venue_id venue_id_of(const venue_t *v) { return v->cfg.id; }
size_t venue_conn_count(const venue_t *v) { return v->nconns; }

const char *venue_conn_name(const venue_t *v, size_t conn)
{
    return conn < v->nconns ? v->conns[conn].name : NULL;
}

const char *venue_conn_url(const venue_t *v, size_t conn)
{
    return conn < v->nconns ? v->conns[conn].url : NULL;
}

int venue_conn_index(const venue_t *v, const char *name)
{
    for (size_t i = 0; i < v->nconns; i++)
        if (strcmp(v->conns[i].name, name) == 0)
            return (int)i;
    return -1;
}

void venue_on_open(venue_t *v, int conn, int64_t now)
{
    v->ops->on_open(v, conn, now);
}

void venue_on_close(venue_t *v, int conn, int64_t now)
{
    v->ops->on_close(v, conn, now);
}

static void discover_one(const char *sym, size_t n, void *arg)
{
    (void)venue__find(arg, sym, n);
}

int venue_on_frame(venue_t *v, int conn, enum frame_src src, const char *url,
                   const char *data, size_t len, int64_t now)
{
    v->stats.frames++;
    /* A replay that discovers, on an adapter whose lookups go straight to
     * the market (Hyperliquid): name the frame's instruments first.  It
     * costs a second tokenization of that venue's frames only. */
    if (v->replay.discover && !v->ops->finds_own &&
        (src == FRAME_REST || venue__tokens(v, data, len) > 0))
        venue__symbols_in(v->cfg.id, src, url, data, src == FRAME_REST ? NULL : v->tok,
                          discover_one, v);
    return v->ops->on_frame(v, conn, src, url, data, len, now);
}

void venue_tick(venue_t *v, int64_t now)
{
    v->ops->tick(v, now);
}

void venue_fast_paths(venue_t *v, int on)
{
    v->fast_off = !on;
}

const struct venue_stats *venue_get_stats(const venue_t *v)
{
    return &v->stats;
}

void venue_set_replay(venue_t *v, const struct venue_replay *r)
{
    v->replaying = r != NULL;
    memset(&v->replay, 0, sizeof(v->replay));
    if (r)
        v->replay = *r;
}

int venue_add_instrument(venue_t *v, struct mkt_instr *in, lq_err_t *err)
{
    if (in->venue != v->cfg.id)
        return lq_err_set(err, "%s: %s is not an instrument of this venue",
                          venue_name(v->cfg.id), in->key);
    return v->ops->add_instrument ? v->ops->add_instrument(v, in, err) : 0;
}

size_t venue_notes(const venue_t *v, void (*note)(const char *msg, void *arg),
                   void *arg)
{
    return v->ops->notes ? v->ops->notes(v, note, arg) : 0;
}

int venue_symbol_ok(const char *s, size_t len)
{
    if (len == 0 || len >= INSTRUMENT_SYMBOL_MAX || s[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

void venue_stats_json(const struct venue_stats *vs, struct jsonw *w,
                      int skip_zero)
{
    jw_key(w, "rejected_by_reason");
    jw_obj_begin(w);
    for (int r = 0; r < VREJ_COUNT; r++) {
        if (skip_zero && vs->by_reason[r] == 0)
            continue;
        jw_key(w, venue_reject_name((enum venue_reject)r));
        jw_u64(w, vs->by_reason[r]);
    }
    jw_obj_end(w);
    jw_key(w, "skipped");
    jw_u64(w, vs->skipped);
    jw_key(w, "skipped_by_rule");
    jw_obj_begin(w);
    for (int r = 0; r < VSKIP_COUNT; r++) {
        if (skip_zero && vs->skipped_by_rule[r] == 0)
            continue;
        jw_key(w, venue_skip_name((enum venue_skip)r));
        jw_u64(w, vs->skipped_by_rule[r]);
    }
    jw_obj_end(w);
    jw_key(w, "events");
    jw_obj_begin(w);
    for (int t = 0; t < MEV_TYPE_COUNT; t++) {
        jw_key(w, mev_type_name((enum mev_type)t));
        jw_u64(w, vs->events[t]);
    }
    jw_obj_end(w);
}

/* ---- shared chores ---------------------------------------------------- */

void *venue__per_instrument(const venue_t *v, size_t elem, size_t *n)
{
    size_t cnt = 0;

    for (size_t i = 0; i < market_count(v->mkt); i++)
        cnt += market_at(v->mkt, i)->venue == v->cfg.id && !market_at(v->mkt, i)->retired;
    *n = cnt;
    return calloc(cnt ? cnt : 1, elem);
}

int venue__tokens(venue_t *v, const char *data, size_t len)
{
    for (;;) {
        int n = jtok_parse(data, len, v->tok, v->ntok, NULL);
        if (n != JTOK_ENOTOK)
            return n > 0 ? n : -1;
        /* A frame can hold at most one token per byte or so; growing to
         * len/2 + 16 bounds the retries at a few. */
        size_t want = v->ntok * 4;
        if (want < len / 2 + 16)
            want = len / 2 + 16;
        struct jtok *nt = realloc(v->tok, want * sizeof(*nt));
        if (nt == NULL)
            return -1;
        v->tok = nt;
        v->ntok = want;
    }
}

struct book_level *venue__levels(venue_t *v, int side, size_t n)
{
    if (n > v->nlv[side]) {
        size_t want = n < 256 ? 256 : n * 2;
        struct book_level *nl = realloc(v->lv[side], want * sizeof(*nl));
        if (nl == NULL)
            return NULL;
        v->lv[side] = nl;
        v->nlv[side] = want;
    }
    return v->lv[side];
}

long venue__parse_levels(venue_t *v, const char *s, int arr, int side,
                         const struct mkt_instr *in, struct book_level **out)
{
    const struct jtok *t = v->tok;
    struct book_level *lv;
    uint32_t n, k = 0;

    if (arr < 0 || t[arr].type != JT_ARR)
        return -1 - VREJ_SCHEMA;
    n = t[arr].size;
    lv = venue__levels(v, side, n ? n : 1);
    if (lv == NULL)
        return -1 - VREJ_SCHEMA;
    for (int i = jtok_first(t, arr); k < n; i = jtok_next(t, i), k++) {
        dec_t q;
        if (t[i].type != JT_ARR || t[i].size < 2)
            return -1 - VREJ_SCHEMA;
        /* i + 1 is the price; its subtree ends where the qty starts. */
        if (jtok_double(s, t, i + 1, &lv[k].price) != 0 || !(lv[k].price > 0) ||
            jtok_dec(s, t, (int)t[i + 1].end, &q) != 0 || q < 0)
            return -1 - VREJ_NUMBER;
        lv[k].qty = market_to_base(in, q);
    }
    *out = lv;
    return (long)n;
}

struct mkt_instr *venue__find(venue_t *v, const char *sym, size_t len)
{
    struct mkt_instr *in = market_findn(v->mkt, v->cfg.id, sym, len);

    if (in == NULL && v->replay.discover && venue_symbol_ok(sym, len))
        in = v->replay.discover(v->replay.arg, v, sym, len);
    return in;
}

int venue__skip(venue_t *v, enum venue_skip why)
{
    v->stats.skipped++;
    v->stats.skipped_by_rule[why]++;
    return VENUE_SKIPPED(why);
}

int venue__reject(venue_t *v, enum venue_reject why, const char *detail,
                  const char *data, size_t len, int64_t now)
{
    const int64_t window = 10 * (int64_t)1000000000;

    v->stats.rejected++;
    v->stats.by_reason[why]++;
    if (now - v->log_window >= window || now < v->log_window) {
        v->log_window = now;
        v->log_count = 0;
    }
    if (v->log_count++ < 5) {
        int shown = len > 160 ? 160 : (int)len;
        log_msg(LL_WARN, venue_name(v->cfg.id), "rejected frame (%s%s%s): %.*s%s",
                venue_reject_name(why), detail ? ": " : "", detail ? detail : "",
                shown, data ? data : "", len > 160 ? "..." : "");
    }
    return 1 + (int)why;
}

void venue__emit(venue_t *v, struct mkt_event *ev)
{
    ev->venue = v->cfg.id;
    v->stats.events[ev->type]++;
    if (v->io.emit)
        v->io.emit(v->io.arg, ev);
}

void venue__event(struct mkt_event *ev, enum mev_type type,
                  struct mkt_instr *in, int64_t ts, int64_t now)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->instr = in;
    ev->ts = ts;
    ev->recv_ts = now;
}

void venue__mark(venue_t *v, struct mkt_instr *in, double mark, double index,
                 int64_t ts, int64_t now)
{
    struct mkt_event ev;

    in->mark = mark;
    if (index > 0)
        in->index = index;
    in->mark_ts = ts ? ts : now;      /* some channels send no venue time */
    in->last_ts = now;
    venue__event(&ev, MEV_MARK, in, ts, now);
    ev.u.mark.mark = mark;
    ev.u.mark.index = in->index;
    venue__emit(v, &ev);
}

void venue__open_interest(venue_t *v, struct mkt_instr *in, dec_t oi,
                          int64_t ts, int64_t now)
{
    struct mkt_event ev;

    in->open_interest = oi;
    in->last_ts = now;
    venue__event(&ev, MEV_OPEN_INTEREST, in, ts, now);
    ev.u.oi.oi = oi;
    venue__emit(v, &ev);
}

static void emit_feed(venue_t *v, struct mkt_instr *in, enum mev_feed_kind k,
                      const char *reason, int64_t now)
{
    struct mkt_event ev;

    venue__event(&ev, MEV_FEED, in, 0, now);
    ev.u.feed.kind = k;
    ev.u.feed.reason = reason;
    venue__emit(v, &ev);
}

void venue__invalidate(venue_t *v, struct mkt_instr *in, const char *reason,
                       int64_t now)
{
    int was_valid = in->book_valid;

    market_invalidate(in, reason);
    if (was_valid) {
        log_msg(LL_WARN, venue_name(v->cfg.id), "%s: book invalid: %s",
                in->key, reason);
        emit_feed(v, in, FEED_BOOK_INVALID, reason, now);
    }
}

void venue__book_valid(venue_t *v, struct mkt_instr *in, int64_t now)
{
    emit_feed(v, in, FEED_BOOK_VALID, NULL, now);
}

void venue__emit_book(venue_t *v, struct mkt_instr *in, int snapshot,
                      const struct book_level *bids, size_t nb,
                      const struct book_level *asks, size_t na,
                      uint64_t seq, int64_t ts, int64_t now)
{
    struct mkt_event ev;

    venue__event(&ev, snapshot ? MEV_BOOK_SNAPSHOT : MEV_BOOK_DELTA, in, ts, now);
    ev.u.book.bids.levels = bids;
    ev.u.book.bids.n = nb;
    ev.u.book.asks.levels = asks;
    ev.u.book.asks.n = na;
    ev.u.book.seq = seq;
    venue__emit(v, &ev);
}

int venue__opt_double(const char *s, const struct jtok *t, int i, double *out)
{
    *out = NAN;
    if (i < 0 || t[i].type == JT_NULL || (t[i].type == JT_STR && t[i].len == 0))
        return 0;
    return jtok_double(s, t, i, out) == 0 && isfinite(*out) ? 0 : -1;
}

int venue__send(venue_t *v, int conn, const char *text, size_t len)
{
    return v->io.send ? v->io.send(v->io.arg, conn, text, len) : -1;
}

int venue__http_get(venue_t *v, const char *path)
{
    return v->io.http_get ? v->io.http_get(v->io.arg, path) : -1;
}

int venue__reconnect(venue_t *v, int conn, const char *why)
{
    return v->io.reconnect ? v->io.reconnect(v->io.arg, conn, why) : -1;
}
