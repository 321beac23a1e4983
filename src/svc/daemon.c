/*
 * daemon.c - liqmond's start list and its exact reverse (see daemon.h).
 *
 *   step        live  replay  start                          stop
 *   config       x     x      load and check the config      -
 *   market       x     x      instruments (config / capture) destroy
 *   engine       x     x      indexes, positions file        destroy
 *   pipeline     x     x      alert rules, alert log, store  final snapshot, run record, close
 *   loop         x            uv loop                        close (after the last uv_run)
 *   recorder     x            capture writer thread          flush, stop
 *   feed         x            lws context, adapters, conns   second context destroy, adapters
 *   handlers     x            signals, timers                (closed by daemon_stop)
 *   adapters           x      the replay's venue adapters    destroy
 *
 * Live, a signal (or --run-for) calls daemon_stop: input stops first
 * (STOPPING=1, handles closed, feed_stop), uv_run returns once everything
 * on the loop is closed, then the steps stop in reverse: alerts still in
 * flight reach the log and the store, the final snapshot and the run
 * record are written, the database closes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon_int.h"
#include "liqmon/fileio.h"
#include "liqmon/log.h"
#include "liqmon/notify.h"
#include "liqmon/version.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- events ------------------------------------------------------------ */

void daemon_on_event(void *arg, const struct mkt_event *ev)
{
    struct daemon *d = arg;

    if (ev->type == MEV_FEED && ev->instr == NULL) {
        static const char *const kinds[] = {
            "connected", "disconnected", "stale", "book invalid", "book valid",
            "rejected"
        };
        log_msg(ev->u.feed.kind == FEED_CONNECTED ? LL_INFO : LL_WARN,
                venue_name(ev->venue), "%s %s%s%s", ev->u.feed.conn ? ev->u.feed.conn : "",
                kinds[ev->u.feed.kind], ev->u.feed.reason ? ": " : "",
                ev->u.feed.reason ? ev->u.feed.reason : "");
    }
    pipeline_on_event(d->pipe, ev);
}

/* ---- config ------------------------------------------------------------ */

static int start_config(struct daemon *d, lq_err_t *err)
{
    const struct daemon_opts *o = d->o;

    config_default(&d->cfg);
    if (o->config && config_load(o->config, &d->cfg, err) != 0)
        return DX_CONFIG;
    d->positions_path = o->positions ? o->positions
                        : (d->cfg.positions[0] ? d->cfg.positions : NULL);
    return 0;
}

static int capture_exit_code(enum capture_error e);

/* ---- market ------------------------------------------------------------ */

int daemon_build_market(const struct liqmon_config *cfg, const char *instruments,
                        market_t **out, lq_err_t *err)
{
    const char *dir = instruments ? instruments : cfg->instruments_dir;
    market_t *m = market_create();

    *out = NULL;
    if (m == NULL)
        return lq_err_set(err, "out of memory"), DX_SOFTWARE;
    for (int v = 0; v < VENUE_COUNT; v++) {
        const struct config_venue *cv = &cfg->venues[v];
        for (size_t i = 0; cv->enabled && i < cv->nsymbols; i++) {
            struct instrument ins;
            int rc = instrument_load_dir(dir, venue_name((enum venue_id)v),
                                         cv->symbols[i], &ins, err);
            if (rc != 0)
                goto fail;
            if (market_add(m, (enum venue_id)v, &ins, err) == NULL) {
                instrument_fini(&ins);
                goto fail;
            }
            instrument_fini(&ins);
        }
    }
    if (market_count(m) == 0) {
        lq_err_set(err, "no [venue ...] section with symbols");
        goto fail;
    }
    *out = m;
    return 0;
fail:
    market_destroy(m);
    return DX_CONFIG;
}

static void log_note(const char *msg, void *arg)
{
    (void)arg;
    log_msg(LL_WARN, "replay", "%s", msg);
}

/* An instrument the replay found in the frames (or the positions file
 * named): engine, alerts and snapshots follow it; a new adapter goes to
 * the pipeline.  Before the engine and the pipeline exist (start_market
 * adding the positions' instruments), they will be created with it. */
static int replay_added(void *arg, struct mkt_instr *in, int new_venue, lq_err_t *err)
{
    struct daemon *d = arg;

    (void)in;
    if (d->eng != NULL && engine_sync(d->eng, err) != 0)
        return -1;
    if (d->pipe != NULL && pipeline_sync(d->pipe, err) != 0)
        return -1;
    if (d->pipe != NULL && new_venue)
        pipeline_set_venues(d->pipe, d->venues);
    return 0;
}

struct pos_instr {
    replay_t *r;
    lq_err_t *err;
    int rc;                             /* replay_add's -2 / -3 */
};

