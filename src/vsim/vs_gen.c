/*
 * vs_gen.c - --generate: a synthetic market for every venue.
 *
 * One seeded random walk per symbol (log returns, 10 steps a second) with
 * an optional scripted crash: from --crash-at for --crash-secs the walk
 * gets a drift that takes crash-pct percent off the price.  Each venue's
 * mark is the walk times a small fixed venue offset; each venue's book is
 * its own seeded process around that mark (levels recentred each step, a
 * few sizes changed), sent as that venue's deltas 10 times a second;
 * marks go out once a second.  Generated positions (entry near the start
 * price, leverage 3-100x, one venue each) are liquidated when their
 * venue's mark crosses their liquidation price; the prints go out at the
 * venue's push period (Bybit every 500 ms, all of them; Binance and OKX
 * the latest per second; Hyperliquid as trades).
 *
 * Determinism: the sequence of books, numbers and prints depends only on
 * the seed and the step count, never on the wall clock or on clients;
 * only the timestamps inside frames are wall-clock.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsim.h"

#define STEP_MS 100
#define NPOS_PER_SYM 800

struct pos {
    int sym;
    enum venue_id venue;
    int is_long;
    double entry, liq, lev;
    int64_t qty;            /* venue lots */
    int done;
};

struct gen {
    uv_timer_t timer;
    struct rng rng;                           /* the walk */
    struct rng brng[VENUE_COUNT][VS_MAX_SYMS];/* books, per instrument */
    uint64_t step;
    double logp[VS_MAX_SYMS];
    double spacing[VENUE_COUNT][VS_MAX_SYMS];
    struct pos *pos;
    int npos;
    struct vs_level *old_b, *old_a;
    struct vs_change *ch;
    size_t chcap;
    int closed;
};

static const double venue_off[VENUE_COUNT] = { 0.0, 0.00012, -0.00009, 0.00021 };

static double tick_of(const struct vs_instr *in)
{
    return (double)in->tick_mant / pow(10, in->tick_dec);
}

static double lot_of(const struct vs_instr *in)
{
    return (double)in->lot_mant / pow(10, in->lot_dec);
}

static int64_t rand_qty(struct rng *r, const struct vs_instr *in, double price)
{
    double usd = 15000.0 * exp(rng_norm(r) * 0.9);
    double units = usd / price / in->ctval;
    int64_t lots = llround(units / lot_of(in));
    return lots < 1 ? 1 : lots;
}

static void ins_at(struct vs_level *l, int *n, int cap, int i,
                   struct vs_level v)
{
    int m = *n < cap ? *n : cap - 1;
    if (i > m)
        return;
    memmove(&l[i + 1], &l[i], (size_t)(m - i) * sizeof(*l));
    l[i] = v;
    if (*n < cap)
        (*n)++;
}

static void del_at(struct vs_level *l, int *n, int i)
{
    memmove(&l[i], &l[i + 1], (size_t)(*n - i - 1) * sizeof(*l));
    (*n)--;
}

/* Recentre one side on mid m (in ticks).  dir = -1 bids, +1 asks. */
static void side_step(struct rng *r, struct vs_instr *in, struct vs_level *l,
                      int *n, int dir, int64_t m, int64_t s, double price)
{
    int64_t top = m + dir;                   /* best allowed level */
    /* remove levels that would touch or cross the mid */
    while (*n > 0 && (dir < 0 ? l[0].px >= m : l[0].px <= m))
        del_at(l, n, 0);
    /* bring the top within s of the mid */
    while (*n == 0 || (dir < 0 ? l[0].px < top - s : l[0].px > top + s)) {
        int64_t px = *n == 0 ? top
                   : l[0].px - dir * rng_range(r, 1, s);
        if (dir < 0 ? px > top : px < top)
            px = top;
        struct vs_level v = { px, rand_qty(r, in, price) };
        ins_at(l, n, in->nlev, 0, v);
        if (px == top)
            break;
    }
    /* Fill the tail, spacing growing with depth as in real books (dense
     * at the top, sparse far out): 100 levels reach about 3% from the
     * mid, so the cascade ladder's shocks meet real depth. */
    while (*n < in->nlev) {
        int64_t step = 2 * s * (1 + *n / 4);
        struct vs_level v = { l[*n - 1].px + dir * rng_range(r, 1, step),
                              rand_qty(r, in, price) };
        if (v.px <= 0)
            break;
        l[(*n)++] = v;
    }
}

