/*
 * check_book.c - the L2 book (book.h) against a pair of sorted arrays.
 *
 * The reference keeps each side as a plain array, best level first.  Every
 * random set_level (including qty-0 removals of present and absent levels)
 * goes to both; after each one the return code (BOOK_CROSSED exactly when
 * best bid >= best ask), counts, bests and the touched level are compared;
 * every few operations the depth and ladder queries are compared with a
 * plain loop, and the full levels with book_copy_levels.  Prices are on an
 * integer grid (g * tick) so that the same level always has the same
 * double, and p0 often lands exactly on a level.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "liqmon/book.h"
#include "liqmon/dec.h"
#include "liqmon/market.h"
#include "suites.h"

static uint64_t g_seed;
static long g_op;

/* ---- the reference ------------------------------------------------------ */

struct rside {
    struct book_level *l;    /* best first */
    size_t n, cap;
};

struct rbook {
    struct rside s[2];
};

/* a is better than b on this side */
static int better(enum book_side side, double a, double b)
{
    return side == BOOK_BID ? a > b : a < b;
}

/* Position of price in the side (first level not better than price). */
static size_t rs_lower(const struct rside *s, enum book_side side, double price)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (better(side, s->l[mid].price, price))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void rs_set(struct rside *s, enum book_side side, double price, dec_t qty)
{
    size_t i = rs_lower(s, side, price);
    int present = i < s->n && s->l[i].price == price;
    if (qty == 0) {
        if (present) {
            memmove(s->l + i, s->l + i + 1, (s->n - i - 1) * sizeof(*s->l));
            s->n--;
        }
        return;
    }
    if (present) {
        s->l[i].qty = qty;
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->l = realloc(s->l, s->cap * sizeof(*s->l));
        TCHECK(s->l != NULL, "out of memory");
    }
    memmove(s->l + i + 1, s->l + i, (s->n - i) * sizeof(*s->l));
    s->l[i].price = price;
    s->l[i].qty = qty;
    s->n++;
}

static dec_t rs_qty_at(const struct rside *s, enum book_side side, double price)
{
    size_t i = rs_lower(s, side, price);
    return i < s->n && s->l[i].price == price ? s->l[i].qty : 0;
}

static int rb_crossed(const struct rbook *r)
{
    return r->s[BOOK_BID].n > 0 && r->s[BOOK_ASK].n > 0 &&
           r->s[BOOK_BID].l[0].price >= r->s[BOOK_ASK].l[0].price;
}

static void rb_free(struct rbook *r)
{
    free(r->s[0].l);
    free(r->s[1].l);
}

/* ---- comparisons -------------------------------------------------------- */

static const char *sname(enum book_side s)
{
    return s == BOOK_BID ? "bid" : "ask";
}

static void check_light(const book_t *b, const struct rbook *r)
{
    for (int sd = 0; sd < 2; sd++) {
        const struct rside *s = &r->s[sd];
        struct book_level best;
        char b1[64], b2[64];
        size_t n = book_level_count(b, (enum book_side)sd);
        TCHECK(n == s->n,
               "seed %" PRIu64 " op %ld: %s level count %zu, want %zu", g_seed,
               g_op, sname(sd), n, s->n);
        int rc = book_best(b, (enum book_side)sd, &best);
        TCHECK(rc == (s->n ? 0 : -1),
               "seed %" PRIu64 " op %ld: book_best(%s) = %d", g_seed, g_op,
               sname(sd), rc);
        if (s->n)
            TCHECK(best.price == s->l[0].price && best.qty == s->l[0].qty,
                   "seed %" PRIu64 " op %ld: best %s (%.17g, %s), want "
                   "(%.17g, %s)",
                   g_seed, g_op, sname(sd), best.price, tdec_str(best.qty, b1),
                   s->l[0].price, tdec_str(s->l[0].qty, b2));
    }
    TCHECK(!!book_is_crossed(b) == rb_crossed(r),
           "seed %" PRIu64 " op %ld: book_is_crossed %d, want %d", g_seed, g_op,
           book_is_crossed(b), rb_crossed(r));
}

