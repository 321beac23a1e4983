/*
 * scenario.h - cascade scenarios as files (cascade-model.md, "Scenario
 * files"): read one JSON object, validate every field, run the ladder,
 * write the result object.
 *
 * Errors name what is wrong and where: JSON syntax as
 * "line L, column C: <what>", meaning as a path such as
 * "positions[3].qty: must be > 0".  A scenario that fails validation is
 * never simulated.
 */
#ifndef LIQMON_SCENARIO_H
#define LIQMON_SCENARIO_H

#include <stddef.h>
#include <stdio.h>

#include "liqmon/book.h"
#include "liqmon/cascade.h"
#include "liqmon/err.h"
#include "liqmon/pindex.h"
#include "liqmon/tiers.h"

struct scenario {
    double ref;
    book_t *book;                 /* owned */
    struct tier_table tiers;      /* n == 0 when the scenario has none */
    pindex_t *ix;                 /* owned; handles in input order */
    double *shocks;               /* owned */
    size_t nshocks;
    enum cascade_dir *sides;      /* owned; default down, up */
    size_t nsides;
};

/* Parse and validate text[0..len).  On failure *sc is left empty (safe to
 * fini) and err holds the one-line message. */
int scenario_parse(const char *text, size_t len, struct scenario *sc,
                   lq_err_t *err);
void scenario_fini(struct scenario *sc);

/* Simulate and write {"results": [...], "positions": [...]} (plus
 * "traces" when with_trace) to out, followed by a newline.  The whole
 * document is built in memory first, so nothing partial reaches out on a
 * failure.  Returns 0, or -1 with err set. */
int scenario_write_results(const struct scenario *sc, FILE *out,
                           int with_trace, lq_err_t *err);

#endif