static int push_change(struct gen *g, size_t *n, int side, int64_t px,
                       int64_t qty)
{
    if (*n == g->chcap) {
        size_t cap = g->chcap ? g->chcap * 2 : 256;
        struct vs_change *c = realloc(g->ch, cap * sizeof(*c));
        if (!c)
            return -1;
        g->ch = c;
        g->chcap = cap;
    }
    g->ch[*n].side = side;
    g->ch[*n].px = px;
    g->ch[*n].qty = qty;
    (*n)++;
    return 0;
}

/* Changes from old to new, one side; better(a, b): a is nearer the mid. */
static void diff_side(struct gen *g, size_t *nch, int side,
                      const struct vs_level *o, int no,
                      const struct vs_level *nw, int nn)
{
    int i = 0, j = 0;
    while (i < no || j < nn) {
        int cmp;
        if (i == no)
            cmp = 1;
        else if (j == nn)
            cmp = -1;
        else if (o[i].px == nw[j].px)
            cmp = 0;
        else
            cmp = (side == 0 ? o[i].px > nw[j].px : o[i].px < nw[j].px) ? -1 : 1;
        if (cmp == 0) {
            if (o[i].qty != nw[j].qty)
                push_change(g, nch, side, nw[j].px, nw[j].qty);
            i++;
            j++;
        } else if (cmp < 0) {
            push_change(g, nch, side, o[i].px, 0);   /* removed */
            i++;
        } else {
            push_change(g, nch, side, nw[j].px, nw[j].qty);
            j++;
        }
    }
}

static void book_step(struct gen *g, struct vs_instr *in, double price,
                      int64_t ts)
{
    struct rng *r = &g->brng[in->venue][in->sym];
    double tick = tick_of(in);
    int64_t m = llround(price / tick);
    int64_t s = (int64_t)g->spacing[in->venue][in->sym];

    memcpy(g->old_b, in->bids, (size_t)in->nb * sizeof(*in->bids));
    memcpy(g->old_a, in->asks, (size_t)in->na * sizeof(*in->asks));
    int ob = in->nb, oa = in->na;

    side_step(r, in, in->bids, &in->nb, -1, m, s, price);
    side_step(r, in, in->asks, &in->na, +1, m, s, price);
    int k = (int)rng_range(r, 1, 4);
    for (int i = 0; i < k; i++) {
        int ask = (int)(rng_next(r) & 1);
        int n = ask ? in->na : in->nb;
        if (n == 0)
            continue;
        /* nearer levels change more often */
        int at = (int)(n * rng_unif(r) * rng_unif(r));
        struct vs_level *l = ask ? &in->asks[at] : &in->bids[at];
        l->qty = rand_qty(r, in, price);
    }

    size_t nch = 0;
    diff_side(g, &nch, 0, g->old_b, ob, in->bids, in->nb);
    diff_side(g, &nch, 1, g->old_a, oa, in->asks, in->na);
    if (nch == 0 && in->venue != VENUE_HYPERLIQUID)
        return;

    uint64_t prev = in->u, first = in->u + 1;
    switch (in->venue) {
    case VENUE_BINANCE:
        in->u = first + (uint64_t)rng_range(r, 0, 5);
        break;
    case VENUE_BYBIT:
        in->u += 1;
        in->seq += (uint64_t)rng_range(r, 1, 5);
        break;
    case VENUE_OKX:
        in->u += (uint64_t)rng_range(r, 1, 10);
        break;
    default:
        break;
    }
    in->updates++;
    if (in->skip_next && in->venue != VENUE_HYPERLIQUID) {
        in->skip_next = 0;      /* lost on the way: applied, never sent */
        return;
    }
    vs_pub_book(in, g->ch, nch, ts, first, prev);
}

static double crash_drift(const struct vs_options *o)
{
    if (o->crash_secs <= 0 || o->crash_pct <= 0 || o->crash_pct >= 100)
        return 0;
    return log(1.0 - o->crash_pct / 100.0) / (o->crash_secs * 1000.0 / STEP_MS);
}

