/*
 * fz_venue.c - the four venue adapters, each fed a session: frames, REST
 * answers, connection events and time, one a line.
 *
 *   #replay            (first line only) replay mode: venue_set_replay
 *                      with discovery (unknown symbols become instruments)
 *   o<N> / c<N>        connection N (mod the adapter's count) opened / closed
 *   t                  a second passes: venue_tick
 *   w<N> <frame>       a websocket frame on connection N
 *   r <frame>          a REST answer to the adapter's latest request
 *   R<url> <frame>     a REST answer for url (up to the first space)
 *   <frame>            any other line: a websocket frame, connection
 *                      unknown (-1), as a capture without conn replays
 *
 * Every line advances the clock 1 ms.  After every step:
 *  - every book passes book_check, and no book is valid while crossed;
 *  - every event emitted was sane: its venue, an instrument of the market
 *    (feed and venue-wide events may have none), recv_ts the step's time, finite
 *    positive prices, quantities > 0 (book levels >= 0), known enums,
 *    printable connection names and reasons;
 *  - venue_on_frame's value agrees with the stats it counted (used,
 *    rejected for reason r, skipped by rule s), and the per-type event
 *    counts equal the events seen;
 *  - what the adapter sends is JSON (or OKX's "ping"), what it GETs a
 *    printable path;
 *  - venue_frame_symbols names spans of the frame or its URL;
 *  - a twin adapter with its fast paths off (venue_fast_paths: every frame
 *    tokenized) fed the same returns the same, counts the same, emits,
 *    sends and asks the same (hashed), and holds the same books, level
 *    for level, with the same sync state.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/jtok.h"
#include "liqmon/venue.h"
#include "fuzz.h"

#define T0 1795573929000000000LL

static struct {
    enum venue_id id;
    market_t *m;
    venue_t *v;
    int64_t now;
    uint64_t events[MEV_TYPE_COUNT];
    char last_get[512];
    struct jtok tok[4096];
    const char *data;              /* the frame, for venue_frame_symbols */
    size_t len;
    const char *url;
    market_t *m2;                  /* the twin, fast paths off */
    venue_t *v2;
    uint64_t h1, h2;               /* FNV-1a of what each emitted, sent, asked */
} S;

static void fold(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ b[i]) * 1099511628211ULL;
}

/* What identifies an event for the twins' comparison. */
static void fold_event(uint64_t *h, const struct mkt_event *ev)
{
    fold(h, &ev->type, sizeof(ev->type));
    fold(h, &ev->ts, sizeof(ev->ts));
    if (ev->instr)
        fold(h, ev->instr->spec.symbol, strlen(ev->instr->spec.symbol));
    if (ev->type == MEV_BOOK_SNAPSHOT || ev->type == MEV_BOOK_DELTA) {
        const struct mev_level_span *sp[2] = { &ev->u.book.bids, &ev->u.book.asks };
        for (int k = 0; k < 2; k++) {
            fold(h, &sp[k]->n, sizeof(sp[k]->n));
            for (size_t i = 0; i < sp[k]->n; i++) {
                fold(h, &sp[k]->levels[i].price, sizeof(double));
                fold(h, &sp[k]->levels[i].qty, sizeof(dec_t));
            }
        }
        fold(h, &ev->u.book.seq, sizeof(ev->u.book.seq));
    }
}

static void twin_emit(void *arg, const struct mkt_event *ev)
{
    (void)arg;
    fold_event(&S.h2, ev);
}

static int twin_send(void *arg, int conn, const char *text, size_t len)
{
    (void)arg;
    fold(&S.h2, &conn, sizeof(conn));
    fold(&S.h2, text, len);
    return 0;
}

static int twin_get(void *arg, const char *path)
{
    (void)arg;
    fold(&S.h2, path, strlen(path));
    return 0;
}

static int twin_reconnect(void *arg, int conn, const char *why)
{
    (void)arg;
    (void)why;
    fold(&S.h2, &conn, sizeof(conn));
    return 0;
}

static int in_market(const struct mkt_instr *in)
{
    return in != NULL && in->idx < market_count(S.m) && market_at(S.m, in->idx) == in;
}

