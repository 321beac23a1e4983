/*
 * check_alert.c - the alert rules (../shared/docs/alert-rules.md, version
 * 1), checked independently of src/alert/alert.c: the contract's worked
 * example and its mirror, every kind's raise / escalate / de-escalate /
 * resolve on scripted paths, the order of the records of one evaluation,
 * a 10 Hz oscillation, the configuration, the active list, and random
 * paths compared record for record with a reference written from the
 * contract text (tests/alert_ref.h).
 *
 * Everything runs on the event clock, from T0 (ns); times in the scripts
 * are seconds after T0.  ALERT_TRACE_PATH=<n> prints random path n of
 * test_random_positions step by step (d and reference level of every
 * position, and the records written).
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "liqmon/alert.h"
#include "liqmon/engine.h"
#include "liqmon/market.h"
#include "alert_ref.h"
#include "suites.h"

#define T0 ((int64_t)1700000000 * 1000000000)
#define SEC(x) (T0 + (int64_t)llround((x) * 1e9))
#define NS(x) ((int64_t)llround((x) * 1e9))
#define QI(n) ((dec_t)(n) * DEC_SCALE)

/* ---- the sink: a copy of every record, checked as it arrives ------------- */

struct trec {
    uint64_t id;
    int64_t ts;
    int kind;
    int sev;
    int resolved;
    char *subject, *venue, *instrument, *message, *details;
};

struct tsink {
    struct trec *v;
    size_t n, cap;
    uint64_t next_id;
    int64_t last_ts;
    int check_json;
};

static char *tdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    ck_assert_ptr_nonnull(d);
    memcpy(d, s, n);
    return d;
}

static void sink_fn(void *arg, const struct alert_record *r)
{
    struct tsink *s = arg;

    TCHECK(r != NULL, "NULL record");
    TCHECK(r->id == s->next_id, "record id %" PRIu64 ", want %" PRIu64 " (ids 1, 2, 3 ...)",
           r->id, s->next_id);
    s->next_id++;
    TCHECK(r->ts >= s->last_ts, "record %" PRIu64 ": ts went back", r->id);
    s->last_ts = r->ts;
    TCHECK((int)r->kind >= 0 && r->kind < ALERT_KIND_COUNT, "record %" PRIu64 ": kind %d",
           r->id, (int)r->kind);
    TCHECK(r->severity == ALERT_WARNING || r->severity == ALERT_CRITICAL,
           "record %" PRIu64 ": severity %d", r->id, (int)r->severity);
    TCHECK(r->resolved == 0 || r->resolved == 1, "record %" PRIu64 ": resolved %d", r->id,
           r->resolved);
    TCHECK(r->subject != NULL && r->subject[0] != '\0', "record %" PRIu64 ": no subject", r->id);
    TCHECK(r->venue != NULL && r->venue[0] != '\0', "record %" PRIu64 ": no venue", r->id);
    if (r->kind == ALERT_VENUE_ADL_WARNING)
        TCHECK(r->instrument == NULL || strchr(r->instrument, ':') != NULL,
               "record %" PRIu64 ": venue_adl_warning instrument %s", r->id, r->instrument);
    else if (r->kind == ALERT_FEED_DOWN)
        TCHECK(r->instrument == NULL, "record %" PRIu64 ": feed_down with instrument %s",
               r->id, r->instrument);
    else
        TCHECK(r->instrument != NULL && strchr(r->instrument, ':') != NULL,
               "record %" PRIu64 " (%s): instrument %s", r->id, r->subject,
               r->instrument ? r->instrument : "NULL");
    TCHECK(r->message != NULL && r->message[0] != '\0' && strchr(r->message, '\n') == NULL,
           "record %" PRIu64 ": message not one line", r->id);
    TCHECK(r->details != NULL, "record %" PRIu64 ": no details", r->id);
    if (s->check_json) {
        json_error_t je;
        json_t *j = json_loads(r->details, 0, &je);
        TCHECK(j != NULL && json_is_object(j), "record %" PRIu64 ": details not a JSON object: %s",
               r->id, r->details);
        json_decref(j);
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        ck_assert_ptr_nonnull(s->v);
    }
    struct trec *c = &s->v[s->n++];
    c->id = r->id;
    c->ts = r->ts;
    c->kind = (int)r->kind;
    c->sev = (int)r->severity;
    c->resolved = r->resolved;
    c->subject = tdup(r->subject);
    c->venue = tdup(r->venue);
    c->instrument = tdup(r->instrument);
    c->message = tdup(r->message);
    c->details = tdup(r->details);
}

static void sink_fini(struct tsink *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].subject);
        free(s->v[i].venue);
        free(s->v[i].instrument);
        free(s->v[i].message);
        free(s->v[i].details);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* ---- a market, an engine and the alerts ---------------------------------- */

struct ispec {
    enum venue_id v;
    const char *venue;
    const char *symbol;
};

struct fx {
    market_t *m;
    engine_t *e;
    alerts_t *a;
    struct mkt_instr *in[4];
    size_t nin;
    struct tsink s;
    struct alert_config cfg;
};

static const struct ispec BTC = { VENUE_BINANCE, "binance-usdm", "BTCUSDT" };
static const struct ispec ETH = { VENUE_BINANCE, "binance-usdm", "ETHUSDT" };
static const struct ispec BYB = { VENUE_BYBIT, "bybit-linear", "BTCUSDT" };

/* Instruments first (the engine makes one index per instrument at create);
 * every book starts valid and empty unless the test sets one. */
static void fx_init(struct fx *f, const struct ispec *is, size_t n,
                    const struct alert_config *cfg)
{
    struct engine_config ec;
    lq_err_t err;

    memset(f, 0, sizeof(*f));
    f->s.next_id = 1;
    f->s.check_json = 1;
    f->m = market_create();
    ck_assert_ptr_nonnull(f->m);
    for (size_t i = 0; i < n; i++) {
        struct instrument spec;
        memset(&spec, 0, sizeof(spec));
        snprintf(spec.venue, sizeof(spec.venue), "%s", is[i].venue);
        snprintf(spec.symbol, sizeof(spec.symbol), "%s", is[i].symbol);
        spec.tick_size = 0.1;
        spec.lot_step = DEC_SCALE / 1000;
        spec.contract_value = DEC_SCALE;
        f->in[i] = market_add(f->m, is[i].v, &spec, &err);
        ck_assert_msg(f->in[i] != NULL, "market_add: %s", err.msg);
        ck_assert_int_eq(market_apply_snapshot(f->in[i], NULL, 0, NULL, 0, 1), BOOK_OK);
        ck_assert(f->in[i]->book_valid);
    }
    f->nin = n;
    engine_config_default(&ec);
    f->e = engine_create(f->m, &ec, &err);
    ck_assert_msg(f->e != NULL, "engine_create: %s", err.msg);
    if (cfg)
        f->cfg = *cfg;
    else
        alert_config_default(&f->cfg);
    f->a = alerts_create(&f->cfg, f->m, f->e, sink_fn, &f->s, &err);
    ck_assert_msg(f->a != NULL, "alerts_create: %s", err.msg);
}

static void fx_fini(struct fx *f)
{
    alerts_destroy(f->a);
    engine_destroy(f->e);
    market_destroy(f->m);
    sink_fini(&f->s);
}

static uint32_t fx_pos(struct fx *f, struct mkt_instr *in, const char *id,
                       int is_short, double lp, dec_t qty)
{
    struct pos_spec s;
    uint32_t h = 0;
    lq_err_t err;

    memset(&s, 0, sizeof(s));
    s.id = id;
    s.side = is_short ? POS_SHORT : POS_LONG;
    s.qty = qty;
    s.has_margin = 0;
    s.liq_price = lp;
    ck_assert_msg(pindex_insert(engine_pindex(f->e, in), &s, &h, &err) == PINDEX_OK,
                  "pindex_insert %s: %s", id, err.msg);
    return h;
}

/* The event goes through the engine, then the alerts.  The venue's own
 * time is set off the receive time: the rules run on recv_ts. */
static void fx_emit(struct fx *f, struct mkt_event *ev)
{
    ev->ts = ev->recv_ts - NS(1.5);
    engine_on_event(f->e, ev);
    alerts_on_event(f->a, ev);
}

static void ev_mark(struct fx *f, struct mkt_instr *in, double px, int64_t t)
{
    struct mkt_event ev;

    memset(&ev, 0, sizeof(ev));
    in->mark = px;
    ev.type = MEV_MARK;
    ev.venue = in->venue;
    ev.instr = in;
    ev.recv_ts = t;
    ev.u.mark.mark = px;
    fx_emit(f, &ev);
}

static void ev_snapshot(struct fx *f, struct mkt_instr *in,
                        const struct book_level *b, size_t nb,
                        const struct book_level *a, size_t na, int64_t t)
{
    struct mkt_event ev;

    ck_assert_int_eq(market_apply_snapshot(in, b, nb, a, na, 2), BOOK_OK);
    memset(&ev, 0, sizeof(ev));
    ev.type = MEV_BOOK_SNAPSHOT;
    ev.venue = in->venue;
    ev.instr = in;
    ev.recv_ts = t;
    ev.u.book.bids.levels = b;
    ev.u.book.bids.n = nb;
    ev.u.book.asks.levels = a;
    ev.u.book.asks.n = na;
    ev.u.book.seq = 2;
    fx_emit(f, &ev);
}

static void ev_bookfeed(struct fx *f, struct mkt_instr *in, int valid, int64_t t)
{
    struct mkt_event ev;

    if (!valid)
        market_invalidate(in, "gap");
    memset(&ev, 0, sizeof(ev));
    ev.type = MEV_FEED;
    ev.venue = in->venue;
    ev.instr = in;
    ev.recv_ts = t;
    ev.u.feed.kind = valid ? FEED_BOOK_VALID : FEED_BOOK_INVALID;
    ev.u.feed.reason = valid ? "resynced" : "gap";
    fx_emit(f, &ev);
}

static void ev_conn(struct fx *f, enum venue_id v, const char *conn,
                    enum mev_feed_kind kind, int64_t t)
{
    struct mkt_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = MEV_FEED;
    ev.venue = v;
    ev.instr = NULL;
    ev.recv_ts = t;
    ev.u.feed.kind = kind;
    ev.u.feed.conn = conn;
    fx_emit(f, &ev);
}

static void ev_print(struct fx *f, struct mkt_instr *in, int liq_long,
                     dec_t qty, double price, enum liq_coverage cov, int64_t t)
{
    struct mkt_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = MEV_LIQUIDATION;
    ev.venue = in->venue;
    ev.instr = in;
    ev.recv_ts = t;
    ev.u.liq.liquidated_long = liq_long;
    ev.u.liq.price = price;
    ev.u.liq.price_kind = LIQ_PX_ORDER;
    ev.u.liq.qty = qty;
    ev.u.liq.coverage = cov;
    fx_emit(f, &ev);
}

static void tick(struct fx *f, int64_t t)
{
    alerts_tick(f->a, t);
}

/* ---- expected records ---------------------------------------------------- */

/* instr: NULL = not checked; "" = must be NULL; else equal. */
struct xrec {
    double t;
    int kind;
    const char *subject;
    int sev;
    int resolved;
    const char *instr;
};

#define W ALERT_WARNING
#define C ALERT_CRITICAL
#define FIRING 0
#define RESOLVED 1
#define K_NEAR ALERT_POSITION_NEAR
#define K_LIQ ALERT_POSITION_LIQUIDATED
#define K_CAS ALERT_CASCADE_RISK
#define K_BOOK ALERT_BOOK_INVALID
#define K_FEED ALERT_FEED_DOWN
#define K_CLU ALERT_LIQUIDATION_CLUSTER

static const char *kname(int k)
{
    static const char *n[] = { "position_near", "position_liquidated", "cascade_risk",
                                "book_invalid", "feed_down", "liquidation_cluster",
                                "venue_adl_warning" };
    return k >= 0 && k < 7 ? n[k] : "?";
}