static void check_full(const book_t *b, const struct rbook *r)
{
    check_light(b, r);
    for (int sd = 0; sd < 2; sd++) {
        const struct rside *s = &r->s[sd];
        struct book_level *out = malloc((s->n + 2) * sizeof(*out));
        dec_t total = 0;
        char b1[64], b2[64];
        TCHECK(out != NULL, "out of memory");
        size_t n = book_copy_levels(b, (enum book_side)sd, out, s->n + 2);
        TCHECK(n == s->n, "seed %" PRIu64 " op %ld: book_copy_levels(%s) = %zu, want %zu",
               g_seed, g_op, sname(sd), n, s->n);
        for (size_t i = 0; i < n; i++) {
            TCHECK(out[i].price == s->l[i].price && out[i].qty == s->l[i].qty,
                   "seed %" PRIu64 " op %ld: %s level %zu (%.17g, %s), want "
                   "(%.17g, %s)",
                   g_seed, g_op, sname(sd), i, out[i].price,
                   tdec_str(out[i].qty, b1), s->l[i].price,
                   tdec_str(s->l[i].qty, b2));
            total += s->l[i].qty;
        }
        if (s->n > 3) {
            /* a short copy is the prefix */
            n = book_copy_levels(b, (enum book_side)sd, out, 3);
            TCHECK(n == 3 && out[2].price == s->l[2].price,
                   "seed %" PRIu64 " op %ld: book_copy_levels(%s, max 3)",
                   g_seed, g_op, sname(sd));
        }
        dec_t got = book_side_qty(b, (enum book_side)sd);
        TCHECK(got == total, "seed %" PRIu64 " op %ld: book_side_qty(%s) = %s, want %s",
               g_seed, g_op, sname(sd), tdec_str(got, b1), tdec_str(total, b2));
        free(out);
    }
    if (!rb_crossed(r)) {
        int rc = book_check(b);
        TCHECK(rc == 0, "seed %" PRIu64 " op %ld: book_check = %d", g_seed, g_op, rc);
    }
}

/* ---- price grid --------------------------------------------------------- */

struct grid {
    double tick;
    long mid;          /* grid index of the mid */
    long depth;        /* levels each side may take */
    long overlap;      /* how far a side may reach past the mid */
};

static double gprice(const struct grid *g, long i)
{
    return (double)i * g->tick;
}

/* A random price for a side: mostly on its own half, sometimes across. */
static double gen_price(struct trng *r, const struct grid *g, enum book_side side)
{
    long off;
    if (trng_below(r, 50) == 0)
        off = -(long)trng_below(r, (uint64_t)g->overlap + 1);
    else
        off = 1 + (long)trng_below(r, (uint64_t)g->depth);
    return gprice(g, side == BOOK_BID ? g->mid - off : g->mid + off);
}

/* A query price anywhere: on the grid (often a level), between ticks,
 * beyond both ends. */
static double gen_qprice(struct trng *r, const struct grid *g, const struct rbook *rb,
                         enum book_side side)
{
    const struct rside *s = &rb->s[side];
    switch (trng_below(r, 8)) {
    case 0:
        return gprice(g, g->mid - g->depth - 10);
    case 1:
        return gprice(g, g->mid + g->depth + 10);
    case 2:
        return gprice(g, g->mid + (long)trng_below(r, 2 * (uint64_t)g->depth) - g->depth) +
               g->tick / 3;
    case 3:
    case 4:
    case 5:
        if (s->n)
            return s->l[trng_below(r, s->n)].price;
        /* fall through */
    default:
        return gprice(g, g->mid + (long)trng_below(r, 2 * (uint64_t)g->depth + 2) -
                             g->depth - 1);
    }
}

/* Lot-grid quantities, sometimes large, sometimes odd units. */
static dec_t gen_qty(struct trng *r)
{
    switch (trng_below(r, 10)) {
    case 0:
        return (dec_t)(1 + trng_below(r, 100000000000ULL)) * 100000000;
    case 1:
        return (dec_t)(1 + trng_below(r, 1000));
    default:
        return (dec_t)(1 + trng_below(r, 40)) * 10000000;   /* 0.1 .. 4 */
    }
}

/* ---- ladder against a plain loop ---------------------------------------- */

static void check_ladder(struct trng *rng, const book_t *b, const struct rbook *rb,
                         enum book_side side, double p0)
{
    const struct rside *s = &rb->s[side];
    struct book_ladder lad;
    dec_t above = 0, total = 0;
    size_t first = 0;
    char b1[64], b2[64];

