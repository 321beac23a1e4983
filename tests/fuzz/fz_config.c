/*
 * fz_config.c - liqmond's configuration file (the input is the file,
 * read by path from memory).
 *
 * Properties:
 *  - config_load and config_load_all agree: -1 exactly when problems
 *    were reported, and config_load's message is the first problem;
 *    every problem is "<path>:<line>: <what>" or "<path>: <what>", one
 *    line of text;
 *  - loading is deterministic (two loads give the same struct);
 *  - an accepted config keeps every documented range (config.c's key
 *    table), at least one venue with 1..64 distinct symbols, strings
 *    NUL-terminated, alert thresholds that alert_config_check accepts,
 *    and config_restart_needed(c, c) finds nothing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/config.h"
#include "fuzz.h"

struct probs {
    const char *path;
    size_t n;
    char first[512];
};

static void on_problem(const char *msg, void *arg)
{
    struct probs *p = arg;
    size_t pl = strlen(p->path);

    FZ_CHECK_MSG("config problem", msg);
    FZ_CHECK(strncmp(msg, p->path, pl) == 0 && msg[pl] == ':', "problem '%s': no path", msg);
    if (p->n++ == 0)
        snprintf(p->first, sizeof(p->first), "%s", msg);
}

static void on_restart(const char *msg, void *arg)
{
    (void)arg;
    FZ_CHECK(0, "config_restart_needed(c, c): %s", msg);
}

#define STR_OK(f) FZ_CHECK(memchr((f), '\0', sizeof(f)) != NULL, #f " not terminated")
#define IN(v, lo, hi) FZ_CHECK((v) >= (lo) && (v) <= (hi), #v " = %.17g out of [%.17g, %.17g]", \
                               (double)(v), (double)(lo), (double)(hi))

static void check_accepted(const struct liqmon_config *c)
{
    int venues = 0;
    lq_err_t err;

    STR_OK(c->instruments_dir);
    STR_OK(c->positions);
    STR_OK(c->record_dir);
    STR_OK(c->ca_file);
    STR_OK(c->alert_log);
    STR_OK(c->store_path);
    STR_OK(c->control_socket);
    STR_OK(c->control_listen);
    STR_OK(c->metrics_listen);
    IN(c->max_message, 65536, 1 << 30);
    IN(c->stale_ms, 1000, 3600000);
    IN(c->backoff_min_ms, 10, 60000);
    IN(c->backoff_max_ms, 100, 600000);
    IN(c->max_age_s, 5, 86400);
    FZ_CHECK(c->status_interval_s == 0 || (c->status_interval_s >= 1 && c->status_interval_s <= 86400),
             "status_interval_s %d", c->status_interval_s);
    IN(c->positions_min_loaded, 0, 1);
    FZ_CHECK(c->snapshot_interval_ms == 0 ||
                 (c->snapshot_interval_ms >= 1000 && c->snapshot_interval_ms <= 86400000),
             "snapshot_interval_ms %lld", c->snapshot_interval_ms);
    IN(c->retention_days, 0, 36500);
    IN(c->store_queue_max, 1024, 16777216);
    IN(c->store_busy_timeout_ms, 100, 600000);
    IN(c->control_socket_mode, 0, 0777);
    IN(c->control_max_body, 1024, 64 << 20);
    IN(c->engine.nshocks, 1, ENGINE_MAX_SHOCKS);
    for (size_t i = 0; i < c->engine.nshocks; i++)
        FZ_CHECK(isfinite(c->engine.shocks[i]) && c->engine.shocks[i] >= 0 &&
                     c->engine.shocks[i] < 1, "shock %zu: %.17g", i, c->engine.shocks[i]);
    IN(c->engine.nsides, 1, 2);
    for (size_t i = 0; i < c->engine.nsides; i++)
        FZ_CHECK(c->engine.sides[i] == CASCADE_DOWN || c->engine.sides[i] == CASCADE_UP, "side");
    IN(c->alerts.warn, 0, 1);
    IN(c->alerts.crit, 0, 1);
    IN(c->alerts.margin, 0, 1);
    IN(c->alerts.amp, 1, 1e6);
    IN(c->alerts.notional, 0, 1e15);
    IN(c->alerts.cluster_notional, 1, 1e15);
    IN(c->alerts.clear_after, 0, 86400LL * 1000000000LL);
    FZ_CHECK(alert_config_check(&c->alerts, &err) == 0, "accepted, but alert_config_check: %s", err.msg);
    for (int v = 0; v < VENUE_COUNT; v++) {
        const struct config_venue *cv = &c->venues[v];
        if (!cv->enabled)
            continue;
        venues++;
        STR_OK(cv->vc.ws_url);
        STR_OK(cv->vc.ws_url_market);
        STR_OK(cv->vc.rest_url);
        STR_OK(cv->vc.liq_route);
        IN(cv->nsymbols, 1, CONFIG_MAX_SYMBOLS);
        for (size_t i = 0; i < cv->nsymbols; i++) {
            STR_OK(cv->symbols[i]);
            FZ_CHECK(cv->symbols[i][0] != '\0' && strpbrk(cv->symbols[i], " \t,") == NULL,
                     "symbol '%s'", cv->symbols[i]);
            for (size_t k = 0; k < i; k++)
                FZ_CHECK(strcmp(cv->symbols[i], cv->symbols[k]) != 0, "symbol '%s' twice",
                         cv->symbols[i]);
        }
    }
    FZ_CHECK(venues > 0, "accepted without a venue");
    FZ_CHECK(config_restart_needed(c, c, on_restart, NULL) == 0, "restart needed against itself");
}

void fuzz_config_one(const uint8_t *data, size_t size)
{
    struct liqmon_config *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    struct probs p;
    lq_err_t err;
    const char *path;
    int rc, n;

    fz_begin();
    FZ_CHECK(a && b, "oom");
    path = fz_file(0, data, size);
    memset(&p, 0, sizeof(p));
    p.path = path;
    config_default(a);
    config_default(b);
    err.msg[0] = '\0';
    rc = config_load(path, a, &err);
    n = config_load_all(path, b, on_problem, &p);
    FZ_CHECK(n == (int)p.n, "config_load_all returned %d, reported %zu", n, p.n);
    FZ_CHECK((rc == 0) == (n == 0), "config_load %d, config_load_all %d problems", rc, n);
    if (rc != 0) {
        FZ_CHECK(rc == -1, "config_load %d", rc);
        FZ_CHECK_MSG("config error", err.msg);
        /* the same text, or (err->msg is shorter) its start, the cut end
         * escaped again */
        size_t el = strlen(err.msg);
        FZ_CHECK(strcmp(err.msg, p.first) == 0 ||
                     (el >= 400 && strncmp(err.msg, p.first, el - 16) == 0),
                 "config_load says '%s', the first problem is '%s'", err.msg, p.first);
    } else {
        FZ_CHECK(memcmp(a, b, sizeof(*a)) == 0, "two loads of one file differ");
        check_accepted(a);
    }
    free(a);
    free(b);
}
