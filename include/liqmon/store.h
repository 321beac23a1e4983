/*
 * store.h - the SQLite store: alerts, snapshots, liquidation prints, feed
 * events, positions, and one row per run, for post-mortems.
 * docs/store.md documents every table and column.
 *
 *   loop thread: store_put_*  --(bounded queue)-->  writer thread --> SQLite
 *
 * The event loop never waits on SQLite: store_put_* copy what they are
 * given into a queue message and return.  One writer thread drains the
 * queue, one transaction per batch, with prepared statements; a second
 * thread, on its own connection, runs the WAL checkpoints (their fsyncs
 * never hold up a commit).
 *
 * Queue bound (queue_max messages): when full, a snapshot replaces the
 * queued snapshot of the same instrument if there is one (coalesced,
 * counted) and is otherwise dropped (counted); prints, feed events and
 * position rows beyond the bound are dropped and counted; alerts and run
 * records are never dropped (they are few: the rules' hysteresis bounds
 * them) and may take the queue past its bound.
 *
 * Durability: WAL, synchronous=NORMAL (set on every open: Debian's SQLite
 * defaults to FULL).  A committed batch survives the death of the process;
 * so after a kill -9 the stored alerts are a prefix of the alert log (the
 * log is written before the record is queued).
 *
 * Schema: versioned with PRAGMA user_version; store_open migrates an
 * older file forward, one step at a time, each step in its own
 * transaction.  A newer file than this build knows is refused.
 *
 * Retention: rows whose ts is older than retention_days before the
 * newest ts queued (the event clock, so a replay of an old capture keeps
 * its rows) are deleted in chunks of at most 2,000 rows per statement
 * between batches.  The WAL is checkpointed (PASSIVE as commits add
 * 1,000 frames, TRUNCATE when it passes wal_max_bytes) so readers cannot
 * make it grow without bound.
 *
 * Thread-safety: store_put_*, store_get_stats and store_flush from one
 * thread (the loop); store_open / store_close from the thread that owns
 * the loop.  Strings passed in are copied.
 */
#ifndef LIQMON_STORE_H
#define LIQMON_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/alert.h"
#include "liqmon/cascade.h"
#include "liqmon/err.h"

#define STORE_SCHEMA_VERSION 4

struct store_config {
    const char *path;            /* the database file (created if absent) */
    size_t queue_max;            /* messages; default 65536 */
    size_t batch_max;            /* rows per transaction; default 4096 */
    int busy_timeout_ms;         /* default 5000 */
    int retention_days;          /* 0: keep everything; default 30 */
    int64_t wal_max_bytes;       /* default 64 MiB */
};
void store_config_default(struct store_config *c);

/* The run this process is (written by store_open, ended by store_close). */
struct store_run {
    int64_t started_ns;          /* wall clock */
    const char *version;         /* LIQMON_VERSION */
    const char *config_hash;     /* hex FNV-1a 64 of the config file, or NULL */
    const char *mode;            /* "live" or "replay" */
    const char *argv;            /* the command line, for the record */
};

typedef struct store store_t;

/* Open (create, migrate), record the run, start the writer.  NULL with
 * err ("<path>: <what>") on failure. */
store_t *store_open(const struct store_config *cfg, const struct store_run *run,
                    lq_err_t *err);
int64_t store_run_id(const store_t *s);

/* ---- what the loop queues -------------------------------------------
 * Each put returns 0 when the record was queued (a snapshot may have
 * replaced an older one of its instrument), -1 when it was not: dropped
 * (queue full), a required string NULL, out of memory, or the store is
 * closing or has failed. */

int store_put_alert(store_t *s, const struct alert_record *r);

struct store_snapshot {
    int64_t ts;                  /* event clock */
    const char *venue;
    const char *instrument;      /* "VENUE:SYMBOL" */
    double ref;                  /* 0: none */
    int ref_is_mark;
    double mark, index;          /* 0: not sent */
    double best_bid, best_ask;   /* 0: none */
    int book_valid;
    /* Depth (base units) within 0.5, 1, 2, 5 % of ref, per side. */
    double bid_depth[4], ask_depth[4];
    /* How far from ref the visible book reaches, in %, per side (0: empty). */
    double bid_reach_pct, ask_reach_pct;
    uint64_t long_count, short_count;      /* tracked, live */
    double long_qty, short_qty;
    double open_interest;                  /* base units; < 0: not published */
    int ladder_valid;
    const struct cascade_row *rows;        /* ladder rows (ladder_valid) */
    size_t nrows;
    const char *map;             /* the liquidation map, mapmodel_json
                                    without rows; NULL: none */
};
int store_put_snapshot(store_t *s, const struct store_snapshot *sn);

