/*
 * config.c - the INI-style configuration file (see config.h).
 *
 * One table lists every key: its section, type, range, whether a reload
 * may change it, and where it lands.  One pass over the lines; each value
 * goes through the setter of its type, which checks the range and reports
 * "<file>:<line>: <key>: <what is allowed> (got '<value>')".  A problem
 * never stops the pass (liqmond -t lists them all); the first one is what
 * config_load returns.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liqmon/config.h"
#include "liqmon/feed.h"
#include "liqmon/fileio.h"
#include "liqmon/store.h"
#include "liqmon/version.h"

#define CONFIG_MAX_BYTES ((size_t)1 << 20)
#define S_MS 1000LL
#define M_MS 60000LL
#define H_MS 3600000LL

void config_default(struct liqmon_config *c)
{
    struct feed_config fc;
    struct store_config sc;

    memset(c, 0, sizeof(*c));
    snprintf(c->instruments_dir, sizeof(c->instruments_dir), "%s/instruments",
             LIQMON_DATADIR);
    /* Each module's own defaults: written once, there. */
    feed_config_default(&fc);
    c->max_message = fc.max_message;
    c->stale_ms = fc.stale_ms;
    c->backoff_min_ms = fc.backoff_min_ms;
    c->backoff_max_ms = fc.backoff_max_ms;
    c->max_age_s = fc.max_age_s;
    engine_config_default(&c->engine);
    alert_config_default(&c->alerts);
    store_config_default(&sc);
    c->retention_days = sc.retention_days;
    c->store_queue_max = sc.queue_max;
    c->store_busy_timeout_ms = sc.busy_timeout_ms;
    for (int v = 0; v < VENUE_COUNT; v++)
        venue_config_default((enum venue_id)v, &c->venues[v].vc);
    c->status_interval_s = 60;
    c->snapshot_interval_ms = 60 * S_MS;
    c->positions_min_loaded = 0.95;
    c->control_socket_mode = 0660;
    c->control_max_body = (size_t)1 << 20;
}

/* ---- value parsers ---------------------------------------------------- */

static int parse_int(const char *s, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' ? 0 : -1;
}

/* "250ms", "30s", "5m", "23h", or a bare number of seconds. */
static int parse_duration_ms(const char *s, long long *ms)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    /* "nan", "inf" or "1e30s" would make the cast undefined; no key allows
     * more than 1e12 of any unit. */
    if (errno || end == s || !(v >= 0 && v <= 1e12))
        return -1;
    if (strcmp(end, "ms") == 0)
        ;
    else if (strcmp(end, "s") == 0 || *end == '\0')
        v *= 1000;
    else if (strcmp(end, "m") == 0)
        v *= 60000;
    else if (strcmp(end, "h") == 0)
        v *= 3600000;
    else
        return -1;
    /* Fix (found by fuzzing): "0.5ms" truncated to 0 (off) before the
     * range check saw it.  Durations are whole milliseconds; a value that
     * is not is refused, never rounded into another meaning. */
    if (v != floor(v))
        return -1;
    *ms = (long long)v;
    return 0;
}

/* "4MiB", "512KiB", "1GiB", or bytes. */
static int parse_size(const char *s, long long *bytes)
{
    char *end;
    long long v;
    int shift;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return -1;
    if (*end == '\0' || strcmp(end, "B") == 0)
        shift = 0;
    else if (strcmp(end, "KiB") == 0)
        shift = 10;
    else if (strcmp(end, "MiB") == 0)
        shift = 20;
    else if (strcmp(end, "GiB") == 0)
        shift = 30;
    else
        return -1;
    if (v > (LLONG_MAX >> shift))
        return -1;
    *bytes = v << shift;
    return 0;
}

static int parse_number(const char *s, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    return errno == 0 && end != s && *end == '\0' && isfinite(*out) ? 0 : -1;
}

