/*
 * binance.c - Binance USD-M futures adapter ("binance-usdm").
 *
 * Connections (routed URLs since 2026-04-23, venues README): Binance no
 * longer serves depth and mark price on one socket, so there are two.
 *
 *   "public"  cfg.ws_url        + /stream?streams=<sym>@depth@100ms/...
 *   "market"  cfg.ws_url_market + /stream?streams=<sym>@markPrice@1s/...
 *
 * <sym>@forceOrder rides the connection cfg.liq_route names ("market" by
 * default: it is regular market data like @markPrice; "public" switches
 * it).  All streams sit in the URL, so nothing is sent on open, and
 * Binance pings us at the protocol level (lws answers): no application
 * ping.  Frames are combined-stream {"stream":..,"data":{..}} or raw.
 *
 * Book sync, per instrument, as Binance's "How to manage a local order
 * book correctly" (USD-M) prescribes.  U/u/pu: first, final and previous
 * final update id of a depthUpdate; L: the REST snapshot's lastUpdateId.
 *
 *            open / close / gap / crossed / buffer overflow
 *     +---------------------------------------------------------+
 *     v                                                         |
 *   WAIT  -- buffer every event (u <= last buffered u: dup,     |
 *     |      skipped); GET /fapi/v1/depth (retried by tick      |
 *     |      when no answer within 10 s; REST error: later)     |
 *     | REST snapshot: apply (book held invalid), replay buffer |
 *     v                                                         |
 *   BRIDGE -- u < L: skip.  First event with u >= L:            |
 *     |       U <= L or pu == L: it bridges -> apply; else the  |
 *     |       snapshot is older than the stream -> WAIT, keep   |
 *     |       buffering, ask for a newer snapshot.              |
 *     v                                                         |
 *   LIVE  -- u <= last u: duplicate (overlapping connection     |
 *            during the planned 24 h reconnect), skipped;        |
 *            pu != last u: gap -> WAIT --------------------------+
 *            book crossed after the whole event -> WAIT --------+
 *
 * The book is valid (FEED_BOOK_VALID emitted) only in LIVE.  An event that
 * reveals a gap starts the new buffer: it is good stream data and may be
 * the one that bridges the next snapshot.
 *
 * What the rules drop is skipped, not rejected (venue.h, enum
 * venue_skip): a diff older than the snapshot (older_than_snapshot), a
 * duplicate (duplicate), a snapshot answer that arrives when the book no
 * longer needs it (late_snapshot).  Buffered events that the snapshot
 * turns out to hold were counted once, as used, when they came.
 *
 * Liquidations: forceOrder's o.S is the side of the liquidation ORDER
 * (SELL: a long was liquidated).  Binance pushes at most one print per
 * symbol per 1000 ms, so every print is LIQ_SAMPLED.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venue_int.h"
#include "vscan.h"

#define BN_BUF_MAX_EVENTS 10000        /* buffered events per instrument */
#define BN_BUF_MAX_LEVELS 1000000      /* buffered levels per instrument */
#define BN_SNAP_TIMEOUT ((int64_t)10 * 1000000000)
#define BN_SNAP_RETRY_FAILED ((int64_t)1 * 1000000000)
#define BN_DEPTH_LIMIT 1000

enum bn_state { BN_WAIT = 0, BN_BRIDGE, BN_LIVE };

/* A buffered depthUpdate: its levels (base units) sit in bn_sym.lv at
 * [off, off + nb) for bids, then [off + nb, off + nb + na) for asks. */
struct bn_ev {
    int64_t U, u, pu, E;
    uint32_t off, nb, na;
};

struct bn_sym {
    struct mkt_instr *in;         /* borrowed from the market */
    enum bn_state state;
    int64_t snap_id;              /* BRIDGE: lastUpdateId applied */
    int64_t last_u;               /* LIVE: u of the last applied event */
    int64_t due;                  /* WAIT: tick asks for a snapshot from then */
    struct bn_ev *ev;             /* WAIT: the buffer */
    size_t nev, evcap;
    struct book_level *lv;
    size_t nlv, lvcap;
    char path[96];                /* the snapshot request path */
};

struct bn_priv {
    struct bn_sym *sym;
    size_t nsym, symcap;
    int conn_public, conn_market;
    int open[VENUE_MAX_CONNS];
};

/* What happened to one depth event. */
enum { BN_APPLIED = 0, BN_BUFFERED, BN_DUPLICATE, BN_OLDER, BN_RESTART, BN_NOMEM };

static inline struct bn_priv *priv_of(venue_t *v) { return v->priv; }

/* ---- connections and URLs --------------------------------------------- */

static int url_add(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int url_add(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size - *len)
        return -1;
    *len += (size_t)n;
    return 0;
}

