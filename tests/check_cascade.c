/*
 * check_cascade.c - the cascade simulator (cascade.h) against the contract.
 *
 * (1) cascade-model.md's worked example, every field, its mirror image on
 *     the up side, and an exhausted variant worked by hand;
 * (2) thousands of random scenarios against the contract's loop written
 *     out below as plainly as the text states it: per-position liquidated
 *     flags, the ladder as an array, exact dec_t sums for V and D_j;
 *     integers and booleans compared exactly, doubles to a relative 1e-9;
 * (3) the trace, round by round, against the same loop;
 * (4) argument checks.
 * Prices sit on a 0.5 grid and quantities on a 0.1 grid so that D_j == V
 * and LP == p ties are common, as the contract says they are in practice.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "liqmon/book.h"
#include "liqmon/cascade.h"
#include "liqmon/dec.h"
#include "liqmon/pindex.h"
#include "liqmon/tiers.h"
#include "suites.h"

#define Q(x) ((dec_t)((x) * 10 + 0.5) * 10000000)   /* x on a 0.1 grid */

static uint64_t g_seed;
static long g_case;

/* ---- a scenario --------------------------------------------------------- */

struct tpos {
    enum pos_side side;
    dec_t qty;
    double entry;
    int has_margin;
    double margin, liq_price;
    double lp;                  /* by the contract's formula */
};

struct scen {
    double ref;
    struct book_level bids[64], asks[64];
    size_t nb, na;
    struct tpos pos[160];
    size_t np;
    struct tier tiers[6];
    struct tier_table tt;       /* n == 0: none */
};

static void scen_lps(struct scen *sc)
{
    for (size_t i = 0; i < sc->np; i++) {
        struct tpos *p = &sc->pos[i];
        p->lp = p->has_margin
                    ? tref_liq_price(&sc->tt, p->side == POS_SHORT,
                                     dec_to_double(p->qty), p->entry, p->margin,
                                     NULL)
                    : p->liq_price;
    }
}

/* The book and index for a scenario; checks the index's LPs agree with
 * the formula so that a failure below is the cascade's. */
static void scen_build(const struct scen *sc, book_t **bk, pindex_t **ixp)
{
    lq_err_t err;
    book_t *b = book_create();
    pindex_t *ix = pindex_create(sc->tt.n ? &sc->tt : NULL);

    TCHECK(b != NULL && ix != NULL, "create");
    int rc = book_apply_snapshot(b, sc->bids, sc->nb, sc->asks, sc->na, &err);
    TCHECK(rc == BOOK_OK, "seed %" PRIu64 " case %ld: book_apply_snapshot = %d",
           g_seed, g_case, rc);
    for (size_t i = 0; i < sc->np; i++) {
        const struct tpos *p = &sc->pos[i];
        char id[32];
        uint32_t h;
        struct pos_spec s;
        struct pos_view v;
        snprintf(id, sizeof(id), "q%zu", i);
        memset(&s, 0, sizeof(s));
        s.id = id;
        s.side = p->side;
        s.qty = p->qty;
        s.entry = p->entry;
        s.has_margin = p->has_margin;
        s.margin = p->margin;
        s.liq_price = p->liq_price;
        rc = pindex_insert(ix, &s, &h, &err);
        TCHECK(rc == PINDEX_OK, "seed %" PRIu64 " case %ld: pindex_insert(%s) = %d: %s",
               g_seed, g_case, id, rc, err.msg);
        TCHECK(pindex_get(ix, h, &v) == PINDEX_OK, "pindex_get");
        TCHECK(v.lp == p->lp, "seed %" PRIu64 " case %ld: position %s LP %.17g, "
               "formula %.17g (an index/tier bug, not the cascade's)",
               g_seed, g_case, id, v.lp, p->lp);
    }
    *bk = b;
    *ixp = ix;
}

/* ---- the contract's loop, as written ------------------------------------ */

struct xrow {
    struct cascade_row row;
    struct cascade_round rounds[200];
    size_t nrounds;
};