/* scheme://host[:port][/path]: the host must be there. */
static int url_ok(const char *v, const char *const *schemes)
{
    for (; *schemes; schemes++) {
        size_t n = strlen(*schemes);
        if (strncmp(v, *schemes, n) == 0 && v[n] != '\0' && v[n] != '/' &&
            v[n] != ':' && strchr(v, ' ') == NULL)
            return 1;
    }
    return 0;
}

/* "127.0.0.1:9464" or "[::1]:9464": a numeric address and a port
 * (0: a free one, logged) as feed_listen takes it. */
static int listen_ok(const char *v)
{
    char addr[64];
    unsigned char bin[16];
    int port;

    return feed_parse_listen(v, addr, sizeof(addr), &port) == 0 &&
           (inet_pton(AF_INET, addr, bin) == 1 || inet_pton(AF_INET6, addr, bin) == 1);
}

/* ---- the table -------------------------------------------------------- */

enum ktype {
    K_PATH,          /* char[] */
    K_FILE,          /* char[]; must exist and be readable */
    K_SIZE,          /* size_t bytes */
    K_COUNT,         /* size_t */
    K_INT,           /* int */
    K_MODE,          /* int, octal (0660) */
    K_DUR_MS,        /* int milliseconds */
    K_DUR_S,         /* int seconds (whole seconds) */
    K_DUR_LLMS,      /* long long milliseconds */
    K_DUR_NS,        /* int64_t nanoseconds */
    K_NUM,           /* double */
    K_BOOL,          /* int */
    K_LISTEN,        /* char[]; "addr:port" or "" */
    K_WS_URL,        /* char[] */
    K_HTTP_URL,      /* char[] */
    K_LIQ_ROUTE,     /* char[]: market | public */
    K_DEPTH,         /* int: Bybit depths */
    K_SHOCKS, K_SIDES, K_SYMBOLS,   /* lists */
};

/* Where a key lands: in the config, or in a [venue] section's struct. */
enum kbase { B_CFG, B_VENUE };

struct ckey {
    const char *sect;       /* "daemon" ... ; "venue" for [venue NAME] */
    const char *key;
    enum ktype type;
    enum kbase base;
    size_t off, size;
    double lo, hi;          /* range, in the type's unit (ms for durations) */
    int zero_off;           /* 0 is allowed too and means off */
    int reload;             /* a reload may change it in place */
    const char *allowed;    /* the message's "must be ..." */
};

#define CF(f) B_CFG, offsetof(struct liqmon_config, f), sizeof(((struct liqmon_config *)0)->f)
#define AL(f) B_CFG, offsetof(struct liqmon_config, alerts.f), \
              sizeof(((struct liqmon_config *)0)->alerts.f)
#define VC(f) B_VENUE, offsetof(struct config_venue, vc.f), \
              sizeof(((struct config_venue *)0)->vc.f)
#define CV(f) B_VENUE, offsetof(struct config_venue, f), 0

