/*
 * alert.h - the alert rules: ../shared/docs/alert-rules.md, version 1.
 *
 *   engine (ladders, liquidated positions) --+
 *   market (books, marks, OI)  ---------------+--> alerts_* --> records --> sink
 *   venue events (prints, connections) ------+
 *
 * Every subject (a position, a ladder side, a book, a connection, a side's
 * liquidation prints) has a small state machine with levels none <
 * warning < critical.  A level is entered at once; it is left only after
 * the rule asked for a lower level on every evaluation for clear_after,
 * and then to the highest level asked during that hold.  Each change of
 * level writes exactly one record.
 *
 * Clock: the caller's.  Every call carries t, the event clock (an event's
 * receive time; in a replay the capture's ts; live, also a 1 s wall tick
 * when nothing arrives).  The module never reads a clock itself, so a
 * replay gives the same records every time.
 *
 * Evaluation: after an instrument's event (alerts_on_event after
 * engine_on_event) its subjects are evaluated; after a connection event,
 * that venue's connections; on alerts_tick, everything.  The records of one
 * evaluation are sorted by kind (enum order below, the contract's order),
 * then by subject (byte order), numbered 1, 2, 3 ... and handed to the
 * sink one by one.  Records and their strings are borrowed for the call.
 *
 * Positions: only the ones that can change level are looked at, so an
 * evaluation costs O(positions near their LP + positions with an alert
 * open), not O(positions): those whose d is within warn + margin are found
 * through the position index (ordered by LP); those already at warning or
 * critical are held in the module's own table.
 *
 * Thread-safety: the loop thread only (or a replay).
 */
#ifndef LIQMON_ALERT_H
#define LIQMON_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/engine.h"
#include "liqmon/err.h"
#include "liqmon/event.h"
#include "liqmon/market.h"

/* In the contract's order: records of one evaluation sort by this. */
enum alert_kind {
    ALERT_POSITION_NEAR = 0,
    ALERT_POSITION_LIQUIDATED,
    ALERT_CASCADE_RISK,
    ALERT_BOOK_INVALID,
    ALERT_FEED_DOWN,
    ALERT_LIQUIDATION_CLUSTER,
    /* liqmon's additions (the contract lets the project add kinds): */
    ALERT_VENUE_ADL_WARNING,        /* a venue's insurance fund nears or is
                                       in auto-deleveraging (MEV_ADL_WARNING) */
    ALERT_KIND_COUNT
};
const char *alert_kind_name(enum alert_kind k);   /* "position_near" ... */
int alert_kind_from_name(const char *name);       /* -1 when unknown */

enum alert_level { ALERT_NONE = 0, ALERT_WARNING = 1, ALERT_CRITICAL = 2 };
const char *alert_level_name(enum alert_level l); /* "none" "warning" "critical" */

/* The [alerts] thresholds; durations in ns.  Defaults are the contract's. */
struct alert_config {
    double warn;                    /* position_near: 0.05 */
    double crit;                    /* 0.02 */
    double margin;                  /* 0.005 */
    int64_t clear_after;            /* 30 s */
    double amp;                     /* cascade_risk: 2.0 */
    double notional;                /* 0: off */
    int exhausted_trips;            /* 0 */
    double crit_shock;              /* 0.02 */
    double warn_shock;              /* 0.05 */
    int64_t invalid_after;          /* book_invalid: 5 s */
    int64_t invalid_critical_after; /* 60 s */
    int64_t down_critical_after;    /* feed_down: 60 s */
    int64_t cluster_window;         /* liquidation_cluster: 60 s */
    double cluster_notional;        /* 1e6 quote units */
    int64_t adl_quiet;              /* venue_adl_warning (liqmon's): no push
                                       for this long asks none: 10 s */
};
void alert_config_default(struct alert_config *c);
/* 0, or -1 with err naming the key ("alerts.crit: must be < warn"). */
int alert_config_check(const struct alert_config *c, lq_err_t *err);

/* One record, field for field as the contract lists them. */
struct alert_record {
    uint64_t id;                /* 1, 2, 3 ... in the order written */
    int64_t ts;                 /* ns, the clock of the evaluation */
    enum alert_kind kind;       /* ALERT_KIND_COUNT for an extra kind */
    const char *kind_name;      /* "position_near" ..., or the extra kind's */
    const char *subject;
    const char *venue;          /* "binance-usdm" ... */
    const char *instrument;     /* "VENUE:SYMBOL"; NULL for a connection */
    enum alert_level severity;  /* warning or critical */
    int resolved;               /* 0: "firing", 1: "resolved" */
    const char *message;        /* one line */
    const char *details;        /* a JSON object, as text */
};

