/*
 * engine.c - per-instrument positions and ladders, re-simulated on every
 * tick (see engine.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liqmon/engine.h"

struct eng_instr {
    struct mkt_instr *in;          /* borrowed from the market */
    pindex_t *ix;                  /* owned */
    struct engine_ladder ladder;
    /* Inputs of the last run, to skip ticks that change nothing. */
    double last_ref;
    uint64_t last_book_updates;
    uint64_t last_pos_version;
    int has_run;
    /* Positions marked liquidated by the latest event (engine_liquidated). */
    uint32_t *liq;
    size_t nliq, capliq;
    /* The reference price and positions of the last marking: at the same
     * price with the same positions nothing new can have d <= 0 (marked
     * positions leave the trees), so the index is not visited again. */
    double liq_ref;
    uint64_t liq_spec;
};

struct engine {
    market_t *mkt;
    struct engine_config cfg;
    struct eng_instr *ei;          /* one per market instrument, by idx */
    size_t n;
    struct engine_stats st;
    engine_listener_fn listener;
    void *listener_arg;
    int measure;
    struct lathist lat;
};

void engine_config_default(struct engine_config *cfg)
{
    static const double shocks[] = {
        0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.10, 0.15
    };

    memset(cfg, 0, sizeof(*cfg));
    cfg->nshocks = sizeof(shocks) / sizeof(shocks[0]);
    memcpy(cfg->shocks, shocks, sizeof(shocks));
    cfg->sides[0] = CASCADE_DOWN;
    cfg->sides[1] = CASCADE_UP;
    cfg->nsides = 2;
}

static int config_check(const struct engine_config *cfg, lq_err_t *err)
{
    if (cfg->nshocks == 0 || cfg->nshocks > ENGINE_MAX_SHOCKS ||
        cfg->nsides == 0 || cfg->nsides > 2)
        return lq_err_set(err, "engine: 1..%d shocks and 1..2 sides", ENGINE_MAX_SHOCKS);
    for (size_t i = 0; i < cfg->nshocks; i++)
        if (!(cfg->shocks[i] >= 0 && cfg->shocks[i] < 1))
            return lq_err_set(err, "shocks[%zu]: must be >= 0 and < 1", i);
    return 0;
}

engine_t *engine_create(market_t *mkt, const struct engine_config *cfg,
                        lq_err_t *err)
{
    engine_t *e = calloc(1, sizeof(*e));

    if (e == NULL)
        goto nomem;
    if (config_check(cfg, err) != 0)
        goto fail;
    e->mkt = mkt;
    e->cfg = *cfg;
    e->n = market_count(mkt);
    e->ei = calloc(e->n ? e->n : 1, sizeof(*e->ei));
    if (e->ei == NULL)
        goto nomem;
    for (size_t i = 0; i < e->n; i++) {
        struct eng_instr *ei = &e->ei[i];
        ei->in = market_at(mkt, i);
        ei->ix = pindex_create(&ei->in->spec.tiers);
        if (ei->ix == NULL)
            goto nomem;
        ei->ladder.nrows = cfg->nsides * cfg->nshocks;
        ei->ladder.why_invalid = "no tick yet";
    }
    return e;
nomem:
    lq_err_set(err, "out of memory");
fail:
    engine_destroy(e);
    return NULL;
}

int engine_set_config(engine_t *e, const struct engine_config *cfg, lq_err_t *err)
{
    if (config_check(cfg, err) != 0)
        return -1;
    e->cfg = *cfg;
    for (size_t i = 0; i < e->n; i++) {
        e->ei[i].ladder.nrows = cfg->nsides * cfg->nshocks;
        e->ei[i].has_run = 0;             /* the next tick runs in full */
    }
    return 0;
}

int engine_sync(engine_t *e, lq_err_t *err)
{
    size_t n = market_count(e->mkt);
    struct eng_instr *nei;

    if (n <= e->n)
        return 0;
    nei = realloc(e->ei, n * sizeof(*nei));
    if (nei == NULL)
        return lq_err_set(err, "out of memory");
    e->ei = nei;
    for (size_t i = e->n; i < n; i++) {
        struct eng_instr *ei = &e->ei[i];
        memset(ei, 0, sizeof(*ei));
        ei->in = market_at(e->mkt, i);
        ei->ix = pindex_create(&ei->in->spec.tiers);
        if (ei->ix == NULL) {
            e->n = i;
            return lq_err_set(err, "out of memory");
        }
        ei->ladder.nrows = e->cfg.nsides * e->cfg.nshocks;
        ei->ladder.why_invalid = "no tick yet";
    }
    e->n = n;
    return 0;
}

