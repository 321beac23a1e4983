/*
 * mapmodel.h - the liquidation map of one instrument at one moment: what
 * mapsvg.h draws, what the store keeps with each snapshot (snapshots.map)
 * and what GET /v1/map/{venue}/{symbol}.json answers.
 *
 *   live state (book, pindex, ladder, rules) --mapmodel_build--> model
 *   model --mapmodel_json--> JSON --mapmodel_parse--> model
 *   model --mapsvg_render--> SVG
 *
 * The price window is [lo, hi] = ref * (1 -+ w), with w the largest shock
 * or final move of the ladder (15% without one) plus a tenth and 1 point,
 * at most 90%; it is cut into MAP_BUCKETS equal buckets, bucket i being
 * [edge(i), edge(i + 1)) and the last one closed.  ref is edge
 * MAP_BUCKETS / 2.  Per bucket: the notional (sum of qty * LP) and count
 * of the tracked positions in the cascade whose LP falls in it, longs and
 * shorts apart; per edge: the book's cumulative depth from the top to
 * that price (book_depth_to), bids and asks.  The sums come from the
 * index's tree sums (pindex_reached, O(log n) per edge), never from a
 * walk of the positions, so a map costs the same at 10 or 1e6 positions.
 *
 * Per side (down: longs into the bids, up: shorts into the asks): the
 * ladder rows (shock -> final move), s* (alert-rules.md cascade_risk: the
 * smallest tripping shock, under the rules in force), how far the visible
 * book reaches, and the notional of the side's positions outside the
 * window.
 *
 * The model is a plain value (no pointers): copy it, keep it.
 * Thread-safety: mapmodel_build on the loop thread (it reads live state);
 * the rest anywhere.
 */
#ifndef LIQMON_MAPMODEL_H
#define LIQMON_MAPMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "liqmon/alert.h"
#include "liqmon/engine.h"
#include "liqmon/err.h"
#include "liqmon/jsonw.h"
#include "liqmon/market.h"

#define MAP_BUCKETS 60
#define MAP_MAX_ROWS ENGINE_MAX_SHOCKS
/* The window's half-width without a ladder, and its bounds. */
#define MAP_DEFAULT_HALF 0.15
#define MAP_MAX_HALF 0.9

/* One ladder row, what the map shows of cascade_row. */
struct map_row {
    double shock;                /* fraction */
    double final_price;
    double move_pct;             /* % from ref */
    double amplification;        /* NAN: null (s = 0) */
    uint64_t liquidated;
    double liquidated_notional;
    int exhausted;
};

struct map_side {
    size_t nrows;
    struct map_row rows[MAP_MAX_ROWS];   /* shock ascending */
    double s_star;               /* NAN: no shock trips */
    double reach_pct;            /* the visible book's reach from ref, %;
                                    0: that side of the book is empty */
    double outside_notional;     /* this side's positions beyond the window */
};

struct map_model {
    char venue[32];
    char symbol[64];
    int64_t ts;                  /* ns, event clock */
    double ref;                  /* 0: no reference price (no buckets) */
    int ref_is_mark;
    double mark;                 /* 0: not sent */
    int book_valid;
    int ladder_valid;
    double amp_threshold;        /* the rules' amp (s* trips at or above) */
    size_t nbuckets;             /* MAP_BUCKETS, or 0 without ref */
    double lo, hi;               /* the window */
    double long_notional[MAP_BUCKETS], short_notional[MAP_BUCKETS];
    uint64_t long_count[MAP_BUCKETS], short_count[MAP_BUCKETS];
    double bid_depth[MAP_BUCKETS + 1], ask_depth[MAP_BUCKETS + 1];
    struct map_side side[2];     /* [CASCADE_DOWN], [CASCADE_UP] */
};

/* Price at edge i (0..nbuckets): lo at 0, hi at nbuckets exactly. */
double mapmodel_edge(const struct map_model *m, size_t i);

/* The map of in now.  rules NULL: the contract's defaults.  ts: the
 * moment it stands for (the caller's clock).  0, or -1 (in has no index
 * in eng). */
int mapmodel_build(struct map_model *m, const struct mkt_instr *in,
                   engine_t *eng, const struct alert_config *rules,
                   int64_t ts);

/* The model as one JSON object.  with_rows 0 leaves the ladder rows out
 * (the store keeps them in snapshot_rows); everything else is in. */
void mapmodel_json(struct jsonw *w, const struct map_model *m, int with_rows);

/* Read mapmodel_json's text back (rows may be absent: nrows 0).  0, or -1
 * with err saying what is wrong ("line 1, column 5: ..." or a path). */
int mapmodel_parse(const char *text, size_t len, struct map_model *m,
                   lq_err_t *err);

/* Append a ladder row (store readers filling rows from snapshot_rows);
 * -1 when the side is full. */
int mapmodel_add_row(struct map_model *m, int side, const struct map_row *r);

#endif
