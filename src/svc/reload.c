/*
 * reload.c - SIGHUP: the config and the positions file again, applied
 * whole or not at all.
 *
 *   1. read the new config (every problem logged) and try it: the
 *      instrument files of every watched symbol, and the positions file
 *      loaded into a scratch engine over a trial market, with the
 *      config's positions_min_loaded.  Any problem: the old config and
 *      positions stay, a config_rejected alert and a log line say why.
 *   2. apply: venues whose settings or symbols changed get a new adapter
 *      and new connections (symbols removed are retired, their state
 *      dropped; added ones join the market); every other connection stays
 *      up.  Ladder and alert thresholds at once.  Positions: the new set
 *      replaces the old (alert states of unchanged positions are kept).
 *   3. settings that need a restart (store path, feed timings ...) are
 *      named in the log and keep their old value until then.
 *
 * systemd: RELOADING=1 (with MONOTONIC_USEC) first, READY=1 at the end,
 * either way.  The alert log is reopened too (logrotate sends SIGHUP).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon_int.h"
#include "liqmon/log.h"
#include "liqmon/notify.h"

struct problems {
    int n;
    char first[600];
};

static void collect(const char *msg, void *arg)
{
    struct problems *p = arg;

    if (p->n++ == 0)
        snprintf(p->first, sizeof(p->first), "%s", msg);
    log_msg(LL_ERROR, "reload", "%s", msg);
}

static void restart_note(const char *key, void *arg)
{
    (void)arg;
    log_msg(LL_WARN, "reload", "%s changed: takes effect at the next restart", key);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The whole reload refused: say it in the log and as an alert. */
static void reject(struct daemon *d, const char *what, const char *why)
{
    char msg[900], details[1000];
    struct jsonw w;

    /* why names its file already ("<file>:<line>: ...") */
    snprintf(msg, sizeof(msg), "reload refused: %s; the running config and "
             "positions stay", why);
    log_msg(LL_ERROR, "reload", "%s", msg);
    jw_init(&w);
    jw_obj_begin(&w);
    jw_key(&w, "what");
    jw_str(&w, what);
    jw_key(&w, "why");
    jw_str(&w, why);
    jw_obj_end(&w);
    snprintf(details, sizeof(details), "%s", jw_failed(&w) ? "{}" : w.buf);
    jw_fini(&w);
    alerts_raise_extra(pipeline_alerts(d->pipe), now_ns(), "config_rejected",
                       d->o->config ? d->o->config : "config", ALERT_WARNING, 0, msg,
                       details);
}

static int venue_changed(const struct config_venue *a, const struct config_venue *b)
{
    if (a->enabled != b->enabled || a->nsymbols != b->nsymbols ||
        memcmp(&a->vc, &b->vc, sizeof(a->vc)) != 0)
        return 1;
    for (size_t i = 0; i < a->nsymbols; i++)
        if (strcmp(a->symbols[i], b->symbols[i]) != 0)
            return 1;
    return 0;
}

static int has_symbol(const struct config_venue *cv, const char *sym)
{
    for (size_t i = 0; cv->enabled && i < cv->nsymbols; i++)
        if (strcmp(cv->symbols[i], sym) == 0)
            return 1;
    return 0;
}

/* Venue v's instruments as nc says; its adapter and connections anew. */
static int apply_venue(struct daemon *d, enum venue_id v, const struct liqmon_config *nc,
                       lq_err_t *err)
{
    const struct config_venue *cv = &nc->venues[v];
    struct venue_io io;

    if (d->venues[v] != NULL) {
        pipeline_detach_venues(d->pipe);   /* re-set after the loop */
        feed_detach(d->feed, d->venues[v]);
        venue_destroy(d->venues[v]);
        d->venues[v] = NULL;
    }
    for (size_t i = 0; i < market_count(d->mkt); i++) {
        struct mkt_instr *in = market_at(d->mkt, i);
        if (in->venue == v && !in->retired && !has_symbol(cv, in->spec.symbol)) {
            log_msg(LL_INFO, "reload", "%s: no longer watched", in->key);
            market_retire(in);
        }
    }
    for (size_t i = 0; cv->enabled && i < cv->nsymbols; i++) {
        struct instrument ins;
        if (market_find(d->mkt, v, cv->symbols[i]) != NULL)
            continue;
        if (instrument_load_dir(nc->instruments_dir, venue_name(v), cv->symbols[i], &ins,
                                err) != 0)
            return -1;
        if (market_add(d->mkt, v, &ins, err) == NULL) {
            instrument_fini(&ins);
            return -1;
        }
        instrument_fini(&ins);
        log_msg(LL_INFO, "reload", "%s:%s: now watched", venue_name(v), cv->symbols[i]);
    }
    if (engine_sync(d->eng, err) != 0 || pipeline_sync(d->pipe, err) != 0)
        return -1;
    if (!cv->enabled || cv->nsymbols == 0)
        return 0;
    io = feed_venue_io(d->feed, v, daemon_on_event, d);
    if (cv->vc.rest_url[0] && feed_set_rest_url(d->feed, v, cv->vc.rest_url, err) != 0)
        return -1;
    d->venues[v] = venue_create(&cv->vc, d->mkt, &io, err);
    if (d->venues[v] == NULL)
        return -1;
    return feed_attach(d->feed, d->venues[v], err);
}

