/*
 * engine.h - the risk engine: for every watched instrument, its tracked
 * positions and its latest cascade ladder, re-simulated on every tick.
 *
 *   venue adapters --(mkt_event)--> engine_on_event --> cascade_ladder
 *                                                   --> listener (alerts)
 *
 * A mark price or a book change of an instrument re-runs its ladder (every
 * configured side and shock) against the live book and positions.  The
 * engine skips a run only when none of its inputs changed since the last
 * one (same reference price, same book update count, same positions
 * version), so the ladder it holds always equals a fresh simulation of the
 * present moment.  On an invalid book (gap, checksum, crossed, feed down)
 * or without a reference price, the ladder is marked not valid and is not
 * recomputed: nothing simulates on a book that cannot be trusted.
 *
 * The reference price is the instrument's mark price; the book mid where
 * there is none yet (cascade-model.md).
 *
 * Thread-safety: the loop thread only.  The ladder is what the alerts, the
 * store and the control API read.
 */
#ifndef LIQMON_ENGINE_H
#define LIQMON_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/cascade.h"
#include "liqmon/err.h"
#include "liqmon/event.h"
#include "liqmon/lathist.h"
#include "liqmon/market.h"
#include "liqmon/pindex.h"
#include "liqmon/posfile.h"

#define ENGINE_MAX_SHOCKS 32

struct engine_config {
    double shocks[ENGINE_MAX_SHOCKS];
    size_t nshocks;
    enum cascade_dir sides[2];
    size_t nsides;
};
/* The default ladder: 0, 0.5%, 1%, 2%, 3%, 5%, 7.5%, 10%, 15%; both sides. */
void engine_config_default(struct engine_config *cfg);

/* One instrument's latest ladder.  Borrowed from the engine. */
struct engine_ladder {
    int valid;                 /* 0: book invalid or no reference price */
    const char *why_invalid;   /* when !valid */
    double ref;
    int ref_is_mark;           /* 0: book mid */
    int64_t ts;                /* time of the tick that produced it (ns) */
    uint64_t runs;             /* ladders computed for this instrument */
    size_t nrows;              /* nsides * nshocks */
    struct cascade_row rows[2 * ENGINE_MAX_SHOCKS];
};

struct engine_stats {
    int64_t first_ts, last_ts;  /* receive times of the first / last event */
    uint64_t events;
    uint64_t ladders;          /* ladders computed */
    uint64_t rows_reused;      /* rows a book delta could not change (engine.c) */
    uint64_t skipped;          /* ticks whose inputs had not changed */
    uint64_t invalid;          /* ticks on an invalid book / no ref */
    uint64_t liquidated;       /* positions marked liquidated (d <= 0) */
};

typedef struct engine engine_t;

/* One position index per instrument of mkt (with its tier table). */
engine_t *engine_create(market_t *mkt, const struct engine_config *cfg,
                        lq_err_t *err);
void engine_destroy(engine_t *e);                  /* NULL is fine */

pindex_t *engine_pindex(engine_t *e, const struct mkt_instr *in);

/* A new ladder (reload): checked as engine_create checks it; every ladder
 * runs in full at its next tick.  0, or -1 with err set. */
int engine_set_config(engine_t *e, const struct engine_config *cfg, lq_err_t *err);
/* Instruments added to the market since: an index each.  0, or -1. */
int engine_sync(engine_t *e, lq_err_t *err);
/* Exchange the positions of every instrument with other's (an engine on
 * the same market, loaded with a new positions file): a reload applies a
 * file whole, after it loaded.  0, or -1 when other is not on the same
 * market. */
int engine_swap_positions(engine_t *e, engine_t *other);

/* Load a positions file into the instruments' indexes.  Bad rows and rows
 * of instruments not watched are reported through on_error (as
 * "<file>:<line>: <what>") and skipped.  Returns 0, or a negative
 * posfile code when the file cannot be read or has no usable header (err
 * set). */
int engine_load_positions(engine_t *e, const char *path,
                          posfile_error_fn on_error, void *arg,
                          struct posfile_stats *stats, lq_err_t *err);

/* Feed one event (the venue_io emit target). */
void engine_on_event(engine_t *e, const struct mkt_event *ev);
/* Re-run an instrument's ladder now if its inputs changed. */
void engine_tick(engine_t *e, struct mkt_instr *in, int64_t ts);

const struct engine_ladder *engine_ladder(const engine_t *e,
                                          const struct mkt_instr *in);
const struct engine_stats *engine_get_stats(const engine_t *e);

/* Live only: measure tick-to-decision latency, from the frame's receive
 * time (the event's recv_ts, CLOCK_REALTIME) to the ladder done.  In a
 * replay recv_ts is the capture's clock, so it stays off there. */
void engine_measure_latency(engine_t *e, int on);
/* The histogram of those latencies (ns). */
const struct lathist *engine_latency(const engine_t *e);

/* The instrument's reference price now: its mark, else the mid of its
 * book while the book is valid; 0 when it has neither.  *is_mark (may be
 * NULL) says which. */
double engine_ref(const engine_t *e, const struct mkt_instr *in, int *is_mark);

/* Liquidation by the venue (alert-rules.md, position_liquidated): on each
 * event of an instrument the engine first lets the adapter apply it, then
 * marks every position whose d <= 0 at the reference price (longs with
 * LP >= ref, shorts with LP <= ref) as liquidated, which takes it out of
 * every cascade from that event on (pindex_set_liquidated), then runs the
 * ladder.  These are the handles marked by the instrument's latest event,
 * in LP order, nearest first; valid until its next event.  A position
 * stays liquidated until it is changed or reloaded. */
const uint32_t *engine_liquidated(const engine_t *e, const struct mkt_instr *in,
                                  size_t *n);

/* Called after each ladder run (and when a ladder turns invalid). */
typedef void (*engine_listener_fn)(void *arg, const struct mkt_instr *in,
                                   const struct engine_ladder *l,
                                   const struct mkt_event *cause);
void engine_set_listener(engine_t *e, engine_listener_fn fn, void *arg);

#endif
