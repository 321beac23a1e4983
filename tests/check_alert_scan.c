/*
 * check_alert_scan.c - the alert rules' incremental position scan (bands
 * between the previous and the current reference price, cursors, the
 * lists of unsettled states and of holds running out) writes exactly the
 * records of a full scan of every position near its LP, on random price
 * paths through dense positions, with liquidations, position changes,
 * ticks and threshold changes on the way.
 */
#include <stdio.h>
#include <stdlib.h>

#include "liqmon/alert.h"
#include "liqmon/engine.h"
#include "suites.h"

#define NS 1000000000LL

struct rec {
    uint64_t id;
    int64_t ts;
    int kind, severity, resolved;
    char subject[64];
    char message[400];
    char details[600];
};

struct side {
    market_t *m;
    struct mkt_instr *in;
    engine_t *e;
    alerts_t *a;
    struct rec *r;
    size_t n, cap;
};

static void sink(void *arg, const struct alert_record *r)
{
    struct side *s = arg;

    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->r = realloc(s->r, s->cap * sizeof(*s->r));
        ck_assert_ptr_nonnull(s->r);
    }
    struct rec *x = &s->r[s->n++];
    x->id = r->id;
    x->ts = r->ts;
    x->kind = r->kind;
    x->severity = r->severity;
    x->resolved = r->resolved;
    snprintf(x->subject, sizeof(x->subject), "%s", r->subject);
    snprintf(x->message, sizeof(x->message), "%s", r->message);
    snprintf(x->details, sizeof(x->details), "%s", r->details);
}

static void side_init(struct side *s, const struct alert_config *ac, int full)
{
    struct instrument ins;
    struct engine_config ec;
    lq_err_t err;

    memset(s, 0, sizeof(*s));
    memset(&ins, 0, sizeof(ins));
    snprintf(ins.venue, sizeof(ins.venue), "bybit-linear");
    snprintf(ins.symbol, sizeof(ins.symbol), "BTCUSDT");
    ins.tick_size = 0.1;
    ins.lot_step = 100000;
    ins.contract_value = DEC_SCALE;
    s->m = market_create();
    s->in = market_add(s->m, VENUE_BYBIT, &ins, &err);
    ck_assert_ptr_nonnull(s->in);
    engine_config_default(&ec);
    s->e = engine_create(s->m, &ec, &err);
    ck_assert_ptr_nonnull(s->e);
    s->a = alerts_create(ac, s->m, s->e, sink, s, &err);
    ck_assert_ptr_nonnull(s->a);
    alerts_debug_full_scan(s->a, full);
}

static void side_fini(struct side *s)
{
    alerts_destroy(s->a);
    engine_destroy(s->e);
    market_destroy(s->m);
    free(s->r);
}

static void put_position(struct side *s, const char *id, enum pos_side side,
                         double lp, dec_t qty)
{
    pindex_t *ix = engine_pindex(s->e, s->in);
    struct pos_spec p;
    uint32_t h;
    lq_err_t err;

    memset(&p, 0, sizeof(p));
    p.id = id;
    p.side = side;
    p.qty = qty;
    p.liq_price = lp;
    if (pindex_find(ix, id, &h) == PINDEX_OK)
        ck_assert_int_eq(pindex_update(ix, h, &p, &err), PINDEX_OK);
    else
        ck_assert_int_eq(pindex_insert(ix, &p, NULL, &err), PINDEX_OK);
}

static void mark(struct side *s, double px, int64_t t)
{
    struct mkt_event ev;

    memset(&ev, 0, sizeof(ev));
    s->in->mark = px;
    ev.type = MEV_MARK;
    ev.venue = VENUE_BYBIT;
    ev.instr = s->in;
    ev.recv_ts = t;
    ev.u.mark.mark = px;
    engine_on_event(s->e, &ev);
    alerts_on_event(s->a, &ev);
}