struct store_print {
    int64_t ts;                  /* receive time (event clock) */
    int64_t venue_ts;            /* venue's time, 0 if not sent */
    const char *venue;
    const char *instrument;
    int liquidated_long;         /* the side liquidated */
    double price;
    const char *price_kind;      /* "order" "avg_fill" "bankruptcy" */
    double qty;                  /* base units */
    const char *coverage;        /* "sampled" "complete" */
};
int store_put_print(store_t *s, const struct store_print *p);

struct store_feed_event {
    int64_t ts;
    const char *venue;
    const char *conn;            /* may be NULL */
    const char *instrument;      /* may be NULL */
    const char *kind;            /* connected disconnected stale book_invalid
                                    book_valid rejected */
    const char *reason;          /* may be NULL */
    uint64_t count;              /* rejected: frames since the last row; else 1 */
};
int store_put_feed_event(store_t *s, const struct store_feed_event *f);

struct store_position {
    int64_t ts;
    const char *instrument;
    const char *pos_id;
    const char *account;         /* may be "" */
    const char *side;            /* "long" "short" */
    double qty, entry, margin, liq_price;  /* margin 0: given by liq_price */
    const char *change;          /* "load" "add" "update" "remove"
                                    "liquidated" */
    const char *source;          /* "file" "api" "engine" */
    const char *spec;            /* source "api": the position as one JSON
                                    Lines row of a positions file (exact
                                    qty), kept in api_positions and
                                    replayed at start (store_read_api_
                                    positions); NULL otherwise */
};
int store_put_position(store_t *s, const struct store_position *p);

/* Block until everything queued so far is committed (tests, shutdown,
 * post-mortem summaries).  Never called on the hot path.  0, or -1 when
 * the writer has failed. */
int store_flush(store_t *s);

/* The control API's standing position changes (table api_positions), in
 * the order they were made: fn(instrument "VENUE:SYMBOL", pos_id, change
 * "add" | "update" | "remove", spec (NULL for remove), arg) for each;
 * non-0 from fn stops.  Reads the file at path on a connection of its
 * own (call store_flush first for this run's latest).  Returns the number
 * of rows given to fn (0 for a store from before schema 4), or -1 with
 * err set. */
/* The newest max alert records of the file (every run), oldest first,
 * as fn(record, arg) (borrowed for the call; kind ALERT_KIND_COUNT for a
 * kind this build does not know, kind_name always set); non-0 from fn
 * stops.  A connection of its own, read-only.  Returns how many were
 * given, or -1 with err set. */
typedef int (*store_alert_fn)(const struct alert_record *r, void *arg);
int store_read_recent_alerts(const char *path, size_t max, store_alert_fn fn,
                             void *arg, lq_err_t *err);

typedef int (*store_api_fn)(const char *instrument, const char *pos_id,
                            const char *change, const char *spec, void *arg);
int store_read_api_positions(const char *path, store_api_fn fn, void *arg,
                             lq_err_t *err);

struct store_stats {
    size_t queue_depth;          /* messages queued now */
    size_t queue_max;
    uint64_t queued;             /* messages accepted */
    uint64_t rows_written;       /* rows committed (all tables) */
    uint64_t batches;
    uint64_t coalesced;          /* snapshots replaced in the queue */
    uint64_t dropped;            /* messages dropped (queue full) */
    uint64_t pruned;             /* rows deleted by retention */
    uint64_t errors;             /* failed batches (retried) */
    uint64_t lost;               /* accepted or offered, never stored: a row
                                    SQLite refused, or the writer had failed
                                    (store_close then returns -1) */
    char last_error[256];        /* "" when none */
};
void store_get_stats(store_t *s, struct store_stats *out);

/* Drain the queue, end the run record (stopped_ns = now, with the given
 * counters as JSON text, may be NULL), stop the writer, close.  0, or -1
 * when something could not be written (err says what).  NULL is fine. */
int store_close(store_t *s, const char *run_summary_json, lq_err_t *err);

/* ---- for tests -------------------------------------------------------- */

/* Hold the writer before its next batch (0/1): lets a test fill the queue. */
void store_debug_pause(store_t *s, int paused);

#endif