int engine_swap_positions(engine_t *e, engine_t *other)
{
    if (other->mkt != e->mkt || other->n != e->n)
        return -1;
    for (size_t i = 0; i < e->n; i++) {
        pindex_t *ix = e->ei[i].ix;
        e->ei[i].ix = other->ei[i].ix;
        other->ei[i].ix = ix;
        e->ei[i].has_run = 0;
        e->ei[i].nliq = 0;
        e->ei[i].liq_ref = 0;            /* another index: mark afresh */
    }
    return 0;
}

void engine_destroy(engine_t *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; e->ei && i < e->n; i++) {
        pindex_destroy(e->ei[i].ix);
        free(e->ei[i].liq);
    }
    free(e->ei);
    free(e);
}

static struct eng_instr *find(const engine_t *e, const struct mkt_instr *in)
{
    /* a retired instrument (reload) has no ladder and takes no event */
    if (in == NULL || in->idx >= e->n || e->ei[in->idx].in != in || in->retired)
        return NULL;
    return &e->ei[in->idx];
}

pindex_t *engine_pindex(engine_t *e, const struct mkt_instr *in)
{
    struct eng_instr *ei = find(e, in);
    return ei ? ei->ix : NULL;
}

const struct engine_ladder *engine_ladder(const engine_t *e,
                                          const struct mkt_instr *in)
{
    struct eng_instr *ei = find(e, in);
    return ei ? &ei->ladder : NULL;
}

const struct engine_stats *engine_get_stats(const engine_t *e)
{
    return &e->st;
}

void engine_set_listener(engine_t *e, engine_listener_fn fn, void *arg)
{
    e->listener = fn;
    e->listener_arg = arg;
}

static void notify(engine_t *e, struct eng_instr *ei,
                   const struct mkt_event *cause)
{
    if (e->listener)
        e->listener(e->listener_arg, ei->in, &ei->ladder, cause);
}

static void set_invalid(engine_t *e, struct eng_instr *ei, const char *why,
                        const struct mkt_event *cause)
{
    int was = ei->ladder.valid;

    e->st.invalid++;
    ei->ladder.valid = 0;
    ei->ladder.why_invalid = why;
    ei->has_run = 0;               /* the next valid tick runs in full */
    if (was)
        notify(e, ei, cause);
}

/* cascade-model.md: the latest mark; the book mid where there is none. */
static double ref_of(const struct mkt_instr *in, int *is_mark)
{
    struct book_level bid, ask;

    if (is_mark)
        *is_mark = 1;
    if (in->mark > 0)
        return in->mark;
    if (is_mark)
        *is_mark = 0;
    if (!in->book_valid || book_best(in->book, BOOK_BID, &bid) != 0 ||
        book_best(in->book, BOOK_ASK, &ask) != 0)
        return 0;
    return (bid.price + ask.price) / 2;
}

double engine_ref(const engine_t *e, const struct mkt_instr *in, int *is_mark)
{
    return find(e, in) ? ref_of(in, is_mark) : 0;
}

const uint32_t *engine_liquidated(const engine_t *e, const struct mkt_instr *in,
                                  size_t *n)
{
    struct eng_instr *ei = find(e, in);

    *n = ei ? ei->nliq : 0;
    return ei ? ei->liq : NULL;
}

static int collect_liq(const struct pos_view *v, void *arg)
{
    struct eng_instr *ei = arg;

    if (ei->nliq == ei->capliq) {
        size_t cap = ei->capliq ? 2 * ei->capliq : 16;
        uint32_t *p = realloc(ei->liq, cap * sizeof(*p));
        if (p == NULL)
            return 1;
        ei->liq = p;
        ei->capliq = cap;
    }
    ei->liq[ei->nliq++] = v->handle;
    return 0;
}

/* Positions whose d <= 0 at ref: longs with LP >= ref, shorts with LP <=
 * ref.  Exactly the contract's d <= 0, because for finite ref > 0 the
 * sign of (ref - LP) / ref is the sign of ref - LP (IEEE subtraction is
 * exact in sign and zero only when equal).  They are collected first and
 * marked after, since marking changes the trees being visited. */