static int price_ok(double p)
{
    return isfinite(p) && p > 0;
}

static void check_levels(const struct mev_level_span *sp, const char *side)
{
    FZ_CHECK(sp->n == 0 || sp->levels != NULL, "%s: levels NULL", side);
    for (size_t i = 0; i < sp->n; i++)
        FZ_CHECK(price_ok(sp->levels[i].price) && sp->levels[i].qty >= 0,
                 "%s level %zu: price %.17g qty %s0", side, i, sp->levels[i].price,
                 sp->levels[i].qty < 0 ? "<" : ">=");
}

static void on_emit(void *arg, const struct mkt_event *ev)
{
    (void)arg;
    FZ_CHECK(ev->type >= 0 && ev->type < MEV_TYPE_COUNT, "event type %d", (int)ev->type);
    FZ_CHECK(ev->venue == S.id, "event of venue %d from adapter %d", (int)ev->venue, (int)S.id);
    FZ_CHECK(ev->recv_ts == S.now, "recv_ts %lld, now %lld", (long long)ev->recv_ts,
             (long long)S.now);
    /* Market data names its instrument; feed (and venue-wide) events may
     * name none. */
    if (ev->type == MEV_MARK || ev->type == MEV_BOOK_SNAPSHOT || ev->type == MEV_BOOK_DELTA ||
        ev->type == MEV_LIQUIDATION || ev->type == MEV_OPEN_INTEREST || ev->type == MEV_TRADE)
        FZ_CHECK(in_market(ev->instr), "%s event without an instrument of the market",
                 mev_type_name(ev->type));
    else
        FZ_CHECK(ev->instr == NULL || in_market(ev->instr), "%s event: instrument not in the market",
                 mev_type_name(ev->type));
    if (ev->instr)
        FZ_CHECK(ev->instr->venue == S.id, "event for another venue's instrument");
    S.events[ev->type]++;
    fold_event(&S.h1, ev);
    switch (ev->type) {
    case MEV_MARK:
        FZ_CHECK(price_ok(ev->u.mark.mark), "mark %.17g", ev->u.mark.mark);
        FZ_CHECK(isfinite(ev->u.mark.index) && ev->u.mark.index >= 0, "index %.17g",
                 ev->u.mark.index);
        break;
    case MEV_BOOK_SNAPSHOT:
    case MEV_BOOK_DELTA:
        check_levels(&ev->u.book.bids, "bid");
        check_levels(&ev->u.book.asks, "ask");
        break;
    case MEV_LIQUIDATION:
        FZ_CHECK(price_ok(ev->u.liq.price), "liquidation price %.17g", ev->u.liq.price);
        FZ_CHECK(ev->u.liq.qty > 0, "liquidation qty <= 0");
        FZ_CHECK(ev->u.liq.liquidated_long == 0 || ev->u.liq.liquidated_long == 1, "liquidated_long");
        FZ_CHECK(ev->u.liq.price_kind <= LIQ_PX_BANKRUPTCY, "price_kind");
        FZ_CHECK(ev->u.liq.coverage <= LIQ_COMPLETE, "coverage");
        break;
    case MEV_OPEN_INTEREST:
        FZ_CHECK(ev->u.oi.oi >= 0, "open interest < 0");
        break;
    case MEV_TRADE:
        FZ_CHECK(price_ok(ev->u.trade.price), "trade price %.17g", ev->u.trade.price);
        FZ_CHECK(ev->u.trade.qty > 0, "trade qty <= 0");
        FZ_CHECK(ev->u.trade.buyer_aggressor >= -1 && ev->u.trade.buyer_aggressor <= 1, "aggressor");
        break;
    case MEV_FEED:
        FZ_CHECK(ev->u.feed.kind <= FEED_REJECTED, "feed kind %d", (int)ev->u.feed.kind);
        if (ev->u.feed.conn)
            FZ_CHECK_MSG("feed conn", ev->u.feed.conn);
        if (ev->u.feed.reason)
            FZ_CHECK_MSG("feed reason", ev->u.feed.reason);
        break;
    default:
        break;
    }
}

