/*
 * metrics.h - the daemon's state in the Prometheus text exposition format
 * (version 0.0.4), served at GET /metrics on a loopback TCP listener of the
 * feed (Debian 12's Prometheus cannot scrape a Unix socket).
 *
 * Pull, not push: a scrape reads the counters the modules already keep
 * (feed connections, venue rejects, books, ladders, alerts firing, store
 * queue) at the moment of the scrape, on the loop thread.  Only what no
 * module counts is counted here: alert records written, by kind, severity
 * and state (metrics_on_alert, wired as a pipeline listener).  Nothing is
 * added to the hot path.
 *
 * Names: the liqmon_ prefix, base units (seconds, bytes, ratios), _total
 * on counters; docs/metrics.md lists every family.
 *
 * Thread-safety: the loop thread only.
 */
#ifndef LIQMON_METRICS_H
#define LIQMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/alert.h"
#include "liqmon/engine.h"
#include "liqmon/err.h"
#include "liqmon/feed.h"
#include "liqmon/lathist.h"
#include "liqmon/market.h"
#include "liqmon/store.h"
#include "liqmon/venue.h"

/* What a scrape reads.  Everything is borrowed and must outlive the
 * metrics; any of the optional ones may be NULL (its families are left
 * out). */
struct metrics_deps {
    market_t *mkt;                   /* required */
    engine_t *eng;                   /* required */
    venue_t *const *venues;          /* [VENUE_COUNT]; read at each scrape
                                        (a reload replaces adapters) */
    const feed_t *feed;
    alerts_t *alerts;
    store_t *store;
    const struct lathist *loop_lag;  /* the loop's lag, sampled by the
                                        daemon's timer */
    int64_t started_ns;              /* CLOCK_REALTIME at start */
    const char *version;             /* NULL: LIQMON_VERSION */
};

typedef struct metrics metrics_t;

metrics_t *metrics_create(const struct metrics_deps *deps, lq_err_t *err);
/* Serve GET /metrics on f at "ADDRESS:PORT" (port 0 picks one).  Returns
 * the port, or -1 with err set.  Call it once. */
int metrics_listen(metrics_t *m, feed_t *f, const char *listen, lq_err_t *err);
/* A pipeline listener's on_alert (arg: the metrics_t). */
void metrics_on_alert(void *arg, const struct alert_record *r);
/* The exposition text now: malloc'd, NUL-terminated, *len its length;
 * NULL when out of memory.  The caller frees it. */
char *metrics_render(metrics_t *m, size_t *len);
/* After feed_stop (no more scrapes) and once the pipeline no longer
 * calls metrics_on_alert.  NULL is fine. */
void metrics_destroy(metrics_t *m);

#endif
