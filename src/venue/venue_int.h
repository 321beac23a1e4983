/*
 * venue_int.h - what the adapters share (not for use outside src/venue/).
 *
 * Each venue file defines one struct venue_ops; venue.c dispatches to it
 * and provides the common chores: tokenizing a frame, counting and
 * sampling rejections, emitting events, invalidating books.
 */
#ifndef LIQMON_VENUE_INT_H
#define LIQMON_VENUE_INT_H

#include "liqmon/jtok.h"
#include "liqmon/venue.h"

#define VENUE_MAX_CONNS 4

struct venue_ops {
    enum venue_id id;
    /* Allocate v->priv, fill v->conns / v->nconns.  0 or -1 (err set). */
    int (*init)(venue_t *v, lq_err_t *err);
    void (*fini)(venue_t *v);
    void (*on_open)(venue_t *v, int conn, int64_t now);
    void (*on_close)(venue_t *v, int conn, int64_t now);
    /* Returns 0 or 1 + enum venue_reject (use venue__reject). */
    int (*on_frame)(venue_t *v, int conn, enum frame_src src, const char *url,
                    const char *data, size_t len, int64_t now);
    void (*tick)(venue_t *v, int64_t now);
    /* venue_add_instrument: grow the per-instrument state.  0 or -1 (err
     * set).  NULL: the adapter keeps no per-instrument state (it reads the
     * market), nothing to do. */
    int (*add_instrument)(venue_t *v, struct mkt_instr *in, lq_err_t *err);
    /* venue_notes (may be NULL). */
    size_t (*notes)(const venue_t *v, void (*note)(const char *, void *), void *arg);
    /* 1: every lookup of a frame's symbol goes through venue__find (so a
     * replay discovers as it goes); 0: venue.c names the frame's
     * instruments before the adapter sees it (venue_frame_symbols). */
    int finds_own;
};

struct venue_conn {
    char name[16];
    /* Binance puts every stream of a connection in its URL: up to 200
     * (BN_MAX_STREAMS) of up to ~36 bytes each. */
    char url[8192];
};

struct venue {
    const struct venue_ops *ops;
    struct venue_config cfg;
    market_t *mkt;                 /* borrowed */
    struct venue_io io;
    struct venue_conn conns[VENUE_MAX_CONNS];
    size_t nconns;
    struct venue_stats stats;
    void *priv;                    /* the venue file's state */

    struct jtok *tok;              /* scratch tokens, grown on demand */
    size_t ntok;
    struct book_level *lv[2];      /* scratch level arrays (bids, asks) */
    size_t nlv[2];
    int64_t log_window;            /* rejection log rate limit */
    unsigned log_count;
    int replaying;                 /* venue_set_replay */
    int fast_off;                  /* venue_fast_paths(v, 0): tokenize all */
    struct venue_replay replay;
};

extern const struct venue_ops venue_binance_ops;
extern const struct venue_ops venue_bybit_ops;
extern const struct venue_ops venue_okx_ops;
extern const struct venue_ops venue_hyperliquid_ops;

/* An array of elem-sized zeroed records, one per instrument of this venue
 * in the market; *n gets the count.  NULL with *n > 0: out of memory. */
void *venue__per_instrument(const venue_t *v, size_t elem, size_t *n);

/* Tokenize data into v->tok (grown as needed).  Returns the token count,
 * or -1 when data is not JSON. */
int venue__tokens(venue_t *v, const char *data, size_t len);
/* Make sure the scratch level array of a side holds n levels. */
struct book_level *venue__levels(venue_t *v, int side, size_t n);

/* Parse a book side given as [[price, qty, ...], ...] (prices and
 * quantities as strings or numbers; extra fields ignored) at token arr into
 * the scratch array of side, quantities converted to base units for in.
 * Returns the count, or -1 - enum venue_reject. */
long venue__parse_levels(venue_t *v, const char *s, int arr, int side,
                         const struct mkt_instr *in, struct book_level **out);

/* The instrument of this venue a frame names by symbol (a span), or NULL.
 * In a replay with discovery, an instrument not in the market yet is
 * added (venue.h, venue_set_replay) first: per-instrument arrays may move,
 * so look up per-instrument state only after this. */
struct mkt_instr *venue__find(venue_t *v, const char *sym, size_t len);

/* The instruments a frame names (venue_frame_symbols, on tokens already
 * parsed into t; NULL for a REST frame, named by its url). */
size_t venue__symbols_in(enum venue_id id, enum frame_src src, const char *url,
                         const char *data, const struct jtok *t,
                         void (*fn)(const char *sym, size_t n, void *arg),
                         void *arg);

/* Count a skipped frame (not logged: an overlapping connection sends
 * hundreds), return the code venue_on_frame returns. */
int venue__skip(venue_t *v, enum venue_skip why);

/* Count a rejection, log a sample (at most 5 lines per venue per 10 s of
 * the frame clock), return the code venue_on_frame returns. */
int venue__reject(venue_t *v, enum venue_reject why, const char *detail,
                  const char *data, size_t len, int64_t now);
/* Count and deliver an event (ev->venue filled in). */
void venue__emit(venue_t *v, struct mkt_event *ev);
/* A fresh event of type for in: zeroed, venue time ts (0: not sent) and
 * receive time now filled in.  Fill u, then venue__emit. */
void venue__event(struct mkt_event *ev, enum mev_type type,
                  struct mkt_instr *in, int64_t ts, int64_t now);
/* A mark price: update the market (mark, index when index > 0, times)
 * and emit MEV_MARK with the latest index known. */
void venue__mark(venue_t *v, struct mkt_instr *in, double mark, double index,
                 int64_t ts, int64_t now);
/* Open interest in base units: update the market and emit it. */
void venue__open_interest(venue_t *v, struct mkt_instr *in, dec_t oi,
                          int64_t ts, int64_t now);
/* Invalidate in's book, emit FEED_BOOK_INVALID with the reason. */
void venue__invalidate(venue_t *v, struct mkt_instr *in, const char *reason,
                       int64_t now);
/* Emit FEED_BOOK_VALID for in after a resync. */
void venue__book_valid(venue_t *v, struct mkt_instr *in, int64_t now);
/* Emit a MEV_BOOK_SNAPSHOT / MEV_BOOK_DELTA event for levels just applied. */
void venue__emit_book(venue_t *v, struct mkt_instr *in, int snapshot,
                      const struct book_level *bids, size_t nb,
                      const struct book_level *asks, size_t na,
                      uint64_t seq, int64_t ts, int64_t now);

/* An optional number of a frame (ADL warnings, whose deprecated fields
 * the venues send as ""): absent, null or "" gives NAN and 0; a number
 * or a string holding one gives it and 0; anything else -1. */
int venue__opt_double(const char *s, const struct jtok *t, int i, double *out);

/* Helpers to send through the transport (no-ops when unset). */
int venue__send(venue_t *v, int conn, const char *text, size_t len);
int venue__http_get(venue_t *v, const char *path);
int venue__reconnect(venue_t *v, int conn, const char *why);

/* Milliseconds since the epoch to ns.  A venue time beyond what ns can
 * hold (garbage: year 2262 and later) becomes 0, "not sent". */
static inline int64_t venue__ms(int64_t ms)
{
    if (ms > INT64_MAX / 1000000 || ms < INT64_MIN / 1000000)
        return 0;
    return ms * 1000000;
}

#endif
