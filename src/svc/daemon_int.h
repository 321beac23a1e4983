/*
 * daemon_int.h - the daemon's state, shared by its start/stop steps
 * (daemon.c) and the reload (reload.c).  Not a public interface.
 */
#ifndef LIQMON_DAEMON_INT_H
#define LIQMON_DAEMON_INT_H

#include <uv.h>

#include "liqmon/capture.h"
#include "liqmon/config.h"
#include "liqmon/control.h"
#include "liqmon/daemon.h"
#include "liqmon/engine.h"
#include "liqmon/feed.h"
#include "liqmon/lathist.h"
#include "liqmon/metrics.h"
#include "liqmon/pipeline.h"
#include "liqmon/render.h"
#include "liqmon/replay.h"

struct daemon {
    const struct daemon_opts *o;
    int live;                      /* 0: a replay */
    struct liqmon_config cfg;      /* in force */
    const char *positions_path;    /* NULL: none */
    market_t *mkt;
    engine_t *eng;
    pipeline_t *pipe;
    venue_t *venues[VENUE_COUNT];
    feed_t *feed;
    control_t *ctl;                /* the control API, live with [control] */
    metrics_t *metrics;            /* GET /metrics, live with [metrics] listen */
    capture_writer_t *rec;
    uv_loop_t loop;
    int loop_open;
    uv_signal_t sigint, sigterm, sighup, sigusr1;
    uv_timer_t status, tick, run_for, watchdog;
    /* Loop lag: a timer due every LOOP_LAG_PERIOD_MS, and how late it ran
     * (the time the loop was busy or blocked). */
    uv_timer_t lagt;
    uint64_t lag_due;              /* uv_hrtime of the next expected run */
    uint64_t lag_last;             /* ns, the latest sample */
    struct lathist lag;
    int handles_open;
    int stopping;
    int rc;                        /* exit code so far */
    struct replay_stats rst;
    replay_t *replay;              /* a replay's session: adapters, discovery */
};

/* The pieces render.h draws from. */
static inline struct render_src daemon_render_src(struct daemon *d)
{
    struct render_src s = { d->mkt, d->eng, d->venues, d->feed };
    return s;
}

/* Positions file into the engine, with the config's minimum: 0, or a
 * DX_* code with err set (the file is unusable, or loaded too little). */
int daemon_load_positions(struct daemon *d, engine_t *eng, const char *path,
                          const struct liqmon_config *cfg, lq_err_t *err);

/* Replay the control API's standing position changes (the store's
 * api_positions) over the positions just loaded into eng (apipos.c).
 * 0 (also with no store), or -1 with err set. */
int daemon_api_positions(struct daemon *d, engine_t *eng, lq_err_t *err);

/* (Re)start the status-line timer at cfg.status_interval_s (0: off). */
void daemon_status_timer(struct daemon *d);

/* SIGHUP: reload the config and the positions file (reload.c). */
void daemon_reload(struct daemon *d);

/* Build a market of the config's instruments into *out (all of them
 * checked: instrument files found and valid).  0 or DX_CONFIG. */
int daemon_build_market(const struct liqmon_config *cfg, const char *instruments,
                        market_t **out, lq_err_t *err);

/* The emit target of every venue adapter (logs connection events, then
 * the pipeline). */
void daemon_on_event(void *arg, const struct mkt_event *ev);

#endif