static void brute(const struct scen *sc, enum cascade_dir dir, double s,
                  struct xrow *x)
{
    struct cascade_row *r = &x->row;
    int down = dir == CASCADE_DOWN;
    double ref = sc->ref;
    double p0 = down ? ref * (1 - s) : ref * (1 + s);
    struct book_level lad[64];
    dec_t D[64];
    size_t nl = 0;
    int liq[160] = {0};

    /* ladder: bids with price <= p0 (asks >= p0), best first */
    const struct book_level *src = down ? sc->bids : sc->asks;
    size_t ns = down ? sc->nb : sc->na;
    for (size_t i = 0; i < ns; i++)
        if (down ? src[i].price <= p0 : src[i].price >= p0)
            lad[nl++] = src[i];
    for (size_t i = 1; i < nl; i++)          /* insertion sort, best first */
        for (size_t j = i; j > 0 && (down ? lad[j].price > lad[j - 1].price
                                          : lad[j].price < lad[j - 1].price); j--) {
            struct book_level t = lad[j];
            lad[j] = lad[j - 1];
            lad[j - 1] = t;
        }
    dec_t Dtotal = 0;
    for (size_t j = 0; j < nl; j++) {
        Dtotal += lad[j].qty;
        D[j] = Dtotal;
    }

    memset(x, 0, sizeof(*x));
    r->side = dir;
    r->shock = s;
    r->start_price = p0;
    double p = p0;
    dec_t V = 0;
    long double notional = 0;
    enum pos_side ps = down ? POS_LONG : POS_SHORT;
    for (;;) {
        uint64_t nnew = 0;
        dec_t qnew = 0;
        for (size_t i = 0; i < sc->np; i++) {
            const struct tpos *q = &sc->pos[i];
            if (q->side != ps || liq[i])
                continue;
            if (!(isfinite(q->lp) && q->lp > 0))        /* left out */
                continue;
            if (down ? q->lp >= p : q->lp <= p) {
                liq[i] = 1;
                nnew++;
                qnew += q->qty;
                notional += (long double)dec_to_double(q->qty) * q->lp;
            }
        }
        if (nnew == 0)
            break;
        struct cascade_round *rd = &x->rounds[x->nrounds++];
        rd->price_before = p;
        r->rounds++;
        r->liquidated += nnew;
        V += qnew;
        if (V > Dtotal) {
            r->exhausted = 1;
            p = nl ? lad[nl - 1].price : p0;
        } else {
            size_t j = 0;
            while (D[j] < V)
                j++;
            p = lad[j].price;
        }
        rd->new_positions = nnew;
        rd->new_qty = qnew;
        rd->volume = V;
        rd->price_after = p;
        rd->exhausted = V > Dtotal;
    }
    r->liquidated_qty = V;
    r->liquidated_notional = (double)notional;
    r->final_price = p;
    r->move_pct = 100 * fabs(p - ref) / ref;
    r->has_amplification = s > 0 && p0 != ref;
    r->amplification = r->has_amplification ? fabs(p - ref) / fabs(p0 - ref) : 0;
    r->unfilled_qty = V > Dtotal ? V - Dtotal : 0;
    dec_t filled = V < Dtotal ? V : Dtotal, cum = 0;
    long double pv = 0;
    for (size_t j = 0; j < nl && cum < filled; j++) {
        dec_t take = lad[j].qty;
        if (cum + take > filled)
            take = filled - cum;
        pv += (long double)lad[j].price * dec_to_double(take);
        cum += take;
    }
    r->has_vwap = filled > 0;
    r->vwap = r->has_vwap ? (double)(pv / dec_to_double(filled)) : 0;
}

/* ---- comparison --------------------------------------------------------- */

#define TOL 1e-9

