/*
 * tiers.h - maintenance-margin tier tables and the liquidation price.
 *
 * A tier table is data (conf/instruments/, one JSON file per instrument), never C literals: venues
 * change their tables.  The liquidation price follows cascade-model.md,
 * "Positions and liquidation price", to the letter:
 *
 *   long:  LP = (qty*entry - margin - maint_amount) / (qty * (1 - mmr))
 *   short: LP = (qty*entry + margin + maint_amount) / (qty * (1 + mmr))
 *
 * computed in doubles exactly as written, trying each tier lowest first and
 * taking the first whose [notional_floor, notional_cap) holds qty * LP;
 * the highest tier when none does.
 *
 * Thread-safety: a loaded table is immutable; any thread may read it.
 */
#ifndef LIQMON_TIERS_H
#define LIQMON_TIERS_H

#include <stddef.h>

#include <jansson.h>

#include "liqmon/err.h"

struct tier {
    double notional_floor;   /* >= 0 */
    double notional_cap;     /* > notional_floor */
    double mmr;              /* maintenance margin rate, 0 <= mmr < 1 */
    double maint_amount;     /* >= 0 */
    double max_leverage;     /* informational; 0 when not given */
};

struct tier_table {
    size_t n;                /* >= 1 once loaded */
    struct tier *t;          /* ascending notional_floor; owned */
};

/* Parse a JSON array of tier objects (the "tiers" value of an instrument
 * file or a scenario).  Validates every field and the ascending order.
 * On error fills err with "[i].field: what" (the caller prefixes its own
 * path, e.g. "tiers") and leaves *out empty. */
int tiers_from_json(const json_t *arr, struct tier_table *out, lq_err_t *err);
void tiers_fini(struct tier_table *tt);       /* frees t; safe twice */
int tiers_copy(const struct tier_table *src, struct tier_table *dst);

/* Liquidation price of an isolated one-way position (qty > 0 as a double,
 * entry > 0, margin > 0).  is_short: 0 long, 1 short.  *tier_out, when
 * not NULL, gets the index of the tier used. */
double tiers_liq_price(const struct tier_table *tt, int is_short, double qty,
                       double entry, double margin, size_t *tier_out);

#endif