static const struct ckey keys[] = {
    /* [daemon] */
    { "daemon", "instruments_dir", K_PATH, CF(instruments_dir), 0, 0, 0, 0, "path too long" },
    { "daemon", "positions", K_PATH, CF(positions), 0, 0, 0, 1, "path too long" },
    { "daemon", "positions_min_loaded", K_NUM, CF(positions_min_loaded), 0, 1, 0, 1,
      "must be a fraction between 0 and 1 (0.95: 95% of the rows)" },
    { "daemon", "record_dir", K_PATH, CF(record_dir), 0, 0, 0, 0, "path too long" },
    { "daemon", "ca_file", K_FILE, CF(ca_file), 0, 0, 0, 0,
      "must be a readable PEM file (or empty)" },
    { "daemon", "max_message", K_SIZE, CF(max_message), 65536, 1 << 30, 0, 0,
      "must be a size between 64KiB and 1GiB" },
    { "daemon", "stale_after", K_DUR_MS, CF(stale_ms), S_MS, H_MS, 0, 0,
      "must be a duration between 1s and 1h" },
    { "daemon", "backoff_min", K_DUR_MS, CF(backoff_min_ms), 10, 60 * S_MS, 0, 0,
      "must be a duration between 10ms and 60s" },
    { "daemon", "backoff_max", K_DUR_MS, CF(backoff_max_ms), 100, 10 * M_MS, 0, 0,
      "must be a duration between 100ms and 10m" },
    /* Below a minute only makes sense in tests of the replacement. */
    { "daemon", "max_connection_age", K_DUR_S, CF(max_age_s), 5 * S_MS, 24 * H_MS, 0, 0,
      "must be a duration between 5s and 24h" },
    { "daemon", "status_interval", K_DUR_S, CF(status_interval_s), S_MS, 24 * H_MS, 1, 1,
      "must be 0 (off) or a duration between 1s and 24h" },
    /* [risk] */
    { "risk", "shocks", K_SHOCKS, CF(engine), 0, 0, 0, 1, NULL },
    { "risk", "sides", K_SIDES, CF(engine), 0, 0, 0, 1, NULL },
    /* [alerts]: alert-rules.md's keys */
    { "alerts", "log", K_PATH, CF(alert_log), 0, 0, 0, 0, "path too long" },
    { "alerts", "warn", K_NUM, AL(warn), 0, 1, 0, 1,
      "must be a fraction between 0 and 1 (0.05 is 5%)" },
    { "alerts", "crit", K_NUM, AL(crit), 0, 1, 0, 1,
      "must be a fraction between 0 and 1 (0.02 is 2%)" },
    { "alerts", "margin", K_NUM, AL(margin), 0, 1, 0, 1,
      "must be a fraction between 0 and 1" },
    { "alerts", "clear_after", K_DUR_NS, AL(clear_after), 0, 24 * H_MS, 0, 1,
      "must be a duration between 0s and 24h" },
    { "alerts", "amp", K_NUM, AL(amp), 1, 1e6, 0, 1, "must be a number between 1 and 1e6" },
    { "alerts", "notional", K_NUM, AL(notional), 0, 1e15, 0, 1,
      "must be 0 (off) or a notional up to 1e15" },
    { "alerts", "exhausted_trips", K_BOOL, AL(exhausted_trips), 0, 0, 0, 1,
      "must be true or false" },
    { "alerts", "crit_shock", K_NUM, AL(crit_shock), 0, 1, 0, 1,
      "must be a fraction between 0 and 1" },
    { "alerts", "warn_shock", K_NUM, AL(warn_shock), 0, 1, 0, 1,
      "must be a fraction between 0 and 1" },
    { "alerts", "invalid_after", K_DUR_NS, AL(invalid_after), 0, 24 * H_MS, 0, 1,
      "must be a duration between 0s and 24h" },
    { "alerts", "invalid_critical_after", K_DUR_NS, AL(invalid_critical_after), 0,
      24 * H_MS, 0, 1, "must be a duration between 0s and 24h" },
    { "alerts", "down_critical_after", K_DUR_NS, AL(down_critical_after), 0, 24 * H_MS,
      0, 1, "must be a duration between 0s and 24h" },
    { "alerts", "cluster_window", K_DUR_NS, AL(cluster_window), S_MS, 24 * H_MS, 0, 1,
      "must be a duration between 1s and 24h" },
    { "alerts", "cluster_notional", K_NUM, AL(cluster_notional), 1, 1e15, 0, 1,
      "must be a notional between 1 and 1e15" },
    { "alerts", "adl_quiet", K_DUR_NS, AL(adl_quiet), S_MS, 24 * H_MS, 0, 1,
      "must be a duration between 1s and 24h" },
    /* [store] */
    { "store", "path", K_PATH, CF(store_path), 0, 0, 0, 0, "path too long" },
    { "store", "snapshot_interval", K_DUR_LLMS, CF(snapshot_interval_ms), S_MS,
      24 * H_MS, 1, 0, "must be 0 (off) or a duration between 1s and 24h" },
    { "store", "retention_days", K_INT, CF(retention_days), 0, 36500, 0, 0,
      "must be 0 (keep everything) or 1 to 36500 days" },
    { "store", "queue_max", K_COUNT, CF(store_queue_max), 1024, 16777216, 0, 0,
      "must be between 1024 and 16777216 messages" },
    { "store", "busy_timeout", K_DUR_MS, CF(store_busy_timeout_ms), 100, 10 * M_MS, 0, 0,
      "must be a duration between 100ms and 10m" },
    /* [control]: the control API */
    { "control", "socket", K_PATH, CF(control_socket), 0, 0, 0, 0, "path too long" },
    { "control", "socket_mode", K_MODE, CF(control_socket_mode), 0, 0777, 0, 0,
      "must be an octal mode like 0660" },
    { "control", "listen", K_LISTEN, CF(control_listen), 0, 0, 0, 0,
      "must be empty (off) or ADDRESS:PORT with a numeric address, e.g. 127.0.0.1:9465" },
    { "control", "max_body", K_SIZE, CF(control_max_body), 1024, 64 << 20, 0, 0,
      "must be a size between 1KiB and 64MiB" },
    /* [metrics] */
    { "metrics", "listen", K_LISTEN, CF(metrics_listen), 0, 0, 0, 0,
      "must be empty (off) or ADDRESS:PORT with a numeric address, e.g. 127.0.0.1:9464" },
    /* [venue NAME] */
    { "venue", "symbols", K_SYMBOLS, CV(symbols), 0, 0, 0, 0, NULL },
    { "venue", "ws_url", K_WS_URL, VC(ws_url), 0, 0, 0, 0,
      "must be a ws:// or wss:// URL with a host" },
    { "venue", "ws_public_url", K_WS_URL, VC(ws_url), 0, 0, 0, 0,
      "must be a ws:// or wss:// URL with a host" },
    { "venue", "ws_market_url", K_WS_URL, VC(ws_url_market), 0, 0, 0, 0,
      "must be a ws:// or wss:// URL with a host" },
    { "venue", "rest_url", K_HTTP_URL, VC(rest_url), 0, 0, 0, 0,
      "must be an http:// or https:// URL with a host" },
    { "venue", "liq_route", K_LIQ_ROUTE, VC(liq_route), 0, 0, 0, 0,
      "must be market or public" },
    { "venue", "book_depth", K_DEPTH, VC(book_depth), 0, 0, 0, 0,
      "must be 1, 50, 200, 500 or 1000" },
    { "venue", "ping_interval", K_DUR_S, VC(ping_interval_s), S_MS, 10 * M_MS, 0, 0,
      "must be a duration between 1s and 10m" },
    { "venue", "adl_warnings", K_BOOL, VC(adl_warnings), 0, 0, 0, 0,
      "must be true or false" },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* The venues' own limits on the application ping: a value outside them
 * would be overridden by the adapter, so it is refused here instead (a
 * value that passes the check is the value used). */
static const struct {
    enum venue_id v;
    long long hi_ms;
    const char *allowed;
} ping_limits[] = {
    { VENUE_OKX, 29 * S_MS,
      "must be a duration between 1s and 29s (OKX closes a link idle for 30 s)" },
    { VENUE_HYPERLIQUID, 59 * S_MS,
      "must be a duration between 1s and 59s (Hyperliquid closes a link idle for 60 s)" },
};

static const struct ckey *key_find(const char *sect, const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].sect, sect) == 0 && strcmp(keys[i].key, key) == 0)
            return &keys[i];
    return NULL;
}