    while (first < s->n && better(side, s->l[first].price, p0))
        above += s->l[first++].qty;
    for (size_t i = first; i < s->n; i++)
        total += s->l[i].qty;
    uint64_t levels = s->n - first;

    memset(&lad, 0xa5, sizeof(lad));
    book_ladder(b, side, p0, &lad);
    TCHECK(lad.above == above && lad.total == total && lad.levels == levels,
           "seed %" PRIu64 " op %ld: book_ladder(%s, %.17g): above %s total %s "
           "levels %" PRIu64 ", want above %s total %s levels %" PRIu64,
           g_seed, g_op, sname(side), p0, tdec_str(lad.above, b1),
           tdec_str(lad.total, b2), lad.levels, tdec_str(above, b1),
           tdec_str(total, b2), levels);
    if (levels)
        TCHECK(lad.last_price == s->l[s->n - 1].price,
               "seed %" PRIu64 " op %ld: book_ladder(%s, %.17g) last_price %.17g, "
               "want %.17g",
               g_seed, g_op, sname(side), p0, lad.last_price, s->l[s->n - 1].price);

    /* depth_to at p0 (price at p0 or better) */
    dec_t d = book_depth_to(b, side, p0), dw = above;
    if (first < s->n && s->l[first].price == p0)
        dw += s->l[first].qty;
    TCHECK(d == dw, "seed %" PRIu64 " op %ld: book_depth_to(%s, %.17g) = %s, want %s",
           g_seed, g_op, sname(side), p0, tdec_str(d, b1), tdec_str(dw, b2));

    /* fills and notionals: a few volumes, including exact D_j and beyond */
    for (int k = 0; k < 4; k++) {
        dec_t v;
        unsigned pick = (unsigned)trng_below(rng, 5);
        if (levels == 0 || pick == 0) {
            v = total + 1 + (dec_t)trng_below(rng, 100);
        } else if (pick == 1 || pick == 2) {
            size_t j = first + (size_t)trng_below(rng, levels);
            v = 0;
            for (size_t i = first; i <= j; i++)
                v += s->l[i].qty;              /* exactly D_j */
            if (pick == 2 && v > 1)
                v -= 1;                        /* one unit short of D_j */
        } else if (pick == 3) {
            v = total;
        } else {
            v = 1 + (total > 1 ? (dec_t)(trng_next(rng) % (uint64_t)total) : 0);
        }
        /* the reference: first level with D_j >= v; sum over the first v */
        dec_t cum = 0;
        long double notional = 0;
        double want_price = 0;
        int want_rc = -1;
        for (size_t i = first; i < s->n; i++) {
            dec_t take = s->l[i].qty;
            if (cum + take >= v) {
                take = v - cum;
                want_rc = 0;
                want_price = s->l[i].price;
            }
            notional += (long double)s->l[i].price * dec_to_double(take);
            cum += take;
            if (want_rc == 0)
                break;
        }
        double price = -1;
        int rc = book_ladder_fill(b, side, &lad, v, &price);
        TCHECK(rc == want_rc,
               "seed %" PRIu64 " op %ld: book_ladder_fill(%s, p0 %.17g, v %s) = %d, "
               "want %d (total %s)",
               g_seed, g_op, sname(side), p0, tdec_str(v, b1), rc, want_rc,
               tdec_str(total, b2));
        if (rc == 0) {
            TCHECK(price == want_price,
                   "seed %" PRIu64 " op %ld: book_ladder_fill(%s, p0 %.17g, v %s) "
                   "price %.17g, want %.17g",
                   g_seed, g_op, sname(side), p0, tdec_str(v, b1), price, want_price);
            double got = book_ladder_notional(b, side, p0, &lad, v);
            TCHECK(tclose(got, (double)notional, 1e-12),
                   "seed %" PRIu64 " op %ld: book_ladder_notional(%s, p0 %.17g, v %s) "
                   "= %.17g, want %.17Lg",
                   g_seed, g_op, sname(side), p0, tdec_str(v, b1), got, notional);
        }
    }
}

/* ---- random runs -------------------------------------------------------- */

struct runp {
    struct grid g;
    long nops;
    long snapshot_levels;   /* initial snapshot per side (0: none) */
    int query_every;
    int full_every;
};