/* Each positions row's instrument into the replay's market, so that the
 * positions load even though the capture has not named them yet. */
static int add_position_instrument(const struct posfile_row *row, void *arg)
{
    struct pos_instr *p = arg;
    int v = venue_from_name(row->venue), rc;

    if (v < 0)
        return 0;                       /* the positions load reports it */
    rc = replay_add(p->r, (enum venue_id)v, row->symbol, p->err);
    if (rc < -1) {
        p->rc = rc;
        return 1;                       /* a bad instrument file: stop */
    }
    return 0;                           /* -1: the positions load reports it */
}

static int start_market(struct daemon *d, lq_err_t *err)
{
    const struct daemon_opts *o = d->o;
    struct replay_setup rs;
    struct venue_config vcs[VENUE_COUNT];
    struct venue_io io;
    int rc;

    if (o->config != NULL) {
        rc = daemon_build_market(&d->cfg, o->instruments, &d->mkt, err);
        if (rc != 0) {
            lq_err_prefix(err, "%s", o->config);
            return rc;
        }
    } else if ((d->mkt = market_create()) == NULL) {
        return lq_err_set(err, "out of memory"), DX_SOFTWARE;
    }
    if (d->live)
        return 0;
    /* A replay, one pass ('-' is stdin, read as it comes): with a config,
     * its instruments and venue settings (book_depth, liq_route ...);
     * without, the instruments the frames name, with their files from the
     * directory where there are some. */
    memset(&io, 0, sizeof(io));
    io.emit = daemon_on_event;
    io.arg = d;
    for (int v = 0; v < VENUE_COUNT; v++)
        vcs[v] = d->cfg.venues[v].vc;
    memset(&rs, 0, sizeof(rs));
    rs.io = &io;
    rs.cfgs = o->config ? vcs : NULL;
    rs.discover = o->config == NULL;
    rs.instruments_dir = o->instruments ? o->instruments : d->cfg.instruments_dir;
    rs.note = log_note;
    rs.added = replay_added;
    rs.arg = d;
    d->replay = replay_create(d->mkt, &rs, d->venues, err);
    if (d->replay == NULL)
        return DX_SOFTWARE;
    if (o->config == NULL && d->positions_path != NULL &&
        strcmp(d->positions_path, "-") != 0) {
        struct pos_instr p = { d->replay, err, 0 };
        lq_err_t perr;
        /* An unreadable file: start_engine says so. */
        (void)posfile_load(d->positions_path, add_position_instrument, NULL, &p, NULL, &perr);
        if (p.rc != 0)
            return p.rc == -2 ? DX_DATAERR : DX_SOFTWARE;
    }
    return 0;
}

static void stop_market(struct daemon *d)
{
    replay_destroy(d->replay);          /* its adapters: d->venues back to NULL */
    d->replay = NULL;
    market_destroy(d->mkt);
    d->mkt = NULL;
}

/* ---- engine and positions ------------------------------------------------ */

static void log_position_error(const char *msg, void *arg)
{
    size_t *n = arg;

    /* The first few rows in full; the rest counted (a bad export can
     * have a million bad rows). */
    if ((*n)++ < 20)
        log_msg(LL_WARN, "positions", "%s", msg);
}

int daemon_load_positions(struct daemon *d, engine_t *eng, const char *path,
                          const struct liqmon_config *cfg, lq_err_t *err)
{
    struct posfile_stats ps;
    size_t nerr = 0;
    double frac;

    (void)d;
    if (engine_load_positions(eng, path, log_position_error, &nerr, &ps, err) != 0)
        return DX_NOINPUT;
    if (nerr > 20)
        log_msg(LL_WARN, "positions", "%s: %zu more rows refused (not shown)", path,
                nerr - 20);
    if (ps.loaded == 0)
        return lq_err_set(err, "%s: no position loaded (%zu rows, %zu refused)",
                          path, ps.rows, ps.rejected), DX_DATAERR;
    frac = (double)ps.loaded / (double)(ps.loaded + ps.rejected);
    if (frac < cfg->positions_min_loaded)
        return lq_err_set(err, "%s: only %zu of %zu positions loaded (%.1f%%, below "
                          "positions_min_loaded %.1f%%)", path, ps.loaded,
                          ps.loaded + ps.rejected, frac * 100,
                          cfg->positions_min_loaded * 100), DX_DATAERR;
    log_msg(LL_INFO, "liqmond", "%s: %zu positions loaded, %zu refused", path,
            ps.loaded, ps.rejected);
    return 0;
}

