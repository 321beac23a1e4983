/*
 * daemon.h - liqmond's one structure, for live and replay alike.
 *
 * An ordered list of start steps and its exact reverse for stop (as
 * chrony's main does): config, market, engine and positions, the pipeline
 * (alert rules, alert log, store), then either the live transport (event
 * loop, recorder, feed and venue adapters, signals and timers, systemd
 * notification) or the replay's adapters.  A step that fails stops the
 * ones before it, in reverse, and its exit code (sysexits.h) is the
 * process's.  liqmond.c only parses the command line.
 */
#ifndef LIQMON_DAEMON_H
#define LIQMON_DAEMON_H

#include <stddef.h>

/* sysexits.h values (the header is BSD, not C11). */
#define DX_OK          0
#define DX_USAGE       64
#define DX_DATAERR     65
#define DX_NOINPUT     66
#define DX_UNAVAILABLE 69
#define DX_SOFTWARE    70
#define DX_CANTCREAT   73
#define DX_IOERR       74
#define DX_CONFIG      78

struct daemon_opts {
    const char *config;           /* -c, --config */
    const char *positions;        /* overrides [daemon] positions */
    const char *instruments;      /* replay without a config */
    const char *record;
    const char *state_out;
    const char *alert_log;
    const char *store;
    double run_for;               /* s; 0: until a signal */
    char **replay;                /* capture files ("-": stdin) */
    size_t nreplay;
    int replaying;                /* --replay given */
    double speed;
    int json;
    int check_config;             /* -t */
    int verbose;
    int argc;                     /* for the run record */
    char **argv;
};

/* Run the daemon (or the check) as opts say; returns the exit code. */
int daemon_main(const struct daemon_opts *opts);

#endif