/* kind filter: >= 0 one kind, -1 all, -2 the position kinds. */
static int kind_match(int filter, int k)
{
    return filter == -1 || filter == k || (filter == -2 && (k == K_NEAR || k == K_LIQ));
}

static size_t dump_recs(char *buf, size_t size, const struct tsink *s, size_t from,
                        int kind)
{
    size_t o = 0;
    for (size_t i = from; i < s->n && o + 200 < size; i++) {
        const struct trec *r = &s->v[i];
        if (!kind_match(kind, r->kind))
            continue;
        o += (size_t)snprintf(buf + o, size - o, "\n    #%" PRIu64 " t=%.3f %s %s %s %s",
                              r->id, (double)(r->ts - T0) / 1e9, kname(r->kind),
                              r->subject, r->sev == C ? "critical" : "warning",
                              r->resolved ? "resolved" : "firing");
    }
    return o;
}

/* The records written since `from` (only those of `kind` when kind >= 0)
 * are exactly x[0..nx), in order. */
static void expect_recs(const struct fx *f, size_t from, int kind,
                        const struct xrec *x, size_t nx, const char *what)
{
    static char got[16384], want[8192];
    size_t k = 0, ok = 1;

    for (size_t i = from; i < f->s.n; i++) {
        const struct trec *r = &f->s.v[i];
        if (!kind_match(kind, r->kind))
            continue;
        if (k >= nx) {
            ok = 0;
            break;
        }
        const struct xrec *e = &x[k++];
        if (r->ts != SEC(e->t) || r->kind != e->kind || strcmp(r->subject, e->subject) != 0 ||
            r->sev != e->sev || r->resolved != e->resolved)
            ok = 0;
        if (e->instr != NULL) {
            if (e->instr[0] == '\0' ? r->instrument != NULL
                                    : (r->instrument == NULL ||
                                       strcmp(r->instrument, e->instr) != 0))
                ok = 0;
        }
    }
    if (k != nx)
        ok = 0;
    if (ok)
        return;
    size_t o = 0;
    for (size_t i = 0; i < nx && o + 200 < sizeof(want); i++)
        o += (size_t)snprintf(want + o, sizeof(want) - o, "\n    t=%.3f %s %s %s %s", x[i].t,
                              kname(x[i].kind), x[i].subject,
                              x[i].sev == C ? "critical" : "warning",
                              x[i].resolved ? "resolved" : "firing");
    want[o] = '\0';
    o = dump_recs(got, sizeof(got), &f->s, from, kind);
    got[o] = '\0';
    ck_abort_msg("%s: records differ\n  want:%s\n  got:%s", what, want, got);
}

#define EXPECT(f, from, kind, arr, what)                                       \
    expect_recs((f), (from), (kind), (arr), sizeof(arr) / sizeof((arr)[0]), (what))

static void expect_none(const struct fx *f, size_t from, int kind, const char *what)
{
    expect_recs(f, from, kind, NULL, 0, what);
}

static json_t *details_of(const struct trec *r)
{
    json_error_t je;
    json_t *j = json_loads(r->details, 0, &je);
    ck_assert_msg(j != NULL, "details: %s", r->details);
    return j;
}

static const struct trec *nth_of_kind(const struct fx *f, int kind, size_t k)
{
    for (size_t i = 0; i < f->s.n; i++)
        if (f->s.v[i].kind == kind && k-- == 0)
            return &f->s.v[i];
    ck_abort_msg("no record %zu of kind %s", k, kname(kind));
    return NULL;
}

/* ---- 1, 2: the contract's worked example and its mirror ----------------- */

/* t, ref of the worked example (long, LP 95). */
static const double WX[16][2] = {
    { 0, 101 },   { 1, 99.9 },  { 2, 100.2 }, { 3, 100.6 },  { 20, 100.3 }, { 21, 101 },
    { 40, 101.5 }, { 52, 101.2 }, { 60, 96.5 }, { 61, 97.2 }, { 62, 97.8 }, { 70, 99.9 },
    { 93, 100.9 }, { 95, 101 },  { 130, 100.8 }, { 140, 94.9 },
};

static const struct xrec WX_RECS[] = {
    { 1, K_NEAR, "pos-1", W, FIRING, "binance-usdm:BTCUSDT" },
    { 52, K_NEAR, "pos-1", W, RESOLVED, "binance-usdm:BTCUSDT" },
    { 60, K_NEAR, "pos-1", C, FIRING, "binance-usdm:BTCUSDT" },
    { 93, K_NEAR, "pos-1", W, FIRING, "binance-usdm:BTCUSDT" },
    { 130, K_NEAR, "pos-1", W, RESOLVED, "binance-usdm:BTCUSDT" },
    { 140, K_LIQ, "pos-1", C, FIRING, "binance-usdm:BTCUSDT" },
};

/* Row by row: after each mark, exactly the records the table lists. */
static void run_worked_example(int is_short)
{
    struct fx f;
    size_t k = 0;

    fx_init(&f, &BTC, 1, NULL);
    fx_pos(&f, f.in[0], "pos-1", is_short, is_short ? 105 : 95, QI(1));
    for (int i = 0; i < 16; i++) {
        double t = WX[i][0], ref = WX[i][1];
        if (is_short) {
            /* The same d on the other side: d = (LP - ref) / ref. */
            double d = (ref - 95) / ref;
            ref = 105 / (1 + d);
        }
        size_t before = f.s.n;
        ev_mark(&f, f.in[0], ref, SEC(t));
        size_t nx = 0;
        while (k + nx < sizeof(WX_RECS) / sizeof(WX_RECS[0]) && WX_RECS[k + nx].t == t)
            nx++;
        char what[96];
        snprintf(what, sizeof(what), "%s worked example, row t=%g ref=%.6g",
                 is_short ? "short" : "long", t, ref);
        expect_recs(&f, before, -1, WX_RECS + k, nx, what);
        k += nx;
    }
    fx_fini(&f);
}

START_TEST(test_worked_example)
{
    run_worked_example(0);
}
END_TEST

START_TEST(test_worked_example_short)
{
    run_worked_example(1);
}
END_TEST

/* ---- 3: position_near ---------------------------------------------------- */

/* "for the highest level asked during the hold (that evaluation included)"
 * and "after a change, a new hold starts at the next evaluation that asks
 * lower"; escalation during a hold. */
START_TEST(test_near_hold_rules)
{
    struct fx f;

    fx_init(&f, &BTC, 1, NULL);
    fx_pos(&f, f.in[0], "L", 0, 95, QI(1));
    /* critical; hold on none; the hold's last evaluation asks warning */
    ev_mark(&f, f.in[0], 96, SEC(0));         /* d 0.0104: critical */
    ev_mark(&f, f.in[0], 101, SEC(1));        /* none: hold from 1 */
    tick(&f, SEC(30.9));
    ev_mark(&f, f.in[0], 99.5, SEC(31));      /* d 0.0452: warning (< crit + margin no) */
    ev_mark(&f, f.in[0], 101, SEC(32));       /* none: a new hold from 32 */
    tick(&f, SEC(61));
    tick(&f, SEC(61.999999999));
    tick(&f, SEC(62));                        /* 62 >= 32 + 30 */
    /* critical; hold on warning; the change comes on an evaluation asking
     * none: the new level is warning and the next hold starts only at the
     * next evaluation (132), not at 131 */
    ev_mark(&f, f.in[0], 96, SEC(100));
    ev_mark(&f, f.in[0], 99.5, SEC(101));     /* warning: hold from 101 */
    ev_mark(&f, f.in[0], 101, SEC(131));      /* none; 131 >= 131: -> warning */
    tick(&f, SEC(132));                       /* none: new hold from 132 */
    tick(&f, SEC(161));                       /* a hold from 131 would end here */
    tick(&f, SEC(161.5));
    tick(&f, SEC(162));
    /* escalation ends a hold and is immediate */
    ev_mark(&f, f.in[0], 99, SEC(200));       /* d 0.0404: warning */
    ev_mark(&f, f.in[0], 101, SEC(201));      /* none: hold from 201 */
    ev_mark(&f, f.in[0], 96.5, SEC(210));     /* critical at once */
    ev_mark(&f, f.in[0], 97.2, SEC(211));     /* d 0.0226 <= crit + margin: critical */
    ev_mark(&f, f.in[0], 99.9, SEC(212));     /* warning: hold from 212 */
    ev_mark(&f, f.in[0], 96.9, SEC(230));     /* critical again: the hold ends */
    ev_mark(&f, f.in[0], 99.9, SEC(231));     /* warning: hold from 231 */
    tick(&f, SEC(260));                       /* a hold from 212 would end here */
    tick(&f, SEC(261));
    static const struct xrec x[] = {
        { 0, K_NEAR, "L", C, FIRING, NULL },
        { 31, K_NEAR, "L", W, FIRING, NULL },
        { 62, K_NEAR, "L", W, RESOLVED, NULL },
        { 100, K_NEAR, "L", C, FIRING, NULL },
        { 131, K_NEAR, "L", W, FIRING, NULL },
        { 162, K_NEAR, "L", W, RESOLVED, NULL },
        { 200, K_NEAR, "L", W, FIRING, NULL },
        { 210, K_NEAR, "L", C, FIRING, NULL },
        { 261, K_NEAR, "L", W, FIRING, NULL },
    };
    EXPECT(&f, 0, -1, x, "position_near hold rules");
    fx_fini(&f);
}
END_TEST

/* "on an instrument with a reference price": ticks without any reference
 * evaluate nothing; the book mid is the reference where there is no mark. */
START_TEST(test_near_reference_price)
{
    struct fx f;
    static const struct book_level b[] = { { 99.9, QI(5) } }, a[] = { { 100.1, QI(5) } };

    fx_init(&f, &BTC, 1, NULL);
    fx_pos(&f, f.in[0], "S", 1, 103, QI(1));  /* short: d = 0.03 at 100 */
    fx_pos(&f, f.in[0], "L", 0, 99.3, QI(1)); /* long: d = 0.007 at 100 */
    for (int i = 0; i < 20; i++)
        tick(&f, SEC(i));
    expect_none(&f, 0, -1, "no reference price, no evaluation");
    ev_snapshot(&f, f.in[0], b, 1, a, 1, SEC(20)); /* mid 100 */
    static const struct xrec x[] = {
        { 20, K_NEAR, "L", C, FIRING, "binance-usdm:BTCUSDT" },
        { 20, K_NEAR, "S", W, FIRING, "binance-usdm:BTCUSDT" },
    };
    EXPECT(&f, 0, K_NEAR, x, "book mid as reference");
    fx_fini(&f);
}
END_TEST

/* ---- 3: position_liquidated ---------------------------------------------- */

static const struct book_level CB_BIDS[] = { { 99.9, QI(1000) }, { 97, QI(1) }, { 93, QI(100) } };
static const struct book_level CB_ASKS[] = { { 100.1, QI(1000) }, { 103, QI(1) }, { 107, QI(100) } };

static void set_cascade_book(struct mkt_instr *in)
{
    ck_assert_int_eq(market_apply_snapshot(in, CB_BIDS, 3, CB_ASKS, 3, 1), BOOK_OK);
}

