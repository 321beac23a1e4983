/*
 * cascade.c - the cascade simulator (see cascade.h and
 * ../shared/docs/cascade-model.md, version 1).
 *
 * The contract's loop, for the down side:
 *
 *     p = p0; V = 0; L = {}
 *     loop: N = longs not in L with LP >= p; stop if N is empty
 *           rounds++; L += N; V += qty(N)
 *           p = V > D_total ? last ladder price : first ladder level
 *                                                 with D_j >= V
 *
 * Why one index query per round is enough: p never rises within a
 * simulation.  It starts at p0, every ladder price is <= p0, and the fill
 * level only gets deeper as V grows (V never shrinks); once V > D_total,
 * p is the lowest ladder price.  So after each round L is exactly
 * {longs with LP >= p_before}, N is {longs with LP >= p} minus that set,
 * and "N is empty" is "the count reached at p did not grow".  V is the qty
 * sum of everything reached, read from the index in O(log n).
 * The up side is the mirror image (shorts, asks); book and index do the
 * mirroring in their keys, so this file has one loop for both.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/cascade.h"
#include "liqmon/jsonw.h"

const char *cascade_dir_name(enum cascade_dir d)
{
    return d == CASCADE_DOWN ? "down" : "up";
}

void cascade_trace_fini(struct cascade_trace *tr)
{
    if (tr == NULL)
        return;
    free(tr->rounds);
    tr->rounds = NULL;
    tr->n = tr->cap = 0;
}

static int trace_push(struct cascade_trace *tr, const struct cascade_round *r)
{
    if (tr->n == tr->cap) {
        size_t ncap = tr->cap ? tr->cap * 2 : 8;
        struct cascade_round *nr = realloc(tr->rounds, ncap * sizeof(*nr));
        if (nr == NULL)
            return -1;
        tr->rounds = nr;
        tr->cap = ncap;
    }
    tr->rounds[tr->n++] = *r;
    return 0;
}

int cascade_run(const book_t *book, const pindex_t *ix, double ref,
                enum cascade_dir side, double shock, struct cascade_row *row,
                struct cascade_trace *trace)
{
    /* down: longs into bids; up: shorts into asks (enum values agree). */
    enum book_side bside = side == CASCADE_DOWN ? BOOK_BID : BOOK_ASK;
    enum pos_side pside = side == CASCADE_DOWN ? POS_LONG : POS_SHORT;
    struct book_ladder lad;
    struct pindex_sum reached = { 0, 0, 0 };
    double p0, p;
    dec_t filled;

    if (!isfinite(ref) || ref <= 0 || !isfinite(shock) || shock < 0 ||
        shock >= 1 || (side != CASCADE_DOWN && side != CASCADE_UP))
        return CASCADE_EINVAL;
    if (trace)
        trace->n = 0;

    p0 = side == CASCADE_DOWN ? ref * (1 - shock) : ref * (1 + shock);
    memset(row, 0, sizeof(*row));
    row->side = side;
    row->shock = shock;
    row->start_price = p0;
    p = p0;
    /* Most simulations liquidate nothing (small shocks, a calm market).
     * If p0 does not reach even the nearest LP, the loop below would stop
     * at once and the ladder would not be read: the row is the rounds-0
     * row, made without the two tree queries that cost most of a ladder. */
    if (!pindex_any_reached(ix, pside, p0)) {
        memset(&lad, 0, sizeof(lad));
        goto done;
    }
    book_ladder(book, bside, p0, &lad);
    for (;;) {
        struct pindex_sum now;
        struct cascade_round r;

        pindex_reached(ix, pside, p, &now);
        if (now.count == reached.count)
            break;                               /* N is empty */
        r.price_before = p;
        r.new_positions = now.count - reached.count;
        r.new_qty = now.qty - reached.qty;
        reached = now;
        row->rounds++;
        if (reached.qty > lad.total) {
            row->exhausted = 1;
            p = lad.last_price;                  /* p0 when the ladder is empty */
        } else {
            book_ladder_fill(book, bside, &lad, reached.qty, &p);
        }
        r.volume = reached.qty;
        r.price_after = p;
        r.exhausted = row->exhausted;
        if (trace && trace_push(trace, &r) != 0)
            return CASCADE_ENOMEM;
        /* The reached set is a function of p alone: a price that did not
         * move reaches no one new (an empty ladder, or a fill at p0). */
        if (p == r.price_before)
            break;
    }

done:
    row->liquidated = reached.count;
    row->liquidated_qty = reached.qty;
    row->liquidated_notional = reached.notional;
    row->final_price = p;
    row->move_pct = 100 * fabs(p - ref) / ref;
    /* s > 0 but p0 == ref happens only when ref * s is below half an ulp
     * of ref; the ratio is then undefined and reported as null. */
    row->has_amplification = shock > 0 && p0 != ref;
    if (row->has_amplification)
        row->amplification = fabs(p - ref) / fabs(p0 - ref);
    row->unfilled_qty = reached.qty > lad.total ? reached.qty - lad.total : 0;
    filled = reached.qty < lad.total ? reached.qty : lad.total;
    row->has_vwap = filled > 0;
    if (row->has_vwap)
        row->vwap = book_ladder_notional(book, bside, p0, &lad, filled) /
                    dec_to_double(filled);
    return CASCADE_OK;
}

int cascade_ladder(const book_t *book, const pindex_t *ix, double ref,
                   const enum cascade_dir *sides, size_t nsides,
                   const double *shocks, size_t nshocks,
                   struct cascade_row *rows)
{
    for (size_t i = 0; i < nsides; i++) {
        for (size_t j = 0; j < nshocks; j++) {
            int rc = cascade_run(book, ix, ref, sides[i], shocks[j],
                                 &rows[i * nshocks + j], NULL);
            if (rc != CASCADE_OK)
                return rc;
        }
    }
    return CASCADE_OK;
}

void cascade_row_json(struct jsonw *w, const struct cascade_row *r)
{
    jw_obj_begin(w);
    jw_key(w, "side");
    jw_str(w, cascade_dir_name(r->side));
    jw_key(w, "shock");
    jw_double(w, r->shock);
    jw_key(w, "start_price");
    jw_double(w, r->start_price);
    jw_key(w, "rounds");
    jw_u64(w, r->rounds);
    jw_key(w, "liquidated");
    jw_u64(w, r->liquidated);
    jw_key(w, "liquidated_qty");
    jw_dec(w, r->liquidated_qty);
    jw_key(w, "liquidated_notional");
    jw_double(w, r->liquidated_notional);
    jw_key(w, "final_price");
    jw_double(w, r->final_price);
    jw_key(w, "move_pct");
    jw_double(w, r->move_pct);
    jw_key(w, "amplification");
    if (r->has_amplification)
        jw_double(w, r->amplification);
    else
        jw_null(w);
    jw_key(w, "exhausted");
    jw_bool(w, r->exhausted);
    jw_key(w, "unfilled_qty");
    jw_dec(w, r->unfilled_qty);
    jw_key(w, "vwap");
    if (r->has_vwap)
        jw_double(w, r->vwap);
    else
        jw_null(w);
    jw_obj_end(w);
}