int config_key_reloadable(const char *section, const char *key)
{
    const struct ckey *k = key_find(strncmp(section, "venue", 5) == 0 ? "venue" : section,
                                    key);
    return k != NULL && k->reload;
}

/* ---- reading a file --------------------------------------------------- */

struct ctx {
    const char *path;
    int line;
    config_problem_fn report;
    void *arg;
    int problems;
};

static void problem(struct ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct ctx *c, int line, const char *fmt, ...)
{
    char msg[700];
    int n = line > 0 ? snprintf(msg, sizeof(msg), "%s:%d: ", c->path, line)
                     : snprintf(msg, sizeof(msg), "%s: ", c->path);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    /* Fix (found by fuzzing): values are quoted raw ("(got '%s')"), so a
     * control byte or invalid UTF-8 in the file reached liqmond -t's
     * output as it was; err.h: messages never carry raw input bytes. */
    lq_err_sanitize(msg, sizeof(msg));
    c->problems++;
    if (c->report)
        c->report(msg, c->arg);
}

#define BAD(c, key, allowed, val) \
    (problem((c), (c)->line, "%s: %s (got '%s')", key, allowed, val), -1)

static int copy_str(char *dst, size_t size, const char *v)
{
    if (strlen(v) >= size)
        return -1;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int set_list(struct ctx *c, const struct ckey *k, struct liqmon_config *cf,
                    struct config_venue *cv, char *v)
{
    size_t n = 0;

    if (k->type == K_SHOCKS) {
        for (char *tok = strtok(v, " \t,"); tok; tok = strtok(NULL, " \t,")) {
            char *end;
            double s = strtod(tok, &end);
            if (*end != '\0' || !(s >= 0 && s < 1))
                return BAD(c, k->key, "each shock must be a number >= 0 and < 1", tok);
            if (n == ENGINE_MAX_SHOCKS)
                return problem(c, c->line, "shocks: at most %d", ENGINE_MAX_SHOCKS), -1;
            cf->engine.shocks[n++] = s;
        }
        if (n == 0)
            return BAD(c, k->key, "at least one shock", "");
        cf->engine.nshocks = n;
        return 0;
    }
    if (k->type == K_SIDES) {
        for (char *tok = strtok(v, " \t,"); tok; tok = strtok(NULL, " \t,")) {
            if (n == 2)
                return BAD(c, k->key, "at most two sides", tok);
            if (strcmp(tok, "down") == 0)
                cf->engine.sides[n++] = CASCADE_DOWN;
            else if (strcmp(tok, "up") == 0)
                cf->engine.sides[n++] = CASCADE_UP;
            else
                return BAD(c, k->key, "each side must be down or up", tok);
        }
        if (n == 0)
            return BAD(c, k->key, "down, up or both", "");
        cf->engine.nsides = n;
        return 0;
    }
    /* K_SYMBOLS */
    cv->nsymbols = 0;
    for (char *tok = strtok(v, " \t,"); tok; tok = strtok(NULL, " \t,")) {
        if (cv->nsymbols == CONFIG_MAX_SYMBOLS)
            return problem(c, c->line, "symbols: at most %d", CONFIG_MAX_SYMBOLS), -1;
        for (size_t i = 0; i < cv->nsymbols; i++)
            if (strcmp(cv->symbols[i], tok) == 0)
                return BAD(c, k->key, "each symbol once", tok);
        if (copy_str(cv->symbols[cv->nsymbols], INSTRUMENT_SYMBOL_MAX, tok))
            return BAD(c, k->key, "symbol too long", tok);
        cv->nsymbols++;
    }
    return 0;
}

/* One value through its key's setter: range checked, then stored. */
static int set_value(struct ctx *c, const struct ckey *k, struct liqmon_config *cf,
                     struct config_venue *cv, char *v)
{
    char *base = k->base == B_CFG ? (char *)cf : (char *)cv;
    void *dst = base + k->off;
    static const char *const ws[] = { "ws://", "wss://", NULL };
    static const char *const http[] = { "http://", "https://", NULL };
    long long x;
    double d;

    char joined[CONFIG_PATH_MAX * 2];

    /* A relative path is relative to the config file's directory, so a
     * config works from wherever it is started (the source tree, /etc). */
    if ((k->type == K_PATH || k->type == K_FILE) && *v != '\0' && *v != '/') {
        const char *slash = strrchr(c->path, '/');
        if (slash != NULL) {
            snprintf(joined, sizeof(joined), "%.*s/%s", (int)(slash - c->path),
                     c->path, v);
            v = joined;
        }
    }
    switch (k->type) {
    case K_PATH:
        return copy_str(dst, k->size, v) ? BAD(c, k->key, k->allowed, v) : 0;
    case K_FILE:
        if (*v != '\0' && access(v, R_OK) != 0)
            return problem(c, c->line, "%s: %s (got '%s': %s)", k->key, k->allowed, v,
                           strerror(errno)), -1;
        return copy_str(dst, k->size, v) ? BAD(c, k->key, "path too long", v) : 0;
    case K_WS_URL:
    case K_HTTP_URL:
        if (!url_ok(v, k->type == K_WS_URL ? ws : http))
            return BAD(c, k->key, k->allowed, v);
        return copy_str(dst, k->size, v) ? BAD(c, k->key, "URL too long", v) : 0;
    case K_LISTEN:
        if (*v != '\0' && !listen_ok(v))
            return BAD(c, k->key, k->allowed, v);
        return copy_str(dst, k->size, v) ? BAD(c, k->key, k->allowed, v) : 0;
    case K_LIQ_ROUTE:
        if (strcmp(v, "market") != 0 && strcmp(v, "public") != 0)
            return BAD(c, k->key, k->allowed, v);
        return copy_str(dst, k->size, v), 0;
    case K_DEPTH:
        if (parse_int(v, &x) || (x != 1 && x != 50 && x != 200 && x != 500 && x != 1000))
            return BAD(c, k->key, k->allowed, v);
        *(int *)dst = (int)x;
        return 0;
    case K_SIZE:
        if (parse_size(v, &x) || x < k->lo || x > k->hi)
            return BAD(c, k->key, k->allowed, v);
        *(size_t *)dst = (size_t)x;
        return 0;
    case K_COUNT:
    case K_INT:
        if (parse_int(v, &x) || x < k->lo || x > k->hi)
            return BAD(c, k->key, k->allowed, v);
        if (k->type == K_COUNT)
            *(size_t *)dst = (size_t)x;
        else
            *(int *)dst = (int)x;
        return 0;
    case K_MODE: {
        char *end;
        errno = 0;
        x = strtoll(v, &end, 8);
        if (*v != '0' || errno || *end != '\0' || x < k->lo || x > k->hi)
            return BAD(c, k->key, k->allowed, v);
        *(int *)dst = (int)x;
        return 0;
    }
    case K_DUR_MS:
    case K_DUR_S:
    case K_DUR_LLMS:
    case K_DUR_NS: {
        double hi = k->hi;
        const char *allowed = k->allowed;
        if (k->base == B_VENUE && strcmp(k->key, "ping_interval") == 0) {
            for (size_t i = 0; i < sizeof(ping_limits) / sizeof(ping_limits[0]); i++) {
                if (ping_limits[i].v == cv->vc.id) {
                    hi = (double)ping_limits[i].hi_ms;
                    allowed = ping_limits[i].allowed;
                }
            }
        }
        if (parse_duration_ms(v, &x) || x > hi || (x < k->lo && !(k->zero_off && x == 0)) ||
            (k->type == K_DUR_S && x % 1000 != 0))
            return BAD(c, k->key, allowed, v);
        if (k->type == K_DUR_MS)
            *(int *)dst = (int)x;
        else if (k->type == K_DUR_S)
            *(int *)dst = (int)(x / 1000);
        else if (k->type == K_DUR_LLMS)
            *(long long *)dst = x;
        else
            *(int64_t *)dst = (int64_t)x * 1000000;
        return 0;
    }
    case K_NUM:
        if (parse_number(v, &d) || d < k->lo || d > k->hi)
            return BAD(c, k->key, k->allowed, v);
        *(double *)dst = d;
        return 0;
    case K_BOOL:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return BAD(c, k->key, k->allowed, v);
        *(int *)dst = strcmp(v, "true") == 0;
        return 0;
    case K_SHOCKS:
    case K_SIDES:
    case K_SYMBOLS:
        return set_list(c, k, cf, cv, v);
    }
    return -1;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Sections and keys seen, for "given twice" (with the first line). */
#define MAX_SEEN 512
struct seen {
    char sect[48];
    char key[48];           /* "" for the section header itself */
    int line;
};

static int seen_before(struct seen *s, int *n, const char *sect, const char *key,
                       int line)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(s[i].sect, sect) == 0 && strcmp(s[i].key, key) == 0)
            return s[i].line;
    if (*n < MAX_SEEN) {
        snprintf(s[*n].sect, sizeof(s[*n].sect), "%s", sect);
        snprintf(s[*n].key, sizeof(s[*n].key), "%s", key);
        s[*n].line = line;
        (*n)++;
    }
    return 0;
}

