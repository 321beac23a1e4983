/*
 * bench_alert - the cost of the alert rules per event, beside the ladder's.
 *
 * One instrument, a 1,000-level book a side, 1e5 tracked positions per
 * side with a realistic leverage mix (2x-100x, so most of them sit within
 * warn + margin of the price and would be "near" in a scan), and a mark
 * price that random-walks.  The same event stream runs twice on identical
 * setups: engine alone, then engine + alert rules; the difference per
 * event is what the rules add.  Target (issue 10): the rules add < 20% to
 * the ladder's cost per tick.  Figures, not tests.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "liqmon/alert.h"
#include "liqmon/engine.h"

#define NPOS    100000
#define NLEVELS 1000
#define REF     90000.0
#define EVENTS  20000

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unif(void) { return (double)(rng() >> 11) / 9007199254740992.0; }

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct setup {
    market_t *m;
    struct mkt_instr *in;
    engine_t *e;
    alerts_t *a;
    uint64_t records;
    double quiet_ns, loud_ns;      /* alerts_on_event time without / with records */
    uint64_t quiet;
};

static void count(void *arg, const struct alert_record *r)
{
    (void)r;
    ((struct setup *)arg)->records++;
}

static int build(struct setup *s, int with_alerts)
{
    struct instrument ins;
    struct engine_config ec;
    struct alert_config ac;
    struct book_level *bids = malloc(NLEVELS * sizeof(*bids));
    struct book_level *asks = malloc(NLEVELS * sizeof(*asks));
    pindex_t *ix;
    lq_err_t err;

    memset(s, 0, sizeof(*s));
    memset(&ins, 0, sizeof(ins));
    snprintf(ins.venue, sizeof(ins.venue), "binance-usdm");
    snprintf(ins.symbol, sizeof(ins.symbol), "BTCUSDT");
    ins.tick_size = 0.1;
    ins.lot_step = 100000;
    ins.contract_value = DEC_SCALE;
    s->m = market_create();
    s->in = market_add(s->m, VENUE_BINANCE, &ins, &err);
    engine_config_default(&ec);
    s->e = engine_create(s->m, &ec, &err);
    if (s->in == NULL || s->e == NULL || bids == NULL || asks == NULL)
        return -1;
    rng_state = 42;
    for (int i = 0; i < NLEVELS; i++) {
        bids[i].price = REF * (1 - 0.0001 * (i + 1));
        asks[i].price = REF * (1 + 0.0001 * (i + 1));
        bids[i].qty = (dec_t)(1 + rng() % 500) * 1000000;
        asks[i].qty = (dec_t)(1 + rng() % 500) * 1000000;
    }
    market_apply_snapshot(s->in, bids, NLEVELS, asks, NLEVELS, 1);
    free(bids);
    free(asks);
    ix = engine_pindex(s->e, s->in);
    for (int side = 0; side < 2; side++) {
        for (int i = 0; i < NPOS; i++) {
            struct pos_spec p;
            char id[32];
            double lev = 2 + unif() * 98;
            double dist = (1.0 / lev) * (0.6 + 0.4 * unif()) + 0.003;
            snprintf(id, sizeof(id), "%c%d", side ? 's' : 'l', i);
            memset(&p, 0, sizeof(p));
            p.id = id;
            p.side = side ? POS_SHORT : POS_LONG;
            p.qty = (dec_t)(1 + rng() % 2000) * 100000;
            p.liq_price = side ? REF * (1 + dist) : REF * (1 - dist);
            if (pindex_insert(ix, &p, NULL, &err) != PINDEX_OK)
                return -1;
        }
    }
    if (with_alerts) {
        alert_config_default(&ac);
        s->a = alerts_create(&ac, s->m, s->e, count, s, &err);
        if (s->a == NULL)
            return -1;
    }
    return 0;
}

/* A mark random walk of +-0.002% a step (about one tick of BTC), 10
 * events per second of event clock.  mark_every 1: every event is a mark
 * (the worst case for the position rules); k: one mark per k events, the
 * others book deltas at the top of the book (what venues mostly send). */
