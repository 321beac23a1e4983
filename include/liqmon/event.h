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
    MEV_BOOK_DELTA,      /* changed levels were applied: u.book holds
                            every level the update changed (the engine
                            keeps ladder rows no level of it can reach) */
    MEV_LIQUIDATION,     /* a venue's liquidation print */
    MEV_OPEN_INTEREST,
    MEV_TRADE,
    MEV_FEED,            /* feed / book health changed (see mev_feed_kind) */
    MEV_ADL_WARNING,     /* a venue's auto-deleveraging / insurance-fund
                            early warning (u.adl) */
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

/* How close a venue says auto-deleveraging is, for one insurance fund
 * (OKX: an instrument family; Bybit: a symbol of a grouped pool). */
enum adl_level {
    ADL_NORMAL = 0,      /* OKX state "normal" (pushed before 2026; now
                            OKX is silent then); Bybit: no rule below */
    ADL_WARNING,         /* OKX "warning"; Bybit: the symbol's 8 h PnL
                            drawdown is past the ratio at which ADL would
                            stop (adl_sr), not yet past the trigger (i_pr) */
    ADL_ACTIVE,          /* OKX "adl"; Bybit: fund balance <= 0, or the
                            drawdown past the trigger ratio */
};
const char *adl_level_name(enum adl_level l);   /* "normal" "warning" "adl" */

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
        struct {                   /* MEV_ADL_WARNING; instr: the watched
                                      instrument the fund covers, or NULL */
            enum adl_level level;
            const char *scope;     /* what the fund covers: OKX instFamily
                                      ("BTC-USDT"), Bybit symbol ("BTCUSDT") */
            const char *ccy;       /* the fund's currency (Bybit c; OKX ccy,
                                      else the family's settle currency) */
            const char *state;     /* OKX: its state word; Bybit (no state
                                      field): the rule that decided, see
                                      bybit.c ("adl_balance" ...) */
            double balance;        /* fund balance (OKX bal, Bybit b) */
            /* NAN where the venue did not send it (OKX deprecated these
             * in 2026 and sends ""; Bybit mb likewise): */
            double max_balance;    /* 8 h maximum (OKX maxBal, Bybit mb) */
            double threshold;      /* balance at or below which ADL runs
                                      (OKX adlBal; Bybit 0) */
            double ratio;          /* decline / drawdown now (OKX decRate,
                                      Bybit pr) */
            double ratio_trigger;  /* ... that triggers ADL (OKX adlRate,
                                      Bybit i_pr) */
            double ratio_stop;     /* ... that stops it (OKX adlRecRate,
                                      Bybit adl_sr) */
        } adl;
    } u;
};

#endif