static void cmp_row(const char *ctx, const struct cascade_row *g,
                    const struct cascade_row *w)
{
    char b1[64], b2[64];
#define DBL(f)                                                                 \
    TCHECK(tclose(g->f, w->f, TOL),                                            \
           "seed %" PRIu64 " case %ld: %s: " #f " %.17g, want %.17g", g_seed,  \
           g_case, ctx, g->f, w->f)
#define INT(f)                                                                 \
    TCHECK(g->f == w->f,                                                       \
           "seed %" PRIu64 " case %ld: %s: " #f " %lld, want %lld", g_seed,    \
           g_case, ctx, (long long)g->f, (long long)w->f)
#define DEC(f)                                                                 \
    TCHECK(g->f == w->f, "seed %" PRIu64 " case %ld: %s: " #f " %s, want %s",  \
           g_seed, g_case, ctx, tdec_str(g->f, b1), tdec_str(w->f, b2))
    INT(side);
    TCHECK(g->shock == w->shock, "seed %" PRIu64 " case %ld: %s: shock %.17g",
           g_seed, g_case, ctx, g->shock);
    DBL(start_price);
    INT(rounds);
    INT(liquidated);
    DEC(liquidated_qty);
    DBL(liquidated_notional);
    DBL(final_price);
    DBL(move_pct);
    INT(has_amplification);
    if (w->has_amplification)
        DBL(amplification);
    INT(exhausted);
    DEC(unfilled_qty);
    INT(has_vwap);
    if (w->has_vwap)
        DBL(vwap);
#undef DBL
#undef INT
#undef DEC
}

static void cmp_trace(const char *ctx, const struct cascade_trace *tr,
                      const struct xrow *x)
{
    char b1[64], b2[64];
    TCHECK(tr->n == x->nrounds && tr->n == x->row.rounds,
           "seed %" PRIu64 " case %ld: %s: trace has %zu rounds, want %zu",
           g_seed, g_case, ctx, tr->n, x->nrounds);
    TCHECK(tr->n == 0 || tr->rounds != NULL, "trace rounds NULL");
    for (size_t i = 0; i < tr->n; i++) {
        const struct cascade_round *g = &tr->rounds[i], *w = &x->rounds[i];
        TCHECK(tclose(g->price_before, w->price_before, TOL) &&
                   tclose(g->price_after, w->price_after, TOL),
               "seed %" PRIu64 " case %ld: %s: round %zu price %.17g -> %.17g, "
               "want %.17g -> %.17g",
               g_seed, g_case, ctx, i + 1, g->price_before, g->price_after,
               w->price_before, w->price_after);
        TCHECK(g->new_positions == w->new_positions && g->new_qty == w->new_qty,
               "seed %" PRIu64 " case %ld: %s: round %zu new %" PRIu64 " qty %s, "
               "want %" PRIu64 " qty %s",
               g_seed, g_case, ctx, i + 1, g->new_positions, tdec_str(g->new_qty, b1),
               w->new_positions, tdec_str(w->new_qty, b2));
        TCHECK(g->volume == w->volume && !!g->exhausted == !!w->exhausted,
               "seed %" PRIu64 " case %ld: %s: round %zu volume %s exhausted %d, "
               "want %s %d",
               g_seed, g_case, ctx, i + 1, tdec_str(g->volume, b1), g->exhausted,
               tdec_str(w->volume, b2), w->exhausted);
        /* consistency with the row */
        if (i > 0)
            TCHECK(g->price_before == tr->rounds[i - 1].price_after,
                   "seed %" PRIu64 " case %ld: %s: round %zu starts at %.17g, "
                   "previous ended at %.17g",
                   g_seed, g_case, ctx, i + 1, g->price_before,
                   tr->rounds[i - 1].price_after);
    }
    if (tr->n > 0) {
        TCHECK(tr->rounds[tr->n - 1].volume == x->row.liquidated_qty,
               "seed %" PRIu64 " case %ld: %s: last round volume != liquidated_qty",
               g_seed, g_case, ctx);
        TCHECK(tr->rounds[tr->n - 1].price_after == x->row.final_price &&
                   tr->rounds[0].price_before == x->row.start_price,
               "seed %" PRIu64 " case %ld: %s: trace ends != row", g_seed, g_case, ctx);
    }
}

/* Run one (side, shock) with and without a trace; compare everything. */
static void check_one(const book_t *b, const pindex_t *ix, const struct scen *sc,
                      enum cascade_dir dir, double s, struct cascade_trace *tr)
{
    struct xrow x;
    struct cascade_row g;
    char ctx[96];