/* Append "<sym>@<suffix>" for every instrument, '/'-separated. */
/* Streams per connection, Binance USD-M's documented limit. */
#define BN_MAX_STREAMS 200

static int url_streams(venue_t *v, char *buf, size_t size, size_t *len,
                       const char *suffix)
{
    struct bn_priv *p = priv_of(v);

    for (size_t i = 0; i < p->nsym; i++) {
        char low[INSTRUMENT_SYMBOL_MAX];
        const char *s = p->sym[i].in->spec.symbol;
        size_t k;
        for (k = 0; s[k] && k + 1 < sizeof(low); k++)
            low[k] = (char)tolower((unsigned char)s[k]);
        low[k] = '\0';
        const char *sep = buf[*len - 1] == '=' ? "" : "/";
        if (url_add(buf, size, len, "%s%s@%s", sep, low, suffix) != 0)
            return -1;
    }
    return 0;
}

static int build_conns(venue_t *v, lq_err_t *err)
{
    struct bn_priv *p = priv_of(v);
    int liq_public;

    if (strcmp(v->cfg.liq_route, "public") == 0)
        liq_public = 1;
    else if (v->cfg.liq_route[0] == '\0' || strcmp(v->cfg.liq_route, "market") == 0)
        liq_public = 0;
    else
        return lq_err_set(err, "binance-usdm: liq_route \"%s\": must be \"market\" or \"public\"",
                          v->cfg.liq_route);

    v->nconns = 0;
    p->conn_public = p->conn_market = -1;
    if (p->nsym == 0)
        return 0;       /* nothing watched: no connection needed */
    /* Binance USD-M: "a single connection can listen to a maximum of 200
     * streams"; each connection carries one or two per symbol. */
    if (p->nsym * (liq_public ? 2 : 1) > BN_MAX_STREAMS ||
        p->nsym * (liq_public ? 1 : 2) > BN_MAX_STREAMS)
        return lq_err_set(err, "binance-usdm: %zu symbols need %zu streams on one "
                          "connection; Binance allows %d per connection", p->nsym,
                          p->nsym * 2, BN_MAX_STREAMS);

    struct venue_conn *pc = &v->conns[0], *mc = &v->conns[1];
    size_t len = 0;
    snprintf(pc->name, sizeof(pc->name), "public");
    if (url_add(pc->url, sizeof(pc->url), &len, "%s/stream?streams=", v->cfg.ws_url) != 0 ||
        url_streams(v, pc->url, sizeof(pc->url), &len, "depth@100ms") != 0 ||
        (liq_public && url_streams(v, pc->url, sizeof(pc->url), &len, "forceOrder") != 0))
        goto too_long;
    len = 0;
    snprintf(mc->name, sizeof(mc->name), "market");
    if (url_add(mc->url, sizeof(mc->url), &len, "%s/stream?streams=", v->cfg.ws_url_market) != 0 ||
        url_streams(v, mc->url, sizeof(mc->url), &len, "markPrice@1s") != 0 ||
        (!liq_public && url_streams(v, mc->url, sizeof(mc->url), &len, "forceOrder") != 0))
        goto too_long;
    p->conn_public = 0;
    p->conn_market = 1;
    v->nconns = 2;
    return 0;
too_long:
    return lq_err_set(err, "binance-usdm: %zu instruments do not fit one stream URL "
                      "(%zu bytes)", p->nsym, sizeof(pc->url));
}

/* ---- snapshot requests and the buffer ---------------------------------- */

static void request_snapshot(venue_t *v, struct bn_sym *st, int64_t now)
{
    int rc = venue__http_get(v, st->path);
    st->due = now + (rc == 0 ? BN_SNAP_TIMEOUT : BN_SNAP_RETRY_FAILED);
}

static void buf_clear(struct bn_sym *st)
{
    st->nev = 0;
    st->nlv = 0;
}

/* Drop the first k buffered events (their levels too). */
static void buf_drop_front(struct bn_sym *st, size_t k)
{
    if (k == 0)
        return;
    if (k >= st->nev) {
        buf_clear(st);
        return;
    }
    uint32_t base = st->ev[k].off;
    memmove(st->lv, st->lv + base, (st->nlv - base) * sizeof(*st->lv));
    st->nlv -= base;
    memmove(st->ev, st->ev + k, (st->nev - k) * sizeof(*st->ev));
    st->nev -= k;
    for (size_t i = 0; i < st->nev; i++)
        st->ev[i].off -= base;
}

/* Leave LIVE/BRIDGE for WAIT: the book is invalid until a new snapshot
 * bridges.  The caller decides what stays in the buffer. */
static void restart(venue_t *v, struct bn_sym *st, const char *why, int64_t now)
{
    venue__invalidate(v, st->in, why, now);
    st->state = BN_WAIT;
    request_snapshot(v, st, now);
}

