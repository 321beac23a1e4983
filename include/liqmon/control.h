/*
 * control.h - the daemon's HTTP/JSON control API, served on the feed's
 * listeners (feed_listen: a Unix socket and/or a loopback TCP port on the
 * daemon's own lws context and loop).
 *
 *   GET    /v1/status                     version, uptime, connections,
 *                                         books, positions, store queue,
 *                                         loop lag, alerts firing
 *   GET    /v1/instruments                render_instruments (no levels)
 *   GET    /v1/positions[?instrument=VENUE:SYMBOL][&limit=N]
 *   POST   /v1/positions                  add or replace (by id), one or
 *                                         many: application/json (object or
 *                                         array), application/x-ndjson,
 *                                         text/csv (the positions-file
 *                                         header); all or nothing
 *   DELETE /v1/positions/{id}[?instrument=VENUE:SYMBOL]
 *   GET    /v1/cascade/{venue}/{symbol}   the latest ladder, every row
 *   GET    /v1/map/{venue}/{symbol}.svg   the liquidation map now
 *                                         (mapsvg.h), image/svg+xml;
 *                                         .json: its model (mapmodel.h)
 *   GET    /v1/alerts/active              what is firing now
 *   GET    /v1/alerts[?since=&kind=&severity=&limit=]
 *                                         the last CONTROL_ALERT_RING
 *                                         records, kept in memory and
 *                                         loaded from the store at start
 *                                         (control_preload_alerts)
 *
 * Errors are JSON: {"error":"<what>","where":"<which input>"}; unknown
 * paths 404, wrong methods 405 with Allow, bad input 400 (malformed JSON
 * with its line and column), bodies over max_body 413 (the feed answers
 * that itself).
 *
 * Nothing here waits on disk or network: every answer is built from the
 * state in memory on the loop thread; positions added, replaced or
 * removed are written to the store through its queue (store_put_position,
 * source "api", with the position's exact row): the store keeps each
 * position's latest API change (api_positions), which the daemon replays
 * over the positions file at every start and reload (src/svc/apipos.c),
 * so the API's changes survive a restart.  A POST body is parsed by posfile (the positions-file
 * rules, exactly) from an in-memory file (memfd), never a file on disk.
 *
 * Thread-safety: the loop thread only.
 */
#ifndef LIQMON_CONTROL_H
#define LIQMON_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/engine.h"
#include "liqmon/err.h"
#include "liqmon/feed.h"
#include "liqmon/market.h"
#include "liqmon/pipeline.h"
#include "liqmon/venue.h"

/* GET /v1/alerts answers from a ring of the last this many alert
 * records (the store has them all; the loop never reads the store). */
#define CONTROL_ALERT_RING 10000

/* What the API reads and changes.  Everything is borrowed and must
 * outlive the control API (see control_destroy for the order). */
struct control_deps {
    market_t *mkt;                   /* required */
    engine_t *eng;                   /* required */
    pipeline_t *pipe;                /* may be NULL: no alerts, no store */
    venue_t *const *venues;          /* [VENUE_COUNT], may be NULL; read at
                                        each request (a reload may replace
                                        the adapters in the array) */
    const feed_t *feed;              /* for the connections; may be NULL */
    int64_t started_ns;              /* CLOCK_REALTIME at start */
    const char *version;             /* NULL: LIQMON_VERSION */
    /* The loop's lag now (ms), or NULL: "loop_lag_ms" is null. */
    double (*loop_lag_ms)(void *arg);
    void *loop_lag_arg;
    size_t alert_ring;               /* 0: CONTROL_ALERT_RING */
};

typedef struct control control_t;

/* Build the API and attach its alert ring to deps->pipe as a pipeline
 * listener (arg: the control_t; see control_destroy).  NULL with err set. */
control_t *control_create(const struct control_deps *deps, lq_err_t *err);

/* Serve the API on f: on the Unix socket unix_path (file mode `mode`;
 * 0: 0660) and/or on tcp_listen ("127.0.0.1:PORT", "[::1]:PORT"; port 0
 * picks one); either may be NULL, not both.  max_body: the largest POST
 * body (0: 64 KiB).  Returns the TCP port listened on (0 without TCP), or
 * -1 with err set (a listener already opened stays until feed_stop).
 * Call it once. */
int control_listen(control_t *c, feed_t *f, const char *unix_path,
                   unsigned mode, const char *tcp_listen, size_t max_body,
                   lq_err_t *err);

/* Fill the alert ring with the newest records of the store at
 * store_path (earlier runs' too), so that GET /v1/alerts answers across a
 * restart.  Reads the file on a connection of its own: call it at start,
 * before the loop runs (never on the hot path).  0, or -1 with err set
 * (the ring then holds what was read). */
int control_preload_alerts(control_t *c, const char *store_path, lq_err_t *err);

/* Free everything.  Call it after feed_stop (no more requests), and
 * either after pipeline_close or once pipeline_remove_listener(pipe, c)
 * took it off the pipeline (no more alerts to the ring).  NULL is fine. */
void control_destroy(control_t *c);

/* The number of alert records the ring holds now (tests, metrics). */
size_t control_alert_count(const control_t *c);

#endif
