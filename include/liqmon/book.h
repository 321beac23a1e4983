/*
 * book.h - one instrument's L2 order book.
 *
 * Levels are (price, qty): price a double, qty an exact decimal (dec_t).
 * Bids are kept best (highest) first, asks best (lowest) first.  A level
 * with qty 0 does not exist: setting a level to 0 removes it.
 *
 * Each side is an agtree (util/agtree.c) keyed so that "better" is a larger
 * key: bids by price, asks by -price.  Lookups, deltas and the depth
 * queries the cascade needs are therefore O(log m); 5,000 levels per side
 * is three node levels.
 *
 * The book does not decide whether it is trustworthy: book_set_level and
 * book_apply_snapshot report a crossed book (best bid >= best ask) to the
 * caller, and the feed layer (issue 3) marks the instrument invalid.
 *
 * Thread-safety: none; the book belongs to the loop thread.
 */
#ifndef LIQMON_BOOK_H
#define LIQMON_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/agtree.h"
#include "liqmon/dec.h"
#include "liqmon/err.h"

enum book_side { BOOK_BID = 0, BOOK_ASK = 1 };

enum {
    BOOK_OK = 0,
    BOOK_CROSSED = 1,      /* applied, but best bid >= best ask now */
    BOOK_ENOMEM = -1,
    BOOK_EINVAL = -2,      /* non-finite or <= 0 price, negative qty */
};

struct book_level {
    double price;
    dec_t qty;
};

typedef struct book book_t;

book_t *book_create(void);
void book_destroy(book_t *b);                 /* NULL is fine */
void book_clear(book_t *b);

/* Replace both sides.  Levels may come in any order; a price given twice
 * keeps the last; qty 0 levels are skipped.  Returns BOOK_OK, BOOK_CROSSED,
 * or a negative code (book left empty, err says which level). */
int book_apply_snapshot(book_t *b, const struct book_level *bids, size_t nb,
                        const struct book_level *asks, size_t na,
                        lq_err_t *err);

/*
 * A level's aux word: 64 bits a venue adapter keeps with a level, set with
 * it (the _aux variants below; every other setter stores 0) and read back
 * best first by book_top_aux.  OKX keeps there the CRC and length of the
 * level's text, so that its checksum of the top 25 levels reads them in
 * the book's own order: the book itself is what the checksum proves, with
 * no second ordered copy of the levels to keep in step.  aux arrays run
 * parallel to the levels; NULL means all 0.
 */
int book_apply_snapshot_aux(book_t *b, const struct book_level *bids,
                            const uint64_t *bid_aux, size_t nb,
                            const struct book_level *asks,
                            const uint64_t *ask_aux, size_t na, lq_err_t *err);
int book_set_levels_aux(book_t *b, enum book_side side,
                        const struct book_level *lv, const uint64_t *aux,
                        size_t n);
/* The aux words of a side's best max levels, best first; returns how many
 * (the side's level count when it has fewer). */
size_t book_top_aux(const book_t *b, enum book_side side, uint64_t *out,
                    size_t max);

/* Set one level's qty (0 removes it; removing an absent level is a no-op).
 * Returns BOOK_OK, BOOK_CROSSED or a negative code. */
int book_set_level(book_t *b, enum book_side side, double price, dec_t qty);

/* Set several levels of one side (as book_set_level each), judging
 * crossing once at the end.  Stops at the first bad level. */
int book_set_levels(book_t *b, enum book_side side,
                    const struct book_level *lv, size_t n);

/* Best level of a side; returns 0, or -1 when the side is empty. */
int book_best(const book_t *b, enum book_side side, struct book_level *out);
int book_is_crossed(const book_t *b);
size_t book_level_count(const book_t *b, enum book_side side);
/* Total qty on a side. */
dec_t book_side_qty(const book_t *b, enum book_side side);
/* Qty at exactly this price, 0 when absent. */
dec_t book_qty_at(const book_t *b, enum book_side side, double price);

/* Cumulative depth from the top: qty of every level at this price or
 * better (bids: price >= p; asks: price <= p). */
dec_t book_depth_to(const book_t *b, enum book_side side, double price);

/* Copy up to max levels, best first.  Returns the number copied. */
size_t book_copy_levels(const book_t *b, enum book_side side,
                        struct book_level *out, size_t max);

/*
 * The ladder queries the cascade needs (cascade-model.md, "One simulation").
 * The ladder from p0 is the levels at p0 or worse (bids: price <= p0;
 * asks: price >= p0), best first; D_j is the cumulative qty of its first j
 * levels.
 */
struct book_ladder {
    dec_t above;       /* qty on this side better than p0 (not in ladder) */
    dec_t total;       /* D_total */
    uint64_t levels;   /* levels in the ladder */
    double last_price; /* price of the last (worst) ladder level */
};
/* Describe the ladder from p0. */
void book_ladder(const book_t *b, enum book_side side, double p0,
                 struct book_ladder *out);
/* Price of the first ladder level j with D_j >= v (0 < v <= total).
 * Returns 0, or -1 when v > total. */
int book_ladder_fill(const book_t *b, enum book_side side,
                     const struct book_ladder *lad, dec_t v, double *price);
/* Sum of price * qty over the first v of the ladder (the last level taken
 * partly), for the VWAP.  v <= total. */
double book_ladder_notional(const book_t *b, enum book_side side,
                            double p0, const struct book_ladder *lad, dec_t v);

/* For tests: agtree invariants on both sides, and no crossed levels
 * unless allowed.  0 when fine. */
int book_check(const book_t *b);

#endif