START_TEST(test_liquidated)
{
    struct fx f;
    struct pos_view v;
    uint32_t h;

    fx_init(&f, &BTC, 1, NULL);
    set_cascade_book(f.in[0]);
    h = fx_pos(&f, f.in[0], "A", 0, 97.2, QI(10));
    fx_pos(&f, f.in[0], "B", 0, 90, QI(1));     /* never near */
    fx_pos(&f, f.in[0], "Z", 1, 106, QI(1));    /* short, none straight to d == 0 */
    ev_mark(&f, f.in[0], 98.9, SEC(0));         /* A: d 0.0172 critical */
    ev_mark(&f, f.in[0], 97.1, SEC(1));         /* A: d < 0 */
    /* That event's ladder already leaves A out: with it, every down row
     * whose p0 is in (90, 97.2] (s = 0 included) would liquidate it. */
    const struct engine_ladder *l = engine_ladder(f.e, f.in[0]);
    ck_assert(l->valid);
    ck_assert(l->ts == SEC(1));
    ck_assert(l->rows[0].side == CASCADE_DOWN && l->rows[0].shock == 0);
    for (size_t i = 0; i < l->nrows; i++)
        if (l->rows[i].side == CASCADE_DOWN && l->rows[i].start_price > 90)
            TCHECK(l->rows[i].liquidated == 0,
                   "row %zu (shock %g): %" PRIu64 " liquidated, A must be out of it", i,
                   l->rows[i].shock, l->rows[i].liquidated);
    ck_assert_int_eq(pindex_get(engine_pindex(f.e, f.in[0]), h, &v), PINDEX_OK);
    ck_assert(v.liquidated);
    /* Terminal: back near, far, near again: nothing more for A. */
    ev_mark(&f, f.in[0], 99, SEC(2));
    ev_mark(&f, f.in[0], 97.15, SEC(3));
    for (int i = 4; i < 100; i++)
        tick(&f, SEC(i));
    ev_mark(&f, f.in[0], 100, SEC(100));
    /* Short Z: d = (106 - ref) / ref, from none to a reference exactly at
     * its LP: d == 0 is "d <= 0". */
    ev_mark(&f, f.in[0], 106, SEC(110));
    static const struct xrec x[] = {
        { 0, K_NEAR, "A", C, FIRING, "binance-usdm:BTCUSDT" },
        { 1, K_NEAR, "A", C, RESOLVED, "binance-usdm:BTCUSDT" },
        { 1, K_LIQ, "A", C, FIRING, "binance-usdm:BTCUSDT" },
        { 110, K_LIQ, "Z", C, FIRING, "binance-usdm:BTCUSDT" },
    };
    EXPECT(&f, 0, -2, x, "position_near / position_liquidated");
    fx_fini(&f);
}
END_TEST

/* "It is terminal: the position is not evaluated again until it is
 * changed or reloaded": a changed position is evaluated again. */
START_TEST(test_liquidated_then_changed)
{
    struct fx f;
    struct pos_spec sp;
    uint32_t h;
    lq_err_t err;

    fx_init(&f, &BTC, 1, NULL);
    h = fx_pos(&f, f.in[0], "A", 0, 97.2, QI(10));
    ev_mark(&f, f.in[0], 97, SEC(1));          /* liquidated */
    ev_mark(&f, f.in[0], 99, SEC(2));          /* d 0.018: nothing, terminal */
    memset(&sp, 0, sizeof(sp));
    sp.side = POS_LONG;
    sp.qty = QI(10);
    sp.liq_price = 95;
    ck_assert_msg(pindex_update(engine_pindex(f.e, f.in[0]), h, &sp, &err) == PINDEX_OK,
                  "%s", err.msg);
    ev_mark(&f, f.in[0], 99, SEC(5));          /* d 0.0404: warning */
    static const struct xrec x[] = {
        { 1, K_LIQ, "A", C, FIRING, NULL },
        { 5, K_NEAR, "A", W, FIRING, NULL },
    };
    EXPECT(&f, 0, -2, x, "a changed position is evaluated again");
    fx_fini(&f);
}
END_TEST

/* "The details say whether the venue printed a liquidation on that
 * instrument and side in the 5 s before": the liquidated record's details
 * differ in a boolean between a long print 3 s before and none (a short
 * print, or one 20 s before, does not count). */
static json_t *liq_details(double print_age, int print_long)
{
    struct fx f;
    json_t *j;

    fx_init(&f, &BTC, 1, NULL);
    fx_pos(&f, f.in[0], "A", 0, 97.2, QI(10));
    ev_mark(&f, f.in[0], 100, SEC(0));
    if (print_age > 0)
        ev_print(&f, f.in[0], print_long, QI(1), 97.5, LIQ_SAMPLED, SEC(30 - print_age));
    ev_mark(&f, f.in[0], 97, SEC(30));
    j = details_of(nth_of_kind(&f, K_LIQ, 0));
    fx_fini(&f);
    return j;
}

static int bool_differs(json_t *a, json_t *b)
{
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v) {
        json_t *w = json_object_get(b, k);
        if (json_is_boolean(v) && json_is_boolean(w) && json_is_true(v) != json_is_true(w))
            return 1;
    }
    return 0;
}

START_TEST(test_liquidated_details_print)
{
    json_t *none = liq_details(0, 1), *recent = liq_details(3, 1);
    json_t *other_side = liq_details(3, 0), *old = liq_details(20, 1);
    char *s1 = json_dumps(none, JSON_SORT_KEYS), *s2 = json_dumps(recent, JSON_SORT_KEYS);
    char *s3 = json_dumps(other_side, JSON_SORT_KEYS), *s4 = json_dumps(old, JSON_SORT_KEYS);

    ck_assert_msg(bool_differs(none, recent),
                  "no boolean tells a print 3 s before from none:\n  none: %s\n  3 s: %s", s1, s2);
    ck_assert_msg(!bool_differs(none, other_side),
                  "a print of the other side counted:\n  none: %s\n  short print: %s", s1, s3);
    ck_assert_msg(!bool_differs(none, old),
                  "a print 20 s before counted:\n  none: %s\n  20 s: %s", s1, s4);
    free(s1);
    free(s2);
    free(s3);
    free(s4);
    json_decref(none);
    json_decref(recent);
    json_decref(other_side);
    json_decref(old);
}
END_TEST

/* A position holding at warning (hold under way, asking none) liquidated:
 * its near record is resolved with the severity it had, without the hold. */
START_TEST(test_liquidated_during_hold)
{
    struct fx f;

    fx_init(&f, &BTC, 1, NULL);
    fx_pos(&f, f.in[0], "p", 0, 95, QI(1));
    fx_pos(&f, f.in[0], "q", 1, 105, QI(1));
    ev_mark(&f, f.in[0], 99.9, SEC(0));   /* p warning; q: d 0.051 none */
    ev_mark(&f, f.in[0], 101, SEC(1));    /* p none: hold from 1; q: 0.0396 warning */
    ev_mark(&f, f.in[0], 94, SEC(5));     /* p: d < 0; q: d 0.117 none (hold) */
    ev_mark(&f, f.in[0], 106, SEC(6));    /* q: d < 0, at warning in a hold */
    static const struct xrec x[] = {
        { 0, K_NEAR, "p", W, FIRING, NULL },
        { 1, K_NEAR, "q", W, FIRING, NULL },
        { 5, K_NEAR, "p", W, RESOLVED, NULL },
        { 5, K_LIQ, "p", C, FIRING, NULL },
        { 6, K_NEAR, "q", W, RESOLVED, NULL },
        { 6, K_LIQ, "q", C, FIRING, NULL },
    };
    EXPECT(&f, 0, -1, x, "liquidated during a hold");
    fx_fini(&f);
}
END_TEST

/* ---- 3: cascade_risk ----------------------------------------------------- */

static void check_cascade_details(const struct trec *r, double s_star, double amp)
{
    json_t *j = details_of(r);
    json_t *s = json_object_get(j, "s_star");
    json_t *row = json_object_get(j, "row");
    ck_assert_msg(json_is_number(s) && tclose(json_number_value(s), s_star, 1e-9),
                  "%s at %.3f: s_star %s, want %g", r->subject, (double)(r->ts - T0) / 1e9,
                  r->details, s_star);
    ck_assert_msg(json_is_object(row), "%s: no row object: %s", r->subject, r->details);
    json_t *sh = json_object_get(row, "shock"), *am = json_object_get(row, "amplification");
    ck_assert_msg(json_is_number(sh) && tclose(json_number_value(sh), s_star, 1e-9),
                  "%s: row shock: %s", r->subject, r->details);
    ck_assert_msg(json_is_number(am) && tclose(json_number_value(am), amp, 1e-9),
                  "%s: row amplification %s, want %.12g", r->subject, r->details, amp);
    json_decref(j);
}

/* Book: bids (99.9, 1000) (97, 1) (93, 100); asks (100.1, 1000) (103, 1)
 * (107, 100).  Long A (LP 97.2, 10) and short B (LP 102.8, 10): a shock
 * that reaches A sells 10 through the 1 at 97 down to 93. */
START_TEST(test_cascade_risk)
{
    struct fx f;

    fx_init(&f, &BTC, 1, NULL);
    set_cascade_book(f.in[0]);
    fx_pos(&f, f.in[0], "A", 0, 97.2, QI(10));
    fx_pos(&f, f.in[0], "B", 1, 102.8, QI(10));
    /* ref 100: down s* = 0.03 (p0 97, final 93, amp 7/3); up s* = 0.03
     * (p0 103, final 107, amp 7/3): warning both */
    ev_mark(&f, f.in[0], 100, SEC(0));
    /* ref 98.9: down s* = 0.02 (p0 96.922, final 93, amp 2.98): critical;
     * up: no row trips (s = 0.05: amp 1.64): none, hold from 1 */
    ev_mark(&f, f.in[0], 98.9, SEC(1));
    ev_mark(&f, f.in[0], 100, SEC(2));        /* down asks warning: hold; up warning */
    tick(&f, SEC(31));
    tick(&f, SEC(32));                        /* down -> warning */
    /* ref 102: down: nothing trips (s = 0.05: amp 1.76): hold from 40;
     * up: s = 0.01 reaches B, p0 103.02, final 107, amp 4.9: critical */
    ev_mark(&f, f.in[0], 102, SEC(40));
    tick(&f, SEC(69));
    tick(&f, SEC(70));                        /* down resolved (warning) */
    /* At 80 down fires warning again and up asks warning (a hold); the ladder turns invalid at 81
     * and stays so: no evaluation, no change, whatever the clock says. */
    ev_mark(&f, f.in[0], 100, SEC(80));
    ev_bookfeed(&f, f.in[0], 0, SEC(81));
    ck_assert(!engine_ladder(f.e, f.in[0])->valid);
    for (int t = 82; t < 160; t += 3)
        tick(&f, SEC(t));
    ev_mark(&f, f.in[0], 100, SEC(150));      /* a mark, still invalid */
    /* Valid again: the hold that started at 80 asked lower on every
     * evaluation since: it ends now, at the highest level asked (warning). */
    ev_snapshot(&f, f.in[0], CB_BIDS, 3, CB_ASKS, 3, SEC(160));
    ck_assert(engine_ladder(f.e, f.in[0])->valid);
    static const struct xrec x[] = {
        { 0, K_CAS, "binance-usdm:BTCUSDT:down", W, FIRING, "binance-usdm:BTCUSDT" },
        { 0, K_CAS, "binance-usdm:BTCUSDT:up", W, FIRING, "binance-usdm:BTCUSDT" },
        { 1, K_CAS, "binance-usdm:BTCUSDT:down", C, FIRING, NULL },
        { 32, K_CAS, "binance-usdm:BTCUSDT:down", W, FIRING, NULL },
        { 40, K_CAS, "binance-usdm:BTCUSDT:up", C, FIRING, NULL },
        { 70, K_CAS, "binance-usdm:BTCUSDT:down", W, RESOLVED, NULL },
        { 80, K_CAS, "binance-usdm:BTCUSDT:down", W, FIRING, NULL },
        { 160, K_CAS, "binance-usdm:BTCUSDT:up", W, FIRING, NULL },
    };
    EXPECT(&f, 0, K_CAS, x, "cascade_risk");
    check_cascade_details(nth_of_kind(&f, K_CAS, 0), 0.03, 7.0 / 3.0);
    check_cascade_details(nth_of_kind(&f, K_CAS, 1), 0.03, 7.0 / 3.0);
    {
        double p0 = 98.9 * (1 - 0.02);
        check_cascade_details(nth_of_kind(&f, K_CAS, 2), 0.02, (98.9 - 93) / (98.9 - p0));
        double q0 = 102 * (1 + 0.01);
        check_cascade_details(nth_of_kind(&f, K_CAS, 4), 0.01, (107 - 102) / (q0 - 102));
    }
    fx_fini(&f);
}
END_TEST

