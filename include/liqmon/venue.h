/*
 * venue.h - venue adapters: one venue's wire format in, market state and
 * normalised events (event.h) out.
 *
 *   frames (live or replayed) --> venue_on_frame --> market (books, marks)
 *                                        |
 *                                        +--> io->emit(event) --> engine
 *
 * An adapter owns each instrument's book-sync state machine for its venue
 * (sequence numbers, snapshots, checksums; each venue's file draws it at
 * the top).  It never touches a socket: what it needs from the transport
 * (send a subscription or an application ping, fetch a REST snapshot,
 * drop a connection) it asks through struct venue_io.  The live feed
 * (src/feed/) implements venue_io with libwebsockets; a replay implements
 * it with no-ops, since the capture already holds every frame that came
 * back, REST answers included.  So live and replay run the same code.
 *
 * Anything an adapter does not understand is counted per reason, sampled
 * to the log at a limited rate, and skipped; it never stops the feed
 * unless the venue's rules say the stream is broken (then the book is
 * invalidated and resynchronised).
 *
 * Thread-safety: the loop thread only.
 */
#ifndef LIQMON_VENUE_H
#define LIQMON_VENUE_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/err.h"
#include "liqmon/event.h"
#include "liqmon/market.h"

enum frame_src { FRAME_WS = 0, FRAME_REST = 1 };

/* Why a frame was rejected: the venue sent something we could not use.
 * Counted per venue; this is what an operator alerts on. */
enum venue_reject {
    VREJ_JSON = 0,        /* not valid JSON */
    VREJ_SCHEMA,          /* a field missing or of the wrong type */
    VREJ_NUMBER,          /* a number that does not parse or is out of range */
    VREJ_UNKNOWN_TYPE,    /* a message kind / topic / channel we do not use */
    VREJ_UNKNOWN_SYMBOL,  /* an instrument we do not watch */
    VREJ_VENUE_ERROR,     /* the venue answered with an error */
    VREJ_COUNT
};
const char *venue_reject_name(enum venue_reject r);

/* Why a frame was skipped: the venue's own book-sync rules say to drop
 * it.  Nothing is wrong with it, so it is counted apart from rejections
 * (venue_stats.skipped), by rule. */
enum venue_skip {
    VSKIP_BEFORE_SNAPSHOT = 0, /* an update with no snapshot yet to apply it
                                  to (Bybit: a delta before its snapshot) */
    VSKIP_OLDER_THAN_SNAPSHOT, /* an update the snapshot already holds
                                  (Binance: u < lastUpdateId; OKX: seqId <=
                                  the seeding snapshot's) */
    VSKIP_DUPLICATE,           /* an update already applied (an overlapping
                                  connection, a planned reconnect) */
    VSKIP_LATE_SNAPSHOT,       /* a snapshot answer the book no longer needs
                                  (Binance: a retried request answered after
                                  the book synced) */
    VSKIP_OTHER_DEPTH,         /* replay: a Bybit book frame of a depth that
                                  is not the one replayed */
    VSKIP_COUNT
};
const char *venue_skip_name(enum venue_skip s);
/* venue_on_frame's value for a skipped frame (negative). */
#define VENUE_SKIPPED(s) (-1 - (int)(s))

/* Bybit book_depth in a replay without a config: follow the capture, the
 * deepest depth it carries per symbol (venue_notes says which). */
#define VENUE_DEPTH_DEEPEST (-1)

/* Per-venue settings (config file, or tests pointing at loopback). */
struct venue_config {
    enum venue_id id;
    char ws_url[256];         /* Binance: the /public route base, e.g.
                                 wss://fstream.binance.com/public;
                                 others: the public websocket URL */
    char ws_url_market[256];  /* Binance: the /market route base */
    char rest_url[256];       /* Binance: https://fapi.binance.com;
                                 OKX: https://www.okx.com (book seed) */
    char liq_route[16];       /* Binance: "market" or "public": the
                                 connection that carries @forceOrder */
    int book_depth;           /* Bybit orderbook depth (1/50/200/500/1000;
                                 VENUE_DEPTH_DEEPEST in a replay: the
                                 deepest each symbol's frames carry) */
    int ping_interval_s;      /* application ping period; 0: venue default */
    int adl_warnings;         /* 1 (default): subscribe the venue's public
                                 ADL warning channel where it has one (OKX
                                 adl-warning, Bybit adlAlert.{coin}) */
};
/* Fill cfg with the venue's production defaults. */
void venue_config_default(enum venue_id id, struct venue_config *cfg);

/* What an adapter asks of its transport; every callback may be NULL. */
struct venue_io {
    void *arg;
    void (*emit)(void *arg, const struct mkt_event *ev);
    /* Send a text message on connection conn.  0, or -1 (not open). */
    int (*send)(void *arg, int conn, const char *text, size_t len);
    /* GET rest_url + path; the body comes back as a FRAME_REST frame with
     * url = path.  0, or -1 (could not start). */
    int (*http_get)(void *arg, const char *path);
    /* Drop connection conn and connect again (resubscribes). */
    int (*reconnect)(void *arg, int conn, const char *why);
};

struct venue_stats {
    uint64_t frames;
    uint64_t rejected;                 /* the venue sent something unusable */
    uint64_t by_reason[VREJ_COUNT];
    uint64_t skipped;                  /* dropped by the venue's sync rules */
    uint64_t skipped_by_rule[VSKIP_COUNT];
    uint64_t events[MEV_TYPE_COUNT];
};

typedef struct venue venue_t;