static int start_engine(struct daemon *d, lq_err_t *err)
{
    int rc;

    d->eng = engine_create(d->mkt, &d->cfg.engine, err);
    if (d->eng == NULL)
        return DX_CONFIG;
    if (d->positions_path == NULL)
        log_msg(LL_WARN, "liqmond", "no positions file: only positions added "
                "through the control API are watched");
    else if ((rc = daemon_load_positions(d, d->eng, d->positions_path, &d->cfg, err)) != 0)
        return rc;
    /* Live: what the control API changed, over the file (before the
     * pipeline, so alerts and the store's load rows see it all). */
    if (d->live && daemon_api_positions(d, d->eng, err) != 0)
        return DX_DATAERR;
    return 0;
}

static void stop_engine(struct daemon *d)
{
    engine_destroy(d->eng);
    d->eng = NULL;
}

/* ---- pipeline: alerts and sinks ----------------------------------------- */

/* FNV-1a 64 of the config file: which config a run had (store runs). */
static void config_hash(const char *path, char out[17])
{
    char *text = NULL;
    size_t len = 0;
    uint64_t h = 1469598103934665603ULL;

    out[0] = '\0';
    if (path == NULL || fileio_read_all(path, (size_t)1 << 20, &text, &len, NULL) != 0)
        return;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    free(text);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static int start_pipeline(struct daemon *d, lq_err_t *err)
{
    const struct daemon_opts *o = d->o;
    struct pipeline_config pc;
    char hash[17], cmd[1024];
    size_t n = 0;

    cmd[0] = '\0';
    for (int i = 0; i < o->argc && n + 2 < sizeof(cmd); i++)
        n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i ? " " : "", o->argv[i]);
    config_hash(o->config, hash);
    pipeline_config_default(&pc);
    pc.alerts = d->cfg.alerts;
    pc.alert_log = o->alert_log ? o->alert_log
                                : (d->cfg.alert_log[0] ? d->cfg.alert_log : NULL);
    /* Human alert lines on stderr (journald keeps their priority). */
    pc.human_fd = 2;
    pc.store.path = o->store ? o->store
                             : (d->cfg.store_path[0] ? d->cfg.store_path : NULL);
    pc.store.retention_days = d->cfg.retention_days;
    pc.store.queue_max = d->cfg.store_queue_max;
    pc.store.busy_timeout_ms = d->cfg.store_busy_timeout_ms;
    pc.snapshot_interval = (int64_t)d->cfg.snapshot_interval_ms * 1000000;
    pc.mode = d->live ? "live" : "replay";
    pc.config_hash = hash[0] ? hash : NULL;
    pc.argv = cmd;
    d->pipe = pipeline_create(d->mkt, d->eng, &pc, err);
    if (d->pipe == NULL)
        return DX_CANTCREAT;
    /* live: the event clock is the wall clock; a replay's starts with
     * its first frame */
    pipeline_store_positions(d->pipe, "load", "file", d->live ? now_ns() : 0);
    return 0;
}

static void stop_pipeline(struct daemon *d)
{
    struct jsonw w;
    lq_err_t err;

    if (d->pipe == NULL)
        return;
    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "events");
    jw_u64(&w, engine_get_stats(d->eng)->events);
    jw_key(&w, "ladders");
    jw_u64(&w, engine_get_stats(d->eng)->ladders);
    jw_key(&w, "alerts");
    jw_u64(&w, alerts_get_stats(pipeline_alerts(d->pipe))->records);
    jw_key(&w, "snapshots");
    jw_u64(&w, pipeline_get_stats(d->pipe)->snapshots);
    jw_obj_end(&w);
    if (pipeline_close(d->pipe, jw_failed(&w) ? NULL : w.buf, &err) != 0) {
        log_msg(LL_ERROR, "liqmond", "store: %s", err.msg);
        if (d->rc == 0)
            d->rc = DX_IOERR;
    }
    jw_fini(&w);
    d->pipe = NULL;
}

/* ---- live: loop, recorder, feed, handlers ------------------------------- */

static int start_loop(struct daemon *d, lq_err_t *err)
{
    if (uv_loop_init(&d->loop) != 0)
        return lq_err_set(err, "cannot create the event loop"), DX_SOFTWARE;
    d->loop_open = 1;
    return 0;
}

static void stop_loop(struct daemon *d)
{
    if (!d->loop_open)
        return;
    /* lws closes its last handles here (feed.h: after feed_destroy). */
    uv_run(&d->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&d->loop) != 0)
        log_msg(LL_WARN, "liqmond", "event loop closed with handles open");
    d->loop_open = 0;
}

