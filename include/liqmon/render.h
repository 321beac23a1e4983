/*
 * render.h - every rendering of the daemon's state, in one place: the
 * replay summary (text and JSON), --state-out, the status lines, and (next)
 * the control API and liqmonctl.  A ladder row has one JSON shape
 * everywhere: cascade_row_json's (the contract's result row).
 *
 * All JSON goes into a jsonw the caller owns (jsonw.h: all or nothing);
 * text goes to a FILE.  Nothing here changes state.
 */
#ifndef LIQMON_RENDER_H
#define LIQMON_RENDER_H

#include <stdio.h>

#include "liqmon/engine.h"
#include "liqmon/feed.h"
#include "liqmon/jsonw.h"
#include "liqmon/market.h"
#include "liqmon/replay.h"
#include "liqmon/venue.h"

/* What there is to render; any pointer may be NULL (then left out). */
struct render_src {
    market_t *mkt;
    engine_t *eng;
    venue_t *const *venues;          /* [VENUE_COUNT] */
    const feed_t *feed;
};

/* {"valid":..,"why_invalid":..,"ref":..,"ref_is_mark":..,"ts":..,
 *  "runs":..,"rows":[cascade_row_json ...]} */
void render_ladder(struct jsonw *w, const struct engine_ladder *l);

/* How far from ref the visible book reaches on a side, in % (0: empty). */
double render_book_reach_pct(const struct mkt_instr *in, enum book_side side,
                             double ref);

/* One instrument: mark, book health, positions, the ladder; with
 * with_levels the book's levels too (--state-out). */
void render_instrument(struct jsonw *w, const struct render_src *s,
                       struct mkt_instr *in, int with_levels);
/* {"VENUE:SYMBOL": {...}, ...} */
void render_instruments(struct jsonw *w, const struct render_src *s,
                        int with_levels);
/* [{"venue":..,"name":..,"connected":..,...}, ...] */
void render_connections(struct jsonw *w, const feed_t *f);
/* {"binance-usdm": {"frames":..,"rejected":..,...}, ...} */
void render_venues(struct jsonw *w, venue_t *const *venues);

/* The --state-out document: instruments with levels, engine counters,
 * venues, connections. */
void render_state(struct jsonw *w, const struct render_src *s);

/* A replay's summary. */
void render_replay_json(struct jsonw *w, const struct render_src *s,
                        const struct replay_stats *st);
void render_replay_text(FILE *out, const struct render_src *s,
                        const struct replay_stats *st);

/* One side's headline for a status line: the row whose cascade amplifies
 * the shock most ("down: 1% shock -> -3.4% move (x3.4), 41 liquidated"). */
void render_side_headline(const struct engine_ladder *l, enum cascade_dir dir,
                          char *buf, size_t size);

#endif