static int on_send(void *arg, int conn, const char *text, size_t len)
{
    (void)arg;
    FZ_CHECK(conn >= 0 && (size_t)conn < venue_conn_count(S.v), "send on connection %d", conn);
    FZ_CHECK((len == 4 && memcmp(text, "ping", 4) == 0) ||
                 jtok_parse(text, len, S.tok, sizeof(S.tok) / sizeof(S.tok[0]), NULL) > 0,
             "sent a message that is not JSON: '%.*s'", (int)len, text);
    fold(&S.h1, &conn, sizeof(conn));
    fold(&S.h1, text, len);
    return 0;
}

static int on_get(void *arg, const char *path)
{
    (void)arg;
    FZ_CHECK_MSG("REST path", path);
    FZ_CHECK(path[0] == '/', "REST path '%s'", path);
    snprintf(S.last_get, sizeof(S.last_get), "%s", path);
    fold(&S.h1, path, strlen(path));
    return 0;
}

static int on_reconnect(void *arg, int conn, const char *why)
{
    (void)arg;
    FZ_CHECK(conn >= 0 && (size_t)conn < venue_conn_count(S.v), "reconnect %d", conn);
    FZ_CHECK_MSG("reconnect reason", why);
    fold(&S.h1, &conn, sizeof(conn));
    return 0;
}

/* Replay discovery: a bare instrument (the venue's first spec, renamed),
 * in the market of the adapter that asks. */
static struct mkt_instr *discover(void *arg, venue_t *v, const char *sym, size_t len)
{
    const market_t *tm = fz_instruments();
    market_t *m = v == S.v2 ? S.m2 : S.m;
    struct instrument spec;
    struct mkt_instr *in;
    lq_err_t err;

    (void)arg;
    FZ_CHECK(venue_symbol_ok(sym, len), "discover got a bad symbol '%.*s'", (int)len, sym);
    if (market_count(m) >= 64)
        return NULL;
    for (size_t i = 0; i < market_count(tm); i++)
        if (market_at(tm, i)->venue == S.id) {
            spec = market_at(tm, i)->spec;
            memset(&spec.tiers, 0, sizeof(spec.tiers));
            snprintf(spec.symbol, sizeof(spec.symbol), "%.*s", (int)len, sym);
            in = market_add(m, S.id, &spec, &err);
            FZ_CHECK(in != NULL, "market_add '%s': %s", spec.symbol, err.msg);
            FZ_CHECK(venue_add_instrument(v, in, &err) == 0, "venue_add_instrument: %s", err.msg);
            return in;
        }
    return NULL;
}

static void on_symbol(const char *sym, size_t n, void *arg)
{
    (void)arg;
    int in_data = sym >= S.data && sym + n <= S.data + S.len;
    int in_url = S.url && sym >= S.url && sym + n <= S.url + strlen(S.url);
    FZ_CHECK(in_data || in_url, "venue_frame_symbols: a span outside the frame");
}

static void check_state(void)
{
    static struct book_level la[4096], lb[4096];
    const struct venue_stats *st = venue_get_stats(S.v);

    /* the twin, fast paths off, holds the same */
    FZ_CHECK(memcmp(st, venue_get_stats(S.v2), sizeof(*st)) == 0,
             "the twin without fast paths counted otherwise");
    FZ_CHECK(S.h1 == S.h2, "the twin without fast paths emitted, sent or asked otherwise");
    FZ_CHECK(market_count(S.m) == market_count(S.m2), "the twin discovered otherwise");
    for (size_t i = 0; i < market_count(S.m); i++) {
        const struct mkt_instr *x = market_at(S.m, i), *y = market_at(S.m2, i);
        FZ_CHECK(strcmp(x->key, y->key) == 0 && x->book_valid == y->book_valid &&
                     x->book_seq == y->book_seq && x->book_updates == y->book_updates &&
                     x->book_resyncs == y->book_resyncs &&
                     strcmp(x->invalid_reason, y->invalid_reason) == 0,
                 "%s: the twin without fast paths has another book state", x->key);
        for (int s = 0; s < 2; s++) {
            size_t na = book_copy_levels(x->book, (enum book_side)s, la, 4096);
            size_t nb = book_copy_levels(y->book, (enum book_side)s, lb, 4096);
            FZ_CHECK(na == nb && memcmp(la, lb, na * sizeof(la[0])) == 0,
                     "%s: the twin without fast paths has other levels", x->key);
        }
    }

    for (size_t i = 0; i < market_count(S.m); i++) {
        struct mkt_instr *in = market_at(S.m, i);
        int rc = book_check(in->book);
        FZ_CHECK(rc == 0, "%s: book_check %d", in->key, rc);
        FZ_CHECK(!(in->book_valid && book_is_crossed(in->book)), "%s: valid while crossed", in->key);
        FZ_CHECK(isfinite(in->mark) && in->mark >= 0, "%s: mark %.17g", in->key, in->mark);
        FZ_CHECK(in->open_interest >= 0, "%s: open interest < 0", in->key);
    }
    for (int t = 0; t < MEV_TYPE_COUNT; t++)
        FZ_CHECK(st->events[t] == S.events[t], "stats.events[%s] %llu, seen %llu",
                 mev_type_name((enum mev_type)t), (unsigned long long)st->events[t],
                 (unsigned long long)S.events[t]);
}