static const char *const sections[] = {
    "daemon", "risk", "alerts", "store", "control", "metrics", NULL
};

int config_load_all(const char *path, struct liqmon_config *cf,
                    config_problem_fn report, void *arg)
{
    char *text = NULL, *line, *next;
    size_t len;
    struct ctx c = { path, 0, report, arg, 0 };
    char sect[48] = "";             /* "" before any section; "venue NAME" */
    struct config_venue *cv = NULL;
    struct seen *seen = calloc(MAX_SEEN, sizeof(*seen));
    int nseen = 0, skip_section = 0;
    /* The checks after the last line name the line they are about. */
    int venue_line[VENUE_COUNT] = { 0 }, backoff_line = 0, alerts_line = 0;
    lq_err_t err;

    if (seen == NULL) {
        problem(&c, 0, "out of memory");
        return c.problems;
    }
    if (fileio_read_all(path, CONFIG_MAX_BYTES, &text, &len, &err) != 0) {
        /* fileio's message names the file already */
        c.problems++;
        if (report)
            report(err.msg, arg);
        goto out;
    }
    if (strlen(text) != len) {
        problem(&c, 0, "contains a NUL byte");
        goto out;
    }
    for (line = text; line; line = next) {
        char *eq, *k, *v, *hash;
        const struct ckey *key;
        int first;

        c.line++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        /* Comments: a line starting with # or ;, or " #" after a value. */
        line = trim(line);
        if (*line == '\0' || *line == '#' || *line == ';')
            continue;
        if ((hash = strstr(line, " #")) != NULL || (hash = strstr(line, "\t#")) != NULL)
            *hash = '\0';
        line = trim(line);
        if (*line == '[') {
            char *end = strchr(line, ']');
            skip_section = 1;           /* until this header proves good */
            cv = NULL;
            if (end == NULL || end[1] != '\0') {
                problem(&c, c.line, "a section header must look like [name]");
                continue;
            }
            *end = '\0';
            char *name = trim(line + 1);
            int known = 0;
            for (int i = 0; sections[i]; i++)
                known |= strcmp(name, sections[i]) == 0;
            if (strncmp(name, "venue", 5) == 0 && isspace((unsigned char)name[5])) {
                char *vn = trim(name + 5);
                int v = venue_from_name(vn);
                if (v < 0) {
                    char all[128];
                    venue_names_join(all, sizeof(all));
                    problem(&c, c.line, "unknown venue '%s' (expected %s)", vn, all);
                    continue;
                }
                snprintf(sect, sizeof(sect), "venue %s", vn);
                cv = &cf->venues[v];
                cv->enabled = 1;
                if (venue_line[v] == 0)
                    venue_line[v] = c.line;
            } else if (known) {
                snprintf(sect, sizeof(sect), "%s", name);
                if (strcmp(name, "alerts") == 0 && alerts_line == 0)
                    alerts_line = c.line;
            } else {
                problem(&c, c.line, "unknown section [%s] (expected [daemon], [risk], "
                        "[alerts], [store], [control], [metrics] or [venue NAME])", name);
                continue;
            }
            if ((first = seen_before(seen, &nseen, sect, "", c.line)) != 0)
                problem(&c, c.line, "[%s] given twice (first at line %d): one "
                        "section each", sect, first);
            skip_section = 0;
            continue;
        }
        eq = strchr(line, '=');
        if (eq == NULL) {
            problem(&c, c.line, "expected 'key = value'");
            continue;
        }
        *eq = '\0';
        k = trim(line);
        v = trim(eq + 1);
        if (sect[0] == '\0') {
            problem(&c, c.line, "'%s' before any [section]", k);
            continue;
        }
        if (skip_section)
            continue;               /* its header was already a problem */
        key = key_find(cv ? "venue" : sect, k);
        if (key == NULL) {
            problem(&c, c.line, "unknown key '%s' in [%s]", k, sect);
            continue;
        }
        /* ws_public_url is ws_url's other name: one of them, once */
        if ((first = seen_before(seen, &nseen, sect,
                                 strcmp(k, "ws_public_url") == 0 ? "ws_url" : k,
                                 c.line)) != 0) {
            problem(&c, c.line, "%s given twice in [%s] (first at line %d)", k, sect,
                    first);
            continue;
        }
        if (set_value(&c, key, cf, cv, v) == 0 && strncmp(k, "backoff_", 8) == 0)
            backoff_line = c.line;
    }
    /* ---- checks across keys, once the whole file is known ---- */
    if (cf->backoff_min_ms > cf->backoff_max_ms)
        problem(&c, backoff_line, "backoff_min must not exceed backoff_max");
    {
        lq_err_t aerr;
        /* "alerts.crit: ..." -> "[alerts] crit: ..." */
        if (alert_config_check(&cf->alerts, &aerr) != 0)
            problem(&c, alerts_line, "[alerts] %s",
                    aerr.msg + (strncmp(aerr.msg, "alerts.", 7) == 0 ? 7 : 0));
    }
    {
        int any = 0;
        for (int v = 0; v < VENUE_COUNT; v++) {
            if (!cf->venues[v].enabled)
                continue;
            if (cf->venues[v].nsymbols == 0)
                problem(&c, venue_line[v], "[venue %s]: symbols: at least one symbol",
                        venue_name((enum venue_id)v));
            any = 1;
        }
        if (!any)
            problem(&c, 0, "no [venue NAME] section: nothing to watch");
    }
    if (cf->control_socket[0] && strlen(cf->control_socket) >= 108)
        problem(&c, 0, "[control] socket: path longer than 107 bytes (a Unix "
                "socket's limit)");
out:
    free(text);
    free(seen);
    return c.problems;
}

