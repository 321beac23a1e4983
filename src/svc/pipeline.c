/*
 * pipeline.c - the daemon's fan-out: events to engine, alerts, sinks and
 * listeners (see pipeline.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liqmon/log.h"
#include "liqmon/mapmodel.h"
#include "liqmon/pipeline.h"
#include "liqmon/version.h"

#define NS 1000000000LL
#define MAX_LISTENERS 8

/* Depth bands of a snapshot, as fractions of ref (store.h). */
static const double bands[4] = { 0.005, 0.01, 0.02, 0.05 };

struct pipeline {
    market_t *mkt;
    engine_t *eng;
    alerts_t *alerts;
    alertlog_t *log;
    store_t *store;
    venue_t *venues[VENUE_COUNT];
    uint64_t rejected_seen[VENUE_COUNT];   /* reject counters already stored */
    /* the adapter those counters are of (kept by pipeline_detach_venues, so
     * the same adapter set again is not counted twice) */
    const venue_t *known[VENUE_COUNT];
    int64_t snapshot_interval;
    int64_t *next_snapshot;                /* per instrument (by idx); 0: none yet */
    size_t ninstr;                         /* entries of next_snapshot */
    int64_t clock;
    /* Positions to store at the first event's clock (a replay's clock is
     * the capture's, unknown until its first frame). */
    const char *pending_change, *pending_source;
    struct pipeline_listener listeners[MAX_LISTENERS];
    size_t nlisteners;
    struct pipeline_stats st;
    /* sink_failing (check_sinks): the counters seen at the last tick */
    uint64_t seen_store_errors, seen_store_batches, seen_log_failed;
    int sinks_failing, sinks_clean_ticks;
};

void pipeline_config_default(struct pipeline_config *c)
{
    memset(c, 0, sizeof(*c));
    alert_config_default(&c->alerts);
    c->human_fd = -1;
    store_config_default(&c->store);
    c->snapshot_interval = 60 * NS;
    c->mode = "live";
}

/* ---- alerts out ------------------------------------------------------- */

/* The alert sink: the log first, then the store, so the store always
 * holds a prefix of the log (store.h, crash safety), then listeners. */
static void on_alert(void *arg, const struct alert_record *r)
{
    pipeline_t *p = arg;

    p->st.alerts++;
    if (p->log)
        alertlog_write(p->log, r);
    if (p->store && store_put_alert(p->store, r) != 0)
        log_msg(LL_ERROR, "pipeline", "alert %llu could not be queued for the "
                "store (out of memory, or the store has failed: see above)",
                (unsigned long long)r->id);
    for (size_t i = 0; i < p->nlisteners; i++)
        if (p->listeners[i].on_alert)
            p->listeners[i].on_alert(p->listeners[i].arg, r);
}

/* ---- snapshots -------------------------------------------------------- */

static double reach_pct(const book_t *b, enum book_side side, double ref)
{
    struct book_ladder lad;

    if (book_level_count(b, side) == 0 || !(ref > 0))
        return 0;
    book_ladder(b, side, side == BOOK_BID ? INFINITY : 0, &lad);
    return fabs(lad.last_price - ref) / ref * 100;
}