static void snapshot_random(struct trng *rng, book_t *b, struct rbook *rb,
                            const struct grid *g, long nlev)
{
    struct book_level *lv[2];
    size_t n[2];
    lq_err_t err;

    rb->s[0].n = rb->s[1].n = 0;
    for (int sd = 0; sd < 2; sd++) {
        size_t cap = (size_t)nlev + (size_t)nlev / 4 + 8, k = 0;
        lv[sd] = malloc(cap * sizeof(**lv));
        TCHECK(lv[sd] != NULL, "out of memory");
        /* distinct prices off the mid, in random order, plus a few
         * repeated prices (the last one counts) and zero levels at prices
         * given nowhere else */
        long span = g->depth < nlev ? nlev : g->depth;
        for (long i = 1; i <= span && (long)k < nlev; i++) {
            if (span > nlev && (long)trng_below(rng, (uint64_t)span) >= nlev)
                continue;
            double p = gprice(g, sd == BOOK_BID ? g->mid - i : g->mid + i);
            lv[sd][k].price = p;
            lv[sd][k].qty = gen_qty(rng);
            k++;
        }
        size_t base = k;
        for (size_t j = 0; j < base / 8 && k < cap; j++) {
            lv[sd][k] = lv[sd][trng_below(rng, base)];
            lv[sd][k].qty = gen_qty(rng);
            k++;
        }
        for (int j = 0; j < 3 && k < cap; j++) {
            long i = g->depth + 100 + j;
            lv[sd][k].price = gprice(g, sd == BOOK_BID ? g->mid - i : g->mid + i);
            lv[sd][k].qty = 0;
            k++;
        }
        /* shuffle; the reference applies the levels in the shuffled order, so
         * for a repeated price the last one in the array counts */
        for (size_t i = k; i > 1; i--) {
            size_t j = (size_t)trng_below(rng, i);
            struct book_level t = lv[sd][i - 1];
            lv[sd][i - 1] = lv[sd][j];
            lv[sd][j] = t;
        }
        n[sd] = k;
        for (size_t i = 0; i < k; i++)
            rs_set(&rb->s[sd], (enum book_side)sd, lv[sd][i].price, lv[sd][i].qty);
    }
    int rc = book_apply_snapshot(b, lv[0], n[0], lv[1], n[1], &err);
    TCHECK(rc == (rb_crossed(rb) ? BOOK_CROSSED : BOOK_OK),
           "seed %" PRIu64 " op %ld: book_apply_snapshot = %d", g_seed, g_op, rc);
    free(lv[0]);
    free(lv[1]);
}