void daemon_reload(struct daemon *d)
{
    const struct daemon_opts *o = d->o;
    struct liqmon_config nc;
    struct problems pr = { 0, "" };
    market_t *trial = NULL;
    engine_t *scratch = NULL;
    const char *pos;
    lq_err_t err;
    int changed[VENUE_COUNT] = { 0 }, any_venue = 0;

    notify_reloading();
    log_msg(LL_INFO, "reload", "SIGHUP: reloading %s", o->config);
    pipeline_reopen(d->pipe);            /* logrotate sends SIGHUP too */

    /* ---- 1. read and try, touching nothing ---- */
    config_default(&nc);
    if (config_load_all(o->config, &nc, collect, &pr) != 0) {
        reject(d, o->config, pr.first);
        goto done;
    }
    pos = o->positions ? o->positions : (nc.positions[0] ? nc.positions : NULL);
    if (daemon_build_market(&nc, o->instruments, &trial, &err) != 0) {
        reject(d, o->config, err.msg);
        goto done;
    }
    if (pos != NULL) {
        engine_t *e = engine_create(trial, &nc.engine, &err);
        int rc = e ? daemon_load_positions(d, e, pos, &nc, &err) : DX_CONFIG;
        engine_destroy(e);
        if (rc != 0) {
            reject(d, pos, err.msg);
            goto done;
        }
    }
    config_restart_needed(&d->cfg, &nc, restart_note, NULL);

    /* ---- 2. apply ---- */
    for (int v = 0; v < VENUE_COUNT; v++) {
        changed[v] = venue_changed(&d->cfg.venues[v], &nc.venues[v]);
        any_venue |= changed[v];
    }
    for (int v = 0; v < VENUE_COUNT; v++) {
        if (!changed[v])
            continue;
        log_msg(LL_INFO, "reload", "[venue %s] changed: new connections for it; the "
                "other venues' stay up", venue_name((enum venue_id)v));
        if (apply_venue(d, (enum venue_id)v, &nc, &err) != 0) {
            /* The trial proved the files good; what fails now is the
             * system (memory).  Say so; the rest still applies. */
            log_msg(LL_ERROR, "reload", "[venue %s]: %s", venue_name((enum venue_id)v),
                    err.msg);
        }
        d->cfg.venues[v] = nc.venues[v];
    }
    if (any_venue)
        pipeline_set_venues(d->pipe, d->venues);
    if (engine_set_config(d->eng, &nc.engine, &err) == 0)
        d->cfg.engine = nc.engine;
    alerts_set_config(pipeline_alerts(d->pipe), &nc.alerts);
    d->cfg.alerts = nc.alerts;
    /* Positions: load for real into a scratch engine on the (now updated)
     * market, then swap; alert states of unchanged positions carry over. */
    d->positions_path = pos;
    if (pos != NULL && (scratch = engine_create(d->mkt, &nc.engine, &err)) != NULL &&
        daemon_load_positions(d, scratch, pos, &nc, &err) == 0 &&
        daemon_api_positions(d, scratch, &err) == 0 &&
        engine_swap_positions(d->eng, scratch) == 0) {
        alerts_positions_replaced(pipeline_alerts(d->pipe), scratch, now_ns());
        pipeline_store_positions(d->pipe, "load", "file", now_ns());
    } else if (pos != NULL) {
        log_msg(LL_ERROR, "reload", "positions: %s (the old ones stay)", err.msg);
    }
    engine_destroy(scratch);
    scratch = NULL;
    d->cfg.positions_min_loaded = nc.positions_min_loaded;
    memcpy(d->cfg.positions, nc.positions, sizeof(d->cfg.positions));
    if (nc.status_interval_s != d->cfg.status_interval_s) {
        d->cfg.status_interval_s = nc.status_interval_s;
        daemon_status_timer(d);
    }
    log_msg(LL_INFO, "reload", "%s applied", o->config);
done:
    engine_destroy(scratch);
    market_destroy(trial);
    notify_ready();
}
