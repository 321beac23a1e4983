/*
 * replay.h - run capture files through the venue adapters, on the
 * capture's clock.
 *
 * The same adapters, books and (through the adapters' emit) risk engine
 * as live: replay only replaces the transport.  Every frame goes to its
 * venue's adapter with its capture timestamp as "now"; venue_tick runs
 * each time the capture clock passes a second, so time-driven logic
 * follows the capture, and the same capture always gives the same
 * results.  As fast as possible, or paced (speed X: X times real time).
 */
#ifndef LIQMON_REPLAY_H
#define LIQMON_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/err.h"
#include "liqmon/venue.h"

struct replay_opts {
    double speed;          /* 0: as fast as possible; X: X times real time */
    int progress;          /* 1: show progress on stderr if it is a tty */
    /* Bad capture lines, "<file>:<line>: <what>"; NULL: log them. */
    void (*on_bad)(const char *msg, void *arg);
    void *arg;
    /* Called after each frame went through its adapter (may be NULL). */
    void (*after_frame)(void *arg, enum venue_id v, int64_t ts);
};

struct replay_stats {
    uint64_t frames;                   /* frames read */
    uint64_t bad_lines;
    uint64_t bytes;                    /* frame bytes */
    uint64_t venue_frames[VENUE_COUNT];
    uint64_t no_adapter;               /* frames of venues not set up */
    int64_t first_ts, last_ts;
    double wall_s;
};

/* venues[v] may be NULL for venues not set up (their frames are counted
 * in no_adapter).  Returns 0, or -1 when a file cannot be read (err set);
 * frames already replayed stay applied. */
int replay_run(char *const *files, size_t nfiles,
               venue_t *const venues[VENUE_COUNT],
               const struct replay_opts *opts, struct replay_stats *st,
               lq_err_t *err);

/* First pass over the captures: add to m every instrument that has book
 * or mark frames and is not there yet, with its file from instruments_dir
 * (<venue>-<SYMBOL>.json) when there is one, else a bare spec (contract
 * value 1, no tier table; note() says so: OKX sizes then stay in
 * contracts).  Returns the number added; -1 when a capture cannot be
 * read, -2 for a bad instrument file (err says which). */
int replay_discover(char *const *files, size_t nfiles, market_t *m,
                    const char *instruments_dir,
                    void (*note)(const char *msg, void *arg), void *arg,
                    lq_err_t *err);

/* Create an adapter (production defaults; replay never connects) for
 * every venue that has instruments in m, all with io (copied; its send /
 * http_get / reconnect may be NULL: replay needs none).  Entries of
 * venues without instruments are NULL.  0, or -1 (err set; the adapters
 * created so far are destroyed). */
int replay_create_venues(market_t *m, const struct venue_io *io,
                         venue_t *out[VENUE_COUNT], lq_err_t *err);
/* The same with each venue's settings from cfgs[venue id] (a config's
 * [venue ...] sections: book_depth, liq_route ... reach the replay), or
 * the production defaults when cfgs is NULL. */
int replay_create_venues_cfg(market_t *m, const struct venue_io *io,
                             const struct venue_config *cfgs,
                             venue_t *out[VENUE_COUNT], lq_err_t *err);
void replay_destroy_venues(venue_t *v[VENUE_COUNT]);

#endif
