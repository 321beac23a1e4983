/*
 * config.h - liqmond's configuration file.
 *
 * An INI-style text file (conf/liqmond.conf is the documented example):
 *
 *     # comment                 ; comment
 *     [daemon]
 *     instruments_dir = /usr/local/share/liqmon/instruments
 *     [venue binance-usdm]
 *     symbols = BTCUSDT ETHUSDT
 *
 * Every key is one row of a table in config.c (section, key, type, range,
 * reloadable), so what is allowed is written once; defaults come from the
 * module that owns the value (feed_config_default, engine_config_default,
 * alert_config_default, venue_config_default, store_config_default), so
 * they too are written once.
 *
 * Every problem names the file, the line and what is allowed, e.g.
 * "liqmond.conf:12: stale_after: must be a duration between 1s and 1h
 * (got '0s')".  Unknown sections and keys, a section or key given twice,
 * and a file with no venue are problems: a typo must not silently leave a
 * default in force.  Parsing never exits the process (a reload runs it
 * too).
 */
#ifndef LIQMON_CONFIG_H
#define LIQMON_CONFIG_H

#include <stddef.h>

#include "liqmon/alert.h"
#include "liqmon/engine.h"
#include "liqmon/err.h"
#include "liqmon/market.h"
#include "liqmon/venue.h"

#define CONFIG_MAX_SYMBOLS 64
#define CONFIG_PATH_MAX 512

struct config_venue {
    int enabled;                        /* a [venue X] section was given */
    struct venue_config vc;             /* URLs and venue options */
    char symbols[CONFIG_MAX_SYMBOLS][INSTRUMENT_SYMBOL_MAX];
    size_t nsymbols;
};

struct liqmon_config {
    char instruments_dir[CONFIG_PATH_MAX];
    char positions[CONFIG_PATH_MAX];    /* "" : none */
    char record_dir[CONFIG_PATH_MAX];   /* "" : not recording */
    char ca_file[CONFIG_PATH_MAX];      /* "" : system CA store only */
    size_t max_message;                 /* bytes */
    int stale_ms;
    int backoff_min_ms, backoff_max_ms;
    int max_age_s;
    int status_interval_s;              /* periodic status line; 0 off */
    struct engine_config engine;
    struct config_venue venues[VENUE_COUNT];
    /* [alerts]: the alert-rules.md thresholds, and the alert log. */
    struct alert_config alerts;
    char alert_log[CONFIG_PATH_MAX];    /* "" : no alert log file */
    /* [store] */
    char store_path[CONFIG_PATH_MAX];   /* "" : no store */
    long long snapshot_interval_ms;     /* 0: no snapshots */
    int retention_days;                 /* 0: keep everything */
    size_t store_queue_max;
    int store_busy_timeout_ms;
    /* [daemon] positions_min_loaded: a positions file loading less than
     * this fraction of its rows is refused (start and reload). */
    double positions_min_loaded;
    /* [control]: the control API (HTTP/JSON) */
    char control_socket[CONFIG_PATH_MAX];   /* "" : none */
    int control_socket_mode;                /* e.g. 0660 */
    char control_listen[64];                /* "127.0.0.1:PORT"; "" : none */
    size_t control_max_body;
    /* [metrics]: Prometheus text format over HTTP */
    char metrics_listen[64];                /* "127.0.0.1:9464"; "" : off */
};

/* One problem found while reading a file (every one is reported). */
typedef void (*config_problem_fn)(const char *msg, void *arg);

/* Built-in defaults: production venue URLs, no venue enabled. */
void config_default(struct liqmon_config *c);
/* Parse path over the defaults in *c.  0, or -1 with err set to the first
 * problem. */
int config_load(const char *path, struct liqmon_config *c, lq_err_t *err);
/* The same, reporting every problem (liqmond -t); returns how many. */
int config_load_all(const char *path, struct liqmon_config *c,
                    config_problem_fn report, void *arg);

/* Whether key [section] key may change on a reload without a restart. */
int config_key_reloadable(const char *section, const char *key);
/* Settings that differ between a and b and need a restart to change
 * (reported one per line, "[store] path"); returns how many. */
int config_restart_needed(const struct liqmon_config *a,
                          const struct liqmon_config *b,
                          config_problem_fn report, void *arg);

#endif
