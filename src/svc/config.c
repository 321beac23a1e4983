/*
 * config.c - the INI-style configuration file (see config.h).
 *
 * One pass over the lines; each key has one setter that checks its range
 * and reports "<file>:<line>: <key>: <what is allowed> (got '<value>')".
 */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liqmon/config.h"
#include "liqmon/fileio.h"
#include "liqmon/version.h"

#define CONFIG_MAX_BYTES ((size_t)1 << 20)

void config_default(struct liqmon_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->instruments_dir, sizeof(c->instruments_dir), "%s/instruments",
             LIQMON_DATADIR);
    c->max_message = (size_t)4 << 20;
    c->stale_ms = 30000;
    c->backoff_min_ms = 250;
    c->backoff_max_ms = 30000;
    c->max_age_s = 23 * 3600;
    c->status_interval_s = 60;
    engine_config_default(&c->engine);
    alert_config_default(&c->alerts);
    c->snapshot_interval_ms = 60000;
    c->retention_days = 30;
    c->store_queue_max = 65536;
    c->store_busy_timeout_ms = 5000;
    for (int v = 0; v < VENUE_COUNT; v++)
        venue_config_default((enum venue_id)v, &c->venues[v].vc);
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
    /* Fix (found by check_config): "nan", "inf" or "1e30s" made the cast
     * to long long below undefined; no caller allows more than 1e12 of
     * any unit, so refuse those here. */
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
     * caller's range check saw it.  Durations are whole milliseconds; a
     * value that is not is refused, never rounded into another meaning. */
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
    /* Fix (found by check_config): "9999999999GiB" overflowed the shift,
     * which is undefined for a signed value. */
    if (v > (LLONG_MAX >> shift))
        return -1;
    *bytes = v << shift;
    return 0;
}