    brute(sc, dir, s, &x);
    snprintf(ctx, sizeof(ctx), "ref %.17g %s shock %.17g", sc->ref,
             dir == CASCADE_DOWN ? "down" : "up", s);
    memset(&g, 0x5a, sizeof(g));
    int rc = cascade_run(b, ix, sc->ref, dir, s, &g, NULL);
    TCHECK(rc == CASCADE_OK, "seed %" PRIu64 " case %ld: %s: cascade_run = %d",
           g_seed, g_case, ctx, rc);
    cmp_row(ctx, &g, &x.row);
    memset(&g, 0x5a, sizeof(g));
    rc = cascade_run(b, ix, sc->ref, dir, s, &g, tr);
    TCHECK(rc == CASCADE_OK, "seed %" PRIu64 " case %ld: %s: cascade_run (trace) = %d",
           g_seed, g_case, ctx, rc);
    cmp_row(ctx, &g, &x.row);
    cmp_trace(ctx, tr, &x);
}

/* ---- the worked example ------------------------------------------------- */

static void example_scen(struct scen *sc, int up)
{
    static const double bp[5] = {99, 98, 97, 95, 90};
    static const int bq[5] = {5, 5, 10, 20, 100};
    static const double lps[4] = {98.5, 97.2, 96.0, 80};
    static const int pq[4] = {4, 3, 10, 50};

    memset(sc, 0, sizeof(*sc));
    sc->ref = 100;
    for (int i = 0; i < 5; i++) {
        struct book_level l = {up ? 200 - bp[i] : bp[i], (dec_t)bq[i] * DEC_SCALE};
        if (up)
            sc->asks[sc->na++] = l;
        else
            sc->bids[sc->nb++] = l;
    }
    for (int i = 0; i < 4; i++) {
        struct tpos *p = &sc->pos[sc->np++];
        p->side = up ? POS_SHORT : POS_LONG;
        p->qty = (dec_t)pq[i] * DEC_SCALE;
        p->entry = 100;
        p->liq_price = up ? 200 - lps[i] : lps[i];
        p->lp = p->liq_price;
    }
}

struct want {
    double s, start;
    uint32_t rounds;
    uint64_t liquidated;
    int v;               /* liquidated_qty, whole units */
    double notional, final, move_pct;
    int has_amp;
    double amp;
    int exhausted, unfilled, has_vwap;
    double vwap;
};

static void check_example(int up, const struct want *w, size_t n)
{
    struct scen sc;
    book_t *b;
    pindex_t *ix;
    struct cascade_trace tr = {NULL, 0, 0};

    g_seed = test_seed();
    example_scen(&sc, up);
    scen_build(&sc, &b, &ix);
    for (size_t i = 0; i < n; i++) {
        struct cascade_row g, e;
        char ctx[64];
        memset(&e, 0, sizeof(e));
        e.side = up ? CASCADE_UP : CASCADE_DOWN;
        e.shock = w[i].s;
        e.start_price = w[i].start;
        e.rounds = w[i].rounds;
        e.liquidated = w[i].liquidated;
        e.liquidated_qty = (dec_t)w[i].v * DEC_SCALE;
        e.liquidated_notional = w[i].notional;
        e.final_price = w[i].final;
        e.move_pct = w[i].move_pct;
        e.has_amplification = w[i].has_amp;
        e.amplification = w[i].amp;
        e.exhausted = w[i].exhausted;
        e.unfilled_qty = (dec_t)w[i].unfilled * DEC_SCALE;
        e.has_vwap = w[i].has_vwap;
        e.vwap = w[i].vwap;
        g_case = (long)i;
        snprintf(ctx, sizeof(ctx), "example %s s=%g", up ? "up" : "down", w[i].s);
        ck_assert_int_eq(cascade_run(b, ix, 100, e.side, w[i].s, &g, &tr), CASCADE_OK);
        cmp_row(ctx, &g, &e);
        /* and the brute-force loop agrees with the hand-worked numbers */
        struct xrow x;
        brute(&sc, e.side, w[i].s, &x);
        cmp_row("brute vs example", &x.row, &e);
        cmp_trace(ctx, &tr, &x);
    }
    cascade_trace_fini(&tr);
    book_destroy(b);
    pindex_destroy(ix);
}

