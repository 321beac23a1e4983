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
 *
 * One pass (replay_create, replay_play): the instruments come from the
 * frames as they are read.  A frame that names an instrument the market
 * does not have (a book, mark, ticker, liquidation or trade frame) adds
 * it, with its instrument file when there is one, and the adapter takes
 * it from that frame on; an adapter is created when its venue's first
 * instrument appears.  Nothing is read twice, so '-' (stdin) streams.
 * With a config (discover 0) the market is the config's and the rest is
 * rejected as unknown_symbol, as live.
 *
 * Older entry points, kept for callers that build their adapters first:
 * replay_discover (a first pass that only names instruments),
 * replay_create_venues[_cfg] and replay_run.
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
    /* replay_run only: the adapters' notes at the end of the run
     * (venue_notes: which Bybit depth was replayed ...); NULL: log them.
     * replay_play gives them to replay_setup.note. */
    void (*on_note)(const char *msg, void *arg);
};

struct replay_stats {
    uint64_t frames;                   /* frames read */
    uint64_t bad_lines;
    uint64_t bytes;                    /* frame bytes */
    uint64_t venue_frames[VENUE_COUNT];
    uint64_t no_adapter;               /* frames of venues not set up (no
                                          instrument of theirs) */
    uint64_t instruments_added;        /* replay_play: found in the frames */
    int64_t first_ts, last_ts;
    double wall_s;
};

/* ---- one pass ------------------------------------------------------------ */

struct replay_setup {
    const struct venue_io *io;         /* every adapter's (copied; send,
                                          http_get, reconnect unused);
                                          NULL: none */
    /* [VENUE_COUNT]: a config's [venue ...] settings (book_depth, liq_route
     * ...), or NULL: the production defaults, except Bybit books, which
     * follow the capture: the deepest depth each symbol's frames carry
     * (venue.h, VENUE_DEPTH_DEEPEST). */
    const struct venue_config *cfgs;
    int discover;                      /* 1: instruments from the frames */
    const char *instruments_dir;       /* their files (<venue>-<SYMBOL>.json);
                                          NULL: none, bare specs */
    /* What the user should know, one line each: an instrument with no
     * file ("okx-swap:X: no instrument file: sizes stay in contracts"; the
     * first 10 per venue, then a count at the end of replay_play), the
     * adapters' notes at the end of replay_play.  NULL: logged. */
    void (*note)(const char *msg, void *arg);
    /* An instrument was added to the market (discovery or replay_add),
     * before any event of it: the engine and the pipeline follow it
     * (engine_sync, pipeline_sync; with new_venue, venues[] has a new
     * adapter too: pipeline_set_venues).  0, or -1 to stop the replay
     * (err set).  May be NULL. */
    int (*added)(void *arg, struct mkt_instr *in, int new_venue, lq_err_t *err);
    void *arg;
};

typedef struct replay replay_t;

/* A replay on m (borrowed; it outlives r).  venues (the caller's array,
 * valid until replay_destroy) gets an adapter for every venue with
 * instruments in m now, and later ones as their first instrument appears;
 * the others stay NULL.  NULL on failure (err set). */
replay_t *replay_create(market_t *m, const struct replay_setup *s,
                        venue_t *venues[VENUE_COUNT], lq_err_t *err);
/* Add an instrument before or between plays (e.g. the ones a positions
 * file names), as discovery would: its file or a bare spec, its adapter,
 * the added hook.  1 added, 0 already there; -1 a symbol no instrument
 * can have (venue_symbol_ok; nothing done), -2 a bad instrument file, -3
 * out of memory or the hook failed (err set for each). */
int replay_add(replay_t *r, enum venue_id v, const char *symbol, lq_err_t *err);
/* Replay files ('-' is stdin, named "stdin" in messages) in order, in one
 * pass.  Returns 0; -1 when a capture cannot be read (err set, and
 * capture_last_error() says why); -2 for a bad instrument file of a
 * discovered instrument; -3 when the added hook failed.  Frames already
 * replayed stay applied. */
int replay_play(replay_t *r, char *const *files, size_t nfiles,
                const struct replay_opts *opts, struct replay_stats *st,
                lq_err_t *err);
/* Destroy the adapters (the venues entries become NULL) and r.  NULL is
 * fine. */
void replay_destroy(replay_t *r);

/* ---- adapters built first -------------------------------------------------- */

/* venues[v] may be NULL for venues not set up (their frames are counted
 * in no_adapter).  Returns 0, or -1 when a file cannot be read (err set);
 * frames already replayed stay applied.  '-' is stdin. */
int replay_run(char *const *files, size_t nfiles,
               venue_t *const venues[VENUE_COUNT],
               const struct replay_opts *opts, struct replay_stats *st,
               lq_err_t *err);

/* A first pass over the captures (prefer replay_play, which needs none):
 * add to m every instrument a frame names (venue_frame_symbols) that is
 * not there yet, with its file from instruments_dir (<venue>-<SYMBOL>.json)
 * when there is one, else a bare spec (contract value 1, no tier table;
 * note() says so: OKX sizes then stay in contracts).  Returns the number
 * added; -1 when a capture cannot be read, -2 for a bad instrument file
 * (err says which). */
int replay_discover(char *const *files, size_t nfiles, market_t *m,
                    const char *instruments_dir,
                    void (*note)(const char *msg, void *arg), void *arg,
                    lq_err_t *err);

/* Create an adapter (replaying: venue_set_replay, no discovery) for every
 * venue that has instruments in m, all with io (copied; its send /
 * http_get / reconnect may be NULL: replay needs none), with the
 * production defaults, except Bybit books, which follow the capture's
 * deepest depth per symbol.  Entries of venues without instruments are
 * NULL.  0, or -1 (err set; the adapters created so far are destroyed). */
int replay_create_venues(market_t *m, const struct venue_io *io,
                         venue_t *out[VENUE_COUNT], lq_err_t *err);
/* The same with each venue's settings from cfgs[venue id] (a config's
 * [venue ...] sections: book_depth, liq_route ... reach the replay), or
 * as replay_create_venues when cfgs is NULL. */
int replay_create_venues_cfg(market_t *m, const struct venue_io *io,
                             const struct venue_config *cfgs,
                             venue_t *out[VENUE_COUNT], lq_err_t *err);
void replay_destroy_venues(venue_t *v[VENUE_COUNT]);

#endif