/* Append an event to the buffer.  0, or -1 when out of memory. */
static int buf_push(venue_t *v, struct bn_sym *st, const struct bn_ev *e,
                    const struct book_level *bids, const struct book_level *asks,
                    int64_t now)
{
    size_t n = (size_t)e->nb + e->na;

    if (st->nev == BN_BUF_MAX_EVENTS || st->nlv + n > BN_BUF_MAX_LEVELS) {
        /* The snapshot is very late: start over with a fresh request. */
        buf_clear(st);
        restart(v, st, "depth buffer full before the snapshot came", now);
    }
    if (st->nev == st->evcap) {
        size_t ncap = st->evcap ? st->evcap * 2 : 64;
        struct bn_ev *ne = realloc(st->ev, ncap * sizeof(*ne));
        if (ne == NULL)
            return -1;
        st->ev = ne;
        st->evcap = ncap;
    }
    if (st->nlv + n > st->lvcap) {
        size_t ncap = st->lvcap ? st->lvcap * 2 : 1024;
        while (ncap < st->nlv + n)
            ncap *= 2;
        struct book_level *nl = realloc(st->lv, ncap * sizeof(*nl));
        if (nl == NULL)
            return -1;
        st->lv = nl;
        st->lvcap = ncap;
    }
    struct bn_ev *d = &st->ev[st->nev++];
    *d = *e;
    d->off = (uint32_t)st->nlv;
    memcpy(st->lv + st->nlv, bids, e->nb * sizeof(*bids));
    memcpy(st->lv + st->nlv + e->nb, asks, e->na * sizeof(*asks));
    st->nlv += n;
    return 0;
}

/* ---- applying depth ----------------------------------------------------- */

/* Apply one event's levels (market_apply_delta judges crossing after the
 * whole event).  Returns 0, or -1 when the book is crossed or a level is
 * bad. */
static int apply_levels(struct mkt_instr *in, const struct bn_ev *e,
                        const struct book_level *bids, const struct book_level *asks)
{
    return market_apply_delta(in, bids, e->nb, asks, e->na, (uint64_t)e->u) ==
           BOOK_OK ? 0 : -1;
}

/* One depth event through the state machine (diagram at the top), off
 * the wire or replayed from the buffer. */
static int depth_event(venue_t *v, struct bn_sym *st, const struct bn_ev *e,
                       const struct book_level *bids, const struct book_level *asks,
                       int64_t now)
{
    struct mkt_instr *in = st->in;

    switch (st->state) {
    case BN_WAIT:
        if (st->nev > 0 && e->u <= st->ev[st->nev - 1].u)
            return BN_DUPLICATE;           /* overlapping connection */
        return buf_push(v, st, e, bids, asks, now) == 0 ? BN_BUFFERED : BN_NOMEM;

    case BN_BRIDGE:
        if (e->u < st->snap_id)
            return BN_OLDER;               /* older than the snapshot */
        /* The documented bridge is U <= L <= u.  An event whose pu is L
         * follows the snapshot directly (the snapshot was cut exactly
         * between two events): continuity is proven, so it bridges too
         * rather than costing a resync. */
        if (e->U > st->snap_id && e->pu != st->snap_id) {
            /* Updates between the snapshot and this event are missing. */
            restart(v, st, "snapshot older than the depth stream", now);
            return BN_RESTART;
        }
        if (apply_levels(in, e, bids, asks) != 0) {
            restart(v, st, "crossed book", now);
            return BN_RESTART;
        }
        st->last_u = e->u;
        st->state = BN_LIVE;
        in->book_valid = 1;
        in->invalid_reason[0] = '\0';
        venue__emit_book(v, in, 0, bids, e->nb, asks, e->na, (uint64_t)e->u,
                         venue__ms(e->E), now);
        venue__book_valid(v, in, now);
        return BN_APPLIED;

    case BN_LIVE:
        if (e->u <= st->last_u)
            return BN_DUPLICATE;           /* duplicate: not a gap */
        if (e->pu != st->last_u) {
            restart(v, st, "depth gap (pu != previous u)", now);
            return BN_RESTART;
        }
        if (apply_levels(in, e, bids, asks) != 0) {
            restart(v, st, "crossed book", now);
            return BN_RESTART;
        }
        st->last_u = e->u;
        venue__emit_book(v, in, 0, bids, e->nb, asks, e->na, (uint64_t)e->u,
                         venue__ms(e->E), now);
        return BN_APPLIED;
    }
    return BN_DUPLICATE;
}

/* After a snapshot: run the buffer through the machine.  Events from the
 * one that forced a restart onwards stay buffered for the next snapshot. */
static void replay_buffer(venue_t *v, struct bn_sym *st, int64_t now)
{
    size_t i;

    for (i = 0; i < st->nev; i++) {
        const struct bn_ev *e = &st->ev[i];
        const struct book_level *lv = st->lv + e->off;
        if (depth_event(v, st, e, lv, lv + e->nb, now) == BN_RESTART)
            break;
    }
    if (i < st->nev)
        buf_drop_front(st, i);
    else
        buf_clear(st);
}