static void run_random(const char *salt, const struct runp *P)
{
    struct trng rng;
    struct rbook rb;
    book_t *b = book_create();

    memset(&rb, 0, sizeof(rb));
    TCHECK(b != NULL, "book_create");
    g_seed = test_seed();
    trng_init(&rng, salt);
    g_op = -1;
    if (P->snapshot_levels) {
        snapshot_random(&rng, b, &rb, &P->g, P->snapshot_levels);
        check_full(b, &rb);
    }

    for (g_op = 0; g_op < P->nops; g_op++) {
        enum book_side side = (enum book_side)trng_below(&rng, 2);
        const struct rside *s = &rb.s[side];
        double price;
        dec_t qty;
        unsigned kind = (unsigned)trng_below(&rng, 100);

        if (kind < 15 && s->n > 0)
            price = s->l[trng_below(&rng, s->n)].price;     /* present level */
        else
            price = gen_price(&rng, &P->g, side);
        if (kind < 10 || (kind >= 40 && kind < 60))
            qty = 0;                                  /* removal, maybe absent */
        else
            qty = gen_qty(&rng);

        if (kind == 99 && trng_below(&rng, 20) == 0) {
            /* a fresh snapshot now and then */
            long nl = (long)trng_below(&rng, (uint64_t)P->g.depth + 1);
            snapshot_random(&rng, b, &rb, &P->g, nl);
            check_full(b, &rb);
            continue;
        }
        int rc = book_set_level(b, side, price, qty);
        rs_set(&rb.s[side], side, price, qty);
        int want = rb_crossed(&rb) ? BOOK_CROSSED : BOOK_OK;
        char b1[64];
        TCHECK(rc == want,
               "seed %" PRIu64 " op %ld: book_set_level(%s, %.17g, %s) = %d, want %d",
               g_seed, g_op, sname(side), price, tdec_str(qty, b1), rc, want);
        check_light(b, &rb);
        dec_t at = book_qty_at(b, side, price), wat = rs_qty_at(&rb.s[side], side, price);
        TCHECK(at == wat, "seed %" PRIu64 " op %ld: book_qty_at(%s, %.17g) = %s",
               g_seed, g_op, sname(side), price, tdec_str(at, b1));

        if (P->query_every && g_op % P->query_every == 0) {
            enum book_side qs = (enum book_side)trng_below(&rng, 2);
            double p0 = gen_qprice(&rng, &P->g, &rb, qs);
            check_ladder(&rng, b, &rb, qs, p0);
            double q = gen_qprice(&rng, &P->g, &rb, qs);
            dec_t d = book_depth_to(b, qs, q), dw = 0;
            for (size_t i = 0; i < rb.s[qs].n && !better(qs, q, rb.s[qs].l[i].price); i++)
                dw += rb.s[qs].l[i].qty;
            TCHECK(d == dw, "seed %" PRIu64 " op %ld: book_depth_to(%s, %.17g) = %s",
                   g_seed, g_op, sname(qs), q, tdec_str(d, b1));
            dec_t qa = book_qty_at(b, qs, q), qw = rs_qty_at(&rb.s[qs], qs, q);
            TCHECK(qa == qw, "seed %" PRIu64 " op %ld: book_qty_at(%s, %.17g) = %s",
                   g_seed, g_op, sname(qs), q, tdec_str(qa, b1));
        }
        if (P->full_every && g_op % P->full_every == 0)
            check_full(b, &rb);
    }
    check_full(b, &rb);
    /* empty one side level by level, the other with book_clear */
    while (rb.s[BOOK_ASK].n > 0) {
        double p = rb.s[BOOK_ASK].l[trng_below(&rng, rb.s[BOOK_ASK].n)].price;
        TCHECK(book_set_level(b, BOOK_ASK, p, 0) >= 0, "removal failed");
        rs_set(&rb.s[BOOK_ASK], BOOK_ASK, p, 0);
        check_light(b, &rb);
    }
    check_full(b, &rb);
    book_clear(b);
    rb.s[BOOK_BID].n = 0;
    check_full(b, &rb);
    book_destroy(b);
    rb_free(&rb);
}

/* A narrow book: crossing, uncrossing, emptying, every op checked in full. */
START_TEST(random_narrow)
{
    struct runp P = {{0.5, 2000, 30, 3}, 100000, 0, 1, 1};
    run_random("book.narrow", &P);
}
END_TEST

/* Prices on a 0.01 tick (not exact binary fractions). */
START_TEST(random_cents)
{
    struct runp P = {{0.01, 1000000, 400, 10}, 100000, 200, 2, 500};
    run_random("book.cents", &P);
}
END_TEST

/* 5,000+ levels per side from a snapshot, then deltas. */
START_TEST(random_deep)
{
    struct runp P = {{0.1, 300000, 6000, 5}, 100000, 5500, 4, 5000};
    run_random("book.deep", &P);
}
END_TEST

/* ---- fixed cases -------------------------------------------------------- */

static struct book_level L(double p, int64_t whole)
{
    struct book_level l = {p, (dec_t)whole * DEC_SCALE};
    return l;
}

START_TEST(crossed_rule)
{
    book_t *b = book_create();
    struct book_level lv;

    ck_assert_int_eq(book_set_level(b, BOOK_BID, 99, 5 * (dec_t)DEC_SCALE), BOOK_OK);
    ck_assert_int_eq(book_set_level(b, BOOK_ASK, 101, 5 * (dec_t)DEC_SCALE), BOOK_OK);
    ck_assert_int_eq(book_is_crossed(b), 0);
    /* bid == ask is crossed (best bid >= best ask) */
    ck_assert_int_eq(book_set_level(b, BOOK_BID, 101, 1), BOOK_CROSSED);
    ck_assert_int_ne(book_is_crossed(b), 0);
    /* a change elsewhere still reports the crossed state */
    ck_assert_int_eq(book_set_level(b, BOOK_ASK, 105, 1), BOOK_CROSSED);
    ck_assert_int_eq(book_set_level(b, BOOK_BID, 80, 0), BOOK_CROSSED);
    /* removing the crossing level uncrosses */
    ck_assert_int_eq(book_set_level(b, BOOK_BID, 101, 0), BOOK_OK);
    ck_assert_int_eq(book_is_crossed(b), 0);
    ck_assert_int_eq(book_set_level(b, BOOK_ASK, 98, 1), BOOK_CROSSED);
    ck_assert_int_eq(book_set_level(b, BOOK_ASK, 98, 0), BOOK_OK);
    ck_assert_int_eq(book_check(b), 0);
    /* one empty side is never crossed */
    book_clear(b);
    ck_assert_int_eq(book_set_level(b, BOOK_ASK, 50, 1), BOOK_OK);
    ck_assert_int_eq(book_set_level(b, BOOK_ASK, 40, 1), BOOK_OK);
    ck_assert_int_eq(book_best(b, BOOK_BID, &lv), -1);
    ck_assert_int_eq(book_best(b, BOOK_ASK, &lv), 0);
    ck_assert(lv.price == 40);
    book_destroy(b);
    book_destroy(NULL);
}
END_TEST