static int start_recorder(struct daemon *d, lq_err_t *err)
{
    const char *dir = d->o->record ? d->o->record
                                   : (d->cfg.record_dir[0] ? d->cfg.record_dir : NULL);

    if (dir == NULL)
        return 0;
    d->rec = capture_writer_start(dir, 0, err);
    if (d->rec == NULL) {
        lq_err_prefix(err, "record");
        return DX_CANTCREAT;
    }
    return 0;
}

static void stop_recorder(struct daemon *d)
{
    capture_writer_stop(d->rec);
    d->rec = NULL;
}

static int start_feed(struct daemon *d, lq_err_t *err)
{
    struct feed_config fc;

    engine_measure_latency(d->eng, 1);
    feed_config_default(&fc);
    fc.ca_file = d->cfg.ca_file[0] ? d->cfg.ca_file : NULL;
    fc.max_message = d->cfg.max_message;
    fc.stale_ms = d->cfg.stale_ms;
    fc.backoff_min_ms = d->cfg.backoff_min_ms;
    fc.backoff_max_ms = d->cfg.backoff_max_ms;
    fc.max_age_s = d->cfg.max_age_s;
    fc.recorder = d->rec;
    d->feed = feed_create(&d->loop, &fc, err);
    if (d->feed == NULL)
        return DX_UNAVAILABLE;
    for (int v = 0; v < VENUE_COUNT; v++) {
        struct venue_io io;
        int has = 0;
        for (size_t i = 0; i < market_count(d->mkt); i++)
            has |= market_at(d->mkt, i)->venue == (enum venue_id)v;
        if (!has)
            continue;
        io = feed_venue_io(d->feed, (enum venue_id)v, daemon_on_event, d);
        if (d->cfg.venues[v].vc.rest_url[0] &&
            feed_set_rest_url(d->feed, (enum venue_id)v, d->cfg.venues[v].vc.rest_url,
                              err) != 0) {
            lq_err_prefix(err, "[venue %s] rest_url", venue_name((enum venue_id)v));
            return DX_CONFIG;
        }
        d->venues[v] = venue_create(&d->cfg.venues[v].vc, d->mkt, &io, err);
        if (d->venues[v] == NULL || feed_attach(d->feed, d->venues[v], err) != 0) {
            lq_err_prefix(err, "%s", venue_name((enum venue_id)v));
            return DX_CONFIG;
        }
    }
    pipeline_set_venues(d->pipe, d->venues);
    return 0;
}

static void stop_feed(struct daemon *d)
{
    /* Started but the loop never ran to the stop (a later step failed). */
    if (!d->stopping && d->feed) {
        feed_stop(d->feed);
        uv_run(&d->loop, UV_RUN_DEFAULT);
    }
    feed_destroy(d->feed);
    d->feed = NULL;
    control_destroy(d->ctl);          /* nothing calls it any more */
    d->ctl = NULL;
    metrics_destroy(d->metrics);
    d->metrics = NULL;
    if (d->pipe)
        pipeline_detach_venues(d->pipe);
    for (int v = 0; v < VENUE_COUNT; v++) {
        venue_destroy(d->venues[v]);
        d->venues[v] = NULL;
    }
}

static void write_state(struct daemon *d, const char *path)
{
    struct render_src s = daemon_render_src(d);
    struct jsonw w;
    FILE *f;

    jw_init(&w);
    render_state(&w, &s);
    if (jw_failed(&w) || (f = fopen(path, "w")) == NULL) {
        log_msg(LL_ERROR, "liqmond", "%s: cannot write the state", path);
    } else {
        fprintf(f, "%s\n", w.buf);
        if (fclose(f) != 0)
            log_msg(LL_ERROR, "liqmond", "%s: write error", path);
    }
    jw_fini(&w);
}

/* Stop input; the loop ends once everything on it is closed, then the
 * steps stop in reverse (daemon_main). */
static void daemon_stop(struct daemon *d)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    notify_stopping();
    /* The state is written while the feed still has its counters. */
    if (d->o->state_out)
        write_state(d, d->o->state_out);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
    uv_close((uv_handle_t *)&d->sigusr1, NULL);
    uv_close((uv_handle_t *)&d->status, NULL);
    uv_close((uv_handle_t *)&d->tick, NULL);
    uv_close((uv_handle_t *)&d->run_for, NULL);
    uv_close((uv_handle_t *)&d->watchdog, NULL);
    uv_close((uv_handle_t *)&d->lagt, NULL);
    d->handles_open = 0;
    feed_stop(d->feed);
}

static void on_signal(uv_signal_t *h, int signum)
{
    log_msg(LL_INFO, "liqmond", "signal %d: shutting down", signum);
    daemon_stop(h->data);
}

static void on_hup(uv_signal_t *h, int signum)
{
    (void)signum;
    daemon_reload(h->data);
}