static int copy_str(char *dst, size_t size, const char *v)
{
    if (strlen(v) >= size)
        return -1;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* ---- keys ------------------------------------------------------------- */

struct ctx {
    const char *path;
    int line;
    lq_err_t *err;
};

#define BAD(c, key, allowed, val) \
    lq_err_set((c)->err, "%s:%d: %s: %s (got '%s')", (c)->path, (c)->line, \
               key, allowed, val)

static int set_daemon(struct ctx *c, struct liqmon_config *cf, const char *k,
                      const char *v)
{
    long long x;

    if (strcmp(k, "instruments_dir") == 0)
        return copy_str(cf->instruments_dir, sizeof(cf->instruments_dir), v)
               ? BAD(c, k, "path too long", v) : 0;
    if (strcmp(k, "positions") == 0)
        return copy_str(cf->positions, sizeof(cf->positions), v)
               ? BAD(c, k, "path too long", v) : 0;
    if (strcmp(k, "record_dir") == 0)
        return copy_str(cf->record_dir, sizeof(cf->record_dir), v)
               ? BAD(c, k, "path too long", v) : 0;
    if (strcmp(k, "ca_file") == 0)
        return copy_str(cf->ca_file, sizeof(cf->ca_file), v)
               ? BAD(c, k, "path too long", v) : 0;
    if (strcmp(k, "max_message") == 0) {
        if (parse_size(v, &x) || x < 65536 || x > ((long long)1 << 30))
            return BAD(c, k, "must be a size between 64KiB and 1GiB", v);
        cf->max_message = (size_t)x;
        return 0;
    }
    if (strcmp(k, "stale_after") == 0) {
        if (parse_duration_ms(v, &x) || x < 1000 || x > 3600000)
            return BAD(c, k, "must be a duration between 1s and 1h", v);
        cf->stale_ms = (int)x;
        return 0;
    }
    if (strcmp(k, "backoff_min") == 0) {
        if (parse_duration_ms(v, &x) || x < 10 || x > 60000)
            return BAD(c, k, "must be a duration between 10ms and 60s", v);
        cf->backoff_min_ms = (int)x;
        return 0;
    }
    if (strcmp(k, "backoff_max") == 0) {
        if (parse_duration_ms(v, &x) || x < 100 || x > 600000)
            return BAD(c, k, "must be a duration between 100ms and 10m", v);
        cf->backoff_max_ms = (int)x;
        return 0;
    }
    if (strcmp(k, "max_connection_age") == 0) {
        /* Below a minute only makes sense in tests of the replacement. */
        if (parse_duration_ms(v, &x) || x < 5000 || x > 86400000)
            return BAD(c, k, "must be a duration between 5s and 24h", v);
        cf->max_age_s = (int)(x / 1000);
        return 0;
    }
    if (strcmp(k, "status_interval") == 0) {
        if (parse_duration_ms(v, &x) || x > 86400000 || (x > 0 && x < 1000))
            return BAD(c, k, "must be 0 (off) or a duration between 1s and 24h", v);
        cf->status_interval_s = (int)(x / 1000);
        return 0;
    }
    return lq_err_set(c->err, "%s:%d: unknown key '%s' in [daemon]", c->path,
                      c->line, k);
}

static int set_risk(struct ctx *c, struct liqmon_config *cf, const char *k,
                    char *v)
{
    if (strcmp(k, "shocks") == 0) {
        size_t n = 0;
        for (char *tok = strtok(v, " \t,"); tok; tok = strtok(NULL, " \t,")) {
            char *end;
            double s = strtod(tok, &end);
            if (*end != '\0' || !(s >= 0 && s < 1))
                return BAD(c, k, "each shock must be a number >= 0 and < 1", tok);
            if (n == ENGINE_MAX_SHOCKS)
                return lq_err_set(c->err, "%s:%d: shocks: at most %d", c->path,
                                  c->line, ENGINE_MAX_SHOCKS);
            cf->engine.shocks[n++] = s;
        }
        if (n == 0)
            return BAD(c, k, "at least one shock", "");
        cf->engine.nshocks = n;
        return 0;
    }
    if (strcmp(k, "sides") == 0) {
        size_t n = 0;
        for (char *tok = strtok(v, " \t,"); tok; tok = strtok(NULL, " \t,")) {
            if (n == 2)
                return BAD(c, k, "at most two sides", tok);
            if (strcmp(tok, "down") == 0)
                cf->engine.sides[n++] = CASCADE_DOWN;
            else if (strcmp(tok, "up") == 0)
                cf->engine.sides[n++] = CASCADE_UP;
            else
                return BAD(c, k, "each side must be down or up", tok);
        }
        if (n == 0)
            return BAD(c, k, "down, up or both", "");
        cf->engine.nsides = n;
        return 0;
    }
    return lq_err_set(c->err, "%s:%d: unknown key '%s' in [risk]", c->path,
                      c->line, k);
}

static int set_venue(struct ctx *c, struct config_venue *cv, const char *k,
                     char *v)
{
    struct venue_config *vc = &cv->vc;
    long long x;

    if (strcmp(k, "symbols") == 0) {
        cv->nsymbols = 0;
        for (char *tok = strtok(v, " \t,"); tok; tok = strtok(NULL, " \t,")) {
            if (cv->nsymbols == CONFIG_MAX_SYMBOLS)
                return lq_err_set(c->err, "%s:%d: symbols: at most %d", c->path,
                                  c->line, CONFIG_MAX_SYMBOLS);
            if (copy_str(cv->symbols[cv->nsymbols], INSTRUMENT_SYMBOL_MAX, tok))
                return BAD(c, k, "symbol too long", tok);
            cv->nsymbols++;
        }
        return 0;
    }
    if (strcmp(k, "ws_url") == 0 || strcmp(k, "ws_public_url") == 0)
        return copy_str(vc->ws_url, sizeof(vc->ws_url), v)
               ? BAD(c, k, "URL too long", v) : 0;
    if (strcmp(k, "ws_market_url") == 0)
        return copy_str(vc->ws_url_market, sizeof(vc->ws_url_market), v)
               ? BAD(c, k, "URL too long", v) : 0;
    if (strcmp(k, "rest_url") == 0)
        return copy_str(vc->rest_url, sizeof(vc->rest_url), v)
               ? BAD(c, k, "URL too long", v) : 0;
    if (strcmp(k, "liq_route") == 0) {
        if (strcmp(v, "market") != 0 && strcmp(v, "public") != 0)
            return BAD(c, k, "must be market or public", v);
        snprintf(vc->liq_route, sizeof(vc->liq_route), "%s", v);
        return 0;
    }
    if (strcmp(k, "book_depth") == 0) {
        if (parse_int(v, &x) || (x != 1 && x != 50 && x != 200 && x != 500 &&
                                 x != 1000))
            return BAD(c, k, "must be 1, 50, 200, 500 or 1000", v);
        vc->book_depth = (int)x;
        return 0;
    }
    if (strcmp(k, "ping_interval") == 0) {
        if (parse_duration_ms(v, &x) || x < 1000 || x > 600000)
            return BAD(c, k, "must be a duration between 1s and 10m", v);
        vc->ping_interval_s = (int)(x / 1000);
        return 0;
    }
    return lq_err_set(c->err, "%s:%d: unknown key '%s' in [venue %s]", c->path,
                      c->line, k, venue_name(vc->id));
}

static int parse_fraction(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* [alerts]: alert-rules.md's keys with its defaults (alert_config_default). */
static int set_alerts(struct ctx *c, struct liqmon_config *cf, const char *k,
                      const char *v)
{
    struct alert_config *a = &cf->alerts;
    static const struct {
        const char *key;
        size_t off;
        double lo, hi;
        const char *allowed;
    } fracs[] = {
        { "warn", offsetof(struct alert_config, warn), 0, 1,
          "must be a fraction between 0 and 1 (0.05 is 5%)" },
        { "crit", offsetof(struct alert_config, crit), 0, 1,
          "must be a fraction between 0 and 1 (0.02 is 2%)" },
        { "margin", offsetof(struct alert_config, margin), 0, 1,
          "must be a fraction between 0 and 1" },
        { "amp", offsetof(struct alert_config, amp), 1, 1e6,
          "must be a number between 1 and 1e6" },
        { "notional", offsetof(struct alert_config, notional), 0, 1e15,
          "must be 0 (off) or a notional up to 1e15" },
        { "crit_shock", offsetof(struct alert_config, crit_shock), 0, 1,
          "must be a fraction between 0 and 1" },
        { "warn_shock", offsetof(struct alert_config, warn_shock), 0, 1,
          "must be a fraction between 0 and 1" },
        { "cluster_notional", offsetof(struct alert_config, cluster_notional),
          1, 1e15, "must be a notional between 1 and 1e15" },
    };
    static const struct {
        const char *key;
        size_t off;
        long long lo, hi;
        const char *allowed;
    } durs[] = {
        { "clear_after", offsetof(struct alert_config, clear_after), 0, 86400000,
          "must be a duration between 0s and 24h" },
        { "invalid_after", offsetof(struct alert_config, invalid_after), 0,
          86400000, "must be a duration between 0s and 24h" },
        { "invalid_critical_after",
          offsetof(struct alert_config, invalid_critical_after), 0, 86400000,
          "must be a duration between 0s and 24h" },
        { "down_critical_after", offsetof(struct alert_config, down_critical_after),
          0, 86400000, "must be a duration between 0s and 24h" },
        { "cluster_window", offsetof(struct alert_config, cluster_window), 1000,
          86400000, "must be a duration between 1s and 24h" },
    };
    long long x;
    double d;

    for (size_t i = 0; i < sizeof(fracs) / sizeof(fracs[0]); i++) {
        if (strcmp(k, fracs[i].key) != 0)
            continue;
        if (parse_fraction(v, fracs[i].lo, fracs[i].hi, &d) != 0)
            return BAD(c, k, fracs[i].allowed, v);
        *(double *)((char *)a + fracs[i].off) = d;
        return 0;
    }
    for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
        if (strcmp(k, durs[i].key) != 0)
            continue;
        if (parse_duration_ms(v, &x) || x < durs[i].lo || x > durs[i].hi)
            return BAD(c, k, durs[i].allowed, v);
        *(int64_t *)((char *)a + durs[i].off) = (int64_t)x * 1000000;
        return 0;
    }
    if (strcmp(k, "exhausted_trips") == 0) {
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return BAD(c, k, "must be true or false", v);
        a->exhausted_trips = strcmp(v, "true") == 0;
        return 0;
    }
    if (strcmp(k, "log") == 0)
        return copy_str(cf->alert_log, sizeof(cf->alert_log), v)
               ? BAD(c, k, "path too long", v) : 0;
    return lq_err_set(c->err, "%s:%d: unknown key '%s' in [alerts]", c->path,
                      c->line, k);
}

static int set_store(struct ctx *c, struct liqmon_config *cf, const char *k,
                     const char *v)
{
    long long x;

    if (strcmp(k, "path") == 0)
        return copy_str(cf->store_path, sizeof(cf->store_path), v)
               ? BAD(c, k, "path too long", v) : 0;
    if (strcmp(k, "snapshot_interval") == 0) {
        if (parse_duration_ms(v, &x) || x > 86400000 || (x > 0 && x < 1000))
            return BAD(c, k, "must be 0 (off) or a duration between 1s and 24h", v);
        cf->snapshot_interval_ms = x;
        return 0;
    }
    if (strcmp(k, "retention_days") == 0) {
        if (parse_int(v, &x) || x < 0 || x > 36500)
            return BAD(c, k, "must be 0 (keep everything) or 1 to 36500 days", v);
        cf->retention_days = (int)x;
        return 0;
    }
    if (strcmp(k, "queue_max") == 0) {
        if (parse_int(v, &x) || x < 1024 || x > 16777216)
            return BAD(c, k, "must be between 1024 and 16777216 messages", v);
        cf->store_queue_max = (size_t)x;
        return 0;
    }
    if (strcmp(k, "busy_timeout") == 0) {
        if (parse_duration_ms(v, &x) || x < 100 || x > 600000)
            return BAD(c, k, "must be a duration between 100ms and 10m", v);
        cf->store_busy_timeout_ms = (int)x;
        return 0;
    }
    return lq_err_set(c->err, "%s:%d: unknown key '%s' in [store]", c->path,
                      c->line, k);
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

int config_load(const char *path, struct liqmon_config *cf, lq_err_t *err)
{
    char *text = NULL, *line, *next;
    size_t len;
    struct ctx c = { path, 0, err };
    enum { NONE, DAEMON, RISK, VENUE, ALERTS, STORE } sect = NONE;
    struct config_venue *cv = NULL;
    int rc = -1;
    /* Fix (found by check_config): the checks after the last line named no
     * line, though every error must; they name the venue's first section
     * header and the last backoff_min/backoff_max line. */
    int venue_line[VENUE_COUNT] = { 0 }, backoff_line = 0;

    if (fileio_read_all(path, CONFIG_MAX_BYTES, &text, &len, err) != 0)
        return -1;
    if (strlen(text) != len) {
        lq_err_set(err, "%s: contains a NUL byte", path);
        goto out;
    }
    for (line = text; line; line = next) {
        char *eq, *k, *v, *hash;

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
            if (end == NULL || end[1] != '\0') {
                lq_err_set(err, "%s:%d: a section header must look like [name]",
                           path, c.line);
                goto out;
            }
            *end = '\0';
            char *name = trim(line + 1);
            if (strcmp(name, "daemon") == 0) {
                sect = DAEMON;
            } else if (strcmp(name, "risk") == 0) {
                sect = RISK;
            } else if (strcmp(name, "alerts") == 0) {
                sect = ALERTS;
            } else if (strcmp(name, "store") == 0) {
                sect = STORE;
            } else if (strncmp(name, "venue", 5) == 0 && isspace((unsigned char)name[5])) {
                int v = venue_from_name(trim(name + 5));
                if (v < 0) {
                    lq_err_set(err, "%s:%d: unknown venue '%s' (expected "
                               "binance-usdm, bybit-linear, okx-swap or "
                               "hyperliquid)", path, c.line, trim(name + 5));
                    goto out;
                }
                sect = VENUE;
                if (venue_line[v] == 0)
                    venue_line[v] = c.line;
                cv = &cf->venues[v];
                cv->enabled = 1;
            } else {
                lq_err_set(err, "%s:%d: unknown section [%s] (expected [daemon], "
                           "[risk], [alerts], [store] or [venue NAME])", path,
                           c.line, name);
                goto out;
            }
            continue;
        }
        eq = strchr(line, '=');
        if (eq == NULL) {
            lq_err_set(err, "%s:%d: expected 'key = value'", path, c.line);
            goto out;
        }
        *eq = '\0';
        k = trim(line);
        v = trim(eq + 1);
        if (sect == NONE) {
            lq_err_set(err, "%s:%d: '%s' before any [section]", path, c.line, k);
            goto out;
        }
        if ((sect == DAEMON && set_daemon(&c, cf, k, v) != 0) ||
            (sect == RISK && set_risk(&c, cf, k, v) != 0) ||
            (sect == VENUE && set_venue(&c, cv, k, v) != 0) ||
            (sect == ALERTS && set_alerts(&c, cf, k, v) != 0) ||
            (sect == STORE && set_store(&c, cf, k, v) != 0))
            goto out;
        if (sect == DAEMON && strncmp(k, "backoff_", 8) == 0)
            backoff_line = c.line;
    }
    if (cf->backoff_min_ms > cf->backoff_max_ms) {
        if (backoff_line > 0)
            lq_err_set(err, "%s:%d: backoff_min must not exceed backoff_max", path,
                       backoff_line);
        else
            lq_err_set(err, "%s: backoff_min must not exceed backoff_max", path);
        goto out;
    }
    {
        lq_err_t aerr;
        /* Checks across keys ("crit must not exceed warn"), once the
         * whole section is known; "alerts.crit: ..." -> "[alerts] crit: ...". */
        if (alert_config_check(&cf->alerts, &aerr) != 0) {
            lq_err_set(err, "%s: [alerts] %s", path,
                       aerr.msg + (strncmp(aerr.msg, "alerts.", 7) == 0 ? 7 : 0));
            goto out;
        }
    }
    for (int v = 0; v < VENUE_COUNT; v++) {
        if (cf->venues[v].enabled && cf->venues[v].nsymbols == 0) {
            if (venue_line[v] > 0)
                lq_err_set(err, "%s:%d: [venue %s]: symbols: at least one symbol",
                           path, venue_line[v], venue_name((enum venue_id)v));
            else
                lq_err_set(err, "%s: [venue %s]: symbols: at least one symbol", path,
                           venue_name((enum venue_id)v));
            goto out;
        }
    }
    rc = 0;
out:
    free(text);
    return rc;
}