static void check_liquidations(struct gen *g, struct vs_server *s, int64_t ts)
{
    for (int i = 0; i < g->npos; i++) {
        struct pos *p = &g->pos[i];
        if (p->done)
            continue;
        struct vs_instr *in = &s->instr[p->venue][p->sym];
        if (in->mark <= 0)
            continue;
        if (p->is_long ? in->mark > p->liq : in->mark < p->liq)
            continue;
        p->done = 1;
        double bk = p->is_long ? p->entry * (1 - 1 / p->lev)
                               : p->entry * (1 + 1 / p->lev);
        int64_t bk_ticks = llround(bk / tick_of(in));
        vs_liq_add(in, p->is_long, bk_ticks, p->qty, in->mark, ts);
        in->oi_base -= (double)p->qty * lot_of(in) * in->ctval;
        if (in->oi_base < 0)
            in->oi_base = 0;
    }
}

static void on_step(uv_timer_t *t)
{
    struct vs_server *s = t->data;
    struct gen *g = s->gen;
    const struct vs_options *o = &s->opt;
    double secs = (double)g->step * STEP_MS / 1000.0;
    int64_t ts = vs_now_ms();

    if (o->duration_s > 0 && secs >= o->duration_s) {
        uv_timer_stop(&g->timer);
        s->source_done = 1;
        return;
    }
    /* Frozen (tests): no step, so books, marks and sequence numbers stay
     * put while what was already queued drains to the clients. */
    if (s->frozen)
        return;
    double sigma = 0.0001 * sqrt(STEP_MS / 1000.0);
    double drift = (o->crash_at >= 0 && secs >= o->crash_at &&
                    secs < o->crash_at + o->crash_secs) ? crash_drift(o) : 0;
    for (int i = 0; i < s->nsyms; i++)
        g->logp[i] += drift + sigma * rng_norm(&g->rng);

    for (int v = 0; v < VENUE_COUNT; v++)
        for (int i = 0; i < s->nsyms; i++) {
            struct vs_instr *in = &s->instr[v][i];
            double p = exp(g->logp[i]);
            in->index = p;
            in->mark = p * (1 + venue_off[v]);
            for (int k = 0; k < o->book_per_step; k++)     /* --book-rate */
                book_step(g, in, in->mark, ts);
        }
    check_liquidations(g, s, ts);

    g->step++;
    for (int i = 0; i < s->nsyms; i++) {
        struct vs_instr *hl = &s->instr[VENUE_HYPERLIQUID][i];
        if (rng_unif(&g->rng) < 0.3 && hl->nb && hl->na) {
            int buy = (int)(rng_next(&g->rng) & 1);
            vs_pub_trade(hl, buy, buy ? hl->asks[0].px : hl->bids[0].px,
                         1 + (int64_t)rng_range(&g->rng, 0, 50000), 0, ts);
        }
        if (g->step % 5 == 0)
            vs_pub_liq_flush(&s->instr[VENUE_BYBIT][i], ts);
        if (g->step % 10 == 0) {
            vs_pub_liq_flush(&s->instr[VENUE_BINANCE][i], ts);
            vs_pub_liq_flush(&s->instr[VENUE_OKX][i], ts);
            for (int v = 0; v < VENUE_COUNT; v++)
                vs_pub_mark(&s->instr[v][i], ts);
        }
    }
    if (g->step % 10 == 0)
        vs_pub_adl(s, secs, ts);
}