/* A level's aux word comes back with the level, best first on each side
 * (asks ascending, bids descending), is replaced with it, leaves with it,
 * and is 0 when a setter without words set the level. */
START_TEST(aux_words)
{
    book_t *b = book_create();
    const dec_t one = (dec_t)DEC_SCALE;
    struct book_level bids[] = { { 99, one }, { 97, one }, { 98, one } };
    struct book_level asks[] = { { 102, one }, { 101, one }, { 103, 0 } };
    uint64_t bw[] = { 990, 970, 980 }, aw[] = { 1020, 1010, 1030 }, out[8];

    ck_assert_int_eq(book_apply_snapshot_aux(b, bids, bw, 3, asks, aw, 3, NULL), BOOK_OK);
    ck_assert_uint_eq(book_top_aux(b, BOOK_BID, out, 8), 3);
    ck_assert(out[0] == 990 && out[1] == 980 && out[2] == 970);
    ck_assert_uint_eq(book_top_aux(b, BOOK_ASK, out, 8), 2);   /* 103 had qty 0 */
    ck_assert(out[0] == 1010 && out[1] == 1020);
    ck_assert_uint_eq(book_top_aux(b, BOOK_BID, out, 1), 1);
    ck_assert(out[0] == 990);

    /* a diff: 98 changes word, 97 goes, 100 comes in at the top */
    struct book_level d[] = { { 100, one }, { 98, 2 * one }, { 97, 0 } };
    uint64_t dw[] = { 1000, 981, 0 };
    ck_assert_int_eq(book_set_levels_aux(b, BOOK_BID, d, dw, 3), BOOK_OK);
    ck_assert_uint_eq(book_top_aux(b, BOOK_BID, out, 8), 3);
    ck_assert(out[0] == 1000 && out[1] == 990 && out[2] == 981);

    /* setters without words store 0 */
    ck_assert_int_eq(book_set_level(b, BOOK_BID, 99, 3 * one), BOOK_OK);
    ck_assert_int_eq(book_set_levels(b, BOOK_ASK, d, 0), BOOK_OK);
    ck_assert_uint_eq(book_top_aux(b, BOOK_BID, out, 8), 3);
    ck_assert(out[0] == 1000 && out[1] == 0 && out[2] == 981);
    ck_assert_int_eq(book_apply_snapshot(b, bids, 3, asks, 3, NULL), BOOK_OK);
    ck_assert_uint_eq(book_top_aux(b, BOOK_ASK, out, 8), 2);
    ck_assert(out[0] == 0 && out[1] == 0);
    ck_assert_int_eq(book_check(b), 0);
    book_destroy(b);
}
END_TEST