/* ---- parsing -------------------------------------------------------------- */

/* The state of in, or NULL. */
static struct bn_sym *sym_of(venue_t *v, const struct mkt_instr *in)
{
    struct bn_priv *p = priv_of(v);

    if (in == NULL)
        return NULL;
    for (size_t i = 0; i < p->nsym; i++)
        if (p->sym[i].in == in)
            return &p->sym[i];
    return NULL;
}

static struct bn_sym *find_sym(venue_t *v, const char *s, size_t len)
{
    return sym_of(v, venue__find(v, s, len));     /* may add one */
}

/* The fields of a depthUpdate that on_depth reads: k[DK_*] gets the value
 * token, or -1.  The hot path: one pass over the members, each key told
 * by its length and first byte (all but "pu" are one letter), rather
 * than a jtok_get per field.  The first member of a key wins, as with
 * jtok_get. */
enum { DK_S, DK_U, DK_LU, DK_PU, DK_E, DK_B, DK_A, DK_N };

static void depth_fields(const char *s, const struct jtok *t, int d, int k[DK_N])
{
    int i = d + 1;

    for (int j = 0; j < DK_N; j++)
        k[j] = -1;
    for (uint32_t n = t[d].size; n > 0; n--) {
        const char *ks = s + t[i].start;
        int v = i + 1, id = -1;

        if (t[i].len == 1) {
            switch (ks[0]) {
            case 's': id = DK_S; break;
            case 'U': id = DK_U; break;
            case 'u': id = DK_LU; break;
            case 'E': id = DK_E; break;
            case 'b': id = DK_B; break;
            case 'a': id = DK_A; break;
            }
        } else if (t[i].len == 2 && ks[0] == 'p' && ks[1] == 'u') {
            id = DK_PU;
        }
        if (id >= 0 && k[id] < 0)
            k[id] = v;
        i = (int)t[v].end;
    }
}

static int depth_parsed(venue_t *v, struct bn_sym *st, struct bn_ev *e,
                        const struct book_level *bids, const struct book_level *asks,
                        const char *s, size_t len, int64_t now);

static int on_depth(venue_t *v, const char *s, size_t len, const struct jtok *t,
                    int d, int64_t now)
{
    struct bn_ev e;
    struct bn_sym *st;
    struct book_level *bids = NULL, *asks = NULL;
    int k[DK_N];
    long nb, na;

    depth_fields(s, t, d, k);
    if (k[DK_S] < 0 || t[k[DK_S]].type != JT_STR)
        return venue__reject(v, VREJ_SCHEMA, "depthUpdate without s", s, len, now);
    st = find_sym(v, s + t[k[DK_S]].start, t[k[DK_S]].len);
    if (st == NULL)
        return venue__reject(v, VREJ_UNKNOWN_SYMBOL, NULL, s, len, now);
    memset(&e, 0, sizeof(e));
    if (jtok_i64(s, t, k[DK_U], &e.U) != 0 || jtok_i64(s, t, k[DK_LU], &e.u) != 0 ||
        jtok_i64(s, t, k[DK_PU], &e.pu) != 0)
        return venue__reject(v, VREJ_SCHEMA, "depthUpdate without U/u/pu", s, len, now);
    if (jtok_i64(s, t, k[DK_E], &e.E) != 0)
        e.E = 0;
    nb = venue__parse_levels(v, s, k[DK_B], BOOK_BID, st->in, &bids);
    if (nb < 0)
        return venue__reject(v, (enum venue_reject)(-1 - nb), "depthUpdate bids", s, len, now);
    na = venue__parse_levels(v, s, k[DK_A], BOOK_ASK, st->in, &asks);
    if (na < 0)
        return venue__reject(v, (enum venue_reject)(-1 - na), "depthUpdate asks", s, len, now);
    e.nb = (uint32_t)nb;
    e.na = (uint32_t)na;
    return depth_parsed(v, st, &e, bids, asks, s, len, now);
}

/* A depthUpdate parsed (either way) through the state machine. */
static int depth_parsed(venue_t *v, struct bn_sym *st, struct bn_ev *e,
                        const struct book_level *bids, const struct book_level *asks,
                        const char *s, size_t len, int64_t now)
{
    st->in->last_ts = now;
    switch (depth_event(v, st, e, bids, asks, now)) {
    case BN_DUPLICATE:
        return venue__skip(v, VSKIP_DUPLICATE);
    case BN_OLDER:
        return venue__skip(v, VSKIP_OLDER_THAN_SNAPSHOT);
    case BN_NOMEM:
        return venue__reject(v, VREJ_SCHEMA, "out of memory", s, len, now);
    case BN_RESTART:
        /* This event starts the new buffer. */
        buf_clear(st);
        if (buf_push(v, st, e, bids, asks, now) != 0)
            return venue__reject(v, VREJ_SCHEMA, "out of memory", s, len, now);
        return 0;
    default:
        return 0;
    }
}