/* Create an adapter for every instrument of cfg->id in mkt (borrowed: the
 * market outlives the adapter).  io is copied. */
venue_t *venue_create(const struct venue_config *cfg, market_t *mkt,
                      const struct venue_io *io, lq_err_t *err);
void venue_destroy(venue_t *v);                  /* NULL is fine */

enum venue_id venue_id_of(const venue_t *v);
/* The websocket connections this adapter needs (Binance: two). */
size_t venue_conn_count(const venue_t *v);
const char *venue_conn_name(const venue_t *v, size_t conn);
/* Full URL to open for connection conn (streams in the URL for Binance). */
const char *venue_conn_url(const venue_t *v, size_t conn);
/* Index of a connection by name, or -1 (captures name their conn). */
int venue_conn_index(const venue_t *v, const char *name);

/* Transport events.  now: ns since the epoch (capture clock in replay). */
void venue_on_open(venue_t *v, int conn, int64_t now);
void venue_on_close(venue_t *v, int conn, int64_t now);
/* One complete message.  conn may be -1 when unknown (replay of a capture
 * without conn: the adapter routes by content).  url: the REST path for
 * FRAME_REST, else NULL.  Returns 0 when used, 1 + enum venue_reject when
 * rejected, or VENUE_SKIPPED(enum venue_skip) when the sync rules drop it
 * (both already counted). */
int venue_on_frame(venue_t *v, int conn, enum frame_src src, const char *url,
                   const char *data, size_t len, int64_t now);
/* Periodic: application pings, snapshot retries.  Call about once a
 * second. */
void venue_tick(venue_t *v, int64_t now);

const struct venue_stats *venue_get_stats(const venue_t *v);

/* ---- replay -------------------------------------------------------------
 *
 * A replay feeds an adapter what a capture holds, never connects, and may
 * meet instruments nobody configured.  venue_set_replay says so: then
 *  - a frame naming an instrument the market does not have goes to
 *    discover (when set), which adds it to the market and to the adapter
 *    (venue_add_instrument) and returns it: its frames are used from that
 *    frame on.  Without discover (a config: a fixed set, as live) such a
 *    frame is rejected as unknown_symbol, as live.
 *  - Bybit book frames of a depth that is not the one replayed are
 *    skipped (VSKIP_OTHER_DEPTH), not rejected, and venue_notes says how
 *    many of which depth.
 */
struct venue_replay {
    struct mkt_instr *(*discover)(void *arg, venue_t *v, const char *symbol,
                                  size_t len);
    void *arg;
};
/* r is copied; NULL: live behaviour again. */
void venue_set_replay(venue_t *v, const struct venue_replay *r);

/* Take an instrument of v's venue added to the market after v was
 * created: from now on its frames are used (its book starts unsynced, as
 * at creation).  Open connections are not resubscribed (a replay has
 * none; live, a reload creates new adapters); Binance's stream URLs are
 * rebuilt while they fit.  0 (also when v has it already), or -1 (out of
 * memory, or another venue's instrument; err set). */
int venue_add_instrument(venue_t *v, struct mkt_instr *in, lq_err_t *err);
/* OKX only (else nothing): on, its checksums take the portable multiply
 * rather than PCLMULQDQ; for tests, which check both. */
void venue_okx_portable_crc(venue_t *v, int on);
/* On (the default), depth frames of the venue's usual shape are read
 * without the tokenizer (src/venue/vscan.h); off, every frame is
 * tokenized.  Both give the same result for every frame: tests compare
 * them. */
void venue_fast_paths(venue_t *v, int on);

/* What the adapter has to tell about a replay (e.g. "bybit-linear:BTCUSDT:
 * replaying orderbook.500 (the capture also has orderbook.50: 812 frames
 * ignored)"), one line per call of note, in instrument order.  Returns the
 * number of lines. */
size_t venue_notes(const venue_t *v, void (*note)(const char *msg, void *arg),
                   void *arg);

/* A symbol a frame names that may become an instrument (it names its
 * instrument file, <venue>-<SYMBOL>.json): 1 to 47 of [A-Za-z0-9._-],
 * not starting with '.'. */
int venue_symbol_ok(const char *s, size_t len);

/* Every instrument a frame of venue id names, in frame order, as the
 * adapters would look them up: book, mark/ticker, liquidation and trade
 * frames of the channels the adapters use (Binance depthUpdate s,
 * markPriceUpdate s, forceOrder o.s, REST ?symbol=; Bybit orderbook.*,
 * tickers.*, allLiquidation.* topics; OKX books / mark-price /
 * liquidation-orders instId, REST ?instId=; Hyperliquid l2Book,
 * activeAssetCtx and trades coin).  fn gets each one (a span of data or
 * url; the same symbol may come twice).  Returns how many.  Not
 * thread-safe (a static token buffer). */
size_t venue_frame_symbols(enum venue_id id, enum frame_src src, const char *url,
                           const char *data, size_t len,
                           void (*fn)(const char *sym, size_t n, void *arg),
                           void *arg);
/* The first of them, NUL-terminated into out: 1, or 0 (none, or it does
 * not fit). */
int venue_frame_symbol(enum venue_id id, enum frame_src src, const char *url,
                       const char *data, size_t len, char *out, size_t size);

struct jsonw;
/* Write "rejected_by_reason": {...}, "skipped": N, "skipped_by_rule":
 * {...}, "events": {...} as members of the JSON object open in w (zero
 * reasons and rules left out when skip_zero). */
void venue_stats_json(const struct venue_stats *vs, struct jsonw *w,
                      int skip_zero);

#endif
