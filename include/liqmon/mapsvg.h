/*
 * mapsvg.h - a liquidation map (mapmodel.h) drawn as one self-contained
 * SVG document: the daemon's GET /v1/map/{venue}/{symbol}.svg, liqmonctl
 * map and `make demo` all draw with this.
 *
 *   top panel, x = price over the model's window:
 *     bars    the tracked positions' notional per bucket of liquidation
 *             price (longs below ref, shorts above), left axis
 *     lines   the book's cumulative depth from the top, bids left of ref
 *             and asks right of it, right axis (base units); a dashed
 *             line where the visible book ends
 *     ref     a vertical line; s* of each side as a dotted line at its
 *             start price with an arrow to the cascade's final price
 *   bottom, one panel per side: the ladder, shock % -> final move %, the
 *     no-amplification diagonal, the alert threshold (x amp), s* marked,
 *     exhausted rows as hollow points
 *
 * Self-contained: no script, no external reference, no font but the
 * generic sans-serif; text is XML-escaped.  Pure: the same model always
 * gives the same bytes (no clock, no locale: printf's "C" numbers).
 * Thread-safety: none needed (no state).
 */
#ifndef LIQMON_MAPSVG_H
#define LIQMON_MAPSVG_H

#include <stdio.h>

#include "liqmon/mapmodel.h"

/* Write the document to out.  0, or -1 when out reports a write error. */
int mapsvg_render(const struct map_model *m, FILE *out);

/* The same into a malloc'd, NUL-terminated buffer (*buf, *len), for an
 * HTTP answer.  0, or -1 (out of memory). */
int mapsvg_render_mem(const struct map_model *m, char **buf, size_t *len);

#endif
