/*
 * instrument.h - what liqmon knows about a traded instrument: venue,
 * symbol, price tick, quantity step, contract value and its maintenance
 * margin tier table.  Loaded from data files (conf/instruments/,
 * style, one object per file), never compiled in: venues change them.
 *
 * File format (keys beyond these are ignored):
 *   {"venue": "binance-usdm", "symbol": "BTCUSDT",
 *    "tick_size": "0.10", "lot_step": "0.001", "contract_value": "1",
 *    "tiers": [{"notional_floor": 0, "notional_cap": 50000, "mmr": 0.004,
 *               "maint_amount": 0, "max_leverage": 125}, ...]}
 * tick_size, lot_step and contract_value may be numbers or decimal
 * strings; contract_value defaults to 1 (base units per venue quantity
 * unit: OKX's ctVal, 0.01 BTC for BTC-USDT-SWAP).
 */
#ifndef LIQMON_INSTRUMENT_H
#define LIQMON_INSTRUMENT_H

#include "liqmon/dec.h"
#include "liqmon/err.h"
#include "liqmon/tiers.h"

#define INSTRUMENT_VENUE_MAX 32
#define INSTRUMENT_SYMBOL_MAX 48

struct instrument {
    char venue[INSTRUMENT_VENUE_MAX];
    char symbol[INSTRUMENT_SYMBOL_MAX];
    double tick_size;          /* > 0 */
    dec_t lot_step;            /* > 0, venue quantity units */
    dec_t contract_value;      /* > 0, base units per venue unit */
    struct tier_table tiers;   /* owned */
};

/* Load one instrument file.  Errors: "<path>: <field>: <what>". */
int instrument_load_file(const char *path, struct instrument *out,
                         lq_err_t *err);
void instrument_fini(struct instrument *in);

/* Load "<dir>/<venue>-<symbol>.json".  Returns 0, -1 on a bad file, and
 * 1 when there is no such file (err says so too). */
int instrument_load_dir(const char *dir, const char *venue,
                        const char *symbol, struct instrument *out,
                        lq_err_t *err);

#endif