START_TEST(bad_levels)
{
    book_t *b = book_create();
    lq_err_t err;

    ck_assert_int_eq(book_set_level(b, BOOK_BID, 99, 5), BOOK_OK);
    ck_assert_int_eq(book_set_level(b, BOOK_BID, NAN, 5), BOOK_EINVAL);
    ck_assert_int_eq(book_set_level(b, BOOK_BID, INFINITY, 5), BOOK_EINVAL);
    ck_assert_int_eq(book_set_level(b, BOOK_ASK, -INFINITY, 5), BOOK_EINVAL);
    ck_assert_int_eq(book_set_level(b, BOOK_BID, 0.0, 5), BOOK_EINVAL);
    ck_assert_int_eq(book_set_level(b, BOOK_ASK, -1.0, 5), BOOK_EINVAL);
    ck_assert_int_eq(book_set_level(b, BOOK_BID, 98, -1), BOOK_EINVAL);
    ck_assert_int_eq(book_set_level(b, BOOK_BID, 99, -1), BOOK_EINVAL);
    ck_assert_uint_eq(book_level_count(b, BOOK_BID), 1);
    ck_assert(book_qty_at(b, BOOK_BID, 99) == 5);
    ck_assert_uint_eq(book_level_count(b, BOOK_ASK), 0);

    struct book_level bids[3] = {L(99, 1), L(98, 2), L(97, 3)};
    struct book_level asks[2] = {L(101, 1), L(102, 1)};
    ck_assert_int_eq(book_apply_snapshot(b, bids, 3, asks, 2, &err), BOOK_OK);
    ck_assert_uint_eq(book_level_count(b, BOOK_BID), 3);
    bids[1].price = -98;
    err.msg[0] = '\0';
    ck_assert_int_lt(book_apply_snapshot(b, bids, 3, asks, 2, &err), 0);
    ck_assert_uint_eq(book_level_count(b, BOOK_BID), 0);
    ck_assert_uint_eq(book_level_count(b, BOOK_ASK), 0);
    ck_assert_msg(err.msg[0] != '\0', "no error message for a bad level");
    bids[1].price = 98;
    asks[1].qty = -1;
    err.msg[0] = '\0';
    ck_assert_int_lt(book_apply_snapshot(b, bids, 3, asks, 2, &err), 0);
    ck_assert_uint_eq(book_level_count(b, BOOK_BID), 0);
    ck_assert_msg(err.msg[0] != '\0', "no error message for a bad level");
    asks[1].qty = 1;
    asks[1].price = NAN;
    ck_assert_int_lt(book_apply_snapshot(b, bids, 3, asks, 2, &err), 0);
    ck_assert_uint_eq(book_level_count(b, BOOK_ASK), 0);
    ck_assert_int_lt(book_apply_snapshot(b, bids, 3, asks, 2, NULL), 0);
    /* a crossed snapshot is applied and reported */
    asks[1].price = 98.5;
    ck_assert_int_eq(book_apply_snapshot(b, bids, 3, asks, 2, &err), BOOK_CROSSED);
    ck_assert_uint_eq(book_level_count(b, BOOK_ASK), 2);
    ck_assert_int_ne(book_is_crossed(b), 0);
    book_destroy(b);
}
END_TEST

/* The contract's worked-example bids, by hand. */
START_TEST(ladder_example)
{
    book_t *b = book_create();
    struct book_level bids[5] = {L(90, 100), L(98, 5), L(99, 5), L(95, 20), L(97, 10)};
    struct book_ladder lad;
    double price;

    ck_assert_int_eq(book_apply_snapshot(b, bids, 5, NULL, 0, NULL), BOOK_OK);
    book_ladder(b, BOOK_BID, 98, &lad);
    ck_assert(lad.above == 5 * (dec_t)DEC_SCALE);
    ck_assert(lad.total == 135 * (dec_t)DEC_SCALE);
    ck_assert_uint_eq(lad.levels, 4);
    ck_assert(lad.last_price == 90);
    ck_assert_int_eq(book_ladder_fill(b, BOOK_BID, &lad, 4 * (dec_t)DEC_SCALE, &price), 0);
    ck_assert(price == 98);
    ck_assert_int_eq(book_ladder_fill(b, BOOK_BID, &lad, 5 * (dec_t)DEC_SCALE, &price), 0);
    ck_assert(price == 98);
    ck_assert_int_eq(book_ladder_fill(b, BOOK_BID, &lad, 5 * (dec_t)DEC_SCALE + 1, &price), 0);
    ck_assert(price == 97);
    ck_assert_int_eq(book_ladder_fill(b, BOOK_BID, &lad, 135 * (dec_t)DEC_SCALE, &price), 0);
    ck_assert(price == 90);
    ck_assert_int_eq(book_ladder_fill(b, BOOK_BID, &lad, 135 * (dec_t)DEC_SCALE + 1, &price), -1);
    /* 5 @ 98 + 10 @ 97 + 2 @ 95 */
    double n = book_ladder_notional(b, BOOK_BID, 98, &lad, 17 * (dec_t)DEC_SCALE);
    ck_assert_msg(tclose(n, 5 * 98 + 10 * 97 + 2 * 95, 1e-12), "notional %.17g", n);

    book_ladder(b, BOOK_BID, 96.5, &lad);
    ck_assert(lad.above == 20 * (dec_t)DEC_SCALE);
    ck_assert(lad.total == 120 * (dec_t)DEC_SCALE);
    ck_assert_uint_eq(lad.levels, 2);
    ck_assert_int_eq(book_ladder_fill(b, BOOK_BID, &lad, 17 * (dec_t)DEC_SCALE, &price), 0);
    ck_assert(price == 95);

    book_ladder(b, BOOK_BID, 80, &lad);
    ck_assert(lad.total == 0);
    ck_assert_uint_eq(lad.levels, 0);
    ck_assert(lad.above == 140 * (dec_t)DEC_SCALE);
    ck_assert_int_eq(book_ladder_fill(b, BOOK_BID, &lad, 1, &price), -1);

    /* the ask side is empty */
    book_ladder(b, BOOK_ASK, 100, &lad);
    ck_assert(lad.total == 0 && lad.above == 0);
    ck_assert_uint_eq(lad.levels, 0);
    ck_assert(book_depth_to(b, BOOK_BID, 97) == 20 * (dec_t)DEC_SCALE);
    ck_assert(book_depth_to(b, BOOK_BID, 96.9) == 20 * (dec_t)DEC_SCALE);
    ck_assert(book_depth_to(b, BOOK_BID, 1000) == 0);
    ck_assert(book_side_qty(b, BOOK_BID) == 140 * (dec_t)DEC_SCALE);
    book_destroy(b);
}
END_TEST