static void take_snapshot(pipeline_t *p, struct mkt_instr *in, int64_t t)
{
    const struct engine_ladder *l = engine_ladder(p->eng, in);
    pindex_t *ix = engine_pindex(p->eng, in);
    struct store_snapshot sn;
    struct book_level best;
    struct pindex_sum s;
    int is_mark = 0;

    memset(&sn, 0, sizeof(sn));
    sn.ts = t;
    sn.venue = venue_name(in->venue);
    sn.instrument = in->key;
    sn.ref = engine_ref(p->eng, in, &is_mark);
    sn.ref_is_mark = is_mark;
    sn.mark = in->mark;
    sn.index = in->index;
    sn.book_valid = in->book_valid;
    if (book_best(in->book, BOOK_BID, &best) == 0)
        sn.best_bid = best.price;
    if (book_best(in->book, BOOK_ASK, &best) == 0)
        sn.best_ask = best.price;
    for (int i = 0; sn.ref > 0 && i < 4; i++) {
        sn.bid_depth[i] = dec_to_double(book_depth_to(in->book, BOOK_BID,
                                                      sn.ref * (1 - bands[i])));
        sn.ask_depth[i] = dec_to_double(book_depth_to(in->book, BOOK_ASK,
                                                      sn.ref * (1 + bands[i])));
    }
    sn.bid_reach_pct = reach_pct(in->book, BOOK_BID, sn.ref);
    sn.ask_reach_pct = reach_pct(in->book, BOOK_ASK, sn.ref);
    /* Tracked positions the cascade can reach (liquidated ones are out). */
    pindex_reached(ix, POS_LONG, 0, &s);
    sn.long_count = s.count;
    sn.long_qty = dec_to_double(s.qty);
    pindex_reached(ix, POS_SHORT, INFINITY, &s);
    sn.short_count = s.count;
    sn.short_qty = dec_to_double(s.qty);
    sn.open_interest = in->open_interest > 0 ? dec_to_double(in->open_interest) : -1;
    sn.ladder_valid = l->valid;
    sn.rows = l->valid ? l->rows : NULL;
    sn.nrows = l->valid ? l->nrows : 0;
    /* The liquidation map (mapmodel.h), without the rows stored above. */
    {
        struct map_model *mm = malloc(sizeof(*mm));
        struct jsonw w;
        jw_init(&w);
        if (mm != NULL && mapmodel_build(mm, in, p->eng, alerts_config(p->alerts),
                                         t) == 0) {
            mapmodel_json(&w, mm, 0);
            if (!jw_failed(&w))
                sn.map = w.buf;
        }
        store_put_snapshot(p->store, &sn);
        jw_fini(&w);
        free(mm);
    }
    p->st.snapshots++;
}

/* Reject counters since the last row, one feed event per venue. */
static void store_rejects(pipeline_t *p, int64_t t)
{
    for (int v = 0; v < VENUE_COUNT; v++) {
        const struct venue_stats *vs;
        struct store_feed_event fe;
        if (p->venues[v] == NULL)
            continue;
        vs = venue_get_stats(p->venues[v]);
        if (vs->rejected == p->rejected_seen[v])
            continue;
        memset(&fe, 0, sizeof(fe));
        fe.ts = t;
        fe.venue = venue_name((enum venue_id)v);
        fe.kind = "rejected";
        fe.count = vs->rejected - p->rejected_seen[v];
        p->rejected_seen[v] = vs->rejected;
        store_put_feed_event(p->store, &fe);
    }
}

static void maybe_snapshot(pipeline_t *p, struct mkt_instr *in, int64_t t)
{
    int64_t *due;

    if (in->retired || in->idx >= p->ninstr)
        return;
    due = &p->next_snapshot[in->idx];
    if (p->store == NULL || p->snapshot_interval <= 0 || (*due != 0 && t < *due))
        return;
    take_snapshot(p, in, t);
    /* The next one an interval after this one, on the event clock. */
    *due = t + p->snapshot_interval;
    if (in->idx == 0)
        store_rejects(p, t);
}

static void store_positions_at(pipeline_t *p, const char *change,
                               const char *source, int64_t ts);
static int put_position(const struct pos_view *v, void *arg);

/* ---- events in -------------------------------------------------------- */

struct pos_ctx {
    pipeline_t *p;
    struct mkt_instr *in;
    const char *change, *source;
    int64_t ts;
    size_t n;
};

/* The positions the engine just marked liquidated: a change each. */
static void store_liquidated(pipeline_t *p, struct mkt_instr *in)
{
    size_t n;
    const uint32_t *h = engine_liquidated(p->eng, in, &n);
    pindex_t *ix = engine_pindex(p->eng, in);
    struct pos_ctx c = { p, in, "liquidated", "engine", p->clock, 0 };

    for (size_t i = 0; ix && i < n; i++) {
        struct pos_view v;
        if (pindex_get(ix, h[i], &v) == PINDEX_OK)
            put_position(&v, &c);
    }
}

static const char *const feed_kinds[] = {
    "connected", "disconnected", "stale", "book_invalid", "book_valid", "rejected",
};