/* The other trip conditions: notional (> 0 turns it on) and exhausted. */
START_TEST(test_cascade_other_trips)
{
    static const struct book_level thin[] = { { 99.9, QI(1000) }, { 97, QI(1) } };
    static const struct book_level asks[] = { { 100.1, QI(1000) } };
    struct alert_config c;
    struct fx f;

    /* amplification never trips (amp 1e9); A's notional is 10 * 97.2 */
    alert_config_default(&c);
    c.amp = 1e9;
    c.notional = 971.9;
    fx_init(&f, &BTC, 1, &c);
    set_cascade_book(f.in[0]);
    fx_pos(&f, f.in[0], "A", 0, 97.2, QI(10));
    ev_mark(&f, f.in[0], 100, SEC(0));        /* s = 0.03: liquidated_notional 972 */
    static const struct xrec x1[] = {
        { 0, K_CAS, "binance-usdm:BTCUSDT:down", W, FIRING, NULL },
    };
    EXPECT(&f, 0, K_CAS, x1, "notional trip");
    fx_fini(&f);

    c.notional = 972.1;
    fx_init(&f, &BTC, 1, &c);
    set_cascade_book(f.in[0]);
    fx_pos(&f, f.in[0], "A", 0, 97.2, QI(10));
    ev_mark(&f, f.in[0], 100, SEC(0));
    expect_none(&f, 0, K_CAS, "notional below threshold");
    fx_fini(&f);

    /* exhausted: 10 sold into 1 of visible depth below p0 */
    alert_config_default(&c);
    c.amp = 1e9;
    for (int on = 0; on < 2; on++) {
        c.exhausted_trips = on;
        fx_init(&f, &BTC, 1, &c);
        ck_assert_int_eq(market_apply_snapshot(f.in[0], thin, 2, asks, 1, 1), BOOK_OK);
        fx_pos(&f, f.in[0], "A", 0, 97.2, QI(10));
        ev_mark(&f, f.in[0], 100, SEC(0));
        if (on) {
            EXPECT(&f, 0, K_CAS, x1, "exhausted trips");
        } else {
            expect_none(&f, 0, K_CAS, "exhausted does not trip by default");
        }
        fx_fini(&f);
    }
}
END_TEST

/* ---- 3: book_invalid ----------------------------------------------------- */

START_TEST(test_book_invalid)
{
    static const struct book_level b[] = { { 99, QI(1) } }, a[] = { { 101, QI(1) } };
    struct fx f;

    fx_init(&f, &BTC, 1, NULL);
    ev_mark(&f, f.in[0], 100, SEC(0));
    /* a routine resync (4.9 s) raises nothing */
    ev_bookfeed(&f, f.in[0], 0, SEC(10));
    tick(&f, SEC(11));
    tick(&f, SEC(14.9));
    ev_snapshot(&f, f.in[0], b, 1, a, 1, SEC(14.9));
    tick(&f, SEC(15));
    tick(&f, SEC(16));
    /* invalid from 20: warning at 25 exactly, critical at 80 exactly */
    ev_bookfeed(&f, f.in[0], 0, SEC(20));
    tick(&f, SEC(21));
    tick(&f, SEC(24.999999999));
    tick(&f, SEC(25));
    for (int t = 26; t < 80; t++)
        tick(&f, SEC(t));
    tick(&f, SEC(79.999999999));
    ev_mark(&f, f.in[0], 100.5, SEC(80));     /* an event of the instrument evaluates */
    /* valid at 90 (snapshot + FEED_BOOK_VALID): resolved after the hold */
    ck_assert_int_eq(market_apply_snapshot(f.in[0], b, 1, a, 1, 3), BOOK_OK);
    ev_bookfeed(&f, f.in[0], 1, SEC(90));
    tick(&f, SEC(100));
    tick(&f, SEC(119.9));
    tick(&f, SEC(120));
    /* invalid again: warning; valid (a hold from 210); invalid again at
     * 220: asks none until 225, then warning, which ends the hold */
    ev_bookfeed(&f, f.in[0], 0, SEC(200));
    tick(&f, SEC(205));                       /* warning */
    ev_snapshot(&f, f.in[0], b, 1, a, 1, SEC(210)); /* none: hold from 210 */
    ev_bookfeed(&f, f.in[0], 0, SEC(220));    /* 0 s invalid: asks none, hold goes on */
    tick(&f, SEC(225));                       /* 5 s: asks warning: the hold ends */
    tick(&f, SEC(240));                       /* would have resolved from 210 */
    ev_snapshot(&f, f.in[0], b, 1, a, 1, SEC(241));
    tick(&f, SEC(270));
    tick(&f, SEC(271));
    static const struct xrec x[] = {
        { 25, K_BOOK, "binance-usdm:BTCUSDT", W, FIRING, "binance-usdm:BTCUSDT" },
        { 80, K_BOOK, "binance-usdm:BTCUSDT", C, FIRING, "binance-usdm:BTCUSDT" },
        { 120, K_BOOK, "binance-usdm:BTCUSDT", C, RESOLVED, "binance-usdm:BTCUSDT" },
        { 205, K_BOOK, "binance-usdm:BTCUSDT", W, FIRING, NULL },
        { 271, K_BOOK, "binance-usdm:BTCUSDT", W, RESOLVED, NULL },
    };
    EXPECT(&f, 0, -1, x, "book_invalid");
    fx_fini(&f);
}
END_TEST

/* A book never valid counts from the instrument's first evaluation
 * (the implementation's reading; the contract says "turns invalid"). */
START_TEST(test_book_never_valid)
{
    struct fx f;

    fx_init(&f, &ETH, 1, NULL);
    market_invalidate(f.in[0], "no snapshot yet");
    ev_mark(&f, f.in[0], 2000, SEC(1000));
    tick(&f, SEC(1004.9));
    tick(&f, SEC(1005));
    static const struct xrec x[] = {
        { 1005, K_BOOK, "binance-usdm:ETHUSDT", W, FIRING, "binance-usdm:ETHUSDT" },
    };
    EXPECT(&f, 0, -1, x, "book never valid");
    fx_fini(&f);
}
END_TEST

/* ---- 3: feed_down -------------------------------------------------------- */

START_TEST(test_feed_down)
{
    struct fx f;
#define P "binance-usdm/public"

    fx_init(&f, (const struct ispec[]){ BTC, BYB }, 2, NULL);
    ev_conn(&f, VENUE_BINANCE, "public", FEED_CONNECTED, SEC(0));
    tick(&f, SEC(5));
    ev_conn(&f, VENUE_BINANCE, "public", FEED_STALE, SEC(10));      /* warning at once */
    ev_conn(&f, VENUE_BINANCE, "public", FEED_DISCONNECTED, SEC(30)); /* still since 10 */
    tick(&f, SEC(69));
    tick(&f, SEC(69.999999999));
    tick(&f, SEC(70));                                               /* critical */
    ev_conn(&f, VENUE_BINANCE, "public", FEED_CONNECTED, SEC(80));   /* hold from 80 */
    tick(&f, SEC(109));
    tick(&f, SEC(110));                                              /* resolved */
    /* a reconnect shorter than the hold: no record */
    ev_conn(&f, VENUE_BINANCE, "public", FEED_DISCONNECTED, SEC(200)); /* warning */
    ev_conn(&f, VENUE_BINANCE, "public", FEED_CONNECTED, SEC(210));
    ev_conn(&f, VENUE_BINANCE, "public", FEED_DISCONNECTED, SEC(220)); /* ends the hold */
    ev_conn(&f, VENUE_BINANCE, "public", FEED_CONNECTED, SEC(225));    /* hold from 225 */
    tick(&f, SEC(250));
    tick(&f, SEC(254.9));
    tick(&f, SEC(255));                                               /* resolved */
    /* critical -> warning: a hold on none whose last evaluation asks
     * warning (down again since 390) */
    ev_conn(&f, VENUE_BINANCE, "public", FEED_STALE, SEC(310));
    tick(&f, SEC(370));                                               /* critical */
    ev_conn(&f, VENUE_BINANCE, "public", FEED_CONNECTED, SEC(380));   /* hold from 380 */
    ev_conn(&f, VENUE_BINANCE, "public", FEED_DISCONNECTED, SEC(390)); /* asks warning */
    tick(&f, SEC(400));
    tick(&f, SEC(410));                                               /* -> warning */
    tick(&f, SEC(449));
    /* an event of an instrument of the venue evaluates its connections */
    ev_mark(&f, f.in[0], 100, SEC(450));                              /* 60 s: critical */
    /* ... but not another venue's */
    ev_conn(&f, VENUE_BYBIT, "public", FEED_DISCONNECTED, SEC(500));  /* warning */
    ev_mark(&f, f.in[0], 100, SEC(560));
    ev_conn(&f, VENUE_BINANCE, "market", FEED_CONNECTED, SEC(560));
    ev_mark(&f, f.in[1], 100, SEC(561));                              /* bybit: critical */
    static const struct xrec x[] = {
        { 10, K_FEED, P, W, FIRING, "" },
        { 70, K_FEED, P, C, FIRING, "" },
        { 110, K_FEED, P, C, RESOLVED, "" },
        { 200, K_FEED, P, W, FIRING, "" },
        { 255, K_FEED, P, W, RESOLVED, "" },
        { 310, K_FEED, P, W, FIRING, "" },
        { 370, K_FEED, P, C, FIRING, "" },
        { 410, K_FEED, P, W, FIRING, "" },
        { 450, K_FEED, P, C, FIRING, "" },
        { 500, K_FEED, "bybit-linear/public", W, FIRING, "" },
        { 561, K_FEED, "bybit-linear/public", C, FIRING, "" },
    };
    EXPECT(&f, 0, -1, x, "feed_down");
#undef P
    for (size_t i = 0; i < f.s.n; i++)
        ck_assert_str_eq(f.s.v[i].venue, strncmp(f.s.v[i].subject, "bybit", 5) == 0
                                             ? "bybit-linear" : "binance-usdm");
    fx_fini(&f);
}
END_TEST

/* ---- venue_adl_warning (liqmon's kind) ---------------------------------- */

static void ev_adl(struct fx *f, enum venue_id v, struct mkt_instr *in, const char *scope,
                   enum adl_level lv, double bal, double thr, int64_t t)
{
    struct mkt_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = MEV_ADL_WARNING;
    ev.venue = v;
    ev.instr = in;
    ev.recv_ts = t;
    ev.u.adl.level = lv;
    ev.u.adl.scope = scope;
    ev.u.adl.ccy = "USDT";
    ev.u.adl.state = adl_level_name(lv);
    ev.u.adl.balance = bal;
    ev.u.adl.max_balance = NAN;
    ev.u.adl.threshold = thr;
    ev.u.adl.ratio = ev.u.adl.ratio_trigger = ev.u.adl.ratio_stop = NAN;
    fx_emit(f, &ev);
}

/* warning -> critical -> (the venue goes quiet, as OKX does once the
 * state is normal again) -> resolved after adl_quiet + clear_after; a
 * balance at its threshold is critical; "normal" asks none at once. */