START_TEST(worked_example_down)
{
    const struct want w[] = {
        /* s     p0    rnd liq V  notional  final mv amp  ampv      exh unf vw vwap */
        {0.02, 98, 1, 1, 4, 394, 98, 2, 1, 1, 0, 0, 1, 98},
        {0.03, 97, 1, 2, 7, 685.6, 97, 3, 1, 1, 0, 0, 1, 97},
        {0.035, 96.5, 2, 3, 17, 1645.6, 95, 5, 1, 5 / 3.5, 0, 0, 1, 95},
        {0, 100, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0},
        {0.1, 90, 1, 3, 17, 1645.6, 90, 10, 1, 1, 0, 0, 1, 90},
        /* p0 80: the ladder is empty; D (LP 80) is reached at p0 itself */
        {0.2, 80, 1, 4, 67, 5645.6, 80, 20, 1, 1, 1, 67, 0, 0},
    };
    check_example(0, w, sizeof(w) / sizeof(w[0]));
}
END_TEST

START_TEST(worked_example_up)
{
    /* mirror image about 100: asks (101,5) (102,5) (103,10) (105,20)
     * (110,100); shorts LP 101.5, 102.8, 104, 120 */
    const double p035 = 100 * (1 + 0.035), p01 = 100 * (1 + 0.1);
    const struct want w[] = {
        {0.02, 102, 1, 1, 4, 406, 102, 2, 1, 1, 0, 0, 1, 102},
        {0.03, 103, 1, 2, 7, 714.4, 103, 3, 1, 1, 0, 0, 1, 103},
        {0.035, p035, 2, 3, 17, 1754.4, 105, 5, 1, 5 / (p035 - 100), 0, 0, 1, 105},
        {0, 100, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0},
        /* 100 * (1 + 0.1) is 110.00000000000001 in doubles: the level at
         * 110 is below p0, the ladder is empty, V goes unfilled at p0 */
        {0.1, p01, 1, 3, 17, 1754.4, p01, 10, 1, 1, 1, 17, 0, 0},
        {0.2, 120, 1, 4, 67, 7754.4, 120, 20, 1, 1, 1, 67, 0, 0},
    };
    check_example(1, w, sizeof(w) / sizeof(w[0]));
}
END_TEST

/* The example plus E: long 200 at LP 95.  Round 2 reaches C and E (LP 95
 * == p 95, inclusive) and goes past the visible depth: p drops to the last
 * ladder level, 90. */
START_TEST(worked_example_exhausted)
{
    struct scen sc;
    book_t *b;
    pindex_t *ix;
    struct cascade_row g;
    struct cascade_trace tr = {NULL, 0, 0};

    g_seed = test_seed();
    example_scen(&sc, 0);
    struct tpos *e = &sc.pos[sc.np++];
    e->side = POS_LONG;
    e->qty = 200 * (dec_t)DEC_SCALE;
    e->entry = 100;
    e->liq_price = e->lp = 95;
    scen_build(&sc, &b, &ix);
    ck_assert_int_eq(cascade_run(b, ix, 100, CASCADE_DOWN, 0.035, &g, &tr), CASCADE_OK);
    ck_assert_uint_eq(g.rounds, 2);
    ck_assert_uint_eq(g.liquidated, 4);
    ck_assert(g.liquidated_qty == 217 * (dec_t)DEC_SCALE);
    ck_assert(g.final_price == 90);
    ck_assert_int_ne(g.exhausted, 0);
    ck_assert(g.unfilled_qty == 97 * (dec_t)DEC_SCALE);
    ck_assert_int_eq(g.has_vwap, 1);
    ck_assert_msg(tclose(g.vwap, (20 * 95 + 100 * 90) / 120.0, TOL), "vwap %.17g", g.vwap);
    ck_assert_msg(tclose(g.move_pct, 10, TOL), "move_pct %.17g", g.move_pct);
    ck_assert_msg(tclose(g.amplification, 10 / 3.5, TOL), "amp %.17g", g.amplification);
    ck_assert_msg(tclose(g.liquidated_notional, 1645.6 + 200 * 95, TOL), "notional %.17g",
                  g.liquidated_notional);
    ck_assert_uint_eq(tr.n, 2);
    ck_assert(tr.rounds[0].price_before == 96.5);
    ck_assert_uint_eq(tr.rounds[0].new_positions, 2);
    ck_assert(tr.rounds[0].new_qty == 7 * (dec_t)DEC_SCALE);
    ck_assert(tr.rounds[0].price_after == 95);
    ck_assert_int_eq(tr.rounds[0].exhausted, 0);
    ck_assert_uint_eq(tr.rounds[1].new_positions, 2);
    ck_assert(tr.rounds[1].volume == 217 * (dec_t)DEC_SCALE);
    ck_assert(tr.rounds[1].price_after == 90);
    ck_assert_int_ne(tr.rounds[1].exhausted, 0);
    cascade_trace_fini(&tr);
    book_destroy(b);
    pindex_destroy(ix);
}
END_TEST