static void mark_liquidated(engine_t *e, struct eng_instr *ei)
{
    double ref = ref_of(ei->in, NULL);

    ei->nliq = 0;
    if (!(ref > 0) ||
        (ref == ei->liq_ref && pindex_spec_version(ei->ix) == ei->liq_spec))
        return;
    ei->liq_ref = ref;
    ei->liq_spec = pindex_spec_version(ei->ix);
    for (int side = 0; side < 2; side++) {
        size_t from = ei->nliq;
        pindex_foreach_reached(ei->ix, (enum pos_side)side, ref, collect_liq, ei);
        for (size_t i = from; i < ei->nliq; i++)
            pindex_set_liquidated(ei->ix, ei->liq[i]);
    }
    e->st.liquidated += ei->nliq;
}

/*
 * Rows a book delta cannot have changed.
 *
 * A row reads the book only through its ladder, the levels at p0 or
 * worse (cascade-model.md), and p0 follows from the reference price.  So
 * when the reference price and the positions are those of the last run,
 * and the one book change since is `cause`, a delta whose levels on the
 * row's side all lie strictly better than p0 leaves the row as it was:
 * rounds, quantities and prices exactly (exact decimals; the levels
 * better than p0 enter the fill only as an offset that cancels).  Only
 * the VWAP's double sum may come out in another order from a recompute,
 * as the tree under it was rebalanced (within 1e-12 relative; the
 * contract allows 1e-9).  With the mark as reference, between two marks
 * most deltas touch the top of the book and only the rows of the
 * smallest shocks are run again.
 *
 * "The one change since" is proved by the book's update counter, which
 * every applied snapshot and delta advances (market.c): one step, and the
 * cause a delta of this instrument, and the last ladder valid (an
 * invalid book may have been cleared in between).  Anything else runs
 * the whole ladder.
 */
static int reusable(const struct eng_instr *ei, double ref, const struct mkt_event *cause)
{
    return ei->has_run && ei->ladder.valid && cause != NULL &&
           cause->type == MEV_BOOK_DELTA && cause->instr == ei->in &&
           ref == ei->last_ref && ei->in->book_updates == ei->last_book_updates + 1 &&
           pindex_version(ei->ix) == ei->last_pos_version;
}

static int ladder_update(engine_t *e, struct eng_instr *ei, double ref,
                         const struct mkt_event *cause)
{
    const struct mev_level_span *span[2] = { &cause->u.book.bids, &cause->u.book.asks };
    double deepest[2] = { INFINITY, -INFINITY };   /* lowest bid, highest ask */

    for (size_t k = 0; k < span[0]->n; k++)
        deepest[0] = fmin(deepest[0], span[0]->levels[k].price);
    for (size_t k = 0; k < span[1]->n; k++)
        deepest[1] = fmax(deepest[1], span[1]->levels[k].price);
    for (size_t i = 0; i < e->cfg.nsides; i++) {
        enum cascade_dir d = e->cfg.sides[i];
        for (size_t j = 0; j < e->cfg.nshocks; j++) {
            struct cascade_row *r = &ei->ladder.rows[i * e->cfg.nshocks + j];
            double p0 = r->start_price;
            if (d == CASCADE_DOWN ? deepest[0] > p0 : deepest[1] < p0) {
                e->st.rows_reused++;
                continue;
            }
            int rc = cascade_run(ei->in->book, ei->ix, ref, d, e->cfg.shocks[j], r, NULL);
            if (rc != CASCADE_OK)
                return rc;
        }
    }
    return CASCADE_OK;
}