START_TEST(test_venue_adl_warning)
{
    struct fx f;
#define S "okx-swap:SWAP:BTC-USDT"
#define B "bybit-linear:USDT:BTCUSDT"

    fx_init(&f, (const struct ispec[]){ BTC, BYB }, 2, NULL);
    ck_assert_int_eq(f.cfg.adl_quiet, 10 * (int64_t)1000000000);
    ev_adl(&f, VENUE_OKX, NULL, "SWAP:BTC-USDT", ADL_WARNING, 2e6, NAN, SEC(0)); /* warning */
    for (int s = 1; s < 5; s++)
        ev_adl(&f, VENUE_OKX, NULL, "SWAP:BTC-USDT", ADL_WARNING, 2e6, NAN, SEC(s));
    ev_adl(&f, VENUE_OKX, NULL, "SWAP:BTC-USDT", ADL_ACTIVE, 1e6, NAN, SEC(5));  /* critical */
    ev_adl(&f, VENUE_OKX, NULL, "SWAP:BTC-USDT", ADL_WARNING, 1e6, NAN, SEC(6)); /* hold from 6 */
    tick(&f, SEC(15.9));                  /* asks warning (pushed 9.9 s ago) */
    tick(&f, SEC(16));                    /* quiet: asks none */
    tick(&f, SEC(35.9));
    tick(&f, SEC(36));                    /* 30 s since 6: -> warning (highest asked) */
    tick(&f, SEC(37));                    /* hold on none from 37 */
    tick(&f, SEC(66.9));
    tick(&f, SEC(67));                    /* resolved */
    /* Bybit: a fund at its threshold (balance <= 0) is critical whatever
     * the level says; "normal" asks none at once, then clear_after */
    ev_adl(&f, VENUE_BYBIT, f.in[1], "USDT:BTCUSDT", ADL_NORMAL, 0, 0, SEC(100));
    ev_adl(&f, VENUE_BYBIT, f.in[1], "USDT:BTCUSDT", ADL_NORMAL, 5, 0, SEC(101));
    ev_adl(&f, VENUE_BYBIT, f.in[1], "USDT:BTCUSDT", ADL_NORMAL, 5, 0, SEC(131));
    /* another venue's events do not evaluate OKX's fund; ticks do */
    ev_adl(&f, VENUE_OKX, NULL, "SWAP:BTC-USDT", ADL_WARNING, 2e6, NAN, SEC(200));
    ev_mark(&f, f.in[1], 100, SEC(300));  /* bybit: no OKX record */
    tick(&f, SEC(300));                   /* hold from 300 (quiet since 210) */
    tick(&f, SEC(330));                   /* resolved */
    static const struct xrec x[] = {
        { 0, ALERT_VENUE_ADL_WARNING, S, W, FIRING, "" },
        { 5, ALERT_VENUE_ADL_WARNING, S, C, FIRING, "" },
        { 36, ALERT_VENUE_ADL_WARNING, S, W, FIRING, "" },
        { 67, ALERT_VENUE_ADL_WARNING, S, W, RESOLVED, "" },
        { 100, ALERT_VENUE_ADL_WARNING, B, C, FIRING, "bybit-linear:BTCUSDT" },
        { 131, ALERT_VENUE_ADL_WARNING, B, C, RESOLVED, "bybit-linear:BTCUSDT" },
        { 200, ALERT_VENUE_ADL_WARNING, S, W, FIRING, "" },
        { 330, ALERT_VENUE_ADL_WARNING, S, W, RESOLVED, "" },
    };
    EXPECT(&f, 0, ALERT_VENUE_ADL_WARNING, x, "venue_adl_warning");
    /* the messages name the fund, the state and the balance vs threshold */
    const struct trec *r[8];
    size_t nr = 0;
    for (size_t i = 0; i < f.s.n && nr < 8; i++)
        if (f.s.v[i].kind == ALERT_VENUE_ADL_WARNING)
            r[nr++] = &f.s.v[i];
    ck_assert_uint_eq(nr, 8);
    ck_assert_ptr_nonnull(strstr(r[0]->message, S " insurance fund (USDT): ADL warning"));
    ck_assert_ptr_nonnull(strstr(r[0]->message, "balance 2M USDT, no threshold published"));
    ck_assert_ptr_nonnull(strstr(r[3]->message, "no ADL warning pushed for"));
    ck_assert_ptr_nonnull(strstr(r[4]->message, "ADL active"));
    ck_assert_ptr_nonnull(strstr(r[4]->message, "ADL at <= 0"));
    ck_assert_ptr_nonnull(strstr(r[5]->message, "venue state normal"));
    ck_assert_ptr_nonnull(strstr(r[0]->details, "\"venue_level\":\"warning\""));
    ck_assert_ptr_nonnull(strstr(r[0]->details, "\"threshold\":null"));
    ck_assert_ptr_eq(r[0]->instrument, NULL);
    ck_assert_int_eq(alert_kind_from_name("venue_adl_warning"), ALERT_VENUE_ADL_WARNING);
#undef S
#undef B
    fx_fini(&f);
}
END_TEST

/* ---- 3: liquidation_cluster ---------------------------------------------- */

static int details_has(const struct trec *r, const char *key, const char *str_value,
                       double *num)
{
    json_t *j = details_of(r);
    json_t *v = json_object_get(j, key);
    int ok = v != NULL;
    if (ok && str_value)
        ok = json_is_string(v) && strcmp(json_string_value(v), str_value) == 0;
    if (ok && num)
        *num = json_is_number(v) ? json_number_value(v) : NAN;
    json_decref(j);
    return ok;
}

START_TEST(test_liquidation_cluster)
{
    struct fx f;
#define L "binance-usdm:BTCUSDT:long"
#define S "binance-usdm:BTCUSDT:short"
    struct mkt_instr *in;

    fx_init(&f, &BTC, 1, NULL);
    in = f.in[0];
    ev_print(&f, in, 1, QI(5), 100000, LIQ_SAMPLED, SEC(0));   /* 5e5 */
    ev_print(&f, in, 0, QI(9), 100000, LIQ_SAMPLED, SEC(5));   /* short 9e5 */
    ev_print(&f, in, 1, QI(5), 100000, LIQ_SAMPLED, SEC(10));  /* N = 1e6 exactly: warning */
    ev_print(&f, in, 1, QI(90), 100000, LIQ_SAMPLED, SEC(20)); /* N = 1e7 exactly: critical */
    tick(&f, SEC(59));
    tick(&f, SEC(60));   /* (0, 60]: 9.5e6 >= 5e6: still critical */
    tick(&f, SEC(70));   /* (10, 70]: 9e6 */
    tick(&f, SEC(80));   /* (20, 80]: 0: hold from 80 */
    tick(&f, SEC(109.9));
    tick(&f, SEC(110));  /* resolved critical */
    /* warning, half-threshold hysteresis, then expiry */
    ev_print(&f, in, 1, QI(12), 100000, LIQ_SAMPLED, SEC(200)); /* 1.2e6: warning */
    tick(&f, SEC(259));
    ev_print(&f, in, 1, QI(6), 100000, LIQ_SAMPLED, SEC(259.5)); /* 6e5 at 260 (>= 5e5) */
    tick(&f, SEC(260));  /* (200, 260]: 6e5: still warning */
    tick(&f, SEC(300));
    tick(&f, SEC(319));
    tick(&f, SEC(319.5));/* (259.5, 319.5]: 0: hold from 319.5 */
    tick(&f, SEC(349));
    tick(&f, SEC(349.5));/* resolved warning */
    /* critical -> warning after the hold, at N between half thresholds */
    ev_print(&f, in, 1, QI(80), 100000, LIQ_SAMPLED, SEC(400));  /* 8e6 */
    ev_print(&f, in, 1, QI(30), 100000, LIQ_SAMPLED, SEC(401));  /* 1.1e7: critical */
    ev_print(&f, in, 1, QI(40), 100000, LIQ_SAMPLED, SEC(450));  /* 4e6 at 450 */
    tick(&f, SEC(460));  /* (400, 460]: 7e6 >= 5e6: critical */
    tick(&f, SEC(461));  /* (401, 461]: 4e6: asks warning, hold from 461 */
    tick(&f, SEC(490));
    tick(&f, SEC(491));  /* -> warning */
    tick(&f, SEC(510));  /* (450, 510]: 0: hold from 510 */
    tick(&f, SEC(540));  /* resolved warning */
    /* a short side, complete coverage; below 1e6 nothing */
    ev_print(&f, in, 0, QI(10), 99999.99, LIQ_COMPLETE, SEC(600));  /* 999999.9 */
    ev_print(&f, in, 0, QI(1), 1, LIQ_COMPLETE, SEC(601));          /* 1000000.9 */
    static const struct xrec x[] = {
        { 10, K_CLU, L, W, FIRING, "binance-usdm:BTCUSDT" },
        { 20, K_CLU, L, C, FIRING, NULL },
        { 110, K_CLU, L, C, RESOLVED, NULL },
        { 200, K_CLU, L, W, FIRING, NULL },
        { 349.5, K_CLU, L, W, RESOLVED, NULL },
        { 400, K_CLU, L, W, FIRING, NULL },
        { 401, K_CLU, L, C, FIRING, NULL },
        { 491, K_CLU, L, W, FIRING, NULL },
        { 540, K_CLU, L, W, RESOLVED, NULL },
        { 601, K_CLU, S, W, FIRING, "binance-usdm:BTCUSDT" },
    };
    EXPECT(&f, 0, -1, x, "liquidation_cluster");
#undef L
#undef S
    double n = 0;
    ck_assert_msg(details_has(nth_of_kind(&f, K_CLU, 0), "coverage", "sampled", NULL),
                  "coverage: %s", nth_of_kind(&f, K_CLU, 0)->details);
    ck_assert_msg(details_has(nth_of_kind(&f, K_CLU, 0), "notional", NULL, &n) && n == 1e6,
                  "notional: %s", nth_of_kind(&f, K_CLU, 0)->details);
    ck_assert_msg(details_has(nth_of_kind(&f, K_CLU, 1), "notional", NULL, &n) && n == 1e7,
                  "notional: %s", nth_of_kind(&f, K_CLU, 1)->details);
    ck_assert_msg(details_has(nth_of_kind(&f, K_CLU, 9), "coverage", "complete", NULL),
                  "coverage: %s", nth_of_kind(&f, K_CLU, 9)->details);
    ck_assert_msg(details_has(nth_of_kind(&f, K_CLU, 9), "notional", NULL, &n) &&
                  tclose(n, 1000000.9, 1e-12), "notional: %s",
                  nth_of_kind(&f, K_CLU, 9)->details);
    fx_fini(&f);
}
END_TEST

/* ---- 4, 8: the order of one evaluation's records; the active list -------- */

struct act {
    int kind;
    char subject[64];
    int level;
    int64_t since;
    int instr_null;
};
struct actlist {
    struct act v[32];
    size_t n;
};

static int act_fn(const struct alert_active *x, void *arg)
{
    struct actlist *l = arg;
    if (l->n < 32) {
        struct act *a = &l->v[l->n++];
        a->kind = (int)x->kind;
        snprintf(a->subject, sizeof(a->subject), "%s", x->subject);
        a->level = (int)x->level;
        a->since = x->since;
        a->instr_null = x->instrument == NULL;
    }
    return 0;
}