static void on_usr1(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;

    (void)signum;
    log_msg(LL_INFO, "liqmond", "signal USR1: reopening the alert log");
    pipeline_reopen(d->pipe);
}

/* The event clock's wall tick: a silent feed still ages (alert-rules.md). */
static void on_tick(uv_timer_t *t)
{
    struct daemon *d = t->data;

    pipeline_tick(d->pipe, now_ns());
}

static void on_run_for(uv_timer_t *t)
{
    log_msg(LL_INFO, "liqmond", "--run-for elapsed: shutting down");
    daemon_stop(t->data);
}

/* The loop's lag: how late this timer runs.  libuv runs timers at
 * millisecond resolution, so a lag under a millisecond reads as 0-1 ms;
 * what matters is the tail (a blocked loop), which this sees exactly. */
#define LOOP_LAG_PERIOD_MS 100

static void on_lag(uv_timer_t *t)
{
    struct daemon *d = t->data;
    uint64_t now = uv_hrtime();

    d->lag_last = now > d->lag_due ? now - d->lag_due : 0;
    lathist_add(&d->lag, d->lag_last);
    d->lag_due = now + (uint64_t)LOOP_LAG_PERIOD_MS * 1000000;
}

static double loop_lag_ms(void *arg)
{
    const struct daemon *d = arg;

    return d->lag.count ? (double)d->lag_last / 1e6 : 0.0;
}

/* STATUS= for systemctl status: one line of health. */
static void status_summary(struct daemon *d, char *buf, size_t size)
{
    struct feed_conn_stats cs[64];
    size_t n = d->feed ? feed_get_stats(d->feed, cs, 64) : 0, up = 0, valid = 0;
    size_t watched;

    for (size_t i = 0; i < n; i++)
        up += cs[i].connected && cs[i].healthy;
    for (size_t i = 0; i < market_count(d->mkt); i++)
        valid += market_at(d->mkt, i)->book_valid;
    watched = 0;
    for (size_t i = 0; i < market_count(d->mkt); i++)
        watched += !market_at(d->mkt, i)->retired;
    snprintf(buf, size, "%zu/%zu connections up, %zu/%zu books valid, %zu alerts "
             "firing", up, n, valid, watched,
             alerts_active_count(pipeline_alerts(d->pipe)));
}

static void on_watchdog(uv_timer_t *t)
{
    struct daemon *d = t->data;
    char line[160];

    notify_watchdog();
    status_summary(d, line, sizeof(line));
    notify_status("%s", line);
}

static void on_status(uv_timer_t *t)
{
    struct daemon *d = t->data;

    for (size_t i = 0; i < market_count(d->mkt); i++) {
        struct mkt_instr *in = market_at(d->mkt, i);
        const struct engine_ladder *l = engine_ladder(d->eng, in);
        char down[128], up[128];
        if (l == NULL)
            continue;                   /* retired by a reload */
        if (!l->valid) {
            log_msg(LL_INFO, "status", "%s mark %.10g: no ladder (%s)", in->key,
                    in->mark, in->book_valid ? (l->why_invalid ? l->why_invalid : "-")
                                             : in->invalid_reason);
            continue;
        }
        render_side_headline(l, CASCADE_DOWN, down, sizeof(down));
        render_side_headline(l, CASCADE_UP, up, sizeof(up));
        log_msg(LL_INFO, "status", "%s mark %.10g; %s; %s", in->key, in->mark,
                down, up);
    }
}

void daemon_status_timer(struct daemon *d)
{
    uv_timer_stop(&d->status);
    if (d->cfg.status_interval_s > 0)
        uv_timer_start(&d->status, on_status, (uint64_t)d->cfg.status_interval_s * 1000,
                       (uint64_t)d->cfg.status_interval_s * 1000);
}

