/*
 * cascade.h - the liquidation-cascade simulator.
 *
 * Implements ../shared/docs/cascade-model.md, version 1, exactly: for a
 * reference price, a side and a shock, liquidate the positions the shocked
 * price reaches, sell (buy) their volume into the book ladder, move the
 * price to where that volume is filled, and repeat until no new position
 * is reached.
 *
 * Cost: O(rounds x (log n + log m)) per simulation, n positions, m levels.
 * It relies on the price only ever moving away from ref within one
 * simulation (the fill level can only get deeper as V grows), so the
 * liquidated set after each round is exactly "every position with LP at or
 * beyond the current price": one pindex_reached() query per round, no
 * per-position state.
 *
 * Thread-safety: reads the book and index; the caller keeps both still.
 */
#ifndef LIQMON_CASCADE_H
#define LIQMON_CASCADE_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/book.h"
#include "liqmon/dec.h"
#include "liqmon/pindex.h"

/* down: longs liquidated into the bids; up: shorts into the asks. */
enum cascade_dir { CASCADE_DOWN = 0, CASCADE_UP = 1 };

/* One result row: the contract's "Result row", field for field. */
struct cascade_row {
    enum cascade_dir side;
    double shock;
    double start_price;          /* p0 */
    uint32_t rounds;
    uint64_t liquidated;
    dec_t liquidated_qty;        /* V */
    double liquidated_notional;
    double final_price;
    double move_pct;
    int has_amplification;       /* 0: null (s == 0, or p0 == ref) */
    double amplification;
    int exhausted;
    dec_t unfilled_qty;
    int has_vwap;                /* 0: null (nothing filled) */
    double vwap;
};

/* One round of the loop, for post-mortems. */
struct cascade_round {
    double price_before;         /* p at the start of the round */
    uint64_t new_positions;      /* |N| */
    dec_t new_qty;               /* sum of qty of N */
    dec_t volume;                /* V after the round */
    double price_after;          /* p after the round */
    int exhausted;               /* V > D_total after the round */
};

/* Optional trace: pass one to record every round.  The simulator grows
 * rounds with realloc; the caller frees it with cascade_trace_fini(). */
struct cascade_trace {
    struct cascade_round *rounds;
    size_t n, cap;
};
void cascade_trace_fini(struct cascade_trace *tr);

enum {
    CASCADE_OK = 0,
    CASCADE_EINVAL = -1,         /* ref not finite/> 0, shock not in [0,1) */
    CASCADE_ENOMEM = -2,         /* only when recording a trace */
};

/* Run one simulation.  trace may be NULL; when given it is reset first. */
int cascade_run(const book_t *book, const pindex_t *ix, double ref,
                enum cascade_dir side, double shock, struct cascade_row *row,
                struct cascade_trace *trace);

/* The ladder: every (side, shock) pair, sides outer, shocks inner, into
 * rows[nsides * nshocks].  Returns CASCADE_OK or the first error. */
int cascade_ladder(const book_t *book, const pindex_t *ix, double ref,
                   const enum cascade_dir *sides, size_t nsides,
                   const double *shocks, size_t nshocks,
                   struct cascade_row *rows);

const char *cascade_dir_name(enum cascade_dir d);   /* "down" / "up" */

struct jsonw;
/* A row as a JSON object, the contract's result row field for field: the
 * one shape of a ladder row everywhere (sim, replay summary, alerts'
 * details, state, the control API). */
void cascade_row_json(struct jsonw *w, const struct cascade_row *r);

#endif