START_TEST(test_order_and_active)
{
    struct fx f;
    struct mkt_instr *A, *B;
    size_t mark;

    fx_init(&f, (const struct ispec[]){ BTC, ETH }, 2, NULL);
    A = f.in[0];
    B = f.in[1];
    set_cascade_book(A);
    ev_conn(&f, VENUE_BINANCE, "public", FEED_CONNECTED, SEC(0));
    ev_conn(&f, VENUE_BINANCE, "market", FEED_CONNECTED, SEC(0));
    ev_conn(&f, VENUE_BYBIT, "public", FEED_CONNECTED, SEC(0));
    ev_mark(&f, A, 100, SEC(0));
    ev_print(&f, A, 1, QI(10), 100000, LIQ_SAMPLED, SEC(910));
    ev_print(&f, A, 0, QI(10), 100000, LIQ_SAMPLED, SEC(910));
    ev_conn(&f, VENUE_BINANCE, "public", FEED_STALE, SEC(940));
    ev_conn(&f, VENUE_BINANCE, "market", FEED_DISCONNECTED, SEC(940));
    ev_conn(&f, VENUE_BYBIT, "public", FEED_DISCONNECTED, SEC(940));
    tick(&f, SEC(970));            /* clusters: window empty, hold from 970 */
    tick(&f, SEC(980));
    tick(&f, SEC(990));
    fx_pos(&f, A, "p1", 0, 99, QI(1));
    fx_pos(&f, A, "p10", 0, 97.2, QI(10));
    fx_pos(&f, A, "p2", 0, 95, QI(1));
    fx_pos(&f, A, "q", 1, 101, QI(10));
    fx_pos(&f, B, "a0", 0, 1950, QI(1));
    ev_mark(&f, B, 2000, SEC(995)); /* a0: d 0.025 warning */
    static const struct xrec x0[] = {
        { 910, K_CLU, "binance-usdm:BTCUSDT:long", W, FIRING, NULL },
        { 910, K_CLU, "binance-usdm:BTCUSDT:short", W, FIRING, NULL },
        { 940, K_FEED, "binance-usdm/public", W, FIRING, "" },
        { 940, K_FEED, "binance-usdm/market", W, FIRING, "" },
        { 940, K_FEED, "bybit-linear/public", W, FIRING, "" },
        { 995, K_NEAR, "a0", W, FIRING, "binance-usdm:ETHUSDT" },
    };
    EXPECT(&f, 0, -1, x0, "set-up");

    /* One mark of A at 1000: A's subjects and binance's connections. */
    mark = f.s.n;
    ev_mark(&f, A, 98.9, SEC(1000));
    static const struct xrec x1[] = {
        { 1000, K_NEAR, "p10", C, FIRING, "binance-usdm:BTCUSDT" },
        { 1000, K_NEAR, "p2", W, FIRING, "binance-usdm:BTCUSDT" },
        { 1000, K_NEAR, "q", W, FIRING, "binance-usdm:BTCUSDT" },
        { 1000, K_LIQ, "p1", C, FIRING, "binance-usdm:BTCUSDT" },
        { 1000, K_CAS, "binance-usdm:BTCUSDT:down", C, FIRING, "binance-usdm:BTCUSDT" },
        { 1000, K_CAS, "binance-usdm:BTCUSDT:up", W, FIRING, "binance-usdm:BTCUSDT" },
        { 1000, K_FEED, "binance-usdm/market", C, FIRING, "" },
        { 1000, K_FEED, "binance-usdm/public", C, FIRING, "" },
        { 1000, K_CLU, "binance-usdm:BTCUSDT:long", W, RESOLVED, "binance-usdm:BTCUSDT" },
        { 1000, K_CLU, "binance-usdm:BTCUSDT:short", W, RESOLVED, "binance-usdm:BTCUSDT" },
    };
    EXPECT(&f, mark, -1, x1, "one mark event's evaluation");
    mark = f.s.n;
    tick(&f, SEC(1000));
    static const struct xrec x2[] = {
        { 1000, K_FEED, "bybit-linear/public", C, FIRING, "" },
    };
    EXPECT(&f, mark, -1, x2, "the tick after it (bybit was not evaluated by binance's event)");

    mark = f.s.n;
    ev_mark(&f, A, 100.8, SEC(1001));
    static const struct xrec x3[] = {
        { 1001, K_NEAR, "q", C, FIRING, NULL },
        { 1001, K_CAS, "binance-usdm:BTCUSDT:up", C, FIRING, NULL },
    };
    EXPECT(&f, mark, -1, x3, "mark at 1001");
    mark = f.s.n;
    ev_conn(&f, VENUE_BINANCE, "public", FEED_CONNECTED, SEC(1001));
    ev_conn(&f, VENUE_BINANCE, "market", FEED_CONNECTED, SEC(1001));
    ev_conn(&f, VENUE_BYBIT, "public", FEED_CONNECTED, SEC(1001));
    ev_mark(&f, B, 2100, SEC(1001));
    ev_bookfeed(&f, B, 0, SEC(1026));
    tick(&f, SEC(1030));
    expect_none(&f, mark, -1, "holds under way");
    /* One tick: every instrument and venue in ONE evaluation, sorted by
     * kind then subject across instruments ("a0" of ETHUSDT first). */
    tick(&f, SEC(1031));
    static const struct xrec x4[] = {
        { 1031, K_NEAR, "a0", W, RESOLVED, "binance-usdm:ETHUSDT" },
        { 1031, K_NEAR, "p10", W, FIRING, "binance-usdm:BTCUSDT" },
        { 1031, K_NEAR, "p2", W, RESOLVED, "binance-usdm:BTCUSDT" },
        { 1031, K_CAS, "binance-usdm:BTCUSDT:down", C, RESOLVED, "binance-usdm:BTCUSDT" },
        { 1031, K_BOOK, "binance-usdm:ETHUSDT", W, FIRING, "binance-usdm:ETHUSDT" },
        { 1031, K_FEED, "binance-usdm/market", C, RESOLVED, "" },
        { 1031, K_FEED, "binance-usdm/public", C, RESOLVED, "" },
        { 1031, K_FEED, "bybit-linear/public", C, RESOLVED, "" },
    };
    EXPECT(&f, mark, -1, x4, "one tick's evaluation");

    /* 8: what is firing now, in (kind, subject) order.  The liquidated
     * position is firing too: its record is never resolved. */
    static char fails[8192];
    size_t fo = 0;
    struct actlist al = { .n = 0 };
    ck_assert_int_eq(alerts_foreach_active(f.a, act_fn, &al), 0);
    static const struct {
        int kind;
        const char *subject;
        int level;
        double since;
    } xa[] = {
        { K_NEAR, "p10", W, 1031 },
        { K_NEAR, "q", C, 1001 },
        { K_LIQ, "p1", C, 1000 },
        { K_CAS, "binance-usdm:BTCUSDT:up", C, 1001 },
        { K_BOOK, "binance-usdm:ETHUSDT", W, 1031 },
    };
    {
        int ok = al.n == sizeof(xa) / sizeof(xa[0]);
        for (size_t i = 0; ok && i < al.n; i++)
            ok = al.v[i].kind == xa[i].kind && strcmp(al.v[i].subject, xa[i].subject) == 0 &&
                 al.v[i].level == xa[i].level && al.v[i].since == SEC(xa[i].since) &&
                 !al.v[i].instr_null;
        if (!ok) {
            fo += (size_t)snprintf(fails + fo, sizeof(fails) - fo,
                                   "\n  active list at 1031 differs; want:");
            for (size_t i = 0; i < sizeof(xa) / sizeof(xa[0]); i++)
                fo += (size_t)snprintf(fails + fo, sizeof(fails) - fo,
                                       "\n    %s %s level %d since %.3f", kname(xa[i].kind),
                                       xa[i].subject, xa[i].level, xa[i].since);
            fo += (size_t)snprintf(fails + fo, sizeof(fails) - fo, "\n  got:");
            for (size_t i = 0; i < al.n; i++)
                fo += (size_t)snprintf(fails + fo, sizeof(fails) - fo,
                                       "\n    %s %s level %d since %.3f%s", kname(al.v[i].kind),
                                       al.v[i].subject, al.v[i].level,
                                       (double)(al.v[i].since - T0) / 1e9,
                                       al.v[i].instr_null ? " (instrument NULL)" : "");
        }
        if (alerts_active_count(f.a) != al.n)
            fo += (size_t)snprintf(fails + fo, sizeof(fails) - fo,
                                   "\n  alerts_active_count %zu, foreach listed %zu",
                                   alerts_active_count(f.a), al.n);
    }

    /* alerts_positions_reset: resolved records for the firing positions. */
    mark = f.s.n;
    alerts_positions_reset(f.a, SEC(1040));
    static const struct xrec x5[] = {
        { 1040, K_NEAR, "p10", W, RESOLVED, "binance-usdm:BTCUSDT" },
        { 1040, K_NEAR, "q", C, RESOLVED, "binance-usdm:BTCUSDT" },
    };
    EXPECT(&f, mark, K_NEAR, x5, "positions reset");
    for (size_t i = mark; i < f.s.n; i++) {
        TCHECK(f.s.v[i].kind == K_NEAR || f.s.v[i].kind == K_LIQ,
               "positions reset wrote a %s record", kname(f.s.v[i].kind));
        if (f.s.v[i].kind == K_LIQ)
            fprintf(stderr, "alert: positions_reset also wrote position_liquidated %s %s\n",
                    f.s.v[i].subject, f.s.v[i].resolved ? "resolved" : "firing");
    }
    al.n = 0;
    alerts_foreach_active(f.a, act_fn, &al);
    if (!(al.n == 2 && al.v[0].kind == K_CAS && al.v[1].kind == K_BOOK)) {
        fo += (size_t)snprintf(fails + fo, sizeof(fails) - fo,
                               "\n  active after the reset: want cascade_risk, book_invalid; got:");
        for (size_t i = 0; i < al.n; i++)
            fo += (size_t)snprintf(fails + fo, sizeof(fails) - fo, "\n    %s %s level %d",
                                   kname(al.v[i].kind), al.v[i].subject, al.v[i].level);
    }
    fails[fo] = '\0';
    ck_assert_msg(fo == 0, "active list:%s", fails);
    fx_fini(&f);
}
END_TEST

static int stop_fn(const struct alert_active *x, void *arg)
{
    (void)x;
    (*(int *)arg)++;
    return 7;
}

START_TEST(test_active_stop)
{
    struct fx f;
    int calls = 0;

    fx_init(&f, &BTC, 1, NULL);
    fx_pos(&f, f.in[0], "a", 0, 95, QI(1));
    fx_pos(&f, f.in[0], "b", 0, 96, QI(1));
    ev_mark(&f, f.in[0], 99, SEC(0));
    ck_assert_uint_eq(alerts_active_count(f.a), 2);
    ck_assert_int_ne(alerts_foreach_active(f.a, stop_fn, &calls), 0);
    ck_assert_int_eq(calls, 1);
    fx_fini(&f);
}
END_TEST

/* ---- 5: oscillation around the warn threshold ---------------------------- */

START_TEST(test_oscillation)
{
    struct fx f;
    struct trng r;

    trng_init(&r, "alert-oscillation");
    fx_init(&f, &BTC, 1, NULL);
    fx_pos(&f, f.in[0], "osc", 0, 95, QI(1));
    /* d = warn +- 1 % (absolute: 0.04 .. 0.06) every 100 ms for an hour;
     * plus the daemon's 1 s ticks */
    for (int64_t i = 0; i < 36000; i++) {
        double d = 0.05 + (trng_unit(&r) * 2 - 1) * 0.01;
        ev_mark(&f, f.in[0], 95 / (1 - d), T0 + i * NS(0.1));
        if (i % 10 == 5)
            tick(&f, T0 + i * NS(0.1));
    }
    /* and relative +-1 % around it, alternating */
    for (int64_t i = 36000; i < 72000; i++) {
        double d = 0.05 * (i % 2 ? 1.01 : 0.99);
        ev_mark(&f, f.in[0], 95 / (1 - d), T0 + i * NS(0.1));
    }
    fprintf(stderr, "alert: oscillation, 2 h at 10 Hz around warn: %zu records\n", f.s.n);
    ck_assert_uint_le(f.s.n, 4);
    ck_assert_uint_ge(f.s.n, 1);
    ck_assert_int_eq(f.s.v[0].kind, K_NEAR);
    fx_fini(&f);
}
END_TEST

/* ---- 7: configuration ---------------------------------------------------- */