static void run(engine_t *e, struct eng_instr *ei, int64_t ts,
                const struct mkt_event *cause)
{
    struct mkt_instr *in = ei->in;
    double ref;
    int is_mark;

    if (!in->book_valid) {
        set_invalid(e, ei, "book not valid", cause);
        return;
    }
    ref = ref_of(in, &is_mark);
    if (!(ref > 0)) {
        set_invalid(e, ei, "no mark price and no book mid", cause);
        return;
    }
    if (ei->has_run && ref == ei->last_ref &&
        in->book_updates == ei->last_book_updates &&
        pindex_version(ei->ix) == ei->last_pos_version) {
        e->st.skipped++;
        return;
    }
    if ((reusable(ei, ref, cause) ? ladder_update(e, ei, ref, cause)
                                  : cascade_ladder(in->book, ei->ix, ref, e->cfg.sides,
                                                   e->cfg.nsides, e->cfg.shocks,
                                                   e->cfg.nshocks, ei->ladder.rows)) != CASCADE_OK) {
        set_invalid(e, ei, "reference price out of range", cause);
        return;
    }
    ei->ladder.valid = 1;
    ei->ladder.why_invalid = NULL;
    ei->ladder.ref = ref;
    ei->ladder.ref_is_mark = is_mark;
    ei->ladder.ts = ts;
    ei->ladder.runs++;
    ei->last_ref = ref;
    ei->last_book_updates = in->book_updates;
    ei->last_pos_version = pindex_version(ei->ix);
    ei->has_run = 1;
    e->st.ladders++;
    if (e->measure && cause && cause->recv_ts > 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t d = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - cause->recv_ts;
        lathist_add(&e->lat, d > 0 ? (uint64_t)d : 0);
    }
    notify(e, ei, cause);
}

void engine_measure_latency(engine_t *e, int on)
{
    e->measure = on;
}

const struct lathist *engine_latency(const engine_t *e)
{
    return &e->lat;
}

void engine_tick(engine_t *e, struct mkt_instr *in, int64_t ts)
{
    struct eng_instr *ei = find(e, in);

    if (ei)
        run(e, ei, ts, NULL);
}

void engine_on_event(engine_t *e, const struct mkt_event *ev)
{
    struct eng_instr *ei = find(e, ev->instr);

    e->st.events++;
    if (ev->recv_ts) {
        if (e->st.first_ts == 0)
            e->st.first_ts = ev->recv_ts;
        e->st.last_ts = ev->recv_ts;
    }
    if (ei == NULL)
        return;
    /* alert-rules.md: apply (the adapter did), mark the positions the
     * venue has closed, then run the ladder without them. */
    mark_liquidated(e, ei);
    switch (ev->type) {
    case MEV_MARK:
    case MEV_BOOK_SNAPSHOT:
    case MEV_BOOK_DELTA:
        run(e, ei, ev->recv_ts, ev);
        break;
    case MEV_FEED:
        if (ev->u.feed.kind == FEED_BOOK_INVALID)
            set_invalid(e, ei, "book not valid", ev);
        else if (ev->u.feed.kind == FEED_BOOK_VALID)
            run(e, ei, ev->recv_ts, ev);
        break;
    default:
        break;
    }
}

struct load_ctx {
    engine_t *e;
    const char *path;
    posfile_error_fn on_error;
    void *arg;
    size_t unknown;
};

static int load_row(const struct posfile_row *row, void *arg)
{
    struct load_ctx *c = arg;
    int v = venue_from_name(row->venue);
    struct mkt_instr *in = v >= 0 ? market_find(c->e->mkt, (enum venue_id)v,
                                                row->symbol) : NULL;
    struct eng_instr *ei = find(c->e, in);
    lq_err_t err;
    char msg[700];

    if (ei == NULL) {
        snprintf(msg, sizeof(msg), "%s:%zu: venue, symbol: %s:%s is not a "
                 "watched instrument", c->path, row->line, row->venue, row->symbol);
        c->unknown++;
        if (c->on_error)
            c->on_error(msg, c->arg);
        return 0;
    }
    if (pindex_insert(ei->ix, &row->spec, NULL, &err) != PINDEX_OK) {
        snprintf(msg, sizeof(msg), "%s:%zu: %s", c->path, row->line, err.msg);
        c->unknown++;
        if (c->on_error)
            c->on_error(msg, c->arg);
    }
    return 0;
}

static void load_error(const char *msg, void *arg)
{
    struct load_ctx *c = arg;

    if (c->on_error)
        c->on_error(msg, c->arg);
}

int engine_load_positions(engine_t *e, const char *path,
                          posfile_error_fn on_error, void *arg,
                          struct posfile_stats *stats, lq_err_t *err)
{
    struct load_ctx c = { e, path, on_error, arg, 0 };
    struct posfile_stats st;
    int rc;

    memset(&st, 0, sizeof(st));
    rc = posfile_load(path, load_row, load_error, &c, &st, err);
    /* Rows the indexes refused count as rejected, not loaded. */
    st.loaded -= c.unknown;
    st.rejected += c.unknown;
    if (stats)
        *stats = st;
    return rc;
}