/* ---- random scenarios --------------------------------------------------- */

static double grid(struct trng *r, double lo, double hi)
{
    long n = (long)((hi - lo) / 0.5);
    return lo + 0.5 * (double)trng_below(r, (uint64_t)n + 1);
}

static dec_t gen_q(struct trng *r)
{
    if (trng_below(r, 15) == 0)
        return (dec_t)(1 + trng_below(r, 1000000)) * 1000;        /* odd sizes */
    return (dec_t)(1 + trng_below(r, 30)) * 10000000;             /* 0.1 .. 3 */
}

static void gen_levels(struct trng *r, struct book_level *l, size_t *n, double lo,
                       double hi, size_t max)
{
    dec_t scale = 1 + (dec_t)trng_below(r, 8);     /* depth vs positions */
    *n = 0;
    size_t want = (size_t)trng_below(r, max + 1);
    for (size_t tries = 0; *n < want && tries < 4 * max; tries++) {
        double p = grid(r, lo, hi);
        int dup = 0;
        for (size_t i = 0; i < *n; i++)
            dup |= l[i].price == p;
        if (dup)
            continue;
        l[*n].price = p;
        l[*n].qty = gen_q(r) * scale;
        (*n)++;
    }
}

static void gen_scen(struct trng *r, struct scen *sc)
{
    memset(sc, 0, sizeof(*sc));
    sc->ref = trng_below(r, 2) ? 100 : grid(r, 20, 200);
    double ref = sc->ref;
    unsigned book_kind = (unsigned)trng_below(r, 10);
    size_t maxlev = trng_below(r, 3) == 0 ? 60 : 12;
    if (book_kind != 0 && book_kind != 1)
        gen_levels(r, sc->bids, &sc->nb, ref * 0.4, ref, maxlev);
    if (book_kind != 0 && book_kind != 2)
        gen_levels(r, sc->asks, &sc->na, ref + 0.5, ref * 1.6, maxlev);

    /* a random tier table, floors ascending, gaps now and then */
    size_t nt = 1 + (size_t)trng_below(r, 5);
    double floor = 0;
    for (size_t k = 0; k < nt; k++) {
        double w = (double)(1 + trng_below(r, 100)) * 5;
        sc->tiers[k].notional_floor = floor;
        sc->tiers[k].notional_cap = floor + w;
        floor += w + (trng_below(r, 4) == 0 ? w : 0);
        sc->tiers[k].mmr = (double)trng_below(r, 200) / 1000;
        sc->tiers[k].maint_amount = (double)trng_below(r, 20) / 2;
        sc->tiers[k].max_leverage = 0;
    }
    sc->tt.n = nt;
    sc->tt.t = sc->tiers;

    size_t np = (size_t)trng_below(r, trng_below(r, 4) == 0 ? 150 : 40);
    for (size_t i = 0; i < np; i++) {
        struct tpos *p = &sc->pos[sc->np++];
        p->side = (enum pos_side)trng_below(r, 2);
        p->qty = gen_q(r);
        p->entry = grid(r, ref * 0.8, ref * 1.2);
        if (p->entry <= 0)
            p->entry = ref;
        if (trng_below(r, 10) < 6) {
            p->has_margin = 0;
            p->liq_price = p->side == POS_LONG ? grid(r, ref * 0.4, ref * 1.05)
                                               : grid(r, ref * 0.95, ref * 1.6);
            if (p->liq_price <= 0)
                p->liq_price = 0.5;
        } else {
            p->has_margin = 1;
            double notional = dec_to_double(p->qty) * p->entry;
            if (p->side == POS_LONG && trng_below(r, 10) == 0)
                p->margin = notional * (1 + trng_unit(r));      /* LP <= 0 */
            else
                p->margin = notional / (1.5 + trng_unit(r) * 30);
        }
    }
    /* a staircase: positions whose LPs sit on the ladder's levels with
     * quantities near the levels', for cascades of many rounds */
    if (trng_below(r, 4) == 0) {
        for (int side = 0; side < 2; side++) {
            const struct book_level *l = side ? sc->asks : sc->bids;
            size_t n = side ? sc->na : sc->nb;
            for (size_t i = 0; i < n && sc->np < 160; i++) {
                struct tpos *p = &sc->pos[sc->np++];
                p->side = side ? POS_SHORT : POS_LONG;
                p->qty = l[i].qty;
                if (trng_below(r, 3) == 0)
                    p->qty += (dec_t)trng_below(r, 3) * 10000000;
                p->entry = ref;
                p->has_margin = 0;
                p->liq_price = l[i].price + (trng_below(r, 3) == 0 ? (side ? -0.5 : 0.5) : 0);
            }
        }
    }
    scen_lps(sc);
}