static int start_handlers(struct daemon *d, lq_err_t *err)
{
    uint64_t wd_usec = 0;

    (void)err;
    uv_signal_init(&d->loop, &d->sigint);
    uv_signal_init(&d->loop, &d->sigterm);
    uv_signal_init(&d->loop, &d->sighup);
    uv_signal_init(&d->loop, &d->sigusr1);
    d->sigint.data = d->sigterm.data = d->sighup.data = d->sigusr1.data = d;
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    /* SIGHUP reloads; neither it nor SIGUSR1 may kill the daemon. */
    uv_signal_start(&d->sighup, on_hup, SIGHUP);
    uv_signal_start(&d->sigusr1, on_usr1, SIGUSR1);
    uv_timer_init(&d->loop, &d->tick);
    uv_timer_init(&d->loop, &d->status);
    uv_timer_init(&d->loop, &d->run_for);
    uv_timer_init(&d->loop, &d->watchdog);
    uv_timer_init(&d->loop, &d->lagt);
    d->tick.data = d->status.data = d->run_for.data = d->watchdog.data = d;
    d->lagt.data = d;
    uv_timer_start(&d->tick, on_tick, 1000, 1000);
    d->lag_due = uv_hrtime() + (uint64_t)LOOP_LAG_PERIOD_MS * 1000000;
    uv_timer_start(&d->lagt, on_lag, LOOP_LAG_PERIOD_MS, LOOP_LAG_PERIOD_MS);
    daemon_status_timer(d);
    if (d->o->run_for > 0)
        uv_timer_start(&d->run_for, on_run_for, (uint64_t)(d->o->run_for * 1000), 0);
    /* WATCHDOG=1 from the loop itself: a stalled loop stops sending it and
     * systemd restarts the service.  Half the interval, as sd_watchdog_enabled
     * advises. */
    if (notify_watchdog_usec(&wd_usec) > 0 && wd_usec >= 2000)
        uv_timer_start(&d->watchdog, on_watchdog, wd_usec / 2000, wd_usec / 2000);
    d->handles_open = 1;
    return 0;
}

static void stop_handlers(struct daemon *d)
{
    (void)d;                      /* closed by daemon_stop before uv_run ends */
}

/* ---- live: the control API ------------------------------------------------ */

static int start_control(struct daemon *d, lq_err_t *err)
{
    struct control_deps deps;
    struct timespec now;
    const char *sock = d->cfg.control_socket[0] ? d->cfg.control_socket : NULL;
    const char *tcp = d->cfg.control_listen[0] ? d->cfg.control_listen : NULL;

    if (sock == NULL && tcp == NULL)
        return 0;
    clock_gettime(CLOCK_REALTIME, &now);
    memset(&deps, 0, sizeof(deps));
    deps.mkt = d->mkt;
    deps.eng = d->eng;
    deps.pipe = d->pipe;
    deps.venues = d->venues;
    deps.feed = d->feed;
    deps.started_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    deps.version = LIQMON_VERSION;
    deps.loop_lag_ms = loop_lag_ms;
    deps.loop_lag_arg = d;
    d->ctl = control_create(&deps, err);
    if (d->ctl == NULL)
        return DX_SOFTWARE;
    /* GET /v1/alerts answers across restarts: the store's newest
     * records, read now, before the loop runs.  A store that cannot be
     * read only costs that history. */
    if (pipeline_store(d->pipe) != NULL) {
        const char *path = d->o->store ? d->o->store : d->cfg.store_path;
        lq_err_t perr;
        if (control_preload_alerts(d->ctl, path, &perr) != 0)
            log_msg(LL_WARN, "control", "alert history not loaded: %s", perr.msg);
    }
    if (control_listen(d->ctl, d->feed, sock, (unsigned)d->cfg.control_socket_mode, tcp,
                       d->cfg.control_max_body, err) < 0) {
        lq_err_prefix(err, "[control]");
        return DX_CANTCREAT;
    }
    log_msg(LL_INFO, "liqmond", "control API on %s%s%s", sock ? sock : "",
            sock && tcp ? " and " : "", tcp ? tcp : "");
    return 0;
}

/* The control API's requests come from the feed's listener: its memory
 * goes in stop_feed, after the feed (control_destroy).  Here it only stops
 * hearing alerts: the pipeline still closes after it. */
static void stop_control(struct daemon *d)
{
    if (d->ctl && d->pipe)
        pipeline_remove_listener(d->pipe, d->ctl);
}

/* ---- live: Prometheus metrics ----------------------------------------------- */

static int start_metrics(struct daemon *d, lq_err_t *err)
{
    struct metrics_deps deps;
    struct pipeline_listener pl;
    struct timespec now;
    int port;

    if (d->cfg.metrics_listen[0] == '\0')
        return 0;
    clock_gettime(CLOCK_REALTIME, &now);
    memset(&deps, 0, sizeof(deps));
    deps.mkt = d->mkt;
    deps.eng = d->eng;
    deps.venues = d->venues;
    deps.feed = d->feed;
    deps.alerts = pipeline_alerts(d->pipe);
    deps.store = pipeline_store(d->pipe);
    deps.loop_lag = &d->lag;
    deps.started_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    deps.version = LIQMON_VERSION;
    if ((d->metrics = metrics_create(&deps, err)) == NULL)
        return DX_SOFTWARE;
    if ((port = metrics_listen(d->metrics, d->feed, d->cfg.metrics_listen, err)) < 0) {
        lq_err_prefix(err, "[metrics]");
        return DX_CANTCREAT;
    }
    memset(&pl, 0, sizeof(pl));
    pl.on_alert = metrics_on_alert;
    pl.arg = d->metrics;
    if (pipeline_add_listener(d->pipe, &pl) != 0) {
        lq_err_set(err, "metrics: out of memory");
        return DX_SOFTWARE;
    }
    log_msg(LL_INFO, "liqmond", "metrics on http://%s/metrics (port %d)",
            d->cfg.metrics_listen, port);
    return 0;
}