static void store_event(pipeline_t *p, const struct mkt_event *ev)
{
    if (ev->type == MEV_LIQUIDATION) {
        static const char *const px[] = { "order", "avg_fill", "bankruptcy" };
        struct store_print pr;
        pr.ts = ev->recv_ts;
        pr.venue_ts = ev->ts;
        pr.venue = venue_name(ev->venue);
        pr.instrument = ev->instr->key;
        pr.liquidated_long = ev->u.liq.liquidated_long;
        pr.price = ev->u.liq.price;
        pr.price_kind = px[ev->u.liq.price_kind];
        pr.qty = dec_to_double(ev->u.liq.qty);
        pr.coverage = ev->u.liq.coverage == LIQ_COMPLETE ? "complete" : "sampled";
        store_put_print(p->store, &pr);
    } else if (ev->type == MEV_FEED && ev->u.feed.kind != FEED_REJECTED) {
        struct store_feed_event fe;
        fe.ts = ev->recv_ts;
        fe.venue = venue_name(ev->venue);
        fe.conn = ev->u.feed.conn;
        fe.instrument = ev->instr ? ev->instr->key : NULL;
        fe.kind = feed_kinds[ev->u.feed.kind];
        fe.reason = ev->u.feed.reason;
        fe.count = 1;
        store_put_feed_event(p->store, &fe);
    }
}

void pipeline_on_event(void *arg, const struct mkt_event *ev)
{
    pipeline_t *p = arg;

    p->st.events++;
    if (ev->recv_ts > p->clock)
        p->clock = ev->recv_ts;
    if (p->pending_change && p->clock > 0) {
        store_positions_at(p, p->pending_change, p->pending_source, p->clock);
        p->pending_change = NULL;
    }
    engine_on_event(p->eng, ev);
    alerts_on_event(p->alerts, ev);
    if (p->store && ev->instr)
        store_liquidated(p, ev->instr);
    if (p->store) {
        if (ev->type == MEV_LIQUIDATION || ev->type == MEV_FEED)
            store_event(p, ev);
        if (ev->instr)
            maybe_snapshot(p, ev->instr, p->clock);
    }
    for (size_t i = 0; i < p->nlisteners; i++)
        if (p->listeners[i].on_event)
            p->listeners[i].on_event(p->listeners[i].arg, ev);
}

/* A store or alert log that cannot write (disk full, I/O errors) raises
 * the extra alert "sink_failing" (critical) once, and resolves it after 3
 * clean ticks with a batch committed.  The store keeps what it could not
 * write and retries (store.md, Failures), so the alert itself reaches the
 * store once writes work again; lines the alert log refused are counted
 * (alertlog_stats.failed) and said in the log. */
static void check_sinks(pipeline_t *p)
{
    struct store_stats ss;
    int bad = 0, wrote = 0;
    uint64_t log_failed = p->log ? alertlog_get_stats(p->log)->failed : 0;
    char msg[512], det[512];

    memset(&ss, 0, sizeof(ss));
    if (p->store) {
        store_get_stats(p->store, &ss);
        bad |= ss.errors > p->seen_store_errors;
        wrote = ss.batches > p->seen_store_batches;
    }
    bad |= log_failed > p->seen_log_failed;
    if (bad) {
        p->sinks_clean_ticks = 0;
        if (!p->sinks_failing) {
            p->sinks_failing = 1;
            snprintf(msg, sizeof(msg), "cannot write: %s%s%s%s; the store keeps "
                     "the records (%zu queued) and retries", ss.errors >
                     p->seen_store_errors ? "store " : "", ss.errors >
                     p->seen_store_errors ? ss.last_error : "",
                     ss.errors > p->seen_store_errors && log_failed >
                     p->seen_log_failed ? "; " : "", log_failed >
                     p->seen_log_failed ? "alert log lines refused" : "",
                     ss.queue_depth);
            snprintf(det, sizeof(det), "{\"store_errors\":%llu,\"store_queue\":%zu,"
                     "\"log_lines_failed\":%llu}", (unsigned long long)ss.errors,
                     ss.queue_depth, (unsigned long long)log_failed);
            log_msg(LL_ERROR, "pipeline", "sink_failing: %s", msg);
            alerts_raise_extra(p->alerts, p->clock, "sink_failing", "sinks",
                               ALERT_CRITICAL, 0, msg, det);
        }
    } else if (p->sinks_failing && (wrote || !p->store) &&
               ++p->sinks_clean_ticks >= 3) {
        p->sinks_failing = 0;
        snprintf(msg, sizeof(msg), "writing again (%llu failed store batches, "
                 "%llu alert log lines refused in all)",
                 (unsigned long long)ss.errors, (unsigned long long)log_failed);
        snprintf(det, sizeof(det), "{\"store_errors\":%llu,\"log_lines_failed\":%llu}",
                 (unsigned long long)ss.errors, (unsigned long long)log_failed);
        log_msg(LL_INFO, "pipeline", "sink_failing resolved: %s", msg);
        alerts_raise_extra(p->alerts, p->clock, "sink_failing", "sinks",
                           ALERT_CRITICAL, 1, msg, det);
    }
    p->seen_store_errors = ss.errors;
    p->seen_store_batches = ss.batches;
    p->seen_log_failed = log_failed;
}