static void frame(int conn, enum frame_src src, const char *url, const char *p, size_t n)
{
    struct venue_stats before = *venue_get_stats(S.v);
    const struct venue_stats *st;
    char *copy = malloc(n ? n : 1);          /* exact size: ASan sees overreads */
    int rc;

    FZ_CHECK(copy != NULL, "oom");
    memcpy(copy, p, n);
    S.data = copy;
    S.len = n;
    S.url = url;
    (void)venue_frame_symbols(S.id, src, url, copy, n, on_symbol, NULL);
    rc = venue_on_frame(S.v, conn, src, url, copy, n, S.now);
    FZ_CHECK(venue_on_frame(S.v2, conn, src, url, copy, n, S.now) == rc,
             "the twin without fast paths returned otherwise than %d", rc);
    st = venue_get_stats(S.v);
    FZ_CHECK(st->frames == before.frames + 1, "frames counted %llu -> %llu",
             (unsigned long long)before.frames, (unsigned long long)st->frames);
    if (rc == 0) {
        FZ_CHECK(st->rejected == before.rejected && st->skipped == before.skipped,
                 "used (0) but counted as rejected or skipped");
    } else if (rc > 0) {
        FZ_CHECK(rc <= VREJ_COUNT, "venue_on_frame %d", rc);
        FZ_CHECK(st->rejected == before.rejected + 1 &&
                     st->by_reason[rc - 1] == before.by_reason[rc - 1] + 1 &&
                     st->skipped == before.skipped,
                 "rejected (%s) but counted otherwise", venue_reject_name((enum venue_reject)(rc - 1)));
    } else {
        int s = -1 - rc;
        FZ_CHECK(s < VSKIP_COUNT, "venue_on_frame %d", rc);
        FZ_CHECK(st->skipped == before.skipped + 1 &&
                     st->skipped_by_rule[s] == before.skipped_by_rule[s] + 1 &&
                     st->rejected == before.rejected,
                 "skipped (%s) but counted otherwise", venue_skip_name((enum venue_skip)s));
    }
    FZ_CHECK(st->rejected <= st->frames, "more rejected than frames");
    free(copy);
    S.data = NULL;
}

static int conn_of(char c)
{
    size_t nc = venue_conn_count(S.v);
    int n = c >= '0' && c <= '9' ? c - '0' : 0;
    return nc ? (int)((size_t)n % nc) : 0;
}