/*
 * Nearly every frame is a depthUpdate of one shape (combined stream; the
 * raw payload is the inner object alone):
 *
 *   {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":ms,
 *    "T":ms,"s":"BTCUSDT","U":id,"u":id,"pu":id,"b":[["px","qty"],...],
 *    "a":[...]}}
 *
 * fast_depth reads it in one pass (vscan.h) into the event and levels
 * on_depth builds from tokens.  Any other shape, a key it does not know
 * or sees twice, the symbol after the levels or not in the market yet, a
 * value on_depth would refuse (or an E that is no number, which on_depth
 * reads as 0): -1, and the frame goes on_depth's way.  Else 0, with *rc
 * what on_depth would return.
 */
static int fast_depth(venue_t *v, const char *s, size_t len, int64_t now, int *rc)
{
    enum { K_EV = 1, K_E = 2, K_T = 4, K_S = 8, K_U = 16, K_LU = 32, K_PU = 64,
           K_B = 128, K_A = 256, K_NEED = K_EV | K_S | K_U | K_LU | K_PU | K_B | K_A };
    struct vscan c = { s, s, s + len };
    struct jtok tk, key;
    struct bn_ev e;
    struct bn_sym *st = NULL;
    int seen = 0, combined = 0;
    long n;

    if (vscan_lit(&c, "{\"stream\":\"") == 0) {
        if (vscan_str(&c, &tk) || vscan_lit(&c, ",\"data\":{"))
            return -1;
        combined = 1;
    } else if (vscan_lit(&c, "{")) {
        return -1;
    }
    memset(&e, 0, sizeof(e));
    do {
        int bit;
        if (vscan_key(&c, &key))
            return -1;
        if (vscan_is(&c, &key, "e")) {
            bit = K_EV;
            if (vscan_lit(&c, "\"depthUpdate\""))
                return -1;
        } else if (vscan_is(&c, &key, "E")) {
            bit = K_E;
            if (vscan_i64(&c, &e.E))
                return -1;
        } else if (vscan_is(&c, &key, "T")) {
            bit = K_T;
            if (vscan_scalar(&c, &tk))
                return -1;
        } else if (vscan_is(&c, &key, "s")) {
            bit = K_S;
            if (vscan_lit(&c, "\"") || vscan_str(&c, &tk) ||
                (st = sym_of(v, market_findn(v->mkt, VENUE_BINANCE, s + tk.start,
                                             tk.len))) == NULL)
                return -1;
        } else if (vscan_is(&c, &key, "U")) {
            bit = K_U;
            if (vscan_i64(&c, &e.U))
                return -1;
        } else if (vscan_is(&c, &key, "u")) {
            bit = K_LU;
            if (vscan_i64(&c, &e.u))
                return -1;
        } else if (vscan_is(&c, &key, "pu")) {
            bit = K_PU;
            if (vscan_i64(&c, &e.pu))
                return -1;
        } else if (vscan_is(&c, &key, "b") || vscan_is(&c, &key, "a")) {
            int side = s[key.start] == 'b' ? BOOK_BID : BOOK_ASK;
            bit = side == BOOK_BID ? K_B : K_A;
            if (st == NULL || (seen & bit) || (n = vscan_levels(v, &c, st->in, side, NULL)) < 0)
                return -1;
            if (side == BOOK_BID)
                e.nb = (uint32_t)n;
            else
                e.na = (uint32_t)n;
        } else {
            return -1;
        }
        if (vscan_once(&seen, bit))
            return -1;
    } while (vscan_lit(&c, ",") == 0);
    if ((combined ? vscan_lit(&c, "}}") : vscan_lit(&c, "}")) || c.p != c.end ||
        (seen & K_NEED) != K_NEED)
        return -1;
    *rc = depth_parsed(v, st, &e, v->lv[BOOK_BID], v->lv[BOOK_ASK], s, len, now);
    return 0;
}