static double run(struct setup *s, double *marks, int from, int n, int mark_every)
{
    double t0 = now_ns();

    for (int i = from; i < from + n; i++) {
        struct mkt_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.venue = VENUE_BINANCE;
        ev.instr = s->in;
        ev.recv_ts = 1700000000000000000LL + (int64_t)i * 100000000;
        if (i % mark_every == 0) {
            s->in->mark = marks[i];
            ev.type = MEV_MARK;
            ev.u.mark.mark = marks[i];
        } else {
            struct book_level lv = { REF * (1 - 0.0001), (dec_t)(1 + i % 97) * 1000000 };
            market_apply_delta(s->in, &lv, 1, NULL, 0, (uint64_t)i + 2);
            ev.type = MEV_BOOK_DELTA;
            ev.u.book.bids.levels = &lv;      /* the delta names its level */
            ev.u.book.bids.n = 1;
        }
        engine_on_event(s->e, &ev);
        if (s->a) {
            uint64_t before = s->records;
            double t1 = now_ns();
            alerts_on_event(s->a, &ev);
            t1 = now_ns() - t1;
            if (s->records == before) {
                s->quiet_ns += t1;
                s->quiet++;
            } else {
                s->loud_ns += t1;
            }
        }
    }
    return now_ns() - t0;
}

/* Both setups over the same events, in alternating blocks, so that load
 * from elsewhere on the machine falls on both alike.  ns per event. */
static void run_pair(struct setup *plain, struct setup *rules, double *marks,
                     int mark_every, double *tp, double *tr)
{
    *tp = *tr = 0;
    for (int b = 0; b < EVENTS; b += 500) {
        *tp += run(plain, marks, b, 500, mark_every);
        *tr += run(rules, marks, b, 500, mark_every);
    }
    *tp /= EVENTS;
    *tr /= EVENTS;
}

int main(void)
{
    struct setup plain, rules;
    double *marks = malloc(EVENTS * sizeof(*marks)), m = REF;
    double t_plain, t_rules, t_first;
    struct mkt_event ev;

    if (marks == NULL || build(&plain, 0) != 0 || build(&rules, 1) != 0) {
        fprintf(stderr, "bench_alert: setup failed\n");
        return 1;
    }
    rng_state = 7;
    for (int i = 0; i < EVENTS; i++) {
        m *= 1 + (unif() - 0.5) * 0.00004;
        marks[i] = m;
    }
    /* The first evaluation scans every position near its LP in full. */
    memset(&ev, 0, sizeof(ev));
    rules.in->mark = plain.in->mark = REF;
    ev.type = MEV_MARK;
    ev.venue = VENUE_BINANCE;
    ev.recv_ts = 1700000000000000000LL - 1;
    ev.instr = plain.in;
    engine_on_event(plain.e, &ev);
    ev.instr = rules.in;
    engine_on_event(rules.e, &ev);
    {
        double t0 = now_ns();
        alerts_on_event(rules.a, &ev);
        t_first = now_ns() - t0;
    }
    uint64_t first_records = rules.records;
    run_pair(&plain, &rules, marks, 1, &t_plain, &t_rules);
    printf("alert rules, 1e5 positions per side, 1,000-level book, %d mark ticks\n",
           EVENTS);
    printf("  first evaluation (full scan, %llu records): %.2f ms\n",
           (unsigned long long)first_records, t_first / 1e6);
    printf("  engine alone (ladder): %8.0f ns/event\n", t_plain);
    printf("  engine + alert rules:  %8.0f ns/event (%llu records after the first)\n",
           t_rules, (unsigned long long)(rules.records - first_records));
    printf("  rules add (every event a mark: worst case): %.1f%%   target < 20%%\n",
           (t_rules - t_plain) / t_plain * 100);
    printf("  evaluation alone, events writing no record: %.0f ns/event (%.1f%% of "
           "the ladder; %llu events; about 100 positions cross a breakpoint per "
           "tick at this density)\n", rules.quiet_ns / (double)rules.quiet,
           rules.quiet_ns / (double)rules.quiet / t_plain * 100,
           (unsigned long long)rules.quiet);
    printf("  records: %.0f ns each (message and details built)\n",
           rules.loud_ns / (double)(rules.records - first_records));
    {
        /* The same walk with one mark per 10 events, book deltas between. */
        double p2, r2;
        run_pair(&plain, &rules, marks, 10, &p2, &r2);
        printf("  mixed events (1 mark : 9 book deltas): engine %.0f ns/event, "
               "+ rules %.0f ns/event: rules add %.1f%%   target < 20%%\n",
               p2, r2, (r2 - p2) / p2 * 100);
    }
    alerts_destroy(rules.a);
    engine_destroy(rules.e);
    market_destroy(rules.m);
    engine_destroy(plain.e);
    market_destroy(plain.m);
    free(marks);
    return 0;
}