static double gen_shock(struct trng *r, double ref)
{
    switch (trng_below(r, 6)) {
    case 0:
        return 0;
    case 1:
    case 2:
        /* p0 on the 0.5 grid when ref is 100 */
        return (double)trng_below(r, 120) * 0.005;
    case 3:
        /* p0 exactly a grid price: s = k * 0.5 / ref */
        return (double)trng_below(r, (uint64_t)(ref * 1.9)) * 0.5 / ref;
    case 4:
        return trng_below(r, 4) ? trng_unit(r) * 0.2
                                : 0.99 + (double)trng_below(r, 9) * 0.001;
    default:
        return trng_unit(r) * (trng_below(r, 2) ? 1 : 0.3);
    }
}

START_TEST(random_scenarios)
{
    struct trng r;
    struct cascade_trace tr = {NULL, 0, 0};
    struct scen *sc = malloc(sizeof(*sc));
    long deep = 0, exhausted = 0, rows = 0, deep_filled = 0;

    ck_assert_ptr_nonnull(sc);
    g_seed = test_seed();
    trng_init(&r, "cascade.random");
    for (g_case = 0; g_case < 6000; g_case++) {
        book_t *b;
        pindex_t *ix;
        double shocks[8];
        size_t ns = 1 + (size_t)trng_below(&r, 8);

        gen_scen(&r, sc);
        scen_build(sc, &b, &ix);
        for (size_t k = 0; k < ns; k++) {
            shocks[k] = gen_shock(&r, sc->ref);
            if (shocks[k] >= 1)
                shocks[k] = 0.5;
            for (int d = 0; d < 2; d++) {
                struct xrow x;
                check_one(b, ix, sc, (enum cascade_dir)d, shocks[k], &tr);
                brute(sc, (enum cascade_dir)d, shocks[k], &x);
                deep += x.row.rounds >= 3;
                deep_filled += x.row.rounds >= 3 && !x.row.exhausted;
                exhausted += x.row.exhausted != 0;
                rows++;
            }
        }
        /* the ladder is the same rows, sides outer, shocks inner */
        if (g_case % 5 == 0) {
            enum cascade_dir sides[2] = {CASCADE_DOWN, CASCADE_UP};
            struct cascade_row lrows[16];
            size_t nsides = 1 + (size_t)trng_below(&r, 2);
            if (nsides == 1 && trng_below(&r, 2))
                sides[0] = CASCADE_UP;
            int rc = cascade_ladder(b, ix, sc->ref, sides, nsides, shocks, ns, lrows);
            TCHECK(rc == CASCADE_OK, "seed %" PRIu64 " case %ld: cascade_ladder = %d",
                   g_seed, g_case, rc);
            for (size_t si = 0; si < nsides; si++)
                for (size_t k = 0; k < ns; k++) {
                    struct xrow x;
                    brute(sc, sides[si], shocks[k], &x);
                    cmp_row("cascade_ladder", &lrows[si * ns + k], &x.row);
                }
        }
        book_destroy(b);
        pindex_destroy(ix);
    }
    cascade_trace_fini(&tr);
    free(sc);
    /* the generator must really produce the hard cases */
    ck_assert_msg(deep > rows / 50, "only %ld of %ld rows had >= 3 rounds", deep, rows);
    ck_assert_msg(exhausted > rows / 50, "only %ld of %ld rows exhausted", exhausted, rows);
    ck_assert_msg(deep_filled > rows / 100, "only %ld of %ld rows had >= 3 rounds "
                  "within the depth", deep_filled, rows);
}
END_TEST