START_TEST(test_config)
{
    struct alert_config c, d;
    lq_err_t err;

    alert_config_default(&c);
    ck_assert(c.warn == 0.05);
    ck_assert(c.crit == 0.02);
    ck_assert(c.margin == 0.005);
    ck_assert(c.clear_after == NS(30));
    ck_assert(c.amp == 2.0);
    ck_assert(c.notional == 0);
    ck_assert_int_eq(c.exhausted_trips, 0);
    ck_assert(c.crit_shock == 0.02);
    ck_assert(c.warn_shock == 0.05);
    ck_assert(c.invalid_after == NS(5));
    ck_assert(c.invalid_critical_after == NS(60));
    ck_assert(c.down_critical_after == NS(60));
    ck_assert(c.cluster_window == NS(60));
    ck_assert(c.cluster_notional == 1e6);
    ck_assert_int_eq(alert_config_check(&c, &err), 0);

    /* Clearly invalid values are refused; the message names the key
     * (alert.h: "err naming the key").  Every case is tried, then the
     * failures are reported together. */
    static char fails[4096];
    size_t fo = 0;
#define BAD(key, stmt)                                                         \
    do {                                                                       \
        d = c;                                                                 \
        stmt;                                                                  \
        memset(&err, 0, sizeof(err));                                          \
        int rc_ = alert_config_check(&d, &err);                                \
        if (rc_ != -1)                                                         \
            fo += (size_t)snprintf(fails + fo, sizeof(fails) - fo,             \
                                   "\n    %s: accepted (rc %d)", #stmt, rc_);  \
        else if (strstr(err.msg, key) == NULL)                                 \
            fo += (size_t)snprintf(fails + fo, sizeof(fails) - fo,             \
                                   "\n    %s: message does not name %s: %s",   \
                                   #stmt, key, err.msg);                       \
    } while (0)
    BAD("crit", d.crit = 0.06);
    BAD("crit", d.crit = -0.01);
    BAD("crit", d.crit = NAN);
    BAD("warn", d.warn = NAN);
    BAD("warn", d.warn = INFINITY);
    BAD("margin", d.margin = -0.001);
    BAD("margin", d.margin = NAN);
    BAD("clear_after", d.clear_after = -1);
    BAD("amp", d.amp = NAN);
    BAD("amp", d.amp = -2);
    BAD("notional", d.notional = -1);
    BAD("notional", d.notional = INFINITY);
    BAD("shock", d.crit_shock = 0.06);
    BAD("shock", d.warn_shock = -0.05);
    BAD("crit_shock", d.crit_shock = NAN);
    BAD("invalid_after", d.invalid_after = -1);
    BAD("invalid_critical_after", d.invalid_critical_after = -1);
    BAD("down_critical_after", d.down_critical_after = -1);
    BAD("cluster_window", d.cluster_window = -1);
    BAD("cluster_notional", d.cluster_notional = -1);
    BAD("cluster_notional", d.cluster_notional = NAN);
#undef BAD
    fails[fo] = '\0';
    ck_assert_msg(fo == 0, "alert_config_check:%s", fails);
    /* plausible non-defaults are accepted */
    d = c; d.warn = 0.1; d.crit = 0.01; d.margin = 0; d.clear_after = 0;
    ck_assert_int_eq(alert_config_check(&d, &err), 0);

    /* names */
    for (int k = 0; k < ALERT_KIND_COUNT; k++) {
        ck_assert_str_eq(alert_kind_name((enum alert_kind)k), kname(k));
        ck_assert_int_eq(alert_kind_from_name(kname(k)), k);
    }
    ck_assert_int_eq(alert_kind_from_name("nope"), -1);
    ck_assert_str_eq(alert_level_name(ALERT_NONE), "none");
    ck_assert_str_eq(alert_level_name(ALERT_WARNING), "warning");
    ck_assert_str_eq(alert_level_name(ALERT_CRITICAL), "critical");
}
END_TEST

/* ---- 6: random paths against the reference -------------------------------- */

struct rrec {
    int kind;
    const char *subject;
    int sev;
    int resolved;
};

static struct rrec *g_rr;
static size_t g_nrr, g_caprr;

static void rr_push(int kind, const char *subject, int sev, int resolved)
{
    if (g_nrr == g_caprr) {
        g_caprr = g_caprr ? 2 * g_caprr : 64;
        g_rr = realloc(g_rr, g_caprr * sizeof(*g_rr));
        ck_assert_ptr_nonnull(g_rr);
    }
    g_rr[g_nrr++] = (struct rrec){ kind, subject, sev, resolved };
}

static int rr_cmp(const void *x, const void *y)
{
    const struct rrec *a = x, *b = y;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return strcmp(a->subject, b->subject);
}

/* The records since `from` equal g_rr (sorted), all at ts t. */
static void rr_compare(const struct fx *f, size_t from, int64_t t, const char *ctx)
{
    int ok = f->s.n - from == g_nrr;
    if (g_nrr > 1)
        qsort(g_rr, g_nrr, sizeof(*g_rr), rr_cmp);
    for (size_t i = 0; ok && i < g_nrr; i++) {
        const struct trec *r = &f->s.v[from + i];
        ok = r->ts == t && r->kind == g_rr[i].kind &&
             strcmp(r->subject, g_rr[i].subject) == 0 && r->sev == g_rr[i].sev &&
             r->resolved == g_rr[i].resolved;
    }
    if (ok)
        return;
    static char want[8192], got[8192];
    size_t o = 0;
    for (size_t i = 0; i < g_nrr && o + 200 < sizeof(want); i++)
        o += (size_t)snprintf(want + o, sizeof(want) - o, "\n    %s %s %s %s",
                              kname(g_rr[i].kind), g_rr[i].subject,
                              g_rr[i].sev == C ? "critical" : "warning",
                              g_rr[i].resolved ? "resolved" : "firing");
    want[o] = '\0';
    o = dump_recs(got, sizeof(got), &f->s, from, -1);
    got[o] = '\0';
    ck_abort_msg("seed %llu: %s at t=%.3f: records differ from the reference\n  want:%s\n  got:%s",
                 (unsigned long long)test_seed(), ctx, (double)(t - T0) / 1e9, want, got);
}

struct rpos {
    int instr;
    int is_short;
    double lp;
    char id[16];
    struct ref_sm sm;
    int dead;
};

static void ref_eval_positions(struct rpos *p, size_t np, int instr, double ref,
                               int64_t t, const struct alert_config *c)
{
    for (size_t i = 0; i < np; i++) {
        struct rpos *q = &p[i];
        if (q->instr != instr || q->dead)
            continue;
        double d = ref_d(q->is_short, ref, q->lp);
        if (d <= 0) {
            if (q->sm.level != ALERT_NONE)
                rr_push(K_NEAR, q->id, q->sm.level, 1);
            rr_push(K_LIQ, q->id, C, 0);
            q->dead = 1;
            continue;
        }
        int asked = ref_near_asked(d, q->sm.level, c->warn, c->crit, c->margin);
        int sev, res;
        if (ref_sm_step(&q->sm, asked, t, c->clear_after, &sev, &res))
            rr_push(K_NEAR, q->id, sev, res);
    }
}

static int g_trace_path = -1;

START_TEST(test_random_positions)
{
    if (getenv("ALERT_TRACE_PATH"))
        g_trace_path = atoi(getenv("ALERT_TRACE_PATH"));
    struct trng r;
    const int npaths = 2000, nsteps = 200;
    size_t total_recs = 0, total_liq = 0, total_res = 0;

    trng_init(&r, "alert-positions-reference");
    for (int path = 0; path < npaths; path++) {
        struct alert_config c;
        struct fx f;
        struct rpos pos[10];
        size_t np = 0;
        const double start[2] = { 100, 2000 };
        double px[2] = { 0, 0 };
        unsigned k = 0;
        lq_err_t err;

        alert_config_default(&c);
        c.warn = 0.01 + 0.09 * trng_unit(&r);
        c.crit = c.warn * (0.1 + 0.7 * trng_unit(&r));
        c.margin = trng_below(&r, 4) == 0 ? 0
                   : trng_unit(&r) * fmin(0.01, (c.warn - c.crit) / 2);
        c.clear_after = (int64_t)(1 + trng_below(&r, 600)) * NS(0.1);
        if (path == 0) {
            alert_config_default(&c);   /* one path on the defaults */
        }
        TCHECK(alert_config_check(&c, &err) == 0, "seed %llu: config refused: %s",
               (unsigned long long)test_seed(), err.msg);
        fx_init(&f, (const struct ispec[]){ BTC, ETH }, 2, &c);
        f.s.check_json = (path % 50) == 0;
        for (int i = 0; i < 2; i++) {
            int n = 1 + (int)trng_below(&r, 4);
            for (int j = 0; j < n; j++) {
                struct rpos *q = &pos[np++];
                memset(q, 0, sizeof(*q));
                q->instr = i;
                q->is_short = (int)trng_below(&r, 2);
                double u = 0.003 + 0.147 * trng_unit(&r);
                q->lp = start[i] * (q->is_short ? 1 + u : 1 - u);
                snprintf(q->id, sizeof(q->id), "%c%u", "pqP"[trng_below(&r, 3)], k++);
                fx_pos(&f, f.in[i], q->id, q->is_short, q->lp, QI(1 + trng_below(&r, 5)));
            }
        }
        double sigma = 0.002 + 0.02 * trng_unit(&r);
        int64_t t = T0;
        for (int step = 0; step < nsteps; step++) {
            t += NS(0.1) * (int64_t)(1 + trng_below(&r, 200));
            size_t before = f.s.n;
            uint64_t op = trng_below(&r, 10);
            char ctx[96];
            g_nrr = 0;
            if (op < 7) {
                int i = op < 4 ? 0 : 1;
                if (px[i] == 0 || trng_below(&r, 4) == 0) {
                    /* steer near a random position of this instrument */
                    struct rpos *q = NULL;
                    for (size_t tries = 0; tries < 8 && q == NULL; tries++) {
                        struct rpos *cand = &pos[trng_below(&r, np)];
                        if (cand->instr == i)
                            q = cand;
                    }
                    if (q != NULL) {
                        double d = -0.003 + (c.warn + c.margin + 0.023) * trng_unit(&r);
                        px[i] = q->is_short ? q->lp / (1 + d) : q->lp / (1 - d);
                    } else if (px[i] == 0) {
                        px[i] = start[i];
                    }
                } else {
                    px[i] *= exp(sigma * (2 * trng_unit(&r) - 1));
                }
                if (px[i] < 0.6 * start[i])
                    px[i] = 0.6 * start[i];
                if (px[i] > 1.4 * start[i])
                    px[i] = 1.4 * start[i];
                ev_mark(&f, f.in[i], px[i], t);
                ref_eval_positions(pos, np, i, px[i], t, &c);
                snprintf(ctx, sizeof(ctx), "path %d step %d: mark %s %.6g", path, step,
                         i ? "ETH" : "BTC", px[i]);
            } else {
                tick(&f, t);
                for (int i = 0; i < 2; i++)
                    if (px[i] > 0)
                        ref_eval_positions(pos, np, i, px[i], t, &c);
                snprintf(ctx, sizeof(ctx), "path %d step %d: tick", path, step);
            }
            if (g_trace_path == path) {
                fprintf(stderr, "TRACE %s t=%.1f:", ctx, (double)(t - T0) / 1e9);
                for (size_t j = 0; j < np; j++)
                    if (px[pos[j].instr] > 0)
                        fprintf(stderr, " %s(%s%s lp %.4g d %.4f L%d%s%s)", pos[j].id,
                                pos[j].instr ? "E" : "B", pos[j].is_short ? "s" : "l",
                                pos[j].lp, ref_d(pos[j].is_short, px[pos[j].instr], pos[j].lp),
                                pos[j].sm.level, pos[j].sm.in_hold ? " hold" : "",
                                pos[j].dead ? " dead" : "");
                fprintf(stderr, "\n");
                for (size_t j = before; j < f.s.n; j++)
                    fprintf(stderr, "   rec %s %s %d %s\n", kname(f.s.v[j].kind),
                            f.s.v[j].subject, f.s.v[j].sev, f.s.v[j].resolved ? "resolved" : "firing");
            }
            rr_compare(&f, before, t, ctx);
        }
        for (size_t i = 0; i < f.s.n; i++) {
            total_liq += f.s.v[i].kind == K_LIQ;
            total_res += f.s.v[i].resolved;
        }
        total_recs += f.s.n;
        fx_fini(&f);
    }
    fprintf(stderr, "alert: random positions: %d paths, %zu records (%zu resolved, %zu liquidated)\n",
            npaths, total_recs, total_res, total_liq);
    ck_assert_uint_gt(total_liq, 100);
    ck_assert_uint_gt(total_res, 1000);
    free(g_rr);
    g_rr = NULL;
    g_nrr = g_caprr = 0;
}
END_TEST

/* The other time-driven kinds (book_invalid, feed_down,
 * liquidation_cluster) on random event streams against the reference. */

struct rconn {
    enum venue_id v;
    const char *name;
    char subject[48];
    int reported, down;
    int64_t since;
    struct ref_sm sm;
};

struct rbook {
    int valid;
    int64_t since;
    char subject[64];
    struct ref_sm sm;
};

struct rprint {
    int64_t ts;
    double n;
};

struct rclu {
    struct rprint pr[512];
    size_t np;
    char subject[64];
    struct ref_sm sm;
};

struct rworld {
    struct rconn conn[3];
    struct rbook book[3];
    struct rclu clu[3][2];   /* [instr][0 long, 1 short] */
    enum venue_id iv[3];
};

static void rw_eval_conns(struct rworld *w, int venue, int64_t t, const struct alert_config *c)
{
    for (int i = 0; i < 3; i++) {
        struct rconn *q = &w->conn[i];
        int sev, res;
        if ((venue >= 0 && (int)q->v != venue) || !q->reported)
            continue;
        if (ref_sm_step(&q->sm, ref_feed_asked(q->down, q->since, t, c->down_critical_after),
                        t, c->clear_after, &sev, &res))
            rr_push(K_FEED, q->subject, sev, res);
    }
}

static void rw_eval_instr(struct rworld *w, int i, int64_t t, const struct alert_config *c)
{
    int sev, res;
    struct rbook *b = &w->book[i];

    if (ref_sm_step(&b->sm, ref_book_asked(b->valid, b->since, t, c->invalid_after,
                                           c->invalid_critical_after),
                    t, c->clear_after, &sev, &res))
        rr_push(K_BOOK, b->subject, sev, res);
    for (int s = 0; s < 2; s++) {
        struct rclu *q = &w->clu[i][s];
        double n = 0;
        for (size_t j = 0; j < q->np; j++)
            if (q->pr[j].ts > t - c->cluster_window && q->pr[j].ts <= t)
                n += q->pr[j].n;
        if (ref_sm_step(&q->sm, ref_cluster_asked(n, q->sm.level, c->cluster_notional), t,
                        c->clear_after, &sev, &res))
            rr_push(K_CLU, q->subject, sev, res);
    }
}

START_TEST(test_random_feeds_books_prints)
{
    static const struct book_level b[] = { { 99, QI(1) } }, a[] = { { 101, QI(1) } };
    static const struct ispec is[3] = { { VENUE_BINANCE, "binance-usdm", "BTCUSDT" },
                                        { VENUE_BINANCE, "binance-usdm", "ETHUSDT" },
                                        { VENUE_BYBIT, "bybit-linear", "BTCUSDT" } };
    static const double prices[] = { 10000, 20000, 50000, 100000 };
    struct trng r;
    const int npaths = 600, nsteps = 300;
    size_t total = 0, by_kind[ALERT_KIND_COUNT] = { 0 };
    static struct rworld w;

    trng_init(&r, "alert-feeds-reference");
    for (int path = 0; path < npaths; path++) {
        struct alert_config c;
        struct fx f;
        lq_err_t err;

        alert_config_default(&c);
        if (path > 0) {
            c.clear_after = (int64_t)(1 + trng_below(&r, 600)) * NS(0.1);
            c.invalid_after = (int64_t)(1 + trng_below(&r, 100)) * NS(0.1);
            c.invalid_critical_after = c.invalid_after + (int64_t)trng_below(&r, 600) * NS(0.1);
            c.down_critical_after = (int64_t)(1 + trng_below(&r, 900)) * NS(0.1);
            c.cluster_window = (int64_t)(50 + trng_below(&r, 1200)) * NS(0.1);
            c.cluster_notional = 1e5 * (double)(1 + trng_below(&r, 20));
        }
        TCHECK(alert_config_check(&c, &err) == 0, "config refused: %s", err.msg);
        fx_init(&f, is, 3, &c);
        f.s.check_json = (path % 50) == 0;
        memset(&w, 0, sizeof(w));
        const char *cn[3] = { "public", "market", "public" };
        enum venue_id cv[3] = { VENUE_BINANCE, VENUE_BINANCE, VENUE_BYBIT };
        for (int i = 0; i < 3; i++) {
            w.conn[i].v = cv[i];
            w.conn[i].name = cn[i];
            snprintf(w.conn[i].subject, sizeof(w.conn[i].subject), "%s/%s",
                     venue_name(cv[i]), cn[i]);
            w.book[i].valid = 1;
            w.iv[i] = is[i].v;
            snprintf(w.book[i].subject, sizeof(w.book[i].subject), "%s:%s", is[i].venue,
                     is[i].symbol);
            snprintf(w.clu[i][0].subject, sizeof(w.clu[i][0].subject), "%s:%s:long",
                     is[i].venue, is[i].symbol);
            snprintf(w.clu[i][1].subject, sizeof(w.clu[i][1].subject), "%s:%s:short",
                     is[i].venue, is[i].symbol);
            ck_assert_int_eq(market_apply_snapshot(f.in[i], b, 1, a, 1, 1), BOOK_OK);
        }
        int64_t t = T0;
        for (int step = 0; step < nsteps; step++) {
            t += trng_below(&r, 3) == 0 ? NS(0.1) * (int64_t)(1 + trng_below(&r, 20))
                                        : NS(0.1) * (int64_t)(1 + trng_below(&r, 200));
            size_t before = f.s.n;
            uint64_t op = trng_below(&r, 20);
            int i = (int)trng_below(&r, 3);
            char ctx[128];
            g_nrr = 0;
            if (op < 7) {                               /* a print */
                int lng = (int)trng_below(&r, 2);
                uint64_t q = 1 + trng_below(&r, 50);
                double p = prices[trng_below(&r, 4)];
                struct rclu *cl = &w.clu[i][lng ? 0 : 1];
                ev_print(&f, f.in[i], lng, QI(q), p,
                         trng_below(&r, 2) ? LIQ_COMPLETE : LIQ_SAMPLED, t);
                if (cl->np < 512)
                    cl->pr[cl->np++] = (struct rprint){ t, (double)q * p };
                rw_eval_instr(&w, i, t, &c);
                rw_eval_conns(&w, (int)w.iv[i], t, &c);
                snprintf(ctx, sizeof(ctx), "path %d step %d: print %d %s %llu x %g", path,
                         step, i, lng ? "long" : "short", (unsigned long long)q, p);
            } else if (op < 10) {                       /* book turns invalid / valid */
                if (w.book[i].valid) {
                    ev_bookfeed(&f, f.in[i], 0, t);
                    w.book[i].valid = 0;
                    w.book[i].since = t;
                } else if (trng_below(&r, 2)) {
                    ev_snapshot(&f, f.in[i], b, 1, a, 1, t);
                    w.book[i].valid = 1;
                } else {
                    ck_assert_int_eq(market_apply_snapshot(f.in[i], b, 1, a, 1, 9), BOOK_OK);
                    ev_bookfeed(&f, f.in[i], 1, t);
                    w.book[i].valid = 1;
                }
                rw_eval_instr(&w, i, t, &c);
                rw_eval_conns(&w, (int)w.iv[i], t, &c);
                snprintf(ctx, sizeof(ctx), "path %d step %d: book %d %s", path, step, i,
                         w.book[i].valid ? "valid" : "invalid");
            } else if (op < 14) {                       /* a connection event */
                struct rconn *q = &w.conn[i];
                enum mev_feed_kind k = trng_below(&r, 2) ? FEED_CONNECTED
                                       : trng_below(&r, 2) ? FEED_DISCONNECTED : FEED_STALE;
                ev_conn(&f, q->v, q->name, k, t);
                q->reported = 1;
                if (k == FEED_CONNECTED) {
                    q->down = 0;
                } else if (!q->down) {
                    q->down = 1;
                    q->since = t;
                }
                rw_eval_conns(&w, (int)q->v, t, &c);
                snprintf(ctx, sizeof(ctx), "path %d step %d: %s %s", path, step, q->subject,
                         k == FEED_CONNECTED ? "connected" : k == FEED_STALE ? "stale"
                                                                            : "disconnected");
            } else if (op < 16) {                       /* a mark: just an event */
                ev_mark(&f, f.in[i], 100, t);
                rw_eval_instr(&w, i, t, &c);
                rw_eval_conns(&w, (int)w.iv[i], t, &c);
                snprintf(ctx, sizeof(ctx), "path %d step %d: mark %d", path, step, i);
            } else {
                tick(&f, t);
                for (int j = 0; j < 3; j++)
                    rw_eval_instr(&w, j, t, &c);
                rw_eval_conns(&w, -1, t, &c);
                snprintf(ctx, sizeof(ctx), "path %d step %d: tick", path, step);
            }
            rr_compare(&f, before, t, ctx);
        }
        for (size_t j = 0; j < f.s.n; j++)
            by_kind[f.s.v[j].kind]++;
        total += f.s.n;
        fx_fini(&f);
    }
    fprintf(stderr, "alert: random feeds/books/prints: %d paths, %zu records "
            "(book %zu, feed %zu, cluster %zu)\n", npaths, total, by_kind[K_BOOK],
            by_kind[K_FEED], by_kind[K_CLU]);
    ck_assert_uint_gt(by_kind[K_BOOK], 500);
    ck_assert_uint_gt(by_kind[K_FEED], 500);
    ck_assert_uint_gt(by_kind[K_CLU], 500);
    free(g_rr);
    g_rr = NULL;
    g_nrr = g_caprr = 0;
}
END_TEST

/* alerts_set_config: new thresholds from the next evaluation, levels kept. */
START_TEST(test_set_config)
{
    struct fx f;
    struct alert_config c;

    fx_init(&f, &BTC, 1, NULL);
    fx_pos(&f, f.in[0], "L", 0, 95, QI(1));
    ev_mark(&f, f.in[0], 99, SEC(0));          /* d 0.0404: warning */
    alert_config_default(&c);
    c.warn = 0.03;
    c.clear_after = NS(10);
    alerts_set_config(f.a, &c);
    ck_assert_uint_eq(alerts_active_count(f.a), 1);
    tick(&f, SEC(1));                          /* 0.0404 > 0.035: none, hold from 1 */
    tick(&f, SEC(10.9));
    tick(&f, SEC(11));                         /* resolved */
    static const struct xrec x[] = {
        { 0, K_NEAR, "L", W, FIRING, NULL },
        { 11, K_NEAR, "L", W, RESOLVED, NULL },
    };
    EXPECT(&f, 0, -1, x, "set_config");
    fx_fini(&f);
}
END_TEST

Suite *alert_suite(void)
{
    Suite *s = suite_create("alert");
    TCase *tc = tcase_create("rules");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_config);
    tcase_add_test(tc, test_worked_example);
    tcase_add_test(tc, test_worked_example_short);
    tcase_add_test(tc, test_near_hold_rules);
    tcase_add_test(tc, test_near_reference_price);
    tcase_add_test(tc, test_liquidated);
    tcase_add_test(tc, test_liquidated_during_hold);
    tcase_add_test(tc, test_liquidated_then_changed);
    tcase_add_test(tc, test_liquidated_details_print);
    tcase_add_test(tc, test_cascade_risk);
    tcase_add_test(tc, test_cascade_other_trips);
    tcase_add_test(tc, test_book_invalid);
    tcase_add_test(tc, test_book_never_valid);
    tcase_add_test(tc, test_feed_down);
    tcase_add_test(tc, test_venue_adl_warning);
    tcase_add_test(tc, test_liquidation_cluster);
    tcase_add_test(tc, test_order_and_active);
    tcase_add_test(tc, test_active_stop);
    tcase_add_test(tc, test_set_config);
    tcase_add_test(tc, test_oscillation);
    tcase_add_test(tc, test_random_positions);
    tcase_add_test(tc, test_random_feeds_books_prints);
    suite_add_tcase(s, tc);
    return s;
}