void pipeline_tick(pipeline_t *p, int64_t now)
{
    if (now > p->clock)
        p->clock = now;
    alerts_tick(p->alerts, p->clock);
    check_sinks(p);
    for (size_t i = 0; p->store && i < market_count(p->mkt); i++)
        maybe_snapshot(p, market_at(p->mkt, i), p->clock);
}

/* ---- positions -------------------------------------------------------- */

static int put_position(const struct pos_view *v, void *arg)
{
    struct pos_ctx *c = arg;
    struct store_position sp;

    memset(&sp, 0, sizeof(sp));        /* every field, those added later too */
    sp.ts = c->ts;
    sp.instrument = c->in->key;
    sp.pos_id = v->id;
    sp.account = v->account;
    sp.side = v->side == POS_LONG ? "long" : "short";
    sp.qty = dec_to_double(v->qty);
    sp.entry = v->entry;
    sp.margin = v->has_margin ? v->margin : 0;
    sp.liq_price = v->lp;
    sp.change = c->change;
    sp.source = c->source;
    store_put_position(c->p->store, &sp);
    /* A load (start-up, reload) lets the writer catch up every chunk so
     * the bounded queue never drops a position row; the engine's marks
     * (a few per event) go on the hot path and never wait. */
    if (strcmp(c->change, "load") == 0 && ++c->n % 8192 == 0)
        store_flush(c->p->store);
    return 0;
}

static void store_positions_at(pipeline_t *p, const char *change,
                               const char *source, int64_t ts)
{
    /* One count across instruments: the writer catches up every 8192
     * rows of the whole load, not of each instrument (200 instruments of
     * 500 positions never reached 8192 apiece, and 1e5 rows overflowed
     * the 65,536-message queue: make load saw position rows dropped). */
    struct pos_ctx c = { p, NULL, change, source, ts, 0 };

    for (size_t i = 0; i < market_count(p->mkt); i++) {
        c.in = market_at(p->mkt, i);
        if (!c.in->retired)
            pindex_foreach(engine_pindex(p->eng, c.in), put_position, &c);
    }
}

void pipeline_store_positions(pipeline_t *p, const char *change, const char *source,
                              int64_t ts)
{
    if (p->store == NULL)
        return;
    if (ts > 0) {
        store_positions_at(p, change, source, ts);
    } else {
        p->pending_change = change;
        p->pending_source = source;
    }
}

/* ---- lifecycle -------------------------------------------------------- */

