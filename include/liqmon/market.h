/*
 * market.h - market state: every watched instrument's book, mark price and
 * health, as the venue adapters maintain them.
 *
 * Data flow: venue adapters (src/venue/) apply what the venues send to the
 * instruments here, then emit normalised events (event.h) downstream.  The
 * market layer keeps state; it does not decide sequencing (the adapters
 * know each venue's rules) and it knows nothing of positions or risk.
 *
 * Book validity: an instrument's book is usable only while book_valid is
 * set.  Adapters clear it (market_invalidate) the moment they see a gap, a
 * checksum mismatch, a crossed book or a lost connection, and set it again
 * only after a fresh snapshot.  Nothing downstream simulates on an invalid
 * book.
 *
 * Thread-safety: the loop thread only (or a replay).
 */
#ifndef LIQMON_MARKET_H
#define LIQMON_MARKET_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/book.h"
#include "liqmon/dec.h"
#include "liqmon/instrument.h"

enum venue_id {
    VENUE_BINANCE = 0,     /* "binance-usdm" */
    VENUE_BYBIT,           /* "bybit-linear" */
    VENUE_OKX,             /* "okx-swap" */
    VENUE_HYPERLIQUID,     /* "hyperliquid" */
    VENUE_COUNT
};

const char *venue_name(enum venue_id v);
/* Returns the id, or -1 for an unknown name. */
int venue_from_name(const char *name);
/* The same for the name s[0..n) (not NUL-terminated). */
int venue_from_span(const char *s, size_t n);
/* Every venue's name, for a message that names what a bad value could
 * have been: "binance-usdm, bybit-linear, okx-swap or hyperliquid" into
 * out (truncated to size). */
void venue_names_join(char *out, size_t size);

/* One instrument's live state.  Fields are read-only outside market.c and
 * the venue adapters. */
struct mkt_instr {
    enum venue_id venue;
    struct instrument spec;     /* owned copy: symbol, tick, lot, ctVal, tiers */
    char key[INSTRUMENT_VENUE_MAX + INSTRUMENT_SYMBOL_MAX]; /* "venue:SYMBOL" */
    uint32_t idx;               /* position in the market, 0-based */

    book_t *book;               /* owned */
    int book_valid;             /* see the header comment */
    uint64_t book_seq;          /* venue's last applied update id / seq */
    uint64_t book_updates;      /* snapshots + deltas applied */
    uint64_t book_resyncs;      /* times the book was invalidated */
    char invalid_reason[96];    /* why it was last invalidated */

    double mark;                /* 0 until the first mark price */
    double index;               /* index / oracle price, 0 when not sent */
    int64_t mark_ts;            /* venue time of the mark, ns */
    dec_t open_interest;        /* base units; 0 until sent */
    int64_t last_ts;            /* receive time of the last frame, ns */
    int retired;                /* removed by a reload: found by no lookup,
                                   fed by no adapter, skipped downstream;
                                   its slot (idx) stays so arrays indexed
                                   by idx elsewhere stay valid */
};

typedef struct market market_t;

market_t *market_create(void);
void market_destroy(market_t *m);            /* NULL is fine */

/* Add an instrument (spec copied).  Returns it, or NULL (out of memory,
 * or already present: err says which). */
struct mkt_instr *market_add(market_t *m, enum venue_id v,
                             const struct instrument *spec, lq_err_t *err);
struct mkt_instr *market_find(const market_t *m, enum venue_id v,
                              const char *symbol);
/* Same with a symbol that is not NUL-terminated (a span of a frame). */
struct mkt_instr *market_findn(const market_t *m, enum venue_id v,
                               const char *symbol, size_t len);
/* Add every instrument file (*.json) of dir, in name order.  Files of a
 * venue not in venues_mask (bit per enum venue_id; 0 = all) are skipped.
 * Returns the number added, or -1 (err names the bad file). */
int market_load_dir(market_t *m, const char *dir, unsigned venues_mask,
                    lq_err_t *err);
size_t market_count(const market_t *m);
struct mkt_instr *market_at(const market_t *m, size_t i);

/* Book changes on behalf of an adapter.  These report; they never
 * invalidate: on BOOK_CROSSED the adapter calls venue__invalidate, which
 * clears book_valid and emits FEED_BOOK_INVALID (so the event is never
 * lost because the flag was already cleared here).
 *
 * market_apply_snapshot replaces the book, counts an update, records seq,
 * and sets book_valid when the new book is not crossed.
 *
 * market_apply_delta applies one message's changed levels (bids, then
 * asks; qty 0 removes) and judges crossing once, after all of them: bids
 * go in before asks, so a message that moves the market crosses the book
 * midway.  One update counted; seq recorded.
 *
 * Both return BOOK_OK, BOOK_CROSSED, or a negative book code (a bad level
 * or out of memory: the book is then not trustworthy, invalidate it). */
int market_apply_snapshot(struct mkt_instr *in, const struct book_level *bids,
                          size_t nb, const struct book_level *asks,
                          size_t na, uint64_t seq);
int market_apply_delta(struct mkt_instr *in, const struct book_level *bids,
                       size_t nb, const struct book_level *asks, size_t na,
                       uint64_t seq);
/* The same with each level's aux word (book.h; NULL: 0). */
int market_apply_snapshot_aux(struct mkt_instr *in,
                              const struct book_level *bids,
                              const uint64_t *bid_aux, size_t nb,
                              const struct book_level *asks,
                              const uint64_t *ask_aux, size_t na, uint64_t seq);
int market_apply_delta_aux(struct mkt_instr *in, const struct book_level *bids,
                           const uint64_t *bid_aux, size_t nb,
                           const struct book_level *asks,
                           const uint64_t *ask_aux, size_t na, uint64_t seq);
/* One level (tests, tools); same rules as a one-level delta, seq kept. */
int market_apply_level(struct mkt_instr *in, enum book_side side,
                       double price, dec_t qty);
/* A reload removed the instrument: retire it (see mkt_instr.retired).
 * The same symbol may be added again later (a new slot). */
void market_retire(struct mkt_instr *in);

/* Mark the book unusable and say why (copied). */
void market_invalidate(struct mkt_instr *in, const char *reason);

/* Venue quantity units to base units (OKX contracts x ctVal), exact.
 * Inline: every book level passes here, and all but OKX's (those with a
 * ctVal) leave unchanged, without a call. */
dec_t market_to_base_scaled(dec_t venue_qty, dec_t contract_value);
static inline dec_t market_to_base(const struct mkt_instr *in, dec_t venue_qty)
{
    dec_t cv = in->spec.contract_value;

    return cv == 0 || cv == DEC_SCALE ? venue_qty : market_to_base_scaled(venue_qty, cv);
}

#endif