static void first_problem(const char *msg, void *arg)
{
    lq_err_t *err = arg;

    /* Fix (found by fuzzing): a problem longer than err->msg was cut in
     * the middle of a UTF-8 character; sanitising again escapes the cut
     * bytes (messages are up to 700 bytes, err->msg 512). */
    if (err && err->msg[0] == '\0') {
        snprintf(err->msg, sizeof(err->msg), "%s", msg);
        lq_err_sanitize(err->msg, sizeof(err->msg));
    }
}

int config_load(const char *path, struct liqmon_config *c, lq_err_t *err)
{
    lq_err_t tmp;

    if (err == NULL)
        err = &tmp;
    err->msg[0] = '\0';
    return config_load_all(path, c, first_problem, err) == 0 ? 0 : -1;
}

/* ---- reload ----------------------------------------------------------- */

int config_restart_needed(const struct liqmon_config *a, const struct liqmon_config *b,
                          config_problem_fn report, void *arg)
{
    int n = 0;
    char msg[160];

    for (size_t i = 0; i < NKEYS; i++) {
        const struct ckey *k = &keys[i];
        if (k->reload)
            continue;
        for (int v = 0; v < (k->base == B_VENUE ? VENUE_COUNT : 1); v++) {
            const char *pa = k->base == B_CFG ? (const char *)a : (const char *)&a->venues[v];
            const char *pb = k->base == B_CFG ? (const char *)b : (const char *)&b->venues[v];
            size_t size = k->size;
            if (k->type == K_SYMBOLS)
                continue;             /* venues' symbols: reload handles them */
            if (size == 0 || memcmp(pa + k->off, pb + k->off, size) == 0)
                continue;
            if (k->base == B_VENUE)
                snprintf(msg, sizeof(msg), "[venue %s] %s", venue_name((enum venue_id)v),
                         k->key);
            else
                snprintf(msg, sizeof(msg), "[%s] %s", k->sect, k->key);
            n++;
            if (report)
                report(msg, arg);
        }
    }
    return n;
}