/* The REST depth snapshot: {"lastUpdateId":..,"E":..,"T":..,"bids":..,"asks":..}. */
static int on_snapshot(venue_t *v, const char *url, const char *s, size_t len,
                       const struct jtok *t, int64_t now)
{
    const char *q, *end;
    struct bn_sym *st;
    struct book_level *bids = NULL, *asks = NULL;
    int64_t lid, ev_ms = 0;
    long nb, na;
    int rc;

    if (url == NULL || strncmp(url, "/fapi/v1/depth?", 15) != 0 ||
        (q = strstr(url, "symbol=")) == NULL)
        return venue__reject(v, VREJ_UNKNOWN_TYPE, "REST answer to an unknown request",
                             s, len, now);
    q += 7;
    end = strchr(q, '&');
    st = find_sym(v, q, end ? (size_t)(end - q) : strlen(q));
    if (st == NULL)
        return venue__reject(v, VREJ_UNKNOWN_SYMBOL, url, s, len, now);
    if (jtok_get(s, t, 0, "code") >= 0) {
        /* {"code":-1121,"msg":"Invalid symbol."}; tick asks again later. */
        if (st->state == BN_WAIT)
            st->due = now + BN_SNAP_TIMEOUT;
        return venue__reject(v, VREJ_VENUE_ERROR, url, s, len, now);
    }
    if (jtok_i64(s, t, jtok_get(s, t, 0, "lastUpdateId"), &lid) != 0)
        return venue__reject(v, VREJ_SCHEMA, "snapshot without lastUpdateId", s, len, now);
    nb = venue__parse_levels(v, s, jtok_get(s, t, 0, "bids"), BOOK_BID, st->in, &bids);
    if (nb < 0)
        return venue__reject(v, (enum venue_reject)(-1 - nb), "snapshot bids", s, len, now);
    na = venue__parse_levels(v, s, jtok_get(s, t, 0, "asks"), BOOK_ASK, st->in, &asks);
    if (na < 0)
        return venue__reject(v, (enum venue_reject)(-1 - na), "snapshot asks", s, len, now);

    /* A late answer to a retried request: the book is already synced, or
     * a newer snapshot waits for its bridge. */
    if (st->state == BN_LIVE || (st->state == BN_BRIDGE && lid <= st->snap_id))
        return venue__skip(v, VSKIP_LATE_SNAPSHOT);

    (void)jtok_i64(s, t, jtok_get(s, t, 0, "E"), &ev_ms);
    st->in->last_ts = now;
    rc = market_apply_snapshot(st->in, bids, (size_t)nb, asks, (size_t)na, (uint64_t)lid);
    if (rc != BOOK_OK) {
        restart(v, st, rc == BOOK_CROSSED ? "crossed book in snapshot"
                                           : "bad level in snapshot", now);
        return 0;
    }
    /* Held invalid until an event bridges it (not a resync: no counter),
     * and marked so before anyone hears of the snapshot: the engine must
     * not simulate on a book the stream has not caught up with. */
    st->in->book_valid = 0;
    snprintf(st->in->invalid_reason, sizeof(st->in->invalid_reason),
             "snapshot waiting for its bridging update");
    venue__emit_book(v, st->in, 1, bids, (size_t)nb, asks, (size_t)na, (uint64_t)lid,
                     venue__ms(ev_ms), now);
    st->state = BN_BRIDGE;
    st->snap_id = lid;
    replay_buffer(v, st, now);
    return 0;
}

static int on_mark(venue_t *v, const char *s, size_t len, const struct jtok *t,
                   int d, int64_t now)
{
    struct bn_sym *st;
    int sy = jtok_get(s, t, d, "s");
    int64_t ems = 0;
    double mark, index = 0;

    if (sy < 0 || t[sy].type != JT_STR)
        return venue__reject(v, VREJ_SCHEMA, "markPriceUpdate without s", s, len, now);
    st = find_sym(v, s + t[sy].start, t[sy].len);
    if (st == NULL)
        return venue__reject(v, VREJ_UNKNOWN_SYMBOL, NULL, s, len, now);
    if (jtok_double(s, t, jtok_get(s, t, d, "p"), &mark) != 0 || !(mark > 0))
        return venue__reject(v, VREJ_NUMBER, "markPriceUpdate p", s, len, now);
    int it = jtok_get(s, t, d, "i");
    if (it >= 0 && jtok_double(s, t, it, &index) != 0)
        return venue__reject(v, VREJ_NUMBER, "markPriceUpdate i", s, len, now);
    (void)jtok_i64(s, t, jtok_get(s, t, d, "E"), &ems);

    venue__mark(v, st->in, mark, it >= 0 ? index : 0, venue__ms(ems), now);
    return 0;
}

/* A positive decimal field, or 0 when absent / zero.  -1: not a number. */
static int opt_dec(const char *s, const struct jtok *t, int obj, const char *key, dec_t *out)
{
    int i = jtok_get(s, t, obj, key);

    *out = 0;
    if (i < 0)
        return 0;
    return jtok_dec(s, t, i, out) == 0 && *out >= 0 ? 0 : -1;
}