/* Its memory goes in stop_feed, after the feed (no more scrapes). */
static void stop_metrics(struct daemon *d)
{
    if (d->metrics && d->pipe)
        pipeline_remove_listener(d->pipe, d->metrics);
}

/* ---- replay: its adapters ------------------------------------------------ */

static int start_adapters(struct daemon *d, lq_err_t *err)
{
    (void)err;
    /* The replay's adapters so far (start_market); later ones come
     * through replay_added. */
    pipeline_set_venues(d->pipe, d->venues);
    return 0;
}

static void stop_adapters(struct daemon *d)
{
    if (d->pipe)
        pipeline_detach_venues(d->pipe);
    /* replay_destroy (stop_market) destroys them */
}

/* ---- the list ----------------------------------------------------------- */

#define LIVE 1
#define REPLAY 2

static const struct step {
    const char *name;
    unsigned modes;
    int (*start)(struct daemon *d, lq_err_t *err);
    void (*stop)(struct daemon *d);
} steps[] = {
    { "config", LIVE | REPLAY, start_config, NULL },
    { "market", LIVE | REPLAY, start_market, stop_market },
    { "engine", LIVE | REPLAY, start_engine, stop_engine },
    { "pipeline", LIVE | REPLAY, start_pipeline, stop_pipeline },
    { "loop", LIVE, start_loop, stop_loop },
    { "recorder", LIVE, start_recorder, stop_recorder },
    { "feed", LIVE, start_feed, stop_feed },
    { "control", LIVE, start_control, stop_control },
    { "metrics", LIVE, start_metrics, stop_metrics },
    { "handlers", LIVE, start_handlers, stop_handlers },
    { "adapters", REPLAY, start_adapters, stop_adapters },
};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

static int run_live(struct daemon *d)
{
    char line[160];

    log_msg(LL_INFO, "liqmond", "%s started: %zu instruments", LIQMON_VERSION,
            market_count(d->mkt));
    /* Feeds started, store open: ready (systemd Type=notify). */
    status_summary(d, line, sizeof(line));
    notify_status("%s", line);
    notify_ready();
    uv_run(&d->loop, UV_RUN_DEFAULT);
    return 0;
}

static int capture_exit_code(enum capture_error e)
{
    switch (e) {
    case CAPTURE_EDATA: return DX_DATAERR;
    case CAPTURE_EIO: return DX_IOERR;
    case CAPTURE_ENOMEM: return DX_SOFTWARE;
    default: return DX_NOINPUT;
    }
}

static int run_replay(struct daemon *d)
{
    struct replay_opts ro;
    struct render_src s = daemon_render_src(d);
    lq_err_t err;
    int rc;

    memset(&ro, 0, sizeof(ro));
    ro.speed = d->o->speed;
    ro.progress = 1;
    rc = replay_play(d->replay, d->o->replay, d->o->nreplay, &ro, &d->rst, &err);
    if (rc != 0) {
        /* What was read before the damage stays applied; the exit code
         * says what went wrong (capture.h; -2: a discovered instrument's
         * file is bad). */
        fprintf(stderr, "liqmond: %s\n", err.msg);
        return rc == -1 ? capture_exit_code(capture_last_error())
                        : rc == -2 ? DX_DATAERR : DX_SOFTWARE;
    }
    if (d->rst.frames == 0 && d->rst.bad_lines > 0) {
        fprintf(stderr, "liqmond: not a capture: no line of %zu file%s is a frame "
                "(%llu bad lines)\n", d->o->nreplay, d->o->nreplay == 1 ? "" : "s",
                (unsigned long long)d->rst.bad_lines);
        return DX_DATAERR;
    }
    if (d->o->state_out)
        write_state(d, d->o->state_out);
    if (d->o->json) {
        struct jsonw w;
        jw_init(&w);
        render_replay_json(&w, &s, &d->rst);
        if (!jw_failed(&w))
            printf("%s\n", w.buf);
        jw_fini(&w);
    } else {
        render_replay_text(stdout, &s, &d->rst);
    }
    return 0;
}

/* ---- liqmond -t: every check the start runs, every problem listed ------ */

static void print_problem(const char *msg, void *arg)
{
    (*(int *)arg)++;
    fprintf(stderr, "liqmond: %s\n", msg);
}

