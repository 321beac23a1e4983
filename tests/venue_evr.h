/*
 * venue_evr.h - a recording struct venue_io for the OKX and Hyperliquid
 * adapter suites (events with their prices, sizes and kinds; messages
 * sent; REST paths asked for; reconnects), in the file-local R.
 */
#ifndef LIQMON_TESTS_VENUE_EVR_H
#define LIQMON_TESTS_VENUE_EVR_H

#include <stdio.h>
#include <string.h>

#include "liqmon/venue.h"

struct evr {
    enum mev_type type;
    struct mkt_instr *in;
    int64_t ts;
    double px, px2;
    dec_t q;
    int flag, kind, pk, cov;
    size_t nb, na;
    uint64_t seq;
    /* MEV_ADL_WARNING */
    double bal, max, thr, ratio, trig, stop;
    char scope[64], ccy[16], state[24];
};

static struct rec {
    struct evr ev[512];
    int nev, nall;
    char sent[64][1024];
    int nsent;
    char get[32][256];
    int nget;
    int nreconn;
} R;

static inline void r_emit(void *arg, const struct mkt_event *e)
{
    (void)arg;
    R.nall++;
    if (R.nev >= (int)(sizeof(R.ev) / sizeof(R.ev[0])))
        return;
    struct evr *r = &R.ev[R.nev++];
    memset(r, 0, sizeof(*r));
    r->type = e->type;
    r->in = e->instr;
    r->ts = e->ts;
    switch (e->type) {
    case MEV_MARK:
        r->px = e->u.mark.mark;
        r->px2 = e->u.mark.index;
        break;
    case MEV_BOOK_SNAPSHOT:
    case MEV_BOOK_DELTA:
        r->nb = e->u.book.bids.n;
        r->na = e->u.book.asks.n;
        r->seq = e->u.book.seq;
        if (r->nb) {
            r->px = e->u.book.bids.levels[0].price;
            r->q = e->u.book.bids.levels[0].qty;
        }
        break;
    case MEV_LIQUIDATION:
        r->flag = e->u.liq.liquidated_long;
        r->px = e->u.liq.price;
        r->q = e->u.liq.qty;
        r->pk = e->u.liq.price_kind;
        r->cov = e->u.liq.coverage;
        break;
    case MEV_OPEN_INTEREST:
        r->q = e->u.oi.oi;
        break;
    case MEV_TRADE:
        r->px = e->u.trade.price;
        r->q = e->u.trade.qty;
        r->flag = e->u.trade.buyer_aggressor;
        break;
    case MEV_FEED:
        r->kind = e->u.feed.kind;
        break;
    case MEV_ADL_WARNING:
        r->kind = (int)e->u.adl.level;
        r->bal = e->u.adl.balance;
        r->max = e->u.adl.max_balance;
        r->thr = e->u.adl.threshold;
        r->ratio = e->u.adl.ratio;
        r->trig = e->u.adl.ratio_trigger;
        r->stop = e->u.adl.ratio_stop;
        snprintf(r->scope, sizeof(r->scope), "%s", e->u.adl.scope);
        snprintf(r->ccy, sizeof(r->ccy), "%s", e->u.adl.ccy);
        snprintf(r->state, sizeof(r->state), "%s", e->u.adl.state);
        break;
    default:
        break;
    }
}

static inline int r_send(void *arg, int conn, const char *text, size_t len)
{
    (void)arg;
    (void)conn;
    if (R.nsent < 64) {
        size_t n = len < 1023 ? len : 1023;
        memcpy(R.sent[R.nsent], text, n);
        R.sent[R.nsent][n] = '\0';
        R.nsent++;
    }
    return 0;
}

static inline int r_get(void *arg, const char *path)
{
    (void)arg;
    if (R.nget < 32)
        snprintf(R.get[R.nget++], sizeof(R.get[0]), "%s", path);
    return 0;
}

static inline int r_reconn(void *arg, int conn, const char *why)
{
    (void)arg;
    (void)conn;
    (void)why;
    R.nreconn++;
    return 0;
}

static inline int count_ev(enum mev_type t)
{
    int n = 0;
    for (int i = 0; i < R.nev; i++)
        n += R.ev[i].type == t;
    return n;
}

static inline int count_feed(enum mev_feed_kind k)
{
    int n = 0;
    for (int i = 0; i < R.nev; i++)
        n += R.ev[i].type == MEV_FEED && R.ev[i].kind == (int)k;
    return n;
}

static inline const struct evr *last_ev(enum mev_type t)
{
    for (int i = R.nev - 1; i >= 0; i--)
        if (R.ev[i].type == t)
            return &R.ev[i];
    return NULL;
}

/* ---- fixture ------------------------------------------------------------ */

#endif
