/*
 * book.c - L2 order book on two agtrees (see book.h).
 *
 * Keys: bids by price, asks by -price, so on both sides a larger key is a
 * better level and "the ladder from p0, best first" is "keys <= key(p0),
 * largest first".  Every level's notional (price * qty) is stored with it
 * for the VWAP.  The tie field is unused (0): prices are unique per side.
 */
#include <math.h>
#include <stdlib.h>

#include "liqmon/book.h"

struct book {
    agt_t *side[2];
};

static inline double key_of(enum book_side s, double price)
{
    return s == BOOK_BID ? price : -price;
}

static inline double price_of(double key)
{
    return fabs(key);
}

book_t *book_create(void)
{
    book_t *b = calloc(1, sizeof(*b));

    if (b == NULL)
        goto fail;
    b->side[BOOK_BID] = agt_create_aux();
    b->side[BOOK_ASK] = agt_create_aux();
    if (b->side[BOOK_BID] == NULL || b->side[BOOK_ASK] == NULL)
        goto fail;
    return b;
fail:
    book_destroy(b);
    return NULL;
}

void book_destroy(book_t *b)
{
    if (b == NULL)
        return;
    agt_destroy(b->side[BOOK_BID]);
    agt_destroy(b->side[BOOK_ASK]);
    free(b);
}

void book_clear(book_t *b)
{
    agt_clear(b->side[BOOK_BID]);
    agt_clear(b->side[BOOK_ASK]);
}

int book_is_crossed(const book_t *b)
{
    struct agt_entry bid, ask;

    if (agt_max(b->side[BOOK_BID], &bid) != AGT_OK ||
        agt_max(b->side[BOOK_ASK], &ask) != AGT_OK)
        return 0;
    return price_of(bid.key) >= price_of(ask.key);
}

static int valid_price(double p)
{
    return isfinite(p) && p > 0;
}

/* One level, no crossing check (callers judge crossing once per batch). */
static int set_level(book_t *b, enum book_side side, double price, dec_t qty,
                     uint64_t aux)
{
    /* qty 0 removes; removing an absent level is what venues do after a
     * snapshot already dropped it, and agt_set_batch takes it as no error */
    struct agt_set one = { key_of(side, price), 0, qty,
                           qty == 0 ? 0 : price * dec_to_double(qty), aux };
    int rc;

    if (!valid_price(price) || qty < 0)
        return BOOK_EINVAL;
    rc = agt_set_batch(b->side[side], &one, 1);
    if (rc != AGT_OK)
        return rc == AGT_ENOMEM ? BOOK_ENOMEM : BOOK_EINVAL;
    return BOOK_OK;
}

int book_set_level(book_t *b, enum book_side side, double price, dec_t qty)
{
    int rc = set_level(b, side, price, qty, 0);

    if (rc != BOOK_OK)
        return rc;
    return book_is_crossed(b) ? BOOK_CROSSED : BOOK_OK;
}

/* The hot path of every depth diff.  The levels go to the tree in
 * batches (agt_set_batch), so that the sums above a leaf are repaired
 * once for the run of levels that fall in it (a diff is sorted, and
 * mostly near the top), with the same result as set_level on each in
 * turn: levels before a bad one are applied, the bad one stops it. */
int book_set_levels(book_t *b, enum book_side side,
                    const struct book_level *lv, size_t n)
{
    return book_set_levels_aux(b, side, lv, NULL, n);
}

int book_set_levels_aux(book_t *b, enum book_side side,
                        const struct book_level *lv, const uint64_t *aux,
                        size_t n)
{
    struct agt_set set[64];
    size_t i = 0;

    while (i < n) {
        size_t m = 0;
        int bad = 0, rc;
        for (; i < n && m < sizeof(set) / sizeof(set[0]); i++, m++) {
            if (!valid_price(lv[i].price) || lv[i].qty < 0) {
                bad = 1;
                break;
            }
            set[m].key = key_of(side, lv[i].price);
            set[m].tie = 0;
            set[m].w = lv[i].qty;     /* 0: remove (absent: a no-op) */
            set[m].n = lv[i].qty == 0 ? 0 : lv[i].price * dec_to_double(lv[i].qty);
            set[m].aux = aux != NULL ? aux[i] : 0;
        }
        rc = agt_set_batch(b->side[side], set, m);
        if (rc != AGT_OK)
            return rc == AGT_ENOMEM ? BOOK_ENOMEM : BOOK_EINVAL;
        if (bad)
            return BOOK_EINVAL;
    }
    return book_is_crossed(b) ? BOOK_CROSSED : BOOK_OK;
}

static int load_side(book_t *b, enum book_side side,
                     const struct book_level *lv, const uint64_t *aux,
                     size_t n, lq_err_t *err)
{
    static const char *const names[] = { "bids", "asks" };

    for (size_t i = 0; i < n; i++) {
        int rc;
        if (!valid_price(lv[i].price) || lv[i].qty < 0)
            return lq_err_set(err, "%s[%zu]: price must be > 0 and qty >= 0",
                              names[side], i), BOOK_EINVAL;
        rc = set_level(b, side, lv[i].price, lv[i].qty, aux ? aux[i] : 0);
        if (rc < 0)
            return lq_err_set(err, "%s[%zu]: out of memory", names[side], i), rc;
    }
    return BOOK_OK;
}