int vs_gen_start(struct vs_server *s)
{
    struct gen *g = calloc(1, sizeof(*g));
    if (!g)
        return -1;
    s->gen = g;
    rng_seed(&g->rng, s->opt.seed);
    int maxlev = 0;
    for (int v = 0; v < VENUE_COUNT; v++)
        for (int i = 0; i < s->nsyms; i++) {
            struct vs_instr *in = &s->instr[v][i];
            /* 16: the streams of VS_MAX_SYMS 16 kept (same books for a
             * seed as before); symbols past 16 (make load) get their own */
            rng_seed(&g->brng[v][i], s->opt.seed * 1000003ULL +
                     (uint64_t)(i < 16 ? v * 16 + i + 1
                                       : 1000 + v * VS_MAX_SYMS + i));
            if (in->nlev > maxlev)
                maxlev = in->nlev;
            double p = s->syms[i].price0 * (1 + venue_off[v]);
            double sp = p * 0.00002 / tick_of(in);
            g->spacing[v][i] = sp < 1 ? 1 : floor(sp);
            in->mark = p;
            in->index = s->syms[i].price0;
            struct rng *r = &g->brng[v][i];
            switch (v) {
            case VENUE_BINANCE:
                in->u = 7000000000ULL + (uint64_t)rng_range(r, 0, 999999);
                break;
            case VENUE_BYBIT:
                in->u = 18000000ULL + (uint64_t)rng_range(r, 0, 999999);
                in->seq = 7961638724ULL + (uint64_t)rng_range(r, 0, 999999);
                break;
            case VENUE_OKX:
                in->u = 123000000ULL + (uint64_t)rng_range(r, 0, 999999);
                break;
            default:
                break;
            }
        }
    g->old_b = calloc((size_t)maxlev, sizeof(struct vs_level));
    g->old_a = calloc((size_t)maxlev, sizeof(struct vs_level));
    g->npos = NPOS_PER_SYM * s->nsyms;
    g->pos = calloc((size_t)g->npos, sizeof(*g->pos));
    if (!g->old_b || !g->old_a || !g->pos)
        return -1;
    for (int i = 0; i < s->nsyms; i++)
        g->logp[i] = log(s->syms[i].price0);

    /* the initial books, without pushes (nobody is connected yet) */
    for (int v = 0; v < VENUE_COUNT; v++)
        for (int i = 0; i < s->nsyms; i++) {
            struct vs_instr *in = &s->instr[v][i];
            struct rng *r = &g->brng[v][i];
            int64_t m = llround(in->mark / tick_of(in));
            int64_t sp = (int64_t)g->spacing[v][i];
            side_step(r, in, in->bids, &in->nb, -1, m, sp, in->mark);
            side_step(r, in, in->asks, &in->na, +1, m, sp, in->mark);
        }

    static const double levs[] = { 3, 5, 10, 20, 25, 50, 75, 100 };
    for (int k = 0; k < g->npos; k++) {
        struct pos *p = &g->pos[k];
        p->sym = k / NPOS_PER_SYM;
        p->venue = (enum venue_id)(k % VENUE_COUNT);
        struct vs_instr *in = &s->instr[p->venue][p->sym];
        double p0 = in->mark;
        p->is_long = (int)(rng_next(&g->rng) & 1);
        p->lev = levs[rng_range(&g->rng, 0, 7)];
        p->entry = p0 * exp(rng_norm(&g->rng) * 0.01);
        double mmr = 0.005;
        p->liq = p->is_long ? p->entry * (1 - 1 / p->lev + mmr)
                            : p->entry * (1 + 1 / p->lev - mmr);
        if (p->is_long ? p->liq >= p0 : p->liq <= p0) {
            p->entry = p0;
            p->liq = p->is_long ? p0 * (1 - 1 / p->lev + mmr)
                                : p0 * (1 + 1 / p->lev - mmr);
        }
        double usd = 20000.0 * exp(rng_norm(&g->rng) * 1.2);
        int64_t lots = llround(usd / p->entry / in->ctval / lot_of(in));
        p->qty = lots < 1 ? 1 : lots;
        in->oi_base += (double)p->qty * lot_of(in) * in->ctval;
    }

    uv_timer_init(s->loop, &g->timer);
    g->timer.data = s;
    uv_timer_start(&g->timer, on_step, STEP_MS, STEP_MS);
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    struct gen *g = h->data;
    free(g->pos);
    free(g->old_b);
    free(g->old_a);
    free(g->ch);
    free(g);
}

void vs_gen_stop(struct vs_server *s)
{
    struct gen *g = s->gen;
    if (!g)
        return;
    s->gen = NULL;
    g->timer.data = g;
    if (!uv_is_closing((uv_handle_t *)&g->timer) && g->timer.loop) {
        uv_timer_stop(&g->timer);
        g->timer.data = g;
        uv_close((uv_handle_t *)&g->timer, on_closed);
    } else {
        on_closed((uv_handle_t *)&g->timer);
    }
}