/* market_findn (src/market/market.c): the hash table finds every one of
 * many instruments by (venue, symbol) span, not a prefix, not another
 * venue's, not a retired one; a symbol retired and added again finds the
 * new instrument. */
START_TEST(market_lookup)
{
    market_t *m = market_create();
    struct instrument spec;
    lq_err_t err;
    char sym[32];

    ck_assert_ptr_nonnull(m);
    for (int i = 0; i < 600; i++) {
        memset(&spec, 0, sizeof(spec));
        snprintf(spec.symbol, sizeof(spec.symbol), "S%dUSDT", i);
        ck_assert_ptr_nonnull(market_add(m, (enum venue_id)(i % 2), &spec, &err));
    }
    for (int i = 0; i < 600; i++) {
        snprintf(sym, sizeof(sym), "S%dUSDT", i);
        struct mkt_instr *in = market_findn(m, (enum venue_id)(i % 2), sym, strlen(sym));
        ck_assert_ptr_nonnull(in);
        ck_assert_str_eq(in->spec.symbol, sym);
        ck_assert_ptr_null(market_findn(m, (enum venue_id)(1 - i % 2), sym, strlen(sym)));
        ck_assert_ptr_null(market_findn(m, (enum venue_id)(i % 2), sym, strlen(sym) - 1));
    }
    /* a span inside a longer frame: only its bytes count */
    ck_assert_ptr_nonnull(market_findn(m, VENUE_BINANCE, "S10USDT\",\"x", 7));
    struct mkt_instr *old = market_find(m, VENUE_BINANCE, "S10USDT");
    market_retire(old);
    ck_assert_ptr_null(market_find(m, VENUE_BINANCE, "S10USDT"));
    memset(&spec, 0, sizeof(spec));
    snprintf(spec.symbol, sizeof(spec.symbol), "S10USDT");
    struct mkt_instr *again = market_add(m, VENUE_BINANCE, &spec, &err);
    ck_assert_ptr_nonnull(again);
    ck_assert_ptr_eq(market_find(m, VENUE_BINANCE, "S10USDT"), again);
    ck_assert_ptr_ne(again, old);
    ck_assert_uint_eq(market_count(m), 601);
    market_destroy(m);
}
END_TEST

Suite *book_suite(void)
{
    Suite *s = suite_create("book");
    TCase *tc = tcase_create("fixed");

    tcase_add_test(tc, crossed_rule);
    tcase_add_test(tc, market_lookup);
    tcase_add_test(tc, bad_levels);
    tcase_add_test(tc, aux_words);
    tcase_add_test(tc, ladder_example);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, random_narrow);
    tcase_add_test(tc, random_cents);
    tcase_add_test(tc, random_deep);
    suite_add_tcase(s, tc);
    return s;
}