static void run(enum venue_id id, const uint8_t *data, size_t size)
{
    const market_t *tm;
    struct venue_config cfg;
    struct venue_io io;
    lq_err_t err;
    const char *p = (const char *)data, *end = p + size;
    int replay = 0;

    fz_begin();
    tm = fz_instruments();
    memset(&S, 0, sizeof(S));
    S.id = id;
    S.now = T0;
    S.m = market_create();
    S.m2 = market_create();
    FZ_CHECK(S.m != NULL && S.m2 != NULL, "oom");
    S.h1 = S.h2 = 14695981039346656037ULL;
    for (size_t i = 0; i < market_count(tm); i++)
        if (market_at(tm, i)->venue == id) {
            FZ_CHECK(market_add(S.m, id, &market_at(tm, i)->spec, &err) != NULL, "%s", err.msg);
            FZ_CHECK(market_add(S.m2, id, &market_at(tm, i)->spec, &err) != NULL, "%s", err.msg);
        }
    if (size >= 7 && memcmp(p, "#replay", 7) == 0)
        replay = 1;
    venue_config_default(id, &cfg);
    if (replay && id == VENUE_BYBIT)
        cfg.book_depth = VENUE_DEPTH_DEEPEST;
    memset(&io, 0, sizeof(io));
    io.emit = on_emit;
    io.send = on_send;
    io.http_get = on_get;
    io.reconnect = on_reconnect;
    S.v = venue_create(&cfg, S.m, &io, &err);
    FZ_CHECK(S.v != NULL, "venue_create: %s", err.msg);
    io.emit = twin_emit;
    io.send = twin_send;
    io.http_get = twin_get;
    io.reconnect = twin_reconnect;
    S.v2 = venue_create(&cfg, S.m2, &io, &err);
    FZ_CHECK(S.v2 != NULL, "venue_create: %s", err.msg);
    venue_fast_paths(S.v2, 0);
    if (replay) {
        struct venue_replay r = { discover, NULL };
        venue_set_replay(S.v, &r);
        venue_set_replay(S.v2, &r);
    }
    for (size_t c = 0; c < venue_conn_count(S.v); c++) {
        FZ_CHECK_MSG("connection name", venue_conn_name(S.v, c));
        FZ_CHECK_MSG("connection URL", venue_conn_url(S.v, c));
    }

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *sp;
        size_t n = (size_t)(le - p);

        S.now += 1000000;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n == 0 || (p == (const char *)data && replay)) {
            /* blank, or the mode line */
        } else if (p[0] == 'o' && n <= 2) {
            venue_on_open(S.v, conn_of(n > 1 ? p[1] : '0'), S.now);
            venue_on_open(S.v2, conn_of(n > 1 ? p[1] : '0'), S.now);
        } else if (p[0] == 'c' && n <= 2) {
            venue_on_close(S.v, conn_of(n > 1 ? p[1] : '0'), S.now);
            venue_on_close(S.v2, conn_of(n > 1 ? p[1] : '0'), S.now);
        } else if (p[0] == 't' && n == 1) {
            S.now += 1000000000;
            venue_tick(S.v, S.now);
            venue_tick(S.v2, S.now);
        } else if (p[0] == 'w' && n >= 3 && p[2] == ' ') {
            frame(conn_of(p[1]), FRAME_WS, NULL, p + 3, n - 3);
        } else if (p[0] == 'r' && n >= 2 && p[1] == ' ') {
            char url[512];
            snprintf(url, sizeof(url), "%s", S.last_get[0] ? S.last_get : "/");
            frame(-1, FRAME_REST, url, p + 2, n - 2);
        } else if (p[0] == 'R' && (sp = memchr(p, ' ', n)) != NULL) {
            char *url = fz_strndup((const uint8_t *)p + 1, (size_t)(sp - p - 1));
            frame(-1, FRAME_REST, url, sp + 1, n - (size_t)(sp + 1 - p));
            free(url);
        } else {
            frame(-1, FRAME_WS, NULL, p, n);
        }
        check_state();
        p = nl ? nl + 1 : end;
    }
    venue_destroy(S.v);
    venue_destroy(S.v2);
    market_destroy(S.m);
    market_destroy(S.m2);
    memset(&S, 0, sizeof(S));
}

void fuzz_binance_one(const uint8_t *data, size_t size)
{
    run(VENUE_BINANCE, data, size);
}

void fuzz_bybit_one(const uint8_t *data, size_t size)
{
    run(VENUE_BYBIT, data, size);
}

void fuzz_okx_one(const uint8_t *data, size_t size)
{
    run(VENUE_OKX, data, size);
}

void fuzz_hyperliquid_one(const uint8_t *data, size_t size)
{
    run(VENUE_HYPERLIQUID, data, size);
}
