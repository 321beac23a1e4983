/*
 * pipeline.h - where every market event fans out to its consumers: the
 * one place the daemon wires risk, alerts and sinks, shared by live and
 * replay.
 *
 *   venue adapters --(mkt_event)--> pipeline_on_event
 *                                     1. engine_on_event   (liquidations, ladder)
 *                                     2. alerts_on_event   (rules) --> alert sink:
 *                                          alert log (file + human line), store
 *                                     3. store: prints, feed events, snapshots
 *                                     4. listeners (control API, metrics ...)
 *
 * risk/ and alert/ know nothing of what is downstream; consumers attach
 * here with pipeline_add_listener instead of growing liqmond.c.
 *
 * Clock: the event clock, as alert-rules.md says: every event's recv_ts
 * (in a replay, the capture's ts).  Live, pipeline_tick advances it once a
 * second of wall time so that a silent feed still ages; a replay has no
 * ticks.  Snapshots are taken per instrument every snapshot_interval of
 * that clock, at the first event (or tick) at or past the due time.
 *
 * Thread-safety: the loop thread only (or a replay).  The store writes on
 * its own thread; nothing here waits on disk or network.
 */
#ifndef LIQMON_PIPELINE_H
#define LIQMON_PIPELINE_H

#include <stdint.h>

#include "liqmon/alert.h"
#include "liqmon/alertlog.h"
#include "liqmon/engine.h"
#include "liqmon/err.h"
#include "liqmon/event.h"
#include "liqmon/market.h"
#include "liqmon/store.h"
#include "liqmon/venue.h"

struct pipeline_config {
    struct alert_config alerts;
    const char *alert_log;          /* JSON Lines path; NULL: none */
    int human_fd;                   /* human alert lines (stderr); -1: none */
    struct store_config store;      /* store.path NULL: no store */
    int64_t snapshot_interval;      /* ns of event clock; 0: no snapshots */
    /* The run record (store). */
    const char *mode;               /* "live" / "replay" */
    const char *config_hash;        /* may be NULL */
    const char *argv;               /* may be NULL */
};
void pipeline_config_default(struct pipeline_config *c);

/* A consumer: both callbacks may be NULL; what they get is borrowed for
 * the call. */
struct pipeline_listener {
    void (*on_event)(void *arg, const struct mkt_event *ev);
    void (*on_alert)(void *arg, const struct alert_record *r);
    void *arg;
};

typedef struct pipeline pipeline_t;

/* mkt and eng are borrowed and outlive the pipeline.  Opens the alert log
 * and the store (NULL with err naming which). */
pipeline_t *pipeline_create(market_t *mkt, engine_t *eng,
                            const struct pipeline_config *cfg, lq_err_t *err);
/* The venue adapters, for their reject counters (feed events). */
void pipeline_set_venues(pipeline_t *p, venue_t *const venues[VENUE_COUNT]);
int pipeline_add_listener(pipeline_t *p, const struct pipeline_listener *l);
/* Forget every listener added with this arg (a consumer going away). */
void pipeline_remove_listener(pipeline_t *p, void *arg);
/* Before the adapters go (stop, or a reload replacing them): their reject
 * counters are stored one last time and the pipeline forgets them. */
void pipeline_detach_venues(pipeline_t *p);
/* After a reload changed the market (instruments added or retired):
 * alerts and snapshots follow.  0, or -1 (err set). */
int pipeline_sync(pipeline_t *p, lq_err_t *err);

/* The venue_io emit target (arg: the pipeline). */
void pipeline_on_event(void *arg, const struct mkt_event *ev);
/* Live: once a second of wall time (ns since the epoch). */
void pipeline_tick(pipeline_t *p, int64_t now);

/* Write every tracked position to the store as `change` rows ("load")
 * from source ("file") at ts; ts 0: at the first event's clock (a replay,
 * whose clock is the capture's).  Start-up only: it waits for the store
 * between chunks so that a million rows never overflow the queue. */
void pipeline_store_positions(pipeline_t *p, const char *change,
                              const char *source, int64_t ts);

/* SIGHUP: reopen the alert log (logrotate). */
void pipeline_reopen(pipeline_t *p);

alerts_t *pipeline_alerts(pipeline_t *p);
store_t *pipeline_store(pipeline_t *p);        /* NULL without a store */
int64_t pipeline_clock(const pipeline_t *p);

struct pipeline_stats {
    uint64_t events;
    uint64_t snapshots;
    uint64_t alerts;
};
const struct pipeline_stats *pipeline_get_stats(const pipeline_t *p);

/* Stop: a final snapshot of every instrument at the clock, the run record
 * (summary_json may be NULL), close the store and the alert log.  0, or
 * -1 when the store could not write everything (err says what).  NULL is
 * fine. */
int pipeline_close(pipeline_t *p, const char *summary_json, lq_err_t *err);

#endif