START_TEST(incremental_equals_full_scan)
{
    struct trng r;
    char msg[64];

    trng_init(&r, "alert_scan");
    for (int path = 0; path < 60; path++) {
        struct alert_config ac;
        struct side inc, full;
        double ref = 100, step;
        int64_t t = 1700000000LL * NS;
        int npos = 200 + (int)trng_below(&r, 1500);

        alert_config_default(&ac);
        if (trng_below(&r, 3) == 0) {
            ac.clear_after = (int64_t)trng_below(&r, 20) * NS;
            ac.margin = 0.001 * (double)trng_below(&r, 10);
        }
        side_init(&inc, &ac, 0);
        side_init(&full, &ac, 1);
        /* Dense LPs within 8% of the price, some exactly on a grid so
         * that LPs tie and breakpoints land on them. */
        for (int i = 0; i < npos; i++) {
            enum pos_side sd = trng_below(&r, 2) ? POS_LONG : POS_SHORT;
            double dist = 0.001 + 0.08 * trng_unit(&r);
            double lp;
            if (trng_below(&r, 4) == 0)
                dist = 0.005 * (double)(1 + trng_below(&r, 16));
            lp = sd == POS_LONG ? ref * (1 - dist) : ref * (1 + dist);
            snprintf(msg, sizeof(msg), "p%d", i);
            dec_t q = (dec_t)(1 + trng_below(&r, 100)) * 1000000;
            put_position(&inc, msg, sd, lp, q);
            put_position(&full, msg, sd, lp, q);
        }
        step = 0.0002 + 0.003 * trng_unit(&r);
        for (int i = 0; i < 1500; i++) {
            uint64_t what = trng_below(&r, 100);
            t += (int64_t)(trng_below(&r, 4000) + 1) * 1000000;   /* 1 ms..4 s */
            if (what < 3) {
                /* a tick without a price: holds run out */
                t += (int64_t)trng_below(&r, 40) * NS;
                alerts_tick(inc.a, t);
                alerts_tick(full.a, t);
                continue;
            }
            if (what < 5) {
                /* a position changes (and is back in the cascade) */
                int k = (int)trng_below(&r, (uint64_t)npos);
                enum pos_side sd = trng_below(&r, 2) ? POS_LONG : POS_SHORT;
                double lp = sd == POS_LONG ? ref * (1 - 0.06 * trng_unit(&r))
                                           : ref * (1 + 0.06 * trng_unit(&r));
                snprintf(msg, sizeof(msg), "p%d", k);
                put_position(&inc, msg, sd, lp, 100000000);
                put_position(&full, msg, sd, lp, 100000000);
            }
            if (what == 5) {
                /* new thresholds (a reload) */
                ac.warn = 0.03 + 0.04 * trng_unit(&r);
                ac.crit = ac.warn * trng_unit(&r);
                alerts_set_config(inc.a, &ac);
                alerts_set_config(full.a, &ac);
            }
            /* a random walk with jumps; it may cross LPs (liquidations) */
            if (what < 8)
                ref *= 1 + (trng_unit(&r) - 0.5) * 0.04;
            else
                ref *= 1 + (trng_unit(&r) - 0.5) * step;
            mark(&inc, ref, t);
            mark(&full, ref, t);
        }
        if (getenv("SCAN_DEBUG")) {
            for (size_t k = 0; k < full.n; k++)
                if (strcmp(full.r[k].subject, getenv("SCAN_DEBUG")) == 0)
                    printf("full %zu t=%lld %s\n", k, (long long)full.r[k].ts, full.r[k].message);
            for (size_t k = 0; k < inc.n; k++)
                if (strcmp(inc.r[k].subject, getenv("SCAN_DEBUG")) == 0)
                    printf("inc  %zu t=%lld %s\n", k, (long long)inc.r[k].ts, inc.r[k].message);
        }
        for (size_t k = 0; k < inc.n && k < full.n; k++) {
            struct rec *x = &inc.r[k], *y = &full.r[k];
            TCHECK(x->id == y->id && x->ts == y->ts && x->kind == y->kind &&
                   x->severity == y->severity && x->resolved == y->resolved &&
                   strcmp(x->subject, y->subject) == 0 &&
                   strcmp(x->message, y->message) == 0 &&
                   strcmp(x->details, y->details) == 0,
                   "seed %llu path %d record %zu: incremental '%s' vs full '%s'",
                   (unsigned long long)test_seed(), path, k, x->message, y->message);
        }
        TCHECK(inc.n == full.n, "seed %llu path %d: %zu records incremental, %zu "
               "full", (unsigned long long)test_seed(), path, inc.n, full.n);
        side_fini(&inc);
        side_fini(&full);
    }
}
END_TEST

Suite *alert_scan_suite(void)
{
    Suite *s = suite_create("alert_scan");
    TCase *tc = tcase_create("scan");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, incremental_equals_full_scan);
    suite_add_tcase(s, tc);
    return s;
}