static int on_force_order(venue_t *v, const char *s, size_t len, const struct jtok *t,
                          int d, int64_t now)
{
    struct mkt_event ev;
    struct bn_sym *st;
    int o = jtok_get(s, t, d, "o"), sy, side;
    dec_t q, z;
    double px = 0, ap = 0;
    int64_t ms = 0;

    if (o < 0 || t[o].type != JT_OBJ)
        return venue__reject(v, VREJ_SCHEMA, "forceOrder without o", s, len, now);
    sy = jtok_get(s, t, o, "s");
    if (sy < 0 || t[sy].type != JT_STR)
        return venue__reject(v, VREJ_SCHEMA, "forceOrder without o.s", s, len, now);
    st = find_sym(v, s + t[sy].start, t[sy].len);
    if (st == NULL)
        return venue__reject(v, VREJ_UNKNOWN_SYMBOL, NULL, s, len, now);
    side = jtok_get(s, t, o, "S");
    if (!jtok_streq(s, t, side, "SELL") && !jtok_streq(s, t, side, "BUY"))
        return venue__reject(v, VREJ_SCHEMA, "forceOrder o.S", s, len, now);
    if (opt_dec(s, t, o, "q", &q) != 0 || opt_dec(s, t, o, "z", &z) != 0)
        return venue__reject(v, VREJ_NUMBER, "forceOrder qty", s, len, now);
    int ai = jtok_get(s, t, o, "ap"), pi = jtok_get(s, t, o, "p");
    if ((ai >= 0 && jtok_double(s, t, ai, &ap) != 0) ||
        (pi >= 0 && jtok_double(s, t, pi, &px) != 0))
        return venue__reject(v, VREJ_NUMBER, "forceOrder price", s, len, now);
    if (jtok_i64(s, t, jtok_get(s, t, o, "T"), &ms) != 0)
        (void)jtok_i64(s, t, jtok_get(s, t, d, "E"), &ms);

    venue__event(&ev, MEV_LIQUIDATION, st->in, venue__ms(ms), now);
    /* The order's side: a SELL order closes a long. */
    ev.u.liq.liquidated_long = jtok_streq(s, t, side, "SELL");
    ev.u.liq.qty = market_to_base(st->in, z > 0 ? z : q);
    if (ap > 0) {
        ev.u.liq.price = ap;
        ev.u.liq.price_kind = LIQ_PX_AVG_FILL;
    } else {
        ev.u.liq.price = px;
        ev.u.liq.price_kind = LIQ_PX_ORDER;
    }
    ev.u.liq.coverage = LIQ_SAMPLED;
    if (!(ev.u.liq.price > 0) || ev.u.liq.qty <= 0)
        return venue__reject(v, VREJ_NUMBER, "forceOrder without price or qty", s, len, now);
    st->in->last_ts = now;
    venue__emit(v, &ev);
    return 0;
}

static int on_frame(venue_t *v, int conn, enum frame_src src, const char *url,
                    const char *data, size_t len, int64_t now)
{
    const struct jtok *t;
    int n, d, e;

    (void)conn;        /* routed by content: replays may not know the conn */
    if (src == FRAME_WS && !v->fast_off && fast_depth(v, data, len, now, &n) == 0)
        return n;
    n = venue__tokens(v, data, len);
    if (n < 0)
        return venue__reject(v, VREJ_JSON, NULL, data, len, now);
    t = v->tok;
    if (t[0].type != JT_OBJ)
        return venue__reject(v, VREJ_SCHEMA, "not an object", data, len, now);
    if (src == FRAME_REST)
        return on_snapshot(v, url, data, len, t, now);

    d = jtok_get(data, t, 0, "data");
    if (d >= 0 && jtok_get(data, t, 0, "stream") >= 0) {
        if (t[d].type != JT_OBJ)
            return venue__reject(v, VREJ_UNKNOWN_TYPE, "array stream", data, len, now);
    } else {
        d = 0;     /* a raw (uncombined) payload */
    }
    e = jtok_get(data, t, d, "e");
    if (e < 0) {
        if (jtok_get(data, t, 0, "result") >= 0 && jtok_get(data, t, 0, "id") >= 0)
            return 0;          /* {"result":null,"id":N}: a request's ack */
        if (jtok_get(data, t, 0, "code") >= 0 || jtok_get(data, t, 0, "error") >= 0)
            return venue__reject(v, VREJ_VENUE_ERROR, NULL, data, len, now);
        return venue__reject(v, VREJ_SCHEMA, "no event type", data, len, now);
    }
    if (jtok_streq(data, t, e, "depthUpdate"))
        return on_depth(v, data, len, t, d, now);
    if (jtok_streq(data, t, e, "markPriceUpdate"))
        return on_mark(v, data, len, t, d, now);
    if (jtok_streq(data, t, e, "forceOrder"))
        return on_force_order(v, data, len, t, d, now);
    return venue__reject(v, VREJ_UNKNOWN_TYPE, NULL, data, len, now);
}

/* ---- lifecycle ------------------------------------------------------------ */