/* An output file's directory must exist and be writable (systemd creates
 * LogsDirectory / StateDirectory before ExecStartPre runs -t). */
static void check_output(const char *what, const char *path, int *problems)
{
    char dir[CONFIG_PATH_MAX];
    const char *slash;

    if (path == NULL || *path == '\0')
        return;
    slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) ? (int)(slash - path) : 1,
                 path);
    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "liqmond: %s %s: its directory %s is not writable (%s)\n",
                what, path, dir, strerror(errno));
        (*problems)++;
    }
}

static int daemon_check(const struct daemon_opts *o)
{
    struct liqmon_config cfg;
    market_t *m = NULL;
    engine_t *e = NULL;
    int problems = 0;
    lq_err_t err;
    const char *pos;

    if (!o->verbose)
        log_set_level(LL_WARN);           /* problems only */
    config_default(&cfg);
    config_load_all(o->config, &cfg, print_problem, &problems);
    /* Instruments: every configured symbol's file, each problem said. */
    for (int v = 0; v < VENUE_COUNT; v++) {
        const struct config_venue *cv = &cfg.venues[v];
        for (size_t i = 0; cv->enabled && i < cv->nsymbols; i++) {
            struct instrument ins;
            if (instrument_load_dir(o->instruments ? o->instruments : cfg.instruments_dir,
                                    venue_name((enum venue_id)v), cv->symbols[i], &ins,
                                    &err) != 0) {
                fprintf(stderr, "liqmond: %s: [venue %s] %s: %s\n", o->config,
                        venue_name((enum venue_id)v), cv->symbols[i], err.msg);
                problems++;
                continue;
            }
            instrument_fini(&ins);
        }
    }
    /* Positions: loaded as the start loads them, into a scratch engine. */
    pos = o->positions ? o->positions : (cfg.positions[0] ? cfg.positions : NULL);
    if (pos != NULL && daemon_build_market(&cfg, o->instruments, &m, &err) == 0 &&
        (e = engine_create(m, &cfg.engine, &err)) != NULL) {
        struct daemon scratch;
        memset(&scratch, 0, sizeof(scratch));
        if (daemon_load_positions(&scratch, e, pos, &cfg, &err) != 0) {
            fprintf(stderr, "liqmond: %s\n", err.msg);
            problems++;
        }
    }
    else if (pos != NULL && access(pos, R_OK) != 0) {
        fprintf(stderr, "liqmond: positions %s: %s\n", pos, strerror(errno));
        problems++;
    }
    engine_destroy(e);
    market_destroy(m);
    check_output("[alerts] log", o->alert_log ? o->alert_log : cfg.alert_log, &problems);
    check_output("[store] path", o->store ? o->store : cfg.store_path, &problems);
    check_output("[control] socket", cfg.control_socket, &problems);
    if (cfg.record_dir[0] && access(cfg.record_dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "liqmond: [daemon] record_dir %s: not a writable directory "
                "(%s)\n", cfg.record_dir, strerror(errno));
        problems++;
    }
    if (problems) {
        fprintf(stderr, "liqmond: %s: %d problem%s\n", o->config, problems,
                problems == 1 ? "" : "s");
        return DX_CONFIG;
    }
    printf("%s: ok\n", o->config);
    return DX_OK;
}

int daemon_main(const struct daemon_opts *o)
{
    struct daemon *d = calloc(1, sizeof(*d));
    unsigned mode = o->replaying ? REPLAY : LIVE;
    size_t started = 0;
    lq_err_t err;
    int rc = 0;

    if (d == NULL) {
        fprintf(stderr, "liqmond: out of memory\n");
        return DX_SOFTWARE;
    }
    if (o->check_config) {
        free(d);
        return daemon_check(o);
    }
    d->o = o;
    d->live = !o->replaying;
    for (; started < NSTEPS; started++) {
        if (!(steps[started].modes & mode))
            continue;
        err.msg[0] = '\0';
        rc = steps[started].start(d, &err);
        if (rc != 0) {
            fprintf(stderr, "liqmond: %s\n", err.msg[0] ? err.msg : steps[started].name);
            break;
        }
    }
    if (rc == 0)
        rc = d->live ? run_live(d) : run_replay(d);
    d->rc = rc;
    /* The exact reverse of what started (the failed step cleaned itself
     * up as far as it got; its stop is safe on partial state). */
    for (size_t i = started < NSTEPS ? started + 1 : NSTEPS; i-- > 0;) {
        if ((steps[i].modes & mode) && steps[i].stop)
            steps[i].stop(d);
    }
    rc = d->rc;
    free(d);
    return rc;
}