pipeline_t *pipeline_create(market_t *mkt, engine_t *eng,
                            const struct pipeline_config *cfg, lq_err_t *err)
{
    pipeline_t *p = calloc(1, sizeof(*p));
    size_t n = market_count(mkt);

    if (p == NULL || (p->next_snapshot = calloc(n ? n : 1, sizeof(int64_t))) == NULL) {
        lq_err_set(err, "out of memory");
        goto fail;
    }
    p->mkt = mkt;
    p->eng = eng;
    p->ninstr = n;
    p->snapshot_interval = cfg->snapshot_interval;
    p->alerts = alerts_create(&cfg->alerts, mkt, eng, on_alert, p, err);
    if (p->alerts == NULL)
        goto fail;
    if (cfg->alert_log != NULL || cfg->human_fd >= 0) {
        p->log = alertlog_open(cfg->alert_log, cfg->human_fd, err);
        if (p->log == NULL) {
            lq_err_prefix(err, "alert log");
            goto fail;
        }
    }
    if (cfg->store.path != NULL && *cfg->store.path != '\0') {
        struct store_run run;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        run.started_ns = (int64_t)now.tv_sec * NS + now.tv_nsec;
        run.version = LIQMON_VERSION;
        run.config_hash = cfg->config_hash;
        run.mode = cfg->mode ? cfg->mode : "live";
        run.argv = cfg->argv;
        p->store = store_open(&cfg->store, &run, err);
        if (p->store == NULL) {
            lq_err_prefix(err, "store");
            goto fail;
        }
    }
    return p;
fail:
    pipeline_close(p, NULL, NULL);
    return NULL;
}

void pipeline_set_venues(pipeline_t *p, venue_t *const venues[VENUE_COUNT])
{
    for (int v = 0; v < VENUE_COUNT; v++) {
        /* a venue's baseline moves only when its adapter does: the others'
         * rejects since the last row still reach the store, and a new
         * adapter's count from its start */
        if (p->known[v] != venues[v])
            p->rejected_seen[v] = 0;
        p->venues[v] = venues[v];
        if (venues[v] != NULL)
            p->known[v] = venues[v];
    }
}

void pipeline_remove_listener(pipeline_t *p, void *arg)
{
    for (size_t i = 0; i < p->nlisteners;) {
        if (p->listeners[i].arg == arg)
            p->listeners[i] = p->listeners[--p->nlisteners];
        else
            i++;
    }
}

void pipeline_detach_venues(pipeline_t *p)
{
    if (p->store)
        store_rejects(p, p->clock);       /* their last counts */
    for (int v = 0; v < VENUE_COUNT; v++)
        p->venues[v] = NULL;
}

int pipeline_sync(pipeline_t *p, lq_err_t *err)
{
    size_t n = market_count(p->mkt);
    int64_t *ns;

    if (alerts_sync(p->alerts, p->clock, err) != 0)
        return -1;
    if (n <= p->ninstr)
        return 0;
    ns = realloc(p->next_snapshot, n * sizeof(*ns));
    if (ns == NULL)
        return lq_err_set(err, "out of memory");
    for (size_t i = p->ninstr; i < n; i++)
        ns[i] = 0;
    p->next_snapshot = ns;
    p->ninstr = n;
    return 0;
}

int pipeline_add_listener(pipeline_t *p, const struct pipeline_listener *l)
{
    if (p->nlisteners == MAX_LISTENERS)
        return -1;
    p->listeners[p->nlisteners++] = *l;
    return 0;
}

void pipeline_reopen(pipeline_t *p)
{
    lq_err_t err;

    if (p->log && alertlog_reopen(p->log, &err) != 0)
        log_msg(LL_ERROR, "pipeline", "alert log: %s (still writing to the "
                "old file)", err.msg);
}

alerts_t *pipeline_alerts(pipeline_t *p)
{
    return p->alerts;
}

store_t *pipeline_store(pipeline_t *p)
{
    return p->store;
}

int64_t pipeline_clock(const pipeline_t *p)
{
    return p->clock;
}

const struct pipeline_stats *pipeline_get_stats(const pipeline_t *p)
{
    return &p->st;
}

int pipeline_close(pipeline_t *p, const char *summary_json, lq_err_t *err)
{
    int rc = 0;

    if (p == NULL)
        return 0;
    if (p->store) {
        /* The final picture of every instrument, at the clock. */
        for (size_t i = 0; i < market_count(p->mkt) && p->clock > 0; i++)
            if (!market_at(p->mkt, i)->retired)
                take_snapshot(p, market_at(p->mkt, i), p->clock);
        store_rejects(p, p->clock);
        rc = store_close(p->store, summary_json, err);
    }
    alertlog_close(p->log);
    alerts_destroy(p->alerts);
    free(p->next_snapshot);
    free(p);
    return rc;
}