/* Where records go (the svc fan-out: alert log, store, API, metrics). */
typedef void (*alert_sink_fn)(void *arg, const struct alert_record *r);

typedef struct alerts alerts_t;

/* mkt and eng are borrowed and outlive the module. */
alerts_t *alerts_create(const struct alert_config *cfg, market_t *mkt,
                        engine_t *eng, alert_sink_fn sink, void *arg,
                        lq_err_t *err);
void alerts_destroy(alerts_t *a);                 /* NULL is fine */
/* New thresholds from a reload: they apply from the next evaluation; the
 * levels held stay (the next evaluation moves them as the rules say). */
void alerts_set_config(alerts_t *a, const struct alert_config *cfg);

/* An event, after engine_on_event applied it: prints and connection
 * states are recorded, then the instrument's (or the venue's connection)
 * rules are evaluated at t = ev->recv_ts. */
void alerts_on_event(alerts_t *a, const struct mkt_event *ev);
/* Every rule of every subject at t (live: once per second). */
void alerts_tick(alerts_t *a, int64_t t);

/* A record the daemon itself raises outside the rules (the contract lets
 * the project add kinds): e.g. "config_rejected" on a failed reload.
 * Written at once with the next id. */
void alerts_raise_extra(alerts_t *a, int64_t t, const char *kind,
                        const char *subject, enum alert_level sev,
                        int resolved, const char *message,
                        const char *details_json);

/* After a reload changed the market: instruments retired since resolve
 * what they had firing (records at t) and are evaluated no more; those
 * added get fresh state.  0, or -1 (out of memory, err set). */
int alerts_sync(alerts_t *a, int64_t t, lq_err_t *err);

/* The engine's positions were replaced (reload: engine_swap_positions);
 * old holds the previous ones.  A position with the same id and the same
 * terms (side, quantity, liquidation price) keeps its alert state; any
 * other state resolves (a record at t) and goes.  Liquidated positions
 * are back in (the contract: "until it is changed or reloaded"). */
void alerts_positions_replaced(alerts_t *a, engine_t *old, int64_t t);

/* A position is about to be changed or removed (control API): its alert
 * state resolves now (a record at t if it was firing) and goes, so that a
 * handle the index reuses never inherits it; a changed position is
 * evaluated afresh ("until it is changed or reloaded"). */
void alerts_position_changed(alerts_t *a, const struct mkt_instr *in,
                             uint32_t handle, int64_t t);

/* Positions are about to be replaced (reload): every position state is
 * dropped, with a resolved record for each one firing, at t.  Call it
 * before the old positions go, so that the records can name them. */
void alerts_positions_reset(alerts_t *a, int64_t t);

struct alert_stats {
    uint64_t records;                        /* written */
    uint64_t by_kind[ALERT_KIND_COUNT][3];   /* [kind][severity] firing */
    uint64_t resolved[ALERT_KIND_COUNT];
    uint64_t evaluations;
};
const struct alert_stats *alerts_get_stats(const alerts_t *a);
/* The thresholds in force (borrowed until the next alerts_set_config). */
const struct alert_config *alerts_config(const alerts_t *a);

/* cascade_risk's s*: the row of side dir with the smallest shock that
 * trips under c (shock > 0 and amplification >= amp, or the notional or
 * exhausted rules when on), or NULL when none trips.  The rule the
 * evaluation applies, for those who draw it (mapmodel.h). */
const struct cascade_row *alert_cascade_star(const struct alert_config *c,
                                             const struct cascade_row *rows,
                                             size_t n, enum cascade_dir dir);

/* What is firing now, in (kind, subject) order.  fn returns non-0 to
 * stop. */
struct alert_active {
    enum alert_kind kind;
    const char *subject;
    const char *instrument;     /* NULL for a connection */
    enum alert_level level;
    int64_t since;              /* ts of the record that set the level */
};
typedef int (*alert_active_fn)(const struct alert_active *x, void *arg);
int alerts_foreach_active(const alerts_t *a, alert_active_fn fn, void *arg);
size_t alerts_active_count(const alerts_t *a);

/* For tests: 1 makes every evaluation scan positions in full (the
 * reference the incremental scan must equal record for record). */
void alerts_debug_full_scan(alerts_t *a, int on);

#endif