static void fini(venue_t *v)
{
    struct bn_priv *p = priv_of(v);

    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nsym; i++) {
        free(p->sym[i].ev);
        free(p->sym[i].lv);
    }
    free(p->sym);
    free(p);
    v->priv = NULL;
}

static void sym_init(struct bn_sym *st, struct mkt_instr *in)
{
    memset(st, 0, sizeof(*st));
    st->in = in;
    st->state = BN_WAIT;           /* a replay starts buffering at once */
    snprintf(st->path, sizeof(st->path), "/fapi/v1/depth?symbol=%s&limit=%d",
             in->spec.symbol, BN_DEPTH_LIMIT);
}

static int init(venue_t *v, lq_err_t *err)
{
    struct bn_priv *p = calloc(1, sizeof(*p));
    size_t n = 0, cnt = market_count(v->mkt);

    if (p == NULL)
        return lq_err_set(err, "out of memory");
    v->priv = p;
    p->sym = venue__per_instrument(v, sizeof(*p->sym), &n);
    if (p->sym == NULL) {
        lq_err_set(err, "out of memory");
        goto fail;
    }
    p->symcap = n ? n : 1;
    for (size_t i = 0; i < cnt; i++) {
        struct mkt_instr *in = market_at(v->mkt, i);
        if (in->venue != VENUE_BINANCE || in->retired)
            continue;
        sym_init(&p->sym[p->nsym++], in);
    }
    if (build_conns(v, err) != 0)
        goto fail;
    return 0;
fail:
    fini(v);
    return -1;
}

static int add_instrument(venue_t *v, struct mkt_instr *in, lq_err_t *err)
{
    struct bn_priv *p = priv_of(v);
    struct venue_conn saved[VENUE_MAX_CONNS];
    size_t nsaved = v->nconns;
    int cp = p->conn_public, cm = p->conn_market;
    lq_err_t e2;

    for (size_t i = 0; i < p->nsym; i++)
        if (p->sym[i].in == in)
            return 0;
    if (p->nsym == p->symcap) {
        size_t ncap = p->symcap * 2;
        struct bn_sym *ns = realloc(p->sym, ncap * sizeof(*ns));
        if (ns == NULL)
            return lq_err_set(err, "out of memory");
        p->sym = ns;
        p->symcap = ncap;
    }
    struct bn_sym *st = &p->sym[p->nsym++];
    sym_init(st, in);
    /* The stream URLs name every symbol: rebuilt while they fit, kept
     * otherwise (a replay never connects). */
    memcpy(saved, v->conns, sizeof(saved));
    if (build_conns(v, &e2) != 0) {
        memcpy(v->conns, saved, sizeof(saved));
        v->nconns = nsaved;
        p->conn_public = cp;
        p->conn_market = cm;
    }
    st->due = 0;                   /* open: the next tick asks for its snapshot */
    return 0;
}

static void on_open(venue_t *v, int conn, int64_t now)
{
    struct bn_priv *p = priv_of(v);

    if (conn < 0 || conn >= VENUE_MAX_CONNS)
        return;
    p->open[conn] = 1;
    if (conn != p->conn_public)
        return;
    /* Buffer from now on and ask for the snapshots.  A LIVE book (an
     * overlapping connection of a planned reconnect) keeps its state:
     * duplicates are dropped and pu still proves continuity. */
    for (size_t i = 0; i < p->nsym; i++) {
        struct bn_sym *st = &p->sym[i];
        if (st->state == BN_LIVE)
            continue;
        st->state = BN_WAIT;
        buf_clear(st);
        request_snapshot(v, st, now);
    }
}

static void on_close(venue_t *v, int conn, int64_t now)
{
    struct bn_priv *p = priv_of(v);

    if (conn < 0 || conn >= VENUE_MAX_CONNS)
        return;
    p->open[conn] = 0;
    if (conn != p->conn_public)
        return;
    for (size_t i = 0; i < p->nsym; i++) {
        struct bn_sym *st = &p->sym[i];
        venue__invalidate(v, st->in, "depth connection closed", now);
        st->state = BN_WAIT;
        buf_clear(st);
        st->due = 0;
    }
}

static void tick(venue_t *v, int64_t now)
{
    struct bn_priv *p = priv_of(v);

    if (p->conn_public < 0 || !p->open[p->conn_public])
        return;
    for (size_t i = 0; i < p->nsym; i++) {
        struct bn_sym *st = &p->sym[i];
        if (st->state == BN_WAIT && now >= st->due)
            request_snapshot(v, st, now);
    }
}

const struct venue_ops venue_binance_ops = {
    .id = VENUE_BINANCE,
    .init = init,
    .fini = fini,
    .on_open = on_open,
    .on_close = on_close,
    .on_frame = on_frame,
    .tick = tick,
    .add_instrument = add_instrument,
    .finds_own = 1,
};