int book_apply_snapshot(book_t *b, const struct book_level *bids, size_t nb,
                        const struct book_level *asks, size_t na,
                        lq_err_t *err)
{
    return book_apply_snapshot_aux(b, bids, NULL, nb, asks, NULL, na, err);
}

int book_apply_snapshot_aux(book_t *b, const struct book_level *bids,
                            const uint64_t *bid_aux, size_t nb,
                            const struct book_level *asks,
                            const uint64_t *ask_aux, size_t na, lq_err_t *err)
{
    int rc;

    book_clear(b);
    rc = load_side(b, BOOK_BID, bids, bid_aux, nb, err);
    if (rc == BOOK_OK)
        rc = load_side(b, BOOK_ASK, asks, ask_aux, na, err);
    if (rc < 0) {
        book_clear(b);
        return rc;
    }
    return book_is_crossed(b) ? BOOK_CROSSED : BOOK_OK;
}

int book_best(const book_t *b, enum book_side side, struct book_level *out)
{
    struct agt_entry e;

    if (agt_max(b->side[side], &e) != AGT_OK)
        return -1;
    out->price = price_of(e.key);
    out->qty = e.w;
    return 0;
}

size_t book_top_aux(const book_t *b, enum book_side side, uint64_t *out,
                    size_t max)
{
    return agt_aux_desc(b->side[side], out, max);
}

size_t book_level_count(const book_t *b, enum book_side side)
{
    return agt_count(b->side[side]);
}

dec_t book_side_qty(const book_t *b, enum book_side side)
{
    struct agt_sum s;

    agt_total(b->side[side], &s);
    return s.w;
}

dec_t book_qty_at(const book_t *b, enum book_side side, double price)
{
    struct agt_entry e;

    if (agt_find(b->side[side], key_of(side, price), 0, &e) != AGT_OK)
        return 0;
    return e.w;
}

dec_t book_depth_to(const book_t *b, enum book_side side, double price)
{
    struct agt_sum s;

    agt_sum_ge(b->side[side], key_of(side, price), &s);
    return s.w;
}

size_t book_copy_levels(const book_t *b, enum book_side side,
                        struct book_level *out, size_t max)
{
    struct agt_entry buf[64];
    size_t n = 0;
    double k = INFINITY;

    while (n < max) {
        size_t want = max - n < 64 ? max - n : 64;
        size_t got = agt_copy_desc(b->side[side], k, UINT32_MAX, buf, want);
        for (size_t i = 0; i < got; i++) {
            out[n + i].price = price_of(buf[i].key);
            out[n + i].qty = buf[i].w;
        }
        n += got;
        if (got < want)
            break;
        k = nextafter(buf[got - 1].key, -INFINITY);
    }
    return n;
}

void book_ladder(const book_t *b, enum book_side side, double p0,
                 struct book_ladder *out)
{
    const agt_t *t = b->side[side];
    struct agt_sum all, above;
    struct agt_entry worst;

    agt_total(t, &all);
    /* "Better than p0" is a key strictly above key(p0). */
    agt_sum_ge(t, nextafter(key_of(side, p0), INFINITY), &above);
    out->above = above.w;
    out->total = all.w - above.w;
    out->levels = all.count - above.count;
    out->last_price = p0;
    if (out->levels > 0 && agt_min(t, &worst) == AGT_OK)
        out->last_price = price_of(worst.key);
}

int book_ladder_fill(const book_t *b, enum book_side side,
                     const struct book_ladder *lad, dec_t v, double *price)
{
    struct agt_entry e;

    if (v > lad->total)
        return -1;
    /* D_j >= v  <=>  depth from the very top >= above + v. */
    if (agt_select_desc(b->side[side], lad->above + v, &e, NULL) != AGT_OK)
        return -1;
    *price = price_of(e.key);
    return 0;
}

double book_ladder_notional(const book_t *b, enum book_side side,
                            double p0, const struct book_ladder *lad, dec_t v)
{
    const agt_t *t = b->side[side];
    struct agt_entry e;
    struct agt_sum before, full;
    double k0 = key_of(side, p0);

    if (v <= 0 || lad->total <= 0)
        return 0;
    if (v > lad->total)
        v = lad->total;
    if (agt_select_desc(t, lad->above + v, &e, &before) != AGT_OK)
        return 0;
    /* Levels of the ladder strictly better than the fill level are taken
     * whole; the fill level gives only what is still needed. */
    agt_sum_range(t, nextafter(e.key, INFINITY), k0, &full);
    return full.n + price_of(e.key) * dec_to_double(lad->above + v - before.w);
}

int book_check(const book_t *b)
{
    int rc = agt_check(b->side[BOOK_BID]);

    if (rc == 0)
        rc = agt_check(b->side[BOOK_ASK]);
    return rc;
}