/* ---- arguments ---------------------------------------------------------- */

START_TEST(bad_arguments)
{
    struct scen sc;
    book_t *b;
    pindex_t *ix;
    struct cascade_row g;
    struct cascade_row rows[4];
    enum cascade_dir sides[2] = {CASCADE_DOWN, CASCADE_UP};

    g_seed = test_seed();
    example_scen(&sc, 0);
    scen_build(&sc, &b, &ix);
    static const double bad_ref[] = {0, -0.0, -1, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof(bad_ref) / sizeof(bad_ref[0]); i++)
        for (int d = 0; d < 2; d++)
            ck_assert_msg(cascade_run(b, ix, bad_ref[i], (enum cascade_dir)d, 0.01,
                                      &g, NULL) == CASCADE_EINVAL,
                          "ref %g accepted", bad_ref[i]);
    static const double bad_s[] = {-0.01, -1e-300, 1, 1.5, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof(bad_s) / sizeof(bad_s[0]); i++)
        for (int d = 0; d < 2; d++)
            ck_assert_msg(cascade_run(b, ix, 100, (enum cascade_dir)d, bad_s[i], &g,
                                      NULL) == CASCADE_EINVAL,
                          "shock %g accepted", bad_s[i]);
    /* the largest shock below 1 is fine */
    ck_assert_int_eq(cascade_run(b, ix, 100, CASCADE_DOWN, nextafter(1, 0), &g, NULL),
                     CASCADE_OK);
    double shocks[2] = {0.01, 1.0};
    ck_assert_int_ne(cascade_ladder(b, ix, 100, sides, 2, shocks, 2, rows), CASCADE_OK);
    ck_assert_int_ne(cascade_ladder(b, ix, NAN, sides, 2, shocks, 1, rows), CASCADE_OK);
    ck_assert_str_eq(cascade_dir_name(CASCADE_DOWN), "down");
    ck_assert_str_eq(cascade_dir_name(CASCADE_UP), "up");
    book_destroy(b);
    pindex_destroy(ix);
}
END_TEST

/* A shock so small that p0 == ref: amplification is null (0/0). */
START_TEST(tiny_shock)
{
    struct scen sc;
    book_t *b;
    pindex_t *ix;
    struct cascade_row g;

    g_seed = test_seed();
    example_scen(&sc, 0);
    scen_build(&sc, &b, &ix);
    ck_assert_int_eq(cascade_run(b, ix, 100, CASCADE_DOWN, 1e-20, &g, NULL), CASCADE_OK);
    ck_assert(g.start_price == 100);
    ck_assert_int_eq(g.has_amplification, 0);
    ck_assert_uint_eq(g.rounds, 0);
    book_destroy(b);
    pindex_destroy(ix);
}
END_TEST

Suite *cascade_suite(void)
{
    Suite *s = suite_create("cascade");
    TCase *tc = tcase_create("contract");

    tcase_add_test(tc, worked_example_down);
    tcase_add_test(tc, worked_example_up);
    tcase_add_test(tc, worked_example_exhausted);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, tiny_shock);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, random_scenarios);
    suite_add_tcase(s, tc);
    return s;
}
