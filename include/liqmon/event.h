/*
 * event.h - the normalised market events every venue adapter emits.
 *
 * Whatever a venue's wire format, what flows downstream (risk engine,
 * alerts, store, replay summaries) is one of these.  Units are normalised:
 * quantities in base units (exact dec_t), prices as doubles, times in
 * nanoseconds since the Unix epoch.  An event and everything it points to
 * is borrowed for the duration of the callback only.
 */
#ifndef LIQMON_EVENT_H
#define LIQMON_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/book.h"
#include "liqmon/dec.h"
#include "liqmon/market.h"

enum mev_type {
    MEV_MARK = 0,        /* mark price (and index / oracle where sent) */
    MEV_BOOK_SNAPSHOT,   /* a full book was applied */
    MEV_BOOK_DELTA,      /* changed levels were applied */
    MEV_LIQUIDATION,     /* a venue's liquidation print */
    MEV_OPEN_INTEREST,
    MEV_TRADE,
    MEV_FEED,            /* feed / book health changed (see mev_feed_kind) */
    MEV_TYPE_COUNT
};

const char *mev_type_name(enum mev_type t);

/* How complete a venue's liquidation stream is (venues README). */
enum liq_coverage {
    LIQ_SAMPLED = 0,     /* at most one print per symbol per second:
                            Binance forceOrder, OKX liquidation-orders */
    LIQ_COMPLETE,        /* every liquidation: Bybit allLiquidation */
};

/* What the print's price means. */
enum liq_price_kind {
    LIQ_PX_ORDER = 0,    /* the liquidation order's price (Binance p) */
    LIQ_PX_AVG_FILL,     /* average fill price */
    LIQ_PX_BANKRUPTCY,   /* bankruptcy price (OKX bkPx, Bybit p) */
};

enum mev_feed_kind {
    FEED_CONNECTED = 0,  /* a connection is up and data flows */
    FEED_DISCONNECTED,
    FEED_STALE,          /* no message within the watchdog time */
    FEED_BOOK_INVALID,   /* gap, checksum mismatch, crossed book ... */
    FEED_BOOK_VALID,     /* resynchronised */
    FEED_REJECTED,       /* a frame the adapter could not use */
};

struct mev_level_span {
    const struct book_level *levels;   /* base-unit quantities */
    size_t n;
};

struct mkt_event {
    enum mev_type type;
    enum venue_id venue;
    struct mkt_instr *instr;   /* NULL for connection-level feed events */
    int64_t ts;                /* venue's event time (ns), 0 if not sent */
    int64_t recv_ts;           /* when the frame arrived (capture clock) */
    union {
        struct {
            double mark;
            double index;      /* 0 when not sent */
        } mark;
        struct {               /* MEV_BOOK_SNAPSHOT / MEV_BOOK_DELTA */
            struct mev_level_span bids, asks;
            uint64_t seq;
        } book;
        struct {
            int liquidated_long;   /* 1: a long was liquidated (sell order) */
            double price;
            enum liq_price_kind price_kind;
            dec_t qty;             /* base units */
            enum liq_coverage coverage;
        } liq;
        struct {
            dec_t oi;              /* base units */
        } oi;
        struct {
            double price;
            dec_t qty;             /* base units */
            int buyer_aggressor;   /* 1 buy, 0 sell, -1 unknown */
        } trade;
        struct {
            enum mev_feed_kind kind;
            const char *conn;      /* connection name, may be NULL */
            const char *reason;    /* short text, may be NULL */
        } feed;
    } u;
};

#endif
