/*
 * venue_rec.h - a recording struct venue_io for the adapter suites: every
 * event, every message sent, every REST request and reconnect, kept in
 * the file-local R for the assertions.  Included by one suite file each
 * (everything here is static to that file).
 */
#ifndef LIQMON_TESTS_VENUE_REC_H
#define LIQMON_TESTS_VENUE_REC_H

#include <stdio.h>
#include <string.h>

#include "liqmon/venue.h"

/* ---- a recording venue_io ------------------------------------------------ */

struct rec_ev {
    enum mev_type type;
    struct mkt_instr *in;
    int64_t ts;
    enum mev_feed_kind kind;
    double mark, index;
    int liq_long;
    double liq_px;
    enum liq_price_kind pk;
    enum liq_coverage cov;
    dec_t qty;
    size_t nb, na;
    uint64_t seq;
    /* MEV_ADL_WARNING */
    int adl_level;
    double adl_bal, adl_max, adl_thr, adl_ratio, adl_trig, adl_stop;
    char adl_scope[64], adl_ccy[16], adl_state[24];
};

#define REC_EV 512
#define REC_MSG 64

static struct rec {
    struct rec_ev ev[REC_EV];
    size_t nev;                     /* all events, even past REC_EV */
    char get[REC_MSG][128];
    size_t nget;
    char send[REC_MSG][256];
    size_t nsend;
    int nreconnect;
} R;

static inline void rec_emit(void *arg, const struct mkt_event *ev)
{
    (void)arg;
    if (R.nev < REC_EV) {
        struct rec_ev *r = &R.ev[R.nev];
        memset(r, 0, sizeof(*r));
        r->type = ev->type;
        r->in = ev->instr;
        r->ts = ev->ts;
        switch (ev->type) {
        case MEV_FEED: r->kind = ev->u.feed.kind; break;
        case MEV_MARK: r->mark = ev->u.mark.mark; r->index = ev->u.mark.index; break;
        case MEV_LIQUIDATION:
            r->liq_long = ev->u.liq.liquidated_long;
            r->liq_px = ev->u.liq.price;
            r->pk = ev->u.liq.price_kind;
            r->cov = ev->u.liq.coverage;
            r->qty = ev->u.liq.qty;
            break;
        case MEV_BOOK_SNAPSHOT:
        case MEV_BOOK_DELTA:
            r->nb = ev->u.book.bids.n;
            r->na = ev->u.book.asks.n;
            r->seq = ev->u.book.seq;
            break;
        case MEV_ADL_WARNING:
            r->adl_level = (int)ev->u.adl.level;
            r->adl_bal = ev->u.adl.balance;
            r->adl_max = ev->u.adl.max_balance;
            r->adl_thr = ev->u.adl.threshold;
            r->adl_ratio = ev->u.adl.ratio;
            r->adl_trig = ev->u.adl.ratio_trigger;
            r->adl_stop = ev->u.adl.ratio_stop;
            snprintf(r->adl_scope, sizeof(r->adl_scope), "%s", ev->u.adl.scope);
            snprintf(r->adl_ccy, sizeof(r->adl_ccy), "%s", ev->u.adl.ccy);
            snprintf(r->adl_state, sizeof(r->adl_state), "%s", ev->u.adl.state);
            break;
        default: break;
        }
    }
    R.nev++;
}

static inline int rec_send(void *arg, int conn, const char *text, size_t len)
{
    (void)arg;
    (void)conn;
    if (R.nsend < REC_MSG)
        snprintf(R.send[R.nsend], sizeof(R.send[0]), "%.*s", (int)len, text);
    R.nsend++;
    return 0;
}

static inline int rec_get(void *arg, const char *path)
{
    (void)arg;
    if (R.nget < REC_MSG)
        snprintf(R.get[R.nget], sizeof(R.get[0]), "%s", path);
    R.nget++;
    return 0;
}

static inline int rec_reconnect(void *arg, int conn, const char *why)
{
    (void)arg;
    (void)conn;
    (void)why;
    R.nreconnect++;
    return 0;
}

static inline size_t count_type(enum mev_type t)
{
    size_t n = 0;
    for (size_t i = 0; i < R.nev && i < REC_EV; i++)
        n += R.ev[i].type == t;
    return n;
}

static inline size_t count_feed(enum mev_feed_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < R.nev && i < REC_EV; i++)
        n += R.ev[i].type == MEV_FEED && R.ev[i].kind == k;
    return n;
}

static inline const struct rec_ev *last_of(enum mev_type t)
{
    for (size_t i = R.nev < REC_EV ? R.nev : REC_EV; i-- > 0;)
        if (R.ev[i].type == t)
            return &R.ev[i];
    return NULL;
}

#endif
